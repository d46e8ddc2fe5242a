#include "gateway/lws_alloc.h"

#include "tests/unit/suites.h"

#include <libwebsockets.h>
#include <string.h>

/* lws_realloc goes to the allocator installed, as all of lws's allocations and frees do. */
/* The allocator is process-wide: this test expects no wsi pool yet, as in a unit-test process that
 * has created no hub (none does; under CK_FORK=no the suites share one process). */
START_TEST(wsis_pooled_the_rest_from_malloc)
{
    gw_lws_alloc_install();
    gw_lws_alloc_install(); /* a second call changes nothing */
    ck_assert_uint_eq(gw_lws_alloc_pooled(), 0);
    char *a = lws_realloc(NULL, 900, "new server wsi");
    char *b = lws_realloc(NULL, 900, "new server wsi");
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(gw_lws_alloc_pooled(), 2);
    ck_assert_uint_eq((size_t)(b - a), 960); /* side by side */
    memset(a, 1, 900);
    /* Another size under the same name, and anything else, from malloc. */
    char *odd = lws_realloc(NULL, 1000, "new server wsi");
    char *other = lws_realloc(NULL, 900, "user space");
    ck_assert_uint_eq(gw_lws_alloc_pooled(), 2);
    other = lws_realloc(other, 5000, "grown");
    ck_assert_ptr_nonnull(other);
    ck_assert_ptr_null(lws_realloc(other, 0, "lws_free"));
    ck_assert_ptr_null(lws_realloc(odd, 0, "lws_free"));
    /* A pooled wsi resized moves out of the pool, keeping its bytes. */
    char *moved = lws_realloc(a, 1200, "resized");
    ck_assert_uint_eq(gw_lws_alloc_pooled(), 1);
    ck_assert_uint_eq((unsigned char)moved[0], 1);
    ck_assert_uint_eq((unsigned char)moved[899], 1);
    ck_assert_ptr_null(lws_realloc(moved, 0, "lws_free"));
    gw_lws_alloc_release(); /* one still out: the pool stays */
    ck_assert_uint_eq(gw_lws_alloc_pooled(), 1);
    ck_assert_ptr_null(lws_realloc(b, 0, "lws_free"));
    ck_assert_uint_eq(gw_lws_alloc_pooled(), 0);
    gw_lws_alloc_release();
    /* A new pool at the next wsi, of its size. */
    char *c = lws_realloc(NULL, 700, "new server wsi");
    ck_assert_uint_eq(gw_lws_alloc_pooled(), 1);
    ck_assert_ptr_null(lws_realloc(c, 0, "lws_free"));
    gw_lws_alloc_release();
}
END_TEST

Suite *lws_alloc_suite(void)
{
    Suite *s = suite_create("lws_alloc");
    TCase *tc = tcase_create("gateway");
    tcase_add_test(tc, wsis_pooled_the_rest_from_malloc);
    suite_add_tcase(s, tc);
    return s;
}
