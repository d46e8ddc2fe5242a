#include "sniff.h"

#include "core/log.h"
#include "core/xalloc.h"

#include <errno.h>
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

int gw_sniff_decide(const char *buf, size_t len, int full, const char *websocket_path,
                    char *origin, size_t origin_len, char *host, size_t host_len, size_t *head_len)
{
    /* The whole head first, whatever it asks for: header_timeout covers it (slowloris), and a
     * connection is handed over once it has a request to serve. A head bigger than the peek
     * goes to libmicrohttpd, which answers 431. */
    const char *end = head_end(buf, len);
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

static void on_closed(uv_handle_t *handle)
{
    struct sniff *s = handle->data;
    if (++s->closing == 2)
        free(s);
}

static void finish(struct sniff *s, int kind, const char *origin, const char *host,
                   size_t head_len)
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
        struct gw_sniff_info info = {.origin = origin && *origin ? origin : NULL,
                                     .host = host && *host ? host : NULL,
                                     .head_len = head_len};
        s->done(s->arg, s->fd, (struct sockaddr *)&s->addr, s->len, (enum gw_sniff_kind)kind,
                &info);
    }
    uv_close((uv_handle_t *)&s->poll, on_closed);
    uv_close((uv_handle_t *)&s->timer, on_closed);
}

/* Looks at what has arrived; returns 1 when the connection was handed over or closed, 0 when the
 * rest of the request has not come yet. */
static int peek(struct sniff *s)
{
    char buf[PEEK_MAX];
    ssize_t n = recv(s->fd, buf, sizeof(buf), MSG_PEEK);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        finish(s, -1, NULL, NULL, 0); /* gone before it said anything */
        return 1;
    }
    if (n < 0)
        return 0;
    char origin[512] = "", host[256] = "";
    size_t head_len = 0;
    int kind = gw_sniff_decide(buf, (size_t)n, n == (ssize_t)sizeof(buf), s->websocket_path,
                               origin, sizeof(origin), host, sizeof(host), &head_len);
    if (kind >= 0) {
        finish(s, kind, origin, host, head_len);
        return 1;
    }
    return 0;
}

static void on_retry(uv_timer_t *timer)
{
    struct sniff *s = timer->data;
    if (peek(s))
        return;
    if (uv_now(timer->loop) >= s->deadline)
        finish(s, -1, NULL, NULL, 0); /* too slow: a slowloris gets nothing */
    else
        uv_timer_start(&s->timer, on_retry, RETRY_MS, 0);
}

static void on_readable(uv_poll_t *poll, int status, int events)
{
    (void)events;
    struct sniff *s = poll->data;
    if (status < 0) {
        finish(s, -1, NULL, NULL, 0);
        return;
    }
    if (peek(s))
        return;
    /* Part of the request is there. The peeked bytes keep the socket readable, so the
     * level-triggered poll would spin: look again a little later instead. */
    uv_poll_stop(poll);
    uv_timer_start(&s->timer, on_retry, RETRY_MS, 0);
}

static void on_deadline(uv_timer_t *timer)
{
    finish(timer->data, -1, NULL, NULL, 0);
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
    uv_poll_start(&s->poll, UV_READABLE, on_readable);
    /* A client that connects and never writes is closed at the deadline. */
    uv_timer_start(&s->timer, on_deadline, deadline_ms, 0);
}
