/* Unit tests for core/config_policy: GATEWAY.expose and GATEWAY.channels in every form, their
 * defaults and what they inherit from GATEWAY.auth, channel pattern syntax, and the exact text of
 * every refusal. */
#include "core/config.h"
#include "core/config_policy.h"
#include "core/status.h"
#include "core/util.h"

#include "tests/unit/core/config_load.h"
#include "tests/unit/suites.h"

#include <string.h>

#define JWT "  auth:\n    jwt: {algorithms: [HS256], secret: k}\n"

static void assert_entry(const struct gw_policy_entry *e, const char *pattern,
                         enum gw_auth_mode auth, bool given, size_t n_scopes, int line)
{
    ck_assert_str_eq(e->pattern, pattern);
    ck_assert_int_eq(e->auth, auth);
    ck_assert_int_eq(e->auth_given, given);
    ck_assert_uint_eq(e->scopes.n, n_scopes);
    ck_assert_int_eq(e->line, line);
}

/* Neither key: nothing is exposed and no channel may be subscribed to. */
START_TEST(absent_means_none)
{
    struct gw_config *c = test_config_ok("GATEWAY: {name: x}\n");
    ck_assert_uint_eq(c->expose.n, 0);
    ck_assert_uint_eq(c->channels.n, 0);
    gw_config_free(c);
    c = test_config_ok("GATEWAY: {expose: [], channels: []}\n");
    ck_assert_uint_eq(c->expose.n, 0);
    ck_assert_uint_eq(c->channels.n, 0);
    gw_config_free(c);
}
END_TEST

/* Today's plain globs keep their meaning: auth none (the default's default), no scopes. */
START_TEST(plain_strings)
{
    struct gw_config *c = test_config_ok("GATEWAY:\n  expose: [greeting_service.*, admin.status]\n"
                                         "  channels:\n    - room1\n    - 'orders.*'\n");
    ck_assert_uint_eq(c->expose.n, 2);
    assert_entry(&c->expose.items[0], "greeting_service.*", GW_AUTH_NONE, false, 0, 2);
    assert_entry(&c->expose.items[1], "admin.status", GW_AUTH_NONE, false, 0, 2);
    ck_assert_uint_eq(c->channels.n, 2);
    assert_entry(&c->channels.items[0], "room1", GW_AUTH_NONE, false, 0, 4);
    assert_entry(&c->channels.items[1], "orders.*", GW_AUTH_NONE, false, 0, 5);
    gw_config_free(c);
    /* One string alone is a list of one. */
    c = test_config_ok("GATEWAY: {expose: 'x.*', channels: 'room.**'}\n");
    ck_assert_uint_eq(c->expose.n, 1);
    assert_entry(&c->expose.items[0], "x.*", GW_AUTH_NONE, false, 0, 1);
    ck_assert_uint_eq(c->channels.n, 1);
    assert_entry(&c->channels.items[0], "room.**", GW_AUTH_NONE, false, 0, 1);
    gw_config_free(c);
}
END_TEST

START_TEST(mappings)
{
    static const char yaml[] = "GATEWAY:\n" JWT "  expose:\n"
                               "    - public.*\n"
                               "    - pattern: orders.*\n"
                               "      auth: required\n"
                               "      scopes: [orders:read, orders:write]\n"
                               "    - {pattern: shop.*, auth: optional}\n"
                               "    - {pattern: admin.*, scopes: admin}\n"
                               "  channels:\n"
                               "    - {pattern: news.*, auth: none}\n"
                               "    - user.{sub}\n"
                               "    - {pattern: 'tenant.{tenant_id}.**', auth: optional}\n"
                               "    - {pattern: 'ops.**', scopes: [ops]}\n";
    struct gw_config *c = test_config_ok(yaml);
    ck_assert_uint_eq(c->expose.n, 4);
    assert_entry(&c->expose.items[0], "public.*", GW_AUTH_NONE, false, 0, 5);
    assert_entry(&c->expose.items[1], "orders.*", GW_AUTH_REQUIRED, true, 2, 6);
    ck_assert_str_eq(c->expose.items[1].scopes.items[1], "orders:write");
    assert_entry(&c->expose.items[2], "shop.*", GW_AUTH_OPTIONAL, true, 0, 9);
    /* Scopes come from a token: without auth they make it required. */
    assert_entry(&c->expose.items[3], "admin.*", GW_AUTH_REQUIRED, false, 1, 10);
    ck_assert_uint_eq(c->channels.n, 4);
    assert_entry(&c->channels.items[0], "news.*", GW_AUTH_NONE, true, 0, 12);
    /* So does a claim. */
    assert_entry(&c->channels.items[1], "user.{sub}", GW_AUTH_REQUIRED, false, 0, 13);
    assert_entry(&c->channels.items[2], "tenant.{tenant_id}.**", GW_AUTH_OPTIONAL, true, 0, 14);
    assert_entry(&c->channels.items[3], "ops.**", GW_AUTH_REQUIRED, false, 1, 15);
    gw_config_free(c);
}
END_TEST

