/* Unit tests for core/yaml_tree: shared nodes, mappings with duplicate keys, descriptions, key
 * paths and messages. */
#include "core/yaml_tree.h"

#include "tests/unit/suites.h"

#include <string.h>

static struct gw_yaml_node *str(const char *text)
{
    return gw_yaml_node_new(GW_YAML_STRING, "t", 1, text);
}

/* {a: 1, b: 2, a: 3} */
static struct gw_yaml_node *map_with_duplicate(void)
{
    struct gw_yaml_node *map = gw_yaml_node_new(GW_YAML_MAP, "t", 1, NULL);
    const char *pairs[] = {"a", "1", "b", "2", "a", "3"};
    for (size_t i = 0; i < 6; i++)
        gw_yaml_node_push_take(map, str(pairs[i]));
    return map;
}

START_TEST(shared_nodes)
{
    struct gw_yaml_node *shared = str("x");
    struct gw_yaml_node *seq = gw_yaml_node_new(GW_YAML_SEQ, "t", 1, NULL);
    ck_assert_ptr_null(seq->text);
    for (int i = 0; i < 20; i++)
        gw_yaml_node_push_take(seq, gw_yaml_node_ref(shared));
    ck_assert_uint_eq(seq->n_items, 20);
    ck_assert_uint_eq(shared->refs, 21);
    gw_yaml_node_unref(seq);
    ck_assert_uint_eq(shared->refs, 1);
    gw_yaml_node_unref(shared);
    gw_yaml_node_unref(NULL);
}
END_TEST

START_TEST(duplicate_keys)
{
    struct gw_yaml_node *map = map_with_duplicate();
    ck_assert_uint_eq(gw_yaml_map_pairs(map), 3);
    ck_assert(gw_yaml_map_shadowed(map, 0));
    ck_assert(!gw_yaml_map_shadowed(map, 1));
    ck_assert(!gw_yaml_map_shadowed(map, 2));
    ck_assert(gw_yaml_is_key(map->items[0], "a"));
    ck_assert(!gw_yaml_is_key(map->items[0], "b"));
    ck_assert(!gw_yaml_is_key(map->items[1], "a"));
    gw_yaml_node_unref(map);
}
END_TEST

/* --define's replacement: every pair with the key goes, the new one comes last. */
START_TEST(map_set_take)
{
    struct gw_yaml_node *map = map_with_duplicate();
    gw_yaml_map_set_take(map, str("a"), str("9"));
    ck_assert_uint_eq(gw_yaml_map_pairs(map), 2);
    ck_assert_str_eq(map->items[0]->text, "b");
    ck_assert_str_eq(map->items[1]->text, "2");
    ck_assert_str_eq(map->items[2]->text, "a");
    ck_assert_str_eq(map->items[3]->text, "9");
    gw_yaml_map_set_take(map, str("c"), str("4"));
    ck_assert_uint_eq(gw_yaml_map_pairs(map), 3);
    ck_assert_str_eq(map->items[4]->text, "c");
    gw_yaml_node_unref(map);
}
END_TEST

START_TEST(describe)
{
    char buf[GW_YAML_DESCRIBE_LEN];
    struct gw_yaml_node *n = gw_yaml_node_new(GW_YAML_NULL, "t", 1, "~");
    ck_assert_str_eq(gw_yaml_describe(n, buf, sizeof(buf)), "null");
    gw_yaml_node_unref(n);
    n = gw_yaml_node_new(GW_YAML_SEQ, "t", 1, NULL);
    ck_assert_str_eq(gw_yaml_describe(n, buf, sizeof(buf)), "an empty list");
    gw_yaml_node_push_take(n, str("x"));
    ck_assert_str_eq(gw_yaml_describe(n, buf, sizeof(buf)), "a list");
    gw_yaml_node_unref(n);
    n = gw_yaml_node_new(GW_YAML_MAP, "t", 1, NULL);
    ck_assert_str_eq(gw_yaml_describe(n, buf, sizeof(buf)), "a mapping");
    gw_yaml_node_unref(n);
    n = gw_yaml_node_new(GW_YAML_INT, "t", 1, "0x10");
    ck_assert_str_eq(gw_yaml_describe(n, buf, sizeof(buf)), "'0x10'");
    gw_yaml_node_unref(n);
    /* 60 bytes are quoted whole, 61 are cut to 57 and "...". */
    char text[62];
    memset(text, 'a', 60);
    text[60] = '\0';
    n = str(text);
    ck_assert_uint_eq(strlen(gw_yaml_describe(n, buf, sizeof(buf))), 62);
    gw_yaml_node_unref(n);
    text[60] = 'b';
    text[61] = '\0';
    n = str(text);
    gw_yaml_describe(n, buf, sizeof(buf));
    ck_assert_uint_eq(strlen(buf), 62);
    ck_assert_str_eq(buf + 55, "aaa...'");
    gw_yaml_node_unref(n);
}
END_TEST

__attribute__((format(printf, 6, 7))) static void format_error(char *err, size_t errlen,
                                                               const char *origin, int line,
                                                               const char *path, const char *fmt,
                                                               ...)
{
    va_list ap;
    va_start(ap, fmt);
    gw_yaml_vformat_error(err, errlen, origin, line, path, fmt, ap);
    va_end(ap);
}

START_TEST(paths_and_messages)
{
    char buf[GW_YAML_PATH_LEN];
    gw_yaml_path_join(buf, sizeof(buf), "", "GATEWAY");
    ck_assert_str_eq(buf, "GATEWAY");
    gw_yaml_path_join(buf, sizeof(buf), "GATEWAY", "name");
    ck_assert_str_eq(buf, "GATEWAY.name");
    char small[8];
    gw_yaml_path_printf(small, sizeof(small), "%s[%d]", "routes", 10);
    ck_assert_str_eq(small, "routes[");

    char err[128];
    format_error(err, sizeof(err), "f.yaml", 3, "a.b", "bad %d", 1);
    ck_assert_str_eq(err, "f.yaml:3: a.b: bad 1");
    format_error(err, sizeof(err), "--define X", 0, "X", "bad");
    ck_assert_str_eq(err, "--define X: X: bad");
    format_error(err, sizeof(err), "f.yaml", 1, "", "bad");
    ck_assert_str_eq(err, "f.yaml:1: bad");
    format_error(err, sizeof(err), "f.yaml", 1, NULL, "bad");
    ck_assert_str_eq(err, "f.yaml:1: bad");
    format_error(small, sizeof(small), "f.yaml", 12, "a", "bad");
    ck_assert_str_eq(small, "f.yaml:");
    format_error(NULL, 0, "f.yaml", 1, "a", "bad");
}
END_TEST

Suite *yaml_tree_suite(void)
{
    Suite *s = suite_create("yaml_tree");
    TCase *tc = tcase_create("nodes");
    tcase_add_test(tc, shared_nodes);
    tcase_add_test(tc, duplicate_keys);
    tcase_add_test(tc, map_set_take);
    suite_add_tcase(s, tc);

    tc = tcase_create("messages");
    tcase_add_test(tc, describe);
    tcase_add_test(tc, paths_and_messages);
    suite_add_tcase(s, tc);
    return s;
}
