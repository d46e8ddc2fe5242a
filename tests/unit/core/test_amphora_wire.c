#include "core/amphora_wire.h"
#include "core/status.h"

#include "tests/unit/suites.h"

#include <stdlib.h>
#include <string.h>

START_TEST(the_request_body_is_func_args_kwargs)
{
    json_t *args = json_pack("[s,i]", "root@example.com", 5);
    json_t *kwargs = json_pack("{s:s}", "a", "\xd0\x9f"); /* П */
    size_t len;
    char *body = gw_amphora_request_body("send_message.email.text", args, kwargs, &len);
    ck_assert_uint_eq(len, strlen(body));
    json_t *back = json_loads(body, 0, NULL);
    json_t *want = json_pack("{s:s,s:O,s:O}", "func", "send_message.email.text", "args", args,
                             "kwargs", kwargs);
    ck_assert(json_equal(back, want));
    /* Python 2's json.dumps as amphora's client writes it: ASCII only. */
    ck_assert_ptr_nonnull(strstr(body, "\\u041f"));
    free(body);
    json_decref(back);
    json_decref(want);
    /* No args or kwargs: [] and {}, always all three members. */
    body = gw_amphora_request_body("f", NULL, NULL, &len);
    back = json_loads(body, 0, NULL);
    want = json_pack("{s:s,s:[],s:{}}", "func", "f", "args", "kwargs");
    ck_assert(json_equal(back, want));
    free(body);
    json_decref(back);
    json_decref(want);
    json_decref(args);
    json_decref(kwargs);
}
END_TEST

START_TEST(a_result)
{
    json_t *result, *error;
    char why[128];
    const char *body = "{\"result\": {\"a\": [1, 2.5, null]}}";
    ck_assert_int_eq(gw_amphora_reply_decode(body, strlen(body), &result, &error, why, sizeof(why)),
                     GW_OK);
    ck_assert_ptr_null(error);
    json_t *want = json_pack("{s:[i,f,n]}", "a", 1, 2.5);
    ck_assert(json_equal(result, want));
    json_decref(want);
    json_decref(result);
    body = "{\"result\": null}";
    ck_assert_int_eq(gw_amphora_reply_decode(body, strlen(body), &result, &error, why, sizeof(why)),
                     GW_OK);
    ck_assert(json_is_null(result));
    json_decref(result);
}
END_TEST

/* The exception's value as Python's str(E(*args)) prints it. */
START_TEST(an_exception_is_a_nameko_shaped_error)
{
    const struct {
        const char *body, *type, *value;
    } cases[] = {
        {"{\"exception\": {\"args\": [\"x\", -5], \"type\": \"ValueError\"}}", "ValueError",
         "('x', -5)"},
        {"{\"exception\": {\"args\": [\"only\"], \"type\": \"E\"}}", "E", "only"},
        {"{\"exception\": {\"args\": [3], \"type\": \"E\"}}", "E", "3"},
        {"{\"exception\": {\"args\": [], \"type\": \"E\"}}", "E", ""},
        {"{\"exception\": {\"args\": [[1]], \"type\": \"E\"}}", "E", "[1]"},
        {"{\"exception\": {\"args\": [true, null, 1.5, \"it's\"], \"type\": \"E\"}}", "E",
         "(True, None, 1.5, \"it's\")"},
        {"{\"exception\": {\"args\": [\"No function foo defined\"], \"type\": \"WrongRequest\"}}",
         "WrongRequest", "No function foo defined"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *result, *error;
        char why[128];
        ck_assert_int_eq(gw_amphora_reply_decode(cases[i].body, strlen(cases[i].body), &result,
                                                 &error, why, sizeof(why)),
                         GW_OK);
        ck_assert_ptr_null(result);
        ck_assert_str_eq(json_string_value(json_object_get(error, "exc_type")), cases[i].type);
        ck_assert(json_is_null(json_object_get(error, "exc_path")));
        ck_assert_msg(strcmp(json_string_value(json_object_get(error, "value")), cases[i].value) ==
                          0,
                      "%s: %s", cases[i].body, json_string_value(json_object_get(error, "value")));
        json_t *doc = json_loads(cases[i].body, 0, NULL);
        ck_assert(json_equal(json_object_get(error, "exc_args"),
                             json_object_get(json_object_get(doc, "exception"), "args")));
        json_decref(doc);
        json_decref(error);
    }
}
END_TEST

START_TEST(anything_else_is_a_bad_reply)
{
    const char *bodies[] = {
        "not json",
        "[1, 2]",
        "42",
        "{\"other\": 1}",
        "{\"exception\": \"x\"}",
        "{\"exception\": {\"type\": 5, \"args\": []}}",
        "{\"exception\": {\"type\": \"E\"}}",
        "{\"exception\": {\"type\": \"E\", \"args\": {}}}",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        json_t *result = (json_t *)1, *error = (json_t *)1;
        char why[128] = "";
        ck_assert_int_eq(gw_amphora_reply_decode(bodies[i], strlen(bodies[i]), &result, &error, why,
                                                 sizeof(why)),
                         GW_EBADREPLY);
        ck_assert_ptr_null(result);
        ck_assert_ptr_null(error);
        ck_assert_msg(why[0] != '\0', "%s: no reason", bodies[i]);
    }
}
END_TEST

Suite *amphora_wire_suite(void)
{
    Suite *s = suite_create("amphora_wire");
    TCase *tc = tcase_create("bodies");
    tcase_add_test(tc, the_request_body_is_func_args_kwargs);
    tcase_add_test(tc, a_result);
    tcase_add_test(tc, an_exception_is_a_nameko_shaped_error);
    tcase_add_test(tc, anything_else_is_a_bad_reply);
    suite_add_tcase(s, tc);
    return s;
}
