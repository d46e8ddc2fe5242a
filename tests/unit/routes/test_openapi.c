/* test_openapi.c - the OpenAPI document of a route table: rules as path templates, converters as
 * schemas, methods, responses, operationIds, the generic route and auth requirements. The document
 * is checked against the OpenAPI 3.1 schema by tests/integration/test_openapi.py. */
#include "core/config.h"
#include "core/status.h"
#include "core/strbuf.h"
#include "core/util.h"
#include "routes/openapi.h"
#include "routes/rule.h"
#include "routes/table.h"

#include "tests/unit/suites.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The config yaml and its routes compiled as gateway/main.c compiles them. */
struct fixture {
    struct gw_config *config;
    struct gw_route_table *table;
    json_t *doc;
};

static void fixture_load(struct fixture *fx, const char *yaml)
{
    char err[512] = "";
    int rc =
        gw_config_load_string("o.yaml", yaml, strlen(yaml), NULL, 0, &fx->config, err, sizeof(err));
    ck_assert_msg(rc == GW_OK, "%s", err);
    fx->table = gw_route_table_new();
    for (size_t i = 0; i < fx->config->n_routes; i++) {
        const struct gw_route_conf *r = &fx->config->routes[i];
        rc = gw_route_table_add(fx->table, r->rule, r->methods, (void *)(uintptr_t)r, err,
                                sizeof(err));
        ck_assert_msg(rc == GW_OK, "%s: %s", r->rule, err);
    }
    gw_route_table_compile(fx->table);
    ck_assert_int_eq(gw_openapi_build(fx->config, fx->table, &fx->doc), GW_OK);
}

static void fixture_free(struct fixture *fx)
{
    json_decref(fx->doc);
    gw_route_table_free(fx->table);
    gw_config_free(fx->config);
}

/* The member at a path of keys ("paths", "/a", "get", NULL), or NULL. */
static json_t *at(json_t *doc, const char *const *keys)
{
    for (size_t i = 0; doc && keys[i]; i++)
        doc = json_object_get(doc, keys[i]);
    return doc;
}
#define AT(doc, ...) at((doc), (const char *const[]){__VA_ARGS__, NULL})

static void assert_json(const json_t *got, const char *want_text)
{
    json_error_t e;
    json_t *want = json_loads(want_text, 0, &e);
    ck_assert_msg(want != NULL, "bad expectation %s: %s", want_text, e.text);
    char *got_text = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
    ck_assert_msg(json_equal(got, want), "got %s, want %s", got_text ? got_text : "NULL",
                  want_text);
    free(got_text);
    json_decref(want);
}

/* ---------------------------------------------------------------------------------------------
 * Paths and converters
 */

static const struct {
    const char *rule;
    const char *path;
} path_cases[] = {
    {"/", "/"},
    {"/items/<int:item_id>", "/items/{item_id}"},
    {"/items/<int:item_id>/", "/items/{item_id}/"},
    {"/files/<path:rest>", "/files/{rest}"},
    {"/files/<path:rest>/edit", "/files/{rest}/edit"},
    {"/p/<int:id>.json", "/p/{id}.json"},
    {"/mix/<int:a>-<string(length=2):b>.txt", "/mix/{a}-{b}.txt"},
    {"/a/<x>/b/<any(u, v):y>", "/a/{x}/b/{y}"},
    /* Literal braces would read as a template: percent-encoded, as a client sends them. */
    {"/set/{a}", "/set/%7Ba%7D"},
    {"/p/<int:id>{x}%?#.json", "/p/{id}%7Bx%7D%25%3F%23.json"},
};

START_TEST(rule_to_path_template)
{
    struct gw_rule *rule = NULL;
    char err[256];
    const char *text = path_cases[_i].rule;
    ck_assert_int_eq(gw_rule_parse(text, strlen(text), &rule, err, sizeof(err)), GW_OK);
    char *path = gw_openapi_path(rule);
    ck_assert_str_eq(path, path_cases[_i].path);
    free(path);
    gw_rule_free(rule);
}
END_TEST

