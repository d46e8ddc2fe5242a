#define _XOPEN_SOURCE 700 /* strptime */
#include "http.h"

#include "core/h1.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/status.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "gateway/mhd_loop.h"
#include "gateway/sniff.h"
#include "routes/call.h"
#include "routes/http_mode.h"
#include "routes/respond.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

enum { MAX_QUERY_PARAMS = 256 };

struct gw_http {
    uv_loop_t *loop;
    const struct gw_config *config;
    const struct gw_route_table *table;
    struct gw_rpc *rpc;
    struct MHD_Daemon *daemon; /* owned by mhd */
    struct gw_mhd_loop *mhd;   /* drives the daemon from the loop */
    bool closed;
    size_t in_flight;
    size_t connections;     /* open HTTP connections, for GATEWAY.max_connections */
    struct fast_conn *fast; /* the connections enoki reads itself */
    char *peek;             /* what fast_read peeks into, for any connection */
    size_t peek_cap;
    time_t date_at; /* the second date is for */
    char date[40];
    bool draining;
    struct gw_metrics *metrics;
};

struct fast_conn;

struct request {
    struct gw_http *http;
    struct MHD_Connection *connection; /* NULL when enoki reads the connection itself */
    struct fast_conn *fast;            /* that connection, else NULL */
    struct gw_mhd_conn *mhd_conn;      /* libmicrohttpd's connection's record, else NULL */
    /* The head's fields in the order sent (the array owned; the strings borrowed from MHD's pool
     * or the fast connection's buffer, valid until the request completes). */
    struct gw_header_field *headers;
    size_t n_headers, headers_cap;
    const struct sockaddr *peer; /* borrowed, as headers */
    int fd;
    char *raw_uri; /* as sent: the path still percent-encoded, with the query string */
    /* Borrowed: where MHD's copy of the request line holds the target (see refuse_early). */
    const char *uri_at;
    bool seen;      /* the access handler's first call is over */
    bool started;   /* the request has been routed */
    bool responded; /* a response is ready in .response */
    struct gw_response response;
    struct gw_rpc_call *call;
    /* What the request calls: a configured route's target, or the generic route's. */
    char *service;
    char *method_name;
    double timeout;
    bool generic;
    const struct gw_route_conf *route; /* NULL for the generic route */
    const char *route_label;           /* for metrics: the rule, or what answered */
    bool is_preflight;
    char *body;
    size_t body_len, body_cap;
    bool body_too_large;
    bool head_too_large;
    bool close_after; /* the framing was refused: "Connection: close" */
    int file_fd;      /* a static file to send instead of response.body, or -1 */
    uint64_t file_size;
    bool counted; /* in http->in_flight */
    char call_id[160];
    char method[16];
    uint64_t start_ns;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* --- requests -----------------------------------------------------------------------------------
 */

/* The first header called name (any case), as MHD_lookup_connection_value finds it, or NULL. */
static const char *header(struct request *req, const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

static void add_field(struct request *req, const char *name, const char *value)
{
    if (req->n_headers == req->headers_cap) {
        req->headers_cap = req->headers_cap ? req->headers_cap * 2 : 16;
        req->headers = xrealloc(req->headers, req->headers_cap * sizeof(*req->headers));
    }
    req->headers[req->n_headers].name = name;
    req->headers[req->n_headers].value = value ? value : "";
    req->n_headers++;
}

/* --- responses ----------------------------------------------------------------------------------
 */

/* Where a response's headers go: libmicrohttpd's response, or the head enoki writes itself. */
typedef void (*add_header_fn)(void *ctx, const char *name, const char *value);

/* The Origin of a request when GATEWAY.cors allows it, else NULL. */
static const char *allowed_origin(struct request *req)
{
    const struct gw_cors *cors = &req->http->config->cors;
    if (!cors->enabled)
        return NULL;
    const char *origin = header(req, "Origin");
    if (!origin)
        return NULL;
    for (size_t i = 0; i < cors->origins.n; i++)
        if (strcmp(cors->origins.items[i], "*") == 0 ||
            strcasecmp(cors->origins.items[i], origin) == 0)
            return origin;
    return NULL;
}

static void add_cors_headers(struct request *req, add_header_fn add, void *ctx, bool preflight)
{
    const struct gw_cors *cors = &req->http->config->cors;
    const char *origin = allowed_origin(req);
    if (!origin)
        return;
    bool any = false;
    for (size_t i = 0; i < cors->origins.n; i++)
        any = any || strcmp(cors->origins.items[i], "*") == 0;
    /* "*" cannot go with credentials: then the origin itself is named. */
    add(ctx, "Access-Control-Allow-Origin", any && !cors->credentials ? "*" : origin);
    add(ctx, "Vary", "Origin");
    if (cors->credentials)
        add(ctx, "Access-Control-Allow-Credentials", "true");
    if (!preflight) {
        add(ctx, "Access-Control-Expose-Headers", "X-Call-Id, Retry-After");
        return;
    }
    struct gw_strbuf methods = {0}, headers = {0};
    if (cors->methods.n == 0)
        gw_strbuf_adds(&methods, "GET, HEAD, POST, PUT, PATCH, DELETE");
    for (size_t i = 0; i < cors->methods.n; i++) {
        gw_strbuf_adds(&methods, i ? ", " : "");
        gw_strbuf_adds(&methods, cors->methods.items[i]);
    }
    for (size_t i = 0; i < cors->headers.n; i++) {
        gw_strbuf_adds(&headers, i ? ", " : "");
        gw_strbuf_adds(&headers, cors->headers.items[i]);
    }
    const char *asked = header(req, "Access-Control-Request-Headers");
    add(ctx, "Access-Control-Allow-Methods", methods.data);
    if (headers.data)
        add(ctx, "Access-Control-Allow-Headers", headers.data);
    else if (asked)
        add(ctx, "Access-Control-Allow-Headers", asked);
    char age[16];
    snprintf(age, sizeof(age), "%d", cors->max_age);
    add(ctx, "Access-Control-Max-Age", age);
    free(methods.data);
    free(headers.data);
}

/* A CORS preflight (OPTIONS with Access-Control-Request-Method): answered by enoki itself. */
static bool preflight(struct request *req)
{
    if (!req->http->config->cors.enabled || strcmp(req->method, "OPTIONS") != 0 ||
        !header(req, "Access-Control-Request-Method") || !header(req, "Origin"))
        return false;
    req->route_label = "cors";
    req->is_preflight = true;
    if (allowed_origin(req)) {
        memset(&req->response, 0, sizeof(req->response));
        req->response.status = 204;
    } else {
        gw_respond_status(403, "cors_forbidden", "this Origin may not call enoki (GATEWAY.cors)",
                          NULL, &req->response);
    }
    req->responded = true;
    return true;
}

/* Every header of req's response but the framing ones, in nameko's order: the handler's headers,
 * then Content-Type (unless they set it). */
static void add_response_headers(struct request *req, add_header_fn add, void *ctx)
{
    struct gw_response *r = &req->response;
    for (size_t i = 0; i < r->n_headers; i++)
        add(ctx, r->headers[i].name, r->headers[i].value);
    if (r->content_type)
        add(ctx, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    if (r->allow[0])
        add(ctx, MHD_HTTP_HEADER_ALLOW, r->allow);
    if (r->location)
        add(ctx, MHD_HTTP_HEADER_LOCATION, r->location);
    if (r->retry_after) {
        char seconds[16];
        snprintf(seconds, sizeof(seconds), "%d", r->retry_after);
        add(ctx, MHD_HTTP_HEADER_RETRY_AFTER, seconds);
    }
    if (req->call_id[0])
        add(ctx, "X-Call-Id", req->call_id);
    add_cors_headers(req, add, ctx, req->is_preflight);
    if (req->http->draining || req->close_after)
        add(ctx, MHD_HTTP_HEADER_CONNECTION, "close");
}

static void add_mhd_header(void *ctx, const char *name, const char *value)
{
    if (MHD_add_response_header(ctx, name, value) != MHD_YES)
        gw_warn("http", "dropped a handler header MHD refuses: %s", name);
}

static void fast_respond(struct request *req);

/* The response of a request libmicrohttpd reads (fast_respond writes the others). */
static enum MHD_Result queue_response(struct request *req)
{
    struct gw_response *r = &req->response;
    struct MHD_Response *response;
    if (req->file_fd >= 0) {
        response = MHD_create_response_from_fd(req->file_size, req->file_fd);
        if (response)
            req->file_fd = -1; /* MHD closes it */
    } else {
        response = MHD_create_response_from_buffer(
            r->body_len, r->body, r->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
        r->body = NULL; /* MHD owns it now */
    }
    if (!response)
        return MHD_NO;
    /* libmicrohttpd reads one request per connection, the one enoki's checks have seen (the
     * sniffer, or enoki's reader): it would get later heads wrong (a Content-Length that is not a
     * number answered twice, a line starting with ':' or NUL taken for the end of the head). */
    req->close_after = true;
    add_response_headers(req, add_mhd_header, response);
    enum MHD_Result ok = MHD_queue_response(req->connection, (unsigned)r->status, response);
    MHD_destroy_response(response);
    return ok;
}

static void respond_error(struct request *req, int status, const char *message)
{
    gw_respond_error(status, message, req->call_id[0] ? req->call_id : NULL, &req->response);
    req->responded = true;
}

/* --- calls --------------------------------------------------------------------------------------
 */

static void fill_call_response(struct request *req, int status, const json_t *result,
                               const json_t *error, const char *detail);

/* For a call that could not even be published. */
static void on_call_done_now(struct request *req, int status, const char *detail)
{
    fill_call_response(req, status, NULL, NULL, detail);
    req->responded = true;
}

static void on_call_done(void *arg, int status, const json_t *result, const json_t *error,
                         const char *detail)
{
    struct request *req = arg;
    req->call = NULL;
    fill_call_response(req, status, result, error, detail);
    req->responded = true;
    if (req->fast) {
        fast_respond(req);
        return;
    }
    MHD_resume_connection(req->connection);
    gw_mhd_loop_run_soon(req->http->mhd);
}

static void fill_call_response(struct request *req, int status, const json_t *result,
                               const json_t *error, const char *detail)
{
    char target[512];
    bool http_mode = req->route && req->route->mode == GW_MODE_HTTP;
    snprintf(target, sizeof(target), "%s.%s", req->service, req->method_name);
    if (status == GW_OK && http_mode)
        gw_http_respond_result(result, &req->response);
    else if (status == GW_OK)
        gw_respond_result(result, &req->response);
    else if (http_mode)
        gw_http_respond_error(status, error, detail, target, req->timeout,
                              &req->route->expected_exceptions, &req->response);
    else
        gw_respond_call_error(status, error, detail, target, req->timeout, req->call_id,
                              req->http->config, req->generic, &req->response);
}

static const char *lookup_header(void *ctx, const char *name)
{
    return header(ctx, name);
}

/* Publishes the call and suspends the connection until it ends; or answers at once when the call
 * cannot be published. args, kwargs and context are borrowed. */
static void publish_call(struct request *req, const json_t *args, const json_t *kwargs,
                         const json_t *context)
{
    struct gw_http *http = req->http;
    if (gw_rpc_pending(http->rpc) >= (size_t)http->config->max_in_flight) {
        gw_respond_status(503, "too_busy",
                          "too many calls are waiting for their replies (GATEWAY.max_in_flight); "
                          "retry later",
                          req->call_id[0] ? req->call_id : NULL, &req->response);
        req->responded = true;
        return;
    }
    struct gw_rpc_request call = {
        .service = req->service,
        .method = req->method_name,
        .args = args,
        .kwargs = kwargs,
        .context = context,
        .timeout_s = req->timeout,
    };
    int status = gw_rpc_call(http->rpc, &call, on_call_done, req, &req->call);
    if (status != GW_OK) {
        /* Answered now, as if the call had ended at once. */
        on_call_done_now(req, status, status == GW_EBROKER ? "not connected" : "shutting down");
        return;
    }
    if (!req->fast)
        MHD_suspend_connection(req->connection);
}

static const char *content_type_of(struct request *req)
{
    return header(req, "Content-Type");
}

static void client_address(const struct request *req, char *buf, size_t len)
{
    snprintf(buf, len, "-");
    const struct sockaddr *sa = req->peer;
    if (!sa)
        return;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf,
                  (socklen_t)len);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, buf,
                  (socklen_t)len);
}

/* "host:port" of the socket the request came in on: werkzeug's host when the client sent no Host.
 */
static void server_address(const struct request *req, char *buf, size_t len)
{
    snprintf(buf, len, "localhost");
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);
    if (req->fd < 0 || getsockname(req->fd, (struct sockaddr *)&ss, &sslen) != 0)
        return;
    char ip[INET6_ADDRSTRLEN];
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)&ss;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
        snprintf(buf, len, "%s:%u", ip, ntohs(in->sin_port));
    } else if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)&ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
        snprintf(buf, len, "[%s]:%u", ip, ntohs(in6->sin6_port));
    }
}

