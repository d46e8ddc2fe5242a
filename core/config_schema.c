/* config_schema.c - the tables of keys: the top level, GATEWAY and GATEWAY.cors, with the appliers
 * of the keys that have rules of their own, and the record of defaults they start from.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "core/config_schema.h"

#include "core/amqp_uri.h"
#include "core/cpu_quota.h"
#include "core/status.h"
#include "core/strbuf.h"
#include "core/text.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "core/yaml_tree.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* The longest WEB_SERVER_ADDRESS port ("65535"). */
#define PORT_DIGITS_MAX 5
/* The characters of GATEWAY.name, which becomes part of queue names (rpc.reply-<name>-<uuid>). */
#define NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-."

/* ---------------------------------------------------------------------------------------------
 * The top level
 */

/* nameko's parse_address: ^((?P<address>[^:]+):)?(?P<port>\d+)$, plus a plain integer port. */
static int apply_web_address(const struct gw_key_err *e, const struct gw_yaml_node *v,
                             const char *path, void *base, const struct gw_key_spec *spec)
{
    struct gw_config *c = base;
    char got[GW_YAML_DESCRIBE_LEN];
    const char *host = GW_DEFAULT_WEB_HOST;
    size_t host_len = strlen(host);
    long long port = -1;
    (void)spec;
    if (v->kind == GW_YAML_INT) {
        port = v->ival;
    } else if (v->kind == GW_YAML_STRING) {
        const char *digits = v->text;
        const char *colon = strchr(v->text, ':');
        if (colon != NULL && colon != v->text) {
            host = v->text;
            host_len = (size_t)(colon - v->text);
            digits = colon + 1;
        }
        size_t n = strlen(digits);
        if (n > 0 && n <= PORT_DIGITS_MAX && strspn(digits, "0123456789") == n)
            port = strtoll(digits, NULL, 10);
    }
    if (port < 0 || port > 65535)
        return gw_key_fail(e, v, path, GW_ECONFIG,
                           "expected '[host:]port' with a port from 0 to 65535, got %s",
                           gw_yaml_describe(v, got, sizeof(got)));
    free(c->web_host);
    c->web_host = xstrndup(host, host_len);
    c->web_port = (int)port;
    return GW_OK;
}

/* ---------------------------------------------------------------------------------------------
 * GATEWAY's own rules
 */

static int apply_name(const struct gw_key_err *e, const struct gw_yaml_node *v, const char *path,
                      void *base, const struct gw_key_spec *spec)
{
    char got[GW_YAML_DESCRIBE_LEN];
    if (v->kind != GW_YAML_STRING || v->text[0] == '\0' ||
        strspn(v->text, NAME_CHARS) != strlen(v->text))
        return gw_key_fail(e, v, path, GW_ECONFIG,
                           "expected a name of letters, digits, '_', '-' and '.', got %s",
                           gw_yaml_describe(v, got, sizeof(got)));
    gw_key_replace_string(gw_key_field(base, spec), v->text);
    return GW_OK;
}

static int apply_log_level(const struct gw_key_err *e, const struct gw_yaml_node *v,
                           const char *path, void *base, const struct gw_key_spec *spec)
{
    size_t index = 0;
    (void)spec;
    int rc = gw_key_choose(e, v, path, gw_log_level_names, &index);
    if (rc == GW_OK)
        ((struct gw_config *)base)->log_level = (enum gw_log_level)index;
    return rc;
}

static int apply_log_format(const struct gw_key_err *e, const struct gw_yaml_node *v,
                            const char *path, void *base, const struct gw_key_spec *spec)
{
    size_t index = 0;
    (void)spec;
    int rc = gw_key_choose(e, v, path, gw_log_format_names, &index);
    if (rc == GW_OK)
        ((struct gw_config *)base)->log_format = (enum gw_log_format)index;
    return rc;
}

/* An integer, or auto: the CPUs this process may run on (its affinity mask, as taskset or a
 * container's cpuset leaves it), read when the file is loaded. */
