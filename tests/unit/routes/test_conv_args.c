/* test_conv_args.c - converter arguments read as werkzeug 2.2's parse_converter_args reads them.
 *
 * The expected values are werkzeug's (python3-werkzeug 2.2, parse_converter_args) and Python's own
 * int() and float(), except where enoki refuses what werkzeug would silently skip.
 */
#include "core/status.h"
#include "core/util.h"
#include "routes/conv_args.h"
#include "routes/table.h"

#include "tests/unit/routes/rule_refusal.h"
#include "tests/unit/suites.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- refused at add time ----------------------------------------------------------------- */

static const struct refusal refusals[] = {
    /* werkzeug's argument regex cannot read a minus sign and silently skips it: min=-5 would
     * become the positional fixed_digits=5. enoki refuses what werkzeug would skip. */
    {"/a/<int(min=-5,signed=True):x>", "cannot read converter arguments at 'min=-5"},
    {"/a/<int(min=1 max=2):x>", "cannot read converter arguments at 'min=1 max=2'"},
    {"/a/<int(,):x>", "cannot read converter arguments at ',"},
};

START_TEST(add_refuses_unreadable_arguments)
{
    const struct refusal *c = &refusals[_i];
    assert_rule_refused(c);
}
END_TEST

/* ---- gw_conv_args_parse ------------------------------------------------------------------ */

static struct gw_conv_arg *parse_ok(const char *text, size_t expect_n)
{
    struct gw_conv_arg *args = (struct gw_conv_arg *)1;
    size_t n = 99;
    char err[128] = "";
    int rc = gw_conv_args_parse(text, strlen(text), &args, &n, err, sizeof(err));
    ck_assert_msg(rc == GW_OK, "'%s': %s", text, err);
    ck_assert_msg(n == expect_n, "'%s': %zu arguments, expected %zu", text, n, expect_n);
    return args;
}

START_TEST(positional_and_keyword_values_get_python_types)
{
    struct gw_conv_arg *a = parse_ok("1, min=2.5, signed=True, x.y, None, False", 6);
    ck_assert_ptr_null(a[0].name);
    ck_assert_int_eq(a[0].type, GW_ARG_INT);
    ck_assert_int_eq(a[0].i, 1);
    ck_assert_str_eq(a[1].name, "min");
    ck_assert_int_eq(a[1].type, GW_ARG_FLOAT);
    ck_assert_double_eq(a[1].d, 2.5);
    ck_assert_str_eq(a[2].name, "signed");
    ck_assert_int_eq(a[2].type, GW_ARG_BOOL);
    ck_assert_int_eq(a[2].i, 1);
    ck_assert_ptr_null(a[3].name);
    ck_assert_int_eq(a[3].type, GW_ARG_STR);
    ck_assert_str_eq(a[3].s, "x.y");
    ck_assert_int_eq(a[4].type, GW_ARG_NONE);
    ck_assert_int_eq(a[5].type, GW_ARG_BOOL);
    ck_assert_int_eq(a[5].i, 0);
    gw_conv_args_free(a, 6);
}
END_TEST

START_TEST(quoted_strings_lose_their_quotes_and_prefix)
{
    /* werkzeug: ('a', 'b', 'c d', ')', '') */
    struct gw_conv_arg *a = parse_ok("'a', u'b', \"c d\", ')', ''", 5);
    static const char *const want[] = {"a", "b", "c d", ")", ""};
    for (size_t i = 0; i < ARRAY_LEN(want); i++) {
        ck_assert_int_eq(a[i].type, GW_ARG_STR);
        ck_assert_str_eq(a[i].s, want[i]);
    }
    gw_conv_args_free(a, 5);
    /* A quoted number stays a string: _pythonize sees the quotes. */
    a = parse_ok("'5'", 1);
    ck_assert_int_eq(a[0].type, GW_ARG_STR);
    ck_assert_str_eq(a[0].s, "5");
    gw_conv_args_free(a, 1);
}
END_TEST

