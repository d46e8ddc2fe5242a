/* Unit tests for core/config_routes: the names of the modes, a route's defaults, and the keys the
 * OpenAPI document reads (summary, description, tags, request_schema, response_schema: inline or
 * a JSON file beside the config). The other route keys' values and messages are tested through the
 * loader in test_config.c. */
#include "core/config.h"
#include "core/config_routes.h"
#include "core/status.h"
#include "tests/unit/core/config_load.h"

#include "tests/unit/suites.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

START_TEST(mode_names)
{
    ck_assert_str_eq(gw_route_mode_name(GW_MODE_JSON), "json");
    ck_assert_str_eq(gw_route_mode_name(GW_MODE_HTTP), "http");
    ck_assert_str_eq(gw_route_mode_name((enum gw_route_mode)7), "?");
}
END_TEST

START_TEST(route_defaults)
{
    static const char yaml[] = "GATEWAY: {rpc_timeout: 2}\nroutes: [{rule: /a, rpc: s.m}]\n";
    struct gw_config *c = NULL;
    char err[256] = "";
    int rc = gw_config_load_string("r.yaml", yaml, strlen(yaml), NULL, 0, &c, err, sizeof(err));
    ck_assert_msg(rc == GW_OK, "%s", err);
    ck_assert_uint_eq(c->n_routes, 1);
    ck_assert_str_eq(c->routes[0].methods, "GET");
    ck_assert_int_eq(c->routes[0].mode, GW_MODE_JSON);
    ck_assert(c->routes[0].timeout == 2);
    ck_assert_uint_eq(c->routes[0].expected_exceptions.n, 0);
    gw_config_routes_clear(c);
    ck_assert_ptr_null(c->routes);
    ck_assert_uint_eq(c->n_routes, 0);
    gw_config_free(c);
}
END_TEST

START_TEST(documentation_keys)
{
    struct gw_config *c =
        test_config_ok("routes:\n"
                       "  - rule: /a\n"
                       "    rpc: s.m\n"
                       "    summary: Gets an a\n"
                       "    description: Long text\n"
                       "    tags: [one, two]\n"
                       "    request_schema: {type: object, required: [n], properties: {n: {type: "
                       "integer, minimum: 1.5}}, additionalProperties: false}\n"
                       "    response_schema:\n"
                       "      type: array\n"
                       "      items: {type: [string, 'null']}\n");
    const struct gw_route_conf *r = &c->routes[0];
    ck_assert_str_eq(r->summary, "Gets an a");
    ck_assert_str_eq(r->description, "Long text");
    ck_assert_uint_eq(r->tags.n, 2);
    ck_assert_str_eq(r->tags.items[1], "two");
    json_t *want =
        json_loads("{\"type\": \"object\", \"required\": [\"n\"], \"properties\": {\"n\": "
                   "{\"type\": \"integer\", \"minimum\": 1.5}}, "
                   "\"additionalProperties\": false}",
                   0, NULL);
    ck_assert(json_equal(r->request_schema.schema, want));
    json_decref(want);
    want =
        json_loads("{\"type\": \"array\", \"items\": {\"type\": [\"string\", \"null\"]}}", 0, NULL);
    ck_assert(json_equal(r->response_schema.schema, want));
    json_decref(want);
    ck_assert_ptr_null(r->request_schema.file);
    gw_config_free(c);

    c = test_config_ok("routes: [{rule: /a, rpc: s.m}]\n");
    ck_assert_ptr_null(c->routes[0].summary);
    ck_assert_ptr_null(c->routes[0].request_schema.schema);
    ck_assert_uint_eq(c->routes[0].tags.n, 0);
    gw_config_free(c);
}
END_TEST

