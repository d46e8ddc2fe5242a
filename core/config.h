/* config.h - enoki's configuration: one YAML file with nameko's own keys.
 *
 * Loading is parse -> substitute -> validate -> freeze. The result is a plain, read-only record
 * that modules borrow for the life of the process (or until a reload replaces it whole). The stages
 * are modules of their own: core/yaml_parse (libyaml into a node tree, with ${VAR:default}
 * substitution from core/config_subst and YAML 1.1 types from core/yaml_scalar), then
 * core/config_schema (the tables of keys and their defaults; core/config_keys walks them,
 * core/config_routes holds routes'), with AMQP_URI parsed by core/amqp_uri.
 *
 * Top-level keys read (all others are ignored, so one file can serve nameko services too):
 *   AMQP_URI            default "pyamqp://guest:guest@localhost"; several separated by ';'
 *                       (kombu's rules, docs/nameko-wire.md §8; see core/amqp_uri.h)
 *   AMQP_SSL            true, or {ca_certs, certfile, keyfile, cert_reqs} (core/config_amqp.h)
 *   LOGIN_METHOD        PLAIN (default) or EXTERNAL
 *   WEB_SERVER_ADDRESS  default "0.0.0.0:8000"  ("host:port" or "port")
 *   rpc_exchange        default "nameko-rpc"
 *   HEARTBEAT           default 60 (seconds, 0 disables)
 *   GATEWAY:            mapping, enoki's own settings (unknown keys are errors)
 *     name             default "enoki"
 *     rpc_timeout      default 30 (seconds, > 0, may be fractional)
 *     errors           mapping exc_type -> HTTP status (100..599)
 *     context_headers  mapping HTTP header name -> context key
 *     log_level        default "info" (debug, info, warn, error)
 *     log_format       default "text" (text, json)
 *     trace_context    default true: W3C trace context (docs/trace-context.md)
 *     expose           list of globs over "service.method" (fnmatch), each a string or a mapping
 *                      {pattern, auth, scopes}; default [] = the generic route
 *                      POST <rpc_prefix>/<service>/<method> is off (core/config_policy.h)
 *     channels         list of channel patterns a socket may subscribe to, each a string or a
 *                      mapping {pattern, auth, scopes}; default [] = none (core/config_policy.h)
 *     rpc_prefix       default "/rpc": starts with '/', no trailing '/', no '<' or '>'; a route
 * under it while expose is on is an error (the generic route owns that space) websocket_path,
 * websocket_max_frame, websocket_max_sockets, websocket_send_queue, websocket_ping,
 * websocket_origins, static_dir: the hub and static files (see struct below) admin_prefix,
 * health_path, ready_path, metrics_path, status_path, cors: see the struct below max_body,
 * max_header, max_connections, delivery_mode, max_in_flight, idle_timeout, header_timeout: limits
 * (see the struct below) auth             mapping {default, cookie, websocket, claims, jwt:
 * {algorithms, jwks_file, secret, issuer, audience, leeway}}: verified bearer tokens
 *                      (core/config_auth.h)
 *     admin_scope      default "enoki:admin": the scope a token needs for admin_prefix
 *     admin_token      a static bearer token for admin_prefix (without auth.jwt)
 * routes:             list of mappings {rule, methods, rpc, timeout, mode,
 * expected_exceptions, auth, scopes, routing_key, collect, summary, description, tags,
 * request_schema, response_schema} (unknown keys are errors; expected_exceptions: list of
 * exc_type names; auth: none, optional or required; scopes: list; see core/config_routes.h)
 *
 * ${VAR:default} substitution follows nameko (docs/nameko-wire.md §8): only in plain (unquoted)
 * scalars, the result is re-parsed as YAML; the default applies only when VAR is unset; VAR set to
 * "" gives null; the default is everything after the first ':'; text around the reference is kept;
 * nesting is an error. The tags !env_var "..." (substitute, then re-parse) and !raw_env_var "..."
 * (substitute, keep a string) work on quoted scalars.
 *
 * --define KEY=VALUE sets a top-level key; VALUE is parsed as YAML (as nameko does), with
 * substitution. It replaces every entry of that key in the file before validation, so a bad file
 * value it overrides is never reported.
 *
 * Decisions the rest of the code relies on:
 *   - A null value (`key:`, `~`, or a ${VAR} that is unset or set to "") means "not given": the
 *     key keeps its default, and a required route key (rule, rpc) is reported missing.
 *   - Messages are "<file>:<line>: <key path>: <reason>", with 0-based list indexes
 *     ("routes[0].rpc", "GATEWAY.errors.KeyError"); a --define's start "--define KEY: ".
 *     YAML syntax errors are "<file>:<line>: invalid YAML: <libyaml's problem>".
 *   - A nested ${...} anywhere in a substituted scalar is an error (nameko notices one only at
 *     the start of the scalar, and otherwise produces mangled text).
 *   - Duplicate keys: the last wins, as in PyYAML. Aliases work; merge keys (<<) and timestamps
 *     are not supported (<< is an unknown key under GATEWAY: and in a route).
 *   - WEB_SERVER_ADDRESS follows nameko's ^([^:]+:)?\d+$ (no IPv6 literal), or an integer port.
 *   - amqps:// and AMQP_SSL mean TLS (core/amqp_tls); AMQP_URI's nodes (kombu's ';' list) are
 *     tried in turn (core/node_round).
 *   - A file that is empty or not a mapping is an error; a caller without a file can load "{}".
 */
