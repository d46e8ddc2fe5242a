#include "http_mhd.h"

#include "core/log.h"
#include "core/xalloc.h"
#include "gateway/compress.h"
#include "gateway/dispatch.h"
#include "gateway/http_metrics.h"
#include "gateway/mhd_loop.h"
#include "gateway/refuse.h"
#include "routes/ws_token.h"

#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gw_http_mhd {
    struct gw_http_env *env;
    struct MHD_Daemon *daemon; /* owned by loop */
    struct gw_mhd_loop *loop;  /* drives the daemon from the libuv loop */
};

/* A request libmicrohttpd reads: the transport's record (req->transport). */
struct mhd_request {
    struct gw_request *req;
    struct gw_http_mhd *mhd;
    struct MHD_Connection *connection;
    struct gw_mhd_conn *conn; /* the guard's record of the connection */
    bool seen;                /* the access handler's first call is over */
    bool started;             /* the request has been dispatched */
    size_t body_cap;
};

static void finish(struct mhd_request *r, bool client_gone)
{
    gw_request_finish(r->req, client_gone);
    free(r);
}

static void add_mhd_header(void *ctx, const char *name, const char *value)
{
    if (MHD_add_response_header(ctx, name, value) != MHD_YES)
        gw_warn("http", "dropped a handler header MHD refuses: %s", name);
}

/* The content of a response that has none. */
static ssize_t no_content(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)cls, (void)pos, (void)buf, (void)max;
    return MHD_CONTENT_READER_END_OF_STREAM;
}

static enum MHD_Result queue_response(struct mhd_request *r)
{
    struct gw_request *req = r->req;
    struct gw_response *res = &req->response;
    struct MHD_Response *response;
    gw_compress_response(req);
    if (res->status == 304 && req->file_fd < 0) {
        /* A handler's 304: the 200's length is not known, and RFC 9110 8.6 allows no other (from
         * a buffer, libmicrohttpd would say Content-Length: 0). Of unknown size, it says none. */
        free(res->body);
        res->body = NULL;
        response = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1, no_content, NULL, NULL);
        /* Nor chunked: the end of the head is the end of the answer, and the connection closes. */
        if (response)
            MHD_set_response_options(response, MHD_RF_HTTP_VERSION_1_0_ONLY, MHD_RO_END);
    } else if (req->file_fd >= 0) {
        response = MHD_create_response_from_fd(req->file_size, req->file_fd);
        if (response)
            req->file_fd = -1; /* MHD closes it */
    } else {
        response = MHD_create_response_from_buffer(
            res->body_len, res->body, res->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
        res->body = NULL; /* MHD owns it now */
    }
    if (!response)
        return MHD_NO;
    /* libmicrohttpd reads one request per connection, the one the scan has seen: it would get
     * later heads wrong (a Content-Length that is not a number answered twice, a line starting
     * with ':' or NUL taken for the end of the head). */
    req->close_after = true;
    gw_request_response_headers(req, add_mhd_header, response);
    enum MHD_Result ok = MHD_queue_response(r->connection, (unsigned)res->status, response);
    MHD_destroy_response(response);
    return ok;
}

/* A call has ended: the suspended connection goes on, and its access handler queues the answer. */
static void respond_later(struct gw_request *req)
{
    struct mhd_request *r = req->transport;
    MHD_resume_connection(r->connection);
    gw_mhd_loop_run_soon(r->mhd->loop);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *connection)
{
    struct gw_http_mhd *mhd = cls;
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *peer = info ? info->client_addr : NULL;
    info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct mhd_request *r = xcalloc(1, sizeof(*r));
    r->req = gw_request_new(mhd->env, peer, info ? info->connect_fd : -1);
    r->req->raw_uri = xstrdup(uri ? uri : "");
    r->req->respond = respond_later;
    r->req->transport = r;
    r->mhd = mhd;
    r->connection = connection;
    r->conn = gw_mhd_loop_conn_of(connection);
    struct mhd_request *orphan = gw_mhd_conn_request_started(r->conn, r);
    if (orphan)
        finish(orphan, true);
    return r;
}