START_TEST(whitespace_and_one_trailing_comma_are_allowed)
{
    struct gw_conv_arg *a = parse_ok("  a = 3 , ", 1);
    ck_assert_str_eq(a[0].name, "a");
    ck_assert_int_eq(a[0].i, 3);
    gw_conv_args_free(a, 1);
    a = parse_ok("", 0);
    ck_assert_ptr_null(a);
    a = parse_ok("   ", 0);
    ck_assert_ptr_null(a);
}
END_TEST

START_TEST(numbers_read_as_python_reads_them)
{
    /* "1." is \d+. in werkzeug's regex, then float("1.") */
    struct gw_conv_arg *a = parse_ok("1., 1_000, 99999999999999999999, \xd9\xa1\xd9\xa2, inf", 5);
    ck_assert_int_eq(a[0].type, GW_ARG_FLOAT);
    ck_assert_double_eq(a[0].d, 1.0);
    ck_assert_int_eq(a[1].type, GW_ARG_INT);
    ck_assert_int_eq(a[1].i, 1000);
    ck_assert_int_eq(a[2].type, GW_ARG_INT);
    ck_assert_int_eq(a[2].overflow, 1);
    ck_assert_int_eq(a[3].type, GW_ARG_INT); /* Arabic-Indic "12" */
    ck_assert_int_eq(a[3].i, 12);
    ck_assert_int_eq(a[4].type, GW_ARG_FLOAT);
    ck_assert(isinf(a[4].d));
    gw_conv_args_free(a, 5);
    /* \d+.\d+ takes any character for the dot: werkzeug reads "1 2" as one value, the string. */
    a = parse_ok("1 2", 1);
    ck_assert_int_eq(a[0].type, GW_ARG_STR);
    ck_assert_str_eq(a[0].s, "1 2");
    gw_conv_args_free(a, 1);
}
END_TEST

