/* Unit tests for routes/auth: the decision on a request's token for every policy, the RFC 6750
 * challenges, scopes from `scope` and `scp`, and reading a bearer token from Authorization. */
#include "routes/auth.h"

#include "core/status.h"
#include "core/util.h"

#include "tests/unit/suites.h"

#include <string.h>

/* The config's lists hold char *; so do these. */
static char orders_read[] = "orders:read";
static char orders_write[] = "orders:write";
static char *const one_scope[] = {orders_read};
static char *const two_scopes[] = {orders_read, orders_write};

static json_t *claims_of(const char *json)
{
    json_t *c = json_loads(json, 0, NULL);
    ck_assert_ptr_nonnull(c);
    return c;
}

static void decide(enum gw_auth_mode mode, char *const *scopes, size_t n_scopes, bool sent,
                   int status, const char *reason, const json_t *claims,
                   struct gw_auth_decision *out)
{
    struct gw_auth_policy p = {.mode = mode, .scopes = scopes, .n_scopes = n_scopes};
    struct gw_auth_token_state t = {
        .sent = sent, .verify_status = status, .reason = reason, .claims = claims};
    gw_auth_decide(&p, &t, out);
}

static void assert_goes_on(const struct gw_auth_decision *d, enum gw_auth_verdict verdict)
{
    ck_assert_int_eq(d->verdict, verdict);
    ck_assert_int_eq(d->http, 0);
    ck_assert_ptr_null(d->code);
    ck_assert_str_eq(d->challenge, "");
    ck_assert_str_eq(d->message, "");
}

START_TEST(none_never_looks)
{
    struct gw_auth_decision d;
    decide(GW_AUTH_NONE, NULL, 0, false, GW_OK, NULL, NULL, &d);
    assert_goes_on(&d, GW_AUTH_ANONYMOUS);
    decide(GW_AUTH_NONE, NULL, 0, true, GW_ETOKEN_SIG, "bad signature", NULL, &d);
    assert_goes_on(&d, GW_AUTH_ANONYMOUS);
}
END_TEST

START_TEST(missing_token)
{
    struct gw_auth_decision d;
    decide(GW_AUTH_OPTIONAL, NULL, 0, false, GW_OK, NULL, NULL, &d);
    assert_goes_on(&d, GW_AUTH_ANONYMOUS);
    decide(GW_AUTH_REQUIRED, NULL, 0, false, GW_OK, NULL, NULL, &d);
    ck_assert_int_eq(d.verdict, GW_AUTH_UNAUTHORIZED);
    ck_assert_int_eq(d.http, 401);
    ck_assert_str_eq(d.code, "unauthorized");
    ck_assert_str_eq(d.challenge, "Bearer realm=\"enoki\"");
    ck_assert_str_eq(d.message, "a bearer token is required");
    /* Scopes are a token's: an optional route that lists them needs one. */
    decide(GW_AUTH_OPTIONAL, one_scope, 1, false, GW_OK, NULL, NULL, &d);
    ck_assert_int_eq(d.http, 401);
    ck_assert_str_eq(d.challenge, "Bearer realm=\"enoki\"");
}
END_TEST

START_TEST(invalid_token)
{
    struct gw_auth_decision d;
    static const enum gw_auth_mode modes[] = {GW_AUTH_OPTIONAL, GW_AUTH_REQUIRED};
    for (size_t i = 0; i < ARRAY_LEN(modes); i++) {
        decide(modes[i], NULL, 0, true, GW_ETOKEN_EXPIRED, "token expired", NULL, &d);
        ck_assert_int_eq(d.verdict, GW_AUTH_UNAUTHORIZED);
        ck_assert_int_eq(d.http, 401);
        ck_assert_str_eq(d.code, "unauthorized");
        ck_assert_str_eq(d.challenge, "Bearer realm=\"enoki\", error=\"invalid_token\", "
                                      "error_description=\"token expired\"");
        ck_assert_str_eq(d.message, "token expired");
    }
    decide(GW_AUTH_REQUIRED, NULL, 0, true, GW_ETOKEN, NULL, NULL, &d);
    ck_assert_str_eq(d.challenge, "Bearer realm=\"enoki\", error=\"invalid_token\", "
                                  "error_description=\"the token is not valid\"");
    /* Nothing in the reason may break the quoted string. */
    decide(GW_AUTH_REQUIRED, NULL, 0, true, GW_ETOKEN_CLAIM, "iss \"x\\y\"\n", NULL, &d);
    ck_assert_str_eq(d.challenge, "Bearer realm=\"enoki\", error=\"invalid_token\", "
                                  "error_description=\"iss ?x?y??\"");
    /* A status of GW_OK without claims is no verified token. */
    decide(GW_AUTH_REQUIRED, NULL, 0, true, GW_OK, NULL, NULL, &d);
    ck_assert_int_eq(d.http, 401);
}
END_TEST