#ifndef ENOKI_CONFIG_H
#define ENOKI_CONFIG_H

#include "core/amqp_uri.h"
#include "core/config_amqp.h"
#include "core/config_auth.h"
#include "core/config_keys.h"
#include "core/config_limits.h"
#include "core/config_policy.h"
#include "core/config_routes.h"
#include "core/config_services.h"
#include "core/log.h"

#include <stdbool.h>
#include <stddef.h>

/* GATEWAY.cors: which browser origins may call enoki from their pages. */
struct gw_cors {
    bool enabled;                  /* GATEWAY.cors is given */
    struct gw_string_list origins; /* allowed Origin values; "*" = any */
    struct gw_string_list methods; /* default GET, HEAD, POST, PUT, PATCH, DELETE */
    struct gw_string_list headers; /* request headers allowed; default: those the preflight asks */
    int max_age;                   /* seconds a preflight may be cached, default 600 */
    bool credentials;              /* Access-Control-Allow-Credentials */
};

struct gw_error_status {
    char *exc_type;
    int status;
};

struct gw_context_header {
    char *header; /* HTTP header name, as written */
    char *key;    /* context key, sent as nameko.<key> */
};

/* Every string and array is owned by the record, and freed with it by gw_config_free. */
struct gw_config {
    char *path; /* the file it was loaded from */

    char *amqp_uri_text;            /* as written; contains the passwords: never log it */
    struct gw_amqp_uri *amqp_nodes; /* AMQP_URI's nodes, in order (core/config_amqp.h) */
    size_t n_amqp_nodes;            /* at least 1 */
    struct gw_amqp_tls amqp_tls;    /* AMQP_SSL */
    enum gw_login_method login_method;
    int login_method_line;
    char *web_host; /* default "0.0.0.0" */
    int web_port;   /* default 8000 */
    char *rpc_exchange;
    int heartbeat;

    char *name;
    double rpc_timeout;
    enum gw_log_level log_level;   /* default GW_LOG_INFO; never GW_LOG_OFF */
    enum gw_log_format log_format; /* default GW_LOG_TEXT */
    bool trace_context;            /* W3C traceparent/tracestate read, passed on and answered
                                    * (docs/trace-context.md); default true */
    struct gw_error_status *errors;
    size_t n_errors;
    struct gw_context_header *context_headers;
    size_t n_context_headers;
    struct gw_policy_list expose;    /* globs over "service.method" callable; none = nothing */
    char *rpc_prefix;                /* the generic route's prefix, default "/rpc" */
    struct gw_policy_list channels;  /* what a socket may subscribe to; none = nothing */
    struct gw_service_list services; /* the protocol of each service listed; others: nameko */