static const struct {
    const char *rule; /* one variable */
    const char *schema;
} schema_cases[] = {
    {"/<v>", "{\"type\": \"string\", \"minLength\": 1, \"pattern\": \"^[^/]*$\"}"},
    {"/<string(minlength=2, maxlength=8):v>",
     "{\"type\": \"string\", \"minLength\": 2, \"maxLength\": 8, \"pattern\": \"^[^/]*$\"}"},
    {"/<string(length=4):v>",
     "{\"type\": \"string\", \"minLength\": 4, \"maxLength\": 4, \"pattern\": \"^[^/]*$\"}"},
    {"/<int:v>", "{\"type\": \"integer\", \"minimum\": 0}"},
    {"/<int(signed=True):v>", "{\"type\": \"integer\"}"},
    {"/<int(min=1, max=99):v>", "{\"type\": \"integer\", \"minimum\": 1, \"maximum\": 99}"},
    {"/<int(fixed_digits=4):v>", "{\"type\": \"integer\", \"minimum\": 0, \"maximum\": 9999}"},
    /* The sign is one of the digits: -999 is the lowest four characters write. */
    {"/<int(fixed_digits=4, signed=True):v>",
     "{\"type\": \"integer\", \"minimum\": -999, \"maximum\": 9999}"},
    {"/<int(fixed_digits=3, min=5, max=50):v>",
     "{\"type\": \"integer\", \"minimum\": 5, \"maximum\": 50}"},
    {"/<int(fixed_digits=30):v>", "{\"type\": \"integer\", \"minimum\": 0}"},
    {"/<int(min=2.5):v>", "{\"type\": \"integer\", \"minimum\": 2.5}"},
    {"/<float:v>", "{\"type\": \"number\", \"minimum\": 0}"},
    {"/<float(signed=True, max=2.5):v>", "{\"type\": \"number\", \"maximum\": 2.5}"},
    {"/<float(min=0.5):v>", "{\"type\": \"number\", \"minimum\": 0.5}"},
    {"/<uuid:v>", "{\"type\": \"string\", \"format\": \"uuid\"}"},
    {"/<any(red, green, red, 'blue sky'):v>",
     "{\"type\": \"string\", \"enum\": [\"red\", \"green\", \"blue sky\"]}"},
    {"/<path:v>", "{\"type\": \"string\", \"minLength\": 1}"},
};

START_TEST(converter_schemas)
{
    struct gw_rule *rule = NULL;
    char err[256];
    const char *text = schema_cases[_i].rule;
    ck_assert_int_eq(gw_rule_parse(text, strlen(text), &rule, err, sizeof(err)), GW_OK);
    ck_assert_uint_eq(rule->nconvs, 1);
    json_t *schema = gw_openapi_converter_schema(&rule->convs[0]);
    assert_json(schema, schema_cases[_i].schema);
    json_decref(schema);
    gw_rule_free(rule);
}
END_TEST

START_TEST(parameters_say_what_schemas_cannot)
{
    struct fixture fx;
    fixture_load(&fx, "routes:\n"
                      "  - {rule: '/f/<path:rest>', rpc: s.f}\n"
                      "  - {rule: '/n/<int(fixed_digits=3):n>/<float:x>', rpc: s.n}\n");
    json_t *p = json_array_get(AT(fx.doc, "paths", "/f/{rest}", "get", "parameters"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(p, "name")), "rest");
    ck_assert_str_eq(json_string_value(json_object_get(p, "in")), "path");
    ck_assert(json_is_true(json_object_get(p, "required")));
    ck_assert_str_eq(json_string_value(json_object_get(p, "x-enoki-converter")), "path");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(p, "description")), "slashes"));
    json_t *params = AT(fx.doc, "paths", "/n/{n}/{x}", "get", "parameters");
    ck_assert_uint_eq(json_array_size(params), 2);
    p = json_array_get(params, 0);
    ck_assert_int_eq(json_integer_value(json_object_get(p, "x-enoki-fixed-digits")), 3);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(params, 1), "name")), "x");
    fixture_free(&fx);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Operations
 */

START_TEST(methods_without_head_and_options)
{
    struct fixture fx;
    fixture_load(&fx, "routes:\n"
                      "  - {rule: /a, rpc: s.a, methods: 'GET,OPTIONS,DELETE'}\n"
                      "  - {rule: /b, rpc: s.b, methods: [PUT, PATCH, POST, PURGE]}\n"
                      "  - {rule: /h, rpc: s.h, methods: HEAD}\n");
    /* HEAD beside GET is implied by it; OPTIONS listed by the rule is the route's to answer (a
     * CORS preflight is enoki's), and so is HEAD without GET. */
    json_t *a = AT(fx.doc, "paths", "/a");
    ck_assert_uint_eq(json_object_size(a), 3);
    ck_assert_ptr_nonnull(json_object_get(a, "get"));
    ck_assert_ptr_nonnull(json_object_get(a, "options"));
    ck_assert_ptr_nonnull(json_object_get(a, "delete"));
    ck_assert_ptr_null(AT(a, "head"));
    json_t *h = AT(fx.doc, "paths", "/h");
    ck_assert_uint_eq(json_object_size(h), 1);
    ck_assert_ptr_nonnull(json_object_get(h, "head"));
    ck_assert_ptr_null(AT(a, "get", "requestBody"));
    ck_assert_ptr_null(AT(a, "delete", "requestBody"));
    json_t *b = AT(fx.doc, "paths", "/b");
    ck_assert_uint_eq(json_object_size(b), 3);
    /* In the table's sorted order: the document is the same from run to run. */
    const char *order[] = {"patch", "post", "put"};
    size_t i = 0;
    const char *key;
    json_t *op;
    json_object_foreach(b, key, op)
    {
        ck_assert_str_eq(key, order[i++]);
        ck_assert_ptr_nonnull(AT(op, "requestBody", "content", "application/json", "schema"));
        ck_assert_ptr_nonnull(AT(op, "responses", "415"));
    }
    fixture_free(&fx);
}
END_TEST