/* http mode: kwargs = the path values and `request`, as nameko's @http hands them to a handler. */
static json_t *http_mode_kwargs(struct request *req, const char *path, const json_t *path_values,
                                const struct gw_query *query)
{
    char addr[INET6_ADDRSTRLEN];
    char server[INET6_ADDRSTRLEN + 8];
    client_address(req, addr, sizeof(addr));
    server_address(req, server, sizeof(server));
    struct gw_http_request_view view = {
        .method = req->method,
        .target = req->raw_uri,
        .path = path,
        .remote_addr = addr,
        .server = server,
        .headers = req->headers,
        .n_headers = req->n_headers,
        .query = query->params,
        .n_query = query->n,
        .body = req->body,
        .body_len = req->body_len,
    };
    json_t *kwargs = path_values ? json_deep_copy(path_values) : json_object();
    json_object_set_new(kwargs, "request", gw_http_request_object(&view));
    return kwargs;
}

/* A configured route matched: its arguments, by its mode. */
static void start_route_call(struct request *req, const struct gw_route_conf *route,
                             const char *path, const json_t *path_values)
{
    char err[512];
    req->route = route;
    req->route_label = route->rule;
    req->service = xstrdup(route->service);
    req->method_name = xstrdup(route->method);
    req->timeout = route->timeout;
    json_t *context = gw_call_context_new(req->http->config, "http", lookup_header, req,
                                          req->call_id, sizeof(req->call_id));
    /* The query string is parsed here, as werkzeug parses it, not by MHD (which keeps empty pairs
     * and cuts values at %00). */
    const char *raw_query = strchr(req->raw_uri, '?');
    struct gw_query query;
    gw_query_parse(raw_query ? raw_query + 1 : "", raw_query ? strlen(raw_query + 1) : 0, &query);
    json_t *args = NULL;
    json_t *kwargs = NULL;
    int status = GW_OK;
    if (query.n > MAX_QUERY_PARAMS) {
        snprintf(err, sizeof(err), "more than %d query parameters", MAX_QUERY_PARAMS);
        status = GW_EARGS;
    } else if (route->mode == GW_MODE_HTTP) {
        args = json_array();
        kwargs = http_mode_kwargs(req, path, path_values, &query);
    } else {
        status = gw_call_build_args(path_values, query.params, query.n, content_type_of(req),
                                    req->body, req->body_len, &args, &kwargs, err, sizeof(err));
    }
    gw_query_clear(&query);
    if (status == GW_OK)
        publish_call(req, args, kwargs, context);
    else
        respond_error(req, status, err);
    json_decref(args);
    json_decref(kwargs);
    json_decref(context);
}

