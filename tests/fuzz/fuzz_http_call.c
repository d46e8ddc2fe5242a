/* fuzz_http_call - libFuzzer harness for an HTTP request becoming a nameko call: routes/call (path
 * and query decoding, json-mode arguments, the generic route, context data) and routes/http_mode
 * (the request object, werkzeug's URL and cookies).
 *
 * The input reads like an HTTP/1.1 request with "\n" line ends:
 *     METHOD TARGET
 *     Name: value          (any number of header lines, up to an empty line)
 *
 *     body                 (the rest of the input, any bytes)
 * Each request takes the gateway's own steps (gateway/dispatch.c) against a fixed config and route
 * table: decode the path, parse the query, match the table, build the call's arguments in json or
 * http mode, the generic route's target and body, and the context. Every call body and response
 * body enoki would send must read back as JSON, with the same arguments.
 */
#include "fuzz_util.h"

#include "core/config.h"
#include "core/json.h"
#include "core/status.h"
#include "core/wire.h"
#include "core/xalloc.h"
#include "routes/call.h"
#include "routes/http_mode.h"
#include "routes/respond.h"
#include "routes/table.h"

#include <amqp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_HEADERS 32

static const char config_yaml[] = "GATEWAY:\n"
                                  "  name: fuzz\n"
                                  "  context_headers:\n"
                                  "    X-Tenant: tenant\n"
                                  "    X-Trace: trace\n"
                                  "  expose:\n"
                                  "    - svc.*\n"
                                  "    - other.get_?\n"
                                  "routes:\n"
                                  "  - rule: /get/<int:value>\n"
                                  "    rpc: svc.get\n"
                                  "  - rule: /echo\n"
                                  "    methods: GET,POST,PUT\n"
                                  "    rpc: svc.echo\n"
                                  "  - rule: /hello/<name>\n"
                                  "    rpc: svc.hello\n"
                                  "    mode: http\n"
                                  "  - rule: /f/<path:rest>\n"
                                  "    methods: GET,POST\n"
                                  "    rpc: svc.files\n"
                                  "    mode: http\n"
                                  "  - rule: /u/<uuid:id>/<float(signed=True):x>\n"
                                  "    rpc: svc.u\n"
                                  "  - rule: '/any/<any(red, green):c>/<int(min=1, max=9):n>'\n"
                                  "    methods: POST\n"
                                  "    rpc: svc.any\n"
                                  "  - rule: /s/<string(minlength=2, maxlength=4):s>-<int:n>.txt\n"
                                  "    rpc: svc.s\n"
                                  "  - rule: /dir/\n"
                                  "    rpc: svc.dir\n";

static struct gw_config *config;
static struct gw_route_table *table;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[256];
    config = fuzz_load_config("fuzz_http_call", config_yaml);
    table = gw_route_table_new();
    for (size_t i = 0; i < config->n_routes; i++) {
        if (gw_route_table_add(table, config->routes[i].rule, config->routes[i].methods,
                               &config->routes[i], err, sizeof(err)) != GW_OK) {
            fprintf(stderr, "fuzz_http_call: %s: %s\n", config->routes[i].rule, err);
            abort();
        }
    }
    gw_route_table_compile(table);
    return 0;
}

struct request {
    char *method, *target;
    struct gw_header_field headers[MAX_HEADERS];
    size_t n_headers;
    const char *content_type; /* borrowed from headers */
    char *body;               /* new, exact length */
    size_t body_len;
};

