/* Unit tests for routes/call: HTTP request -> call arguments and context data. */
#include "core/json.h"
#include "core/status.h"
#include "routes/call.h"

#include "tests/unit/suites.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct args_case {
    const char *name;
    const char *path_values; /* JSON object or NULL */
    const char *query;       /* "a=1&b=2&a=3" style, already decoded; NULL = none */
    const char *content_type;
    const char *body;
    int status;
    const char *args;    /* expected JSON, when GW_OK */
    const char *kwargs;  /* expected JSON, when GW_OK */
    const char *err_has; /* expected substring of err, when not GW_OK */
};

static const struct args_case args_cases[] = {
    {"path only", "{\"value\": 42}", NULL, NULL, "", GW_OK, "[]", "{\"value\": 42}", NULL},
    {"query strings", NULL, "a=1&b=x", NULL, "", GW_OK, "[]", "{\"a\": \"1\", \"b\": \"x\"}", NULL},
    {"repeated query -> list", NULL, "t=a&t=b&t=c", NULL, "", GW_OK, "[]",
     "{\"t\": [\"a\", \"b\", \"c\"]}", NULL},
    {"flag without value", NULL, "flag", NULL, "", GW_OK, "[]", "{\"flag\": \"\"}", NULL},
    {"json object body", "{\"id\": 1}", "q=s", "application/json", "{\"x\": [1, 2], \"y\": null}",
     GW_OK, "[]", "{\"id\": 1, \"x\": [1, 2], \"y\": null, \"q\": \"s\"}", NULL},
    {"json array body -> args", "{\"id\": 1}", NULL, "application/json; charset=utf-8",
     "[1, \"two\"]", GW_OK, "[1, \"two\"]", "{\"id\": 1}", NULL},
    {"+json content type", NULL, NULL, "application/vnd.api+json", "{\"a\": 1}", GW_OK, "[]",
     "{\"a\": 1}", NULL},
    {"no content type is taken for JSON", NULL, NULL, NULL, "{\"a\": 1}", GW_OK, "[]", "{\"a\": 1}",
     NULL},
    {"empty body with text type", NULL, NULL, "text/plain", "", GW_OK, "[]", "{}", NULL},
    {"path and body clash", "{\"id\": 1}", NULL, "application/json", "{\"id\": 2}", GW_EARGS, NULL,
     NULL, "argument 'id' is given twice: in the path and in the body"},
    {"path and query clash", "{\"id\": 1}", "id=3", NULL, "", GW_EARGS, NULL, NULL,
     "argument 'id' is given twice: in the path and in the query string"},
    {"body and query clash", NULL, "x=3", "application/json", "{\"x\": 1}", GW_EARGS, NULL, NULL,
     "argument 'x' is given twice: in the body and in the query string"},
    {"invalid json", NULL, NULL, "application/json", "{\"x\": ", GW_EJSON, NULL, NULL,
     "not valid JSON"},
    {"duplicate keys in json", NULL, NULL, "application/json", "{\"x\": 1, \"x\": 2}", GW_EJSON,
     NULL, NULL, "not valid JSON"},
    /* An integer beyond 64 bits is JSON, and Python reads it: carried (core/json.h). */
    {"integer beyond 64 bits", NULL, NULL, "application/json",
     "{\"n\": 18446744073709551616, \"m\": [-99999999999999999999]}", GW_OK, "[]",
     "{\"n\": 18446744073709551616, \"m\": [-99999999999999999999]}", NULL},
    {"duplicate keys after a big integer", NULL, NULL, "application/json",
     "{\"x\": 18446744073709551616, \"x\": 2}", GW_EJSON, NULL, NULL, "duplicate object key"},
    {"NaN after a big integer", NULL, NULL, "application/json", "[18446744073709551616, NaN]",
     GW_EJSON, NULL, NULL, "invalid token"},
    {"scalar body", NULL, NULL, "application/json", "42", GW_EARGS, NULL, NULL,
     "must be an object"},
    {"form body -> 415", NULL, NULL, "application/x-www-form-urlencoded", "a=1", GW_EMEDIA, NULL,
     NULL, "application/x-www-form-urlencoded"},
    {"text body -> 415", NULL, NULL, "text/plain", "hello", GW_EMEDIA, NULL, NULL, "text/plain"},
};

