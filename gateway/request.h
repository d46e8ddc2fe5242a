/* request.h - one HTTP request on its way through enoki, whichever reader took it
 * (docs/architecture.md, "One REST request, end to end").
 *
 * A transport owns the connection: enoki's own reader (gateway/http_fast.c) or libmicrohttpd
 * (gateway/http_mhd.c). It makes a gw_request from the head and the body, sets `respond`, and hands
 * it to gw_dispatch (gateway/dispatch.h). When the answer is ready at once, gw_dispatch says so and
 * the transport writes it; when a call is in flight, the call's end fills the response and calls
 * req->respond. Either way the transport calls gw_request_finish once the request is over
 * (answered, or its client gone). Nothing past the transport knows which one it was.
 */
#ifndef ENOKI_REQUEST_H
#define ENOKI_REQUEST_H

#include "core/rpc.h"
#include "gateway/generation.h"
#include "gateway/h1_parse.h"
#include "routes/auth.h"
#include "routes/cors.h"
#include "routes/http_mode.h"
#include "routes/rate_limit.h"
#include "routes/respond.h"
#include "routes/trace_context.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

struct gw_authn;
struct gw_http_metrics;
struct gw_idem_entry;
struct gw_idempotency;
struct gw_limiter;
struct gw_status_page;

/* What every request of the HTTP side shares: owned by gw_http, borrowed by requests. */
struct gw_http_env {
    uv_loop_t *loop;
    struct gw_generation *current; /* the settings new requests begin under (a reference) */
    struct gw_rpc *rpc;
    struct gw_authn *authn;          /* verifies bearer tokens (borrowed) */
    struct gw_http_metrics *metrics; /* NULL: not counted */
    struct gw_status_page *status;   /* GATEWAY.status_path's numbers; NULL: not counted */
    struct gw_idempotency *idem;     /* idempotent retries (gateway/idempotency.h); NULL: none */
    struct gw_limiter *limiter;      /* the rate limits' buckets (borrowed); NULL: no limits */
    /* A kept-alive connection's later request that upgrades to the hub's path (borrowed; NULL: no
     * hub) goes to upgrade, as the sniffer hands over a first one (gw_http_set_upgrade). */
    const char *websocket_path;
    size_t websocket_head_max; /* gw_h1_limits.websocket_head_max */
    size_t library_head_max;   /* gw_h1_limits.library_head_max: the first config's max_header */
    void (*upgrade)(void *arg, int fd, const struct sockaddr *addr, socklen_t len,
                    const struct gw_h1_head *head, const char *buf, size_t buf_len);
    void *upgrade_arg;
    bool draining;      /* every response says "Connection: close" */
    size_t in_flight;   /* requests begun and not yet finished */
    size_t connections; /* open HTTP connections, for GATEWAY.max_connections */
};

/* The limits a request head is scanned under, by the sniffer and by enoki's reader alike: config's
 * max_header and max_body, and what env holds for the process (the hub's path and head bound,
 * libmicrohttpd's buffer). */
struct gw_h1_limits gw_http_env_limits(const struct gw_http_env *env,
                                       const struct gw_config *config);

/* What a request calls, once its path is resolved (gateway/dispatch.c). */
enum gw_target {
    GW_TARGET_NONE,    /* answered while resolving (enoki's own paths, 404, 405, ...) */
    GW_TARGET_ROUTE,   /* a configured route */
    GW_TARGET_GENERIC, /* the generic route, through an expose entry */
    GW_TARGET_ADMIN,   /* enoki's own service under GATEWAY.admin_prefix */
    GW_TARGET_STATUS,  /* the status page or its JSON (GATEWAY.status_path) */
};

struct gw_request;

/* The RateLimit-Policy and RateLimit values a response carries. Apart from the request record,
 * like its span, so that the record stays under 1 KiB: malloc's thread cache serves it, where a
 * larger one took its slow path each request (bench/README.md, "the request record"). */
struct gw_rate_headers {
    char policy[512];
    char limit[GW_RATE_ITEM_LEN + 48];
};

/* The transport's writer: req->response is ready (a call has ended); send it. */
typedef void (*gw_respond_fn)(struct gw_request *req);