START_TEST(one_operation_per_template_and_method)
{
    struct fixture fx;
    fixture_load(&fx, "routes:\n"
                      "  - {rule: '/a/<int:x>', rpc: s.int, methods: 'GET,POST'}\n"
                      "  - {rule: '/a/<x>', rpc: s.str, methods: 'GET,PUT'}\n");
    json_t *a = AT(fx.doc, "paths", "/a/{x}");
    ck_assert_uint_eq(json_object_size(a), 3);
    ck_assert_str_eq(json_string_value(AT(a, "get", "operationId")), "s.int_get");
    ck_assert_str_eq(json_string_value(AT(a, "put", "operationId")), "s.str");
    ck_assert_str_eq(json_string_value(AT(a, "get", "x-enoki-rule")), "/a/<int:x>");
    fixture_free(&fx);
    /* Names apart, one template too (OpenAPI: the same path): the first rule's path and names. */
    fixture_load(&fx, "routes:\n"
                      "  - {rule: '/b/<int:x>/c', rpc: s.int, methods: 'GET,POST'}\n"
                      "  - {rule: '/b/<y>/c', rpc: s.str, methods: 'GET,PUT'}\n");
    ck_assert_uint_eq(json_object_size(AT(fx.doc, "paths")), 1);
    json_t *b = AT(fx.doc, "paths", "/b/{x}/c");
    ck_assert_uint_eq(json_object_size(b), 3);
    ck_assert_str_eq(json_string_value(AT(b, "get", "x-enoki-rule")), "/b/<int:x>/c");
    ck_assert_str_eq(json_string_value(AT(b, "put", "x-enoki-rule")), "/b/<y>/c");
    json_t *param = json_array_get(AT(b, "put", "parameters"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(param, "name")), "x");
    ck_assert_str_eq(json_string_value(json_object_get(param, "in")), "path");
    assert_json(json_object_get(param, "schema"),
                "{\"type\": \"string\", \"minLength\": 1, \"pattern\": \"^[^/]*$\"}");
    fixture_free(&fx);
}
END_TEST

START_TEST(many_error_statuses_in_order)
{
    /* More GATEWAY.errors statuses than a small fixed array would hold, written out of order. */
    struct gw_strbuf yaml = {0};
    gw_strbuf_adds(&yaml, "GATEWAY:\n  errors:\n");
    for (int i = 99; i >= 0; i--) {
        char line[64];
        snprintf(line, sizeof(line), "    E%d: %d\n", i, 400 + i);
        gw_strbuf_adds(&yaml, line);
    }
    gw_strbuf_adds(&yaml, "routes: [{rule: /a, rpc: s.a}]\n");
    char *text = gw_strbuf_take(&yaml);
    struct fixture fx;
    fixture_load(&fx, text);
    free(text);
    json_t *responses = AT(fx.doc, "paths", "/a", "get", "responses");
    ck_assert_uint_eq(json_object_size(responses), 1 + 100 + 4); /* 200, 400-499, 500, 502-504 */
    int last = 0;
    const char *key;
    json_t *r;
    json_object_foreach(responses, key, r)
    {
        ck_assert_int_gt(atoi(key), last);
        last = atoi(key);
    }
    ck_assert_ptr_nonnull(strstr(json_string_value(AT(responses, "400", "description")), "E0"));
    fixture_free(&fx);
}
END_TEST

