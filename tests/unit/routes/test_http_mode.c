/* Unit tests for routes/http_mode: nameko's @http answers, Python's repr, the request object. The
 * expected repr strings were produced by CPython 3.11's repr(json.loads(...)). */
#include "core/status.h"
#include "routes/http_mode.h"

#include "tests/unit/suites.h"

#include <stdlib.h>
#include <string.h>

static const struct {
    const char *json, *repr;
} repr_cases[] = {
    {"{\"a\": 1}", "{'a': 1}"},
    {"[1, 2]", "[1, 2]"},
    {"null", "None"},
    {"true", "True"},
    {"false", "False"},
    {"1.5", "1.5"},
    {"0.1", "0.1"},
    {"1e16", "1e+16"},
    {"1e-05", "1e-05"},
    {"123456789.0", "123456789.0"},
    {"100.0", "100.0"},
    {"-0.0", "-0.0"},
    {"1.2345678901234567e+300", "1.2345678901234567e+300"},
    {"\"x\"", "'x'"},
    {"\"it's\"", "\"it's\""},
    {"\"say \\\"hi\\\" it's\"", "'say \"hi\" it\\'s'"},
    {"\"tab\\tnl\\ncr\\r bs\\\\\"", "'tab\\tnl\\ncr\\r bs\\\\'"},
    {"\"\\u0001\\u007f\"", "'\\x01\\x7f'"},
    {"\"h\\u00e9llo \\u2713 \\ud83d\\ude00\"", "'h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80'"},
    {"\"\\u00a0\\u00ad\\u200b\\u2028\"", "'\\xa0\\xad\\u200b\\u2028'"},
    {"{\"k\": [1, null, \"x'y\", 2.0], \"n\": {\"t\": true}}",
     "{'k': [1, None, \"x'y\", 2.0], 'n': {'t': True}}"},
    {"[]", "[]"},
    {"{}", "{}"},
    {"12345678901234567", "12345678901234567"},
    {"0.000123", "0.000123"},
    {"1e+22", "1e+22"},
    {"5e-324", "5e-324"},
};

START_TEST(python_repr)
{
    json_t *v = json_loads(repr_cases[_i].json, JSON_DECODE_ANY, NULL);
    ck_assert_ptr_nonnull(v);
    char *repr = gw_python_repr(v);
    ck_assert_str_eq(repr, repr_cases[_i].repr);
    free(repr);
    json_decref(v);
}
END_TEST

static const char text_plain[] = "text/plain; charset=utf-8";

struct result_case {
    const char *result; /* the handler's result, as JSON */
    int status;
    const char *content_type; /* NULL: set by a handler header */
    const char *body;
    const char *header_name, *header_value; /* one handler header to find, or NULL */
};

/* The raw captures of docs/nameko-wire.md §6, and nameko's handling of what is not a string. */
static const struct result_case result_cases[] = {
    {"\"hello world\"", 200, text_plain, "hello world", NULL, NULL},
    {"[201, \"created\"]", 201, text_plain, "created", NULL, NULL},
    {"[202, {\"X-Foo\": \"bar\", \"Content-Type\": \"application/json\"}, \"{\\\"ok\\\": true}\"]",
     202, NULL, "{\"ok\": true}", "X-Foo", "bar"},
    {"[200, [[\"X-A\", \"1\"], [\"X-B\", 2]], \"pairs\"]", 200, text_plain, "pairs", "X-B", "2"},
    {"[418, {\"X-N\": null}, \"tea\"]", 418, text_plain, "tea", "X-N", "None"},
    {"[\"201 CREATED\", \"x\"]", 201, text_plain, "x", NULL, NULL},
    {"\"\"", 200, text_plain, "", NULL, NULL},
    {"{\"a\": 1}", 500, text_plain, "Error: TypeError: Payload must be a string. Got `{'a': 1}`\n",
     NULL, NULL},
    {"[1, 2, 3, 4]", 500, text_plain,
     "Error: TypeError: Payload must be a string. Got `[1, 2, 3, 4]`\n", NULL, NULL},
    {"null", 500, text_plain, "Error: TypeError: Payload must be a string. Got `None`\n", NULL,
     NULL},
    {"true", 500, text_plain, "Error: TypeError: Payload must be a string. Got `True`\n", NULL,
     NULL},
    {"[200, {\"a\": 1}]", 500, text_plain,
     "Error: TypeError: Payload must be a string. Got `{'a': 1}`\n", NULL, NULL},
    {"[200, {\"X\": \"a\\nb\"}, \"x\"]", 500, text_plain, NULL, NULL, NULL},
    /* An interim status cannot end a request (a pipelined answer would be taken for the final). */
    {"[100, \"interim\"]", 500, text_plain,
     "Error: ValueError: invalid HTTP status 100: a 1xx status cannot end a request\n", NULL, NULL},
    {"[101, \"x\"]", 500, text_plain, NULL, NULL, NULL},
    {"[99, \"x\"]", 500, text_plain, "Error: ValueError: invalid HTTP status 99\n", NULL, NULL},
};

