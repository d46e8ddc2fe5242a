#include "sniff.h"

#include "core/h1.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "routes/respond.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

enum { PEEK_MAX = 8192, RETRY_MS = 5 };

struct sniff {
    struct sniff *prev, *next;
    struct gw_sniff_set *set;
    uv_poll_t poll;
    uv_timer_t timer;
    int fd;
    struct sockaddr_storage addr;
    socklen_t len;
    const char *websocket_path;
    gw_sniff_fn done;
    void *arg;
    uint64_t deadline;
    int closing;
};

/* Finds header name (with its ':') in the header block; copies its trimmed value. */
static int header_value(const char *headers, size_t len, const char *name, char *out, size_t outlen)
{
    size_t nlen = strlen(name);
    const char *p = headers;
    const char *end = headers + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        if ((size_t)(eol - p) > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            const char *v = p + nlen + 1;
            const char *ve = eol;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            size_t n = (size_t)(ve - v) < outlen - 1 ? (size_t)(ve - v) : outlen - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            return 1;
        }
        p = eol + 1;
    }
    return 0;
}

/* The end of the head (after its blank line) in buf, or NULL when it has not all come yet. */
static const char *head_end(const char *buf, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (buf[i + 1] == '\n')
            return buf + i + 2;
        if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')
            return buf + i + 3;
    }
    return NULL;
}

int gw_sniff_decide(const char *buf, size_t len, int full, const char *websocket_path, char *origin,
                    size_t origin_len, char *host, size_t host_len, size_t *head_len)
{
    /* The whole head first, whatever it asks for: header_timeout covers it (slowloris), and a
     * connection is handed over once it has a request to serve. A head bigger than the peek
     * goes to libmicrohttpd, which answers 431. Empty lines before the request line do not make
     * a head (RFC 9112 2.2: they are ignored), or "\r\n\r\n" would buy a slowloris a ticket past
     * header_timeout. */
    const char *start = buf;
    while (start < buf + len && (*start == '\r' || *start == '\n'))
        start++;
    const char *end = head_end(start, (size_t)(buf + len - start));
    if (!end)
        return full ? GW_SNIFF_HTTP : -1;
    const char *eol = memchr(buf, '\n', len);
    size_t plen = strlen(websocket_path);
    const char *target = buf + 4;
    if (len < 4 || memcmp(buf, "GET ", 4) != 0 || (size_t)(eol - target) < plen ||
        memcmp(target, websocket_path, plen) != 0 || (target[plen] != ' ' && target[plen] != '?'))
        return GW_SNIFF_HTTP;
    const char *headers = eol + 1;
    size_t block = (size_t)(end - headers);
    char upgrade[64];
    if (!header_value(headers, block, "Upgrade", upgrade, sizeof(upgrade)) ||
        strcasecmp(upgrade, "websocket") != 0)
        return GW_SNIFF_HTTP; /* MHD answers it: a plain GET of the websocket path */
    if (!header_value(headers, block, "Origin", origin, origin_len))
        origin[0] = '\0';
    if (!header_value(headers, block, "Host", host, host_len))
        host[0] = '\0';
    *head_len = (size_t)(end - buf);
    return GW_SNIFF_WEBSOCKET;
}

static int refuse(struct gw_sniff_refusal *out, int status, const char *error, const char *message)
{
    out->status = status;
    out->error = error;
    out->message = message;
    return 1;
}

/* Sec-WebSocket-Key: 16 bytes in base64, that is 22 characters and "==" (RFC 6455 4.2.1). */
static bool websocket_key_ok(const char *v, size_t len)
{
    if (len != 24 || v[22] != '=' || v[23] != '=')
        return false;
    for (size_t i = 0; i < 22; i++)
        if (!((v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= 'a' && v[i] <= 'z') ||
              (v[i] >= '0' && v[i] <= '9') || v[i] == '+' || v[i] == '/'))
            return false;
    return true;
}

