#include "routes/client_ip.h"
#include "routes/rate_limit.h"

#include "tests/unit/core/config_load.h"
#include "tests/unit/suites.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const uint8_t seed[32] = {9};

#define NS_PER_MS 1000000ULL
#define NS_PER_S 1000000000ULL

/* Every request of these tests comes from one client. */
static void one_key(void *ctx, const struct gw_rate_limit_conf *limit, struct gw_rate_key *out)
{
    (void)limit;
    out->type = GW_RATE_BY_HEADER;
    out->data = ctx;
    out->len = strlen(ctx);
}

static void take(const struct gw_rate_limits *limits, struct gw_rate_store *store, uint64_t now,
                 const char *client, struct gw_rate_verdict *v)
{
    gw_rate_limits_take(limits, store, (1ULL << limits->n) - 1, one_key, (void *)(uintptr_t)client,
                        now, v);
}

START_TEST(a_bucket_of_three_at_one_a_minute)
{
    struct gw_config *c = test_config_ok(
        "GATEWAY:\n  rate_limits:\n    - {name: slow, key: client_ip, rate: 1/min, burst: 3}\n");
    struct gw_rate_limits *limits = gw_rate_limits_compile(c);
    struct gw_rate_store *store = gw_rate_store_new(1000, seed);
    struct gw_rate_verdict v;
    char header[128];
    const uint64_t t0 = 1000 * NS_PER_S;
    ck_assert_str_eq(limits->items[0].item, "\"slow\";q=3;w=180");
    take(limits, store, t0, "a", &v);
    ck_assert(!v.limited);
    ck_assert_int_eq(v.remaining, 2);
    ck_assert_int_eq(v.reset_s, 60);
    gw_rate_limit_header(&v, header, sizeof(header));
    ck_assert_str_eq(header, "\"slow\";r=2;t=60");
    take(limits, store, t0 + 1 * NS_PER_MS, "a", &v);
    ck_assert(!v.limited && v.remaining == 1 && v.reset_s == 60);
    take(limits, store, t0 + 2 * NS_PER_MS, "a", &v);
    ck_assert(!v.limited && v.remaining == 0 && v.reset_s == 60);
    take(limits, store, t0 + 3 * NS_PER_MS, "a", &v);
    ck_assert(v.limited);
    ck_assert_int_eq(v.retry_after_s, 60);
    ck_assert_int_eq(v.remaining, 0);
    ck_assert_int_eq(v.reset_s, 60);
    /* Another client has its own bucket. */
    take(limits, store, t0 + 4 * NS_PER_MS, "b", &v);
    ck_assert(!v.limited && v.remaining == 2);
    /* Half a token later: 30 s to go. A refusal takes nothing. */
    take(limits, store, t0 + 30 * NS_PER_S, "a", &v);
    ck_assert(v.limited);
    ck_assert_int_eq(v.retry_after_s, 30);
    take(limits, store, t0 + 50 * NS_PER_S, "a", &v);
    ck_assert(v.limited);
    ck_assert_int_eq(v.retry_after_s, 10);
    take(limits, store, t0 + 60 * NS_PER_S + 10 * NS_PER_MS, "a", &v);
    ck_assert(!v.limited && v.remaining == 0 && v.reset_s == 60);
    /* Idle long enough, the bucket is full again, never fuller. */
    take(limits, store, t0 + 3600 * NS_PER_S, "a", &v);
    ck_assert(!v.limited && v.remaining == 2 && v.reset_s == 60);
    gw_rate_store_free(store);
    gw_rate_limits_free(limits);
    gw_config_free(c);
}
END_TEST

