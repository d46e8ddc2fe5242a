/* ws_deflate.h - permessage-deflate (RFC 7692) for bench/ws_bench.c: one socket's deflater and
 * inflater, as its 101 agreed them (header only, as bench_common.h: each tool is one .c file). */
#ifndef BENCH_WS_DEFLATE_H
#define BENCH_WS_DEFLATE_H

#include "bench/bench_common.h"

#include <stdbool.h>
#define ZLIB_CONST /* next_in points to const: what is deflated is not changed */
#include <zlib.h>

struct ws_deflate {
    bool reset_def, reset_inf; /* client_ / server_no_context_takeover */
    int def_bits;              /* client_max_window_bits */
    z_stream *def, *inf;       /* made at their first use, so that idle sockets hold none */
};

/* A byte buffer that grows. */
struct ws_bytes {
    unsigned char *p;
    size_t len, cap;
};

static inline void ws_bytes_reserve(struct ws_bytes *b, size_t more)
{
    if (b->len + more <= b->cap)
        return;
    size_t n = b->cap ? b->cap : 4096;
    while (n < b->len + more)
        n *= 2;
    b->p = realloc(b->p, n);
    if (!b->p)
        abort();
    b->cap = n;
}

/* The end of every Z_SYNC_FLUSH, an empty stored block: RFC 7692 §7.2.1 has the sender remove it
 * from each message and §7.2.2 the receiver put it back before inflating. */
static const unsigned char ws_deflate_tail[4] = {0x00, 0x00, 0xff, 0xff};

/* Reads the 101's Sec-WebSocket-Extensions value (lower case). Returns false unless it is
 * permessage-deflate alone; its parameters say whether each side keeps its context from message
 * to message, and the window this client may deflate with (RFC 7692 §7.1). */
static inline bool ws_deflate_accept(struct ws_deflate *d, const char *value)
{
    if (strncmp(value, "permessage-deflate", 18) != 0 || strchr(value, ','))
        return false;
    d->reset_def = strstr(value, "client_no_context_takeover") != NULL;
    d->reset_inf = strstr(value, "server_no_context_takeover") != NULL;
    const char *bits = strstr(value, "client_max_window_bits=");
    d->def_bits = bits ? atoi(bits + 23) : 15;
    return true;
}

/* Deflates one message into out (from its start), without the tail. */
static inline void ws_deflate_message(const char *tool, struct ws_deflate *d, const char *text,
                                      size_t len, struct ws_bytes *out)
{
    if (!d->def) {
        d->def = calloc(1, sizeof(*d->def));
        if (!d->def)
            abort();
        if (deflateInit2(d->def, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -d->def_bits, 8,
                         Z_DEFAULT_STRATEGY) != Z_OK)
            bench_die(tool, "deflateInit2 refused %d window bits", d->def_bits);
    }
    z_stream *z = d->def;
    z->next_in = (const Bytef *)text;
    z->avail_in = (uInt)len;
    out->len = 0;
    do { /* more room until deflate leaves some unused: then the flush is complete */
        ws_bytes_reserve(out, len / 2 + 64);
        z->next_out = out->p + out->len;
        z->avail_out = (uInt)(out->cap - out->len);
        int rc = deflate(z, Z_SYNC_FLUSH);
        if (rc != Z_OK && rc != Z_BUF_ERROR)
            bench_die(tool, "deflate: %s", z->msg ? z->msg : zError(rc));
        out->len = (size_t)(z->next_out - out->p);
    } while (z->avail_out == 0);
    if (out->len < 4 || memcmp(out->p + out->len - 4, ws_deflate_tail, 4) != 0)
        bench_die(tool, "deflate's output does not end with 00 00 ff ff");
    out->len -= 4;
    if (d->reset_def)
        deflateReset(z);
}

static inline void ws_inflate_some(const char *tool, z_stream *z, const unsigned char *in, size_t n,
                                   struct ws_bytes *out, size_t max)
{
    z->next_in = in;
    z->avail_in = (uInt)n;
    for (;;) {
        if (out->len > max)
            bench_die(tool, "a message inflates to over %zu bytes", max);
        ws_bytes_reserve(out, 1024);
        z->next_out = out->p + out->len;
        z->avail_out = (uInt)(out->cap - out->len);
        int rc = inflate(z, Z_SYNC_FLUSH);
        out->len = (size_t)(z->next_out - out->p);
        if (rc == Z_STREAM_END)
            bench_die(tool, "the server ended its deflate stream (BFINAL), not followed here");
        if (rc != Z_OK && rc != Z_BUF_ERROR)
            bench_die(tool, "inflate: %s", z->msg ? z->msg : zError(rc));
        if (z->avail_out > 0 && z->avail_in == 0)
            return;
        if (z->avail_out > 0 && rc == Z_BUF_ERROR)
            bench_die(tool, "inflate is stuck with %u bytes left", z->avail_in);
    }
}

/* Inflates one compressed message (its frames' payloads, joined) into out (from its start), the
 * tail put back; exits when it is not sound. */
static inline void ws_inflate_message(const char *tool, struct ws_deflate *d, const char *data,
                                      size_t len, struct ws_bytes *out, size_t max)
{
    if (!d->inf) {
        d->inf = calloc(1, sizeof(*d->inf));
        if (!d->inf)
            abort();
        if (inflateInit2(d->inf, -15) != Z_OK)
            bench_die(tool, "inflateInit2 failed");
    }
    out->len = 0;
    ws_inflate_some(tool, d->inf, (const unsigned char *)data, len, out, max);
    ws_inflate_some(tool, d->inf, ws_deflate_tail, sizeof(ws_deflate_tail), out, max);
    /* The tail leaves the inflater between two blocks (zlib's data_type bit 128). Anywhere else,
     * the message was cut short or its tail lost, and the next one would inflate to garbage. */
    if (!(d->inf->data_type & 128))
        bench_die(tool, "a compressed message of %zu bytes did not end between deflate blocks",
                  len);
    if (d->reset_inf)
        inflateReset(d->inf);
}

#endif
