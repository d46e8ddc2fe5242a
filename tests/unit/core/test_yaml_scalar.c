/* Unit tests for core/yaml_scalar: YAML 1.1 implicit types as PyYAML's SafeLoader resolves them. */
#include "core/util.h"
#include "core/yaml_scalar.h"

#include "tests/unit/suites.h"

#include <math.h>

static const struct {
    const char *text;
    bool ok;
    long long value;
} int_cases[] = {
    {"0", true, 0},        {"7", true, 7},
    {"-7", true, -7},      {"+5", true, 5},
    {"1_000", true, 1000}, {"0x1f", true, 31},
    {"0xFF", true, 255},   {"0b101", true, 5},
    {"010", true, 8},      {"0_10", true, 8},
    {"1:30", true, 90},    {"1:0:0", true, 3600},
    {"-1:30", true, -90},  {"99999999999999999999999", true, 9223372036854775807LL},
    {"08", false, 0},      {"0x", false, 0},
    {"0b2", false, 0},     {"1:60", false, 0},
    {"1:", false, 0},      {"1.5", false, 0},
    {"", false, 0},        {"-", false, 0},
    {"abc", false, 0},     {"1e3", false, 0},
};

START_TEST(resolve_int)
{
    long long v = -12345;
    bool ok = gw_yaml_resolve_int(int_cases[_i].text, &v);
    ck_assert_msg(ok == int_cases[_i].ok, "case %d (%s)", _i, int_cases[_i].text);
    if (ok)
        ck_assert_msg(v == int_cases[_i].value, "case %d (%s): got %lld", _i, int_cases[_i].text,
                      v);
    else
        ck_assert_int_eq(v, -12345);
}
END_TEST

static const struct {
    const char *text;
    bool ok;
    double value;
} float_cases[] = {
    {"0.5", true, 0.5},
    {".5", true, 0.5},
    {"1.", true, 1.0},
    {"-2.5", true, -2.5},
    {"1_0.5", true, 10.5},
    {"1.5e+1", true, 15},
    {"1.5E-1", true, 0.15},
    {"1:30.5", true, 90.5},
    {".inf", true, INFINITY},
    {"-.Inf", true, -INFINITY},
    {"+.INF", true, INFINITY},
    {"1e3", false, 0},
    {"1.5e3", false, 0},
    {"-.nan", false, 0},
    {".", false, 0},
    {"1", false, 0},
    {"abc", false, 0},
    {"", false, 0},
    /* PyYAML's "\.[0-9][0-9_]*": a digit first after a leading dot, else a string. */
    {"._5", false, 0},
    {"._", false, 0},
    {".5_", true, 0.5},
    {"+.5", false, 0},
};

START_TEST(resolve_float)
{
    double v = -1;
    bool ok = gw_yaml_resolve_float(float_cases[_i].text, &v);
    ck_assert_msg(ok == float_cases[_i].ok, "case %d (%s)", _i, float_cases[_i].text);
    if (ok)
        ck_assert_msg(v == float_cases[_i].value, "case %d (%s): got %g", _i, float_cases[_i].text,
                      v);
}
END_TEST

START_TEST(resolve_nan)
{
    double v = 0;
    ck_assert(gw_yaml_resolve_float(".nan", &v));
    ck_assert(isnan(v));
    ck_assert(gw_yaml_resolve_float(".NaN", &v));
    ck_assert(isnan(v));
}
END_TEST

START_TEST(null_and_bool_words)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
    static const char *const trues[] = {"yes",  "Yes", "YES", "true", "True",
                                        "TRUE", "on",  "On",  "ON"};
    static const char *const falses[] = {"no",    "No",  "NO",  "false", "False",
                                         "FALSE", "off", "Off", "OFF"};
    bool b = false;
    for (size_t i = 0; i < ARRAY_LEN(nulls); i++)
        ck_assert(gw_yaml_is_null(nulls[i]));
    for (size_t i = 0; i < ARRAY_LEN(trues); i++) {
        ck_assert(gw_yaml_resolve_bool(trues[i], &b));
        ck_assert(b);
    }
    for (size_t i = 0; i < ARRAY_LEN(falses); i++) {
        ck_assert(gw_yaml_resolve_bool(falses[i], &b));
        ck_assert(!b);
    }
    ck_assert(!gw_yaml_is_null("nUll"));
    ck_assert(!gw_yaml_is_null("none"));
    ck_assert(!gw_yaml_resolve_bool("tRue", &b));
    ck_assert(!gw_yaml_resolve_bool("y", &b));
    ck_assert(!gw_yaml_resolve_bool("1", &b));
}
END_TEST

/* The first type that matches wins, in PyYAML's order; the text is kept for messages. */
START_TEST(typed_scalar)
{
    static const struct {
        const char *text;
        enum gw_yaml_kind kind;
    } cases[] = {
        {"~", GW_YAML_NULL},    {"off", GW_YAML_BOOL},   {"0x10", GW_YAML_INT},
        {"2.5", GW_YAML_FLOAT}, {"a b", GW_YAML_STRING}, {"2024-01-01", GW_YAML_STRING},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct gw_yaml_node *n = gw_yaml_typed_scalar(cases[i].text, "o", 3);
        ck_assert_msg(n->kind == cases[i].kind, "case %zu (%s)", i, cases[i].text);
        ck_assert_str_eq(n->text, cases[i].text);
        ck_assert_str_eq(n->origin, "o");
        ck_assert_int_eq(n->line, 3);
        gw_yaml_node_unref(n);
    }
    struct gw_yaml_node *n = gw_yaml_typed_scalar("0x10", "o", 1);
    ck_assert_int_eq(n->ival, 16);
    gw_yaml_node_unref(n);
    n = gw_yaml_typed_scalar("No", "o", 1);
    ck_assert(!n->bval);
    gw_yaml_node_unref(n);
}
END_TEST

Suite *yaml_scalar_suite(void)
{
    Suite *s = suite_create("yaml_scalar");
    TCase *tc = tcase_create("resolve");
    tcase_add_loop_test(tc, resolve_int, 0, (int)ARRAY_LEN(int_cases));
    tcase_add_loop_test(tc, resolve_float, 0, (int)ARRAY_LEN(float_cases));
    tcase_add_test(tc, resolve_nan);
    tcase_add_test(tc, null_and_bool_words);
    tcase_add_test(tc, typed_scalar);
    suite_add_tcase(s, tc);
    return s;
}
