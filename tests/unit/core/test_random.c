/* Unit tests for core/random: bytes come, differ from draw to draw, and across the pool's refills.
 */
#include "core/random.h"

#include "tests/unit/suites.h"

#include <string.h>

START_TEST(draws_differ)
{
    unsigned char a[24], b[24], zero[24] = {0};
    gw_random_fill(a, sizeof(a));
    gw_random_fill(b, sizeof(b));
    ck_assert(memcmp(a, b, sizeof(a)) != 0);
    ck_assert(memcmp(a, zero, sizeof(a)) != 0);
}
END_TEST

START_TEST(across_refills)
{
    /* More than the pool holds, in one draw and in many: every 8-byte id different. */
    static unsigned char big[10000];
    gw_random_fill(big, sizeof(big));
    static unsigned char ids[1000][8];
    for (size_t i = 0; i < 1000; i++)
        gw_random_fill(ids[i], sizeof(ids[i]));
    for (size_t i = 0; i < 1000; i++)
        for (size_t j = i + 1; j < 1000; j++)
            ck_assert(memcmp(ids[i], ids[j], sizeof(ids[i])) != 0);
    size_t zeros = 0;
    for (size_t i = 0; i < sizeof(big); i++)
        zeros += big[i] == 0;
    ck_assert_uint_lt(zeros, 200); /* about 39 expected */
    gw_random_fill(big, 0);
}
END_TEST

Suite *random_suite(void)
{
    Suite *s = suite_create("random");
    TCase *tc = tcase_create("fill");
    tcase_add_test(tc, draws_differ);
    tcase_add_test(tc, across_refills);
    suite_add_tcase(s, tc);
    return s;
}