START_TEST(operation_ids_are_unique)
{
    struct fixture fx;
    fixture_load(&fx, "routes:\n"
                      "  - {rule: /one, rpc: s.only}\n"
                      "  - {rule: /a, rpc: s.m, methods: 'GET,POST'}\n"
                      "  - {rule: /b, rpc: s.m}\n"
                      "  - {rule: /c, rpc: s.m_get}\n");
    ck_assert_str_eq(json_string_value(AT(fx.doc, "paths", "/one", "get", "operationId")),
                     "s.only");
    ck_assert_str_eq(json_string_value(AT(fx.doc, "paths", "/a", "get", "operationId")), "s.m_get");
    ck_assert_str_eq(json_string_value(AT(fx.doc, "paths", "/a", "post", "operationId")),
                     "s.m_post");
    ck_assert_str_eq(json_string_value(AT(fx.doc, "paths", "/b", "get", "operationId")),
                     "s.m_get_2");
    /* A target whose own name is taken already gets a counter too. */
    ck_assert_str_eq(json_string_value(AT(fx.doc, "paths", "/c", "get", "operationId")),
                     "s.m_get_3");
    fixture_free(&fx);
}
END_TEST

START_TEST(responses_of_a_json_route)
{
    struct fixture fx;
    fixture_load(&fx, "GATEWAY: {errors: {ValueError: 422, KeyError: 500}}\n"
                      "routes:\n"
                      "  - {rule: /a, rpc: s.a, response_schema: {type: array}}\n");
    json_t *responses = AT(fx.doc, "paths", "/a", "get", "responses");
    const char *want[] = {"200", "400", "422", "500", "502", "503", "504"};
    ck_assert_uint_eq(json_object_size(responses), ARRAY_LEN(want));
    size_t i = 0;
    const char *key;
    json_t *r;
    json_object_foreach(responses, key, r)
    {
        ck_assert_str_eq(key, want[i++]);
        ck_assert_ptr_nonnull(json_object_get(r, "description"));
        if (strcmp(key, "200") != 0)
            assert_json(AT(r, "content", "application/json", "schema"),
                        "{\"$ref\": \"#/components/schemas/Error\"}");
    }
    assert_json(AT(responses, "200", "content", "application/json", "schema"),
                "{\"type\": \"array\"}");
    ck_assert_ptr_nonnull(
        strstr(json_string_value(AT(responses, "500", "description")), "KeyError"));
    ck_assert_ptr_nonnull(
        strstr(json_string_value(AT(responses, "502", "description")), "method_not_found"));
    ck_assert_ptr_nonnull(AT(responses, "503", "headers", "Retry-After", "schema"));
    json_t *error = AT(fx.doc, "components", "schemas", "Error");
    assert_json(json_object_get(error, "required"), "[\"error\", \"message\", \"call_id\"]");
    const char *members[] = {"error",    "message",  "call_id", "exc_type",
                             "exc_path", "exc_args", "value"};
    for (i = 0; i < ARRAY_LEN(members); i++)
        ck_assert_ptr_nonnull(AT(error, "properties", members[i]));
    fixture_free(&fx);
}
END_TEST

/* A route a rate limit covers may answer 429; the others, and the generic route when only rule
 * globs are given, may not. */
START_TEST(rate_limited_operations_answer_429)
{
    struct fixture fx;
    fixture_load(&fx, "GATEWAY:\n  expose: [s.*]\n  rate_limits:\n"
                      "    - {key: client_ip, rate: 1/s, match: ['/a']}\n"
                      "routes:\n  - {rule: /a, rpc: s.a}\n  - {rule: /b, rpc: s.b}\n");
    ck_assert_ptr_nonnull(AT(fx.doc, "paths", "/a", "get", "responses", "429", "description"));
    ck_assert_ptr_nonnull(
        AT(fx.doc, "paths", "/a", "get", "responses", "429", "headers", "Retry-After"));
    ck_assert_ptr_null(json_object_get(AT(fx.doc, "paths", "/b", "get", "responses"), "429"));
    ck_assert_ptr_null(json_object_get(
        AT(fx.doc, "paths", "/rpc/{service}/{method}", "post", "responses"), "429"));
    fixture_free(&fx);
    fixture_load(&fx, "GATEWAY:\n  expose: [s.*]\n  rate_limits:\n"
                      "    - {key: client_ip, rate: 1/s, match: ['s.b']}\n"
                      "routes:\n  - {rule: /a, rpc: s.a}\n  - {rule: /b, rpc: s.b}\n");
    ck_assert_ptr_null(json_object_get(AT(fx.doc, "paths", "/a", "get", "responses"), "429"));
    ck_assert_ptr_nonnull(AT(fx.doc, "paths", "/b", "get", "responses", "429"));
    ck_assert_ptr_nonnull(
        AT(fx.doc, "paths", "/rpc/{service}/{method}", "post", "responses", "429"));
    fixture_free(&fx);
}
END_TEST

