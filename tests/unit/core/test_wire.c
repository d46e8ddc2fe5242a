/* Unit tests for core/wire and core/json: what goes on the wire and what comes back. */
#include "core/json.h"
#include "core/status.h"
#include "core/wire.h"

#include "tests/unit/suites.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

START_TEST(uuid4_has_the_canonical_form)
{
    char a[GW_UUID_LEN + 1], b[GW_UUID_LEN + 1];
    gw_uuid4(a);
    gw_uuid4(b);
    ck_assert_uint_eq(strlen(a), 36);
    ck_assert_str_ne(a, b);
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            ck_assert_int_eq(a[i], '-');
        else
            ck_assert(isxdigit((unsigned char)a[i]) && !isupper((unsigned char)a[i]));
    }
    ck_assert_int_eq(a[14], '4');
    ck_assert(strchr("89ab", a[19]) != NULL);
    /* Across several refills of the random pool: all in form, all different. */
    enum { N = 200 };
    static char many[N][GW_UUID_LEN + 1];
    for (int i = 0; i < N; i++) {
        gw_uuid4(many[i]);
        ck_assert_uint_eq(strlen(many[i]), 36);
        ck_assert_int_eq(many[i][14], '4');
        ck_assert(strchr("89ab", many[i][19]) != NULL);
        for (int j = 0; j < i; j++)
            ck_assert_str_ne(many[i], many[j]);
    }
}
END_TEST

START_TEST(request_body_is_what_json_dumps_writes)
{
    json_t *args = json_pack("[s]", "x");
    json_t *kwargs = json_pack("{s:i}", "y", 1);
    size_t len;
    char *body = gw_wire_request_body(args, kwargs, &len);
    /* The captured body of docs/nameko-wire.md §1, byte for byte. */
    ck_assert_str_eq(body, "{\"args\": [\"x\"], \"kwargs\": {\"y\": 1}}");
    ck_assert_uint_eq(len, 35);
    free(body);
    body = gw_wire_request_body(NULL, NULL, &len);
    ck_assert_str_eq(body, "{\"args\": [], \"kwargs\": {}}");
    free(body);
    json_decref(args);
    json_decref(kwargs);
}
END_TEST

static const struct {
    const char *json;
    const char *python;
    const char *compact;
} encode_cases[] = {
    {"{\"a\": [1, 2.5, true, false, null]}", "{\"a\": [1, 2.5, true, false, null]}",
     "{\"a\":[1,2.5,true,false,null]}"},
    {"0.1", "0.1", "0.1"},
    {"3.0", "3.0", "3.0"},
    {"1e300", "1e+300", "1e+300"},
    {"-0.000123", "-0.000123", "-0.000123"},
    /* Python's repr: fixed notation for exponents -4 to 15, with ".0" when integral. */
    {"[100.0, 10.0, 250.0, 1200.0, -0.0]", "[100.0, 10.0, 250.0, 1200.0, -0.0]",
     "[100.0,10.0,250.0,1200.0,-0.0]"},
    {"[1e15, 1e16, 1.5e16, 0.0001, 0.00001, 1.2345e-7]",
     "[1000000000000000.0, 1e+16, 1.5e+16, 0.0001, 1e-05, 1.2345e-07]",
     "[1000000000000000.0,1e+16,1.5e+16,0.0001,1e-05,1.2345e-07]"},
    {"[123456789012345680.0, 5e-324, 1.7976931348623157e308]",
     "[1.2345678901234568e+17, 5e-324, 1.7976931348623157e+308]",
     "[1.2345678901234568e+17,5e-324,1.7976931348623157e+308]"},
    {"\"h\\u00e9llo \\u2713 \\ud83d\\ude00\"", "\"h\\u00e9llo \\u2713 \\ud83d\\ude00\"",
     "\"h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80\""},
    {"\"q\\\" b\\\\ n\\n t\\t c\\u0001\"", "\"q\\\" b\\\\ n\\n t\\t c\\u0001\"",
     "\"q\\\" b\\\\ n\\n t\\t c\\u0001\""},
    /* DEL is escaped for Python's ensure_ascii only; runs of plain bytes between escapes. */
    {"\"\\u007f x\\u001f\\u00ffyz\\\"\"", "\"\\u007f x\\u001f\\u00ffyz\\\"\"",
     "\"\x7f x\\u001f\xc3\xbfyz\\\"\""},
    {"-9223372036854775808", "-9223372036854775808", "-9223372036854775808"},
    {"{}", "{}", "{}"},
    {"[]", "[]", "[]"},
    {"-9223372036854775807", "-9223372036854775807", "-9223372036854775807"},
};

