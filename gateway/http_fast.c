#include "http_fast.h"

#include "core/log.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "gateway/compress.h"
#include "gateway/dispatch.h"
#include "gateway/h1_write.h"
#include "gateway/http_metrics.h"
#include "gateway/refuse.h"
#include "gateway/sniff.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <unistd.h>

struct gw_http_fast {
    struct gw_http_env *env;
    struct gw_http_mhd *mhd;
    struct fast_conn *conns;
    char *peek; /* what later heads are peeked into, for any connection */
    size_t peek_cap;
};

struct fast_conn {
    struct gw_http_fast *fast;
    struct fast_conn *prev, *next; /* fast->conns */
    bool served; /* a request has been answered: the first head's deadline is behind it */
    uv_poll_t poll;
    /* GATEWAY.idle_timeout, while waiting for a request or for the client to read. The timer runs
     * all the time and looks at active_ms when it fires: no timer work per request. */
    uv_timer_t idle;
    uint64_t active_ms;
    int fd;
    int events; /* what the poll watches */
    int handles_open;
    struct sockaddr_storage peer;
    socklen_t peer_len;
    struct gw_request *req; /* being served, or NULL */
    struct gw_strbuf head;  /* the response head being written */
    size_t sent;            /* of the head and the body */
    off_t file_sent;        /* of a static file */
    bool close_after;       /* "Connection: close": close once the response is out */
    size_t waited_for;      /* bytes of an incomplete head seen (SO_RCVLOWAT is past them), or 0 */
    bool lingering;         /* a refused request was answered: waiting for the client to close */
    /* The request being served, its fields pointing here: grown to the biggest request the
     * connection has sent (at most GW_FAST_MAX), so a connection of small requests stays small. */
    char *buf;
    size_t buf_cap;
};

/* A connection's first request buffer: most requests fit. */
enum { FAST_BUF_FIRST = 1024 };

static void fast_read(struct fast_conn *c);
static void fast_write(struct fast_conn *c);
static void fast_watch(struct fast_conn *c, int events);

static const struct gw_config *config_of(const struct fast_conn *c)
{
    return c->fast->env->current->config;
}

static void on_closed(uv_handle_t *handle)
{
    struct fast_conn *c = handle->data;
    if (--c->handles_open == 0) {
        free(c->head.data);
        free(c->buf);
        free(c);
    }
}

/* Stops watching c; its fd is closed unless keep_fd (handed over). */
static void release(struct fast_conn *c, bool keep_fd)
{
    struct gw_http_fast *fast = c->fast;
    if (c->prev)
        c->prev->next = c->next;
    else
        fast->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    fast->env->connections--;
    uv_close((uv_handle_t *)&c->poll, on_closed);
    uv_close((uv_handle_t *)&c->idle, on_closed);
    if (!keep_fd)
        close(c->fd);
}

/* Closes c; a request still being served ends as "client gone". */
static void fast_close(struct fast_conn *c)
{
    if (c->req) {
        struct gw_request *req = c->req;
        c->req = NULL;
        gw_request_finish(req, true);
    }
    release(c, false);
}

/* The next request of c is not enoki's to read: libmicrohttpd takes the connection, with that
 * request still unread in the socket. */
static void hand_over(struct fast_conn *c)
{
    struct gw_http_mhd *mhd = c->fast->mhd;
    int fd = c->fd;
    struct sockaddr_storage peer = c->peer;
    socklen_t peer_len = c->peer_len;
    release(c, true);
    gw_http_mhd_take(mhd, fd, (const struct sockaddr *)&peer, peer_len);
}

