/* Unit tests for core/yaml_parse: the tree a document becomes, with its lines, shared aliases,
 * duplicate keys and resolved scalars. What the config makes of it is in test_config.c. */
#include "core/status.h"
#include "core/util.h"
#include "core/yaml_parse.h"

#include "tests/unit/suites.h"

#include <stdlib.h>
#include <string.h>

static char err[256];

static int parse(const char *text, struct gw_yaml_node **out)
{
    struct gw_yaml_parse_opts o = {.origin = "t.yaml",
                                   .line = -1,
                                   .prefix = "",
                                   .depth = 0,
                                   .err = err,
                                   .errlen = sizeof(err)};
    err[0] = '\0';
    return gw_yaml_parse(&o, text, strlen(text), out);
}

START_TEST(empty_stream)
{
    struct gw_yaml_node *root = (struct gw_yaml_node *)1;
    ck_assert_int_eq(parse("", &root), GW_OK);
    ck_assert_ptr_null(root);
    ck_assert_int_eq(parse("# only a comment\n", &root), GW_OK);
    ck_assert_ptr_null(root);
}
END_TEST

START_TEST(tree_and_lines)
{
    struct gw_yaml_node *root = NULL;
    int rc = parse("a: 1\n"
                   "b:\n"
                   "  - x\n"
                   "  - 'y'\n"
                   "c: {d: 2.5, e: ~}\n",
                   &root);
    ck_assert_msg(rc == GW_OK, "%s", err);
    ck_assert_int_eq(root->kind, GW_YAML_MAP);
    ck_assert_int_eq(root->line, 1);
    ck_assert_uint_eq(gw_yaml_map_pairs(root), 3);
    const struct gw_yaml_node *a = root->items[1];
    ck_assert_int_eq(a->kind, GW_YAML_INT);
    ck_assert_int_eq(a->ival, 1);
    ck_assert(a->plain);
    const struct gw_yaml_node *b = root->items[3];
    ck_assert_int_eq(b->kind, GW_YAML_SEQ);
    ck_assert_int_eq(b->line, 3);
    ck_assert_uint_eq(b->n_items, 2);
    ck_assert_int_eq(b->items[0]->line, 3);
    ck_assert_int_eq(b->items[1]->line, 4);
    ck_assert_int_eq(b->items[1]->kind, GW_YAML_STRING);
    ck_assert(!b->items[1]->plain);
    const struct gw_yaml_node *c = root->items[5];
    ck_assert_int_eq(c->kind, GW_YAML_MAP);
    ck_assert_int_eq(c->items[1]->kind, GW_YAML_FLOAT);
    ck_assert_int_eq(c->items[3]->kind, GW_YAML_NULL);
    ck_assert_str_eq(c->items[1]->origin, "t.yaml");
    gw_yaml_node_unref(root);
}
END_TEST

/* An alias is the anchored node itself, not a copy; duplicate keys are all kept. */
START_TEST(aliases_share_and_duplicates_stay)
{
    struct gw_yaml_node *root = NULL;
    int rc = parse("a: &x [1, 2]\nb: *x\na: 3\n", &root);
    ck_assert_msg(rc == GW_OK, "%s", err);
    ck_assert_uint_eq(gw_yaml_map_pairs(root), 3);
    ck_assert_ptr_eq(root->items[1], root->items[3]);
    ck_assert_uint_eq(root->items[1]->refs, 2);
    ck_assert(gw_yaml_map_shadowed(root, 0));
    ck_assert_int_eq(root->items[5]->ival, 3);
    gw_yaml_node_unref(root);
}
END_TEST

START_TEST(tags)
{
    struct gw_yaml_node *root = NULL;
    int rc = parse("a: !!str 5\nb: !!float 2\nc: !!null ''\nd: ! 5\ne: !!bool yes\n", &root);
    ck_assert_msg(rc == GW_OK, "%s", err);
    ck_assert_int_eq(root->items[1]->kind, GW_YAML_STRING);
    ck_assert_str_eq(root->items[1]->tag, "tag:yaml.org,2002:str");
    ck_assert_int_eq(root->items[3]->kind, GW_YAML_FLOAT);
    ck_assert(root->items[3]->fval == 2.0);
    ck_assert_int_eq(root->items[5]->kind, GW_YAML_NULL);
    ck_assert_int_eq(root->items[7]->kind, GW_YAML_STRING);
    ck_assert_int_eq(root->items[9]->kind, GW_YAML_BOOL);
    ck_assert(root->items[9]->bval);
    gw_yaml_node_unref(root);
}
END_TEST