static int apply_workers(const struct gw_key_err *e, const struct gw_yaml_node *v, const char *path,
                         void *base, const struct gw_key_spec *spec)
{
    struct gw_config *c = base;
    char got[GW_YAML_DESCRIBE_LEN];
    (void)spec;
    if (v->kind == GW_YAML_STRING && strcmp(v->text, "auto") == 0) {
        c->workers = gw_config_cpus();
        c->workers_auto = true;
        return GW_OK;
    }
    if (v->kind != GW_YAML_INT || v->ival < 1 || v->ival > GW_MAX_WORKERS)
        return gw_key_fail(e, v, path, GW_ECONFIG,
                           "expected auto or an integer from 1 to %d, got %s", GW_MAX_WORKERS,
                           gw_yaml_describe(v, got, sizeof(got)));
    c->workers = (int)v->ival;
    c->workers_auto = false;
    return GW_OK;
}

int gw_config_cpus(void)
{
    cpu_set_t set;
    int n = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
    int quota = gw_cpu_quota("/sys/fs/cgroup", "/proc/self/cgroup");
    if (quota > 0 && quota < n)
        n = quota;
    return n < 1 ? 1 : n > GW_MAX_WORKERS ? GW_MAX_WORKERS : n;
}

static void clear_errors(struct gw_config *c)
{
    for (size_t i = 0; i < c->n_errors; i++)
        free(c->errors[i].exc_type);
    free(c->errors);
    c->errors = NULL;
    c->n_errors = 0;
}

static int apply_errors(const struct gw_key_err *e, const struct gw_yaml_node *v, const char *path,
                        void *base, const struct gw_key_spec *spec)
{
    struct gw_config *c = base;
    char got[GW_YAML_DESCRIBE_LEN];
    char child[GW_YAML_PATH_LEN];
    (void)spec;
    if (v->kind != GW_YAML_MAP)
        return gw_key_fail(e, v, path, GW_ECONFIG,
                           "expected a mapping of exception type to HTTP status, got %s",
                           gw_yaml_describe(v, got, sizeof(got)));
    clear_errors(c);
    c->errors = xcalloc(gw_yaml_map_pairs(v), sizeof(*c->errors));
    for (size_t i = 0; i < gw_yaml_map_pairs(v); i++) {
        const struct gw_yaml_node *key = v->items[2 * i];
        const struct gw_yaml_node *status = v->items[2 * i + 1];
        if (gw_yaml_map_shadowed(v, i))
            continue;
        if (key->kind != GW_YAML_STRING || key->text[0] == '\0')
            return gw_key_fail(e, key, path, GW_ECONFIG, "expected an exception type name, got %s",
                               gw_yaml_describe(key, got, sizeof(got)));
        gw_yaml_path_join(child, sizeof(child), path, key->text);
        /* A 1xx is interim: as the answer it would leave the client waiting for the real one. */
        if (status->kind != GW_YAML_INT || status->ival < 200 || status->ival > 599)
            return gw_key_fail(e, status, child, GW_ECONFIG,
                               "expected an HTTP status from 200 to 599, got %s",
                               gw_yaml_describe(status, got, sizeof(got)));
        c->errors[c->n_errors].exc_type = xstrdup(key->text);
        c->errors[c->n_errors].status = (int)status->ival;
        c->n_errors++;
    }
    return GW_OK;
}

static void clear_context_headers(struct gw_config *c)
{
    for (size_t i = 0; i < c->n_context_headers; i++) {
        free(c->context_headers[i].header);
        free(c->context_headers[i].key);
    }
    free(c->context_headers);
    c->context_headers = NULL;
    c->n_context_headers = 0;
}