static void on_idle(uv_timer_t *timer)
{
    struct fast_conn *c = timer->data;
    const struct gw_config *config = config_of(c);
    /* The first head is due by header_timeout, as the sniffer's; after it, idle_timeout. */
    bool first = !c->served && !c->req;
    uint64_t timeout = (uint64_t)(first ? config->header_timeout : config->idle_timeout) * 1000;
    uint64_t now = uv_now(c->fast->env->loop);
    /* A call's wait is bounded by its own deadline, not by idle_timeout. */
    if (c->req && !(c->events & UV_WRITABLE))
        c->active_ms = now;
    if (now - c->active_ms < timeout) {
        uv_timer_start(&c->idle, on_idle, c->active_ms + timeout - now, 0);
        return;
    }
    /* Idle between requests is no fault; a request that stopped arriving, or a response the
     * client stopped reading, is. */
    struct gw_http_metrics *metrics = c->fast->env->metrics;
    if (c->req)
        gw_metrics_connection_killed(metrics, GW_KILL_WRITE_TIMEOUT);
    else if (c->waited_for || first)
        gw_metrics_connection_killed(metrics,
                                     first ? GW_KILL_HEADER_TIMEOUT : GW_KILL_REQUEST_TIMEOUT);
    fast_close(c);
}

static void on_linger_end(uv_timer_t *timer)
{
    release(timer->data, false);
}

/* A head that libmicrohttpd would get wrong: answered as the sniffer answers it on a connection's
 * first request, and the connection closed once the client has read it. */
static void refuse(struct fast_conn *c, const struct gw_h1_head *head)
{
    gw_refuse(c->fd, &head->refusal, head->head_len, config_of(c));
    c->lingering = true;
    fast_watch(c, UV_READABLE);
    uv_timer_start(&c->idle, on_linger_end, GW_REFUSE_LINGER_MS, 0);
}

static void on_poll(uv_poll_t *poll, int status, int events)
{
    struct fast_conn *c = poll->data;
    if (c->lingering) {
        if (gw_refuse_linger(c->fd, status))
            release(c, false);
        return;
    }
    if (status < 0) {
        fast_close(c);
        return;
    }
    if (c->req) {
        /* Bytes (a pipelined request) or the end while a request is being served: they wait,
         * unwatched, until its response is out (level-triggered, they would wake us at once). */
        fast_watch(c, c->events & ~UV_READABLE);
        if (events & UV_WRITABLE)
            fast_write(c);
        return;
    }
    fast_read(c);
}

static void fast_watch(struct fast_conn *c, int events)
{
    if (events == c->events)
        return;
    c->events = events;
    if (events)
        uv_poll_start(&c->poll, events, on_poll);
    else
        uv_poll_stop(&c->poll);
}

static void done(struct fast_conn *c, bool client_gone)
{
    struct gw_request *req = c->req;
    c->req = NULL;
    c->served = true;
    gw_request_finish(req, client_gone);
    if (client_gone || c->close_after) {
        /* The client is told "close": what it sent after is dropped, as libmicrohttpd does. */
        shutdown(c->fd, SHUT_WR);
        release(c, false);
        return;
    }
    fast_watch(c, UV_READABLE);
    c->active_ms = uv_now(c->fast->env->loop);
}

static void fast_write(struct fast_conn *c)
{
    struct gw_request *req = c->req;
    struct gw_response *r = &req->response;
    size_t body_len = req->file_fd >= 0 ? 0 : r->body_len;
    size_t total = c->head.len + body_len;
    while (c->sent < total) {
        struct iovec iov[2];
        int n = 0;
        if (c->sent < c->head.len)
            iov[n++] = (struct iovec){c->head.data + c->sent, c->head.len - c->sent};
        size_t body_at = c->sent > c->head.len ? c->sent - c->head.len : 0;
        if (body_len > body_at)
            iov[n++] = (struct iovec){r->body + body_at, body_len - body_at};
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)n};
        ssize_t w = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            goto wait;
        if (w < 0) {
            done(c, true);
            return;
        }
        c->sent += (size_t)w;
        c->active_ms = uv_now(c->fast->env->loop);
    }
    while (req->file_fd >= 0 && (uint64_t)c->file_sent < req->file_size) {
        ssize_t w = sendfile(c->fd, req->file_fd, &c->file_sent,
                             (size_t)(req->file_size - (uint64_t)c->file_sent));
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            goto wait;
        if (w <= 0) {
            done(c, true); /* gone, or the file shrank under us */
            return;
        }
        c->active_ms = uv_now(c->fast->env->loop);
    }
    done(c, false);
    return;
