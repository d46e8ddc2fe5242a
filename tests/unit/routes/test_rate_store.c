#include "routes/rate_store.h"

#include "tests/unit/suites.h"

#include <stdio.h>
#include <string.h>

static const uint8_t seed[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

static struct gw_rate_digest key(const struct gw_rate_store *s, unsigned n)
{
    char text[32];
    int len = snprintf(text, sizeof(text), "key-%u", n);
    struct gw_rate_digest d;
    gw_rate_store_digest(s, 3, text, (size_t)len, &d);
    return d;
}

static struct gw_bucket *get(struct gw_rate_store *s, uint64_t limit, unsigned n, bool *fresh)
{
    struct gw_rate_digest d = key(s, n);
    return gw_rate_store_bucket(s, limit, &d, fresh);
}

static bool has(const struct gw_rate_store *s, uint64_t limit, unsigned n)
{
    struct gw_rate_digest d = key(s, n);
    return gw_rate_store_has(s, limit, &d);
}

START_TEST(buckets_are_kept_by_limit_and_key)
{
    struct gw_rate_store *s = gw_rate_store_new(10, seed);
    bool fresh;
    ck_assert(!has(s, 1, 1));
    struct gw_bucket *b = get(s, 1, 1, &fresh);
    ck_assert(fresh);
    ck_assert(b->tokens == 0.0 && b->at_ns == 0);
    b->tokens = 2.5;
    b->at_ns = 42;
    b = get(s, 1, 1, &fresh);
    ck_assert(!fresh);
    ck_assert(b->tokens == 2.5 && b->at_ns == 42);
    /* The same key under another limit, or of another kind, is another bucket. */
    get(s, 2, 1, &fresh);
    ck_assert(fresh);
    struct gw_rate_digest a, c;
    gw_rate_store_digest(s, 1, "x", 1, &a);
    gw_rate_store_digest(s, 2, "x", 1, &c);
    ck_assert(a.a != c.a || a.b != c.b);
    ck_assert_uint_eq(gw_rate_store_size(s), 2);
    gw_rate_store_free(s);
}
END_TEST

START_TEST(the_least_recently_used_goes_first)
{
    struct gw_rate_store *s = gw_rate_store_new(3, seed);
    bool fresh;
    get(s, 1, 1, &fresh);
    get(s, 1, 2, &fresh);
    get(s, 1, 3, &fresh);
    get(s, 1, 1, &fresh); /* 1 is used again: 2 is now the oldest */
    ck_assert(!fresh);
    get(s, 1, 4, &fresh);
    ck_assert(fresh);
    ck_assert(!has(s, 1, 2));
    ck_assert(has(s, 1, 1) && has(s, 1, 3) && has(s, 1, 4));
    ck_assert_uint_eq(gw_rate_store_evictions(s), 1);
    get(s, 1, 5, &fresh); /* then 3 */
    ck_assert(!has(s, 1, 3));
    ck_assert(has(s, 1, 1) && has(s, 1, 4) && has(s, 1, 5));
    ck_assert_uint_eq(gw_rate_store_size(s), 3);
    /* An evicted key comes back fresh. */
    get(s, 1, 2, &fresh);
    ck_assert(fresh);
    ck_assert(!has(s, 1, 1));
    gw_rate_store_free(s);
}
END_TEST

START_TEST(a_flood_of_keys_stays_within_the_bound)
{
    enum { CAP = 1000, KEYS = 200000 };
    struct gw_rate_store *s = gw_rate_store_new(CAP, seed);
    bool fresh;
    for (unsigned i = 0; i < KEYS; i++) {
        get(s, 7, i, &fresh);
        ck_assert(fresh);
    }
    ck_assert_uint_eq(gw_rate_store_size(s), CAP);
    ck_assert_uint_eq(gw_rate_store_evictions(s), KEYS - CAP);
    for (unsigned i = KEYS - CAP; i < KEYS; i++)
        ck_assert(has(s, 7, i));
    for (unsigned i = 0; i < KEYS - CAP; i += 997)
        ck_assert(!has(s, 7, i));
    gw_rate_store_free(s);
}
END_TEST

Suite *rate_store_suite(void)
{
    Suite *s = suite_create("rate_store");
    TCase *tc = tcase_create("rate_store");
    tcase_add_test(tc, buckets_are_kept_by_limit_and_key);
    tcase_add_test(tc, the_least_recently_used_goes_first);
    tcase_add_test(tc, a_flood_of_keys_stays_within_the_bound);
    suite_add_tcase(s, tc);
    return s;
}