    /* The websocket hub. */
    char *websocket_path;      /* default "/ws" */
    int websocket_max_frame;   /* bytes of one message, default 1 MiB (bigger: close 1009) */
    int websocket_max_sockets; /* default 10000 (beyond: the upgrade gets 503) */
    int websocket_send_queue;  /* bytes queued for one socket, default 1 MiB (beyond: 1008) */
    int websocket_ping;        /* seconds idle before a ping, default 30; 0 = never */
    bool websocket_deflate;    /* permessage-deflate when a client offers it; default true */
    struct gw_string_list
        websocket_origins; /* allowed Origin values, "*" = any; none = same host */
    char *static_dir;      /* served under /static/, default "static" */
    char *admin_prefix;    /* POST <prefix>/<hub method> calls enoki's own service; NULL = off */
    int admin_prefix_line; /* for messages */
    char *health_path;     /* ok while the process serves, default "/healthz" */
    char *ready_path;      /* ok only while the broker connection is up; default "/readyz" */
    char *metrics_path;    /* Prometheus text format, default "/metrics" */
    char *openapi_path; /* the OpenAPI 3.1 document of the routes (routes/openapi.h); NULL = off */
    char *docs_path;    /* a page that shows that document (docs/openapi.md); NULL = off */
    char *docs_dir;     /* the viewer's files (make viewer: build/viewer), default "viewer" */
    char *status_path;  /* the live status page and <path>/data (docs/status.md); NULL = off */
    struct gw_cors cors;

    /* Identity (core/config_auth.h); the secret and the admin token are credentials: never log
     * them. */
    struct gw_auth_conf auth;
    char *admin_scope; /* the scope a token needs for admin_prefix, default "enoki:admin" */
    char *admin_token; /* without auth.jwt, the static bearer token of admin_prefix; NULL = none */

    /* Limits. */
    int max_body;     /* bytes of a request body, default 1 MiB (refused beyond) */
    int compress_min; /* JSON and text bodies from this many bytes are gzip-coded, default 1 KiB */
    int compress_level;  /* zlib's level for them, 1-9, default 6 */
    int max_header;      /* bytes of a request head, default 16 KiB (refused beyond) */
    int max_connections; /* open HTTP connections, default 10000 (further ones are closed) */
    int delivery_mode;   /* of RPC requests: 1 transient (default), 2 persistent as nameko's */
    int max_in_flight;  /* calls waiting for replies, default 10000 (refused beyond, to retry later)
                         */
    int idle_timeout;   /* seconds a connection may stay silent, default 60 */
    int header_timeout; /* seconds to send a first request's head, default 10 (slowloris) */

    /* Idempotent retries (docs/idempotency.md): the default of routes[].idempotency (and the
     * generic route's), and the bounds of the kept responses. */
    bool idempotency;
    int idempotency_ttl;         /* seconds a key is remembered, default 86400 */
    int idempotency_max_entries; /* keys remembered, default 10000 */
    int idempotency_max_body;    /* bytes of the largest body kept, default 64 KiB */
    int idempotency_max_bytes;   /* bytes of every kept response together, default 64 MiB */
    /* Rate limits (core/config_limits.h, docs/rate_limits.md). */
    struct gw_rate_limit_list rate_limits; /* none: nothing is limited */
    struct gw_cidr_list trusted_proxies;   /* whose X-Forwarded-For is believed; none: nobody's */
    int rate_limit_keys; /* buckets kept at most, default 100000 (read at start only) */
    /* Worker processes sharing the port (docs/workers.md), default 1: no supervisor; auto: the
     * CPUs enoki may run on (workers_auto). Read at start only. */
    int workers;
    bool workers_auto;

    struct gw_route_conf *routes;
    size_t n_routes;
};

struct gw_define {
    const char *key;   /* borrowed */
    const char *value; /* borrowed, YAML text */
};

/* Loads the file at path, applies the defines (which win over the file), substitutes and validates.
 * On success returns GW_OK and a new config in *out (free with gw_config_free). On failure returns
 * a negative status, sets *out to NULL and writes into err a message that names the file, the line
 * and the key, e.g. "gateway.yaml:7: GATEWAY.rpc_timeout: expected a positive number, got 'abc'".
 */
int gw_config_load(const char *path, const struct gw_define *defines, size_t n_defines,
                   struct gw_config **out, char *err, size_t errlen);

/* Same, from a buffer; name is used in messages in place of a file name. */
int gw_config_load_string(const char *name, const char *yaml, size_t len,
                          const struct gw_define *defines, size_t n_defines, struct gw_config **out,
                          char *err, size_t errlen);

/* Frees config and everything in it; NULL is a no-op. */
void gw_config_free(struct gw_config *config);

/* Where a value that config read at line came from, for a message: "FILE:LINE", or "--define KEY"
 * when it was given with --define (line 0), key being its top-level key. The text lives in the
 * returned struct: gw_config_where(...).text is valid to the end of the full expression. */
struct gw_config_where {
    char text[1024];
};
struct gw_config_where gw_config_where(const struct gw_config *config, int line, const char *key);

#endif