/* Entries without auth take GATEWAY.auth.default, wherever GATEWAY.auth sits in the file. */
START_TEST(default_is_inherited)
{
    struct gw_config *c = test_config_ok(
        "GATEWAY:\n  expose: [a.*, {pattern: b.*, auth: none}]\n"
        "  channels: [room, {pattern: lobby, auth: optional}]\n" JWT "    default: optional\n");
    assert_entry(&c->expose.items[0], "a.*", GW_AUTH_OPTIONAL, false, 0, 2);
    assert_entry(&c->expose.items[1], "b.*", GW_AUTH_NONE, true, 0, 2);
    assert_entry(&c->channels.items[0], "room", GW_AUTH_OPTIONAL, false, 0, 3);
    assert_entry(&c->channels.items[1], "lobby", GW_AUTH_OPTIONAL, true, 0, 3);
    gw_config_free(c);
    c = test_config_ok("GATEWAY:\n  expose: [a.*]\n  channels: [room]\n" JWT
                       "    default: required\n");
    ck_assert_int_eq(c->expose.items[0].auth, GW_AUTH_REQUIRED);
    ck_assert_int_eq(c->channels.items[0].auth, GW_AUTH_REQUIRED);
    gw_config_free(c);
}
END_TEST

/* While expose is on, in either form, the generic route owns rpc_prefix. */
START_TEST(mapping_form_turns_the_generic_route_on)
{
    struct gw_config *c = NULL;
    char err[512] = "";
    int rc = test_config_load(
        "GATEWAY:\n  expose: [{pattern: a.*}]\nroutes: [{rule: /rpc/x, rpc: a.b}]\n", &c, err,
        sizeof(err));
    ck_assert_int_eq(rc, GW_ECONFIG);
    ck_assert_str_eq(err, "a.yaml:3: routes[0].rule: '/rpc/x' is under GATEWAY.rpc_prefix '/rpc', "
                          "which the generic RPC route serves while GATEWAY.expose is set");
}
END_TEST

/* A later key replaces an earlier one whole. */
START_TEST(duplicate_key_replaces)
{
    struct gw_config *c = test_config_ok("GATEWAY:\n  channels: [a, b, c]\n  channels: [d]\n");
    ck_assert_uint_eq(c->channels.n, 1);
    ck_assert_str_eq(c->channels.items[0].pattern, "d");
    gw_config_free(c);
}
END_TEST

START_TEST(channel_patterns)
{
    static const char *const valid[] = {"a",
                                        "room1",
                                        "orders.*",
                                        "*.*",
                                        "**",
                                        "a.**.b",
                                        "a**b",
                                        "pre*post.x",
                                        "user.{sub}",
                                        "user-{sub}-inbox.x",
                                        "{tenant}.{sub}",
                                        "t.{urn:example/org-id}",
                                        "x.{a_b-c:d}.**",
                                        "svc.event type",
                                        "é.ü"};
    for (size_t i = 0; i < ARRAY_LEN(valid); i++)
        ck_assert_msg(gw_channel_pattern_check(valid[i], NULL, 0), "%s", valid[i]);
    ck_assert(gw_channel_pattern_names_claim("user.{sub}"));
    ck_assert(!gw_channel_pattern_names_claim("user.*"));
    static const struct {
        const char *pattern, *reason;
    } invalid[] = {
        {"", "an empty segment (a '.' at an end, or two in a row)"},
        {"a..b", "an empty segment (a '.' at an end, or two in a row)"},
        {".a", "an empty segment (a '.' at an end, or two in a row)"},
        {"a.", "an empty segment (a '.' at an end, or two in a row)"},
        {"a.***", "'***' is not a pattern (write '**')"},
        {"a****", "'***' is not a pattern (write '**')"},
        {"user.{sub", "'{' without its '}'"},
        {"user.{sub.x}", "'{' without its '}'"},
        {"user.{}", "'{}' names no claim"},
        {"user.}", "'}' without its '{'"},
        {"user.sub}", "'}' without its '{'"},
        {"user.{a b}", "a claim's name has only letters, digits, '_', '-', ':' and '/'"},
        {"user.{a{b}}", "a claim's name has only letters, digits, '_', '-', ':' and '/'"},
        {"user.{a}{b}", "two claims in one segment could be read two ways"},
        {"user.{a}-{b}", "two claims in one segment could be read two ways"},
        {"user.*{sub}",
         "a claim shares its segment with '*' (user.*{sub} would let user 1 read user 21's "
         "channel)"},
        {"user.{sub}**",
         "a claim shares its segment with '*' (user.*{sub} would let user 1 read user 21's "
         "channel)"},
    };
    for (size_t i = 0; i < ARRAY_LEN(invalid); i++) {
        char reason[GW_CHANNEL_REASON_LEN] = "";
        ck_assert_msg(!gw_channel_pattern_check(invalid[i].pattern, reason, sizeof(reason)), "%s",
                      invalid[i].pattern);
        ck_assert_str_eq(reason, invalid[i].reason);
    }
}
END_TEST