static int apply_context_headers(const struct gw_key_err *e, const struct gw_yaml_node *v,
                                 const char *path, void *base, const struct gw_key_spec *spec)
{
    struct gw_config *c = base;
    char got[GW_YAML_DESCRIBE_LEN];
    char child[GW_YAML_PATH_LEN];
    (void)spec;
    if (v->kind != GW_YAML_MAP)
        return gw_key_fail(e, v, path, GW_ECONFIG,
                           "expected a mapping of HTTP header name to context key, got %s",
                           gw_yaml_describe(v, got, sizeof(got)));
    clear_context_headers(c);
    c->context_headers = xcalloc(gw_yaml_map_pairs(v), sizeof(*c->context_headers));
    for (size_t i = 0; i < gw_yaml_map_pairs(v); i++) {
        const struct gw_yaml_node *key = v->items[2 * i];
        const struct gw_yaml_node *ctx = v->items[2 * i + 1];
        if (gw_yaml_map_shadowed(v, i))
            continue;
        if (key->kind != GW_YAML_STRING || !gw_is_token(key->text, strlen(key->text)))
            return gw_key_fail(e, key, path, GW_ECONFIG, "expected an HTTP header name, got %s",
                               gw_yaml_describe(key, got, sizeof(got)));
        gw_yaml_path_join(child, sizeof(child), path, key->text);
        /* Header names are case-insensitive: two spellings of one name would be ambiguous. */
        for (size_t j = 0; j < c->n_context_headers; j++) {
            if (strcasecmp(c->context_headers[j].header, key->text) == 0)
                return gw_key_fail(e, key, child, GW_ECONFIG,
                                   "header given twice (as '%s'; header names ignore case)",
                                   c->context_headers[j].header);
        }
        if (ctx->kind != GW_YAML_STRING || ctx->text[0] == '\0')
            return gw_key_fail(e, ctx, child, GW_ECONFIG, "expected a context key, got %s",
                               gw_yaml_describe(ctx, got, sizeof(got)));
        c->context_headers[c->n_context_headers].header = xstrdup(key->text);
        c->context_headers[c->n_context_headers].key = xstrdup(ctx->text);
        c->n_context_headers++;
    }
    return GW_OK;
}

/* ---------------------------------------------------------------------------------------------
 * The tables
 */

#define ORIGINS_WHAT "origins such as 'https://app.example' or '*'"
#define ORIGIN_WHAT "an origin such as 'https://app.example' or '*'"

static const struct gw_key_spec cors_keys[] = {
    {.name = "origins",
     .apply = gw_key_apply_string_list,
     .offset = offsetof(struct gw_cors, origins),
     .list_what = ORIGINS_WHAT,
     .item_what = ORIGIN_WHAT},
    {.name = "methods",
     .apply = gw_key_apply_string_list,
     .offset = offsetof(struct gw_cors, methods),
     .list_what = "HTTP methods",
     .item_what = "an HTTP method such as 'POST'"},
    {.name = "headers",
     .apply = gw_key_apply_string_list,
     .offset = offsetof(struct gw_cors, headers),
     .list_what = "header names",
     .item_what = "a header name such as 'X-Tenant'"},
    {.name = "max_age",
     .apply = gw_key_apply_int,
     .offset = offsetof(struct gw_cors, max_age),
     .min = 0,
     .max = 86400},
    {.name = "credentials",
     .apply = gw_key_apply_bool,
     .offset = offsetof(struct gw_cors, credentials)},
};

static int apply_cors(const struct gw_key_err *e, const struct gw_yaml_node *v, const char *path,
                      void *base, const struct gw_key_spec *spec)
{
    struct gw_config *c = base;
    char got[GW_YAML_DESCRIBE_LEN];
    (void)spec;
    if (v->kind != GW_YAML_MAP)
        return gw_key_fail(e, v, path, GW_ECONFIG, "expected a mapping, got %s",
                           gw_yaml_describe(v, got, sizeof(got)));
    c->cors.enabled = true;
    return gw_keys_apply_map(e, v, path, cors_keys, ARRAY_LEN(cors_keys), &c->cors, true);
}

/* A key of struct gw_config: an int within bounds, a URL path. */
#define INT_KEY(key, lo, hi)                                                                       \
    {                                                                                              \
        .name = #key, .apply = gw_key_apply_int, .offset = offsetof(struct gw_config, key),        \
        .min = (lo), .max = (hi)                                                                   \
    }
#define URL_PATH_KEY(key)                                                                          \
    {                                                                                              \
        .name = #key, .apply = gw_key_apply_url_path, .offset = offsetof(struct gw_config, key)    \
    }

/* The line is kept: a prefix with no credential to guard it is refused once the file is read. */
static int apply_admin_prefix(const struct gw_key_err *e, const struct gw_yaml_node *v,
                              const char *path, void *base, const struct gw_key_spec *spec)
{
    struct gw_config *c = base;
    const struct gw_key_spec field = {.apply = gw_key_apply_url_path,
                                      .offset = offsetof(struct gw_config, admin_prefix)};
    (void)spec;
    c->admin_prefix_line = v->line;
    return gw_key_apply_url_path(e, v, path, base, &field);
}