/* The generic and admin routes take POST only: anything else is answered 405 here. */
static bool require_post(struct request *req, const char *url, const char *method)
{
    char message[512];
    if (strcmp(method, "POST") == 0)
        return true;
    snprintf(message, sizeof(message), "the method %s is not allowed for %s; allowed: POST", method,
             url);
    respond_error(req, GW_EMETHOD, message);
    snprintf(req->response.allow, sizeof(req->response.allow), "POST");
    return false;
}

/* POST <rpc_prefix>/<service>/<method> with {"args": [...], "kwargs": {...}}. */
static void start_generic_call(struct request *req, const char *url, const char *method)
{
    const struct gw_config *config = req->http->config;
    char message[512];
    if (gw_call_generic_target(config->rpc_prefix, url, &req->service, &req->method_name) !=
        GW_OK) {
        snprintf(message, sizeof(message),
                 "no route matches %s; the generic route is POST "
                 "%s/<service>/<method>",
                 url, config->rpc_prefix);
        respond_error(req, GW_ENOMATCH, message);
        return;
    }
    if (!require_post(req, url, method))
        return;
    if (!gw_call_exposed(config, req->service, req->method_name)) {
        snprintf(message, sizeof(message), "%s.%s is not exposed (GATEWAY.expose)", req->service,
                 req->method_name);
        respond_error(req, GW_EFORBIDDEN, message);
        return;
    }
    req->timeout = config->rpc_timeout;
    req->generic = true;
    json_t *args = NULL;
    json_t *kwargs = NULL;
    int status = gw_call_generic_args(content_type_of(req), req->body, req->body_len, &args,
                                      &kwargs, message, sizeof(message));
    if (status != GW_OK) {
        respond_error(req, status, message);
        return;
    }
    json_t *context =
        gw_call_context_new(config, "http", lookup_header, req, req->call_id, sizeof(req->call_id));
    publish_call(req, args, kwargs, context);
    json_decref(args);
    json_decref(kwargs);
    json_decref(context);
}

/* Percent-encodes path as werkzeug's url_quote(path, safe="/:|+") does: its always-safe set is the
 * unreserved characters and the sub-delimiters but "&" and "=". Returns a new string. */
static char *quote_path(const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = xmalloc(strlen(path) * 3 + 1);
    char *o = out;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~$!'()*+,;/:|", *p)) {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = '\0';
    return out;
}

static void redirect(struct request *req, const char *path)
{
    /* werkzeug's answer: an absolute URL from the Host header, the path re-quoted, the raw query
     * string kept (MapAdapter.make_redirect_url). */
    const char *host = header(req, "Host");
    const char *query = strchr(req->raw_uri, '?');
    while (*path == '/')
        path++;
    char *quoted = quote_path(path);
    char *location = xasprintf("http://%s/%s%s%s", host && *host ? host : "localhost", quoted,
                               query && query[1] ? "?" : "", query && query[1] ? query + 1 : "");
    free(quoted);
    char message[512];
    snprintf(message, sizeof(message), "the resource is at %s", location);
    gw_respond_error(GW_EREDIRECT, message, NULL, &req->response);
    req->response.location = location;
    req->responded = true;
}

/* Load balancers and Kubernetes: alive while the loop answers, ready while the broker is there. */
static void probe(struct request *req, const char *url)
{
    bool ready = strcmp(url, req->http->config->health_path) == 0 || gw_rpc_ready(req->http->rpc);
    memset(&req->response, 0, sizeof(req->response));
    if (ready) {
        req->response.status = 200;
        req->response.content_type = "application/json";
        req->response.body = xstrdup("{\"status\":\"ok\"}");
        req->response.body_len = strlen(req->response.body);
    } else {
        gw_respond_status(503, "not_ready", "the broker connection is not up", NULL,
                          &req->response);
    }
    req->responded = true;
}

/* POST <admin_prefix>/<method> with the kwargs as a JSON object: an RPC to enoki's own service
 * (GATEWAY.name), so that whichever instance holds a socket answers. */
static void start_admin_call(struct request *req, const char *url, const char *method)
{
    static const char *const methods[] = {"broadcast",   "unicast",           "subscribe",
                                          "unsubscribe", "get_subscriptions", NULL};
    const struct gw_config *config = req->http->config;
    const char *name = url + strlen(config->admin_prefix);
    char message[512];
    bool known = false;
    for (size_t i = 0; *name == '/' && methods[i]; i++)
        known = known || strcmp(name + 1, methods[i]) == 0;
    if (!known) {
        snprintf(message, sizeof(message),
                 "no route matches %s; the hub's methods are POST "
                 "%s/broadcast, unicast, subscribe, unsubscribe and get_subscriptions",
                 url, config->admin_prefix);
        respond_error(req, GW_ENOMATCH, message);
        return;
    }
    if (!require_post(req, url, method))
        return;
    json_t *args = NULL, *kwargs = NULL;
    int status = gw_call_build_args(NULL, NULL, 0, content_type_of(req), req->body, req->body_len,
                                    &args, &kwargs, message, sizeof(message));
    if (status != GW_OK) {
        respond_error(req, status, message);
        return;
    }
    req->service = xstrdup(config->name);
    req->method_name = xstrdup(name + 1);
    req->timeout = config->rpc_timeout;
    req->generic = true;
    json_t *context =
        gw_call_context_new(config, "http", lookup_header, req, req->call_id, sizeof(req->call_id));
    publish_call(req, args, kwargs, context);
    json_decref(args);
    json_decref(kwargs);
    json_decref(context);
}

