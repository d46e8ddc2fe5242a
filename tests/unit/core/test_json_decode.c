/* Unit tests for core/json_decode: every text is decoded by it and by jansson's json_loadb
 * (JSON_DECODE_ANY), which must agree: both refuse, or both give equal values (integers stay
 * integers, reals reals). tests/fuzz/fuzz_json.c does the same with generated texts. */
#include "core/json.h"
#include "core/py_repr.h"

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

/* Read leniently, what json.loads takes beyond JSON, written back by each writer: json.dumps'
 * text (python), strict JSON for HTTP (compact: NaN and the infinities are null) and Python's
 * repr (repr). The outputs were checked against Python 3.11's json.dumps(json.loads(text)) and
 * repr(json.loads(text)). */
static const struct {
    const char *text, *python, *compact, *repr;
} lenient_cases[] = {
    {"NaN", "NaN", "null", "nan"},
    {"Infinity", "Infinity", "null", "inf"},
    {"-Infinity", "-Infinity", "null", "-inf"},
    {"[NaN, -Infinity]", "[NaN, -Infinity]", "[null,null]", "[nan, -inf]"},
    {"12345678901234567890", "12345678901234567890", "12345678901234567890",
     "12345678901234567890"},
    {"-9223372036854775809", "-9223372036854775809", "-9223372036854775809",
     "-9223372036854775809"},
    {"1000000000000000000000000000000", "1000000000000000000000000000000",
     "1000000000000000000000000000000", "1000000000000000000000000000000"},
    {"-0", "0", "0", "0"},
    {"1e400", "Infinity", "null", "inf"},
    {"-1e400", "-Infinity", "null", "-inf"},
    {"{\"a\": 1e999, \"b\": [18446744073709551616]}",
     "{\"a\": Infinity, \"b\": [18446744073709551616]}",
     "{\"a\":null,\"b\":[18446744073709551616]}", "{'a': inf, 'b': [18446744073709551616]}"},
    {"\"NaN\"", "\"NaN\"", "\"NaN\"", "'NaN'"},
    {"9223372036854775807", "9223372036854775807", "9223372036854775807", "9223372036854775807"},
};

START_TEST(lenient_reads_what_json_loads_reads)
{
    const char *text = lenient_cases[_i].text;
    json_t *v = gw_json_decode_lenient(text, strlen(text), NULL);
    ck_assert_msg(v != NULL, "%s", text);
    char *python = gw_json_encode(v, GW_JSON_PYTHON, NULL);
    char *compact = gw_json_encode(v, GW_JSON_COMPACT, NULL);
    char *repr = gw_python_repr(v);
    ck_assert_str_eq(python, lenient_cases[_i].python);
    ck_assert_str_eq(compact, lenient_cases[_i].compact);
    ck_assert_str_eq(repr, lenient_cases[_i].repr);
    free(python);
    free(compact);
    free(repr);
    json_decref(v);
    /* The strict reader still refuses what jansson refuses. */
    json_t *strict = gw_json_decode(text, strlen(text), NULL);
    ck_assert_int_eq(strict != NULL, text[0] == '"' || strcmp(text, "-0") == 0 ||
                                         strcmp(text, "9223372036854775807") == 0);
    json_decref(strict);
}
END_TEST

/* Only numbers are carried, and nothing read as a string is ever one. */
START_TEST(carried_numbers_are_numbers_only)
{
    static const char *const not_numbers[] = {"",
                                              "-",
                                              "nan",
                                              "inf",
                                              "1.5",
                                              "1e5",
                                              "--1",
                                              "1 2",
                                              "Infinit",
                                              "12a",
                                              "+1",
                                              "NaNa",
                                              "1,\"admin\":true"};
    for (size_t i = 0; i < sizeof(not_numbers) / sizeof(not_numbers[0]); i++)
        ck_assert_msg(gw_json_carried(not_numbers[i], strlen(not_numbers[i])) == NULL, "%s",
                      not_numbers[i]);
    json_t *n = gw_json_carried("-12", 3);
    size_t len;
    const char *text = gw_json_carried_text(n, &len);
    ck_assert_uint_eq(len, 3);
    ck_assert_mem_eq(text, "-12", 3);
    json_decref(n);
    /* A string is never taken for one: the mark byte is no UTF-8, refused by both readers. */
    static const char marked[] = "\"\xff"
                                 "12\"";
    ck_assert_ptr_null(gw_json_decode_lenient(marked, strlen(marked), NULL));
    json_t *s = json_string("12");
    ck_assert_ptr_null(gw_json_carried_text(s, &len));
    /* Text is asked of gw_json_text, which a number never passes. */
    ck_assert_str_eq(gw_json_text(s), "12");
    json_t *carried = gw_json_carried("12", 2);
    ck_assert_ptr_null(gw_json_text(carried));
    ck_assert_ptr_nonnull(json_string_value(carried)); /* what jansson alone would take for text */
    json_decref(carried);
    ck_assert_ptr_null(gw_json_text(NULL));
    ck_assert_ptr_null(gw_json_text(json_null()));
    json_decref(s);
    ck_assert_ptr_null(json_stringn("\xff"
                                    "12",
                                    3)); /* jansson's checked strings refuse it too */
    /* Integers of up to 4,300 digits, as Python 3.11's json.loads takes them. */
    char digits[4302];
    digits[0] = '-';
    memset(digits + 1, '7', 4300);
    json_t *big = gw_json_decode_lenient(digits, 4301, NULL);
    ck_assert_ptr_nonnull(gw_json_carried_text(big, &len));
    ck_assert_uint_eq(len, 4301);
    json_decref(big);
    digits[4301] = '7';
    ck_assert_ptr_null(gw_json_decode_lenient(digits, 4302, NULL));
    ck_assert_ptr_null(gw_json_decode_lenient(digits + 1, 4301, NULL));
    /* Words are whole words. */
    static const char *const broken[] = {"NaNa", "Infinityx", "-Inf", "[NaN1]", "N"};
    for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++)
        ck_assert_msg(gw_json_decode_lenient(broken[i], strlen(broken[i]), NULL) == NULL, "%s",
                      broken[i]);
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
    tcase_add_loop_test(tc, lenient_reads_what_json_loads_reads, 0,
                        (int)(sizeof(lenient_cases) / sizeof(lenient_cases[0])));
    tcase_add_test(tc, carried_numbers_are_numbers_only);
    suite_add_tcase(s, tc);
    return s;
}
