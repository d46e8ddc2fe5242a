/* amqp_out.c - AMQP 0-9-1 frames (section 2.3.5 of the spec) encoded into one buffer. */
#include "amqp_out.h"

#include "amqp_tls.h"
#include "clock.h"
#include "status.h"
#include "xalloc.h"

#include <amqp_framing.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct gw_amqp_out {
    unsigned char *buf;
    size_t len, cap;
    uint64_t last_ns; /* when a frame was last queued */
    int fd;
    struct ssl_st *ssl;
};

enum { FRAME_HEADER = 7, FRAME_END_SIZE = 1, FRAME_END = 0xCE };

/* The buffer's first size; it doubles as needed. */
enum { OUT_BUFFER_INITIAL = 16384 };

/* Room for an encoded method enoki sends (basic.publish, queue.bind, ...): a few short strings,
 * bits and an empty table. */
enum { METHOD_MAX = 1024 };

/* A content header's fixed part: class, weight, body size. */
enum { CONTENT_HEADER_FIXED = 12 };

struct gw_amqp_out *gw_amqp_out_new(int fd, struct ssl_st *ssl)
{
    struct gw_amqp_out *out = xcalloc(1, sizeof(*out));
    out->fd = fd;
    out->ssl = ssl;
    out->last_ns = gw_now_ns();
    return out;
}

/* Room for len more bytes. */
static unsigned char *reserve(struct gw_amqp_out *out, size_t len)
{
    if (out->cap - out->len < len) {
        size_t cap = out->cap ? out->cap : OUT_BUFFER_INITIAL;
        while (cap - out->len < len)
            cap *= 2;
        out->buf = xrealloc(out->buf, cap);
        out->cap = cap;
    }
    return out->buf + out->len;
}

