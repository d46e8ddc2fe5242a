/* test_rule.c - werkzeug 2.2 rule text parsed into the parts its StateMachineMatcher walks: the
 * grammar, the part keys (werkzeug's regex text), weights and part equality.
 */
#include "core/status.h"
#include "core/util.h"
#include "routes/rule.h"
#include "routes/table.h"

#include "tests/unit/routes/rule_refusal.h"
#include "tests/unit/suites.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- refused at add time ----------------------------------------------------------------- */

static const struct refusal refusals[] = {
    {"", "rule must start with '/'"},
    {"a/b", "rule must start with '/'"},
    {"/a/<b", "malformed rule at offset 3"},
    {"/a/<>", "malformed rule at offset 3"},
    {"/a/<int:>", "malformed rule at offset 3"},
    {"/a/<1x>", "malformed rule at offset 3"},
    {"/a/<int(min=1):x", "malformed rule at offset 3"},
    {"/a/<x>>/<<y>", "malformed rule at offset 8"},
    {"/a/<x>/<int:x>", "variable 'x' is used twice"},
    {"/a/<x>-<x>", "variable 'x' is used twice"},
};

START_TEST(add_rejects_bad_rules)
{
    const struct refusal *c = &refusals[_i];
    assert_rule_refused(c);
}
END_TEST

START_TEST(add_accepts_odd_but_valid_rules)
{
    /* werkzeug's own grammar: '>' is ordinary static text, ')' may sit inside any() arguments,
     * trailing commas and spaces in arguments are fine. */
    static const char *const rules[] = {
        "/a>b",          "/x/<any('a)b', c):v>", "/<int( max = 3 , ):v>", "/<string():v>",
        "/u/<uuid():v>", "/p/<path:a>/<path:b>", "/<default:v>.<v2>",     "/e/<any():v>",
    };
    for (size_t i = 0; i < ARRAY_LEN(rules); i++) {
        struct gw_route_table *table = gw_route_table_new();
        char err[256] = "";
        ck_assert_msg(gw_route_table_add(table, rules[i], "GET", NULL, err, sizeof(err)) == GW_OK,
                      "%s: %s", rules[i], err);
        gw_route_table_free(table);
    }
}
END_TEST

/* ---- gw_rule_parse ----------------------------------------------------------------------- */