START_TEST(results_as_nameko_reads_them)
{
    const struct result_case *c = &result_cases[_i];
    json_t *result = json_loads(c->result, JSON_DECODE_ANY, NULL);
    ck_assert_ptr_nonnull(result);
    struct gw_response r;
    gw_http_respond_result(result, &r);
    ck_assert_int_eq(r.status, c->status);
    if (c->content_type)
        ck_assert_str_eq(r.content_type, c->content_type);
    else
        ck_assert_ptr_null(r.content_type);
    if (c->body) {
        ck_assert_uint_eq(r.body_len, strlen(c->body));
        ck_assert_mem_eq(r.body, c->body, r.body_len);
    } else {
        ck_assert(strncmp(r.body, "Error: ValueError: ", 19) == 0);
    }
    if (c->header_name) {
        int found = 0;
        for (size_t i = 0; i < r.n_headers; i++)
            if (strcmp(r.headers[i].name, c->header_name) == 0) {
                ck_assert_str_eq(r.headers[i].value, c->header_value);
                found = 1;
            }
        ck_assert(found);
    }
    gw_response_clear(&r);
    json_decref(result);
}
END_TEST

START_TEST(errors_as_nameko_sends_them)
{
    static char my_err[] = "MyErr";
    char *items[] = {my_err};
    struct gw_string_list expected = {items, 1};
    const struct {
        const char *type, *path, *value;
        int status;
        const char *body;
    } cases[] = {
        {"ValueError", "builtins.ValueError", "('boom', 1)", 500,
         "Error: ValueError: ('boom', 1)\n"},
        {"MyErr", "peer_errors.MyErr", "nope", 400, "Error: MyErr: nope\n"},
        {"BadRequest", "nameko.exceptions.BadRequest", "bad thing", 400,
         "Error: BadRequest: bad thing\n"},
        {"MethodNotFound", "nameko.exceptions.MethodNotFound", "m", 400,
         "Error: MethodNotFound: m\n"},
        {"ConnectionNotFound", "nameko.exceptions.ConnectionNotFound", "x", 400,
         "Error: ConnectionNotFound: x\n"},
        {"BadRequest", "myapp.BadRequest", "x", 500, "Error: BadRequest: x\n"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *error = json_pack("{s:s, s:s, s:[], s:s}", "exc_type", cases[i].type, "exc_path",
                                  cases[i].path, "exc_args", "value", cases[i].value);
        struct gw_response r;
        gw_http_respond_error(GW_EREMOTE, error, "", "svc.m", 30, &expected, &r);
        ck_assert_int_eq(r.status, cases[i].status);
        ck_assert_str_eq(r.content_type, text_plain);
        ck_assert_str_eq(r.body, cases[i].body);
        gw_response_clear(&r);
        json_decref(error);
    }
    struct gw_response r;
    gw_http_respond_error(GW_EUNKNOWN_SERVICE, NULL, "", "ghost.x", 30, NULL, &r);
    ck_assert_int_eq(r.status, 503);
    ck_assert_int_eq(r.retry_after, 5);
    ck_assert_str_eq(r.body, "Error: UnknownService: Unknown service `ghost`\n");
    gw_response_clear(&r);
    gw_http_respond_error(GW_ETIMEOUT, NULL, "", "svc.slow", 1.5, NULL, &r);
    ck_assert_int_eq(r.status, 504);
    ck_assert_str_eq(r.body, "Error: RpcTimeout: no reply from svc.slow within 1.5 s\n");
    gw_response_clear(&r);
}
END_TEST

START_TEST(header_names_as_werkzeug_spells_them)
{
    const char *cases[][2] = {{"x-api-key", "X-Api-Key"},
                              {"HOST", "Host"},
                              {"content-type", "Content-Type"},
                              {"dnt", "Dnt"},
                              {"x1y", "X1Y"},
                              {"X_Under", "X-Under"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *t = gw_http_header_title(cases[i][0]);
        ck_assert_str_eq(t, cases[i][1]);
        free(t);
    }
}
END_TEST

START_TEST(request_object)
{
    struct gw_header_field headers[] = {
        {"Host", "example.com:8000"}, {"x-foo", "a"},
        {"X-Foo", " b \t"},           {"content-type", "text/plain"},
        {"Cookie", "s=1; t=3; s=2"},  {"x_under", "u"}};
    struct gw_query_param query[] = {{"x", "1"}, {"x", "2"}, {"flag", ""}};
    struct gw_http_request_view view = {.method = "post",
                                        .target = "/p/caf%C3%A9?x=1&x=2&flag",
                                        .path = "/p/caf\xc3\xa9",
                                        .remote_addr = "127.0.0.1",
                                        .server = "127.0.0.1:9",
                                        .headers = headers,
                                        .n_headers = 6,
                                        .query = query,
                                        .n_query = 3,
                                        .body = "hi",
                                        .body_len = 2};
    json_t *o = gw_http_request_object(&view);
    json_t *want = json_loads(
        "{\"method\": \"POST\", \"url\": \"http://example.com:8000/p/caf\xc3\xa9?x=1&x=2&flag\","
        " \"path\": \"/p/caf\xc3\xa9\", \"query_string\": \"x=1&x=2&flag\","
        " \"args\": {\"x\": [\"1\", \"2\"], \"flag\": [\"\"]},"
        " \"headers\": {\"Host\": \"example.com:8000\", \"X-Foo\": \"a, b\","
        " \"Content-Type\": \"text/plain\", \"Cookie\": \"s=1; t=3; s=2\", \"X-Under\": \"u\"},"
        " \"data\": \"hi\", \"content_type\": \"text/plain\","
        " \"remote_addr\": \"127.0.0.1\", \"cookies\": {\"s\": \"1\", \"t\": \"3\"}}",
        0, NULL);
    ck_assert_ptr_nonnull(want);
    ck_assert_msg(json_equal(o, want), "%s", json_dumps(o, 0));
    /* In werkzeug's order: Content-Type (and Content-Length) first, as eventlet's environ has. */
    ck_assert_str_eq(json_object_iter_key(json_object_iter(json_object_get(o, "headers"))),
                     "Content-Type");
    json_decref(o);
    json_decref(want);

    /* A body that is not UTF-8 travels base64-encoded; no Content-Type is text/plain, as
     * eventlet's environ says; no Host: the server's own address, as werkzeug takes SERVER_NAME. */
    struct gw_http_request_view binary = {.method = "PUT",
                                          .target = "/b",
                                          .path = "/b",
                                          .remote_addr = "::1",
                                          .server = "127.0.0.1:9",
                                          .body = "\xff\x00\x01",
                                          .body_len = 3};
    o = gw_http_request_object(&binary);
    ck_assert_ptr_null(json_object_get(o, "data"));
    ck_assert_str_eq(json_string_value(json_object_get(o, "data_base64")), "/wAB");
    ck_assert_str_eq(json_string_value(json_object_get(o, "content_type")), "text/plain");
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(o, "headers"), "Content-Type")),
        "text/plain");
    ck_assert_str_eq(json_string_value(json_object_get(o, "query_string")), "");
    ck_assert_str_eq(json_string_value(json_object_get(o, "url")), "http://127.0.0.1:9/b");
    json_decref(o);
}
END_TEST