#define NEEDS_JWT "needs GATEWAY.auth.jwt (no token could be verified)"

static const struct {
    const char *yaml;
    const char *message;
} refusals[] = {
    {"GATEWAY:\n  expose: 3\n",
     "a.yaml:2: GATEWAY.expose: expected a list of 'service.method' globs such as "
     "'greeting_service.*', got '3'"},
    {"GATEWAY:\n  expose: {pattern: a.*}\n",
     "a.yaml:2: GATEWAY.expose: expected a list of 'service.method' globs such as "
     "'greeting_service.*', got a mapping"},
    {"GATEWAY:\n  expose:\n    - a.*\n    - ''\n",
     "a.yaml:4: GATEWAY.expose[1]: expected a glob such as 'greeting_service.*', got ''"},
    {"GATEWAY:\n  expose:\n    - [a.*]\n",
     "a.yaml:3: GATEWAY.expose[0]: expected a glob such as 'greeting_service.*' or a mapping "
     "{pattern, auth, scopes}, got a list"},
    {"GATEWAY:\n  expose:\n    - pattern: a.*\n      auht: none\n",
     "a.yaml:4: GATEWAY.expose[0].auht: unknown key (expected one of: pattern, auth, scopes)"},
    {"GATEWAY:\n  expose:\n    - auth: none\n",
     "a.yaml:3: GATEWAY.expose[0].pattern: required key is missing"},
    {"GATEWAY:\n  expose:\n    - pattern:\n      auth: none\n",
     "a.yaml:3: GATEWAY.expose[0].pattern: required key is missing"},
    {"GATEWAY:\n  expose:\n    - pattern: 7\n",
     "a.yaml:3: GATEWAY.expose[0].pattern: expected a glob such as 'greeting_service.*', got "
     "'7'"},
    {"GATEWAY:\n  expose:\n    - {pattern: a.*, auth: maybe}\n",
     "a.yaml:3: GATEWAY.expose[0].auth: expected one of none, optional, required, got 'maybe'"},
    {"GATEWAY:\n  expose:\n    - {pattern: a.*, scopes: [x, '']}\n",
     "a.yaml:3: GATEWAY.expose[0].scopes[1]: expected a scope such as 'orders:read', got ''"},
    {"GATEWAY:\n" JWT "  expose:\n    - a.*\n    - {pattern: b.*, auth: none, scopes: [x]}\n",
     "a.yaml:6: GATEWAY.expose[1].scopes: an entry with auth 'none' reads no token, so no scope "
     "could be checked"},
    {"GATEWAY:\n  expose:\n    - pattern: a.*\n      auth: required\n",
     "a.yaml:3: GATEWAY.expose[0].auth: " NEEDS_JWT},
    {"GATEWAY:\n  expose:\n    - pattern: a.*\n      auth: optional\n      scopes: [x]\n",
     "a.yaml:3: GATEWAY.expose[0].scopes: " NEEDS_JWT},
    {"GATEWAY:\n  expose:\n    - {pattern: a.*, scopes: x}\n",
     "a.yaml:3: GATEWAY.expose[0].scopes: " NEEDS_JWT},
    {"GATEWAY:\n  channels: 3\n",
     "a.yaml:2: GATEWAY.channels: expected a list of channel patterns such as 'room.*', got '3'"},
    {"GATEWAY:\n  channels: ''\n",
     "a.yaml:2: GATEWAY.channels: expected a list of channel patterns such as 'room.*', got ''"},
    {"GATEWAY:\n  channels: [room, '']\n",
     "a.yaml:2: GATEWAY.channels[1]: expected a channel pattern such as 'room.*', got ''"},
    {"GATEWAY:\n  channels: [true]\n",
     "a.yaml:2: GATEWAY.channels[0]: expected a channel pattern such as 'room.*' or a mapping "
     "{pattern, auth, scopes}, got 'true'"},
    {"GATEWAY:\n  channels:\n    - a..b\n",
     "a.yaml:3: GATEWAY.channels[0]: 'a..b': an empty segment (a '.' at an end, or two in a "
     "row)"},
    {"GATEWAY:\n  channels: 'a.***'\n",
     "a.yaml:2: GATEWAY.channels: 'a.***': '***' is not a pattern (write '**')"},
    {"GATEWAY:\n  channels:\n    - room\n    - {pattern: 'user.*{sub}', auth: required}\n",
     "a.yaml:4: GATEWAY.channels[1].pattern: 'user.*{sub}': a claim shares its segment with '*' "
     "(user.*{sub} would let user 1 read user 21's channel)"},
    {"GATEWAY:\n  channels:\n    - {pattern: 'user.{}'}\n",
     "a.yaml:3: GATEWAY.channels[0].pattern: 'user.{}': '{}' names no claim"},
    {"GATEWAY:\n  channels:\n    - {pattern: room, scope: [x]}\n",
     "a.yaml:3: GATEWAY.channels[0].scope: unknown key (expected one of: pattern, auth, "
     "scopes)"},
    {"GATEWAY:\n  channels:\n    - {auth: optional}\n",
     "a.yaml:3: GATEWAY.channels[0].pattern: required key is missing"},
    {"GATEWAY:\n" JWT "  channels:\n    - pattern: user.{sub}\n      auth: none\n",
     "a.yaml:5: GATEWAY.channels[0].pattern: 'user.{sub}' names a claim, but an entry with auth "
     "'none' reads no token"},
    {"GATEWAY:\n" JWT "  channels:\n    - {pattern: ops, auth: none, scopes: [ops]}\n",
     "a.yaml:5: GATEWAY.channels[0].scopes: an entry with auth 'none' reads no token, so no "
     "scope could be checked"},
    {"GATEWAY:\n  channels:\n    - room\n    - user.{sub}\n",
     "a.yaml:4: GATEWAY.channels[1].pattern: " NEEDS_JWT},
    {"GATEWAY:\n  channels:\n    - {pattern: room, auth: optional}\n",
     "a.yaml:3: GATEWAY.channels[0].auth: " NEEDS_JWT},
    {"GATEWAY:\n  channels:\n    - {pattern: 'user.{sub}', auth: optional}\n",
     "a.yaml:3: GATEWAY.channels[0].auth: " NEEDS_JWT},
    {"GATEWAY:\n  channels:\n    - {pattern: 'ops.{sub}', scopes: [ops]}\n",
     "a.yaml:3: GATEWAY.channels[0].scopes: " NEEDS_JWT},
    /* Routes keep their own messages through the same rules. */
    {"routes:\n  - rule: /a\n    rpc: s.m\n    auth: none\n    scopes: [a]\n",
     "a.yaml:2: routes[0].scopes: a route with auth 'none' reads no token, so no scope could be "
     "checked"},
};

START_TEST(refused)
{
    test_config_refused(refusals[_i].yaml, refusals[_i].message);
}
END_TEST

Suite *config_policy_suite(void)
{
    Suite *s = suite_create("config_policy");
    TCase *tc = tcase_create("policy");
    tcase_add_test(tc, absent_means_none);
    tcase_add_test(tc, plain_strings);
    tcase_add_test(tc, mappings);
    tcase_add_test(tc, default_is_inherited);
    tcase_add_test(tc, mapping_form_turns_the_generic_route_on);
    tcase_add_test(tc, duplicate_key_replaces);
    tcase_add_test(tc, channel_patterns);
    tcase_add_loop_test(tc, refused, 0, (int)ARRAY_LEN(refusals));
    suite_add_tcase(s, tc);
    return s;
}
