#include "core/config.h"
#include "core/status.h"

#include "tests/unit/core/config_load.h"
#include "tests/unit/suites.h"

START_TEST(limits_and_their_defaults)
{
    struct gw_config *c = test_config_ok(
        "GATEWAY:\n"
        "  trusted_proxies: [10.0.0.0/8, '::1', 'fd00::/8']\n"
        "  rate_limit_keys: 5000\n"
        "  rate_limits:\n"
        "    - {key: client_ip, rate: 100/s}\n"
        "    - {name: users, key: 'claim:sub', rate: 6000/min, burst: 50, match: ['/items/*', "
        "'orders.*']}\n"
        "    - {key: 'header:X-Api-Key', rate: 5000/hour}\n"
        "    - {key: client_ip, rate: 1/day, match: 'billing.*'}\n");
    ck_assert_uint_eq(c->rate_limits.n, 4);
    const struct gw_rate_limit_conf *l = &c->rate_limits.items[0];
    ck_assert_str_eq(l->name, "limit0");
    ck_assert_int_eq(l->kind, GW_RATE_KEY_CLIENT_IP);
    ck_assert_ptr_null(l->key_name);
    ck_assert_int_eq(l->count, 100);
    ck_assert_int_eq(l->period_s, 1);
    ck_assert_int_eq(l->burst, 100); /* a second's worth */
    l = &c->rate_limits.items[1];
    ck_assert_str_eq(l->name, "users");
    ck_assert_int_eq(l->kind, GW_RATE_KEY_CLAIM);
    ck_assert_str_eq(l->key_name, "sub");
    ck_assert_int_eq(l->period_s, 60);
    ck_assert_int_eq(l->burst, 50);
    ck_assert_uint_eq(l->match.n, 2);
    l = &c->rate_limits.items[2];
    ck_assert_int_eq(l->kind, GW_RATE_KEY_HEADER);
    ck_assert_str_eq(l->key_name, "X-Api-Key");
    ck_assert_int_eq(l->burst, 2); /* 5000/3600 = 1.39 a second, rounded up */
    l = &c->rate_limits.items[3];
    ck_assert_int_eq(l->burst, 1);
    ck_assert_int_eq(l->period_s, 86400);
    ck_assert_uint_eq(l->match.n, 1);
    ck_assert_uint_eq(c->trusted_proxies.n, 3);
    ck_assert_uint_eq(c->trusted_proxies.items[0].prefix, 104);
    ck_assert_uint_eq(c->trusted_proxies.items[1].prefix, 128);
    ck_assert_uint_eq(c->trusted_proxies.items[2].prefix, 8);
    ck_assert_int_eq(c->rate_limit_keys, 5000);
    gw_config_free(c);

    c = test_config_ok("GATEWAY: {}\n");
    ck_assert_uint_eq(c->rate_limits.n, 0);
    ck_assert_uint_eq(c->trusted_proxies.n, 0);
    ck_assert_int_eq(c->rate_limit_keys, 100000);
    gw_config_free(c);
}
END_TEST