static const struct gw_key_spec gateway_keys[] = {
    {.name = "name", .apply = apply_name, .offset = offsetof(struct gw_config, name)},
    {.name = "rpc_timeout",
     .apply = gw_key_apply_positive_number,
     .offset = offsetof(struct gw_config, rpc_timeout)},
    {.name = "errors", .apply = apply_errors},
    {.name = "context_headers", .apply = apply_context_headers},
    {.name = "log_level", .apply = apply_log_level},
    {.name = "log_format", .apply = apply_log_format},
    {.name = "trace_context",
     .apply = gw_key_apply_bool,
     .offset = offsetof(struct gw_config, trace_context)},
    {.name = "expose", .apply = gw_config_apply_expose},
    {.name = "channels", .apply = gw_config_apply_channels},
    {.name = "services", .apply = gw_config_apply_services},
    URL_PATH_KEY(rpc_prefix),
    URL_PATH_KEY(websocket_path),
    INT_KEY(websocket_max_frame, 64, 1 << 30),
    INT_KEY(websocket_max_sockets, 1, 1000000),
    INT_KEY(websocket_send_queue, 1024, 1 << 30),
    INT_KEY(websocket_ping, 0, 3600),
    {.name = "websocket_deflate",
     .apply = gw_key_apply_bool,
     .offset = offsetof(struct gw_config, websocket_deflate)},
    {.name = "websocket_origins",
     .apply = gw_key_apply_string_list,
     .offset = offsetof(struct gw_config, websocket_origins),
     .list_what = ORIGINS_WHAT,
     .item_what = ORIGIN_WHAT},
    {.name = "admin_prefix", .apply = apply_admin_prefix},
    URL_PATH_KEY(health_path),
    URL_PATH_KEY(ready_path),
    URL_PATH_KEY(metrics_path),
    URL_PATH_KEY(openapi_path),
    URL_PATH_KEY(docs_path),
    {.name = "docs_dir",
     .apply = gw_key_apply_nonempty_string,
     .offset = offsetof(struct gw_config, docs_dir)},
    URL_PATH_KEY(status_path),
    {.name = "cors", .apply = apply_cors},
    INT_KEY(max_body, 0, 1 << 30),
    INT_KEY(compress_min, 0, 1 << 30),
    INT_KEY(compress_level, 1, 9),
    /* A head is peeked whole before it is read: the kernel's receive buffer holds about 128 KiB,
     * and libwebsockets at most 65535 bytes of values. */
    INT_KEY(max_header, 1024, 1 << 16),
    INT_KEY(max_connections, 1, 1000000),
    INT_KEY(delivery_mode, 1, 2),
    INT_KEY(max_in_flight, 1, 10000000),
    INT_KEY(header_timeout, 1, 3600),
    INT_KEY(idle_timeout, 1, 86400),
    {.name = "idempotency",
     .apply = gw_key_apply_bool,
     .offset = offsetof(struct gw_config, idempotency)},
    INT_KEY(idempotency_ttl, 1, 30 * 86400),
    INT_KEY(idempotency_max_entries, 1, 10000000),
    INT_KEY(idempotency_max_body, 0, 1 << 30),
    INT_KEY(idempotency_max_bytes, 1024, 1 << 30),
    {.name = "static_dir",
     .apply = gw_key_apply_nonempty_string,
     .offset = offsetof(struct gw_config, static_dir)},
    {.name = "auth", .apply = gw_config_apply_auth},
    {.name = "rate_limits", .apply = gw_config_apply_rate_limits},
    {.name = "trusted_proxies", .apply = gw_config_apply_trusted_proxies},
    INT_KEY(rate_limit_keys, 1000, 100000000),
    {.name = "workers", .apply = apply_workers},
    {.name = "admin_scope",
     .apply = gw_key_apply_nonempty_string,
     .offset = offsetof(struct gw_config, admin_scope)},
    {.name = "admin_token",
     .apply = gw_key_apply_secret_string,
     .offset = offsetof(struct gw_config, admin_token)},
};