static const char *media_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".js", "application/javascript; charset=utf-8"},
        {".mjs", "application/javascript; charset=utf-8"},
        {".html", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".txt", "text/plain; charset=utf-8"},
        {".md", "text/markdown; charset=utf-8"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcasecmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

/* A static file's validators: an ETag from its size and time, and Last-Modified. */
static void add_validators(struct gw_response *r, const struct stat *st)
{
    char etag[64], date[64];
    struct tm tm;
    snprintf(etag, sizeof(etag), "\"%llx-%llx\"", (unsigned long long)st->st_size,
             (unsigned long long)st->st_mtime);
    gmtime_r(&st->st_mtime, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    gw_response_add_header(r, "ETag", etag);
    gw_response_add_header(r, "Last-Modified", date);
}

/* A conditional GET the client's copy satisfies: then a 304 is ready in req->response. */
static bool not_modified(struct request *req, const struct stat *st)
{
    const char *none_match = header(req, "If-None-Match");
    const char *since = header(req, "If-Modified-Since");
    struct gw_response probe = {0};
    add_validators(&probe, st);
    bool fresh = false;
    if (none_match) {
        /* If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2). */
        fresh = strcmp(none_match, "*") == 0 || strstr(none_match, probe.headers[0].value);
    } else if (since) {
        struct tm tm = {0};
        const char *end = strptime(since, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        fresh = end && !*end && timegm(&tm) >= st->st_mtime;
    }
    if (!fresh) {
        gw_response_clear(&probe);
        return false;
    }
    memset(&req->response, 0, sizeof(req->response));
    req->response = probe;
    req->response.status = 304;
    return true;
}

/* GET /static/<name>: a file of GATEWAY.static_dir, never anything outside it. The file is sent
 * from its descriptor, never read into memory: a client that asks for a big file and never reads
 * it costs a descriptor, not the file's size. */
static void serve_static(struct request *req, const char *method, const char *name)
{
    char message[512];
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        respond_error(req, GW_EMETHOD, "static files answer GET and HEAD");
        snprintf(req->response.allow, sizeof(req->response.allow), "GET, HEAD");
        return;
    }
    /* No hidden files, no "..", no absolute names: then no way out but a symlink, checked below. */
    bool bad = !*name || *name == '/' || strstr(name, "/.") || *name == '.' || strstr(name, "//");
    char *dir = NULL, *file = NULL;
    int fd = -1;
    char *path = xasprintf("%s/%s", req->http->config->static_dir, name);
    if (!bad) {
        dir = realpath(req->http->config->static_dir, NULL);
        file = realpath(path, NULL);
        bad = !dir || !file || strncmp(file, dir, strlen(dir)) != 0 || file[strlen(dir)] != '/';
    }
    struct stat st;
    if (!bad)
        fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    /* The descriptor's own stat: the file that is sent is the file that was checked. */
    if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
        close(fd);
        fd = -1;
    }
    if (fd < 0) {
        snprintf(message, sizeof(message), "no static file %s", name);
        respond_error(req, GW_ENOMATCH, message);
    } else if (not_modified(req, &st)) {
        close(fd);
        req->responded = true;
    } else {
        memset(&req->response, 0, sizeof(req->response));
        req->response.status = 200;
        req->response.content_type = media_type(name);
        req->responded = true;
        req->file_fd = fd;
        req->file_size = (uint64_t)st.st_size;
        add_validators(&req->response, &st);
    }
    free(path);
    free(dir);
    free(file);
}

static void route_request(struct request *req, const char *method)
{
    if (req->head_too_large) {
        char message[128];
        snprintf(message, sizeof(message),
                 "the request head is larger than %d bytes (GATEWAY.max_header)",
                 req->http->config->max_header);
        gw_respond_status(431, "header_too_large", message, NULL, &req->response);
        req->responded = true;
        return;
    }
    if (req->body_too_large) {
        char message[128];
        snprintf(message, sizeof(message), "the body is larger than %d bytes (GATEWAY.max_body)",
                 req->http->config->max_body);
        gw_respond_status(413, "body_too_large", message, NULL, &req->response);
        req->responded = true;
        return;
    }
    /* The path is decoded here from the raw target, not taken from MHD: MHD's is a C string, cut at
     * %00, and keeps ill-formed UTF-8 that werkzeug would have replaced. */
    char err[256];
    char *url = NULL;
    if (gw_call_decode_path(req->raw_uri, strcspn(req->raw_uri, "?"), &url, err, sizeof(err)) !=
        GW_OK) {
        respond_error(req, GW_EARGS, err);
        return;
    }
    const struct gw_config *config = req->http->config;
    if (strcmp(url, config->metrics_path) == 0 && req->http->metrics) {
        req->route_label = "metrics";
        memset(&req->response, 0, sizeof(req->response));
        req->response.status = 200;
        req->response.content_type = "text/plain; version=0.0.4; charset=utf-8";
        req->response.body = gw_metrics_render(req->http->metrics, &req->response.body_len);
        req->responded = true;
        free(url);
        return;
    }
    if (strcmp(url, config->health_path) == 0 || strcmp(url, config->ready_path) == 0) {
        req->route_label = "probe";
        probe(req, url);
        free(url);
        return;
    }
    if (strcmp(url, config->websocket_path) == 0) {
        /* The sniffer sends upgrades to the hub: this one did not ask for one. */
        gw_respond_status(400, "bad_request",
                          "this path is the websocket hub: send an Upgrade: websocket request",
                          NULL, &req->response);
        req->responded = true;
        free(url);
        return;
    }
    if (strncmp(url, "/static/", 8) == 0) {
        req->route_label = "static";
        serve_static(req, method, url + 8);
        free(url);
        return;
    }
    if (config->admin_prefix && gw_call_under_prefix(config->admin_prefix, url)) {
        req->route_label = "admin";
        start_admin_call(req, url, method);
        free(url);
        return;
    }
    if (config->expose.n > 0 && gw_call_under_prefix(config->rpc_prefix, url)) {
        req->route_label = "generic";
        start_generic_call(req, url, method);
        free(url);
        return;
    }
    struct gw_route_match match = {0};
    int status = gw_route_table_match(req->http->table, method, url, &match);
    char message[512];
    switch (status) {
    case GW_OK:
        start_route_call(req, match.target, url, match.values);
        break;
    case GW_EMETHOD:
        snprintf(message, sizeof(message), "the method %s is not allowed for %s; allowed: %s",
                 method, url, match.allow);
        respond_error(req, status, message);
        snprintf(req->response.allow, sizeof(req->response.allow), "%s", match.allow);
        break;
    case GW_EREDIRECT:
        redirect(req, match.redirect);
        break;
    default:
        snprintf(message, sizeof(message), "no route matches %s", url);
        respond_error(req, GW_ENOMATCH, message);
        break;
    }
    gw_route_match_clear(&match);
    free(url);
}

/* --- MHD callbacks ------------------------------------------------------------------------------
 */

static void finish_request(struct request *req, bool client_gone);

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *connection)
{
    struct gw_http *http = cls;
    struct request *req = xcalloc(1, sizeof(*req));
    req->http = http;
    req->connection = connection;
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    req->peer = info ? info->client_addr : NULL;
    info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    req->fd = info ? info->connect_fd : -1;
    req->raw_uri = xstrdup(uri ? uri : "");
    req->uri_at = uri;
    req->file_fd = -1;
    req->start_ns = now_ns();
    req->mhd_conn = gw_mhd_loop_conn_of(connection);
    struct request *orphan = gw_mhd_conn_request_started(req->mhd_conn, req);
    if (orphan)
        finish_request(orphan, true);
    return req;
}