START_TEST(refusals)
{
    test_config_refused("GATEWAY:\n  rate_limits: {key: client_ip}\n",
                        "a.yaml:2: GATEWAY.rate_limits: expected a list of {key, rate, burst, "
                        "match, name}, got a mapping");
    test_config_refused("GATEWAY:\n  rate_limits:\n    - {key: client_ip, rate: 10/week}\n",
                        "a.yaml:3: GATEWAY.rate_limits[0].rate: expected '<count>/<unit>' with a "
                        "count from 1 to 1000000000 and a unit s, sec, second, m, min, minute, h, "
                        "hour, d or day (e.g. '100/s'), got '10/week'");
    test_config_refused("GATEWAY:\n  rate_limits:\n    - {key: client_ip, rate: 100}\n",
                        "a.yaml:3: GATEWAY.rate_limits[0].rate: expected '<count>/<unit>' with a "
                        "count from 1 to 1000000000 and a unit s, sec, second, m, min, minute, h, "
                        "hour, d or day (e.g. '100/s'), got '100'");
    test_config_refused("GATEWAY:\n  rate_limits:\n    - {key: client_ip, rate: 0/s}\n",
                        "a.yaml:3: GATEWAY.rate_limits[0].rate: expected '<count>/<unit>' with a "
                        "count from 1 to 1000000000 and a unit s, sec, second, m, min, minute, h, "
                        "hour, d or day (e.g. '100/s'), got '0/s'");
    test_config_refused("GATEWAY:\n  rate_limits:\n    - {key: ip, rate: 1/s}\n",
                        "a.yaml:3: GATEWAY.rate_limits[0].key: expected client_ip, claim:<name> "
                        "or header:<Name>, got 'ip'");
    test_config_refused("GATEWAY:\n  rate_limits:\n    - {key: 'header:', rate: 1/s}\n",
                        "a.yaml:3: GATEWAY.rate_limits[0].key: expected client_ip, claim:<name> "
                        "or header:<Name>, got 'header:'");
    test_config_refused("GATEWAY:\n  rate_limits:\n    - {rate: 1/s}\n",
                        "a.yaml:3: GATEWAY.rate_limits[0].key: required key is missing");
    test_config_refused("GATEWAY:\n  rate_limits:\n    - {key: client_ip}\n",
                        "a.yaml:3: GATEWAY.rate_limits[0].rate: required key is missing");
    test_config_refused("GATEWAY:\n  rate_limits:\n    - {key: client_ip, rate: 1/s, burst: 0}\n",
                        "a.yaml:3: GATEWAY.rate_limits[0].burst: expected an integer from 1 to "
                        "1000000000, got '0'");
    test_config_refused("GATEWAY:\n  rate_limits:\n    - {key: client_ip, rate: 1/s, every: 2}\n",
                        "a.yaml:3: GATEWAY.rate_limits[0].every: unknown key (expected one of: "
                        "name, key, rate, burst, match)");
    test_config_refused(
        "GATEWAY:\n  rate_limits:\n    - {key: client_ip, rate: 1/s, name: 'a b'}\n",
        "a.yaml:3: GATEWAY.rate_limits[0].name: expected a name of at most 32 "
        "letters, digits, '_', '-' and '.', got 'a b'");
    test_config_refused("GATEWAY:\n  rate_limits:\n    - {key: client_ip, rate: 1/s, name: a}\n"
                        "    - {key: client_ip, rate: 2/s, name: a}\n",
                        "a.yaml:4: GATEWAY.rate_limits[1]: the name 'a' is taken by "
                        "rate_limits[0]");
    test_config_refused("GATEWAY:\n  rate_limits:\n    - {key: client_ip, rate: 1/s, burst: 5}\n"
                        "    - {key: client_ip, rate: 60/min, burst: 5, name: b}\n",
                        "a.yaml:4: GATEWAY.rate_limits[1]: the same limit as rate_limits[0] "
                        "(key, rate, burst and match)");
    test_config_refused("GATEWAY:\n  trusted_proxies: [10.0.0.1/8]\n",
                        "a.yaml:2: GATEWAY.trusted_proxies[0]: host bits are set past the /8 "
                        "prefix (write the block's first address)");
    test_config_refused("GATEWAY:\n  trusted_proxies: [10.0.0.0/33]\n",
                        "a.yaml:2: GATEWAY.trusted_proxies[0]: expected a prefix length from 0 "
                        "to 32 after '/'");
    test_config_refused("GATEWAY:\n  trusted_proxies: [proxy.internal]\n",
                        "a.yaml:2: GATEWAY.trusted_proxies[0]: 'proxy.internal' is not an IPv4 "
                        "or IPv6 address");
    test_config_refused("GATEWAY:\n  rate_limit_keys: 10\n",
                        "a.yaml:2: GATEWAY.rate_limit_keys: expected an integer from 1000 to "
                        "100000000, got '10'");
}
END_TEST

Suite *config_limits_suite(void)
{
    Suite *s = suite_create("config_limits");
    TCase *tc = tcase_create("config_limits");
    tcase_add_test(tc, limits_and_their_defaults);
    tcase_add_test(tc, refusals);
    suite_add_tcase(s, tc);
    return s;
}
