/* test_converter.c - werkzeug 2.2's converters: their arguments as its constructors take them, the
 * regex each contributes to a part's key, and their to_python.
 */
#include "core/json.h"
#include "core/status.h"
#include "core/strbuf.h"
#include "core/util.h"
#include "routes/conv_args.h"
#include "routes/converter.h"
#include "routes/table.h"

#include "tests/unit/routes/rule_refusal.h"
#include "tests/unit/suites.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- refused at add time ----------------------------------------------------------------- */

static const struct refusal refusals[] = {
    {"/a/<foo:x>", "unknown converter 'foo'"},
    {"/a/<Int:x>", "unknown converter 'Int'"},
    {"/a/<int(foo=1):x>", "converter 'int' has no argument 'foo'"},
    {"/a/<float(fixed_digits=2):x>", "converter 'float' has no argument 'fixed_digits'"},
    {"/a/<int(1, 2, 3, 4, 5):x>", "converter 'int' takes at most 4 arguments"},
    {"/a/<int(3, fixed_digits=3):x>", "converter 'int': argument 'fixed_digits' given twice"},
    {"/a/<int(min=1, min=2):x>", "converter 'int': argument 'min' given twice"},
    {"/a/<int(min='a'):x>", "converter 'int': min must be a number"},
    {"/a/<float(max=None, signed='yes'):x>",
     "converter 'float': signed must be an integer or a boolean"},
    {"/a/<int(fixed_digits=1.5):x>",
     "converter 'int': fixed_digits must be an integer or a boolean"},
    {"/a/<int(min=99999999999999999999):x>", "converter 'int': min is out of range"},
    {"/a/<path(1):x>", "converter 'path' takes no arguments"},
    {"/a/<uuid(strict=True):x>", "converter 'uuid' takes no arguments"},
    {"/a/<any(1):x>", "converter 'any': item 1 is not a string (quote it)"},
    {"/a/<any(a, None):x>", "converter 'any': item 2 is not a string"},
    {"/a/<any(a, k=b):x>", "converter 'any' takes no keyword argument 'k'"},
    {"/a/<string(minlength=3, maxlength=2):x>", "converter 'string': minlength is above maxlength"},
    {"/a/<string(minlength=None):x>", "converter 'string': minlength must be an integer"},
    {"/a/<string(length='two'):x>", "converter 'string': length must be an integer"},
    {"/a/<string(length=2000000):x>", "converter 'string': length must be between 0 and 1000000"},
};

START_TEST(add_refuses_bad_converters)
{
    const struct refusal *c = &refusals[_i];
    assert_rule_refused(c);
}
END_TEST

/* ---- gw_converter_find ------------------------------------------------------------------- */

START_TEST(find_knows_werkzeugs_converters_and_their_weights)
{
    static const struct {
        const char *name;
        int weight;
    } known[] = {
        {"default", 100}, {"string", 100}, {"any", 100},  {"path", 200},
        {"int", 50},      {"float", 50},   {"uuid", 100},
    };
    for (size_t i = 0; i < ARRAY_LEN(known); i++) {
        const struct gw_converter *c = gw_converter_find(known[i].name, strlen(known[i].name));
        ck_assert_msg(c != NULL, "%s", known[i].name);
        ck_assert_int_eq(gw_converter_weight(c), known[i].weight);
    }
    /* A bare <name> is the default converter. */
    ck_assert_ptr_eq(gw_converter_find(NULL, 0), gw_converter_find("default", 7));
    /* Names compare whole and case-sensitively; the name need not be NUL-terminated. */
    ck_assert_ptr_null(gw_converter_find("Int", 3));
    ck_assert_ptr_null(gw_converter_find("in", 2));
    ck_assert_ptr_null(gw_converter_find("integer", 7));
    ck_assert_ptr_eq(gw_converter_find("intx", 3), gw_converter_find("int", 3));
}
END_TEST

/* ---- gw_converter_build ------------------------------------------------------------------ */

/* Builds converter name with argument text args into conv; returns the status and the regex. */
static int build(const char *name, const char *args, struct gw_rule_conv *conv, char **regex,
                 char *err, size_t errlen)
{
    struct gw_conv_arg *parsed = NULL;
    size_t n = 0;
    ck_assert_int_eq(gw_conv_args_parse(args, strlen(args), &parsed, &n, err, errlen), GW_OK);
    const struct gw_converter *c = gw_converter_find(name, strlen(name));
    ck_assert_ptr_nonnull(c);
    memset(conv, 0, sizeof(*conv));
    struct gw_strbuf sb = {0};
    int rc = gw_converter_build(c, parsed, n, conv, &sb, err, errlen);
    gw_conv_args_free(parsed, n);
    *regex = gw_strbuf_take(&sb);
    return rc;
}

