/* Unit tests for core/json_decode: every text is decoded by it and by jansson's json_loadb
 * (JSON_DECODE_ANY), which must agree: both refuse, or both give equal values (integers stay
 * integers, reals reals). tests/fuzz/fuzz_json.c does the same with generated texts. */
#include "core/json.h"

#include "tests/unit/suites.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Same type all the way down (json_equal takes 1 and 1.0 apart already) and the same key order. */
static int same(json_t *a, json_t *b)
{
    if (!json_equal(a, b))
        return 0;
    if (json_is_object(a)) {
        void *ia = json_object_iter(a), *ib = json_object_iter(b);
        for (; ia && ib; ia = json_object_iter_next(a, ia), ib = json_object_iter_next(b, ib)) {
            if (strcmp(json_object_iter_key(ia), json_object_iter_key(ib)) != 0 ||
                !same(json_object_iter_value(ia), json_object_iter_value(ib)))
                return 0;
        }
        return !ia && !ib;
    }
    if (json_is_array(a)) {
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!same(json_array_get(a, i), json_array_get(b, i)))
                return 0;
    }
    return 1;
}

static void check_agrees(const char *text, size_t len, int want_ok)
{
    json_error_t theirs_error, ours_error;
    json_t *theirs = json_loadb(text, len, JSON_DECODE_ANY, &theirs_error);
    json_t *ours = gw_json_decode(text, len, &ours_error);
    ck_assert_msg(!theirs == !ours, "%.*s: jansson %s, enoki %s", (int)len, text,
                  theirs ? "decodes" : theirs_error.text, ours ? "decodes" : ours_error.text);
    if (want_ok >= 0)
        ck_assert_msg(!!ours == want_ok, "%.*s: expected %s", (int)len, text,
                      want_ok ? "a value" : "a refusal");
    if (ours)
        ck_assert_msg(same(ours, theirs), "%.*s: values differ", (int)len, text);
    else
        ck_assert_msg(ours_error.text[0] != '\0', "%.*s: a refusal without a reason", (int)len,
                      text);
    json_decref(theirs);
    json_decref(ours);
}

static const struct {
    const char *text;
    int ok; /* 1 decodes, 0 refused */
} cases[] = {
    {"{\"result\": {\"value\": 42}, \"error\": null}", 1},
    {"  [1, -2, 3.5, -0, -0.0, 1e3, 1E-3, 2.5e+10, true, false, null, \"s\", {}, []]  ", 1},
    {"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u2713\\ud83d\\ude00\"", 1},
    {"\"h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80 \x7f\"", 1},
    {"{\"a\": 1, \"b\": 2, \"a\": 3}", 1},
    {"{\"\": \"\"}", 1},
    {"9223372036854775807", 1},
    {"-9223372036854775808", 1},
    {"9223372036854775808", 0},
    {"-9223372036854775809", 0},
    {"123456789012345678901234567890", 0},
    {"1e308", 1},
    {"1e309", 0},
    {"-1e309", 0},
    {"1e-400", 1},
    {"0.1", 1},
    {"01", 0},
    {"-", 0},
    {"-a", 0},
    {"1.", 0},
    {".5", 0},
    {"1e", 0},
    {"1e+", 0},
    {"+1", 0},
    {"0x10", 0},
    {"", 0},
    {"   ", 0},
    {"nul", 0},
    {"truex", 0},
    {"true false", 0},
    {"[1,]", 0},
    {"[,1]", 0},
    {"{\"a\" 1}", 0},
    {"{\"a\": 1,}", 0},
    {"{1: 2}", 0},
    {"{\"a\": 1", 0},
    {"[1", 0},
    {"\"abc", 0},
    {"\"a\\x\"", 0},
    {"\"a\\u12\"", 0},
    {"\"a\\u12g4\"", 0},
    {"\"\\u0000\"", 0},
    {"{\"\\u0000\": 1}", 0},
    {"\"\\ud800\"", 0},
    {"\"\\udc00\"", 0},
    {"\"\\ud800\\u0041\"", 0},
    {"\"\\ud800x\"", 0},
    {"\"tab\there\"", 0},
    {"\"\xc3\"", 0},
    {"\"\xc0\x80\"", 0},
    {"\"\xed\xa0\x80\"", 0},
    {"\"\xf4\x90\x80\x80\"", 0},
    {"\"\xff\"", 0},
    {"NaN", 0},
    {"Infinity", 0},
    {"[1] x", 0},
    {"{\"a\": [1, {\"b\": [true, {\"c\": null}]}]}", 1},
    {"\xef\xbb\xbf{}", 0},
};

