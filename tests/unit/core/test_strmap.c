#include "core/strmap.h"

#include "tests/unit/suites.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

START_TEST(put_get_remove)
{
    struct gw_strmap *m = gw_strmap_new();
    int a, b, c;
    ck_assert_ptr_null(gw_strmap_get(m, "x", 1)); /* empty, before any table exists */
    ck_assert_ptr_null(gw_strmap_remove(m, "x", 1));
    gw_strmap_put(m, "fanout", 6, &a);
    gw_strmap_put(m, "svc.tick", 8, &b);
    ck_assert_ptr_eq(gw_strmap_get(m, "fanout", 6), &a);
    ck_assert_ptr_eq(gw_strmap_get(m, "svc.tick", 8), &b);
    ck_assert_ptr_null(gw_strmap_get(m, "fanou", 5)); /* a prefix is another key */
    gw_strmap_put(m, "fanout", 6, &c);                /* replaces */
    ck_assert_ptr_eq(gw_strmap_get(m, "fanout", 6), &c);
    ck_assert_uint_eq(gw_strmap_count(m), 2);
    /* Keys are bytes: a NUL inside is part of the key. */
    gw_strmap_put(m, "a\0b", 3, &a);
    ck_assert_ptr_eq(gw_strmap_get(m, "a\0b", 3), &a);
    ck_assert_ptr_null(gw_strmap_get(m, "a", 1));
    ck_assert_ptr_eq(gw_strmap_remove(m, "fanout", 6), &c);
    ck_assert_ptr_null(gw_strmap_get(m, "fanout", 6));
    ck_assert_ptr_null(gw_strmap_remove(m, "fanout", 6));
    ck_assert_uint_eq(gw_strmap_count(m), 2);
    gw_strmap_free(m);
    gw_strmap_free(NULL);
}
END_TEST

/* Many keys put and removed in a shuffled order, checked after every step against a plain array:
 * every present key found with its value, every removed one gone (backward shifts included). */
START_TEST(against_a_reference)
{
    enum { N = 3000 };
    static char present[N], keys[N][24]; /* the map borrows its keys */
    static int values[N];
    memset(present, 0, sizeof(present));
    for (int i = 0; i < N; i++)
        snprintf(keys[i], sizeof(keys[i]), "sock.%d", i);
    struct gw_strmap *m = gw_strmap_new();
    uint64_t rng = 0x2545f4914f6cdd1dULL;
    size_t count = 0;
    for (int step = 0; step < 40000; step++) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        int k = (int)(rng % N);
        size_t len = strlen(keys[k]);
        if (present[k] && (rng >> 32) % 3 == 0) {
            ck_assert_ptr_eq(gw_strmap_remove(m, keys[k], len), &values[k]);
            present[k] = 0;
            count--;
        } else {
            if (!present[k])
                count++;
            present[k] = 1;
            gw_strmap_put(m, keys[k], len, &values[k]);
        }
        ck_assert_uint_eq(gw_strmap_count(m), count);
        if (step % 1000 == 0) {
            for (int i = 0; i < N; i++) {
                char probe[24]; /* looked up by equal bytes elsewhere */
                snprintf(probe, sizeof(probe), "sock.%d", i);
                void *v = gw_strmap_get(m, probe, strlen(probe));
                ck_assert_msg(present[i] ? v == &values[i] : v == NULL, "key %d at step %d", i,
                              step);
            }
        }
    }
    for (int i = 0; i < N; i++)
        ck_assert_ptr_eq(gw_strmap_remove(m, keys[i], strlen(keys[i])),
                         present[i] ? &values[i] : NULL);
    ck_assert_uint_eq(gw_strmap_count(m), 0);
    gw_strmap_free(m);
}
END_TEST

Suite *strmap_suite(void)
{
    Suite *s = suite_create("strmap");
    TCase *tc = tcase_create("strmap");
    tcase_add_test(tc, put_get_remove);
    tcase_add_test(tc, against_a_reference);
    suite_add_tcase(s, tc);
    return s;
}