START_TEST(encode_python_and_compact)
{
    json_t *v = json_loads(encode_cases[_i].json, JSON_DECODE_ANY, NULL);
    ck_assert_ptr_nonnull(v);
    char *python = gw_json_encode(v, GW_JSON_PYTHON, NULL);
    char *compact = gw_json_encode(v, GW_JSON_COMPACT, NULL);
    ck_assert_str_eq(python, encode_cases[_i].python);
    ck_assert_str_eq(compact, encode_cases[_i].compact);
    free(python);
    free(compact);
    json_decref(v);
}
END_TEST

START_TEST(lenient_decoding_carries_what_json_dumps_wrote)
{
    const char *text = "{\"result\": [NaN, Infinity, -Infinity, \"NaN in a string\", "
                       "123456789012345678901234567890], \"error\": null}";
    json_t *result, *error;
    char why[128];
    ck_assert_int_eq(gw_wire_reply_decode(text, strlen(text), &result, &error, why, sizeof(why)),
                     GW_OK);
    ck_assert_str_eq(json_string_value(json_array_get(result, 3)), "NaN in a string");
    /* Passed on to a Python caller as json.dumps wrote it. */
    size_t len;
    char *body = gw_wire_reply_body(result, error, &len);
    ck_assert_str_eq(body, "{\"result\": [NaN, Infinity, -Infinity, \"NaN in a string\", "
                           "123456789012345678901234567890], \"error\": null}");
    free(body);
    json_decref(result);
    ck_assert_ptr_null(gw_json_decode_lenient("{oops", 5, NULL));
}
END_TEST

START_TEST(reply_decoding)
{
    json_t *result, *error;
    char why[256];
    const char *ok = "{\"result\": [\"x\", 1], \"error\": null}";
    ck_assert_int_eq(gw_wire_reply_decode(ok, strlen(ok), &result, &error, why, sizeof(why)),
                     GW_OK);
    ck_assert_ptr_null(error);
    ck_assert_int_eq(json_array_size(result), 2);
    json_decref(result);

    const char *bad = "{\"result\": null, \"error\": {\"exc_type\": \"ValueError\", \"exc_path\": "
                      "\"builtins.ValueError\", \"exc_args\": [\"bad\", \"42\"], \"value\": "
                      "\"('bad', 42)\"}}";
    ck_assert_int_eq(gw_wire_reply_decode(bad, strlen(bad), &result, &error, why, sizeof(why)),
                     GW_OK);
    ck_assert(json_is_null(result));
    ck_assert_str_eq(gw_wire_exc_type(error), "ValueError");
    ck_assert_str_eq(gw_wire_exc_path(error), "builtins.ValueError");
    ck_assert_str_eq(gw_wire_exc_value(error), "('bad', 42)");
    json_decref(result);
    json_decref(error);

    const char *not_json = "not json";
    ck_assert_int_eq(
        gw_wire_reply_decode(not_json, strlen(not_json), &result, &error, why, sizeof(why)),
        GW_EBADREPLY);
    ck_assert_ptr_null(result);
    /* Neither a result nor an error: nameko's client raises (KeyError) on it. */
    ck_assert_int_eq(
        gw_wire_reply_decode("{\"error\": null}", 15, &result, &error, why, sizeof(why)),
        GW_EBADREPLY);
    ck_assert_str_eq(why, "reply has no result");
    ck_assert_ptr_null(result);
    ck_assert_int_eq(gw_wire_reply_decode("{\"foo\": 1}", 10, &result, &error, why, sizeof(why)),
                     GW_EBADREPLY);
    ck_assert_int_eq(gw_wire_reply_decode("[1]", 3, &result, &error, why, sizeof(why)),
                     GW_EBADREPLY);
    ck_assert_int_eq(gw_wire_reply_decode("{\"error\": 3}", 12, &result, &error, why, sizeof(why)),
                     GW_EBADREPLY);
    ck_assert_str_eq(gw_wire_exc_type(NULL), "");
}
END_TEST