START_TEST(http_mode_answers_text)
{
    struct fixture fx;
    fixture_load(&fx, "routes:\n"
                      "  - {rule: /t, rpc: s.t, mode: http, methods: 'GET,POST'}\n"
                      "  - {rule: /j, rpc: s.j, mode: http, response_schema: {type: object}}\n");
    json_t *get = AT(fx.doc, "paths", "/t", "get");
    assert_json(AT(get, "responses", "200", "content"),
                "{\"text/plain\": {\"schema\": {\"type\": \"string\"}}}");
    assert_json(AT(get, "responses", "500", "content"),
                "{\"text/plain\": {\"schema\": {\"type\": \"string\"}}}");
    ck_assert_ptr_null(AT(fx.doc, "paths", "/t", "post", "responses", "415"));
    /* A MethodNotFound is a 400 in mode: http (nameko's BadRequest family), never a 502. */
    ck_assert_ptr_null(
        strstr(json_string_value(AT(get, "responses", "502", "description")), "method_not_found"));
    /* Its 503s, too_busy included, are @http's text too. */
    assert_json(AT(get, "responses", "503", "content"),
                "{\"text/plain\": {\"schema\": {\"type\": \"string\"}}}");
    ck_assert_ptr_nonnull(AT(fx.doc, "paths", "/t", "post", "requestBody", "content", "*/*"));
    assert_json(AT(fx.doc, "paths", "/j", "get", "responses", "200", "content"),
                "{\"application/json\": {\"schema\": {\"type\": \"object\"}}}");
    ck_assert_str_eq(json_string_value(AT(get, "x-enoki-mode")), "http");
    fixture_free(&fx);
}
END_TEST

START_TEST(schemas_with_references_of_their_own)
{
    /* pydantic's shape: the schema's "$ref"s point into itself. Inline they would point into the
     * OpenAPI document: the schema goes to components/schemas and its references follow it. */
    struct fixture fx;
    fixture_load(&fx,
                 "routes:\n"
                 "  - rule: /a\n"
                 "    rpc: s.add\n"
                 "    methods: [POST, PUT]\n"
                 "    request_schema:\n"
                 "      $defs: {Item: {type: object, properties: {next: {$ref: '#'}}}}\n"
                 "      properties: {item: {$ref: '#/$defs/Item'}}\n"
                 "    response_schema: {type: integer}\n"
                 "  - rule: /b\n"
                 "    rpc: s.add\n"
                 "    methods: POST\n"
                 "    request_schema: {items: {$ref: '#/$defs/X'}, $defs: {X: {type: string}}}\n");
    static const char ref[] = "{\"$ref\": \"#/components/schemas/s.add.request\"}";
    assert_json(
        AT(fx.doc, "paths", "/a", "post", "requestBody", "content", "application/json", "schema"),
        ref);
    assert_json(
        AT(fx.doc, "paths", "/a", "put", "requestBody", "content", "application/json", "schema"),
        ref);
    assert_json(AT(fx.doc, "components", "schemas", "s.add.request"),
                "{\"$defs\": {\"Item\": {\"type\": \"object\", \"properties\": {\"next\": "
                "{\"$ref\": \"#/components/schemas/s.add.request\"}}}}, \"properties\": {\"item\": "
                "{\"$ref\": \"#/components/schemas/s.add.request/$defs/Item\"}}}");
    /* Another schema under the same name gets its own; one without references stays inline. */
    assert_json(
        AT(fx.doc, "paths", "/b", "post", "requestBody", "content", "application/json", "schema"),
        "{\"$ref\": \"#/components/schemas/s.add.request.2\"}");
    assert_json(AT(fx.doc, "components", "schemas", "s.add.request.2", "items"),
                "{\"$ref\": \"#/components/schemas/s.add.request.2/$defs/X\"}");
    assert_json(AT(fx.doc, "paths", "/a", "post", "responses", "200", "content", "application/json",
                   "schema"),
                "{\"type\": \"integer\"}");
    ck_assert_uint_eq(json_object_size(AT(fx.doc, "components", "schemas")), 3); /* and Error */
    fixture_free(&fx);
}
END_TEST

/* What is not a reference into the schema itself stays as written: data (const, default, enum,
 * examples), an anchor, a reference to the document's components; and a schema with an $id of its
 * own, against which its references resolve, stays inline. A property may be named "default". */
