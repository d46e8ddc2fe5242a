/* Unit tests for gateway/generation: a generation lives as long as its last reference, and
 * gw_generation_count counts the living ones. valgrind sees that the last reference frees the
 * config and the route table.
 */
#include "gateway/generation.h"

#include "core/status.h"

#include "tests/unit/suites.h"

#include <string.h>

static struct gw_generation *new_generation(const char *yaml)
{
    struct gw_config *config = NULL;
    char err[256];
    int status =
        gw_config_load_string("gen.yaml", yaml, strlen(yaml), NULL, 0, &config, err, sizeof(err));
    ck_assert_msg(status == GW_OK, "%s", err);
    struct gw_route_table *table = gw_route_table_new();
    gw_route_table_compile(table);
    return gw_generation_new(config, table);
}

START_TEST(references)
{
    unsigned before = gw_generation_count();
    struct gw_generation *gen = new_generation("GATEWAY:\n  name: first\n");
    ck_assert_uint_eq(gw_generation_count(), before + 1);
    ck_assert_uint_eq(gen->refs, 1);
    ck_assert_str_eq(gen->config->name, "first");
    ck_assert_ptr_nonnull(gen->table);

    /* A request takes one, another takes one. */
    ck_assert_ptr_eq(gw_generation_ref(gen), gen);
    ck_assert_ptr_eq(gw_generation_ref(gen), gen);
    ck_assert_uint_eq(gen->refs, 3);
    gw_generation_unref(gen);
    gw_generation_unref(gen);
    ck_assert_uint_eq(gen->refs, 1);
    ck_assert_uint_eq(gw_generation_count(), before + 1);
    /* The last one frees it. */
    gw_generation_unref(gen);
    ck_assert_uint_eq(gw_generation_count(), before);
    gw_generation_unref(NULL);
    ck_assert_uint_eq(gw_generation_count(), before);
}
END_TEST

START_TEST(openapi_document_built_once)
{
    struct gw_generation *gen = new_generation("GATEWAY:\n  name: docs\n");
    ck_assert_ptr_null(gen->openapi);
    size_t len = 0, again = 0;
    const char *doc = gw_generation_openapi(gen, &len);
    ck_assert_uint_eq(len, strlen(doc));
    ck_assert_ptr_nonnull(strstr(doc, "\"title\": \"docs\""));
    /* Kept: the second request gets the same text, not a new build. */
    ck_assert_ptr_eq(gw_generation_openapi(gen, &again), doc);
    ck_assert_uint_eq(again, len);
    gw_generation_unref(gen);
}
END_TEST

START_TEST(reload_while_a_request_runs)
{
    unsigned before = gw_generation_count();
    /* The server holds the current one; a request began under it. */
    struct gw_generation *current = new_generation("GATEWAY:\n  name: old\n");
    struct gw_generation *request = gw_generation_ref(current);
    /* SIGHUP: a new one becomes current, the server lets the old one go. */
    struct gw_generation *next = new_generation("GATEWAY:\n  name: new\n");
    gw_generation_unref(current);
    current = next;
    ck_assert_uint_eq(gw_generation_count(), before + 2);
    /* The request finishes with the settings it began with. */
    ck_assert_str_eq(request->config->name, "old");
    ck_assert_str_eq(current->config->name, "new");
    gw_generation_unref(request);
    ck_assert_uint_eq(gw_generation_count(), before + 1);
    gw_generation_unref(current);
    ck_assert_uint_eq(gw_generation_count(), before);
}
END_TEST

/* The status page shows which generation is current and when it was loaded. */
START_TEST(numbered_and_stamped)
{
    struct gw_generation *a = new_generation("GATEWAY:\n  name: a\n");
    struct gw_generation *b = new_generation("GATEWAY:\n  name: b\n");
    ck_assert_uint_eq(b->number, a->number + 1);
    ck_assert(a->loaded_at > 1.5e9 && b->loaded_at >= a->loaded_at);
    ck_assert_ptr_null(a->route_stats);
    gw_generation_unref(a);
    gw_generation_unref(b);
}
END_TEST

Suite *generation_suite(void)
{
    Suite *s = suite_create("generation");
    TCase *tc = tcase_create("refs");
    tcase_add_test(tc, references);
    tcase_add_test(tc, openapi_document_built_once);
    tcase_add_test(tc, reload_while_a_request_runs);
    tcase_add_test(tc, numbered_and_stamped);
    suite_add_tcase(s, tc);
    return s;
}