wait:
    /* A client that does not read gets GATEWAY.idle_timeout, as with libmicrohttpd. */
    fast_watch(c, UV_WRITABLE);
}

static void add_field(void *ctx, const char *name, const char *value)
{
    if (!gw_h1_fields_add(ctx, name, value))
        gw_warn("http", "dropped a handler header MHD refuses: %s", name);
}

/* Writes req's response, as libmicrohttpd would (gateway/h1_write.h). */
static void respond(struct gw_request *req)
{
    struct fast_conn *c = req->transport;
    struct gw_response *r = &req->response;
    gw_compress_response(req);
    struct gw_h1_fields fields = {0};
    gw_request_response_headers(req, add_field, &fields);
    c->head.len = 0;
    uint64_t length = req->file_fd >= 0  ? req->file_size
                      : r->status == 304 ? GW_H1_NO_LENGTH /* a handler's: the 200's is not known */
                                         : r->body_len;
    gw_h1_write_head(&c->head, r->status, &fields, c->close_after, length);
    c->close_after = c->close_after || fields.says_close;
    gw_h1_fields_clear(&fields);
    if (r->status < 200 || r->status == 204 || r->status == 304) {
        r->body_len = 0;
        if (req->file_fd >= 0) {
            close(req->file_fd);
            req->file_fd = -1;
        }
    }
    c->sent = 0;
    c->file_sent = 0;
    fast_write(c);
}

/* Reads the request head (the scan of the peeked bytes at buf) and its body out of the socket, in
 * one recv, and dispatches it. */
static void serve(struct fast_conn *c, const struct gw_h1_head *h, const char *buf)
{
    size_t total = h->head_len + h->content_length;
    if (c->buf_cap < total) {
        c->buf_cap = total < FAST_BUF_FIRST ? FAST_BUF_FIRST : total;
        c->buf = xrealloc(c->buf, c->buf_cap);
    }
    if (recv(c->fd, c->buf, total, 0) != (ssize_t)total) {
        fast_close(c); /* cannot happen: the bytes were there */
        return;
    }
    struct gw_request *req = gw_request_new(c->fast->env, (const struct sockaddr *)&c->peer, c->fd);
    req->respond = respond;
    req->transport = c;
    c->req = req;
    c->close_after = h->close;
    /* The fields point into the peeked bytes; the same bytes are now in c->buf, where they become
     * C strings in place: each ends where its ':' or CR was. */
    char *target = c->buf + (h->target - buf);
    target[h->target_len] = '\0';
    req->raw_uri = xstrdup(target);
    memcpy(req->method, h->method, h->method_len);
    req->method[h->method_len] = '\0';
    for (size_t i = 0; i < h->n_fields; i++) {
        char *name = c->buf + (h->fields[i].name - buf);
        char *value = c->buf + (h->fields[i].value - buf);
        name[h->fields[i].name_len] = '\0';
        value[h->fields[i].value_len] = '\0';
        gw_request_add_field(req, name, value);
    }
    if (h->content_length) {
        req->body = xmalloc(h->content_length + 1);
        memcpy(req->body, c->buf + h->head_len, h->content_length);
        req->body[h->content_length] = '\0';
        req->body_len = h->content_length;
    }
    if (gw_dispatch(req))
        respond(req);
}