START_TEST(only_a_schemas_own_references_move)
{
    json_t *schemas = json_object();
    json_t *given = json_loads(
        "{\"properties\": {\"default\": {\"$ref\": \"#/$defs/D\"}, \"e\": {\"$ref\": "
        "\"#/components/schemas/Error\"}, \"a\": {\"$ref\": \"#anchor\"}, \"c\": {\"const\": "
        "{\"$ref\": \"#/x\"}, \"default\": {\"$ref\": \"#/y\"}, \"enum\": [{\"$ref\": "
        "\"#/z\"}], \"examples\": [{\"$ref\": \"#\"}]}}, \"$defs\": {\"D\": {\"type\": "
        "\"string\"}}}",
        0, NULL);
    ck_assert_ptr_nonnull(given);
    json_t *ref = gw_openapi_place_schema(schemas, given, "s.m.request");
    assert_json(ref, "{\"$ref\": \"#/components/schemas/s.m.request\"}");
    json_t *placed = json_object_get(schemas, "s.m.request");
    assert_json(json_object_get(placed, "properties"),
                "{\"default\": {\"$ref\": \"#/components/schemas/s.m.request/$defs/D\"}, \"e\": "
                "{\"$ref\": \"#/components/schemas/Error\"}, \"a\": {\"$ref\": \"#anchor\"}, "
                "\"c\": {\"const\": {\"$ref\": \"#/x\"}, \"default\": {\"$ref\": \"#/y\"}, "
                "\"enum\": [{\"$ref\": \"#/z\"}], \"examples\": [{\"$ref\": \"#\"}]}}");
    json_decref(ref);
    /* Data and anchors alone are not own references: the schema stays inline, as written. */
    json_t *data = json_loads("{\"const\": {\"$ref\": \"#/x\"}, \"$ref\": \"#anchor\"}", 0, NULL);
    json_t *inline_copy = gw_openapi_place_schema(schemas, data, "s.d.request");
    ck_assert(json_equal(inline_copy, data));
    /* A schema with its own $id resolves "#/..." against itself: it stays inline. */
    json_t *with_id = json_loads(
        "{\"$id\": \"urn:x\", \"items\": {\"$ref\": \"#/$defs/I\"}, \"$defs\": {\"I\": {}}}", 0,
        NULL);
    json_t *kept = gw_openapi_place_schema(schemas, with_id, "s.i.request");
    ck_assert(json_equal(kept, with_id));
    ck_assert_uint_eq(json_object_size(schemas), 1);
    /* A discriminator's mapping moves with its oneOf (pydantic's tagged unions); a subschema with
     * its own $id keeps its references. */
    json_t *union_ = json_loads(
        "{\"oneOf\": [{\"$ref\": \"#/$defs/Cat\"}], \"discriminator\": {\"propertyName\": "
        "\"kind\", \"mapping\": {\"cat\": \"#/$defs/Cat\"}}, \"$defs\": {\"Cat\": {}, \"In\": "
        "{\"$id\": \"urn:in\", \"items\": {\"$ref\": \"#/$defs/Z\"}, \"$defs\": {\"Z\": {}}}}}",
        0, NULL);
    json_t *union_ref = gw_openapi_place_schema(schemas, union_, "s.u.request");
    json_t *moved = json_object_get(schemas, "s.u.request");
    assert_json(json_object_get(json_object_get(moved, "discriminator"), "mapping"),
                "{\"cat\": \"#/components/schemas/s.u.request/$defs/Cat\"}");
    assert_json(json_object_get(json_object_get(json_object_get(moved, "$defs"), "In"), "items"),
                "{\"$ref\": \"#/$defs/Z\"}");
    json_decref(union_ref);
    json_decref(union_);
    json_decref(inline_copy);
    json_decref(kept);
    json_decref(data);
    json_decref(with_id);
    json_decref(given);
    json_decref(schemas);
}
END_TEST

START_TEST(documentation_keys_are_documented)
{
    struct fixture fx;
    fixture_load(&fx, "routes:\n"
                      "  - rule: /a\n"
                      "    rpc: s.a\n"
                      "    methods: POST\n"
                      "    summary: Adds\n"
                      "    description: Adds an a\n"
                      "    tags: [alpha, beta]\n"
                      "    request_schema: {type: object, required: [n]}\n"
                      "  - {rule: /b, rpc: shop.b}\n");
    json_t *op = AT(fx.doc, "paths", "/a", "post");
    ck_assert_str_eq(json_string_value(json_object_get(op, "summary")), "Adds");
    ck_assert_str_eq(json_string_value(json_object_get(op, "description")), "Adds an a");
    assert_json(json_object_get(op, "tags"), "[\"alpha\", \"beta\"]");
    assert_json(AT(op, "requestBody", "content", "application/json", "schema"),
                "{\"type\": \"object\", \"required\": [\"n\"]}");
    assert_json(AT(fx.doc, "paths", "/b", "get", "tags"), "[\"shop\"]");
    fixture_free(&fx);
}
END_TEST

