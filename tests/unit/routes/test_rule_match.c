/* test_rule_match.c - one dynamic part matched against one path segment with the preferences of
 * Python's backtracking regex engine, as werkzeug matches it with the part's regex.
 *
 * Expected captures are what re.match(<the part's key>, segment) gives in CPython 3.11.
 */
#include "core/status.h"
#include "core/util.h"
#include "routes/rule.h"
#include "routes/rule_match.h"
#include "routes/table.h"

#include "tests/unit/suites.h"

#include <stdlib.h>
#include <string.h>

/* ---- gw_rule_part_match ------------------------------------------------------------------ */

struct match_case {
    const char *rule; /* its last part is matched */
    const char *segment;
    int matched;
    const char *captures[3]; /* when matched: the text of each capture, in order */
};

static const struct match_case match_cases[] = {
    /* Greedy [^/]{1,}: the first variable keeps all it can. */
    {"/<a>-<b>", "x-y-z", 1, {"x-y", "z"}},
    {"/<a>-<b>", "x-", 0, {NULL}},
    /* Lazy [^/].*? in the final part: the path takes the least it can. */
    {"/<path:a>-<b>", "x-y-z", 1, {"x", "y-z"}},
    /* '.' stops at a newline, [^/] does not. */
    {"/<path:p>x", "a\nx", 0, {NULL}},
    {"/<path:p>x", "\nx", 1, {"\n"}},
    /* \d+ greedy, the last one backtracks. */
    {"/<int:a><int:b>", "1234", 1, {"123", "4"}},
    {"/<int:a>", "-1", 0, {NULL}},
    {"/<int(signed=True):a>", "-1", 1, {"-1"}},
    {"/<int:a>", "\xd9\xa3\xd9\xa4", 1, {"\xd9\xa3\xd9\xa4"}}, /* \d is Unicode */
    {"/<float(signed=True):f>", "-1.5", 1, {"-1.5"}},
    {"/<float:f>", "1.", 0, {NULL}},
    {"/<float:f>", "1.5.", 0, {NULL}},
    {"/<float:f>.<int:i>", "1.5.2", 1, {"1.5", "2"}},
    /* any() tries its items in rule order. */
    {"/<any(a,ab):x><y>", "abc", 1, {"a", "bc"}},
    {"/<any(ab,a):x><y>", "abc", 1, {"ab", "c"}},
    {"/<any(a,ab):x><y>", "ab", 1, {"a", "b"}},
    {"/<any():x>z", "z", 1, {""}},
    /* Lengths count code points. */
    {"/<string(length=2):a><b>",
     "\xc3\xa9"
     "1x",
     1,
     {"\xc3\xa9"
      "1",
      "x"}},
    {"/<string(minlength=0):a>.x", ".x", 1, {""}},
    {"/<string(maxlength=2):a><b>", "abcd", 1, {"ab", "cd"}},
    {"/<string(maxlength=2):a><string(maxlength=1):b>", "abcd", 0, {NULL}},
    {"/<string(maxlength=2):a><string(maxlength=2):b>", "abcd", 1, {"ab", "cd"}},
    {"/v<uuid:u>.json",
     "v0123abcd-ef01-4567-89ab-CDEF01234567.json",
     1,
     {"0123abcd-ef01-4567-89ab-CDEF01234567"}},
    {"/v<uuid:u>.json", "v0123abcd-ef01-4567-89ab-CDEF0123456.json", 0, {NULL}},
    /* Literal text must match exactly, up to the end (\Z). */
    {"/p<a>.json", "p1.json.json", 1, {"1.json"}},
    {"/p<a>.json", "p1.jsonx", 0, {NULL}},
    {"/p<int:a>.json", "p1.jsonx", 0, {NULL}},
    {"/p<int:a>.json", "q1.json", 0, {NULL}},
};

START_TEST(part_match_prefers_what_python_prefers)
{
    const struct match_case *c = &match_cases[_i];
    struct gw_rule *rule;
    char err[128];
    ck_assert_msg(gw_rule_parse(c->rule, strlen(c->rule), &rule, err, sizeof(err)) == GW_OK,
                  "%s: %s", c->rule, err);
    const struct gw_rule_part *part = &rule->parts[rule->nparts - 1];
    ck_assert(!part->is_static);
    /* An exact-length copy: matching must not read past len. */
    size_t len = strlen(c->segment);
    char *s = malloc(len + 1);
    memcpy(s, c->segment, len);
    struct gw_rule_span spans[GW_RULE_MAX_VARS];
    int matched = gw_rule_part_match(part, rule->convs, s, len, spans);
    ck_assert_msg(matched == c->matched, "%s against '%s': %d", c->rule, c->segment, matched);
    for (size_t k = 0; matched && k < part->ncaptures; k++) {
        ck_assert_ptr_nonnull(c->captures[k]);
        ck_assert_msg(spans[k].ptr >= s && spans[k].ptr + spans[k].len <= s + len, "span %zu", k);
        ck_assert_msg(spans[k].len == strlen(c->captures[k]) &&
                          memcmp(spans[k].ptr, c->captures[k], spans[k].len) == 0,
                      "%s against '%s': capture %zu is '%.*s', expected '%s'", c->rule, c->segment,
                      k, (int)spans[k].len, spans[k].ptr, c->captures[k]);
    }
    free(s);
    gw_rule_free(rule);
}
END_TEST