/* What a request's head says about its size and its body's framing: one walk over the headers. */
struct framing {
    struct request *req; /* gets every field */
    size_t head_bytes;   /* the target and every header line */
    int content_lengths, transfer_encodings;
    const char *content_length; /* the first */
    const char *transfer_encoding;
    bool conflict; /* Content-Length values that differ */
};

static enum MHD_Result collect_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                       const char *value)
{
    (void)kind;
    struct framing *f = cls;
    value = value ? value : "";
    add_field(f->req, key, value);
    f->head_bytes += strlen(key) + strlen(value) + 4; /* ": " and CRLF */
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        if (f->content_lengths++ == 0)
            f->content_length = value;
        else if (strcmp(f->content_length, value) != 0)
            f->conflict = true;
    } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->transfer_encodings++;
        f->transfer_encoding = value;
    }
    return MHD_YES;
}

/* The final coding of a Transfer-Encoding list is chunked. */
static bool ends_chunked(const char *te)
{
    size_t n = strlen(te);
    while (n > 0 && (te[n - 1] == ' ' || te[n - 1] == '\t'))
        n--;
    return n >= 7 && strncasecmp(te + n - 7, "chunked", 7) == 0 &&
           (n == 7 || te[n - 8] == ',' || te[n - 8] == ' ' || te[n - 8] == '\t');
}

static bool refuse(struct request *req, int status, const char *code, const char *message)
{
    gw_respond_status(status, code, message, NULL, &req->response);
    req->responded = true;
    req->close_after = true;
    return true;
}

/* Requests whose framing is ambiguous, and bodies enoki would refuse anyway, are answered at the
 * access handler's first call, before any body is read, and the connection is closed after the
 * answer (RFC 9112 6.1 and 6.3: after such a request nothing on the connection can be trusted).
 * libmicrohttpd 0.9.75 would take the first Content-Length of several, read a body of unknown
 * length until the client closes, and keep the connection open after both Transfer-Encoding and
 * Content-Length. Returns true when a response is ready. */
static bool refuse_early(struct request *req, const char *version, const struct framing *f)
{
    /* Trap: MHD 0.9.75 hands the target on as a C string, so a raw NUL byte cuts it short ("/a\0/b"
     * would be routed as "/a"). The target and the version both point into MHD's copy of the
     * request line, the version right after the target's end and one space: a target string
     * shorter than that holds a NUL. The sniffer refuses it on a connection's first request; this
     * catches it on the later ones of a kept-alive connection. */
    uintptr_t at = (uintptr_t)req->uri_at, ver = (uintptr_t)version;
    size_t pool = (size_t)req->http->config->max_header + 8192;
    if (at && ver > at && ver - at <= pool && ver - at - 1 > strlen(req->raw_uri))
        return refuse(req, 400, "bad_request", "the request target holds a NUL byte");
    if (f->transfer_encodings && f->content_lengths)
        return refuse(req, 400, "bad_request",
                      "a request may not have both Transfer-Encoding and Content-Length");
    if (f->transfer_encodings > 1 || (f->transfer_encodings && !ends_chunked(f->transfer_encoding)))
        return refuse(req, 400, "bad_request",
                      "the body's length is unknown: send one Transfer-Encoding, and end it with "
                      "chunked");
    if (f->transfer_encodings && strcasecmp(f->transfer_encoding, "chunked") != 0)
        return refuse(req, 501, "not_implemented", "enoki reads no transfer coding but chunked");
    if (f->conflict)
        return refuse(req, 400, "bad_request", "the request has different Content-Length values");
    /* Digits only: MHD has checked the first one. */
    if (f->content_lengths &&
        strtoull(f->content_length, NULL, 10) > (unsigned long long)req->http->config->max_body) {
        char message[128];
        snprintf(message, sizeof(message), "the body is larger than %d bytes (GATEWAY.max_body)",
                 req->http->config->max_body);
        return refuse(req, 413, "body_too_large", message);
    }
    return false;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *connection, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    (void)cls;
    (void)url; /* decoded from the raw target instead, see route_request */
    struct request *req = *con_cls;
    if (gw_mhd_conn_killed(req->mhd_conn))
        return MHD_NO; /* answered by the guard: libmicrohttpd closes the connection */
    if (!req->seen) {
        /* In flight from here: its head is complete (one still arriving does not hold a stop). */
        req->http->in_flight++;
        req->counted = true;
        snprintf(req->method, sizeof(req->method), "%s", method);
        struct framing framing = {.req = req, .head_bytes = strlen(req->raw_uri)};
        MHD_get_connection_values(connection, MHD_HEADER_KIND, collect_framing, &framing);
        req->head_too_large = framing.head_bytes > (size_t)req->http->config->max_header;
        req->seen = true;
        gw_mhd_conn_head_received(req->mhd_conn);
        /* A refusal closes the connection: MHD then drops the body, whatever it was. */
        if (refuse_early(req, version, &framing))
            return queue_response(req);
        /* Trap: queueing a response on the first call breaks keep-alive bodies (100-continue). */
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (req->body_too_large || req->body_len + n > (size_t)req->http->config->max_body) {
            req->body_too_large = true;
            return MHD_YES;
        }
        if (req->body_len + n + 1 > req->body_cap) {
            req->body_cap = (req->body_len + n + 1) * 2;
            req->body = xrealloc(req->body, req->body_cap);
        }
        memcpy(req->body + req->body_len, upload_data, n);
        req->body_len += n;
        req->body[req->body_len] = '\0';
        return MHD_YES;
    }
    if (!req->started) {
        req->started = true;
        gw_mhd_conn_request_received(req->mhd_conn);
        if (!preflight(req))
            route_request(req, method);
    }
    if (req->responded)
        return queue_response(req);
    return MHD_YES; /* suspended until the call ends */
}