int gw_sniff_check(const char *buf, size_t len, enum gw_sniff_kind kind,
                   struct gw_sniff_refusal *out)
{
    memset(out, 0, sizeof(*out));
    /* Empty lines before the request line are ignored (RFC 9112 2.2), as libmicrohttpd does. */
    const char *start = buf;
    while (start < buf + len && (*start == '\r' || *start == '\n'))
        start++;
    const char *end = head_end(start, (size_t)(buf + len - start));
    /* A head not all here yet is checked as far as its complete lines go: what is wrong in them
     * stays wrong whatever follows, and the rest may never be seen whole (longer than the peek,
     * it goes to libmicrohttpd as it is). Refused, all of it that is here counts as the head. */
    bool partial = !end;
    if (partial) {
        const char *last = start;
        for (const char *p = start; p < buf + len; p++)
            if (*p == '\n')
                last = p + 1;
        end = last;
        out->head_len = len;
    } else {
        out->head_len = (size_t)(end - buf);
    }
    /* libmicrohttpd 0.9.75 reads the head as C strings: a NUL cuts the target or a value short
     * ("/a\0/b" would be routed as "/a"), and a line that starts with one ends the head there.
     * RFC 9110 5.5: reject the message. */
    if (memchr(buf, '\0', partial ? len : out->head_len))
        return refuse(out, 400, "bad_request", "the request head holds a NUL byte");
    if (partial && end == start) {
        out->head_len = 0;
        return 0; /* not even the request line yet */
    }
    bool websocket = kind == GW_SNIFF_WEBSOCKET;
    bool key_ok = false, version_ok = false;
    const char *line = (const char *)memchr(start, '\n', (size_t)(end - start)) + 1;
    while (line < end) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        size_t n = (size_t)(eol - line);
        if (n > 0 && line[n - 1] == '\r')
            n--;
        /* RFC 9112 5.2: a folded line (obs-fold) is refused, or replaced by a space; libmicrohttpd
         * joins it to the line before without one ("Content-Length: 5" + " 6" is 56). */
        if (n > 0 && (*line == ' ' || *line == '\t'))
            return refuse(out, 400, "bad_request",
                          "a header line is folded onto the next one (obs-fold, RFC 9112 5.2)");
        const char *colon = memchr(line, ':', n);
        if (n == 0 || !colon) {
            line = eol + 1; /* the blank line, or libmicrohttpd's own 400 */
            continue;
        }
        size_t name_len = (size_t)(colon - line);
        /* libmicrohttpd 0.9.75 takes a line that starts with ':' for the end of the head: what
         * follows would be read as another request. */
        if (name_len == 0)
            return refuse(out, 400, "bad_request", "a header line has no name");
        /* RFC 9112 5.1: "Content-Length : 5" is a name libmicrohttpd would not recognise, so
         * the body would be read as the next request. */
        if (name_len > 0 && (line[name_len - 1] == ' ' || line[name_len - 1] == '\t'))
            return refuse(out, 400, "bad_request",
                          "whitespace between a header name and its colon (RFC 9112 5.1)");
        const char *v = colon + 1, *ve = line + n;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        size_t vlen = (size_t)(ve - v);
        if (gw_h1_token_is(line, name_len, "Content-Length")) {
            /* libmicrohttpd 0.9.75 skips the whitespace before a value, not after it: "5 " or
             * "5\t" is not a number to it (and gets its doubled error head). */
            if (ve < line + n)
                return refuse(out, 400, "bad_request",
                              "Content-Length must be a decimal number, with nothing after it");
            /* Trap: libmicrohttpd 0.9.75 answers these itself, but writes its error head twice
             * (transmit_error_response runs inside parse_connection_headers, whose caller then
             * queues the same response again). */
            uint64_t value = 0;
            bool digits = vlen > 0, overflow = false;
            for (size_t i = 0; i < vlen && digits; i++) {
                digits = v[i] >= '0' && v[i] <= '9';
                unsigned d = (unsigned)(v[i] - '0');
                if (digits && value > (UINT64_MAX - d) / 10)
                    overflow = true;
                else if (digits)
                    value = value * 10 + d;
            }
            if (!digits)
                return refuse(out, 400, "bad_request", "Content-Length must be a decimal number");
            if (overflow)
                return refuse(out, 413, "body_too_large",
                              "the Content-Length is beyond any body enoki takes "
                              "(GATEWAY.max_body)");
        } else if (websocket && gw_h1_token_is(line, name_len, "Sec-WebSocket-Key")) {
            key_ok = websocket_key_ok(v, vlen);
        } else if (websocket && gw_h1_token_is(line, name_len, "Sec-WebSocket-Version")) {
            /* 13 is RFC 6455; 8 (hybi-08) frames the same way, and nameko's eventlet hub takes
             * both, as libwebsockets does. */
            version_ok = (vlen == 2 && memcmp(v, "13", 2) == 0) || (vlen == 1 && *v == '8');
        }
        line = eol + 1;
    }
    if (partial) {
        out->head_len = 0;
        return 0; /* nothing wrong so far; the rest is libmicrohttpd's to judge */
    }
    if (websocket && !version_ok) {
        out->header = "Sec-WebSocket-Version: 13, 8";
        return refuse(out, 426, "upgrade_required",
                      "this hub speaks websocket version 13 (or 8): send "
                      "Sec-WebSocket-Version: 13");
    }
    if (websocket && !key_ok)
        return refuse(out, 400, "bad_request",
                      "Sec-WebSocket-Key must be 16 bytes in base64 (RFC 6455 4.2.1)");
    return 0;
}