static int apply_gateway(const struct gw_key_err *e, const struct gw_yaml_node *v, const char *path,
                         void *base, const struct gw_key_spec *spec)
{
    char got[GW_YAML_DESCRIBE_LEN];
    (void)spec;
    if (v->kind != GW_YAML_MAP)
        return gw_key_fail(e, v, path, GW_ECONFIG, "expected a mapping, got %s",
                           gw_yaml_describe(v, got, sizeof(got)));
    return gw_keys_apply_map(e, v, path, gateway_keys, ARRAY_LEN(gateway_keys), base, true);
}

static const struct gw_key_spec top_keys[] = {
    {.name = "AMQP_SSL", .apply = gw_config_apply_amqp_ssl},
    {.name = "LOGIN_METHOD", .apply = gw_config_apply_login_method},
    {.name = "AMQP_URI", .apply = gw_config_apply_amqp_uri},
    {.name = "WEB_SERVER_ADDRESS", .apply = apply_web_address},
    {.name = "rpc_exchange",
     .apply = gw_key_apply_nonempty_string,
     .offset = offsetof(struct gw_config, rpc_exchange)},
    {.name = "HEARTBEAT",
     .apply = gw_key_apply_int,
     .offset = offsetof(struct gw_config, heartbeat),
     .min = 0,
     .max = 65535},
    {.name = "GATEWAY", .apply = apply_gateway},
    {.name = "routes", .apply = gw_config_apply_routes},
};

int gw_config_apply_schema(const struct gw_key_err *e, const struct gw_yaml_node *root,
                           struct gw_config *c)
{
    return gw_keys_apply_map(e, root, "", top_keys, ARRAY_LEN(top_keys), c, false);
}

/* ---------------------------------------------------------------------------------------------
 * The record
 */

struct gw_config *gw_config_new_defaults(const char *path)
{
    struct gw_config *c = xcalloc(1, sizeof(*c));
    c->path = xstrdup(path);
    c->amqp_uri_text = xstrdup(GW_DEFAULT_AMQP_URI);
    if (gw_amqp_uri_list_parse(GW_DEFAULT_AMQP_URI, &c->amqp_nodes, &c->n_amqp_nodes, NULL, 0) !=
        GW_OK)
        abort(); /* the default is a constant */
    c->amqp_tls.cert_reqs = GW_CERT_REQUIRED;
    c->web_host = xstrdup(GW_DEFAULT_WEB_HOST);
    c->web_port = GW_DEFAULT_WEB_PORT;
    c->rpc_exchange = xstrdup(GW_DEFAULT_RPC_EXCHANGE);
    c->heartbeat = GW_DEFAULT_HEARTBEAT;
    c->name = xstrdup(GW_DEFAULT_NAME);
    c->rpc_timeout = GW_DEFAULT_RPC_TIMEOUT;
    c->log_level = GW_DEFAULT_LOG_LEVEL;
    c->log_format = GW_DEFAULT_LOG_FORMAT;
    c->rpc_prefix = xstrdup(GW_DEFAULT_RPC_PREFIX);
    c->websocket_path = xstrdup(GW_DEFAULT_WEBSOCKET_PATH);
    c->websocket_max_frame = GW_DEFAULT_WEBSOCKET_MAX_FRAME;
    c->websocket_max_sockets = GW_DEFAULT_WEBSOCKET_MAX_SOCKETS;
    c->websocket_send_queue = GW_DEFAULT_WEBSOCKET_SEND_QUEUE;
    c->websocket_ping = GW_DEFAULT_WEBSOCKET_PING;
    c->websocket_deflate = true;
    c->trace_context = true;
    c->static_dir = xstrdup(GW_DEFAULT_STATIC_DIR);
    c->docs_dir = xstrdup(GW_DEFAULT_DOCS_DIR);
    c->health_path = xstrdup(GW_DEFAULT_HEALTH_PATH);
    c->ready_path = xstrdup(GW_DEFAULT_READY_PATH);
    c->metrics_path = xstrdup(GW_DEFAULT_METRICS_PATH);
    c->cors.max_age = GW_DEFAULT_CORS_MAX_AGE;
    gw_config_auth_init(&c->auth);
    c->admin_scope = xstrdup(GW_DEFAULT_ADMIN_SCOPE);
    c->max_body = GW_DEFAULT_MAX_BODY;
    c->compress_min = GW_DEFAULT_COMPRESS_MIN;
    c->compress_level = GW_DEFAULT_COMPRESS_LEVEL;
    c->max_header = GW_DEFAULT_MAX_HEADER;
    c->max_connections = GW_DEFAULT_MAX_CONNECTIONS;
    c->max_in_flight = GW_DEFAULT_MAX_IN_FLIGHT;
    c->delivery_mode = GW_DEFAULT_DELIVERY_MODE;
    c->idle_timeout = GW_DEFAULT_IDLE_TIMEOUT;
    c->header_timeout = GW_DEFAULT_HEADER_TIMEOUT;
    c->idempotency_ttl = GW_DEFAULT_IDEMPOTENCY_TTL;
    c->idempotency_max_entries = GW_DEFAULT_IDEMPOTENCY_MAX_ENTRIES;
    c->idempotency_max_body = GW_DEFAULT_IDEMPOTENCY_MAX_BODY;
    c->idempotency_max_bytes = GW_DEFAULT_IDEMPOTENCY_MAX_BYTES;
    c->rate_limit_keys = GW_DEFAULT_RATE_LIMIT_KEYS;
    c->workers = GW_DEFAULT_WORKERS;
    return c;
}