/* The end of a request, answered or not: counted, logged and freed. */
static void finish_request(struct request *req, bool client_gone)
{
    struct gw_http *http = req->http;
    if (req->call) {
        /* The client went away before the reply: the reply will find nothing and be dropped. */
        gw_rpc_cancel(req->call);
        req->call = NULL;
    }
    char addr[INET6_ADDRSTRLEN];
    client_address(req, addr, sizeof(addr));
    size_t path_len = strcspn(req->raw_uri, "?");
    double ms = (double)(now_ns() - req->start_ns) / 1e6;
    if (http->metrics && req->response.status)
        gw_metrics_request(http->metrics, req->route_label ? req->route_label : "",
                           req->response.status);
    /* The path without its query string: queries may carry secrets. */
    struct gw_access access = {
        .remote = addr,
        .method = req->method[0] ? req->method : "-",
        .path = req->raw_uri,
        .path_len = path_len,
        .status = req->response.status,
        .duration_ms = ms,
        .call_id = req->call_id[0] ? req->call_id : NULL,
        .client_gone = client_gone,
    };
    gw_log_access(&access);
    bool counted = req->counted;
    if (req->file_fd >= 0)
        close(req->file_fd);
    gw_response_clear(&req->response);
    free(req->service);
    free(req->method_name);
    free(req->body);
    free(req->raw_uri);
    free(req->headers);
    free(req);
    if (counted)
        http->in_flight--;
}

static void on_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)connection;
    struct request *req = *con_cls;
    if (!req)
        return;
    *con_cls = NULL;
    if (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED && !gw_mhd_conn_killed(req->mhd_conn))
        gw_metrics_connection_killed(req->http->metrics,
                                     req->responded ? "write_timeout" : "request_timeout");
    gw_mhd_conn_request_ended(req->mhd_conn);
    finish_request(req, toe != MHD_REQUEST_TERMINATED_COMPLETED_OK);
}

static void on_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct gw_http *http = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        http->connections++;
        *socket_context = gw_mhd_loop_conn_started(http->mhd, connection);
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        http->connections--;
        struct request *orphan = gw_mhd_loop_conn_closed(*socket_context);
        *socket_context = NULL;
        if (orphan)
            finish_request(orphan, true);
    }
}

/* The guard of gateway/mhd_loop.h kills a connection. A request stuck in libmicrohttpd is answered
 * here (libmicrohttpd never will) and logged with that answer when it ends; one that arrives too
 * slowly is closed without an answer, as enoki's own reader and libmicrohttpd's idle timeout do. */
static void on_mhd_kill(void *arg, int fd, void *request, enum gw_mhd_kill_reason reason)
{
    struct gw_http *http = arg;
    struct request *req = request;
    static const char *const reasons[] = {[GW_MHD_STALLED] = "stalled",
                                          [GW_MHD_HEAD_TOO_SLOW] = "header_timeout",
                                          [GW_MHD_TOO_SLOW] = "request_timeout",
                                          [GW_MHD_ABANDONED] = "abandoned"};
    gw_metrics_connection_killed(http->metrics, reasons[reason]);
    if (reason != GW_MHD_STALLED)
        return;
    if (!req || req->responded)
        return;
    char message[192];
    if (req->seen && header(req, "Transfer-Encoding"))
        snprintf(message, sizeof(message),
                 "the chunked body cannot be read: a chunk-size line with its extensions is longer "
                 "than the %d bytes a request may buffer (GATEWAY.max_header + 8192)",
                 http->config->max_header + 8192);
    else
        snprintf(message, sizeof(message), "the request cannot be read: it makes no progress");
    struct gw_sniff_refusal refusal = {.status = 400, .error = "bad_request", .message = message};
    gw_respond_status(refusal.status, refusal.error, message, NULL, &req->response);
    req->responded = true;
    gw_sniff_refuse(fd, &refusal);
}

/* A request read by libmicrohttpd must arrive whole within GATEWAY.idle_timeout, its head within
 * header_timeout, however slowly its bytes trickle in (enoki's own reader has the same bounds). */
static struct gw_mhd_deadlines mhd_deadlines(const struct gw_config *config)
{
    return (struct gw_mhd_deadlines){.head_ms = (uint64_t)config->header_timeout * 1000,
                                     .request_ms = (uint64_t)config->idle_timeout * 1000};
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof(line), fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    gw_debug("mhd", "%s", line);
}

/* --- the common request, read by enoki itself ---------------------------------------------------
 *
 * libmicrohttpd answers later only by suspending a connection: two epoll_ctl, a read that finds
 * nothing and a spurious wakeup per request, about a third of enoki's system calls under load.
 * A complete, well-formed HTTP/1.1 request (core/h1.h says which) is read here instead, on a
 * connection that stays in the loop's poll set while its call runs. The first request that is
 * anything else hands the connection over to libmicrohttpd before a byte of it is read: requests
 * are only peeked at until they are known to be enoki's. */

enum { FAST_BUF = 16384 };

struct fast_conn {
    struct gw_http *http;
    struct fast_conn *prev, *next; /* http->fast */
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
    struct request *req;   /* being served, or NULL */
    struct gw_strbuf head; /* the response head being written */
    size_t sent;           /* of the head and the body */
    off_t file_sent;       /* of a static file */
    bool close_after;      /* "Connection: close": close once the response is out */
    size_t waited_for;     /* bytes of an incomplete head seen (SO_RCVLOWAT is past them), or 0 */
    bool lingering;        /* a refused request was answered: waiting for the client to close */
    char buf[FAST_BUF];    /* the request being served: its fields point here */
};

static void fast_read(struct fast_conn *c);
static void fast_write(struct fast_conn *c);

/* libmicrohttpd takes fd (and closes it, also when it cannot take it). */
static void mhd_take(struct gw_http *http, int fd, const struct sockaddr *addr, socklen_t len)
{
    if (MHD_add_connection(http->daemon, fd, addr, len) != MHD_YES)
        gw_warn("http", "cannot take a connection over");
    gw_mhd_loop_run_soon(http->mhd);
}

static void on_fast_closed(uv_handle_t *handle)
{
    struct fast_conn *c = handle->data;
    if (--c->handles_open == 0) {
        free(c->head.data);
        free(c);
    }
}

/* Stops watching c; its fd is closed unless keep_fd (handed over). */
static void fast_release(struct fast_conn *c, bool keep_fd)
{
    struct gw_http *http = c->http;
    if (c->prev)
        c->prev->next = c->next;
    else
        http->fast = c->next;
    if (c->next)
        c->next->prev = c->prev;
    http->connections--;
    uv_close((uv_handle_t *)&c->poll, on_fast_closed);
    uv_close((uv_handle_t *)&c->idle, on_fast_closed);
    if (!keep_fd)
        close(c->fd);
}

/* Closes c; a request still being served ends as "client gone". */
static void fast_close(struct fast_conn *c)
{
    if (c->req) {
        struct request *req = c->req;
        c->req = NULL;
        finish_request(req, true);
    }
    fast_release(c, false);
}

static void fast_watch(struct fast_conn *c, int events);

/* The next request of c is not enoki's to read: libmicrohttpd takes the connection, with that
 * request still unread in the socket. */
static void fast_hand_over(struct fast_conn *c)
{
    struct gw_http *http = c->http;
    int fd = c->fd;
    struct sockaddr_storage peer = c->peer;
    socklen_t peer_len = c->peer_len;
    gw_debug("http", "a request enoki does not read itself: the connection goes to libmicrohttpd");
    fast_release(c, true);
    mhd_take(http, fd, (const struct sockaddr *)&peer, peer_len);
}