/* Substituted text is a new document at the scalar's line; nothing replaced keeps the string. */
START_TEST(substitution)
{
    struct gw_yaml_node *root = NULL;
    setenv("ENOKI_T_YP", "[a, b]", 1);
    unsetenv("ENOKI_T_YP_UNSET");
    int rc = parse("x: 1\n"
                   "a: ${ENOKI_T_YP}\n"
                   "b: ${ENOKI_T_YP_UNSET}\n"
                   "c: !raw_env_var '${ENOKI_T_YP_UNSET:5}'\n"
                   "d: !env_var '${ENOKI_T_YP_UNSET:5}'\n"
                   "e: ${ x}\n",
                   &root);
    unsetenv("ENOKI_T_YP");
    ck_assert_msg(rc == GW_OK, "%s", err);
    const struct gw_yaml_node *a = root->items[3];
    ck_assert_int_eq(a->kind, GW_YAML_SEQ);
    ck_assert_uint_eq(a->n_items, 2);
    ck_assert_int_eq(a->line, 2);
    ck_assert_int_eq(a->items[1]->line, 2);
    ck_assert_int_eq(root->items[5]->kind, GW_YAML_NULL);
    ck_assert_int_eq(root->items[7]->kind, GW_YAML_STRING);
    ck_assert_str_eq(root->items[7]->text, "5");
    ck_assert_int_eq(root->items[9]->kind, GW_YAML_INT);
    ck_assert_int_eq(root->items[11]->kind, GW_YAML_STRING);
    ck_assert_str_eq(root->items[11]->text, "${ x}");
    gw_yaml_node_unref(root);
}
END_TEST

/* A --define's text: no lines, the key as the prefix of every path. */
START_TEST(fixed_line_and_prefix)
{
    struct gw_yaml_node *root = NULL;
    struct gw_yaml_parse_opts o = {.origin = "--define K",
                                   .line = 0,
                                   .prefix = "K",
                                   .depth = 0,
                                   .err = err,
                                   .errlen = sizeof(err)};
    const char *text = "{a: [1,\n 2]}";
    ck_assert_int_eq(gw_yaml_parse(&o, text, strlen(text), &root), GW_OK);
    ck_assert_int_eq(root->line, 0);
    ck_assert_int_eq(root->items[1]->items[1]->line, 0);
    gw_yaml_node_unref(root);
    text = "{a: [*nope]}";
    ck_assert_int_eq(gw_yaml_parse(&o, text, strlen(text), &root), GW_EYAML);
    ck_assert_ptr_null(root);
    ck_assert_str_eq(err, "--define K: K.a[0]: invalid YAML: found undefined alias 'nope'");
}
END_TEST

START_TEST(errors)
{
    static const struct {
        const char *text;
        int rc;
        const char *message;
    } cases[] = {
        {"a: [1,\n", GW_EYAML, "t.yaml:2: invalid YAML: did not find expected node content"},
        {"a: 1\n---\nb: 2\n", GW_EYAML,
         "t.yaml:2: invalid YAML: expected a single document, found another one"},
        {"a: !foo x\n", GW_EYAML, "t.yaml:1: a: unsupported tag '!foo'"},
        {"a: !raw_env_var {x: 1}\n", GW_EYAML, "t.yaml:1: a: !raw_env_var applies to scalars only"},
        {"a: {b: !!int x}\n", GW_EYAML, "t.yaml:1: a.b: 'x' is not a valid tag:yaml.org,2002:int"},
        {"a: ${A:${B}}\n", GW_ESUBST, "t.yaml:1: a: nested ${...} references are not supported"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct gw_yaml_node *root = (struct gw_yaml_node *)1;
        int rc = parse(cases[i].text, &root);
        ck_assert_msg(rc == cases[i].rc, "case %zu: rc %d: %s", i, rc, err);
        ck_assert_ptr_null(root);
        ck_assert_str_eq(err, cases[i].message);
    }
}
END_TEST

Suite *yaml_parse_suite(void)
{
    Suite *s = suite_create("yaml_parse");
    TCase *tc = tcase_create("tree");
    tcase_add_test(tc, empty_stream);
    tcase_add_test(tc, tree_and_lines);
    tcase_add_test(tc, aliases_share_and_duplicates_stay);
    tcase_add_test(tc, tags);
    tcase_add_test(tc, substitution);
    tcase_add_test(tc, fixed_line_and_prefix);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_test(tc, errors);
    suite_add_tcase(s, tc);
    return s;
}
