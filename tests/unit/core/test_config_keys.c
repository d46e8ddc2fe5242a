/* Unit tests for core/config_keys: a table of keys over a mapping, and the generic appliers, on a
 * struct of the test's own. The config's tables are tested through the loader in test_config.c. */
#include "core/config_keys.h"
#include "core/status.h"
#include "core/util.h"
#include "core/yaml_parse.h"

#include "tests/unit/suites.h"

#include <stdlib.h>
#include <string.h>

struct sample {
    char *text;
    int count;
    double ratio;
    bool flag;
    char *prefix;
    struct gw_string_list list;
};

static const struct gw_key_spec sample_keys[] = {
    {.name = "text",
     .apply = gw_key_apply_nonempty_string,
     .offset = offsetof(struct sample, text)},
    {.name = "count",
     .apply = gw_key_apply_int,
     .offset = offsetof(struct sample, count),
     .min = -2,
     .max = 5},
    {.name = "ratio",
     .apply = gw_key_apply_positive_number,
     .offset = offsetof(struct sample, ratio)},
    {.name = "flag", .apply = gw_key_apply_bool, .offset = offsetof(struct sample, flag)},
    {.name = "prefix", .apply = gw_key_apply_url_path, .offset = offsetof(struct sample, prefix)},
    {.name = "list",
     .apply = gw_key_apply_string_list,
     .offset = offsetof(struct sample, list),
     .list_what = "things",
     .item_what = "a thing"},
};

static char err[256];

/* Parses yaml and applies the sample table to *out (its fields freed by the caller). */
static int apply(const char *yaml, bool strict, struct sample *out)
{
    struct gw_yaml_parse_opts o = {.origin = "k.yaml",
                                   .line = -1,
                                   .prefix = "",
                                   .depth = 0,
                                   .err = err,
                                   .errlen = sizeof(err)};
    struct gw_key_err e = {.err = err, .errlen = sizeof(err)};
    struct gw_yaml_node *root = NULL;
    err[0] = '\0';
    ck_assert_int_eq(gw_yaml_parse(&o, yaml, strlen(yaml), &root), GW_OK);
    int rc = gw_keys_apply_map(&e, root, "S", sample_keys, ARRAY_LEN(sample_keys), out, strict);
    gw_yaml_node_unref(root);
    return rc;
}

static void sample_clear(struct sample *s)
{
    free(s->text);
    free(s->prefix);
    gw_string_list_clear(&s->list);
    memset(s, 0, sizeof(*s));
}

START_TEST(every_applier)
{
    struct sample s = {.count = 9};
    int rc =
        apply("text: hi\ncount: -2\nratio: 0.5\nflag: on\nprefix: /p/q\nlist: [a, b]\n", true, &s);
    ck_assert_msg(rc == GW_OK, "%s", err);
    ck_assert_str_eq(s.text, "hi");
    ck_assert_int_eq(s.count, -2);
    ck_assert(s.ratio == 0.5);
    ck_assert(s.flag);
    ck_assert_str_eq(s.prefix, "/p/q");
    ck_assert_uint_eq(s.list.n, 2);
    ck_assert_str_eq(s.list.items[1], "b");
    sample_clear(&s);
}
END_TEST

/* Null leaves the field alone, the last of duplicate keys wins, one string is a list of one. */
START_TEST(null_duplicates_and_single_items)
{
    struct sample s = {.count = 4};
    int rc = apply("count:\ntext: a\ntext: b\nlist: one\nother: 1\n", false, &s);
    ck_assert_msg(rc == GW_OK, "%s", err);
    ck_assert_int_eq(s.count, 4);
    ck_assert_str_eq(s.text, "b");
    ck_assert_uint_eq(s.list.n, 1);
    ck_assert_str_eq(s.list.items[0], "one");
    sample_clear(&s);
    rc = apply("list: []\n", true, &s);
    ck_assert_int_eq(rc, GW_OK);
    ck_assert_uint_eq(s.list.n, 0);
    sample_clear(&s);
}
END_TEST

START_TEST(messages)
{
    static const struct {
        const char *yaml;
        const char *message;
    } cases[] = {
        {"other: 1\n", "k.yaml:1: S.other: unknown key (expected one of: text, count, ratio, flag, "
                       "prefix, list)"},
        {"[1]: 1\n", "k.yaml:1: S.a list: unknown key (expected one of: text, count, ratio, flag, "
                     "prefix, list)"},
        {"text: ''\n", "k.yaml:1: S.text: expected a non-empty string, got ''"},
        {"count: 6\n", "k.yaml:1: S.count: expected an integer from -2 to 5, got '6'"},
        {"ratio: -1\n", "k.yaml:1: S.ratio: expected a positive number, got '-1'"},
        {"flag: 1\n", "k.yaml:1: S.flag: expected true or false, got '1'"},
        {"prefix: /a/\n", "k.yaml:1: S.prefix: expected a path such as '/rpc' (a leading '/', no "
                          "trailing '/'), got '/a/'"},
        {"prefix: /a?b\n", "k.yaml:1: S.prefix: expected a path such as '/rpc' (a leading '/', no "
                           "trailing '/'), got '/a?b'"},
        {"list: {a: 1}\n", "k.yaml:1: S.list: expected a list of things, got a mapping"},
        {"list:\n  - a\n  - [b]\n", "k.yaml:3: S.list[1]: expected a thing, got a list"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct sample s = {0};
        ck_assert_int_eq(apply(cases[i].yaml, true, &s), GW_ECONFIG);
        ck_assert_str_eq(err, cases[i].message);
        sample_clear(&s);
    }
}
END_TEST

START_TEST(choose)
{
    static const char *const names[] = {"red", "green", NULL};
    struct gw_yaml_parse_opts o = {.origin = "k.yaml", .line = -1, .prefix = ""};
    struct gw_key_err e = {.err = err, .errlen = sizeof(err)};
    struct gw_yaml_node *root = NULL;
    size_t index = 9;
    const char *yaml = "[green, blue, 1]";
    ck_assert_int_eq(gw_yaml_parse(&o, yaml, strlen(yaml), &root), GW_OK);
    ck_assert_int_eq(gw_key_choose(&e, root->items[0], "c", names, &index), GW_OK);
    ck_assert_uint_eq(index, 1);
    ck_assert_int_eq(gw_key_choose(&e, root->items[1], "c", names, &index), GW_ECONFIG);
    ck_assert_str_eq(err, "k.yaml:1: c: expected one of red, green, got 'blue'");
    ck_assert_int_eq(gw_key_choose(&e, root->items[2], "c", names, &index), GW_ECONFIG);
    ck_assert_str_eq(err, "k.yaml:1: c: expected one of red, green, got '1'");
    ck_assert_uint_eq(index, 1);
    gw_yaml_node_unref(root);
}
END_TEST

Suite *config_keys_suite(void)
{
    Suite *s = suite_create("config_keys");
    TCase *tc = tcase_create("apply");
    tcase_add_test(tc, every_applier);
    tcase_add_test(tc, null_duplicates_and_single_items);
    tcase_add_test(tc, messages);
    tcase_add_test(tc, choose);
    suite_add_tcase(s, tc);
    return s;
}