static void on_closed(uv_handle_t *handle)
{
    struct sniff *s = handle->data;
    if (++s->closing == 2)
        free(s);
}

int gw_sniff_set_lowat(int fd, int bytes)
{
    return setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &bytes, sizeof(bytes));
}

static void finish(struct sniff *s, int kind, const char *origin, const char *host, size_t head_len)
{
    uv_poll_stop(&s->poll);
    uv_timer_stop(&s->timer);
    if (s->prev)
        s->prev->next = s->next;
    else
        s->set->head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    if (kind < 0) {
        close(s->fd);
    } else {
        /* The libraries wait for readability too: theirs must be the kernel's default. */
        gw_sniff_set_lowat(s->fd, 1);
        struct gw_sniff_info info = {.origin = origin && *origin ? origin : NULL,
                                     .host = host && *host ? host : NULL,
                                     .head_len = head_len};
        s->done(s->arg, s->fd, (struct sockaddr *)&s->addr, s->len, (enum gw_sniff_kind)kind,
                &info);
    }
    uv_close((uv_handle_t *)&s->poll, on_closed);
    uv_close((uv_handle_t *)&s->timer, on_closed);
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 413:
        return "Content Too Large";
    case 426:
        return "Upgrade Required";
    default:
        return "Error";
    }
}

static void on_linger_end(uv_timer_t *timer)
{
    finish(timer->data, -1, NULL, NULL, 0);
}

/* Too slow: a slowloris gets nothing. */
static void time_out(struct sniff *s)
{
    gw_metrics_connection_killed(s->set->metrics, "header_timeout");
    finish(s, -1, NULL, NULL, 0);
}

static void on_deadline(uv_timer_t *timer)
{
    time_out(timer->data);
}

bool gw_sniff_linger(int fd, int status)
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

void gw_sniff_refuse(int fd, const struct gw_sniff_refusal *refusal)
{
    /* The head was only peeked: read it, so that only a body can be left unread. */
    char sink[4096];
    for (size_t left = refusal->head_len; left > 0;) {
        ssize_t n = recv(fd, sink, left < sizeof(sink) ? left : sizeof(sink), 0);
        if (n <= 0) {
            gw_debug("sniff", "could not read a refused head: %s", n < 0 ? strerror(errno) : "EOF");
            break;
        }
        left -= (size_t)n;
    }
    struct gw_response r = {0};
    gw_respond_status(refusal->status, refusal->error, refusal->message, NULL, &r);
    struct gw_strbuf out = {0};
    char line[256];
    snprintf(line, sizeof(line),
             "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s%sConnection: "
             "close\r\n\r\n",
             refusal->status, reason_phrase(refusal->status), r.content_type, r.body_len,
             refusal->header ? refusal->header : "", refusal->header ? "\r\n" : "");
    gw_strbuf_adds(&out, line);
    gw_strbuf_add(&out, r.body, r.body_len);
    /* A few hundred bytes into a socket whose client is waiting for an answer (its buffer empty):
     * a client that cannot take them loses them. */
    if (send(fd, out.data, out.len, MSG_NOSIGNAL) != (ssize_t)out.len)
        gw_debug("sniff", "could not send the answer to a refused request");
    free(out.data);
    gw_response_clear(&r);
    gw_info("sniff", "refused a request: %d %s", refusal->status, refusal->message);
    shutdown(fd, SHUT_WR);
    gw_sniff_set_lowat(fd, 1);
}

