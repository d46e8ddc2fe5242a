#include "refuse.h"

#include "core/log.h"
#include "core/random.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "gateway/h1_write.h"
#include "routes/cors.h"
#include "routes/respond.h"
#include "routes/trace_context.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

int gw_set_lowat(int fd, int bytes)
{
    return setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &bytes, sizeof(bytes));
}

bool gw_refuse_linger(int fd, int status)
{
    char sink[4096];
    ssize_t n = -1;
    for (int i = 0; i < 16 && status >= 0; i++) {
        n = recv(fd, sink, sizeof(sink), 0);
        if (n <= 0)
            break;
    }
    return status < 0 || n == 0 ||
           (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* The header fields of the head in buf (len bytes, made C strings in place), at most max of them;
 * none when the head holds a NUL (then it is not read as text at all). */
static size_t head_fields(char *buf, size_t len, struct gw_header_field *out, size_t max)
{
    if (memchr(buf, '\0', len))
        return 0;
    size_t n = 0;
    char *end = buf + len;
    char *line = memchr(buf, '\n', len); /* the request line is not a field */
    while (line && ++line < end && n < max) {
        char *eol = memchr(line, '\n', (size_t)(end - line));
        if (!eol)
            break;
        char *colon = memchr(line, ':', (size_t)(eol - line));
        char *next = eol;
        if (colon && colon > line) {
            char *v = colon + 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            while (eol > v && (eol[-1] == '\r' || eol[-1] == ' ' || eol[-1] == '\t'))
                eol--;
            *colon = '\0';
            *eol = '\0';
            out[n++] = (struct gw_header_field){.name = line, .value = v};
        }
        line = next;
    }
    return n;
}

static const char *field_value(const struct gw_header_field *fields, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(fields[i].name, name) == 0)
            return fields[i].value;
    return NULL;
}

static void add_field(void *ctx, const char *name, const char *value)
{
    gw_h1_fields_add(ctx, name, value);
}

/* What every answer of config's carries, as gw_request_response_headers adds it: enoki's span and
 * the CORS headers of the request's Origin. */
static void add_request_headers(const struct gw_config *config,
                                const struct gw_header_field *fields, size_t n,
                                struct gw_h1_fields *out)
{
    if (config->trace_context) {
        unsigned char entropy[GW_TRACE_RANDOM_LEN];
        gw_random_fill(entropy, sizeof(entropy));
        struct gw_trace trace;
        gw_trace_begin(fields, n, entropy, &trace);
        char traceparent[GW_TRACEPARENT_LEN + 1];
        gw_trace_format(&trace, traceparent);
        gw_h1_fields_add(out, "traceparent", traceparent);
    }
    if (config->cors.enabled)
        gw_cors_headers(&config->cors, field_value(fields, n, "Origin"), false, NULL, add_field,
                        out);
}

void gw_refuse_request(int fd, const struct gw_h1_refusal *refusal, const struct gw_config *config,
                       const struct gw_header_field *request_fields, size_t n_request_fields)
{
    struct gw_response r = {0};
    gw_respond_status(refusal->status, refusal->error, refusal->message, NULL, &r);
    struct gw_h1_fields fields = {0};
    gw_h1_fields_add(&fields, "Content-Type", r.content_type);
    if (refusal->header_name)
        gw_h1_fields_add(&fields, refusal->header_name, refusal->header_value);
    if (config)
        add_request_headers(config, request_fields, n_request_fields, &fields);
    gw_h1_fields_add(&fields, "Connection", "close");
    struct gw_strbuf out = {0};
    gw_h1_write_head(&out, refusal->status, &fields, true, r.body_len);
    if (!refusal->head_method)
        gw_strbuf_add(&out, r.body, r.body_len);
    /* A few hundred bytes into a socket whose client is waiting for an answer (its buffer empty):
     * a client that cannot take them loses them. */
    if (send(fd, out.data, out.len, MSG_NOSIGNAL) != (ssize_t)out.len)
        gw_debug("http", "could not send the answer to a refused request");
    free(out.data);
    gw_h1_fields_clear(&fields);
    gw_response_clear(&r);
    gw_info("sniff", "refused a request: %d %s", refusal->status, refusal->message);
    shutdown(fd, SHUT_WR);
    gw_set_lowat(fd, 1);
}

/* A head's fields, at most this many: an Origin further down is not looked for. */
enum { HEAD_FIELDS_MAX = 256 };

void gw_refuse(int fd, const struct gw_h1_refusal *refusal, size_t head_len,
               const struct gw_config *config)
{
    /* The head was only peeked: read it, so that only a body can be left unread. */
    char *head = xmalloc(head_len + 1);
    size_t got = 0;
    while (got < head_len) {
        ssize_t n = recv(fd, head + got, head_len - got, 0);
        if (n <= 0) {
            gw_debug("http", "could not read a refused head: %s", n < 0 ? strerror(errno) : "EOF");
            break;
        }
        got += (size_t)n;
    }
    struct gw_header_field *fields = xcalloc(HEAD_FIELDS_MAX, sizeof(*fields));
    size_t n = config && got > 0 ? head_fields(head, got, fields, HEAD_FIELDS_MAX) : 0;
    gw_refuse_request(fd, refusal, config && got > 0 ? config : NULL, fields, n);
    free(fields);
    free(head);
}