START_TEST(unreadable_arguments_are_refused)
{
    static const struct {
        const char *text;
        const char *message;
    } cases[] = {
        {"min=-5", "cannot read converter arguments at 'min=-5'"},
        {"a b", "cannot read converter arguments at 'a b'"},
        {"'a", "cannot read converter arguments at ''a'"},
        {"a,,b", "cannot read converter arguments at ',b'"},
        {"=1", "cannot read converter arguments at '=1'"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct gw_conv_arg *args = (struct gw_conv_arg *)1;
        size_t n = 99;
        char err[128] = "";
        ck_assert_int_eq(
            gw_conv_args_parse(cases[i].text, strlen(cases[i].text), &args, &n, err, sizeof(err)),
            GW_ERULE);
        ck_assert_ptr_null(args);
        ck_assert_uint_eq(n, 0);
        ck_assert_str_eq(err, cases[i].message);
    }
}
END_TEST

START_TEST(text_need_not_be_nul_terminated)
{
    /* Only the first 3 bytes are the argument text: "7, 8" would give two. */
    struct gw_conv_arg *args = NULL;
    size_t n = 0;
    char err[64];
    ck_assert_int_eq(gw_conv_args_parse("7, 8", 1, &args, &n, err, sizeof(err)), GW_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(args[0].i, 7);
    gw_conv_args_free(args, n);
    gw_conv_args_free(NULL, 0);
}
END_TEST

/* ---- Python's int() and float() ---------------------------------------------------------- */

static int py_int(const char *s, long long *value, int *overflow)
{
    struct gw_conv_arg arg = {.type = GW_ARG_STR};
    int ok = gw_py_int(s, strlen(s), &arg);
    if (!ok) {
        ck_assert_int_eq(arg.type, GW_ARG_STR); /* untouched */
        return 0;
    }
    ck_assert_int_eq(arg.type, GW_ARG_INT);
    *value = arg.i;
    *overflow = arg.overflow;
    return 1;
}

START_TEST(py_int_accepts_python_int_literals)
{
    static const struct {
        const char *text;
        long long value;
    } good[] = {
        {"0", 0},
        {"-0", 0},
        {"+5", 5},
        {" \t42\n", 42},
        {"1_000", 1000},
        {"-9223372036854775808", 0}, /* beyond long long: overflow */
        {"007", 7},
        {"\xef\xbc\x93", 3}, /* fullwidth 3 */
        {"9223372036854775807", 9223372036854775807LL},
    };
    for (size_t i = 0; i < ARRAY_LEN(good); i++) {
        long long v = -1;
        int overflow = -1;
        ck_assert_msg(py_int(good[i].text, &v, &overflow), "'%s' refused", good[i].text);
        ck_assert_msg(v == good[i].value, "'%s': %lld", good[i].text, v);
        ck_assert_int_eq(overflow, strcmp(good[i].text, "-9223372036854775808") == 0);
    }
    static const char *const bad[] = {"",    " ",   "1__0", "_1",   "1_",
                                      "+-1", "1.0", "1e3",  "0x10", "- 1"};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        long long v;
        int overflow;
        ck_assert_msg(!py_int(bad[i], &v, &overflow), "'%s' accepted", bad[i]);
    }
}
END_TEST

START_TEST(py_float_accepts_python_float_literals)
{
    static const struct {
        const char *text;
        double value;
    } good[] = {
        {"1.5", 1.5},     {".5", 0.5},     {"5.", 5.0},  {"1e3", 1000.0},
        {"-2E-2", -0.02}, {"1_0.5", 10.5}, {" 3 ", 3.0}, {"+7", 7.0},
    };
    for (size_t i = 0; i < ARRAY_LEN(good); i++) {
        struct gw_conv_arg arg = {0};
        ck_assert_msg(gw_py_float(good[i].text, strlen(good[i].text), &arg), "'%s' refused",
                      good[i].text);
        ck_assert_int_eq(arg.type, GW_ARG_FLOAT);
        ck_assert_double_eq_tol(arg.d, good[i].value, 1e-12);
    }
    struct gw_conv_arg arg = {0};
    ck_assert(gw_py_float("-Infinity", 9, &arg) && isinf(arg.d) && arg.d < 0);
    ck_assert(gw_py_float("NaN", 3, &arg) && isnan(arg.d));
    static const char *const bad[] = {"", ".", "1e", "e3", "1__0", "_1", "+-1", "1.2.3", "infinit"};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        struct gw_conv_arg untouched = {.type = GW_ARG_STR};
        ck_assert_msg(!gw_py_float(bad[i], strlen(bad[i]), &untouched), "'%s' accepted", bad[i]);
        ck_assert_int_eq(untouched.type, GW_ARG_STR);
    }
}
END_TEST

Suite *conv_args_suite(void)
{
    Suite *s = suite_create("conv_args");
    TCase *tc = tcase_create("add");
    tcase_add_loop_test(tc, add_refuses_unreadable_arguments, 0, (int)ARRAY_LEN(refusals));
    suite_add_tcase(s, tc);

    tc = tcase_create("parse");
    tcase_add_test(tc, positional_and_keyword_values_get_python_types);
    tcase_add_test(tc, quoted_strings_lose_their_quotes_and_prefix);
    tcase_add_test(tc, whitespace_and_one_trailing_comma_are_allowed);
    tcase_add_test(tc, numbers_read_as_python_reads_them);
    tcase_add_test(tc, unreadable_arguments_are_refused);
    tcase_add_test(tc, text_need_not_be_nul_terminated);
    suite_add_tcase(s, tc);

    tc = tcase_create("python");
    tcase_add_test(tc, py_int_accepts_python_int_literals);
    tcase_add_test(tc, py_float_accepts_python_float_literals);
    suite_add_tcase(s, tc);
    return s;
}
