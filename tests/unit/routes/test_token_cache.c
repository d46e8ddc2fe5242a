/* Unit tests for routes/token_cache: hits until the deadline, misses after it, replacement within a
 * set, the byte budget and clearing. */
#include "routes/token_cache.h"

#include "tests/unit/suites.h"

#include <stdio.h>
#include <string.h>

static json_t *claims_of(const char *sub)
{
    return json_pack("{s:s}", "sub", sub);
}

START_TEST(hit_until_deadline)
{
    struct gw_token_cache *c = gw_token_cache_new();
    json_t *claims = claims_of("alice");
    gw_token_cache_put(c, "a.b.c", 5, claims, 1000, 900);
    const json_t *got = gw_token_cache_get(c, "a.b.c", 5, 999);
    ck_assert_ptr_eq(got, claims);
    ck_assert_ptr_null(gw_token_cache_get(c, "a.b.d", 5, 999));
    ck_assert_ptr_null(gw_token_cache_get(c, "a.b.", 4, 999));
    /* At the deadline the verifier would refuse it: so does the cache, and it drops the entry. */
    ck_assert_ptr_null(gw_token_cache_get(c, "a.b.c", 5, 1000));
    ck_assert_uint_eq(gw_token_cache_count(c), 0);
    ck_assert_uint_eq(gw_token_cache_bytes(c), 0);
    json_decref(claims);
    gw_token_cache_free(c);
}
END_TEST

START_TEST(past_deadline_not_cached)
{
    struct gw_token_cache *c = gw_token_cache_new();
    json_t *claims = claims_of("bob");
    gw_token_cache_put(c, "x", 1, claims, 100, 100);
    ck_assert_uint_eq(gw_token_cache_count(c), 0);
    ck_assert_int_eq(claims->refcount, 1);
    json_decref(claims);
    gw_token_cache_free(c);
}
END_TEST

/* A token put twice takes one entry, with the newer claims. */
START_TEST(put_twice_replaces)
{
    struct gw_token_cache *c = gw_token_cache_new();
    json_t *one = claims_of("one"), *two = claims_of("two");
    gw_token_cache_put(c, "tok", 3, one, 500, 0);
    gw_token_cache_put(c, "tok", 3, two, 600, 0);
    ck_assert_uint_eq(gw_token_cache_count(c), 1);
    ck_assert_ptr_eq(gw_token_cache_get(c, "tok", 3, 550), two);
    ck_assert_int_eq(one->refcount, 1);
    json_decref(one);
    json_decref(two);
    gw_token_cache_free(c);
}
END_TEST

/* Far more tokens than entries: the count stays bounded, every reference is dropped at free, and
 * the tokens that remain are answered right. */
START_TEST(bounded_entries)
{
    struct gw_token_cache *c = gw_token_cache_new();
    json_t *claims = claims_of("many");
    char tok[32];
    for (int i = 0; i < 5 * GW_TOKEN_CACHE_ENTRIES; i++) {
        int n = snprintf(tok, sizeof(tok), "token-%d", i);
        gw_token_cache_put(c, tok, (size_t)n, claims, 1000 + i, 0);
        ck_assert_uint_le(gw_token_cache_count(c), GW_TOKEN_CACHE_ENTRIES);
    }
    ck_assert_uint_gt(gw_token_cache_count(c), GW_TOKEN_CACHE_ENTRIES / 2);
    ck_assert_int_eq((int)claims->refcount, 1 + (int)gw_token_cache_count(c));
    /* The newest token was just put: it is there. */
    int n = snprintf(tok, sizeof(tok), "token-%d", 5 * GW_TOKEN_CACHE_ENTRIES - 1);
    ck_assert_ptr_eq(gw_token_cache_get(c, tok, (size_t)n, 1), claims);
    gw_token_cache_clear(c);
    ck_assert_uint_eq(gw_token_cache_count(c), 0);
    ck_assert_int_eq(claims->refcount, 1);
    gw_token_cache_free(c);
    json_decref(claims);
}
END_TEST

/* Big tokens stop being cached once their bytes reach the budget. */
START_TEST(bounded_bytes)
{
    enum { LEN = 8192 };
    static char tok[LEN];
    struct gw_token_cache *c = gw_token_cache_new();
    json_t *claims = claims_of("big");
    for (int i = 0; i < GW_TOKEN_CACHE_ENTRIES; i++) {
        memset(tok, 'a', LEN);
        snprintf(tok, 16, "%d.", i);
        gw_token_cache_put(c, tok, LEN, claims, 1000, 0);
        ck_assert_uint_le(gw_token_cache_bytes(c), GW_TOKEN_CACHE_MAX_BYTES);
    }
    ck_assert_uint_eq(gw_token_cache_bytes(c), gw_token_cache_count(c) * LEN);
    ck_assert_uint_lt(gw_token_cache_count(c), GW_TOKEN_CACHE_ENTRIES);
    gw_token_cache_free(c);
    ck_assert_int_eq(claims->refcount, 1);
    json_decref(claims);
}
END_TEST

Suite *token_cache_suite(void)
{
    Suite *s = suite_create("token_cache");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, hit_until_deadline);
    tcase_add_test(tc, past_deadline_not_cached);
    tcase_add_test(tc, put_twice_replaces);
    tcase_add_test(tc, bounded_entries);
    tcase_add_test(tc, bounded_bytes);
    suite_add_tcase(s, tc);
    return s;
}