START_TEST(rule_keys_are_werkzeugs_regexes)
{
    /* The keys decide which rules share a state; they must be werkzeug's RulePart.content. */
    static const struct {
        const char *rule;
        size_t part;
        const char *key;
    } cases[] = {
        {"/p/<int:id>.json", 2, "(\\d+)\\.json\\Z"},
        {"/a b/<x>", 1, "a b"},
        {"/a b<x>", 1, "a\\ b([^/]{1,})\\Z"},
        {"/<int(signed=True):x>", 1, "(-?\\d+)\\Z"},
        {"/<float:x>", 1, "(\\d+\\.\\d+)\\Z"},
        {"/<string(length=2):x>", 1, "([^/]{2})\\Z"},
        {"/<string(2, 5):x>", 1, "([^/]{2,5})\\Z"},
        {"/<any(a.b, 'c|d'):x>", 1, "((?:a\\.b|c\\|d))\\Z"},
        {"/f/<path:p>/e<x>/", 2, "([^/].*?)/e([^/]{1,})/\\Z"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct gw_rule *rule;
        char err[128];
        ck_assert_int_eq(
            gw_rule_parse(cases[i].rule, strlen(cases[i].rule), &rule, err, sizeof(err)), GW_OK);
        ck_assert_uint_gt(rule->nparts, cases[i].part);
        ck_assert_str_eq(rule->parts[cases[i].part].key, cases[i].key);
        gw_rule_free(rule);
    }
}
END_TEST

START_TEST(parts_hold_tokens_captures_and_finality)
{
    static const char text[] = "/shop/v<int:id>-<name>/<path:rest>/x";
    struct gw_rule *rule;
    char err[128] = "untouched";
    ck_assert_int_eq(gw_rule_parse(text, strlen(text), &rule, err, sizeof(err)), GW_OK);
    ck_assert_str_eq(err, ""); /* success clears err */
    /* "", "shop", "v<int:id>-<name>", and one final part for the path converter and the rest. */
    ck_assert_uint_eq(rule->nparts, 4);
    ck_assert_str_eq(rule->parts[0].key, "");
    ck_assert(rule->parts[0].is_static && rule->parts[1].is_static);
    ck_assert_str_eq(rule->parts[1].key, "shop");
    ck_assert_uint_eq(rule->parts[1].key_len, 4);

    const struct gw_rule_part *p = &rule->parts[2];
    ck_assert(!p->is_static && !p->final);
    ck_assert_uint_eq(p->ncaptures, 2);
    ck_assert_uint_eq(p->ntokens, 4); /* "v", id, "-", name */
    ck_assert_str_eq(p->tokens[0].lit, "v");
    ck_assert_ptr_null(p->tokens[1].lit);
    ck_assert_uint_eq(p->tokens[1].conv, 0);
    ck_assert_str_eq(p->tokens[2].lit, "-");
    ck_assert_uint_eq(p->tokens[3].conv, 1);

    p = &rule->parts[3];
    ck_assert(!p->is_static && p->final);
    ck_assert_str_eq(p->key, "([^/].*?)/x\\Z");
    ck_assert_uint_eq(p->ntokens, 2);
    ck_assert_str_eq(p->tokens[1].lit, "/x"); /* the slash joins the literal after the path */

    ck_assert_uint_eq(rule->nconvs, 3);
    ck_assert_str_eq(rule->convs[0].name, "id");
    ck_assert_int_eq(rule->convs[0].kind, GW_CONV_INT);
    ck_assert_str_eq(rule->convs[1].name, "name");
    ck_assert_int_eq(rule->convs[1].kind, GW_CONV_STRING);
    ck_assert_str_eq(rule->convs[2].name, "rest");
    ck_assert_int_eq(rule->convs[2].kind, GW_CONV_PATH);
    gw_rule_free(rule);
    gw_rule_free(NULL);
}
END_TEST

START_TEST(weights_count_static_text_in_code_points)
{
    /* "é" is two bytes but one character to werkzeug's len(). */
    static const char text[] = "/caf\xc3\xa9-<int:a>.<b>";
    struct gw_rule *rule;
    char err[128];
    ck_assert_int_eq(gw_rule_parse(text, strlen(text), &rule, err, sizeof(err)), GW_OK);
    const struct gw_rule_weight *w = &rule->parts[1].weight;
    ck_assert_uint_eq(w->nstatic, 2);
    ck_assert_uint_eq(w->static_len[0], 5);
    ck_assert_uint_eq(w->static_len[1], 1);
    ck_assert_uint_eq(w->nargs, 2);
    ck_assert_int_eq(w->arg_weight[0], 50);
    ck_assert_int_eq(w->arg_weight[1], 100);
    gw_rule_free(rule);
}
END_TEST

START_TEST(parse_failure_sets_out_null_and_err)
{
    struct gw_rule *rule = (struct gw_rule *)1;
    char err[32];
    ck_assert_int_eq(gw_rule_parse("/a/<foo:x>", 10, &rule, err, sizeof(err)), GW_ERULE);
    ck_assert_ptr_null(rule);
    ck_assert_str_eq(err, "unknown converter 'foo'");
    /* A short err buffer gets a truncated, terminated reason; a NULL one is allowed. */
    char tiny[8];
    ck_assert_int_eq(gw_rule_parse("x", 1, &rule, tiny, sizeof(tiny)), GW_ERULE);
    ck_assert_str_eq(tiny, "rule mu");
    ck_assert_int_eq(gw_rule_parse("x", 1, &rule, NULL, 0), GW_ERULE);
    ck_assert_ptr_null(rule);
}
END_TEST

START_TEST(text_need_not_be_nul_terminated)
{
    /* Only the first 6 bytes are the rule: "/a/<b>" without the trailing "junk". */
    static const char text[] = "/a/<b>junk";
    struct gw_rule *rule;
    char err[128];
    ck_assert_int_eq(gw_rule_parse(text, 6, &rule, err, sizeof(err)), GW_OK);
    ck_assert_uint_eq(rule->nparts, 3);
    ck_assert_str_eq(rule->parts[2].key, "([^/]{1,})\\Z");
    gw_rule_free(rule);
    /* Cut inside the variable: malformed. */
    ck_assert_int_eq(gw_rule_parse(text, 5, &rule, err, sizeof(err)), GW_ERULE);
    ck_assert_str_eq(err, "malformed rule at offset 3: expected <name>, <converter:name> or "
                          "<converter(arguments):name>");
}
END_TEST

START_TEST(variables_are_bounded)
{
    char text[GW_RULE_MAX_VARS * 8 + 16];
    size_t n = 0;
    for (int i = 0; i <= GW_RULE_MAX_VARS; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "/<v%d>", i);
    struct gw_rule *rule;
    char err[64];
    ck_assert_int_eq(gw_rule_parse(text, n, &rule, err, sizeof(err)), GW_ERULE);
    ck_assert_str_eq(err, "more than 64 variables");
    /* One fewer is fine. */
    n = (size_t)(strrchr(text, '/') - text);
    ck_assert_int_eq(gw_rule_parse(text, n, &rule, err, sizeof(err)), GW_OK);
    ck_assert_uint_eq(rule->nconvs, GW_RULE_MAX_VARS);
    gw_rule_free(rule);
}
END_TEST

/* ---- weights and equality ---------------------------------------------------------------- */

START_TEST(rule_weights_order_like_werkzeug)
{
    /* Each rule's last part sorts before the next one's (werkzeug Weighting tuples). */
    static const char *const order[] = {
        "/a-<int:x>-<int:y>", /* more static chunks first */
        "/abc<int:x>",        /* then longer static text */
        "/ab<int:x>",
        "/<int:x>-<int:y>", /* then more variables */
        "/<int:x>",         /* then lighter converters */
        "/<x>",
        "/<path:x>",
    };
    struct gw_rule *prev = NULL;
    for (size_t i = 0; i < ARRAY_LEN(order); i++) {
        struct gw_rule *rule;
        char err[128];
        ck_assert_int_eq(gw_rule_parse(order[i], strlen(order[i]), &rule, err, sizeof(err)), GW_OK);
        if (prev != NULL) {
            const struct gw_rule_weight *a = &prev->parts[prev->nparts - 1].weight;
            const struct gw_rule_weight *b = &rule->parts[rule->nparts - 1].weight;
            ck_assert_msg(gw_rule_weight_cmp(a, b) < 0, "%s !< %s", order[i - 1], order[i]);
            ck_assert_msg(gw_rule_weight_cmp(b, a) > 0, "%s !> %s", order[i], order[i - 1]);
        }
        gw_rule_free(prev);
        prev = rule;
    }
    gw_rule_free(prev);
}
END_TEST

START_TEST(parts_are_equal_when_werkzeug_would_merge_them)
{
    /* Part 2 of each rule against part 2 of the first: equal keys and weights merge, whatever the
     * variable names; another converter, argument or finality does not. */
    static const struct {
        const char *rule;
        int equal;
    } cases[] = {
        {"/a/<int:x>.json", 1},
        {"/b/<int:other>.json", 1},
        {"/a/<int(max=3):x>.json", 1}, /* bounds are not in the regex */
        {"/a/<x>.json", 0},
        {"/a/<int(signed=True):x>.json", 0},
        {"/a/<int:x>.jso", 0},
        {"/a/<int:x>.json/", 1}, /* a later part is not compared */
    };
    struct gw_rule *first;
    char err[128];
    ck_assert_int_eq(gw_rule_parse(cases[0].rule, strlen(cases[0].rule), &first, err, sizeof(err)),
                     GW_OK);
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct gw_rule *rule;
        ck_assert_int_eq(
            gw_rule_parse(cases[i].rule, strlen(cases[i].rule), &rule, err, sizeof(err)), GW_OK);
        ck_assert_msg(gw_rule_part_equal(&first->parts[2], &rule->parts[2]) == cases[i].equal, "%s",
                      cases[i].rule);
        ck_assert_msg(gw_rule_part_equal(&rule->parts[2], &first->parts[2]) == cases[i].equal,
                      "%s (swapped)", cases[i].rule);
        gw_rule_free(rule);
    }
    /* A static part never equals a dynamic one with the same text. */
    struct gw_rule *a, *b;
    ck_assert_int_eq(gw_rule_parse("/x", 2, &a, err, sizeof(err)), GW_OK);
    ck_assert_int_eq(gw_rule_parse("/<any(x):v>", 11, &b, err, sizeof(err)), GW_OK);
    ck_assert(!gw_rule_part_equal(&a->parts[1], &b->parts[1]));
    ck_assert(gw_rule_part_equal(&a->parts[0], &b->parts[0]));
    gw_rule_free(a);
    gw_rule_free(b);
    gw_rule_free(first);
}
END_TEST

Suite *rule_suite(void)
{
    Suite *s = suite_create("rule");
    TCase *tc = tcase_create("add");
    tcase_add_loop_test(tc, add_rejects_bad_rules, 0, (int)ARRAY_LEN(refusals));
    tcase_add_test(tc, add_accepts_odd_but_valid_rules);
    suite_add_tcase(s, tc);

    tc = tcase_create("parse");
    tcase_add_test(tc, rule_keys_are_werkzeugs_regexes);
    tcase_add_test(tc, parts_hold_tokens_captures_and_finality);
    tcase_add_test(tc, weights_count_static_text_in_code_points);
    tcase_add_test(tc, parse_failure_sets_out_null_and_err);
    tcase_add_test(tc, text_need_not_be_nul_terminated);
    tcase_add_test(tc, variables_are_bounded);
    suite_add_tcase(s, tc);

    tc = tcase_create("order");
    tcase_add_test(tc, rule_weights_order_like_werkzeug);
    tcase_add_test(tc, parts_are_equal_when_werkzeug_would_merge_them);
    suite_add_tcase(s, tc);
    return s;
}
