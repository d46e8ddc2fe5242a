/* amqp_message.c - an incoming message put together from its frames as they arrive
 * (amqp_message.h). */
#include "amqp_message.h"

#include "status.h"
#include "xalloc.h"

#include <amqp_framing.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum phase { IDLE, WANT_HEADER, WANT_BODY, COMPLETE };

struct gw_amqp_message {
    enum phase phase;
    amqp_method_t method;                 /* the frame's: its arguments are in the channel pool */
    const amqp_basic_properties_t *props; /* likewise */
    uint64_t body_size;                   /* as the content header says */
    uint64_t received;
    amqp_bytes_t body; /* once complete: in the frame, or joined */
    char *joined;      /* owned: a body of several frames, as far as it came */
    size_t joined_cap;
};

struct gw_amqp_message *gw_amqp_message_new(void)
{
    return xcalloc(1, sizeof(struct gw_amqp_message));
}

void gw_amqp_message_free(struct gw_amqp_message *m)
{
    if (!m)
        return;
    free(m->joined);
    free(m);
}

bool gw_amqp_message_pending(const struct gw_amqp_message *m)
{
    return m->phase != IDLE;
}

void gw_amqp_message_end(struct gw_amqp_message *m)
{
    free(m->joined);
    *m = (struct gw_amqp_message){.phase = IDLE};
}

void gw_amqp_message_begin(struct gw_amqp_message *m, const amqp_frame_t *method)
{
    gw_amqp_message_end(m);
    m->method = method->payload.method;
    m->phase = WANT_HEADER;
}

static const char *frame_kind(uint8_t type)
{
    switch (type) {
    case AMQP_FRAME_METHOD:
        return "method";
    case AMQP_FRAME_HEADER:
        return "content header";
    case AMQP_FRAME_BODY:
        return "body";
    default:
        return "unknown";
    }
}

/* A body frame of a body of several: appended to the joined buffer, which grows by doubling but
 * never past the size the header gave, so a header that claims more than comes costs nothing. */
static int join(struct gw_amqp_message *m, amqp_bytes_t part, char *err, size_t errlen)
{
    size_t need = (size_t)m->received + part.len;
    if (need > m->joined_cap) {
        size_t cap = m->joined_cap ? m->joined_cap * 2 : part.len * 2;
        if (cap < need)
            cap = need;
        if (cap > m->body_size)
            cap = (size_t)m->body_size;
        char *grown = realloc(m->joined, cap);
        if (!grown) {
            snprintf(err, errlen, "cannot hold a message body of %llu bytes",
                     (unsigned long long)m->body_size);
            return GW_EBROKER;
        }
        m->joined = grown;
        m->joined_cap = cap;
    }
    memcpy(m->joined + m->received, part.bytes, part.len);
    m->received = need;
    return GW_OK;
}

int gw_amqp_message_add(struct gw_amqp_message *m, const amqp_frame_t *frame, char *err,
                        size_t errlen)
{
    if (m->phase == WANT_HEADER) {
        if (frame->frame_type != AMQP_FRAME_HEADER) {
            snprintf(err, errlen, "a %s frame where a message's content header was due",
                     frame_kind(frame->frame_type));
            return GW_EBROKER;
        }
        m->props = frame->payload.properties.decoded;
        m->body_size = frame->payload.properties.body_size;
        m->body = amqp_empty_bytes;
        m->phase = m->body_size ? WANT_BODY : COMPLETE;
        return m->body_size ? GW_AGAIN : GW_OK;
    }
    if (m->phase != WANT_BODY || frame->frame_type != AMQP_FRAME_BODY) {
        snprintf(err, errlen, "a %s frame %s", frame_kind(frame->frame_type),
                 m->phase == WANT_BODY ? "inside a message's body" : "outside a message");
        return GW_EBROKER;
    }
    amqp_bytes_t part = frame->payload.body_fragment;
    if (part.len > m->body_size - m->received) {
        snprintf(err, errlen, "a message's body is longer than the %llu bytes its header said",
                 (unsigned long long)m->body_size);
        return GW_EBROKER;
    }
    if (part.len == 0)
        return GW_AGAIN;
    if (m->received == 0 && part.len == m->body_size) {
        m->body = part; /* the whole body in one frame: used where it lies */
        m->received = part.len;
    } else {
        if (join(m, part, err, errlen) != GW_OK)
            return GW_EBROKER;
        if (m->received < m->body_size)
            return GW_AGAIN;
        m->body = (amqp_bytes_t){.len = (size_t)m->received, .bytes = m->joined};
    }
    m->phase = COMPLETE;
    return GW_OK;
}

const amqp_method_t *gw_amqp_message_method(const struct gw_amqp_message *m)
{
    return &m->method;
}

const amqp_basic_properties_t *gw_amqp_message_props(const struct gw_amqp_message *m)
{
    return m->props;
}

amqp_bytes_t gw_amqp_message_body(const struct gw_amqp_message *m)
{
    return m->body;
}