START_TEST(long_segments_match_like_short_ones)
{
    /* Past a few dozen bytes the guiding table no longer fits on the stack; answers must not
     * change. */
    enum { HALF = 600 };
    struct gw_rule *rule;
    char err[128];
    ck_assert_int_eq(gw_rule_parse("/<a>-<int:b>", 12, &rule, err, sizeof(err)), GW_OK);
    const struct gw_rule_part *part = &rule->parts[1];
    char *s = malloc(2 * HALF + 1);
    memset(s, 'x', HALF);
    s[HALF] = '-';
    memset(s + HALF + 1, '7', HALF);
    struct gw_rule_span spans[GW_RULE_MAX_VARS];
    ck_assert_int_eq(gw_rule_part_match(part, rule->convs, s, 2 * HALF + 1, spans), 1);
    ck_assert_uint_eq(spans[0].len, HALF);
    ck_assert_ptr_eq(spans[1].ptr, s + HALF + 1);
    ck_assert_uint_eq(spans[1].len, HALF);
    s[2 * HALF] = 'x'; /* the int no longer reaches the end */
    ck_assert_int_eq(gw_rule_part_match(part, rule->convs, s, 2 * HALF + 1, spans), 0);
    free(s);
    gw_rule_free(rule);
}
END_TEST

/* ---- through the table ------------------------------------------------------------------- */

/* A part with several variables used to be matched by trying every way to split the segment, as
 * Python's regex engine does: "/<a>-<b>-<c>.json" against a few thousand dashes took O(n^3) steps,
 * minutes on the one loop for one request (found while fuzzing the rules: libFuzzer's short inputs
 * stay fast, a long segment does not). The answer must be werkzeug's, and come at once (this TCase
 * has Check's default 4 s timeout). */
START_TEST(many_variables_in_one_part_match_in_linear_time)
{
    enum { N = 4000 };
    struct gw_route_table *table = gw_route_table_new();
    char err[128];
    ck_assert_int_eq(gw_route_table_add(table, "/<a>-<b>-<c>.json", "GET", NULL, err, sizeof(err)),
                     GW_OK);
    ck_assert_int_eq(
        gw_route_table_add(table, "/p/<path:x>-<path:y>/z", "GET", NULL, err, sizeof(err)), GW_OK);
    ck_assert_int_eq(gw_route_table_compile(table), GW_OK);
    char *path = malloc(N + 16);
    path[0] = '/';
    memset(path + 1, '-', N);
    path[N + 1] = '\0';
    struct gw_route_match m;
    ck_assert_int_eq(gw_route_table_match(table, "GET", path, &m), GW_ENOMATCH);
    gw_route_match_clear(&m);
    /* With the suffix: greedy a keeps all it can, b and c one dash each, as werkzeug answers. */
    strcpy(path + N + 1, ".json");
    ck_assert_int_eq(gw_route_table_match(table, "GET", path, &m), GW_OK);
    ck_assert_uint_eq(strlen(json_string_value(json_object_get(m.values, "a"))), N - 4);
    ck_assert_str_eq(json_string_value(json_object_get(m.values, "b")), "-");
    ck_assert_str_eq(json_string_value(json_object_get(m.values, "c")), "-");
    gw_route_match_clear(&m);
    /* path converters are lazy: x takes the least it can. */
    memcpy(path, "/p/", 3);
    memset(path + 3, '-', N - 2);
    strcpy(path + N + 1, "/q");
    ck_assert_int_eq(gw_route_table_match(table, "GET", path, &m), GW_ENOMATCH);
    gw_route_match_clear(&m);
    strcpy(path + N + 1, "/z");
    ck_assert_int_eq(gw_route_table_match(table, "GET", path, &m), GW_OK);
    ck_assert_str_eq(json_string_value(json_object_get(m.values, "x")), "-");
    ck_assert_uint_eq(strlen(json_string_value(json_object_get(m.values, "y"))), N - 4);
    gw_route_match_clear(&m);
    free(path);
    gw_route_table_free(table);
}
END_TEST

Suite *rule_match_suite(void)
{
    Suite *s = suite_create("rule_match");
    TCase *tc = tcase_create("part");
    tcase_add_loop_test(tc, part_match_prefers_what_python_prefers, 0, (int)ARRAY_LEN(match_cases));
    tcase_add_test(tc, long_segments_match_like_short_ones);
    suite_add_tcase(s, tc);

    tc = tcase_create("linear");
    tcase_add_test(tc, many_variables_in_one_part_match_in_linear_time);
    suite_add_tcase(s, tc);
    return s;
}