void gw_config_clear(struct gw_config *c)
{
    char **strings[] = {&c->path,         &c->amqp_uri_text, &c->web_host,       &c->rpc_exchange,
                        &c->name,         &c->rpc_prefix,    &c->websocket_path, &c->static_dir,
                        &c->admin_prefix, &c->health_path,   &c->ready_path,     &c->metrics_path,
                        &c->admin_scope,  &c->admin_token,   &c->openapi_path,   &c->docs_path,
                        &c->docs_dir,     &c->status_path};
    for (size_t i = 0; i < ARRAY_LEN(strings); i++) {
        free(*strings[i]);
        *strings[i] = NULL;
    }
    gw_amqp_uri_list_free(c->amqp_nodes, c->n_amqp_nodes);
    gw_amqp_tls_clear(&c->amqp_tls);
    gw_string_list_clear(&c->cors.origins);
    gw_string_list_clear(&c->cors.methods);
    gw_string_list_clear(&c->cors.headers);
    gw_string_list_clear(&c->websocket_origins);
    gw_policy_list_clear(&c->expose);
    gw_policy_list_clear(&c->channels);
    gw_service_list_clear(&c->services);
    clear_errors(c);
    clear_context_headers(c);
    gw_config_routes_clear(c);
    gw_config_auth_clear(&c->auth);
    gw_rate_limit_list_clear(&c->rate_limits);
    gw_cidr_list_clear(&c->trusted_proxies);
}

/* ---------------------------------------------------------------------------------------------
 * The docs page
 */

const char *const GW_VIEWER_FILES[] = {"swagger-ui-bundle.js", "swagger-ui.css", NULL};

int gw_config_docs_finish(const struct gw_config *c, char *err, size_t errlen)
{
    if (!c->docs_path)
        return GW_OK;
    if (!c->openapi_path) {
        gw_set_err(err, errlen,
                   "%s: GATEWAY.docs_path: the docs page shows the OpenAPI document: set "
                   "GATEWAY.openapi_path too",
                   c->path);
        return GW_ECONFIG;
    }
    if (strcmp(c->docs_path, c->openapi_path) == 0) {
        gw_set_err(err, errlen, "%s: GATEWAY.docs_path: '%s' is GATEWAY.openapi_path too", c->path,
                   c->docs_path);
        return GW_ECONFIG;
    }
    for (size_t i = 0; GW_VIEWER_FILES[i]; i++) {
        char *file = xasprintf("%s/%s", c->docs_dir, GW_VIEWER_FILES[i]);
        bool readable = access(file, R_OK) == 0;
        free(file);
        if (!readable) {
            gw_set_err(err, errlen,
                       "%s: GATEWAY.docs_dir: no %s in '%s' (the OpenAPI viewer: `make viewer` "
                       "puts it in build/viewer)",
                       c->path, GW_VIEWER_FILES[i], c->docs_dir);
            return GW_ECONFIG;
        }
    }
    return GW_OK;
}
