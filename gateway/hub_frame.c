/* hub_frame.c - refcounted outgoing frames with libwebsockets' headroom, and the send queue of
 * references each socket keeps. */
#include "hub_frame.h"

#include "core/xalloc.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

/* A queue's first ring; it doubles as needed, and goes back to none once a burst has drained. */
enum { SENDQ_FIRST_CAP = 4, SENDQ_KEPT_CAP = 16 };

/* One loop per process: frames are never shared between threads. */
static size_t frames_live;

struct gw_hub_frame {
    size_t refs;
    size_t len;
    unsigned header_len; /* the header's bytes, at the end of the headroom */
    unsigned char buf[]; /* LWS_PRE bytes of headroom (the header at their end), then the payload */
};

_Static_assert(LWS_PRE >= 10, "the headroom holds a header of a 64-bit length");

/* A server's text frame's header (RFC 6455 5.2: FIN, opcode 1, no mask) for a payload of len
 * bytes, written to end at `end`; returns its length. */
static unsigned write_header(unsigned char *end, size_t len)
{
    unsigned n = len < 126 ? 2 : len < 65536 ? 4 : 10;
    unsigned char *h = end - n;
    h[0] = 0x81;
    if (n == 2) {
        h[1] = (unsigned char)len;
    } else {
        h[1] = n == 4 ? 126 : 127;
        for (unsigned i = 2; i < n; i++)
            h[i] = (unsigned char)((uint64_t)len >> (8 * (n - 1 - i)));
    }
    return n;
}

struct gw_hub_frame *gw_hub_frame_new(const char *text, size_t len)
{
    struct gw_hub_frame *f = xmalloc(sizeof(*f) + LWS_PRE + len);
    f->refs = 1;
    f->len = len;
    f->header_len = write_header(f->buf + LWS_PRE, len);
    frames_live++;
    if (len)
        memcpy(f->buf + LWS_PRE, text, len);
    return f;
}

const unsigned char *gw_hub_frame_wire(const struct gw_hub_frame *f, size_t *len)
{
    *len = f->header_len + f->len;
    return f->buf + LWS_PRE - f->header_len;
}

struct gw_hub_frame *gw_hub_frame_ref(struct gw_hub_frame *f)
{
    f->refs++;
    return f;
}

void gw_hub_frame_unref(struct gw_hub_frame *f)
{
    if (f && --f->refs == 0) {
        frames_live--;
        free(f);
    }
}

size_t gw_hub_frames_live(void)
{
    return frames_live;
}

unsigned char *gw_hub_frame_payload(struct gw_hub_frame *f)
{
    return f->buf + LWS_PRE;
}

size_t gw_hub_frame_len(const struct gw_hub_frame *f)
{
    return f->len;
}

size_t gw_hub_frame_refs(const struct gw_hub_frame *f)
{
    return f->refs;
}

void gw_hub_sendq_push(struct gw_hub_sendq *q, struct gw_hub_frame *f)
{
    if (q->count == q->cap) {
        uint32_t cap = q->cap ? q->cap * 2 : SENDQ_FIRST_CAP;
        struct gw_hub_frame **ring = xmalloc(cap * sizeof(*ring));
        /* Unrolled oldest first, so that the new ring starts at 0. */
        for (uint32_t i = 0; i < q->count; i++)
            ring[i] = q->ring[(q->head + i) % q->cap];
        free(q->ring);
        q->ring = ring;
        q->cap = cap;
        q->head = 0;
    }
    q->ring[(q->head + q->count) % q->cap] = gw_hub_frame_ref(f);
    q->count++;
    q->bytes += f->len;
}

struct gw_hub_frame *gw_hub_sendq_pop(struct gw_hub_sendq *q)
{
    if (q->count == 0)
        return NULL;
    struct gw_hub_frame *f = q->ring[q->head];
    q->head = (q->head + 1) % q->cap;
    q->count--;
    q->bytes -= f->len;
    if (q->count == 0 && q->cap > SENDQ_KEPT_CAP) {
        /* A burst (a slow reader catching up) has drained: an idle socket keeps a small ring. */
        free(q->ring);
        *q = (struct gw_hub_sendq){0};
    }
    return f;
}

uint32_t gw_hub_sendq_peek(const struct gw_hub_sendq *q, struct gw_hub_frame **frames, uint32_t max)
{
    uint32_t n = q->count < max ? q->count : max;
    for (uint32_t i = 0; i < n; i++)
        frames[i] = q->ring[(q->head + i) % q->cap];
    return n;
}

void gw_hub_sendq_clear(struct gw_hub_sendq *q)
{
    for (uint32_t i = 0; i < q->count; i++)
        gw_hub_frame_unref(q->ring[(q->head + i) % q->cap]);
    free(q->ring);
    *q = (struct gw_hub_sendq){0};
}