static void on_fast_idle(uv_timer_t *timer)
{
    struct fast_conn *c = timer->data;
    /* The first head is due by header_timeout, as the sniffer's; after it, idle_timeout. */
    bool first = !c->served && !c->req;
    uint64_t timeout =
        (uint64_t)(first ? c->http->config->header_timeout : c->http->config->idle_timeout) * 1000;
    uint64_t now = uv_now(c->http->loop);
    /* A call's wait is bounded by its own deadline, not by idle_timeout. */
    if (c->req && !(c->events & UV_WRITABLE))
        c->active_ms = now;
    if (now - c->active_ms < timeout) {
        uv_timer_start(&c->idle, on_fast_idle, c->active_ms + timeout - now, 0);
        return;
    }
    /* Idle between requests is no fault; a request that stopped arriving, or a response the
     * client stopped reading, is. */
    if (c->req)
        gw_metrics_connection_killed(c->http->metrics, "write_timeout");
    else if (c->waited_for || first)
        gw_metrics_connection_killed(c->http->metrics,
                                     first ? "header_timeout" : "request_timeout");
    fast_close(c);
}

static void on_fast_linger_end(uv_timer_t *timer)
{
    fast_release(timer->data, false);
}

/* A head that libmicrohttpd would get wrong (gw_sniff_check): answered as the sniffer answers it on
 * a connection's first request, and the connection closed once the client has read it. */
static void fast_refuse(struct fast_conn *c, const struct gw_sniff_refusal *refusal)
{
    gw_sniff_refuse(c->fd, refusal);
    c->lingering = true;
    fast_watch(c, UV_READABLE);
    uv_timer_start(&c->idle, on_fast_linger_end, GW_SNIFF_LINGER_MS, 0);
}

static void on_fast_poll(uv_poll_t *poll, int status, int events)
{
    struct fast_conn *c = poll->data;
    if (c->lingering) {
        if (gw_sniff_linger(c->fd, status))
            fast_release(c, false);
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
        uv_poll_start(&c->poll, events, on_fast_poll);
    else
        uv_poll_stop(&c->poll);
}

static void fast_done(struct fast_conn *c, bool client_gone)
{
    struct request *req = c->req;
    c->req = NULL;
    c->served = true;
    finish_request(req, client_gone);
    if (client_gone || c->close_after) {
        /* The client is told "close": what it sent after is dropped, as libmicrohttpd does. */
        shutdown(c->fd, SHUT_WR);
        fast_release(c, false);
        return;
    }
    fast_watch(c, UV_READABLE);
    c->active_ms = uv_now(c->http->loop);
}

static void fast_write(struct fast_conn *c)
{
    struct request *req = c->req;
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
            fast_done(c, true);
            return;
        }
        c->sent += (size_t)w;
        c->active_ms = uv_now(c->http->loop);
    }
    while (req->file_fd >= 0 && (uint64_t)c->file_sent < req->file_size) {
        ssize_t w = sendfile(c->fd, req->file_fd, &c->file_sent,
                             (size_t)(req->file_size - (uint64_t)c->file_sent));
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            goto wait;
        if (w <= 0) {
            fast_done(c, true); /* gone, or the file shrank under us */
            return;
        }
        c->active_ms = uv_now(c->http->loop);
    }
    fast_done(c, false);
    return;
wait:
    /* A client that does not read gets GATEWAY.idle_timeout, as with libmicrohttpd. */
    fast_watch(c, UV_WRITABLE);
}

struct head_writer {
    struct gw_strbuf *out;
    bool has_date, has_connection, says_close;
};

static enum MHD_Result write_field(void *cls, enum MHD_ValueKind kind, const char *name,
                                   const char *value)
{
    (void)kind;
    struct head_writer *w = cls;
    gw_strbuf_adds(w->out, name);
    gw_strbuf_add(w->out, ": ", 2);
    gw_strbuf_adds(w->out, value);
    gw_strbuf_add(w->out, "\r\n", 2);
    return MHD_YES;
}

static enum MHD_Result look_at_field(void *cls, enum MHD_ValueKind kind, const char *name,
                                     const char *value)
{
    (void)kind;
    struct head_writer *w = cls;
    if (strcasecmp(name, MHD_HTTP_HEADER_DATE) == 0)
        w->has_date = true;
    if (strcasecmp(name, MHD_HTTP_HEADER_CONNECTION) == 0) {
        w->has_connection = true;
        for (const char *v = value; *v && !w->says_close; v++)
            w->says_close = strncasecmp(v, "close", 5) == 0;
    }
    return MHD_YES;
}

/* req's response as libmicrohttpd writes it: status line, Date, Connection when the client asked
 * to close, the response's headers (those MHD_add_response_header accepts, so the same ones), and
 * Content-Length, except for 1xx, 204 and 304. */