START_TEST(documentation_keys_refused)
{
    test_config_refused("routes: [{rule: /a, rpc: s.m, request_schema: 5}]\n",
                        "a.yaml:1: routes[0].request_schema: expected a JSON Schema (a mapping) or "
                        "the name of a JSON file, got '5'");
    test_config_refused("routes: [{rule: /a, rpc: s.m, response_schema: [a]}]\n",
                        "a.yaml:1: routes[0].response_schema: expected a JSON Schema (a mapping) "
                        "or the name of a JSON file, got a list");
    test_config_refused("routes: [{rule: /a, rpc: s.m, request_schema: {maximum: .nan}}]\n",
                        "a.yaml:1: routes[0].request_schema.maximum: JSON has no .nan");
    test_config_refused("routes: [{rule: /a, rpc: s.m, request_schema: {enum: [{1: a}]}}]\n",
                        "a.yaml:1: routes[0].request_schema.enum[0]: JSON keys are strings, got "
                        "'1'");
    /* PyYAML merges a merge key into the mapping: kept, it would be a property named "<<". */
    test_config_refused("routes: [{rule: /a, rpc: s.m, request_schema: {properties: "
                        "{<<: {id: {type: integer}}, n: {type: string}}}}]\n",
                        "a.yaml:1: routes[0].request_schema.properties.<<: merge keys are not "
                        "supported: write the keys out");
    test_config_refused("routes: [{rule: /a, rpc: s.m, summary: ''}]\n",
                        "a.yaml:1: routes[0].summary: expected a non-empty string, got ''");
    test_config_refused("routes: [{rule: /a, rpc: s.m, tags: [a, 1.5]}]\n",
                        "a.yaml:1: routes[0].tags[1]: expected a tag such as 'orders', got '1.5'");
    test_config_refused("routes: [{rule: /a, rpc: s.m, request_schema: no-such-file.json}]\n",
                        "a.yaml:1: routes[0].request_schema: cannot read the JSON Schema file "
                        "'no-such-file.json': No such file or directory");
    test_config_refused("routes: [{rule: /a, rpc: s.m, request_schema: /dev/null}]\n",
                        "a.yaml:1: routes[0].request_schema: cannot read the JSON Schema file "
                        "'/dev/null': not a regular file");
    test_config_refused("routes: [{rule: /a, rpc: s.m, request_schema: /}]\n",
                        "a.yaml:1: routes[0].request_schema: cannot read the JSON Schema file "
                        "'/': not a regular file");
    /* Six levels of ten aliases: a million values once copied out, from a few lines. */
    test_config_refused("x:\n  - &a0 [x, x, x, x, x, x, x, x, x, x]\n"
                        "  - &a1 [*a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0]\n"
                        "  - &a2 [*a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1]\n"
                        "  - &a3 [*a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2]\n"
                        "  - &a4 [*a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3]\n"
                        "  - &a5 [*a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4]\n"
                        "routes: [{rule: /a, rpc: s.m, request_schema: {enum: *a5}}]\n",
                        "a.yaml:2: routes[0].request_schema.enum[0][8][9][9][9][8]: the schema is "
                        "too large once its "
                        "aliases are copied out (over 100000 values)");
}
END_TEST

/* Writes text to dir/name. */
static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(schema_files_beside_the_config)
{
    char dir[] = "/tmp/enoki-schema-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char config_path[512], err[512] = "", want[768];
    snprintf(config_path, sizeof(config_path), "%s/gateway.yaml", dir);
    write_file(dir, "in.json", "{\"type\": \"object\"}");
    write_file(dir, "bad.json", "{\"type\": ");
    write_file(dir, "three.json", "3");
    write_file(dir, "gateway.yaml",
               "routes:\n  - {rule: /a, rpc: s.m, request_schema: in.json, response_schema: "
               "in.json}\n");
    struct gw_config *c = NULL;
    int rc = gw_config_load(config_path, NULL, 0, &c, err, sizeof(err));
    ck_assert_msg(rc == GW_OK, "%s", err);
    ck_assert_str_eq(json_string_value(json_object_get(c->routes[0].request_schema.schema, "type")),
                     "object");
    ck_assert_str_eq(c->routes[0].response_schema.file, "in.json");
    gw_config_free(c);

    write_file(dir, "gateway.yaml",
               "routes:\n  - {rule: /a, rpc: s.m}\n  - rule: /b\n    rpc: s.m\n"
               "    response_schema: bad.json\n");
    rc = gw_config_load(config_path, NULL, 0, &c, err, sizeof(err));
    ck_assert_int_eq(rc, GW_ECONFIG);
    snprintf(want, sizeof(want),
             "%s:5: routes[1].response_schema: cannot read the JSON Schema file '%s/bad.json': "
             "line 1: unexpected token near end of file",
             config_path, dir);
    ck_assert_str_eq(err, want);

    write_file(dir, "gateway.yaml", "routes: [{rule: /a, rpc: s.m, request_schema: three.json}]\n");
    rc = gw_config_load(config_path, NULL, 0, &c, err, sizeof(err));
    ck_assert_int_eq(rc, GW_ECONFIG);
    snprintf(want, sizeof(want),
             "%s:1: routes[0].request_schema: '%s/three.json' holds no JSON Schema (an object or a "
             "boolean)",
             config_path, dir);
    ck_assert_str_eq(err, want);

    static const char *const names[] = {"in.json", "bad.json", "three.json", "gateway.yaml"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}
END_TEST

Suite *config_routes_suite(void)
{
    Suite *s = suite_create("config_routes");
    TCase *tc = tcase_create("routes");
    tcase_add_test(tc, mode_names);
    tcase_add_test(tc, route_defaults);
    suite_add_tcase(s, tc);
    tc = tcase_create("documentation");
    tcase_add_test(tc, documentation_keys);
    tcase_add_test(tc, documentation_keys_refused);
    tcase_add_test(tc, schema_files_beside_the_config);
    suite_add_tcase(s, tc);
    return s;
}