START_TEST(build_args_table)
{
    const struct args_case *c = &args_cases[_i];
    json_t *path = c->path_values ? json_loads(c->path_values, 0, NULL) : NULL;
    struct gw_query_param params[16];
    size_t n = 0;
    char *query = c->query ? strdup(c->query) : NULL;
    for (char *save = NULL, *part = query ? strtok_r(query, "&", &save) : NULL; part;
         part = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(part, '=');
        if (eq)
            *eq = '\0';
        params[n].name = part;
        params[n].value = eq ? eq + 1 : NULL;
        n++;
    }
    json_t *args = NULL, *kwargs = NULL;
    char err[256] = "";
    int status = gw_call_build_args(path, params, n, c->content_type, c->body, strlen(c->body),
                                    &args, &kwargs, err, sizeof(err));
    ck_assert_msg(status == c->status, "%s: status %d, expected %d (%s)", c->name, status,
                  c->status, err);
    if (status == GW_OK) {
        /* Read as enoki reads Python's JSON: an integer beyond 64 bits is a carried number. */
        json_t *want_args = gw_json_decode_lenient(c->args, strlen(c->args), NULL);
        json_t *want_kwargs = gw_json_decode_lenient(c->kwargs, strlen(c->kwargs), NULL);
        ck_assert_msg(json_equal(args, want_args), "%s: args differ", c->name);
        ck_assert_msg(json_equal(kwargs, want_kwargs), "%s: kwargs differ", c->name);
        json_decref(want_args);
        json_decref(want_kwargs);
    } else {
        ck_assert_ptr_null(args);
        ck_assert_ptr_null(kwargs);
        ck_assert_msg(strstr(err, c->err_has) != NULL, "%s: '%s' lacks '%s'", c->name, err,
                      c->err_has);
    }
    json_decref(args);
    json_decref(kwargs);
    json_decref(path);
    free(query);
}
END_TEST

START_TEST(json_content_types)
{
    ck_assert(gw_call_is_json_type("application/json"));
    ck_assert(gw_call_is_json_type("Application/JSON; charset=utf-8"));
    ck_assert(gw_call_is_json_type("application/problem+json"));
    ck_assert(!gw_call_is_json_type("application/jsonp"));
    ck_assert(!gw_call_is_json_type("text/json+x"));
    ck_assert(!gw_call_is_json_type("text/plain"));
    ck_assert(!gw_call_is_json_type(NULL));
}
END_TEST

struct headers {
    const char *names[8];
    const char *values[8];
};

static const char *lookup(void *ctx, const char *name)
{
    struct headers *h = ctx;
    for (int i = 0; i < 8 && h->names[i]; i++)
        if (strcasecmp(h->names[i], name) == 0)
            return h->values[i];
    return NULL;
}

START_TEST(context_from_headers)
{
    static char header[] = "X-Tenant", key[] = "tenant", name[] = "gw";
    struct gw_context_header extra[] = {{header, key}};
    struct gw_config config = {.name = name, .context_headers = extra, .n_context_headers = 1};
    struct headers h = {
        {"authorization", "accept-language", "user-agent", "x-tenant", "x-request-id"},
        {"Bearer abc", "fr-CH", "curl/7.88", "acme", "req-42_a.b"}};
    char call_id[128];
    json_t *ctx = gw_call_context_new(&config, "http", lookup, &h, call_id, sizeof(call_id));
    ck_assert_str_eq(call_id, "gw.http.req-42_a.b");
    json_t *stack = json_object_get(ctx, "call_id_stack");
    ck_assert_int_eq(json_array_size(stack), 1);
    ck_assert_str_eq(json_string_value(json_array_get(stack, 0)), "gw.http.req-42_a.b");
    ck_assert_str_eq(json_string_value(json_object_get(ctx, "auth_token")), "Bearer abc");
    ck_assert_str_eq(json_string_value(json_object_get(ctx, "language")), "fr-CH");
    ck_assert_str_eq(json_string_value(json_object_get(ctx, "user_agent")), "curl/7.88");
    ck_assert_str_eq(json_string_value(json_object_get(ctx, "tenant")), "acme");
    json_decref(ctx);

    /* An invalid X-Request-Id is ignored: a fresh uuid4 takes its place; absent headers are not
     * sent at all. */
    struct headers bad = {{"x-request-id"}, {"has space"}};
    ctx = gw_call_context_new(&config, "http", lookup, &bad, call_id, sizeof(call_id));
    ck_assert_uint_eq(strlen(call_id), strlen("gw.http.") + 36);
    ck_assert_int_eq(strncmp(call_id, "gw.http.", 8), 0);
    ck_assert_int_eq(json_object_size(ctx), 1);
    json_decref(ctx);
}
END_TEST