struct gw_request {
    struct gw_http_env *env;
    struct gw_generation *gen;      /* a reference: the settings this request runs under */
    const struct gw_config *config; /* gen's, for short */
    gw_respond_fn respond;
    void *transport; /* the transport's record of the connection */
    /* The head's fields in the order sent (the array owned; the strings borrowed from the
     * transport, valid until the request finishes). */
    struct gw_header_field *headers;
    size_t n_headers, headers_cap;
    const struct sockaddr *peer; /* borrowed, as headers */
    int fd;
    char method[16];
    char *raw_uri; /* as sent: the path still percent-encoded, with the query string (owned) */
    char *body;    /* owned, NUL-terminated; NULL when there is none */
    size_t body_len;
    bool head_too_large; /* over GATEWAY.max_header: answered 431 */
    bool body_too_large; /* over GATEWAY.max_body: answered 413 */
    bool close_after;    /* the transport closes the connection after this response */

    bool responded; /* a response is ready in .response */
    struct gw_response response;
    int file_fd; /* a static file to send instead of response.body, or -1 */
    uint64_t file_size;
    struct gw_rpc_call *call; /* in flight, or NULL */
    bool call_failed;         /* the call ended in anything but a result */
    /* What the request calls: a configured route's target, or the generic route's. */
    char *service;
    char *method_name;
    double timeout;
    bool generic;
    const struct gw_route_conf *route; /* NULL for the generic route */
    const char *route_label;           /* for metrics: the rule, or what answered */
    bool is_preflight;
    /* Who calls (the auth stage): the policy of the target, and the verified token's claims (a
     * reference) or NULL for an anonymous caller. */
    enum gw_target target;
    struct gw_auth_policy auth;
    json_t *claims;
    char call_id[160];
    uint64_t start_ns;
    /* enoki's span under GATEWAY.trace_context (the trace stage; owned, NULL when it is off): in
     * the call's context data, the response's traceparent and the access line. */
    struct gw_trace *trace;
    /* Idempotent retries (gateway/idempotency.h): the entry this request leads (its call makes
     * the entry's response) or is parked behind, and the links of the entry's parked requests. */
    struct gw_idem_entry *idem_entry;
    bool idem_lead;
    struct gw_request *idem_prev, *idem_next;
    /* The rate limits that covered it (gateway/stage_rate_limit.c; owned, NULL when none did). */
    struct gw_rate_headers *rate;
};

/* A new request on env's current generation, counted in flight. peer and the fields added later
 * are borrowed until gw_request_finish. */
struct gw_request *gw_request_new(struct gw_http_env *env, const struct sockaddr *peer, int fd);

/* Adds a field of the head, in the order sent (value NULL: ""). */
void gw_request_add_field(struct gw_request *req, const char *name, const char *value);

/* The first field called name (any case), or NULL. */
const char *gw_request_header(const struct gw_request *req, const char *name);

/* The client's address ("-" when unknown; buf of INET6_ADDRSTRLEN bytes at least) and "host:port"
 * of the socket the request came in on. */
void gw_request_client_address(const struct gw_request *req, char *buf, size_t len);
void gw_request_server_address(const struct gw_request *req, char *buf, size_t len);

/* Every header of the response but the framing ones, in nameko's order (the handler's own
 * headers, Content-Type, Allow, Location, Retry-After, X-Call-Id, traceparent, CORS, Connection:
 * close when the connection closes after it), each through add. A traced request's traceparent is
 * enoki's span: a handler's own traceparent header is left out. */
void gw_request_response_headers(struct gw_request *req, gw_header_fn add, void *ctx);

/* The end of a request, answered or not: a call still in flight is cancelled, the request is
 * counted, logged and freed. A lead of idempotent retries whose call is in flight is not cancelled
 * nor freed: it loses what it borrowed from its transport and lives on until the call ends
 * (gateway/idempotency.h). */
void gw_request_finish(struct gw_request *req, bool client_gone);

/* Frees req and what it owns, without counting or logging it (gw_request_finish's last step). */
void gw_request_free(struct gw_request *req);

#endif