static const amqp_table_entry_t *find_entry(const amqp_table_t *t, const char *key)
{
    for (int i = 0; i < t->num_entries; i++)
        if (t->entries[i].key.len == strlen(key) &&
            memcmp(t->entries[i].key.bytes, key, strlen(key)) == 0)
            return &t->entries[i];
    return NULL;
}

START_TEST(context_becomes_nameko_headers)
{
    json_t *context = json_pack("{s:[s], s:s, s:i, s:n, s:I, s:b}", "call_id_stack",
                                "enoki.http.abc", "auth_token", "Bearer t", "user_id", 42,
                                "skipped", "big", (json_int_t)1 << 40, "flag", 1);
    amqp_pool_t pool;
    init_amqp_pool(&pool, 1024);
    amqp_table_t table;
    gw_wire_context_headers(context, &pool, &table);
    ck_assert_int_eq(table.num_entries, 5);

    const amqp_table_entry_t *e = find_entry(&table, "nameko.call_id_stack");
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->value.kind, AMQP_FIELD_KIND_ARRAY);
    ck_assert_int_eq(e->value.value.array.num_entries, 1);
    ck_assert_int_eq(e->value.value.array.entries[0].kind, AMQP_FIELD_KIND_UTF8);
    ck_assert_int_eq(e->value.value.array.entries[0].value.bytes.len, strlen("enoki.http.abc"));

    e = find_entry(&table, "nameko.auth_token");
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->value.kind, AMQP_FIELD_KIND_UTF8);
    e = find_entry(&table, "nameko.user_id");
    ck_assert_int_eq(e->value.kind, AMQP_FIELD_KIND_I32);
    ck_assert_int_eq(e->value.value.i32, 42);
    e = find_entry(&table, "nameko.big");
    ck_assert_int_eq(e->value.kind, AMQP_FIELD_KIND_I64);
    ck_assert_ptr_null(find_entry(&table, "nameko.skipped"));
    ck_assert_ptr_nonnull(find_entry(&table, "nameko.flag"));

    empty_amqp_pool(&pool);
    json_decref(context);
}
END_TEST

/* The reply a nameko service sends (docs/nameko-wire.md §2, the captures). */
START_TEST(reply_body_is_what_a_service_writes)
{
    json_t *result = json_pack("[s, i]", "x", 1);
    size_t len;
    char *body = gw_wire_reply_body(result, NULL, &len);
    ck_assert_str_eq(body, "{\"result\": [\"x\", 1], \"error\": null}");
    ck_assert_uint_eq(len, strlen(body));
    free(body);
    json_decref(result);

    json_t *error = gw_nameko_error("ValueError", "builtins.ValueError",
                                    json_pack("[s, s]", "bad", "42"), "('bad', 42)");
    body = gw_wire_reply_body(NULL, error, &len);
    ck_assert_str_eq(body, "{\"result\": null, \"error\": {\"exc_type\": \"ValueError\", "
                           "\"exc_path\": \"builtins.ValueError\", \"exc_args\": [\"bad\", "
                           "\"42\"], \"value\": \"('bad', 42)\"}}");
    free(body);
    json_decref(error);
}
END_TEST

Suite *wire_suite(void)
{
    Suite *s = suite_create("wire");
    TCase *tc = tcase_create("encode");
    tcase_add_test(tc, uuid4_has_the_canonical_form);
    tcase_add_test(tc, request_body_is_what_json_dumps_writes);
    tcase_add_loop_test(tc, encode_python_and_compact, 0,
                        (int)(sizeof(encode_cases) / sizeof(encode_cases[0])));
    tcase_add_test(tc, context_becomes_nameko_headers);
    tcase_add_test(tc, reply_body_is_what_a_service_writes);
    suite_add_tcase(s, tc);
    tc = tcase_create("decode");
    tcase_add_test(tc, lenient_decoding_carries_what_json_dumps_wrote);
    tcase_add_test(tc, reply_decoding);
    suite_add_tcase(s, tc);
    return s;
}