START_TEST(authentic)
{
    struct gw_auth_decision d;
    json_t *claims = claims_of("{\"sub\": \"u1\"}");
    decide(GW_AUTH_REQUIRED, NULL, 0, true, GW_OK, NULL, claims, &d);
    assert_goes_on(&d, GW_AUTH_AUTHENTIC);
    decide(GW_AUTH_OPTIONAL, NULL, 0, true, GW_OK, NULL, claims, &d);
    assert_goes_on(&d, GW_AUTH_AUTHENTIC);
    json_decref(claims);
}
END_TEST

START_TEST(scopes)
{
    struct gw_auth_decision d;
    json_t *both = claims_of("{\"scope\": \"  orders:write profile orders:read \"}");
    json_t *scp = claims_of("{\"scp\": [\"orders:read\", \"orders:write\"]}");
    json_t *scp_string = claims_of("{\"scp\": \"orders:read orders:write\"}");
    json_t *split = claims_of("{\"scope\": \"orders:read\", \"scp\": [\"orders:write\"]}");
    json_t *read_only = claims_of("{\"scope\": \"orders:read\"}");
    json_t *prefix = claims_of("{\"scope\": \"orders:reader orders:writ\"}");
    json_t *bad_types = claims_of("{\"scope\": [\"orders:read\"], \"scp\": {\"orders:read\": 1}}");
    const json_t *granted[] = {both, scp, scp_string, split};
    for (size_t i = 0; i < ARRAY_LEN(granted); i++) {
        decide(GW_AUTH_REQUIRED, two_scopes, 2, true, GW_OK, NULL, granted[i], &d);
        assert_goes_on(&d, GW_AUTH_AUTHENTIC);
    }
    decide(GW_AUTH_OPTIONAL, two_scopes, 2, true, GW_OK, NULL, read_only, &d);
    ck_assert_int_eq(d.verdict, GW_AUTH_FORBIDDEN);
    ck_assert_int_eq(d.http, 403);
    ck_assert_str_eq(d.code, "forbidden");
    ck_assert_str_eq(d.challenge, "Bearer realm=\"enoki\", error=\"insufficient_scope\", "
                                  "scope=\"orders:read orders:write\"");
    ck_assert_str_eq(d.message, "the token lacks the scope 'orders:write'");
    decide(GW_AUTH_REQUIRED, one_scope, 1, true, GW_OK, NULL, prefix, &d);
    ck_assert_int_eq(d.http, 403);
    ck_assert_str_eq(d.message, "the token lacks the scope 'orders:read'");
    decide(GW_AUTH_REQUIRED, one_scope, 1, true, GW_OK, NULL, bad_types, &d);
    ck_assert_int_eq(d.http, 403);
    ck_assert(!gw_auth_has_scope(read_only, ""));
    ck_assert(gw_auth_has_scope(read_only, "orders:read"));
    json_decref(both);
    json_decref(scp);
    json_decref(scp_string);
    json_decref(split);
    json_decref(read_only);
    json_decref(prefix);
    json_decref(bad_types);
}
END_TEST