static void put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static void put32(unsigned char *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static void put64(unsigned char *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

/* Frames the payload_len bytes already written after a frame header reserved at start. */
static void frame_close(struct gw_amqp_out *out, size_t start, amqp_channel_t channel, uint8_t type,
                        size_t payload_len)
{
    unsigned char *f = out->buf + start;
    f[0] = type;
    put16(f + 1, channel);
    put32(f + 3, (uint32_t)payload_len);
    f[FRAME_HEADER + payload_len] = FRAME_END;
    out->len = start + FRAME_HEADER + payload_len + FRAME_END_SIZE;
    out->last_ns = gw_now_ns();
}

/* Encodes a method frame; a negative rabbitmq-c status when it does not fit. */
static int encode_method(struct gw_amqp_out *out, amqp_channel_t channel, amqp_method_number_t id,
                         void *decoded)
{
    size_t start = out->len;
    unsigned char *f = reserve(out, FRAME_HEADER + 4 + METHOD_MAX + FRAME_END_SIZE);
    put32(f + FRAME_HEADER, id);
    amqp_bytes_t room = {.len = METHOD_MAX, .bytes = f + FRAME_HEADER + 4};
    int n = amqp_encode_method(id, decoded, room);
    if (n < 0)
        return n;
    frame_close(out, start, channel, AMQP_FRAME_METHOD, 4 + (size_t)n);
    return AMQP_STATUS_OK;
}

int gw_amqp_out_method(struct gw_amqp_out *out, amqp_channel_t channel, amqp_method_number_t id,
                       void *decoded)
{
    return encode_method(out, channel, id, decoded) == AMQP_STATUS_OK ? GW_OK : GW_EBROKER;
}

int gw_amqp_out_publish(struct gw_amqp_out *out, amqp_channel_t channel, size_t frame_max,
                        const amqp_basic_publish_t *method, const amqp_basic_properties_t *props,
                        const void *body, size_t len, char *err, size_t errlen)
{
    size_t rollback = out->len;
    size_t max_payload = frame_max - FRAME_HEADER - FRAME_END_SIZE;
    int n = encode_method(out, channel, AMQP_BASIC_PUBLISH_METHOD, (void *)(uintptr_t)method);
    if (n < 0)
        goto too_big;

    /* The content header: class, weight, body size, properties (headers can be large). */
    size_t start = out->len;
    size_t props_room = max_payload - CONTENT_HEADER_FIXED;
    unsigned char *f =
        reserve(out, FRAME_HEADER + CONTENT_HEADER_FIXED + props_room + FRAME_END_SIZE);
    put16(f + FRAME_HEADER, AMQP_BASIC_CLASS);
    put16(f + FRAME_HEADER + 2, 0);
    put64(f + FRAME_HEADER + 4, len);
    amqp_bytes_t room = {.len = props_room, .bytes = f + FRAME_HEADER + CONTENT_HEADER_FIXED};
    n = amqp_encode_properties(AMQP_BASIC_CLASS, (void *)(uintptr_t)props, room);
    if (n < 0)
        goto too_big;
    frame_close(out, start, channel, AMQP_FRAME_HEADER, CONTENT_HEADER_FIXED + (size_t)n);

    /* The body, in frames of at most frame_max. */
    for (size_t done = 0; done < len;) {
        size_t chunk = len - done < max_payload ? len - done : max_payload;
        start = out->len;
        f = reserve(out, FRAME_HEADER + chunk + FRAME_END_SIZE);
        memcpy(f + FRAME_HEADER, (const unsigned char *)body + done, chunk);
        frame_close(out, start, channel, AMQP_FRAME_BODY, chunk);
        done += chunk;
    }
    return GW_OK;

too_big:
    out->len = rollback;
    snprintf(err, errlen, "publish: %s", amqp_error_string2(n));
    return GW_EFRAME;
}

void gw_amqp_out_beat(struct gw_amqp_out *out, uint64_t interval_ms)
{
    if (gw_now_ns() - out->last_ns < interval_ms * 1000000u)
        return;
    size_t start = out->len;
    reserve(out, FRAME_HEADER + FRAME_END_SIZE);
    frame_close(out, start, 0, AMQP_FRAME_HEARTBEAT, 0);
}

size_t gw_amqp_out_bytes(const struct gw_amqp_out *out)
{
    return out->len;
}

/* Writes from buf what the socket takes now: the count (> 0), 0 when it would wait, or GW_EBROKER
 * with the reason in err. */
static long write_some(struct gw_amqp_out *out, const unsigned char *buf, size_t len, char *err,
                       size_t errlen)
{
    if (out->ssl)
        return gw_amqp_tls_write(out->ssl, buf, len, err, errlen);
    for (;;) {
        ssize_t n = send(out->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0)
            return (long)n;
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        snprintf(err, errlen, "send: %s", strerror(errno));
        return GW_EBROKER;
    }
}

int gw_amqp_out_flush_some(struct gw_amqp_out *out, char *err, size_t errlen)
{
    size_t off = 0;
    int status = GW_OK;
    while (off < out->len) {
        long n = write_some(out, out->buf + off, out->len - off, err, errlen);
        if (n < 0) {
            out->len = 0;
            return GW_EBROKER;
        }
        if (n == 0) {
            status = GW_AGAIN;
            break;
        }
        off += (size_t)n;
    }
    /* What did not go stays, in order, ahead of later frames (a TLS write that waits is retried
     * from the same bytes, which the session allows to have moved: gw_amqp_tls_session). */
    if (off > 0) {
        memmove(out->buf, out->buf + off, out->len - off);
        out->len -= off;
    }
    return status;
}

int gw_amqp_out_flush(struct gw_amqp_out *out, int stall_ms, char *err, size_t errlen)
{
    for (;;) {
        int status = gw_amqp_out_flush_some(out, err, errlen);
        if (status != GW_AGAIN)
            return status;
        struct pollfd pfd = {.fd = out->fd, .events = POLLOUT};
        int ready;
        while ((ready = poll(&pfd, 1, stall_ms)) < 0 && errno == EINTR)
            continue;
        if (ready <= 0) {
            snprintf(err, errlen, "send: the broker took nothing for %d s", stall_ms / 1000);
            out->len = 0;
            return GW_EBROKER;
        }
    }
}

void gw_amqp_out_free(struct gw_amqp_out *out)
{
    if (!out)
        return;
    free(out->buf);
    free(out);
}