/* Every field of the head, and its size as GATEWAY.max_header counts it: the target and each
 * "name: value" line. */
struct fields {
    struct gw_request *req;
    size_t head_bytes;
};

static enum MHD_Result collect_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    struct fields *f = cls;
    value = value ? value : "";
    gw_request_add_field(f->req, key, value);
    f->head_bytes += strlen(key) + strlen(value) + 4; /* ": " and CRLF */
    return MHD_YES;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *connection, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    (void)cls;
    (void)url; /* decoded from the raw target instead (gateway/dispatch.c) */
    (void)version;
    struct mhd_request *r = *con_cls;
    struct gw_request *req = r->req;
    if (gw_mhd_conn_killed(r->conn))
        return MHD_NO; /* answered by the guard: libmicrohttpd closes the connection */
    if (!r->seen) {
        /* Its framing was checked by the scan before libmicrohttpd got the connection. */
        snprintf(req->method, sizeof(req->method), "%s", method);
        struct fields fields = {.req = req, .head_bytes = strlen(req->raw_uri)};
        MHD_get_connection_values(connection, MHD_HEADER_KIND, collect_field, &fields);
        req->head_too_large = fields.head_bytes > (size_t)req->config->max_header;
        r->seen = true;
        gw_mhd_conn_head_received(r->conn);
        /* Trap: queueing a response on the first call breaks keep-alive bodies (100-continue). */
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (req->body_too_large || req->body_len + n > (size_t)req->config->max_body) {
            req->body_too_large = true;
            return MHD_YES;
        }
        if (req->body_len + n + 1 > r->body_cap) {
            r->body_cap = (req->body_len + n + 1) * 2;
            req->body = xrealloc(req->body, r->body_cap);
        }
        memcpy(req->body + req->body_len, upload_data, n);
        req->body_len += n;
        req->body[req->body_len] = '\0';
        return MHD_YES;
    }
    if (!r->started) {
        r->started = true;
        gw_mhd_conn_request_received(r->conn);
        if (!gw_dispatch(req)) {
            MHD_suspend_connection(connection); /* until the call ends */
            return MHD_YES;
        }
    }
    if (req->responded)
        return queue_response(r);
    return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct gw_http_mhd *mhd = cls;
    (void)connection;
    struct mhd_request *r = *con_cls;
    if (!r)
        return;
    *con_cls = NULL;
    if (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED && !gw_mhd_conn_killed(r->conn))
        gw_metrics_connection_killed(
            mhd->env->metrics, r->req->responded ? GW_KILL_WRITE_TIMEOUT : GW_KILL_REQUEST_TIMEOUT);
    gw_mhd_conn_request_ended(r->conn);
    finish(r, toe != MHD_REQUEST_TERMINATED_COMPLETED_OK);
}

static void on_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct gw_http_mhd *mhd = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        mhd->env->connections++;
        *socket_context = gw_mhd_loop_conn_started(mhd->loop, connection);
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        mhd->env->connections--;
        struct mhd_request *orphan = gw_mhd_loop_conn_closed(*socket_context);
        *socket_context = NULL;
        if (orphan)
            finish(orphan, true);
    }
}

/* The guard of gateway/mhd_loop.h kills a connection. A request stuck in libmicrohttpd is answered
 * here (libmicrohttpd never will) and logged with that answer when it ends; one that arrives too
 * slowly is closed without an answer, as enoki's own reader and libmicrohttpd's idle timeout do. */