START_TEST(fast_rates_round_up_to_a_second)
{
    struct gw_config *c = test_config_ok(
        "GATEWAY:\n  rate_limits:\n    - {name: f, key: client_ip, rate: 4/s, burst: 2}\n");
    struct gw_rate_limits *limits = gw_rate_limits_compile(c);
    struct gw_rate_store *store = gw_rate_store_new(1000, seed);
    struct gw_rate_verdict v;
    ck_assert_str_eq(limits->items[0].item, "\"f\";q=2;w=1");
    take(limits, store, NS_PER_S, "a", &v);
    take(limits, store, NS_PER_S, "a", &v);
    ck_assert(!v.limited && v.remaining == 0 && v.reset_s == 1);
    take(limits, store, NS_PER_S, "a", &v);
    ck_assert(v.limited && v.retry_after_s == 1);
    take(limits, store, NS_PER_S + 250 * NS_PER_MS, "a", &v); /* one token in 250 ms */
    ck_assert(!v.limited && v.remaining == 0);
    gw_rate_store_free(store);
    gw_rate_limits_free(limits);
    gw_config_free(c);
}
END_TEST

/* Two limits: a request goes on only when both have a token, and then takes one from each. */
START_TEST(every_limit_or_none)
{
    struct gw_config *c =
        test_config_ok("GATEWAY:\n  rate_limits:\n"
                       "    - {name: a, key: client_ip, rate: 1/min, burst: 1}\n"
                       "    - {name: b, key: client_ip, rate: 10/min, burst: 10}\n");
    struct gw_rate_limits *limits = gw_rate_limits_compile(c);
    struct gw_rate_store *store = gw_rate_store_new(1000, seed);
    struct gw_rate_verdict v;
    char header[256];
    take(limits, store, NS_PER_S, "x", &v);
    ck_assert(!v.limited);
    ck_assert_str_eq(v.policy->conf->name, "a"); /* the fewest tokens left */
    ck_assert_int_eq(v.remaining, 0);
    for (int i = 0; i < 5; i++) {
        take(limits, store, NS_PER_S + (uint64_t)(i + 1) * NS_PER_MS, "x", &v);
        ck_assert(v.limited);
        ck_assert_str_eq(v.policy->conf->name, "a");
        ck_assert_int_eq(v.retry_after_s, 60);
    }
    /* b lost one token only: the refusals took none. */
    struct gw_rate_digest d;
    gw_rate_store_digest(store, GW_RATE_BY_HEADER, "x", 1, &d);
    bool fresh;
    struct gw_bucket *b = gw_rate_store_bucket(store, limits->items[1].id, &d, &fresh);
    ck_assert(!fresh);
    ck_assert(b->tokens > 8.99 && b->tokens < 9.01);
    gw_rate_policy_header(limits, 3, header, sizeof(header));
    ck_assert_str_eq(header, "\"a\";q=1;w=60, \"b\";q=10;w=60");
    gw_rate_policy_header(limits, 2, header, sizeof(header));
    ck_assert_str_eq(header, "\"b\";q=10;w=60");
    gw_rate_policy_header(limits, 3, header, 20); /* what does not fit is left out */
    ck_assert_str_eq(header, "\"a\";q=1;w=60");
    gw_rate_store_free(store);
    gw_rate_limits_free(limits);
    gw_config_free(c);
}
END_TEST

/* A client and the key it chooses (a header's): limit "ip" is keyed by the first, "key" by the
 * second. */
struct two_keys {
    const char *ip, *chosen;
};

static void keys_by_limit(void *ctx, const struct gw_rate_limit_conf *limit,
                          struct gw_rate_key *out)
{
    const struct two_keys *k = ctx;
    const char *text = strcmp(limit->name, "ip") == 0 ? k->ip : k->chosen;
    out->type = GW_RATE_BY_HEADER;
    out->data = text;
    out->len = strlen(text);
}

/* A refused request makes no bucket: a client refused by its address's limit, sending a new key
 * of its own choosing each time, used to fill the store and push every other client's buckets
 * out, to come back full. */