static void fast_respond(struct request *req)
{
    struct fast_conn *c = req->fast;
    struct gw_http *http = req->http;
    struct gw_response *r = &req->response;
    struct MHD_Response *fields = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    add_response_headers(req, add_mhd_header, fields);
    struct head_writer w = {.out = &c->head};
    MHD_get_response_headers(fields, look_at_field, &w);
    c->head.len = 0;
    char line[96];
    /* libmicrohttpd's words for a code it has none for. */
    const char *reason = MHD_get_reason_phrase_len_for((unsigned)r->status)
                             ? MHD_get_reason_phrase_for((unsigned)r->status)
                             : "Non-Standard Status";
    int n = snprintf(line, sizeof(line), "HTTP/1.1 %d %s\r\n", r->status, reason);
    gw_strbuf_add(&c->head, line, (size_t)n);
    if (!w.has_date) {
        time_t now = time(NULL);
        if (now != http->date_at) {
            http->date_at = now;
            gw_h1_date((int64_t)now, http->date, sizeof(http->date));
        }
        gw_strbuf_adds(&c->head, "Date: ");
        gw_strbuf_adds(&c->head, http->date);
        gw_strbuf_add(&c->head, "\r\n", 2);
    }
    if (c->close_after && !w.has_connection)
        gw_strbuf_adds(&c->head, "Connection: close\r\n");
    c->close_after = c->close_after || w.says_close;
    MHD_get_response_headers(fields, write_field, &w);
    MHD_destroy_response(fields);
    /* As libmicrohttpd 0.9.75 does: 1xx and 204 have neither a Content-Length nor a body; 304
     * has the length of the body it does not send. */
    if (r->status >= 200 && r->status != 204) {
        n = snprintf(line, sizeof(line), "Content-Length: %llu\r\n",
                     (unsigned long long)(req->file_fd >= 0 ? req->file_size : r->body_len));
        gw_strbuf_add(&c->head, line, (size_t)n);
    }
    gw_strbuf_add(&c->head, "\r\n", 2);
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

/* Reads the request at the head of c's socket, if it is enoki's to read. */
static void fast_read(struct fast_conn *c)
{
    struct gw_http *http = c->http;
    /* Peeked as far as libmicrohttpd would read a head, so that a head it would get wrong is
     * seen whole (gw_sniff_check); enoki reads only requests that fit in c->buf. */
    size_t peek_len = (size_t)http->config->max_header + 8192 + 1;
    if (http->peek_cap < peek_len) {
        http->peek = xrealloc(http->peek, peek_len);
        http->peek_cap = peek_len;
    }
    char *peek = http->peek;
    ssize_t n = recv(c->fd, peek, peek_len, MSG_PEEK);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) {
        fast_close(c); /* closed by the client between requests, or broken */
        return;
    }
    struct gw_h1_request h;
    bool ours = gw_h1_parse(peek, (size_t)n, (size_t)http->config->max_header,
                            (size_t)http->config->max_body, &h) == GW_H1_READY &&
                h.head_len + h.content_length <= sizeof(c->buf);
    if (!ours) {
        /* libmicrohttpd reads it, unless it would get its head wrong; that is judged on the
         * whole head, so an incomplete one is waited for (SO_RCVLOWAT: no wakeup before more has
         * come). No progress since the last look means the client has stopped sending. */
        struct gw_sniff_refusal refusal;
        if (gw_sniff_check(peek, (size_t)n, GW_SNIFF_HTTP, &refusal)) {
            fast_refuse(c, &refusal);
            return;
        }
        if (refusal.head_len == 0 && (size_t)n < peek_len && (size_t)n > c->waited_for &&
            gw_sniff_set_lowat(c->fd, (int)n + 1) == 0) {
            c->waited_for = (size_t)n;
            return;
        }
    }
    if (c->waited_for) {
        gw_sniff_set_lowat(c->fd, 1); /* the kernel's default, which libmicrohttpd expects too */
        c->waited_for = 0;
    }
    if (!ours) {
        fast_hand_over(c);
        return;
    }
    size_t total = h.head_len + h.content_length;
    if (recv(c->fd, c->buf, total, 0) != (ssize_t)total) {
        fast_close(c); /* cannot happen: the bytes were there */
        return;
    }
    struct request *req = xcalloc(1, sizeof(*req));
    req->http = http;
    req->fast = c;
    req->peer = (const struct sockaddr *)&c->peer;
    req->fd = c->fd;
    req->file_fd = -1;
    req->start_ns = now_ns();
    c->req = req;
    c->close_after = h.close;
    /* The fields point into the peek; the same bytes are now in c->buf, where they become C
     * strings in place: each ends where its ':' or CR was. */
    char *target = c->buf + (h.target - peek);
    target[h.target_len] = '\0';
    req->raw_uri = xstrdup(target);
    memcpy(req->method, h.method, h.method_len);
    req->method[h.method_len] = '\0';
    for (size_t i = 0; i < h.n_headers; i++) {
        char *name = c->buf + (h.headers[i].name - peek);
        char *value = c->buf + (h.headers[i].value - peek);
        name[h.headers[i].name_len] = '\0';
        value[h.headers[i].value_len] = '\0';
        add_field(req, name, value);
    }
    if (h.content_length) {
        req->body = xmalloc(h.content_length + 1);
        memcpy(req->body, c->buf + h.head_len, h.content_length);
        req->body[h.content_length] = '\0';
        req->body_len = h.content_length;
    }
    http->in_flight++;
    req->counted = true;
    if (!preflight(req))
        route_request(req, req->method);
    if (req->responded)
        fast_respond(req);
}

static void fast_start(struct gw_http *http, int fd, const struct sockaddr *addr, socklen_t len)
{
    struct fast_conn *c = xcalloc(1, sizeof(*c));
    c->http = http;
    c->fd = fd;
    if (len > sizeof(c->peer))
        len = sizeof(c->peer);
    memcpy(&c->peer, addr, len);
    c->peer_len = len;
    int err = uv_poll_init(http->loop, &c->poll, fd);
    if (err) {
        /* Not expected (the sniffer's poll has let go of fd): libmicrohttpd reads it, as before. */
        gw_warn("http", "cannot watch a connection (%s): libmicrohttpd takes it", uv_strerror(err));
        free(c);
        mhd_take(http, fd, addr, len);
        return;
    }
    uv_timer_init(http->loop, &c->idle);
    c->poll.data = c->idle.data = c;
    c->handles_open = 2;
    c->next = http->fast;
    if (c->next)
        c->next->prev = c;
    http->fast = c;
    http->connections++;
    fast_watch(c, UV_READABLE);
    c->active_ms = uv_now(http->loop);
    /* The first of the two deadlines on_fast_idle keeps: the first head's and idle_timeout. */
    int first = http->config->header_timeout < http->config->idle_timeout
                    ? http->config->header_timeout
                    : http->config->idle_timeout;
    uv_timer_start(&c->idle, on_fast_idle, (uint64_t)first * 1000, 0);
    fast_read(c); /* the sniffer has seen the first head arrive */
}

/* --- the server ---------------------------------------------------------------------------------
 */

struct gw_http *gw_http_new(uv_loop_t *loop, const struct gw_config *config,
                            const struct gw_route_table *table, struct gw_rpc *rpc, char *err,
                            size_t errlen)
{
    struct gw_http *http = xcalloc(1, sizeof(*http));
    http->loop = loop;
    http->config = config;
    http->table = table;
    http->rpc = rpc;
    http->daemon = MHD_start_daemon(
        MHD_USE_NO_LISTEN_SOCKET | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0,
        NULL, NULL, on_access, http, MHD_OPTION_URI_LOG_CALLBACK, on_uri, http,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, http, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log,
        http, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)config->idle_timeout,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, http,
        /* The memory pool holds the request head: a bigger head is refused (431). */
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)config->max_header + 8192, MHD_OPTION_END);
    if (!http->daemon) {
        snprintf(err, errlen, "cannot start libmicrohttpd");
        free(http);
        return NULL;
    }
    http->mhd = gw_mhd_loop_new(loop, http->daemon, mhd_deadlines(config), on_mhd_kill, http);
    return http;
}

void gw_http_add_connection(struct gw_http *http, int fd, const struct sockaddr *addr,
                            socklen_t len)
{
    if (http->connections >= (size_t)http->config->max_connections) {
        /* Refused here, closed at once: MHD's own limit leaves such a request half-started. */
        gw_warn("http", "closed a connection: %d are open (GATEWAY.max_connections)",
                http->config->max_connections);
        close(fd);
        return;
    }
    fast_start(http, fd, addr, len);
}

void gw_http_reload(struct gw_http *http, const struct gw_config *config,
                    const struct gw_route_table *table)
{
    gw_mhd_loop_set_deadlines(http->mhd, mhd_deadlines(config));
    http->config = config;
    http->table = table;
}

void gw_http_set_metrics(struct gw_http *http, struct gw_metrics *metrics)
{
    http->metrics = metrics;
}

void gw_http_drain(struct gw_http *http)
{
    http->draining = true;
}

size_t gw_http_in_flight(const struct gw_http *http)
{
    return http->in_flight;
}

void gw_http_close(struct gw_http *http)
{
    if (!http)
        return;
    http->closed = true;
    while (http->fast)
        fast_close(http->fast);
    gw_mhd_loop_close(http->mhd);
    free(http->peek);
    free(http);
}
