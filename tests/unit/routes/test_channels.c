/* Unit tests for routes/channels: channel patterns ('*', '**', claims) and the decision on a
 * subscribe (some entry matches and its auth and scopes are met), with matching that stays fast
 * on patterns that would make a backtracking matcher explode. */
#include "routes/channels.h"

#include "core/clock.h"
#include "core/util.h"

#include "tests/unit/suites.h"

#include <stdlib.h>
#include <string.h>

static const struct {
    const char *pattern, *channel;
    bool match;
} anonymous_cases[] = {
    {"room1", "room1", true},
    {"room1", "room10", false},
    {"room1", "Room1", false},
    {"room1", "", false},
    {"orders.*", "orders.placed", true},
    {"orders.*", "orders.", true},
    {"orders.*", "orders.a.b", false},
    {"orders.*", "orders", false},
    {"orders.*", "ordersx.placed", false},
    {"*.*", "a.b", true},
    {"*.*", "a.b.c", false},
    {"*.*", "ab", false},
    {"*", "", true},
    {"*", "a.b", false},
    {"pre*post.x", "prepost.x", true},
    {"pre*post.x", "pre-and-post.x", true},
    {"pre*post.x", "pre.post.x", false},
    {"orders.**", "orders.a.b.c", true},
    {"orders.**", "orders.", true},
    {"orders.**", "orders", false},
    {"**", "", true},
    {"**", "any.thing.at.all", true},
    {"a.**.b", "a.x.y.b", true},
    {"a.**.b", "a..b", true},
    {"a.**.b", "a.b", false},
    {"a**b", "ab", true},
    {"a**b", "a.x.b", true},
    {"a**b", "a.x.bc", false},
    {"**.end", "x.y.end", true},
    {"*.end", "x.y.end", false},
    {"svc.event type", "svc.event type", true},
    /* Invalid patterns match nothing, even the same text. */
    {"a..b", "a..b", false},
    {"a.***", "a.***", false},
    {"a.{", "a.{", false},
    {"", "", false},
    /* A claim needs a token. */
    {"user.{sub}", "user.{sub}", false},
    {"user.{sub}", "user.", false},
};

START_TEST(anonymous_patterns)
{
    bool got =
        gw_channel_pattern_match(anonymous_cases[_i].pattern, anonymous_cases[_i].channel, NULL);
    ck_assert_msg(got == anonymous_cases[_i].match, "'%s' against '%s': %d",
                  anonymous_cases[_i].pattern, anonymous_cases[_i].channel, got);
}
END_TEST

START_TEST(claims_fill_patterns)
{
    json_t *claims =
        json_pack("{s:s, s:I, s:I, s:s, s:s, s:f, s:b, s:n, s:[s], s:s}", "sub", "alice", "uid",
                  (json_int_t)42, "neg", (json_int_t)-7, "tenant", "acme", "urn:example/org-id",
                  "org1", "score", 4.5, "admin", 1, "nil", "list", "a", "empty", "");
    ck_assert(gw_channel_pattern_match("user.{sub}", "user.alice", claims));
    ck_assert(!gw_channel_pattern_match("user.{sub}", "user.bob", claims));
    ck_assert(!gw_channel_pattern_match("user.{sub}", "user.alice.x", claims));
    ck_assert(!gw_channel_pattern_match("user.{sub}", "user.{sub}", claims));
    ck_assert(gw_channel_pattern_match("user.{sub}.**", "user.alice.inbox.1", claims));
    ck_assert(gw_channel_pattern_match("user-{sub}-inbox.x", "user-alice-inbox.x", claims));
    ck_assert(gw_channel_pattern_match("{tenant}.{sub}", "acme.alice", claims));
    ck_assert(gw_channel_pattern_match("org.{urn:example/org-id}", "org.org1", claims));
    /* Integers as their decimal text. */
    ck_assert(gw_channel_pattern_match("n.{uid}", "n.42", claims));
    ck_assert(!gw_channel_pattern_match("n.{uid}", "n.042", claims));
    ck_assert(gw_channel_pattern_match("n.{neg}", "n.-7", claims));
    /* Missing claims, other types and empty values match nothing. */
    static const char *const unusable[] = {"{missing}", "{score}", "{admin}",
                                           "{nil}",     "{list}",  "{empty}"};
    static const char *const channels[] = {"x.", "x.4.5", "x.true", "x.null", "x.a", "x.{list}"};
    for (size_t i = 0; i < ARRAY_LEN(unusable); i++) {
        char pattern[32];
        snprintf(pattern, sizeof(pattern), "x.%s", unusable[i]);
        for (size_t j = 0; j < ARRAY_LEN(channels); j++)
            ck_assert_msg(!gw_channel_pattern_match(pattern, channels[j], claims), "%s %s", pattern,
                          channels[j]);
    }
    json_decref(claims);
}
END_TEST