START_TEST(a_refused_request_makes_no_bucket)
{
    struct gw_config *c =
        test_config_ok("GATEWAY:\n  rate_limits:\n"
                       "    - {name: ip, key: client_ip, rate: 1/hour, burst: 1}\n"
                       "    - {name: key, key: 'header:X-Api-Key', rate: 1/hour, burst: 1}\n");
    struct gw_rate_limits *limits = gw_rate_limits_compile(c);
    struct gw_rate_store *store = gw_rate_store_new(64, seed);
    struct gw_rate_verdict v;
    uint64_t all = (1ULL << limits->n) - 1;
    struct two_keys victim = {"victim", "V"}, attacker = {"attacker", "A0"};
    gw_rate_limits_take(limits, store, all, keys_by_limit, &victim, NS_PER_S, &v);
    ck_assert(!v.limited);
    gw_rate_limits_take(limits, store, all, keys_by_limit, &attacker, NS_PER_S, &v);
    ck_assert(!v.limited);
    ck_assert_uint_eq(gw_rate_store_size(store), 4);
    char chosen[32];
    for (int i = 1; i <= 1000; i++) {
        snprintf(chosen, sizeof(chosen), "A%d", i);
        attacker.chosen = chosen;
        gw_rate_limits_take(limits, store, all, keys_by_limit, &attacker, NS_PER_S + (uint64_t)i,
                            &v);
        ck_assert(v.limited);
    }
    ck_assert_uint_eq(gw_rate_store_size(store), 4);
    ck_assert_uint_eq(gw_rate_store_evictions(store), 0);
    gw_rate_limits_take(limits, store, all, keys_by_limit, &victim, 2 * NS_PER_S, &v);
    ck_assert(v.limited);
    gw_rate_store_free(store);
    gw_rate_limits_free(limits);
    gw_config_free(c);
}
END_TEST

START_TEST(what_each_limit_covers)
{
    const char *yaml = "GATEWAY:\n  rate_limits:\n"
                       "    - {key: client_ip, rate: 1/s, match: ['/items/*']}\n"
                       "    - {key: client_ip, rate: 2/s, match: ['accounts.*']}\n"
                       "    - {key: client_ip, rate: 3/s}\n"
                       "routes:\n"
                       "  - {rule: '/items/<int:id>', rpc: shop.item}\n"
                       "  - {rule: /users, rpc: accounts.list}\n"
                       "  - {rule: /other, rpc: shop.other}\n";
    struct gw_config *c = test_config_ok(yaml);
    struct gw_rate_limits *limits = gw_rate_limits_compile(c);
    ck_assert_uint_eq(gw_rate_limits_of_route(limits, 0), 5);
    ck_assert_uint_eq(gw_rate_limits_of_route(limits, 1), 6);
    ck_assert_uint_eq(gw_rate_limits_of_route(limits, 2), 4);
    ck_assert_uint_eq(gw_rate_limits_of_target(limits, "accounts.delete"), 6);
    ck_assert_uint_eq(gw_rate_limits_of_target(limits, "shop.item"), 4); /* rules are for routes */
    ck_assert_uint_eq(gw_rate_limits_of_target(NULL, "shop.item"), 0);
    /* The same limits in another generation are known by the same ids; a changed one is not. */
    struct gw_config *again = test_config_ok(yaml);
    struct gw_rate_limits *same = gw_rate_limits_compile(again);
    for (size_t i = 0; i < 3; i++)
        ck_assert_uint_eq(same->items[i].id, limits->items[i].id);
    struct gw_config *changed = test_config_ok("GATEWAY:\n  rate_limits:\n"
                                               "    - {key: client_ip, rate: 1/s, burst: 2, "
                                               "match: ['/items/*']}\n");
    struct gw_rate_limits *other = gw_rate_limits_compile(changed);
    ck_assert_uint_ne(other->items[0].id, limits->items[0].id);
    struct gw_config *none = test_config_ok("GATEWAY: {}\n");
    ck_assert_ptr_null(gw_rate_limits_compile(none));
    gw_rate_limits_free(other);
    gw_rate_limits_free(same);
    gw_rate_limits_free(limits);
    gw_config_free(none);
    gw_config_free(changed);
    gw_config_free(again);
    gw_config_free(c);
}
END_TEST

static void addr(const char *text, uint8_t out[16])
{
    ck_assert(gw_ip_parse(text, strlen(text), out));
}