START_TEST(agrees_with_jansson)
{
    check_agrees(cases[_i].text, strlen(cases[_i].text), cases[_i].ok);
}
END_TEST

/* A NUL byte inside a string and outside one: refused. jansson 2.14 refuses them too, except one
 * right after a number at the very end ("1\0"), which its lexer takes for the end of the input; a
 * NUL is never a JSON text's end, so that one is refused here (and left out of the comparison). */
START_TEST(nul_bytes_refused)
{
    check_agrees("\"a\0b\"", 5, 0);
    check_agrees("[1,\0 2]", 7, 0);
    check_agrees("{\"a\":1}\0", 8, 0);
    json_error_t e;
    ck_assert_ptr_null(gw_json_decode("1\0", 2, &e));
    ck_assert_str_eq(e.text, "end of file expected");
}
END_TEST

/* Values nested 2048 deep are read, one deeper refused, containers and scalars alike. */
START_TEST(nesting_limit_as_jansson)
{
    for (int depth = JSON_PARSER_MAX_DEPTH - 2; depth <= JSON_PARSER_MAX_DEPTH + 1; depth++) {
        for (int with_scalar = 0; with_scalar < 2; with_scalar++) {
            size_t len = (size_t)depth * 2 + 2;
            char *text = malloc(len);
            ck_assert_ptr_nonnull(text);
            size_t n = 0;
            for (int i = 0; i < depth; i++)
                text[n++] = '[';
            if (with_scalar)
                text[n++] = '7';
            for (int i = 0; i < depth; i++)
                text[n++] = ']';
            check_agrees(text, n, -1);
            free(text);
        }
    }
}
END_TEST

/* A long string with escapes spread out (the scratch buffer grows) and a long key. */
START_TEST(long_strings)
{
    size_t n = 0, cap = 70000;
    char *text = malloc(cap);
    ck_assert_ptr_nonnull(text);
    n += (size_t)sprintf(text + n, "{\"");
    for (int i = 0; i < 300; i++)
        text[n++] = 'k';
    n += (size_t)sprintf(text + n, "\": \"");
    for (int i = 0; i < 6000; i++)
        n += (size_t)sprintf(text + n, "ab\\n\xc3\xa9");
    n += (size_t)sprintf(text + n, "\", \"x\": 1.5}");
    check_agrees(text, n, 1);
    free(text);
}
END_TEST

/* The position of a refusal, as jansson counts it. */
START_TEST(error_position)
{
    json_error_t e;
    ck_assert_ptr_null(gw_json_decode("{\"a\":\n  [1, 2,]}", 16, &e));
    ck_assert_int_eq(e.line, 2);
    ck_assert_str_eq(e.text, "invalid token");
}
END_TEST

Suite *json_decode_suite(void)
{
    Suite *s = suite_create("json_decode");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, agrees_with_jansson, 0, (int)(sizeof(cases) / sizeof(cases[0])));
    tcase_add_test(tc, nul_bytes_refused);
    tcase_add_test(tc, nesting_limit_as_jansson);
    tcase_add_test(tc, long_strings);
    tcase_add_test(tc, error_position);
    suite_add_tcase(s, tc);
    return s;
}
