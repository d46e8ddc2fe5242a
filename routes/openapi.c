/* openapi.c - the OpenAPI 3.1 document of the route table (see openapi.h, docs/openapi.md). */
#include "routes/openapi.h"

#include "core/status.h"
#include "core/strbuf.h"
#include "core/util.h"
#include "core/version.h"
#include "core/xalloc.h"
#include "routes/openapi_schema.h"
#include "routes/rate_limit.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * Paths and converters
 */

/* Literal text of a rule, as a path key holds it: '{' and '}' would read as a template and '%',
 * '?', '#', spaces and controls are not themselves in a URL's path, so each is percent-encoded (a
 * client that sends "%7B" reaches the rule's '{': the path is matched decoded). */
static void add_literal(struct gw_strbuf *b, const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c <= ' ' || c == 0x7f || strchr("{}%?#", c)) {
            char escaped[4];
            snprintf(escaped, sizeof(escaped), "%%%02X", c);
            gw_strbuf_add(b, escaped, 3);
        } else {
            gw_strbuf_add(b, text + i, 1);
        }
    }
}

/* The rule's path template; with names false each variable is "{}": the template's shape, which
 * OpenAPI holds to be the same path whatever the names (3.1, "Path Templating"). */
static char *path_template(const struct gw_rule *rule, bool names)
{
    struct gw_strbuf b = {0};
    /* parts[0] is the empty text before the rule's leading slash. */
    for (size_t i = 1; i < rule->nparts; i++) {
        const struct gw_rule_part *part = &rule->parts[i];
        gw_strbuf_adds(&b, "/");
        if (part->is_static) {
            add_literal(&b, part->key, part->key_len);
            continue;
        }
        for (size_t t = 0; t < part->ntokens; t++) {
            const struct gw_rule_token *token = &part->tokens[t];
            if (token->lit) {
                add_literal(&b, token->lit, token->len);
            } else {
                gw_strbuf_adds(&b, "{");
                if (names)
                    gw_strbuf_adds(&b, rule->convs[token->conv].name);
                gw_strbuf_adds(&b, "}");
            }
        }
    }
    if (rule->nparts <= 1)
        gw_strbuf_adds(&b, "/");
    return gw_strbuf_take(&b);
}

char *gw_openapi_path(const struct gw_rule *rule)
{
    return path_template(rule, true);
}

/* A path parameter for a converter; the description says what a schema cannot. */
static json_t *path_parameter(const struct gw_rule_conv *conv)
{
    json_t *p = json_pack("{s:s, s:s, s:b}", "name", conv->name, "in", "path", "required", 1);
    char text[200] = "";
    if (conv->kind == GW_CONV_PATH)
        snprintf(text, sizeof(text),
                 "The rest of the path, slashes included (werkzeug's path converter): OpenAPI's "
                 "path parameters cannot hold '/', this one takes them unencoded.");
    else if (conv->kind == GW_CONV_INT && conv->fixed_digits > 0)
        snprintf(text, sizeof(text),
                 "Written with exactly %lld characters, leading zeros and sign included "
                 "(fixed_digits=%lld).",
                 conv->fixed_digits, conv->fixed_digits);
    else if (conv->kind == GW_CONV_FLOAT)
        snprintf(text, sizeof(text), "Written with a decimal point: 1.0, not 1.");
    if (text[0])
        json_object_set_new(p, "description", json_string(text));
    json_object_set_new(p, "schema", gw_openapi_converter_schema(conv));
    json_object_set_new(p, "x-enoki-converter", json_string(gw_openapi_converter_name(conv->kind)));
    if (conv->kind == GW_CONV_INT && conv->fixed_digits > 0)
        json_object_set_new(p, "x-enoki-fixed-digits", json_integer(conv->fixed_digits));
    return p;
}

/* ---------------------------------------------------------------------------------------------
 * Responses
 */

/* What an operation can meet, to pick its statuses. */
struct op_traits {
    bool http_mode;                /* mode: http: errors in @http's text format */
    bool has_body;                 /* POST, PUT or PATCH */
    bool generic;                  /* the generic route */
    bool token;                    /* some caller may be asked for a bearer token (401) */
    bool scopes;                   /* some caller may lack a scope (403) */
    int collect;                   /* amphora fanout: answers {"replies", "complete"} */
    bool limited;                  /* GATEWAY.rate_limits may refuse it (429) */
    const json_t *response_schema; /* borrowed; NULL: any JSON */
};