static void on_kill(void *arg, int fd, void *request, enum gw_mhd_kill_reason reason)
{
    struct gw_http_mhd *mhd = arg;
    struct mhd_request *r = request;
    static const enum gw_kill_reason reasons[] = {[GW_MHD_STALLED] = GW_KILL_STALLED,
                                                  [GW_MHD_HEAD_TOO_SLOW] = GW_KILL_HEADER_TIMEOUT,
                                                  [GW_MHD_TOO_SLOW] = GW_KILL_REQUEST_TIMEOUT,
                                                  [GW_MHD_ABANDONED] = GW_KILL_ABANDONED};
    gw_metrics_connection_killed(mhd->env->metrics, reasons[reason]);
    if (reason != GW_MHD_STALLED || !r || r->req->responded)
        return;
    struct gw_request *req = r->req;
    char message[192];
    if (r->seen && gw_request_header(req, "Transfer-Encoding"))
        snprintf(message, sizeof(message),
                 "the chunked body cannot be read: a chunk-size line with its extensions is longer "
                 "than the %zu bytes a request may buffer (GATEWAY.max_header when enoki started, "
                 "+ %d)",
                 mhd->env->library_head_max + GW_MHD_POOL_SLACK, GW_MHD_POOL_SLACK);
    else
        snprintf(message, sizeof(message), "the request cannot be read: it makes no progress");
    /* A HEAD's answer has no body (RFC 9110 9.3.2), a refusal's neither. */
    struct gw_h1_refusal refusal = {.status = 400,
                                    .error = "bad_request",
                                    .message = message,
                                    .head_method = strcmp(req->method, "HEAD") == 0};
    gw_respond_status(refusal.status, refusal.error, message, NULL, &req->response);
    req->responded = true;
    gw_refuse_request(fd, &refusal, req->config, req->headers, req->n_headers);
}

/* A request read by libmicrohttpd must arrive whole within GATEWAY.idle_timeout, its head within
 * header_timeout, however slowly its bytes trickle in (enoki's own reader has the same bounds). */
static struct gw_mhd_deadlines deadlines(const struct gw_config *config)
{
    return (struct gw_mhd_deadlines){.head_ms = (uint64_t)config->header_timeout * 1000,
                                     .request_ms = (uint64_t)config->idle_timeout * 1000};
}

static void on_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void on_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char raw[512], line[512];
    vsnprintf(raw, sizeof(raw), fmt, ap);
    /* A target libmicrohttpd names may carry a token (a websocket's access_token). */
    gw_ws_redact(raw, line, sizeof(line));
    line[strcspn(line, "\n")] = '\0';
    gw_debug("mhd", "%s", line);
}

struct gw_http_mhd *gw_http_mhd_new(struct gw_http_env *env, char *err, size_t errlen)
{
    const struct gw_config *config = env->current->config;
    struct gw_http_mhd *mhd = xcalloc(1, sizeof(*mhd));
    mhd->env = env;
    mhd->daemon = MHD_start_daemon(
        MHD_USE_NO_LISTEN_SOCKET | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0,
        NULL, NULL, on_access, mhd, MHD_OPTION_URI_LOG_CALLBACK, on_uri, mhd,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, mhd, MHD_OPTION_EXTERNAL_LOGGER, on_log, mhd,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)config->idle_timeout, MHD_OPTION_NOTIFY_CONNECTION,
        on_connection, mhd,
        /* The memory pool holds the request head: a bigger head is refused (431). */
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)config->max_header + GW_MHD_POOL_SLACK,
        MHD_OPTION_END);
    if (!mhd->daemon) {
        snprintf(err, errlen, "cannot start libmicrohttpd");
        free(mhd);
        return NULL;
    }
    mhd->loop = gw_mhd_loop_new(env->loop, mhd->daemon, deadlines(config), on_kill, mhd);
    return mhd;
}

void gw_http_mhd_take(struct gw_http_mhd *mhd, int fd, const struct sockaddr *addr, socklen_t len)
{
    gw_debug("http", "a request enoki does not read itself: the connection goes to libmicrohttpd");
    if (MHD_add_connection(mhd->daemon, fd, addr, len) != MHD_YES)
        gw_warn("http", "cannot take a connection over");
    gw_mhd_loop_run_soon(mhd->loop);
}

void gw_http_mhd_reload(struct gw_http_mhd *mhd)
{
    gw_mhd_loop_set_deadlines(mhd->loop, deadlines(mhd->env->current->config));
}

void gw_http_mhd_close(struct gw_http_mhd *mhd)
{
    if (!mhd)
        return;
    gw_mhd_loop_close(mhd->loop);
    free(mhd);
}