START_TEST(generic_route_only_with_expose)
{
    struct fixture fx;
    fixture_load(&fx, "routes: [{rule: /a, rpc: s.a}]\n");
    ck_assert_uint_eq(json_object_size(json_object_get(fx.doc, "paths")), 1);
    ck_assert_ptr_null(AT(fx.doc, "components", "securitySchemes"));
    fixture_free(&fx);

    fixture_load(&fx, "GATEWAY: {expose: ['shop.*', 'billing.charge'], rpc_prefix: /call}\n");
    json_t *op = AT(fx.doc, "paths", "/call/{service}/{method}", "post");
    ck_assert_ptr_nonnull(op);
    ck_assert_str_eq(json_string_value(json_object_get(op, "operationId")), "generic");
    assert_json(json_object_get(op, "x-enoki-expose"), "[\"shop.*\", \"billing.charge\"]");
    ck_assert_ptr_nonnull(AT(op, "responses", "403"));
    ck_assert_ptr_nonnull(AT(op, "responses", "404"));
    ck_assert_ptr_nonnull(
        AT(op, "requestBody", "content", "application/json", "schema", "properties", "kwargs"));
    ck_assert_uint_eq(json_array_size(json_object_get(op, "parameters")), 2);
    fixture_free(&fx);

    /* A prefix's braces are literal text, percent-encoded as a rule's are. */
    fixture_load(&fx, "GATEWAY: {expose: ['shop.*'], rpc_prefix: '/r{p}c'}\n");
    ck_assert_ptr_nonnull(AT(fx.doc, "paths", "/r%7Bp%7Dc/{service}/{method}", "post"));
    fixture_free(&fx);
}
END_TEST

/* Operations that honour Idempotency-Key say so; GET and routes that turn it off do not. */
START_TEST(idempotency_key_parameter)
{
    struct fixture fx;
    fixture_load(&fx, "GATEWAY: {idempotency: true, expose: ['shop.*']}\n"
                      "routes:\n"
                      "  - {rule: '/o/<int:id>', rpc: s.o, methods: 'GET,POST,DELETE'}\n"
                      "  - {rule: /off, rpc: s.f, methods: POST, idempotency: false}\n");
    json_t *post = AT(fx.doc, "paths", "/o/{id}", "post", "parameters");
    ck_assert_uint_eq(json_array_size(post), 2);
    json_t *p = json_array_get(post, 1);
    ck_assert_str_eq(json_string_value(json_object_get(p, "name")), "Idempotency-Key");
    ck_assert_str_eq(json_string_value(json_object_get(p, "in")), "header");
    ck_assert(json_is_false(json_object_get(p, "required")));
    ck_assert_uint_eq(json_array_size(AT(fx.doc, "paths", "/o/{id}", "delete", "parameters")), 2);
    ck_assert_uint_eq(json_array_size(AT(fx.doc, "paths", "/o/{id}", "get", "parameters")), 1);
    ck_assert_ptr_null(AT(fx.doc, "paths", "/off", "post", "parameters"));
    ck_assert_uint_eq(
        json_array_size(AT(fx.doc, "paths", "/rpc/{service}/{method}", "post", "parameters")), 3);
    fixture_free(&fx);
    /* Off by default: no parameter anywhere. */
    fixture_load(&fx, "routes: [{rule: /o, rpc: s.o, methods: POST}]\n");
    ck_assert_ptr_null(AT(fx.doc, "paths", "/o", "post", "parameters"));
    fixture_free(&fx);
}
END_TEST