START_TEST(request_id_rules)
{
    ck_assert(gw_call_request_id_valid("abc-DEF_1.2"));
    char long_id[66];
    memset(long_id, 'a', 64);
    long_id[64] = '\0';
    ck_assert(gw_call_request_id_valid(long_id));
    long_id[64] = 'a';
    long_id[65] = '\0';
    ck_assert(!gw_call_request_id_valid(long_id));
    ck_assert(!gw_call_request_id_valid(""));
    ck_assert(!gw_call_request_id_valid("a/b"));
    ck_assert(!gw_call_request_id_valid("a b"));
    ck_assert(!gw_call_request_id_valid("\xc3\xa9"));
}
END_TEST

START_TEST(generic_targets)
{
    const struct {
        const char *path;
        int status;
        const char *service, *method;
    } cases[] = {
        {"/rpc/greeting_service/hello", GW_OK, "greeting_service", "hello"},
        {"/rpc/svc-1/m_2", GW_OK, "svc-1", "m_2"},
        {"/rpc", GW_ENOMATCH, NULL, NULL},
        {"/rpc/", GW_ENOMATCH, NULL, NULL},
        {"/rpc/svc", GW_ENOMATCH, NULL, NULL},
        {"/rpc/svc/", GW_ENOMATCH, NULL, NULL},
        {"/rpc//m", GW_ENOMATCH, NULL, NULL},
        {"/rpc/svc/m/extra", GW_ENOMATCH, NULL, NULL},
        {"/rpc/a.b/c", GW_ENOMATCH, NULL, NULL},
        /* A dotted method is read; whether the service's protocol takes it is
         * gw_call_method_fits' (amphora's only). */
        {"/rpc/a/b.c", GW_OK, "a", "b.c"},
        {"/rpcx/a/b", GW_ENOMATCH, NULL, NULL},
        {"/other/a/b", GW_ENOMATCH, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *service, *method;
        int status = gw_call_generic_target("/rpc", cases[i].path, &service, &method);
        ck_assert_msg(status == cases[i].status, "%s: %d", cases[i].path, status);
        if (status == GW_OK) {
            ck_assert_str_eq(service, cases[i].service);
            ck_assert_str_eq(method, cases[i].method);
        } else {
            ck_assert_ptr_null(service);
            ck_assert_ptr_null(method);
        }
        free(service);
        free(method);
    }
    ck_assert(gw_call_under_prefix("/rpc", "/rpc"));
    ck_assert(gw_call_under_prefix("/rpc", "/rpc/x"));
    ck_assert(!gw_call_under_prefix("/rpc", "/rpcx"));
    ck_assert(gw_call_under_prefix("/api/call", "/api/call/a/b"));
}
END_TEST

START_TEST(exposed_globs)
{
    static char g1[] = "greeting_service.*", g2[] = "admin.status", g3[] = "*_public.get?";
    struct gw_policy_entry entries[] = {{.pattern = g1}, {.pattern = g2}, {.pattern = g3}};
    struct gw_config config = {.expose = {entries, 3}};
    ck_assert(gw_call_expose_find(&config, "greeting_service", "hello") != NULL);
    ck_assert(gw_call_expose_find(&config, "admin", "status") != NULL);
    ck_assert(gw_call_expose_find(&config, "admin", "shutdown") == NULL);
    ck_assert(gw_call_expose_find(&config, "x_public", "get1") != NULL);
    ck_assert(gw_call_expose_find(&config, "x_public", "get12") == NULL);
    ck_assert(gw_call_expose_find(&config, "greeting", "hello") == NULL);
    struct gw_config none = {0};
    ck_assert(gw_call_expose_find(&none, "greeting_service", "hello") == NULL);
}
END_TEST

/* The first entry that matches decides (its auth and scopes are the target's). */
START_TEST(expose_find_returns_the_first_match)
{
    static char narrow[] = "orders.cancel", wide[] = "orders.*";
    struct gw_policy_entry entries[] = {{.pattern = narrow, .auth = GW_AUTH_REQUIRED},
                                        {.pattern = wide, .auth = GW_AUTH_NONE}};
    struct gw_config config = {.expose = {entries, 2}};
    ck_assert_ptr_eq(gw_call_expose_find(&config, "orders", "cancel"), &entries[0]);
    ck_assert_ptr_eq(gw_call_expose_find(&config, "orders", "list"), &entries[1]);
    ck_assert_ptr_null(gw_call_expose_find(&config, "billing", "list"));
}
END_TEST

START_TEST(generic_bodies)
{
    const struct {
        const char *content_type, *body;
        int status;
        const char *args, *kwargs, *err_has;
    } cases[] = {
        {"application/json", "{\"args\": [1], \"kwargs\": {\"x\": 2}}", GW_OK, "[1]", "{\"x\": 2}",
         NULL},
        {"application/json", "", GW_OK, "[]", "{}", NULL},
        {NULL, "{\"kwargs\": {\"a\": null}}", GW_OK, "[]", "{\"a\": null}", NULL},
        {"application/json", "{\"args\": null, \"kwargs\": null}", GW_OK, "[]", "{}", NULL},
        {"application/json", "{}", GW_OK, "[]", "{}", NULL},
        {"application/json", "{\"foo\": 1}", GW_EARGS, NULL, NULL, "unknown member 'foo'"},
        {"application/json", "{\"args\": {}}", GW_EARGS, NULL, NULL, "'args' must be an array"},
        {"application/json", "{\"kwargs\": []}", GW_EARGS, NULL, NULL,
         "'kwargs' must be an object"},
        {"application/json", "[1, 2]", GW_EARGS, NULL, NULL, "must be a JSON object"},
        {"application/json", "{", GW_EJSON, NULL, NULL, "not valid JSON"},
        {"text/plain", "{}", GW_EMEDIA, NULL, NULL, "text/plain"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *args, *kwargs;
        char err[256] = "";
        int status = gw_call_generic_args(cases[i].content_type, cases[i].body,
                                          strlen(cases[i].body), &args, &kwargs, err, sizeof(err));
        ck_assert_msg(status == cases[i].status, "case %zu: %d (%s)", i, status, err);
        if (status == GW_OK) {
            json_t *want_args = json_loads(cases[i].args, 0, NULL);
            json_t *want_kwargs = json_loads(cases[i].kwargs, 0, NULL);
            ck_assert(json_equal(args, want_args));
            ck_assert(json_equal(kwargs, want_kwargs));
            json_decref(want_args);
            json_decref(want_kwargs);
        } else {
            ck_assert_ptr_null(args);
            ck_assert_ptr_null(kwargs);
            ck_assert_msg(strstr(err, cases[i].err_has), "case %zu: %s", i, err);
        }
        json_decref(args);
        json_decref(kwargs);
    }
}
END_TEST

START_TEST(path_decoding)
{
    const struct {
        const char *raw, *decoded;
        int status;
    } cases[] = {
        {"/s/caf%C3%A9", "/s/caf\xc3\xa9", GW_OK},
        {"/s/%ff", "/s/\xef\xbf\xbd", GW_OK},
        {"/a%2Fb", "/a/b", GW_OK},
        {"/a+b%20c", "/a+b c", GW_OK},
        {"/bad%zz%4", "/bad%zz%4", GW_OK},
        {"/end%", "/end%", GW_OK},
        {"http://example.com:80/x%41", "/xA", GW_OK},
        {"http://example.com", "/", GW_OK},
        {"HTTPS://h/a", "/a", GW_OK},
        {"https://h", "/", GW_OK},
        {"http://", "http://", GW_OK},
        {"/a%00b", NULL, GW_EARGS},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *out;
        char err[128] = "";
        /* An exact-length copy without a NUL: the sanitizers catch a read past len. */
        size_t len = strlen(cases[i].raw);
        char *raw = malloc(len ? len : 1);
        memcpy(raw, cases[i].raw, len);
        int status = gw_call_decode_path(raw, len, &out, err, sizeof(err));
        free(raw);
        ck_assert_msg(status == cases[i].status, "%s: %d", cases[i].raw, status);
        if (status == GW_OK)
            ck_assert_str_eq(out, cases[i].decoded);
        else
            ck_assert(strstr(err, "NUL") != NULL);
        free(out);
    }
}
END_TEST

/* Expected pairs from werkzeug 2.2.2's url_decode(...).items(multi=True). */
START_TEST(query_parsing_as_werkzeug)
{
    const struct {
        const char *raw;
        size_t n;
        const char *pairs[6][2];
    } cases[] = {
        {"a=1&&b=2&=v&", 3, {{"a", "1"}, {"b", "2"}, {"", "v"}}},
        {"flag&x=a+b%20c&x=%zz", 3, {{"flag", ""}, {"x", "a b c"}, {"x", "%zz"}}},
        {"n%C3%A9=%FF", 1, {{"n\xc3\xa9", "\xef\xbf\xbd"}}},
        {"", 0, {{NULL, NULL}}},
        {"&&&", 0, {{NULL, NULL}}},
        {"k=v=w", 1, {{"k", "v=w"}}},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct gw_query q;
        gw_query_parse(cases[i].raw, strlen(cases[i].raw), &q);
        ck_assert_msg(q.n == cases[i].n, "%s: %zu pairs", cases[i].raw, q.n);
        for (size_t k = 0; k < q.n; k++) {
            ck_assert_str_eq(q.params[k].name, cases[i].pairs[k][0]);
            ck_assert_str_eq(q.params[k].value, cases[i].pairs[k][1]);
        }
        gw_query_clear(&q);
    }
}
END_TEST

START_TEST(query_values_are_repaired)
{
    struct gw_query_param q[] = {{"x", "\xff"}, {"n\xe9", "ok"}};
    json_t *args, *kwargs;
    char err[128];
    ck_assert_int_eq(gw_call_build_args(NULL, q, 2, NULL, "", 0, &args, &kwargs, err, sizeof(err)),
                     GW_OK);
    ck_assert_str_eq(json_string_value(json_object_get(kwargs, "x")), "\xef\xbf\xbd");
    ck_assert_str_eq(json_string_value(json_object_get(kwargs, "n\xef\xbf\xbd")), "ok");
    json_decref(args);
    json_decref(kwargs);
}
END_TEST

Suite *call_suite(void)
{
    Suite *s = suite_create("call");
    TCase *tc = tcase_create("arguments");
    tcase_add_loop_test(tc, build_args_table, 0, (int)(sizeof(args_cases) / sizeof(args_cases[0])));
    tcase_add_test(tc, json_content_types);
    tcase_add_test(tc, path_decoding);
    tcase_add_test(tc, query_values_are_repaired);
    tcase_add_test(tc, query_parsing_as_werkzeug);
    suite_add_tcase(s, tc);
    tc = tcase_create("generic");
    tcase_add_test(tc, generic_targets);
    tcase_add_test(tc, exposed_globs);
    tcase_add_test(tc, expose_find_returns_the_first_match);
    tcase_add_test(tc, generic_bodies);
    suite_add_tcase(s, tc);
    tc = tcase_create("context");
    tcase_add_test(tc, context_from_headers);
    tcase_add_test(tc, request_id_rules);
    suite_add_tcase(s, tc);
    return s;
}