static void assert_client(const char *peer, const char *const *xff, size_t n,
                          const struct gw_cidr_list *trusted, const char *expected)
{
    uint8_t p[16], got[16], want[16];
    addr(peer, p);
    addr(expected, want);
    gw_client_ip(p, xff, n, trusted, got);
    ck_assert_msg(memcmp(got, want, 16) == 0, "peer %s: expected %s", peer, expected);
}

START_TEST(the_client_behind_trusted_proxies)
{
    char reason[128];
    struct gw_cidr blocks[2];
    ck_assert(gw_cidr_parse("10.0.0.0/8", &blocks[0], reason, sizeof(reason)));
    ck_assert(gw_cidr_parse("::1", &blocks[1], reason, sizeof(reason)));
    struct gw_cidr_list trusted = {blocks, 2}, nobody = {NULL, 0};
    const char *one[] = {"203.0.113.9"};
    const char *chain[] = {"198.51.100.1, 203.0.113.9, 10.0.0.2"};
    const char *spoofed[] = {"1.1.1.1", "203.0.113.9 , 10.0.0.3"};
    const char *junk[] = {"203.0.113.9, nonsense, 10.0.0.2"};
    const char *ports[] = {"[2001:db8::7]:443, 10.0.0.2:8080"};
    const char *all_trusted[] = {"10.0.0.9, 10.0.0.2"};
    const char *empty[] = {""};
    /* Nobody trusted: the header is not read. */
    assert_client("10.0.0.1", one, 1, &nobody, "10.0.0.1");
    /* An untrusted peer: its header is its own words. */
    assert_client("192.0.2.1", one, 1, &trusted, "192.0.2.1");
    /* Through a trusted proxy: the right-most untrusted address. */
    assert_client("10.0.0.1", one, 1, &trusted, "203.0.113.9");
    assert_client("10.0.0.1", chain, 1, &trusted, "203.0.113.9");
    /* Several fields are one list; what the client put first is never reached. */
    assert_client("10.0.0.1", spoofed, 2, &trusted, "203.0.113.9");
    /* Junk ends the walk at the trusted hop to its right. */
    assert_client("10.0.0.1", junk, 1, &trusted, "10.0.0.2");
    assert_client("::1", ports, 1, &trusted, "2001:db8::7");
    assert_client("10.0.0.1", all_trusted, 1, &trusted, "10.0.0.9");
    assert_client("10.0.0.1", empty, 1, &trusted, "10.0.0.1");
    assert_client("10.0.0.1", NULL, 0, &trusted, "10.0.0.1");

    /* IPv6 clients are limited by their /64, IPv4 ones by their address. */
    uint8_t a[16], b[16], ka[16], kb[16];
    addr("2001:db8:1:2::1", a);
    addr("2001:db8:1:2:ffff::9", b);
    gw_client_ip_key(a, ka);
    gw_client_ip_key(b, kb);
    ck_assert(memcmp(ka, kb, 16) == 0);
    addr("2001:db8:1:3::1", b);
    gw_client_ip_key(b, kb);
    ck_assert(memcmp(ka, kb, 16) != 0);
    addr("192.0.2.1", a);
    addr("192.0.2.2", b);
    gw_client_ip_key(a, ka);
    gw_client_ip_key(b, kb);
    ck_assert(memcmp(ka, kb, 16) != 0);
}
END_TEST

Suite *rate_limit_suite(void)
{
    Suite *s = suite_create("rate_limit");
    TCase *tc = tcase_create("rate_limit");
    tcase_add_test(tc, a_bucket_of_three_at_one_a_minute);
    tcase_add_test(tc, fast_rates_round_up_to_a_second);
    tcase_add_test(tc, a_refused_request_makes_no_bucket);
    tcase_add_test(tc, every_limit_or_none);
    tcase_add_test(tc, what_each_limit_covers);
    tcase_add_test(tc, the_client_behind_trusted_proxies);
    suite_add_tcase(s, tc);
    return s;
}