static const char *lookup_header(void *ctx, const char *name)
{
    const struct request *req = ctx;
    for (size_t i = 0; i < req->n_headers; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

static void parse_request(const uint8_t *data, size_t size, struct request *req)
{
    struct fuzz_slice rest = {(const char *)data, size}, line = {"", 0};
    memset(req, 0, sizeof(*req));
    fuzz_next_line(&rest, &line);
    const char *space = memchr(line.p, ' ', line.n);
    size_t method_len = space ? (size_t)(space - line.p) : line.n;
    req->method = fuzz_cstr(line.p, method_len);
    req->target = space ? fuzz_cstr(space + 1, line.n - method_len - 1) : fuzz_cstr("/", 1);
    while (fuzz_next_line(&rest, &line) && line.n > 0) {
        const char *colon = memchr(line.p, ':', line.n);
        if (!colon || req->n_headers == MAX_HEADERS)
            continue;
        size_t name_len = (size_t)(colon - line.p);
        struct gw_header_field *h = &req->headers[req->n_headers++];
        h->name = fuzz_cstr(line.p, name_len);
        h->value = fuzz_cstr(colon + 1, line.n - name_len - 1);
        if (!req->content_type && strcasecmp(h->name, "Content-Type") == 0)
            req->content_type = h->value;
    }
    req->body = fuzz_copy(rest.p, rest.n);
    req->body_len = rest.n;
}

static void free_request(struct request *req)
{
    free(req->method);
    free(req->target);
    for (size_t i = 0; i < req->n_headers; i++) {
        free((char *)(uintptr_t)req->headers[i].name);
        free((char *)(uintptr_t)req->headers[i].value);
    }
    free(req->body);
}

/* A string with every NUL turned into U+0001 (a carried number as it is). */
static json_t *soh_for_nul(const json_t *v)
{
    if (gw_json_carried_text(v, &(size_t){0}))
        return json_copy((json_t *)(uintptr_t)v);
    char *s = fuzz_copy(json_string_value(v), json_string_length(v));
    for (size_t i = 0; i < json_string_length(v); i++)
        s[i] = s[i] ? s[i] : '\x01';
    json_t *out = json_stringn(s, json_string_length(v));
    free(s);
    return out;
}

/* The call body enoki would publish must read back as {"args": args, "kwargs": kwargs}. A body
 * holding both a NUL character (http mode's raw request data) and a number beyond 64 bits is read
 * as Python reads it by no C reader here: its NULs are read as U+0001 then. */
static void check_call_body(const json_t *args, const json_t *kwargs)
{
    size_t len;
    char *body = gw_wire_request_body(args, kwargs, &len);
    FUZZ_ASSERT(strlen(body) == len);
    json_t *back = json_loadb(body, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (!back)
        back = gw_json_decode_lenient(body, len, NULL);
    json_t *want_args = json_incref((json_t *)(uintptr_t)args);
    json_t *want_kwargs = json_incref((json_t *)(uintptr_t)kwargs);
    if (!back) {
        for (size_t i = 0; i + 1 < len; i++) /* each escape, whole: "\\u0000" is no NUL */
            if (body[i] == '\\' && body[++i] == 'u' && len - i >= 5 &&
                !memcmp(body + i, "u0000", 5))
                body[i + 4] = '1';
        back = fuzz_json_reread(body, len);
        json_decref(want_args);
        json_decref(want_kwargs);
        want_args = fuzz_json_map_strings(args, soh_for_nul);
        want_kwargs = fuzz_json_map_strings(kwargs, soh_for_nul);
    }
    FUZZ_ASSERT(back != NULL);
    FUZZ_ASSERT(json_equal(json_object_get(back, "args"), want_args));
    FUZZ_ASSERT(json_equal(json_object_get(back, "kwargs"), want_kwargs));
    json_decref(want_args);
    json_decref(want_kwargs);
    json_decref(back);
    free(body);
}

/* An error answer must be JSON whatever the message quoted from the request. */
static void check_error(int status, const char *message)
{
    struct gw_response r;
    gw_respond_error(status, message, "fuzz.http.id", &r);
    FUZZ_ASSERT(r.status >= 300 && r.status <= 599);
    json_t *back = fuzz_json_reread(r.body, r.body_len);
    FUZZ_ASSERT(json_is_string(json_object_get(back, "message")));
    json_decref(back);
    gw_response_clear(&r);
}

static void http_mode_call(const struct request *req, const char *path, const json_t *values,
                           const struct gw_query *query)
{
    struct gw_http_request_view view = {
        .method = req->method,
        .target = req->target,
        .path = path,
        .remote_addr = "127.0.0.1",
        .server = "127.0.0.1:8000",
        .headers = req->headers,
        .n_headers = req->n_headers,
        .query = query->params,
        .n_query = query->n,
        .body = req->body,
        .body_len = req->body_len,
    };
    json_t *kwargs = values ? json_deep_copy(values) : json_object();
    json_t *request = gw_http_request_object(&view);
    FUZZ_ASSERT(json_is_object(request));
    FUZZ_ASSERT(json_is_string(json_object_get(request, "url")));
    FUZZ_ASSERT(json_is_string(json_object_get(request, "method")));
    FUZZ_ASSERT(json_is_string(json_object_get(request, "path")));
    FUZZ_ASSERT(json_is_object(json_object_get(request, "cookies")));
    FUZZ_ASSERT(json_is_string(json_object_get(request, "data")) ||
                json_is_string(json_object_get(request, "data_base64")));
    json_object_set_new(kwargs, "request", request);
    json_t *args = json_array();
    check_call_body(args, kwargs);
    json_decref(args);
    json_decref(kwargs);
}

static void json_mode_call(const struct request *req, const json_t *values,
                           const struct gw_query *query)
{
    json_t *args = (json_t *)1, *kwargs = (json_t *)1;
    char err[512];
    int rc = gw_call_build_args(values, query->params, query->n, req->content_type, req->body,
                                req->body_len, &args, &kwargs, err, sizeof(err));
    if (rc == GW_OK) {
        FUZZ_ASSERT(json_is_array(args) && json_is_object(kwargs));
        check_call_body(args, kwargs);
    } else {
        FUZZ_ASSERT(rc == GW_EARGS || rc == GW_EJSON || rc == GW_EMEDIA);
        FUZZ_ASSERT(args == NULL && kwargs == NULL);
        check_error(rc, err);
    }
    json_decref(args);
    json_decref(kwargs);
}

static void generic_call(const struct request *req, const char *path)
{
    char *service = (char *)1, *method = (char *)1;
    char err[512];
    if (gw_call_generic_target(config->rpc_prefix, path, &service, &method) != GW_OK) {
        FUZZ_ASSERT(service == NULL && method == NULL);
        return;
    }
    /* A dotted method is read (an amphora function's name); whether the service takes it is
     * gw_call_method_fits': never a nameko service's (none is listed as amphora here). */
    FUZZ_ASSERT(*service && *method && !strchr(service, '.'));
    FUZZ_ASSERT(!strchr(method, '.') || !gw_call_method_fits(config, service, method));
    FUZZ_ASSERT(!strchr(service, '/') && !strchr(method, '/'));
    const struct gw_policy_entry *entry = gw_call_expose_find(config, service, method);
    FUZZ_ASSERT(entry == NULL ||
                (entry >= config->expose.items && entry < config->expose.items + config->expose.n));
    json_t *args = (json_t *)1, *kwargs = (json_t *)1;
    int rc = gw_call_generic_args(req->content_type, req->body, req->body_len, &args, &kwargs, err,
                                  sizeof(err));
    if (rc == GW_OK) {
        FUZZ_ASSERT(json_is_array(args) && json_is_object(kwargs));
        check_call_body(args, kwargs);
        json_decref(args);
        json_decref(kwargs);
    } else {
        FUZZ_ASSERT(rc == GW_EARGS || rc == GW_EJSON || rc == GW_EMEDIA);
        FUZZ_ASSERT(args == NULL && kwargs == NULL);
        check_error(rc, err);
    }
    free(service);
    free(method);
}

static void context(struct request *req)
{
    char call_id[128];
    json_t *ctx = gw_call_context_new(config, "http", lookup_header, req, call_id, sizeof(call_id));
    FUZZ_ASSERT(json_is_array(json_object_get(ctx, "call_id_stack")));
    FUZZ_ASSERT(strncmp(call_id, "fuzz.http.", 10) == 0);
    amqp_pool_t pool;
    init_amqp_pool(&pool, 4096);
    amqp_table_t headers;
    gw_wire_context_headers(ctx, &pool, &headers);
    FUZZ_ASSERT(headers.num_entries >= 1);
    empty_amqp_pool(&pool);
    json_decref(ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct request req;
    char err[256];
    parse_request(data, size, &req);

    gw_call_is_json_type(req.content_type);
    for (size_t i = 0; i < req.n_headers; i++) {
        char *title = gw_http_header_title(req.headers[i].name);
        FUZZ_ASSERT(strlen(title) == strlen(req.headers[i].name));
        free(title);
    }
    context(&req);

    /* The gateway decodes the path from the raw target, up to '?'. */
    size_t raw_len = strcspn(req.target, "?");
    char *raw = fuzz_copy(req.target, raw_len);
    char *path = (char *)1;
    int rc = gw_call_decode_path(raw, raw_len, &path, err, sizeof(err));
    free(raw);
    if (rc != GW_OK) {
        FUZZ_ASSERT(rc == GW_EARGS && path == NULL);
        check_error(rc, err);
        free_request(&req);
        return 0;
    }

    const char *raw_query = strchr(req.target, '?');
    size_t query_len = raw_query ? strlen(raw_query + 1) : 0;
    char *query_text = fuzz_copy(raw_query ? raw_query + 1 : "", query_len);
    struct gw_query query;
    gw_query_parse(query_text, query_len, &query);
    free(query_text);
    for (size_t i = 0; i < query.n; i++)
        FUZZ_ASSERT(query.params[i].name != NULL);

    if (gw_call_under_prefix(config->rpc_prefix, path))
        generic_call(&req, path);

    struct gw_route_match m;
    rc = gw_route_table_match(table, req.method, path, &m);
    const struct gw_route_conf *route = rc == GW_OK ? m.target : NULL;
    char *message = NULL;
    if (rc == GW_EMETHOD)
        message = xasprintf("the method %s is not allowed for %s; allowed: %s", req.method, path,
                            m.allow);
    /* Both modes, whichever the route has: each mode's code sees every input. */
    json_mode_call(&req, route ? m.values : NULL, &query);
    http_mode_call(&req, path, route ? m.values : NULL, &query);
    if (rc == GW_ENOMATCH || rc == GW_EMETHOD) {
        char text[1024];
        snprintf(text, sizeof(text), "no route matches %s", path);
        check_error(rc, message ? message : text);
    }
    free(message);
    gw_route_match_clear(&m);

    gw_query_clear(&query);
    free(path);
    free_request(&req);
    return 0;
}