static const struct {
    const char *value;
    enum gw_bearer result;
    const char *token;
} bearer_cases[] = {
    {"Bearer abc.def-ghi_jkl", GW_BEARER_TOKEN, "abc.def-ghi_jkl"},
    {"bearer abc", GW_BEARER_TOKEN, "abc"},
    {"BEARER    a~b+c/d==", GW_BEARER_TOKEN, "a~b+c/d=="},
    {"Bearer abc  ", GW_BEARER_TOKEN, "abc"},
    {"Basic dXNlcjpwYXNz", GW_BEARER_NONE, NULL},
    {"", GW_BEARER_NONE, NULL},
    {"Bear abc", GW_BEARER_NONE, NULL},
    {"Bearerabc", GW_BEARER_NONE, NULL},
    {"Bearer", GW_BEARER_MALFORMED, NULL},
    {"Bearer   ", GW_BEARER_MALFORMED, NULL},
    {"Bearer a b", GW_BEARER_MALFORMED, NULL},
    {"Bearer a\"b", GW_BEARER_MALFORMED, NULL},
    {"Bearer =abc", GW_BEARER_MALFORMED, NULL},
    {"Bearer ab=c", GW_BEARER_MALFORMED, NULL},
    {"Bearer\tabc", GW_BEARER_NONE, NULL},
};

START_TEST(bearer)
{
    const char *token = "x";
    size_t len = 9;
    const char *value = bearer_cases[_i].value;
    enum gw_bearer r = gw_auth_bearer(value, strlen(value), &token, &len);
    ck_assert_msg(r == bearer_cases[_i].result, "case %d (%s): %d", _i, value, r);
    if (bearer_cases[_i].token == NULL) {
        ck_assert_ptr_null(token);
        ck_assert_uint_eq(len, 0);
        return;
    }
    ck_assert_uint_eq(len, strlen(bearer_cases[_i].token));
    ck_assert_int_eq(memcmp(token, bearer_cases[_i].token, len), 0);
}
END_TEST

/* The length rules, not the NUL: a value with a NUL inside is not one token. */
START_TEST(bearer_bounds)
{
    const char *token = NULL;
    size_t len = 0;
    ck_assert_int_eq(gw_auth_bearer(NULL, 0, &token, &len), GW_BEARER_NONE);
    ck_assert_int_eq(gw_auth_bearer("Bearer abcdef", 10, &token, &len), GW_BEARER_TOKEN);
    ck_assert_uint_eq(len, 3);
    ck_assert_int_eq(gw_auth_bearer("Bearer ab\0cd", 12, &token, &len), GW_BEARER_MALFORMED);
}
END_TEST

/* One shape for a route's, an expose entry's and a channel entry's policy; the scopes borrowed. */
START_TEST(policy_of)
{
    static char a[] = "orders:read", b[] = "orders:write";
    char *items[] = {a, b};
    struct gw_string_list list = {items, 2};
    struct gw_auth_policy p = gw_auth_policy_of(GW_AUTH_OPTIONAL, &list);
    ck_assert_int_eq(p.mode, GW_AUTH_OPTIONAL);
    ck_assert_ptr_eq(p.scopes, items);
    ck_assert_uint_eq(p.n_scopes, 2);
    struct gw_string_list none = {0};
    p = gw_auth_policy_of(GW_AUTH_NONE, &none);
    ck_assert_int_eq(p.mode, GW_AUTH_NONE);
    ck_assert_uint_eq(p.n_scopes, 0);
}
END_TEST

Suite *auth_suite(void)
{
    Suite *s = suite_create("auth");
    TCase *tc = tcase_create("decide");
    tcase_add_test(tc, none_never_looks);
    tcase_add_test(tc, missing_token);
    tcase_add_test(tc, invalid_token);
    tcase_add_test(tc, authentic);
    tcase_add_test(tc, scopes);
    tcase_add_test(tc, policy_of);
    suite_add_tcase(s, tc);
    tc = tcase_create("bearer");
    tcase_add_loop_test(tc, bearer, 0, (int)ARRAY_LEN(bearer_cases));
    tcase_add_test(tc, bearer_bounds);
    suite_add_tcase(s, tc);
    return s;
}
