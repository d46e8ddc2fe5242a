#include "request.h"

#include "core/clock.h"
#include "core/text.h"
#include "core/xalloc.h"
#include "gateway/access_log.h"
#include "gateway/http_fast.h"
#include "gateway/http_metrics.h"
#include "gateway/idempotency.h"
#include "gateway/status_page.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

struct gw_request *gw_request_new(struct gw_http_env *env, const struct sockaddr *peer, int fd)
{
    struct gw_request *req = xcalloc(1, sizeof(*req));
    req->env = env;
    req->gen = gw_generation_ref(env->current);
    req->config = req->gen->config;
    req->peer = peer;
    req->fd = fd;
    req->file_fd = -1;
    req->start_ns = gw_now_ns();
    env->in_flight++;
    return req;
}

void gw_request_add_field(struct gw_request *req, const char *name, const char *value)
{
    if (req->n_headers == req->headers_cap) {
        req->headers_cap = req->headers_cap ? req->headers_cap * 2 : 16;
        req->headers = xrealloc(req->headers, req->headers_cap * sizeof(*req->headers));
    }
    req->headers[req->n_headers].name = name;
    req->headers[req->n_headers].value = value ? value : "";
    req->n_headers++;
}

const char *gw_request_header(const struct gw_request *req, const char *name)
{
    /* The first letters are compared first: most fields are passed over without a call. */
    unsigned char first = (unsigned char)name[0] | 0x20;
    for (size_t i = 0; i < req->n_headers; i++)
        if (((unsigned char)req->headers[i].name[0] | 0x20) == first &&
            strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

void gw_request_client_address(const struct gw_request *req, char *buf, size_t len)
{
    if (len < INET6_ADDRSTRLEN) {
        if (len > 0)
            buf[0] = '\0';
        return;
    }
    const struct sockaddr *sa = req->peer;
    if (sa && sa->sa_family == AF_INET) {
        /* Dotted decimal by hand: inet_ntop formats through printf, for every access line. */
        const unsigned char *octets =
            (const unsigned char *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
        char *at = buf;
        for (int i = 0; i < 4; i++) {
            if (i)
                *at++ = '.';
            at += gw_fmt_u64(at, octets[i]);
        }
    } else if (sa && sa->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, buf,
                  (socklen_t)len);
    } else {
        memcpy(buf, "-", 2);
    }
}

/* werkzeug's host when the client sent no Host. */
void gw_request_server_address(const struct gw_request *req, char *buf, size_t len)
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

void gw_request_response_headers(struct gw_request *req, gw_header_fn add, void *ctx)
{
    struct gw_response *r = &req->response;
    bool cors = req->config->cors.enabled;
    for (size_t i = 0; i < r->n_headers; i++) {
        const char *name = r->headers[i].name;
        /* enoki's span and CORS answer for the request: a handler's own would make a second
         * field (a browser refuses two Access-Control-Allow-Origin), or let in an Origin enoki
         * does not. */
        if ((req->trace && strcasecmp(name, "traceparent") == 0) ||
            (cors && strncasecmp(name, "Access-Control-", 15) == 0))
            continue;
        add(ctx, name, r->headers[i].value);
    }
    if (r->content_type)
        add(ctx, "Content-Type", r->content_type);
    if (r->allow[0])
        add(ctx, "Allow", r->allow);
    if (r->location)
        add(ctx, "Location", r->location);
    if (r->retry_after) {
        char seconds[16];
        snprintf(seconds, sizeof(seconds), "%d", r->retry_after);
        add(ctx, "Retry-After", seconds);
    }
    if (req->rate) { /* a value that did not fit its buffer is "": left out */
        if (req->rate->policy[0])
            add(ctx, "RateLimit-Policy", req->rate->policy);
        if (req->rate->limit[0])
            add(ctx, "RateLimit", req->rate->limit);
    }
    if (req->call_id[0])
        add(ctx, "X-Call-Id", req->call_id);
    if (req->trace) {
        char traceparent[GW_TRACEPARENT_LEN + 1];
        gw_trace_format(req->trace, traceparent);
        add(ctx, "traceparent", traceparent);
    }
    if (cors) /* else no header of the request is looked up for it */
        gw_cors_headers(&req->config->cors, gw_request_header(req, "Origin"), req->is_preflight,
                        gw_request_header(req, "Access-Control-Request-Headers"), add, ctx);
    if (req->env->draining || req->close_after)
        add(ctx, "Connection", "close");
}

void gw_request_finish(struct gw_request *req, bool client_gone)
{
    struct gw_http_env *env = req->env;
    bool detached = req->idem_entry && gw_idempotency_request_ends(req);
    if (req->call && !detached) {
        /* The client went away before the reply: the reply will find nothing and be dropped. */
        gw_rpc_cancel(req->call);
        req->call = NULL;
    }
    char addr[INET6_ADDRSTRLEN];
    gw_request_client_address(req, addr, sizeof(addr));
    uint64_t now = gw_now_ns();
    double ms = (double)(now - req->start_ns) / 1e6;
    if (env->metrics && req->response.status)
        gw_metrics_request(env->metrics, req->route_label ? req->route_label : "",
                           req->response.status);
    gw_status_page_note_http(env->status, req, now);
    /* The path without its query string: queries may carry secrets. */
    const char *uri = req->raw_uri ? req->raw_uri : "";
    struct gw_access access = {
        .remote = addr,
        .method = req->method[0] ? req->method : "-",
        .path = uri,
        .path_len = strcspn(uri, "?"),
        .status = req->response.status,
        .duration_ms = ms,
        .call_id = req->call_id[0] ? req->call_id : NULL,
        .trace_id = req->trace ? req->trace->trace_id : NULL,
        .span_id = req->trace ? req->trace->span_id : NULL,
        .client_gone = client_gone,
    };
    gw_log_access(&access);
    env->in_flight--;
    if (detached) {
        /* What the transport lent is going with it. */
        free(req->headers);
        req->headers = NULL;
        req->n_headers = req->headers_cap = 0;
        req->peer = NULL;
        req->fd = -1;
        return;
    }
    gw_request_free(req);
}

void gw_request_free(struct gw_request *req)
{
    if (req->file_fd >= 0)
        close(req->file_fd);
    gw_response_clear(&req->response);
    gw_generation_unref(req->gen);
    json_decref(req->claims);
    free(req->service);
    free(req->method_name);
    free(req->body);
    free(req->raw_uri);
    free(req->headers);
    free(req->trace);
    free(req->rate);
    free(req);
}

struct gw_h1_limits gw_http_env_limits(const struct gw_http_env *env,
                                       const struct gw_config *config)
{
    return (struct gw_h1_limits){.max_head = (size_t)config->max_header,
                                 .max_body = (size_t)config->max_body,
                                 .fast_max = GW_FAST_MAX,
                                 .websocket_path = env->websocket_path,
                                 .websocket_head_max = env->websocket_head_max,
                                 .library_head_max = env->library_head_max};
}