START_TEST(build_gives_werkzeugs_regex)
{
    static const struct {
        const char *name, *args, *regex;
    } cases[] = {
        {"default", "", "[^/]{1,}"},
        {"string", "0", "[^/]{0,}"},
        {"string", "2, 5", "[^/]{2,5}"},
        {"string", "minlength=2, maxlength=None", "[^/]{2,}"},
        {"string", "length=3, minlength=9", "[^/]{3}"}, /* length wins, as in werkzeug */
        {"string", "length='4'", "[^/]{4}"},            /* int("4") */
        {"string", "length=2.7", "[^/]{2}"},            /* int(2.7) */
        {"string", "length=True", "[^/]{1}"},
        {"int", "", "\\d+"},
        {"int", "signed=True", "-?\\d+"},
        {"float", "signed=1", "-?\\d+\\.\\d+"},
        {"path", "", "[^/].*?"},
        {"uuid", "", "[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}"},
        {"any", "'a', b.c, 'd|e'", "(?:a|b\\.c|d\\|e)"},
        {"any", "", "(?:)"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct gw_rule_conv conv;
        char *regex;
        char err[128] = "";
        ck_assert_msg(build(cases[i].name, cases[i].args, &conv, &regex, err, sizeof(err)) == GW_OK,
                      "%s(%s): %s", cases[i].name, cases[i].args, err);
        ck_assert_str_eq(regex, cases[i].regex);
        free(regex);
        gw_converter_clear(&conv);
    }
}
END_TEST

START_TEST(build_fills_the_converter)
{
    struct gw_rule_conv conv;
    char *regex;
    char err[128];
    ck_assert_int_eq(
        build("int", "3, min=1.5, max=10, signed=True", &conv, &regex, err, sizeof(err)), GW_OK);
    ck_assert_int_eq(conv.kind, GW_CONV_INT);
    ck_assert_int_eq(conv.fixed_digits, 3);
    ck_assert(conv.min.set && !conv.min.is_int);
    ck_assert_double_eq(conv.min.d, 1.5);
    ck_assert(conv.max.set && conv.max.is_int);
    ck_assert_int_eq(conv.max.i, 10);
    ck_assert_int_eq(conv.is_signed, 1);
    free(regex);
    gw_converter_clear(&conv);

    ck_assert_int_eq(build("float", "max=None", &conv, &regex, err, sizeof(err)), GW_OK);
    ck_assert_int_eq(conv.kind, GW_CONV_FLOAT);
    ck_assert(!conv.min.set && !conv.max.set && !conv.is_signed);
    free(regex);
    gw_converter_clear(&conv);

    ck_assert_int_eq(build("string", "2, 5", &conv, &regex, err, sizeof(err)), GW_OK);
    ck_assert_uint_eq(conv.minlen, 2);
    ck_assert_uint_eq(conv.maxlen, 5);
    ck_assert_int_eq(conv.has_maxlen, 1);
    free(regex);
    gw_converter_clear(&conv);

    /* any keeps its items in rule order, duplicates included. */
    ck_assert_int_eq(build("any", "b, 'a', b", &conv, &regex, err, sizeof(err)), GW_OK);
    ck_assert_uint_eq(conv.nitems, 3);
    ck_assert_str_eq(conv.items[0], "b");
    ck_assert_str_eq(conv.items[1], "a");
    ck_assert_str_eq(conv.items[2], "b");
    free(regex);
    conv.name = strdup("v"); /* clear frees the name too */
    gw_converter_clear(&conv);
}
END_TEST

START_TEST(build_refusal_leaves_nothing_clear_cannot_free)
{
    /* any() fails on its third item after copying two: clear frees what was copied. */
    struct gw_rule_conv conv;
    char *regex;
    char err[128] = "";
    ck_assert_int_eq(build("any", "a, b, 3", &conv, &regex, err, sizeof(err)), GW_ERULE);
    ck_assert_str_eq(err, "converter 'any': item 3 is not a string (quote it)");
    ck_assert_uint_eq(conv.nitems, 2);
    free(regex);
    gw_converter_clear(&conv);
    ck_assert_int_eq(build("string", "length=1000001", &conv, &regex, err, sizeof(err)), GW_ERULE);
    ck_assert_str_eq(err, "converter 'string': length must be between 0 and 1000000");
    free(regex);
    gw_converter_clear(&conv);
}
END_TEST

/* ---- gw_converter_uuid_at ---------------------------------------------------------------- */

START_TEST(uuid_at_checks_the_8_4_4_4_12_shape)
{
    static const char good[] = "x/0123abcd-EF01-4567-89ab-CDEF01234567";
    ck_assert_int_eq(gw_converter_uuid_at(good, 2, strlen(good)), 1);
    ck_assert_int_eq(gw_converter_uuid_at(good, 1, strlen(good)), 0);
    ck_assert_int_eq(gw_converter_uuid_at(good, 2, strlen(good) - 1), 0); /* one byte short */
    ck_assert_int_eq(gw_converter_uuid_at(good, 3, strlen(good)), 0);
    static const char *const bad[] = {
        "0123abcd-ef01-4567-89ab-cdef0123456g", /* g is not hex */
        "0123abcd-ef01-4567-89ab_cdef01234567", /* _ for - */
        "0123abcdef-01-4567-89ab-cdef01234567", /* dash misplaced */
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++)
        ck_assert_msg(!gw_converter_uuid_at(bad[i], 0, strlen(bad[i])), "%s", bad[i]);
}
END_TEST

/* ---- gw_converter_value ------------------------------------------------------------------ */

/* to_python of text by converter name(args); returns the status, the value in *out. */
static int value_of(const char *name, const char *args, const char *text, json_t **out)
{
    struct gw_rule_conv conv;
    char *regex;
    char err[128];
    ck_assert_int_eq(build(name, args, &conv, &regex, err, sizeof(err)), GW_OK);
    free(regex);
    int rc = gw_converter_value(&conv, text, strlen(text), out);
    gw_converter_clear(&conv);
    if (rc != GW_OK)
        ck_assert_ptr_null(*out);
    return rc;
}

START_TEST(int_value_checks_fixed_digits_and_bounds)
{
    json_t *v;
    ck_assert_int_eq(value_of("int", "fixed_digits=3", "042", &v), GW_OK);
    ck_assert_int_eq(json_integer_value(v), 42);
    json_decref(v);
    ck_assert_int_eq(value_of("int", "fixed_digits=3", "42", &v), GW_ENOMATCH);
    /* len(value) counts the sign. */
    ck_assert_int_eq(value_of("int", "fixed_digits=3, signed=True", "-42", &v), GW_OK);
    ck_assert_int_eq(json_integer_value(v), -42);
    json_decref(v);
    /* An int against a float bound compares exactly: 1 < 1.5, 2 is not. */
    ck_assert_int_eq(value_of("int", "min=1.5", "1", &v), GW_ENOMATCH);
    ck_assert_int_eq(value_of("int", "min=1.5", "2", &v), GW_OK);
    json_decref(v);
    ck_assert_int_eq(value_of("int", "max=10", "10", &v), GW_OK);
    json_decref(v);
    ck_assert_int_eq(value_of("int", "max=10", "11", &v), GW_ENOMATCH);
    ck_assert_int_eq(value_of("int", "max=nan", "11", &v), GW_OK); /* nothing is above nan */
    json_decref(v);
}
END_TEST

START_TEST(int_value_reads_unicode_digits_within_64_bits)
{
    json_t *v;
    ck_assert_int_eq(value_of("int", "", "\xd9\xa3\xd9\xa4", &v), GW_OK); /* Arabic-Indic 34 */
    ck_assert_int_eq(json_integer_value(v), 34);
    json_decref(v);
    ck_assert_int_eq(value_of("int", "", "9223372036854775807", &v), GW_OK);
    ck_assert_int_eq(json_integer_value(v), INT64_MAX);
    json_decref(v);
    ck_assert_int_eq(value_of("int", "signed=True", "-9223372036854775808", &v), GW_OK);
    ck_assert_int_eq(json_integer_value(v), INT64_MIN);
    json_decref(v);
}
END_TEST

/* Python's int is unbounded: beyond 64 bits the value is carried as its digits (core/json.h),
 * compared with the bounds exactly as Python compares an int with an int or a float. */
static void assert_big(const char *args, const char *text, const char *want)
{
    json_t *v = NULL;
    int rc = value_of("int", args, text, &v);
    if (!want) {
        ck_assert_msg(rc == GW_ENOMATCH, "%s %s: matched", args, text);
        return;
    }
    ck_assert_msg(rc == GW_OK, "%s %s: %d", args, text, rc);
    size_t n;
    const char *got = gw_json_carried_text(v, &n);
    ck_assert_msg(got && n == strlen(want) && memcmp(got, want, n) == 0, "%s %s: %.*s", args, text,
                  got ? (int)n : 0, got ? got : "");
    json_decref(v);
}

START_TEST(int_value_beyond_64_bits_is_carried)
{
    assert_big("", "9223372036854775808", "9223372036854775808");
    assert_big("", "99999999999999999999999", "99999999999999999999999");
    assert_big("", "000000000000000000000099999999999999999999999", "99999999999999999999999");
    assert_big("signed=True", "-9223372036854775809", "-9223372036854775809");
    /* Arabic-Indic digits, as int() reads them: 3 then twenty 4s. */
    char arabic[64] = "\xd9\xa3";
    for (int i = 0; i < 20; i++)
        strcat(arabic, "\xd9\xa4");
    assert_big("", arabic, "344444444444444444444");
    /* Bounds: an int one, a float one of the same size either side, NaN. */
    assert_big("max=10", "99999999999999999999", NULL);
    assert_big("min=10", "99999999999999999999", "99999999999999999999");
    assert_big("signed=True, min=0", "-99999999999999999999", NULL);
    assert_big("signed=True, max=10", "-99999999999999999999", "-99999999999999999999");
    assert_big("max=1e20", "99999999999999999999", "99999999999999999999");
    assert_big("max=1e20", "100000000000000000000", "100000000000000000000");
    assert_big("max=1e20", "100000000000000000001", NULL);
    assert_big("min=1e20", "99999999999999999999", NULL);
    assert_big("min=1e20", "100000000000000000000", "100000000000000000000");
    assert_big("max=nan", "99999999999999999999", "99999999999999999999");
    /* More digits than Python's int() reads. */
    char many[4302];
    memset(many, '9', 4301);
    many[4301] = '\0';
    assert_big("", many, NULL);
    many[4300] = '\0';
    assert_big("", many, many);
}
END_TEST

START_TEST(float_value_checks_bounds_and_overflow)
{
    json_t *v;
    ck_assert_int_eq(value_of("float", "", "1.5", &v), GW_OK);
    ck_assert_double_eq(json_real_value(v), 1.5);
    json_decref(v);
    ck_assert_int_eq(value_of("float", "signed=True", "-\xef\xbc\x92.5", &v), GW_OK); /* -２.5 */
    ck_assert_double_eq(json_real_value(v), -2.5);
    json_decref(v);
    ck_assert_int_eq(value_of("float", "min=2", "1.5", &v), GW_ENOMATCH);
    ck_assert_int_eq(value_of("float", "max=1.25", "1.5", &v), GW_ENOMATCH);
    ck_assert_int_eq(value_of("float", "min=1.5, max=1.5", "1.5", &v), GW_OK);
    json_decref(v);
    char big[420];
    memset(big, '1', 400);
    strcpy(big + 400, ".0");
    /* float() makes it inf: carried, as json.dumps writes it. */
    ck_assert_int_eq(value_of("float", "", big, &v), GW_OK);
    size_t n;
    const char *text = gw_json_carried_text(v, &n);
    ck_assert(text && n == 8 && memcmp(text, "Infinity", 8) == 0);
    json_decref(v);
    ck_assert_int_eq(value_of("float", "max=5", big, &v), GW_ENOMATCH);
}
END_TEST

START_TEST(text_values_are_strings_and_uuids_lower_case)
{
    json_t *v;
    ck_assert_int_eq(value_of("uuid", "", "0123ABCD-EF01-4567-89AB-CDEF01234567", &v), GW_OK);
    ck_assert_str_eq(json_string_value(v), "0123abcd-ef01-4567-89ab-cdef01234567");
    json_decref(v);
    ck_assert_int_eq(value_of("path", "", "a/b c", &v), GW_OK);
    ck_assert_str_eq(json_string_value(v), "a/b c");
    json_decref(v);
    ck_assert_int_eq(value_of("any", "x, y", "y", &v), GW_OK);
    ck_assert_str_eq(json_string_value(v), "y");
    json_decref(v);
    ck_assert_int_eq(value_of("default", "", "caf\xc3\xa9", &v), GW_OK);
    ck_assert_str_eq(json_string_value(v), "caf\xc3\xa9");
    json_decref(v);
    /* Text that is not UTF-8 has no JSON form. */
    ck_assert_int_eq(value_of("string", "", "caf\xe9", &v), GW_ENOMATCH);
}
END_TEST

Suite *converter_suite(void)
{
    Suite *s = suite_create("converter");
    TCase *tc = tcase_create("add");
    tcase_add_loop_test(tc, add_refuses_bad_converters, 0, (int)ARRAY_LEN(refusals));
    suite_add_tcase(s, tc);

    tc = tcase_create("build");
    tcase_add_test(tc, find_knows_werkzeugs_converters_and_their_weights);
    tcase_add_test(tc, build_gives_werkzeugs_regex);
    tcase_add_test(tc, build_fills_the_converter);
    tcase_add_test(tc, build_refusal_leaves_nothing_clear_cannot_free);
    suite_add_tcase(s, tc);

    tc = tcase_create("value");
    tcase_add_test(tc, uuid_at_checks_the_8_4_4_4_12_shape);
    tcase_add_test(tc, int_value_checks_fixed_digits_and_bounds);
    tcase_add_test(tc, int_value_reads_unicode_digits_within_64_bits);
    tcase_add_test(tc, int_value_beyond_64_bits_is_carried);
    tcase_add_test(tc, float_value_checks_bounds_and_overflow);
    tcase_add_test(tc, text_values_are_strings_and_uuids_lower_case);
    suite_add_tcase(s, tc);
    return s;
}