static json_t *error_content(void)
{
    return json_pack("{s:{s:{s:s}}}", "application/json", "schema", "$ref",
                     "#/components/schemas/Error");
}

static json_t *text_content(void)
{
    return json_pack("{s:{s:{s:s}}}", "text/plain", "schema", "type", "string");
}

/* Text, and the JSON error enoki itself answers before a mode: http handler runs. */
static json_t *text_or_error_content(void)
{
    json_t *content = text_content();
    json_t *error = error_content();
    json_object_update(content, error);
    json_decref(error);
    return content;
}

/* Sets the response for status, or appends to the description of the one already there. */
static void add_response(json_t *responses, int status, const char *description, json_t *content)
{
    char key[8];
    snprintf(key, sizeof(key), "%d", status);
    json_t *existing = json_object_get(responses, key);
    if (existing) {
        const char *was = json_string_value(json_object_get(existing, "description"));
        json_object_set_new(existing, "description", json_sprintf("%s; %s", was, description));
        json_decref(content);
        return;
    }
    json_t *r = json_pack("{s:s}", "description", description);
    if (content)
        json_object_set_new(r, "content", content);
    json_object_set_new(responses, key, r);
}

/* Documents a header of the response for status, when the operation has that status. */
static void add_header(json_t *responses, const char *status, const char *name,
                       const char *description, const char *type)
{
    json_t *response = json_object_get(responses, status);
    if (response)
        json_object_set_new(response, "headers",
                            json_pack("{s:{s:s, s:{s:s}}}", name, "description", description,
                                      "schema", "type", type));
}

static json_t *success_content(const struct op_traits *t)
{
    /* A mode: http handler answers text unless the route documents a JSON result. */
    if (t->http_mode && !t->response_schema)
        return text_content();
    json_t *schema = t->response_schema ? json_deep_copy(t->response_schema) : json_object();
    if (t->collect != 0)
        schema = json_pack("{s:s, s:[s,s], s:{s:{s:s, s:o}, s:{s:s}}}", "type", "object",
                           "required", "replies", "complete", "properties", "replies", "type",
                           "array", "items", schema, "complete", "type", "boolean");
    return json_pack("{s:{s:o}}", "application/json", "schema", schema);
}

