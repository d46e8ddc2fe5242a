#include "core/pool.h"

#include "tests/unit/suites.h"

#include <stdint.h>
#include <string.h>

START_TEST(records_aligned_zeroed_and_reused)
{
    struct gw_pool *p = gw_pool_new(100);
    ck_assert_uint_eq(gw_pool_record_size(p), 100);
    unsigned char *a = gw_pool_get(p), *b = gw_pool_get(p);
    ck_assert_uint_eq((uintptr_t)a % 64, 0);
    ck_assert_uint_eq((uintptr_t)b % 64, 0);
    ck_assert_uint_eq((size_t)(b - a), 128); /* packed side by side, each rounded up to 64 */
    for (size_t i = 0; i < 100; i++)
        ck_assert_uint_eq(a[i], 0);
    memset(a, 0xab, 100);
    ck_assert_uint_eq(gw_pool_count(p), 2);
    ck_assert(gw_pool_owns(p, a));
    ck_assert(gw_pool_owns(p, b + 99));
    int elsewhere;
    ck_assert(!gw_pool_owns(p, &elsewhere));
    gw_pool_put(p, a);
    gw_pool_put(p, NULL);
    ck_assert_uint_eq(gw_pool_count(p), 1);
    unsigned char *c = gw_pool_get(p); /* the one put back, zeroed again */
    ck_assert_ptr_eq(c, a);
    for (size_t i = 0; i < 100; i++)
        ck_assert_uint_eq(c[i], 0);
    gw_pool_put(p, b);
    gw_pool_put(p, c);
    ck_assert_uint_eq(gw_pool_count(p), 0);
    gw_pool_free(p);
    gw_pool_free(NULL);
}
END_TEST

/* More records than a block holds: a second block, every record distinct and writable, all put
 * back and taken again without a third block. */
START_TEST(more_than_a_block)
{
    enum { N = 12000 }; /* 12,000 x 384 bytes: three 2 MiB blocks */
    static unsigned char *r[N];
    struct gw_pool *p = gw_pool_new(352);
    for (int i = 0; i < N; i++) {
        r[i] = gw_pool_get(p);
        memset(r[i], i & 0xff, 352);
    }
    for (int i = 0; i < N; i++) {
        ck_assert_uint_eq(r[i][0], (unsigned)(i & 0xff));
        ck_assert_uint_eq(r[i][351], (unsigned)(i & 0xff));
        ck_assert(gw_pool_owns(p, r[i]));
    }
    for (int i = 0; i < N; i += 2)
        gw_pool_put(p, r[i]);
    ck_assert_uint_eq(gw_pool_count(p), N / 2);
    for (int i = 0; i < N; i += 2) {
        r[i] = gw_pool_get(p);
        ck_assert(gw_pool_owns(p, r[i]));
        ck_assert_uint_eq(r[i][0], 0);
    }
    ck_assert_uint_eq(gw_pool_count(p), N);
    gw_pool_free(p); /* records still out go with it */
}
END_TEST

Suite *pool_suite(void)
{
    Suite *s = suite_create("pool");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, records_aligned_zeroed_and_reused);
    tcase_add_test(tc, more_than_a_block);
    suite_add_tcase(s, tc);
    return s;
}