/* A value that would change the pattern's meaning makes the entry match nothing. */
START_TEST(claims_that_would_widen_a_pattern)
{
    static const struct {
        const char *sub, *channel;
    } cases[] = {
        {"a.b", "user.a.b"}, {"*", "user.x"},         {"*", "user.*"},   {"**", "user.x.y"},
        {"x*", "user.xyz"},  {"{sub}", "user.{sub}"}, {"a}", "user.a}"}, {"{", "user.{"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        json_t *claims = json_pack("{s:s}", "sub", cases[i].sub);
        ck_assert_msg(!gw_channel_pattern_match("user.{sub}", cases[i].channel, claims), "%s",
                      cases[i].sub);
        json_decref(claims);
    }
    /* A NUL inside would cut the value to "1". */
    json_t *claims = json_object();
    json_object_set_new(claims, "sub", json_stringn("1\0x", 3));
    ck_assert(!gw_channel_pattern_match("user.{sub}", "user.1", claims));
    json_decref(claims);
    /* Claims that are not an object are no claims. */
    json_t *array = json_pack("[s]", "sub");
    ck_assert(!gw_channel_pattern_match("user.{sub}", "user.sub", array));
    ck_assert(gw_channel_pattern_match("room", "room", array));
    json_decref(array);
}
END_TEST

START_TEST(channel_length_is_bounded)
{
    char *channel = malloc(GW_CHANNEL_MAX + 2);
    memset(channel, 'a', GW_CHANNEL_MAX + 1);
    channel[GW_CHANNEL_MAX] = '\0';
    ck_assert(gw_channel_pattern_match("**", channel, NULL));
    ck_assert(gw_channel_pattern_match("a*", channel, NULL));
    channel[GW_CHANNEL_MAX] = 'a';
    channel[GW_CHANNEL_MAX + 1] = '\0';
    ck_assert(!gw_channel_pattern_match("**", channel, NULL));
    free(channel);
}
END_TEST

/* Patterns that make a backtracking matcher take exponential time, against the longest channels
 * that almost match: each check costs at most the channel's length times the pattern's. */
START_TEST(pathological_patterns_finish_fast)
{
    static const char *const patterns[] = {
        "*.*.*.*.*.**.**.**b",
        "**a**a**a**a**a**a**a**a**a**a**b",
        "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b",
        "**.**.**.**.**.**.**.**.**.**.x",
        "a**a**a**a**a**a**a**a**a**a**a**a**a**a**a**a**a**a**a**a**.b",
    };
    char dots[GW_CHANNEL_MAX + 1], letters[GW_CHANNEL_MAX + 1];
    for (size_t i = 0; i < GW_CHANNEL_MAX; i++) {
        dots[i] = i % 2 ? '.' : 'a';
        letters[i] = 'a';
    }
    dots[GW_CHANNEL_MAX] = letters[GW_CHANNEL_MAX] = '\0';
    uint64_t start = gw_now_ns();
    for (int round = 0; round < 5; round++) {
        for (size_t i = 0; i < ARRAY_LEN(patterns); i++) {
            ck_assert(!gw_channel_pattern_match(patterns[i], dots, NULL));
            ck_assert(!gw_channel_pattern_match(patterns[i], letters, NULL));
        }
    }
    /* 50 checks of 1 KiB: milliseconds; a backtracking matcher would not finish at all. */
    uint64_t elapsed_ms = (gw_now_ns() - start) / 1000000;
    ck_assert_msg(elapsed_ms < 2000, "%llu ms", (unsigned long long)elapsed_ms);
    /* And they still match what they should. */
    ck_assert(gw_channel_pattern_match("*.*.*.*.*.**.**.**b", "a.b.c.d.e.f.g.hb", NULL));
    ck_assert(gw_channel_pattern_match("*a*a*a*b", "xaayab", NULL));
}
END_TEST

/* A config with the given entries (patterns and scopes borrowed). */
struct entries {
    struct gw_policy_entry items[8];
    struct gw_config config;
};

static void add(struct entries *e, const char *pattern, enum gw_auth_mode auth, char **scopes,
                size_t n_scopes)
{
    size_t i = e->config.channels.n++;
    e->items[i] = (struct gw_policy_entry){
        .pattern = (char *)(uintptr_t)pattern, .auth = auth, .scopes = {scopes, n_scopes}};
    e->config.channels.items = e->items;
}

START_TEST(allow_decides_by_auth_and_scopes)
{
    static char ops[] = "ops", write[] = "orders:write";
    char *ops_scope[] = {ops};
    char *both[] = {ops, write};
    struct entries e = {0};
    json_t *plain = json_pack("{s:s}", "sub", "alice");
    json_t *with_ops = json_pack("{s:s, s:s}", "sub", "bob", "scope", "read ops");
    json_t *with_scp = json_pack("{s:s, s:[s, s]}", "sub", "carol", "scp", "ops", "orders:write");

    /* No entries: nothing. */
    ck_assert(!gw_channels_allow(&e.config, "room", NULL));
    ck_assert(!gw_channels_allow(&e.config, "room", plain));

    add(&e, "room", GW_AUTH_NONE, NULL, 0);
    add(&e, "news.*", GW_AUTH_OPTIONAL, NULL, 0);
    add(&e, "vip.*", GW_AUTH_REQUIRED, NULL, 0);
    add(&e, "ops.**", GW_AUTH_REQUIRED, ops_scope, 1);
    add(&e, "audit.*", GW_AUTH_OPTIONAL, both, 2);
    add(&e, "user.{sub}", GW_AUTH_REQUIRED, NULL, 0);

    ck_assert(gw_channels_allow(&e.config, "room", NULL));
    ck_assert(gw_channels_allow(&e.config, "room", plain));
    ck_assert(!gw_channels_allow(&e.config, "room2", plain));
    ck_assert(gw_channels_allow(&e.config, "news.today", NULL));
    ck_assert(gw_channels_allow(&e.config, "news.today", plain));
    ck_assert(!gw_channels_allow(&e.config, "vip.lounge", NULL));
    ck_assert(gw_channels_allow(&e.config, "vip.lounge", plain));
    ck_assert(!gw_channels_allow(&e.config, "ops.a.b", plain));
    ck_assert(gw_channels_allow(&e.config, "ops.a.b", with_ops));
    ck_assert(gw_channels_allow(&e.config, "ops.a.b", with_scp));
    ck_assert(!gw_channels_allow(&e.config, "ops.a.b", NULL));
    /* Optional with scopes still needs a token holding every one. */
    ck_assert(!gw_channels_allow(&e.config, "audit.log", NULL));
    ck_assert(!gw_channels_allow(&e.config, "audit.log", with_ops));
    ck_assert(gw_channels_allow(&e.config, "audit.log", with_scp));
    /* A socket's own user channel only. */
    ck_assert(gw_channels_allow(&e.config, "user.alice", plain));
    ck_assert(!gw_channels_allow(&e.config, "user.bob", plain));
    ck_assert(gw_channels_allow(&e.config, "user.bob", with_ops));
    ck_assert(!gw_channels_allow(&e.config, "user.alice", NULL));
    json_decref(plain);
    json_decref(with_ops);
    json_decref(with_scp);
}
END_TEST

/* Some entry decides: one whose scopes are not met does not hide a later one that allows. */
START_TEST(allow_tries_every_entry)
{
    static char ops[] = "ops";
    char *ops_scope[] = {ops};
    struct entries e = {0};
    add(&e, "ops.*", GW_AUTH_REQUIRED, ops_scope, 1);
    add(&e, "ops.public", GW_AUTH_NONE, NULL, 0);
    ck_assert(gw_channels_allow(&e.config, "ops.public", NULL));
    ck_assert(!gw_channels_allow(&e.config, "ops.private", NULL));
    /* An entry with an invalid pattern (a config built by hand) allows nothing. */
    add(&e, "x..y", GW_AUTH_NONE, NULL, 0);
    ck_assert(!gw_channels_allow(&e.config, "x..y", NULL));
}
END_TEST

/* Many entries: the last one still counts. */
START_TEST(many_entries)
{
    enum { N = 200 };
    struct gw_policy_entry *items = calloc(N, sizeof(*items));
    for (size_t i = 0; i < N; i++) {
        char pattern[32];
        snprintf(pattern, sizeof(pattern), "room%zu.*", i);
        items[i].pattern = strdup(pattern);
    }
    struct gw_config config = {.channels = {items, N}};
    ck_assert(gw_channels_allow(&config, "room0.x", NULL));
    ck_assert(gw_channels_allow(&config, "room199.x", NULL));
    ck_assert(!gw_channels_allow(&config, "room200.x", NULL));
    ck_assert(!gw_channels_allow(&config, "room199", NULL));
    for (size_t i = 0; i < N; i++)
        free(items[i].pattern);
    free(items);
}
END_TEST

Suite *channels_suite(void)
{
    Suite *s = suite_create("channels");
    TCase *tc = tcase_create("match");
    tcase_add_loop_test(tc, anonymous_patterns, 0, (int)ARRAY_LEN(anonymous_cases));
    tcase_add_test(tc, claims_fill_patterns);
    tcase_add_test(tc, claims_that_would_widen_a_pattern);
    tcase_add_test(tc, channel_length_is_bounded);
    tcase_add_test(tc, pathological_patterns_finish_fast);
    suite_add_tcase(s, tc);
    tc = tcase_create("allow");
    tcase_add_test(tc, allow_decides_by_auth_and_scopes);
    tcase_add_test(tc, allow_tries_every_entry);
    tcase_add_test(tc, many_entries);
    suite_add_tcase(s, tc);
    return s;
}