static int status_cmp(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* Statuses sorted by number: JSON objects keep insertion order, and a reader expects 200 first. */
static json_t *sorted_responses(json_t *responses)
{
    int *codes = xcalloc(json_object_size(responses) + 1, sizeof(int));
    size_t n = 0;
    const char *key;
    json_t *value;
    json_object_foreach(responses, key, value)
    {
        codes[n++] = atoi(key);
    }
    qsort(codes, n, sizeof(int), status_cmp);
    json_t *sorted = json_object();
    for (size_t i = 0; i < n; i++) {
        char k[8];
        snprintf(k, sizeof(k), "%d", codes[i]);
        json_object_set(sorted, k, json_object_get(responses, k));
    }
    free(codes);
    json_decref(responses);
    return sorted;
}

/* Every status the README's table of answers gives an operation of this kind. */
static json_t *responses_of(const struct gw_config *config, const struct op_traits *t)
{
    json_t *r = json_object();
    json_t *(*err)(void) = t->http_mode ? text_content : error_content;
    add_response(r, 200,
                 t->http_mode ? "The handler's answer (text/plain unless it sets Content-Type)"
                 : t->collect ? "The replies before the deadline (collect)"
                              : "The method's result",
                 success_content(t));
    if (t->http_mode) {
        json_t *both = text_or_error_content();
        add_response(r, 400,
                     "A remote exception of nameko's BadRequest family or in expected_exceptions "
                     "(text); a path enoki cannot decode (JSON)",
                     both);
    } else {
        add_response(r, 400,
                     "Bad arguments (bad_arguments), a body that is not valid JSON (bad_json), "
                     "nameko's IncorrectSignature or MalformedRequest",
                     error_content());
    }
    if (t->token)
        add_response(r, 401, "No valid bearer token (unauthorized, with WWW-Authenticate)", err());
    if (t->generic)
        add_response(r, 403, "The target is not in GATEWAY.expose (forbidden)", error_content());
    if (t->scopes)
        add_response(r, 403, "The token lacks a scope (insufficient_scope)", err());
    if (t->generic)
        add_response(r, 404, "The service has no such method (method_not_found)", error_content());
    if (t->has_body)
        add_response(r, 413, "The body is larger than GATEWAY.max_body (body_too_large)",
                     error_content());
    if (t->has_body && !t->http_mode)
        add_response(r, 415, "The body is not JSON (unsupported_media_type)", error_content());
    if (t->limited)
        add_response(r, 429,
                     "Over a rate limit (rate_limited; docs/rate_limits.md), with Retry-After",
                     err());
    for (size_t i = 0; !t->http_mode && i < config->n_errors; i++) {
        char text[300];
        snprintf(text, sizeof(text), "The remote exception %s (GATEWAY.errors)",
                 config->errors[i].exc_type);
        add_response(r, config->errors[i].status, text, error_content());
    }
    add_response(r, 500, "Any other remote exception (remote_error)", err());
    /* In mode: http a MethodNotFound is of nameko's BadRequest family: a 400, as @http has it. */
    if (!t->generic && !t->http_mode)
        add_response(r, 502, "The route's method does not exist (method_not_found)", err());
    add_response(r, 502, "The reply is not JSON (bad_reply)", err());
    /* mode: http answers every 503 in @http's text format, too_busy included. */
    json_t *unavailable = err();
    add_response(r, 503,
                 "No queue for the service (unknown_service), the broker unreachable "
                 "(broker_unavailable) or blocking (broker_blocked), too many calls waiting "
                 "(too_busy); with Retry-After",
                 unavailable);
    add_response(r, 504, "No reply by the deadline (timeout)", err());
    add_header(r, "503", "Retry-After", "Seconds to wait before retrying", "integer");
    add_header(r, "401", "WWW-Authenticate", "The bearer challenge (RFC 6750)", "string");
    add_header(r, "429", "Retry-After", "Seconds until the limit lets a request through",
               "integer");
    return sorted_responses(r);
}

/* ---------------------------------------------------------------------------------------------
 * Security
 */

/* Adds one alternative (a Security Requirement Object) unless an equal one is there. */
static void add_requirement(json_t *security, bool token, const struct gw_string_list *scopes)
{
    json_t *req = json_object();
    if (token) {
        json_t *names = json_array();
        for (size_t i = 0; scopes && i < scopes->n; i++)
            json_array_append_new(names, json_string(scopes->items[i]));
        json_object_set_new(req, "bearer", names);
    }
    size_t i;
    json_t *other;
    json_array_foreach(security, i, other)
    {
        if (json_equal(other, req)) {
            json_decref(req);
            return;
        }
    }
    json_array_append_new(security, req);
}

/* One policy's alternatives: none anonymous; optional without scopes anonymous or a token; else
 * a token with every scope (routes/auth.h: scopes need a token even on an optional route). */
static void add_policy(json_t *security, enum gw_auth_mode mode,
                       const struct gw_string_list *scopes, struct op_traits *t)
{
    if (mode == GW_AUTH_NONE || (mode == GW_AUTH_OPTIONAL && scopes->n == 0))
        add_requirement(security, false, NULL);
    if (mode == GW_AUTH_NONE)
        return;
    add_requirement(security, true, scopes);
    t->token = true;
    t->scopes = t->scopes || scopes->n > 0;
}

/* An operation that asks no token says `security: []` rather than the equal `[{}]`. */
static json_t *settled_security(json_t *security)
{
    if (json_array_size(security) == 1 && json_object_size(json_array_get(security, 0)) == 0)
        json_array_clear(security);
    return security;
}

/* ---------------------------------------------------------------------------------------------
 * Operations
 */

static bool takes_body(const char *method)
{
    return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
           strcmp(method, "PATCH") == 0;
}

/* OpenAPI's Path Item has a member for these; HEAD is implied by GET and OPTIONS is CORS'. */
/* A method of a route that has an operation: not HEAD beside GET (implied by it), OPTIONS only when
 * the rule lists it (else werkzeug's automatic answer, or a CORS preflight enoki answers), nothing
 * OpenAPI has no member for (PURGE). methods: the route's, comma-separated. */
static bool documented_method(const char *method, const char *methods)
{
    static const char *const listed[] = {"GET",   "PUT",     "POST", "DELETE",
                                         "PATCH", "OPTIONS", "TRACE"};
    if (strcmp(method, "HEAD") == 0) {
        bool get = false;
        for (const char *m = methods; m && !get; m = strchr(m, ',') ? strchr(m, ',') + 1 : NULL)
            get = strncmp(m, "GET", 3) == 0 && (m[3] == ',' || m[3] == '\0');
        return !get;
    }
    for (size_t i = 0; i < ARRAY_LEN(listed); i++)
        if (strcmp(method, listed[i]) == 0)
            return true;
    return false;
}

static json_t *string_array(const struct gw_string_list *list)
{
    json_t *a = json_array();
    for (size_t i = 0; i < list->n; i++)
        json_array_append_new(a, json_string(list->items[i]));
    return a;
}

/* The Idempotency-Key header (docs/idempotency.md), for the operations that honour it. */
static json_t *idempotency_parameter(void)
{
    return json_pack("{s:s, s:s, s:b, s:s, s:{s:s, s:i}}", "name", "Idempotency-Key", "in",
                     "header", "required", 0, "description",
                     "Retries with the same key are called at most once (docs/idempotency.md): "
                     "an sf-string (\"...\") or a bare token",
                     "schema", "type", "string", "minLength", 1);
}

static bool honours_idempotency(const struct gw_config *config, const struct gw_route_conf *route,
                                const char *method)
{
    bool on = route->idempotency_given ? route->idempotency : config->idempotency;
    return on && (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
                  strcmp(method, "PATCH") == 0 || strcmp(method, "DELETE") == 0);
}

/* A route's schema as its operations hold it (gw_openapi_place_schema), named after its target
 * in components/schemas when it goes there. New reference; NULL for none. */
static json_t *route_schema(json_t *schemas, const struct gw_route_conf *route,
                            const json_t *schema, const char *what)
{
    if (!schema)
        return NULL;
    char *name = xasprintf("%s.%s.%s", route->service, route->method, what);
    for (char *c = name; *c; c++)
        if (!isalnum((unsigned char)*c) && !strchr("._-", *c))
            *c = '_'; /* a component's name is [a-zA-Z0-9._-]+ */
    json_t *placed = gw_openapi_place_schema(schemas, schema, name);
    free(name);
    return placed;
}

static json_t *route_operation(const struct gw_config *config, const struct gw_route_info *info,
                               const char *method, json_t *schemas)
{
    const struct gw_route_conf *route = info->target;
    json_t *response = route_schema(schemas, route, route->response_schema.schema, "response");
    struct op_traits t = {.http_mode = route->mode == GW_MODE_HTTP,
                          .has_body = takes_body(method),
                          .collect = route->collect,
                          .limited = gw_rate_limits_cover_route(config, route),
                          .response_schema = response};
    json_t *op = json_object();
    json_object_set_new(
        op, "tags", route->tags.n ? string_array(&route->tags) : json_pack("[s]", route->service));
    if (route->summary)
        json_object_set_new(op, "summary", json_string(route->summary));
    if (route->description)
        json_object_set_new(op, "description", json_string(route->description));
    json_object_set_new(op, "operationId", json_sprintf("%s.%s", route->service, route->method));
    json_t *params = json_array();
    for (size_t i = 0; i < info->rule->nconvs; i++)
        json_array_append_new(params, path_parameter(&info->rule->convs[i]));
    if (honours_idempotency(config, route, method))
        json_array_append_new(params, idempotency_parameter());
    if (json_array_size(params) > 0)
        json_object_set_new(op, "parameters", params);
    else
        json_decref(params);
    if (t.has_body) {
        json_t *given = route_schema(schemas, route, route->request_schema.schema, "request");
        json_t *content;
        if (given)
            content = json_pack("{s:{s:o}}", "application/json", "schema", given);
        else if (t.http_mode)
            content = json_pack("{s:{}}", "*/*");
        else
            content = json_pack(
                "{s:{s:{s:[s,s], s:s}}}", "application/json", "schema", "type", "object", "array",
                "description",
                "An object's members are keyword arguments, an array's items positional ones");
        json_object_set_new(op, "requestBody",
                            json_pack("{s:b, s:o}", "required", 0, "content", content));
    }
    json_t *security = json_array();
    if (config->auth.jwt.enabled)
        add_policy(security, route->auth, &route->scopes, &t);
    json_object_set_new(op, "responses", responses_of(config, &t));
    json_object_set_new(op, "security", settled_security(security));
    json_object_set_new(op, "x-enoki-rule", json_string(info->text));
    json_object_set_new(op, "x-enoki-mode", json_string(gw_route_mode_name(route->mode)));
    json_object_set_new(op, "x-enoki-protocol", json_string(gw_protocol_name(route->protocol)));
    json_decref(response);
    return op;
}

/* POST <rpc_prefix>/{service}/{method}, as gateway/dispatch.c resolves it. */
static void add_generic(const struct gw_config *config, json_t *paths)
{
    struct op_traits t = {
        .has_body = true, .generic = true, .limited = gw_rate_limits_cover_targets(config)};
    json_t *security = json_array();
    json_t *patterns = json_array();
    for (size_t i = 0; i < config->expose.n; i++) {
        const struct gw_policy_entry *entry = &config->expose.items[i];
        if (config->auth.jwt.enabled)
            add_policy(security, entry->auth, &entry->scopes, &t);
        json_array_append_new(patterns, json_string(entry->pattern));
    }
    json_t *op = json_pack(
        "{s:[s], s:s, s:s, s:s, s:[{s:s, s:s, s:b, s:{s:s, s:s}}, {s:s, s:s, s:b, s:{s:s, s:s}}]}",
        "tags", "generic", "operationId", "generic", "summary",
        "Calls an exposed method (GATEWAY.expose)", "description",
        "Any service.method that a glob of GATEWAY.expose allows (x-enoki-expose), with the body "
        "{\"args\": [...], \"kwargs\": {...}} (both optional; an empty body is no arguments).",
        "parameters", "name", "service", "in", "path", "required", 1, "schema", "type", "string",
        "pattern", "^[^/.]+$", "name", "method", "in", "path", "required", 1, "schema", "type",
        "string", "pattern", "^[^/]+$");
    if (config->idempotency)
        json_array_append_new(json_object_get(op, "parameters"), idempotency_parameter());
    json_object_set_new(op, "requestBody",
                        json_pack("{s:b, s:{s:{s:{s:s, s:{s:{s:[s,s]}, s:{s:[s,s]}}, s:b}}}}",
                                  "required", 0, "content", "application/json", "schema", "type",
                                  "object", "properties", "args", "type", "array", "null", "kwargs",
                                  "type", "object", "null", "additionalProperties", 0));
    json_object_set_new(op, "responses", responses_of(config, &t));
    json_object_set_new(op, "security", settled_security(security));
    json_object_set_new(op, "x-enoki-expose", patterns);
    struct gw_strbuf b = {0};
    add_literal(&b, config->rpc_prefix, strlen(config->rpc_prefix));
    gw_strbuf_adds(&b, "/{service}/{method}");
    char *path = gw_strbuf_take(&b);
    json_object_set_new(paths, path, json_pack("{s:o}", "post", op));
    free(path);
}

/* ---------------------------------------------------------------------------------------------
 * The document
 */

/* operationIds must be unique: a target used by several operations gets each one's method as a
 * suffix ("shop.get_item_post"), and a clash left after that a counter ("_2", "_3", ...). */
static void unique_operation_ids(json_t *paths)
{
    json_t *counts = json_object();
    json_t *taken = json_object();
    const char *path, *method;
    json_t *item, *op;
    for (int pass = 0; pass < 2; pass++) {
        json_object_foreach(paths, path, item)
        {
            json_object_foreach(item, method, op)
            {
                const char *id = json_string_value(json_object_get(op, "operationId"));
                if (!id)
                    continue;
                json_int_t n = json_integer_value(json_object_get(counts, id));
                if (pass == 0) {
                    json_object_set_new(counts, id, json_integer(n + 1));
                    continue;
                }
                char *want = n > 1 ? xasprintf("%s_%s", id, method) : xstrdup(id);
                char *unique = xstrdup(want);
                for (int k = 2; json_object_get(taken, unique); k++) {
                    free(unique);
                    unique = xasprintf("%s_%d", want, k);
                }
                json_object_set_new(taken, unique, json_true());
                json_object_set_new(op, "operationId", json_string(unique));
                free(want);
                free(unique);
            }
        }
    }
    json_decref(counts);
    json_decref(taken);
}

static json_t *error_schema(void)
{
    json_t *nullable_string = json_pack("{s:[s,s]}", "type", "string", "null");
    json_t *schema = json_pack(
        "{s:s, s:s, s:[s,s,s], s:{s:{s:s, s:s}, s:{s:s}, s:O, s:O, s:O, s:{s:[s,s]}, s:{}}}",
        "description",
        "Every error enoki answers in JSON; remote exceptions add nameko's error object", "type",
        "object", "required", "error", "message", "call_id", "properties", "error", "type",
        "string", "description",
        "A stable code: bad_arguments, bad_json, unauthorized, forbidden, method_not_found, "
        "body_too_large, unsupported_media_type, remote_error, bad_reply, unknown_service, "
        "broker_unavailable, broker_blocked, too_busy, timeout, ...",
        "message", "type", "string", "call_id", nullable_string, "exc_type", nullable_string,
        "exc_path", nullable_string, "exc_args", "type", "array", "null", "value");
    json_decref(nullable_string);
    return schema;
}

int gw_openapi_build(const struct gw_config *config, const struct gw_route_table *table,
                     json_t **out)
{
    if (out)
        *out = NULL;
    if (config == NULL || table == NULL || out == NULL)
        return GW_EINVAL;
    json_t *paths = json_object();
    /* components/schemas: the shared Error, then the routes' schemas that go there. */
    json_t *schemas = json_pack("{s:o}", "Error", error_schema());
    /* The path item of each template shape: rules that differ only in their variables' names
     * ("/a/<int:x>", "/a/<y>", both kept by werkzeug) share the first one's path. */
    json_t *shapes = json_object();
    for (size_t i = 0; i < gw_route_table_count(table); i++) {
        struct gw_route_info info;
        gw_route_table_get(table, i, &info);
        char *shape = path_template(info.rule, false);
        json_t *first = json_object_get(shapes, shape);
        if (first == NULL) {
            char *path = gw_openapi_path(info.rule);
            first = json_pack("{s:s, s:o, s:[]}", "path", path, "item", json_object(), "names");
            for (size_t k = 0; k < info.rule->nconvs; k++)
                json_array_append_new(json_object_get(first, "names"),
                                      json_string(info.rule->convs[k].name));
            json_object_set(paths, path, json_object_get(first, "item"));
            json_object_set_new(shapes, shape, first);
            free(path);
        }
        free(shape);
        json_t *item = json_object_get(first, "item");
        char *methods = xstrdup(info.methods);
        char *save = NULL;
        for (char *m = strtok_r(methods, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
            char lower[16] = "";
            for (size_t k = 0; m[k] && k + 1 < sizeof(lower); k++)
                lower[k] = (char)tolower((unsigned char)m[k]);
            /* One template and method make one operation: the first route's (docs/openapi.md). */
            if (!documented_method(m, info.methods) || json_object_get(item, lower) != NULL)
                continue;
            json_t *op = route_operation(config, &info, m, schemas);
            /* Its path parameters come first, in the rule's order: named as the path says. */
            json_t *params = json_object_get(op, "parameters");
            for (size_t k = 0; k < info.rule->nconvs; k++)
                json_object_set(json_array_get(params, k), "name",
                                json_array_get(json_object_get(first, "names"), k));
            json_object_set_new(item, lower, op);
        }
        free(methods);
    }
    json_decref(shapes);
    if (config->expose.n > 0)
        add_generic(config, paths);
    unique_operation_ids(paths);

    json_t *components = json_pack("{s:o}", "schemas", schemas);
    if (config->auth.jwt.enabled)
        json_object_set_new(components, "securitySchemes",
                            json_pack("{s:{s:s, s:s, s:s}}", "bearer", "type", "http", "scheme",
                                      "bearer", "bearerFormat", "JWT"));
    *out = json_pack("{s:s, s:{s:s, s:s, s:s}, s:o, s:o}", "openapi", "3.1.0", "info", "title",
                     config->name, "version", GW_VERSION, "description",
                     "The routes of this enoki gateway, generated from its config.", "paths", paths,
                     "components", components);
    return GW_OK;
}