/* Looks at the next request of c: one peek, one scan. */
static void fast_read(struct fast_conn *c)
{
    struct gw_http_fast *fast = c->fast;
    const struct gw_config *config = config_of(c);
    struct gw_h1_limits limits = gw_http_env_limits(fast->env, config);
    size_t want = gw_sniff_peek_for(&limits);
    if (fast->peek_cap < want) {
        fast->peek = xrealloc(fast->peek, want);
        fast->peek_cap = want;
    }
    ssize_t n = recv(c->fd, fast->peek, want, MSG_PEEK);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) {
        fast_close(c); /* closed by the client between requests, or broken */
        return;
    }
    struct gw_h1_head head;
    gw_h1_scan(fast->peek, (size_t)n, (size_t)n == want, &limits, &head);
    if (head.verdict == GW_H1_REFUSE) {
        refuse(c, &head);
        return;
    }
    if (head.verdict == GW_H1_INCOMPLETE) {
        /* The rest of the head is waited for: SO_RCVLOWAT, no wakeup before more has come. A
         * wakeup with nothing more means the client has stopped sending: the head cannot
         * complete. */
        if ((size_t)n > c->waited_for && gw_set_lowat(c->fd, (int)n + 1) == 0) {
            c->waited_for = (size_t)n;
            return;
        }
        gw_metrics_connection_killed(fast->env->metrics, GW_KILL_ABANDONED);
        fast_close(c);
        return;
    }
    if (c->waited_for) {
        gw_set_lowat(c->fd, 1); /* the kernel's default, which libmicrohttpd expects too */
        c->waited_for = 0;
    }
    if (head.kind == GW_H1_WEBSOCKET && fast->env->upgrade) {
        /* A websocket after plain requests (a pooled connection): the hub takes it, as a first. */
        struct gw_http_env *env = fast->env;
        int fd = c->fd;
        struct sockaddr_storage peer = c->peer;
        socklen_t peer_len = c->peer_len;
        release(c, true);
        env->upgrade(env->upgrade_arg, fd, (const struct sockaddr *)&peer, peer_len, &head,
                     fast->peek, (size_t)n);
        return;
    }
    if (head.verdict == GW_H1_LIBRARY)
        hand_over(c);
    else
        serve(c, &head, fast->peek);
}

struct gw_http_fast *gw_http_fast_new(struct gw_http_env *env, struct gw_http_mhd *mhd)
{
    struct gw_http_fast *fast = xcalloc(1, sizeof(*fast));
    fast->env = env;
    fast->mhd = mhd;
    return fast;
}

void gw_http_fast_start(struct gw_http_fast *fast, int fd, const struct sockaddr *addr,
                        socklen_t len, const struct gw_h1_head *head, const char *buf)
{
    struct gw_http_env *env = fast->env;
    struct fast_conn *c = xcalloc(1, sizeof(*c));
    c->fast = fast;
    c->fd = fd;
    if (len > sizeof(c->peer))
        len = sizeof(c->peer);
    memcpy(&c->peer, addr, len);
    c->peer_len = len;
    int err = uv_poll_init(env->loop, &c->poll, fd);
    if (err) {
        /* Not expected (the sniffer's poll has let go of fd): libmicrohttpd reads it. */
        gw_warn("http", "cannot watch a connection (%s): libmicrohttpd takes it", uv_strerror(err));
        free(c);
        gw_http_mhd_take(fast->mhd, fd, addr, len);
        return;
    }
    uv_timer_init(env->loop, &c->idle);
    c->poll.data = c->idle.data = c;
    c->handles_open = 2;
    c->next = fast->conns;
    if (c->next)
        c->next->prev = c;
    fast->conns = c;
    env->connections++;
    c->active_ms = uv_now(env->loop);
    /* The first of the two deadlines on_idle keeps: the first head's and idle_timeout. */
    const struct gw_config *config = config_of(c);
    int first = config->header_timeout < config->idle_timeout ? config->header_timeout
                                                              : config->idle_timeout;
    uv_timer_start(&c->idle, on_idle, (uint64_t)first * 1000, 0);
    fast_watch(c, UV_READABLE);
    serve(c, head, buf);
}

void gw_http_fast_close(struct gw_http_fast *fast)
{
    if (!fast)
        return;
    while (fast->conns)
        fast_close(fast->conns);
    free(fast->peek);
    free(fast);
}