static void on_linger(uv_poll_t *poll, int status, int events)
{
    (void)events;
    struct sniff *s = poll->data;
    if (gw_sniff_linger(s->fd, status))
        finish(s, -1, NULL, NULL, 0);
}

/* Answers a request no library should see (gw_sniff_check), then closes the connection. */
static void answer(struct sniff *s, const struct gw_sniff_refusal *refusal)
{
    gw_sniff_refuse(s->fd, refusal);
    uv_poll_start(&s->poll, UV_READABLE | UV_DISCONNECT, on_linger);
    uv_timer_start(&s->timer, on_linger_end, GW_SNIFF_LINGER_MS, 0);
}

/* Looks at what has arrived; returns 1 when the connection was handed over, answered or closed,
 * 0 when the rest of the request head has not come yet (*seen: the bytes there so far). */
static int peek(struct sniff *s, size_t *seen)
{
    char buf[PEEK_MAX];
    ssize_t n = recv(s->fd, buf, sizeof(buf), MSG_PEEK);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        finish(s, -1, NULL, NULL, 0); /* gone before it said anything */
        return 1;
    }
    *seen = n > 0 ? (size_t)n : 0;
    if (n < 0)
        return 0;
    char origin[512] = "", host[256] = "";
    size_t head_len = 0;
    int kind = gw_sniff_decide(buf, (size_t)n, n == (ssize_t)sizeof(buf), s->websocket_path, origin,
                               sizeof(origin), host, sizeof(host), &head_len);
    if (kind < 0)
        return 0;
    struct gw_sniff_refusal refusal;
    if (gw_sniff_check(buf, (size_t)n, (enum gw_sniff_kind)kind, &refusal))
        answer(s, &refusal);
    else
        finish(s, kind, origin, host, head_len);
    return 1;
}

static void on_retry(uv_timer_t *timer)
{
    struct sniff *s = timer->data;
    size_t seen;
    if (peek(s, &seen))
        return;
    if (uv_now(timer->loop) >= s->deadline)
        time_out(s);
    else
        uv_timer_start(&s->timer, on_retry, RETRY_MS, 0);
}

static void on_readable(uv_poll_t *poll, int status, int events)
{
    struct sniff *s = poll->data;
    size_t seen;
    if (status < 0) {
        finish(s, -1, NULL, NULL, 0);
        return;
    }
    if (peek(s, &seen))
        return;
    if (events & UV_DISCONNECT) {
        finish(s, -1, NULL, NULL, 0); /* the client stopped sending: the head cannot complete */
        return;
    }
    /* Part of the request is there, and those peeked bytes keep the socket readable: a
     * level-triggered poll would spin. With SO_RCVLOWAT the kernel wakes the loop only once more
     * bytes have come (or the client has gone), so half-open connections that trickle a byte now
     * and then (slowloris) cost nothing while they wait. */
    if (seen < PEEK_MAX && gw_sniff_set_lowat(s->fd, (int)seen + 1) == 0)
        return;
    /* Without it: look again a little later (the timer then also keeps the deadline). */
    uv_poll_stop(poll);
    uv_timer_start(&s->timer, on_retry, RETRY_MS, 0);
}

void gw_sniff_close_all(struct gw_sniff_set *set)
{
    while (set->head)
        finish(set->head, -1, NULL, NULL, 0);
}

void gw_sniff_start(struct gw_sniff_set *set, uv_loop_t *loop, int fd, const struct sockaddr *addr,
                    socklen_t len, const char *websocket_path, uint64_t deadline_ms,
                    gw_sniff_fn done, void *arg)
{
    struct sniff *s = xcalloc(1, sizeof(*s));
    s->set = set;
    s->next = set->head;
    if (set->head)
        set->head->prev = s;
    set->head = s;
    s->fd = fd;
    memcpy(&s->addr, addr, len < sizeof(s->addr) ? len : sizeof(s->addr));
    s->len = len;
    s->websocket_path = websocket_path;
    s->done = done;
    s->arg = arg;
    uv_poll_init(loop, &s->poll, fd);
    uv_timer_init(loop, &s->timer);
    s->poll.data = s->timer.data = s;
    s->deadline = uv_now(loop) + deadline_ms;
    uv_poll_start(&s->poll, UV_READABLE | UV_DISCONNECT, on_readable);
    /* A client that connects and never writes is closed at the deadline. */
    uv_timer_start(&s->timer, on_deadline, deadline_ms, 0);
}