/* Expected values from werkzeug 2.2.2: get_current_url("http", get_host(...), "", path, query). */
START_TEST(werkzeug_urls)
{
    const char *cases[][4] = {
        {"example.com:8000", "/p/caf\xc3\xa9", "x=1&x=2&flag",
         "http://example.com:8000/p/caf\xc3\xa9?x=1&x=2&flag"},
        {"localhost:80", "/a b/%/;?#[]@&=", "q=%20%26%2B&r=[x]/?&s=caf%C3%A9&t=%FF+u",
         "http://localhost/a%20b/%25/;%3F%23%5B%5D%40%26%3D?q=%20%26+&r=%5Bx%5D%2F%3F&s=caf\xc3\xa9"
         "&t=%FF+u"},
        {"h", "/", "", "http://h/"},
        {"h", "//x", "a", "http://h/x?a"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *url = gw_http_werkzeug_url(cases[i][0], cases[i][1], cases[i][2]);
        ck_assert_str_eq(url, cases[i][3]);
        free(url);
    }
}
END_TEST

/* Expected values from werkzeug 2.2.2's parse_cookie (first value of a name). */
START_TEST(werkzeug_cookies)
{
    const char *cases[][2] = {
        {"a=1;b=2;  c = 3 ; d; e=\"x\\\"y\"; f=\"q v\"; g=\"\\101\"; a=9",
         "{\"a\": \"1\", \"b\": \"2\", \"c\": \"3\", \"d\": \"\", \"e\": \"x\\\"y\","
         " \"f\": \"q v\", \"g\": \"A\"}"},
        {"x=\"unterminated; y=2", "{\"x\": \"\\\"unterminated\", \"y\": \"2\"}"},
        {" =v; k=", "{\"k\": \"\"}"},
        {"q=\"a\" b; z=1", "{\"q\": \"\\\"a\\\" b\", \"z\": \"1\"}"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *got = json_object();
        gw_http_parse_cookies(cases[i][0], got);
        json_t *want = json_loads(cases[i][1], 0, NULL);
        ck_assert_ptr_nonnull(want);
        ck_assert_msg(json_equal(got, want), "%s: %s", cases[i][0], json_dumps(got, 0));
        json_decref(got);
        json_decref(want);
    }
}
END_TEST

Suite *http_mode_suite(void)
{
    Suite *s = suite_create("http_mode");
    TCase *tc = tcase_create("repr");
    tcase_add_loop_test(tc, python_repr, 0, (int)(sizeof(repr_cases) / sizeof(repr_cases[0])));
    suite_add_tcase(s, tc);
    tc = tcase_create("answers");
    tcase_add_loop_test(tc, results_as_nameko_reads_them, 0,
                        (int)(sizeof(result_cases) / sizeof(result_cases[0])));
    tcase_add_test(tc, errors_as_nameko_sends_them);
    suite_add_tcase(s, tc);
    tc = tcase_create("request");
    tcase_add_test(tc, header_names_as_werkzeug_spells_them);
    tcase_add_test(tc, request_object);
    tcase_add_test(tc, werkzeug_urls);
    tcase_add_test(tc, werkzeug_cookies);
    suite_add_tcase(s, tc);
    return s;
}