START_TEST(auth_requirements)
{
    struct fixture fx;
    fixture_load(&fx, "GATEWAY:\n"
                      "  auth: {jwt: {algorithms: [HS256], secret: s3cret}}\n"
                      "  expose: [{pattern: 'a.*', auth: optional}, {pattern: 'b.*', scopes: "
                      "[b:call]}, c.*]\n"
                      "routes:\n"
                      "  - {rule: /none, rpc: s.none}\n"
                      "  - {rule: /optional, rpc: s.optional, auth: optional}\n"
                      "  - {rule: /required, rpc: s.required, auth: required}\n"
                      "  - {rule: /scoped, rpc: s.scoped, scopes: [orders:read, orders:write]}\n"
                      "  - {rule: /optional-scoped, rpc: s.os, auth: optional, scopes: [x]}\n");
    assert_json(AT(fx.doc, "components", "securitySchemes"),
                "{\"bearer\": {\"type\": \"http\", \"scheme\": \"bearer\", \"bearerFormat\": "
                "\"JWT\"}}");
    assert_json(AT(fx.doc, "paths", "/none", "get", "security"), "[]");
    ck_assert_ptr_null(AT(fx.doc, "paths", "/none", "get", "responses", "401"));
    assert_json(AT(fx.doc, "paths", "/optional", "get", "security"), "[{}, {\"bearer\": []}]");
    ck_assert_ptr_nonnull(
        AT(fx.doc, "paths", "/optional", "get", "responses", "401", "headers", "WWW-Authenticate"));
    ck_assert_ptr_null(AT(fx.doc, "paths", "/optional", "get", "responses", "403"));
    assert_json(AT(fx.doc, "paths", "/required", "get", "security"), "[{\"bearer\": []}]");
    assert_json(AT(fx.doc, "paths", "/scoped", "get", "security"),
                "[{\"bearer\": [\"orders:read\", \"orders:write\"]}]");
    ck_assert_ptr_nonnull(AT(fx.doc, "paths", "/scoped", "get", "responses", "403"));
    /* Scopes need a token even on an optional route (routes/auth.h). */
    assert_json(AT(fx.doc, "paths", "/optional-scoped", "get", "security"),
                "[{\"bearer\": [\"x\"]}]");
    /* The generic route: every expose entry's alternatives, each once. */
    assert_json(AT(fx.doc, "paths", "/rpc/{service}/{method}", "post", "security"),
                "[{}, {\"bearer\": []}, {\"bearer\": [\"b:call\"]}]");
    fixture_free(&fx);
}
END_TEST

START_TEST(same_document_every_time)
{
    static const char yaml[] = "GATEWAY: {expose: ['*']}\n"
                               "routes:\n"
                               "  - {rule: '/x/<int:a>', rpc: s.x, methods: 'POST,GET,PUT'}\n"
                               "  - {rule: '/y/<path:p>', rpc: s.y}\n";
    struct fixture one, two;
    fixture_load(&one, yaml);
    fixture_load(&two, yaml);
    char *a = json_dumps(one.doc, JSON_PRESERVE_ORDER);
    char *b = json_dumps(two.doc, JSON_PRESERVE_ORDER);
    ck_assert_str_eq(a, b);
    ck_assert_str_eq(json_string_value(json_object_get(one.doc, "openapi")), "3.1.0");
    free(a);
    free(b);
    fixture_free(&one);
    fixture_free(&two);
}
END_TEST

START_TEST(misuse_is_refused)
{
    json_t *doc = (json_t *)1;
    ck_assert_int_eq(gw_openapi_build(NULL, NULL, &doc), GW_EINVAL);
    ck_assert_ptr_null(doc);
    struct gw_route_info info;
    ck_assert_int_eq(gw_route_table_get(NULL, 0, &info), GW_EINVAL);
    struct gw_route_table *table = gw_route_table_new();
    ck_assert_uint_eq(gw_route_table_count(table), 0);
    ck_assert_int_eq(gw_route_table_get(table, 0, &info), GW_EINVAL);
    gw_route_table_free(table);
}
END_TEST

Suite *openapi_suite(void)
{
    Suite *s = suite_create("openapi");
    TCase *tc = tcase_create("schemas");
    tcase_add_loop_test(tc, rule_to_path_template, 0, (int)ARRAY_LEN(path_cases));
    tcase_add_loop_test(tc, converter_schemas, 0, (int)ARRAY_LEN(schema_cases));
    tcase_add_test(tc, parameters_say_what_schemas_cannot);
    suite_add_tcase(s, tc);

    tc = tcase_create("operations");
    tcase_add_test(tc, methods_without_head_and_options);
    tcase_add_test(tc, one_operation_per_template_and_method);
    tcase_add_test(tc, many_error_statuses_in_order);
    tcase_add_test(tc, operation_ids_are_unique);
    tcase_add_test(tc, responses_of_a_json_route);
    tcase_add_test(tc, http_mode_answers_text);
    tcase_add_test(tc, rate_limited_operations_answer_429);
    tcase_add_test(tc, schemas_with_references_of_their_own);
    tcase_add_test(tc, only_a_schemas_own_references_move);
    tcase_add_test(tc, documentation_keys_are_documented);
    tcase_add_test(tc, generic_route_only_with_expose);
    tcase_add_test(tc, idempotency_key_parameter);
    tcase_add_test(tc, auth_requirements);
    tcase_add_test(tc, same_document_every_time);
    tcase_add_test(tc, misuse_is_refused);
    suite_add_tcase(s, tc);
    return s;
}
