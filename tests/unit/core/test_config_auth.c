/* Unit tests for core/config_auth: GATEWAY.auth and its keys, routes[].auth and scopes,
 * GATEWAY.admin_scope and admin_token, and the exact text of every refusal. */
#include "core/config.h"
#include "core/config_auth.h"
#include "core/status.h"
#include "core/util.h"

#include "tests/unit/core/config_load.h"
#include "tests/unit/suites.h"

#include <string.h>

START_TEST(mode_names)
{
    ck_assert_str_eq(gw_auth_mode_name(GW_AUTH_NONE), "none");
    ck_assert_str_eq(gw_auth_mode_name(GW_AUTH_OPTIONAL), "optional");
    ck_assert_str_eq(gw_auth_mode_name(GW_AUTH_REQUIRED), "required");
    ck_assert_str_eq(gw_auth_mode_name((enum gw_auth_mode)9), "?");
}
END_TEST

/* Existing configs keep their meaning: no auth anywhere. An admin_prefix alone no longer loads
 * (see refusals): the admin endpoints are never open. */
START_TEST(defaults)
{
    struct gw_config *c = test_config_ok(
        "GATEWAY: {admin_prefix: /admin, admin_token: t0k}\nroutes: [{rule: /a, rpc: s.m}]\n");
    ck_assert_int_eq(c->auth.default_mode, GW_AUTH_NONE);
    ck_assert_int_eq(c->auth.websocket, GW_AUTH_NONE);
    ck_assert_ptr_null(c->auth.cookie);
    ck_assert_uint_eq(c->auth.n_claims, 0);
    ck_assert(!c->auth.jwt.enabled);
    ck_assert_int_eq(c->auth.jwt.leeway, 30);
    ck_assert_str_eq(c->admin_scope, "enoki:admin");
    ck_assert_str_eq(c->admin_token, "t0k");
    ck_assert_str_eq(c->admin_prefix, "/admin");
    ck_assert_int_eq(c->routes[0].auth, GW_AUTH_NONE);
    ck_assert(!c->routes[0].auth_given);
    ck_assert_uint_eq(c->routes[0].scopes.n, 0);
    gw_config_free(c);
}
END_TEST

START_TEST(every_key)
{
    static const char yaml[] =
        "GATEWAY:\n"
        "  admin_scope: ops:admin\n"
        "  admin_token: s3cret\n"
        "  context_headers: {X-Tenant: tenant}\n"
        "  auth:\n"
        "    default: optional\n"
        "    cookie: enoki_token\n"
        "    websocket: required\n"
        "    claims: {sub: user_id, org: org_id}\n"
        "    jwt:\n"
        "      algorithms: [RS256, ES256, HS256]\n"
        "      jwks_file: /etc/enoki/jwks.json\n"
        "      secret: hush\n"
        "      issuer: https://id.example\n"
        "      audience: enoki\n"
        "      leeway: 5\n"
        "routes:\n"
        "  - {rule: /a, rpc: s.a}\n"
        "  - {rule: /b, rpc: s.b, auth: none}\n"
        "  - {rule: /c, rpc: s.c, auth: required, scopes: [orders:read, x]}\n"
        "  - {rule: /d, rpc: s.d, scopes: orders:write}\n";
    struct gw_config *c = test_config_ok(yaml);
    ck_assert_str_eq(c->admin_scope, "ops:admin");
    ck_assert_str_eq(c->admin_token, "s3cret");
    ck_assert_int_eq(c->auth.default_mode, GW_AUTH_OPTIONAL);
    ck_assert_int_eq(c->auth.websocket, GW_AUTH_REQUIRED);
    ck_assert_str_eq(c->auth.cookie, "enoki_token");
    ck_assert_uint_eq(c->auth.n_claims, 2);
    ck_assert_str_eq(c->auth.claims[0].claim, "sub");
    ck_assert_str_eq(c->auth.claims[0].key, "user_id");
    ck_assert_str_eq(c->auth.claims[1].claim, "org");
    ck_assert_str_eq(c->auth.claims[1].key, "org_id");
    ck_assert_int_eq(c->auth.claims[1].line, 9);
    ck_assert(c->auth.jwt.enabled);
    ck_assert_uint_eq(c->auth.jwt.algorithms.n, 3);
    ck_assert_str_eq(c->auth.jwt.algorithms.items[0], "RS256");
    ck_assert_str_eq(c->auth.jwt.algorithms.items[2], "HS256");
    ck_assert_str_eq(c->auth.jwt.jwks_file, "/etc/enoki/jwks.json");
    ck_assert_str_eq(c->auth.jwt.secret, "hush");
    ck_assert_str_eq(c->auth.jwt.issuer, "https://id.example");
    ck_assert_str_eq(c->auth.jwt.audience, "enoki");
    ck_assert_int_eq(c->auth.jwt.leeway, 5);
    ck_assert_int_eq(c->routes[0].auth, GW_AUTH_OPTIONAL); /* GATEWAY.auth.default */
    ck_assert_int_eq(c->routes[1].auth, GW_AUTH_NONE);
    ck_assert_int_eq(c->routes[2].auth, GW_AUTH_REQUIRED);
    ck_assert_uint_eq(c->routes[2].scopes.n, 2);
    ck_assert_str_eq(c->routes[2].scopes.items[1], "x");
    ck_assert_int_eq(c->routes[3].auth, GW_AUTH_REQUIRED); /* scopes ask for a token */
    ck_assert_uint_eq(c->routes[3].scopes.n, 1);
    gw_config_free(c);
}
END_TEST

/* GATEWAY may come after the routes: their default is read once the whole file is. */
START_TEST(default_after_routes)
{
    struct gw_config *c =
        test_config_ok("routes: [{rule: /a, rpc: s.m}]\n"
                       "GATEWAY: {auth: {default: required, jwt: {algorithms: HS512, "
                       "secret: k}}}\n");
    ck_assert_int_eq(c->routes[0].auth, GW_AUTH_REQUIRED);
    ck_assert_uint_eq(c->auth.jwt.algorithms.n, 1);
    ck_assert_str_eq(c->auth.jwt.algorithms.items[0], "HS512");
    ck_assert_ptr_null(c->auth.jwt.jwks_file);
    gw_config_free(c);
}
END_TEST

/* Every algorithm name is accepted; a JWKS alone serves HS* too (oct keys). */
START_TEST(algorithm_names)
{
    struct gw_config *c =
        test_config_ok("GATEWAY: {auth: {jwt: {jwks_file: k.json, algorithms: [HS256, "
                       "HS384, HS512, RS256, RS384, RS512, PS256, ES256, ES384, "
                       "EdDSA]}}}\n");
    ck_assert_uint_eq(c->auth.jwt.algorithms.n, 10);
    ck_assert_str_eq(c->auth.jwt.algorithms.items[9], "EdDSA");
    gw_config_free(c);
}
END_TEST

static const struct {
    const char *yaml;
    const char *message;
} refusals[] = {
    {"GATEWAY:\n  name: x\n  admin_prefix: /admin\n",
     "a.yaml:3: GATEWAY.admin_prefix: the admin endpoints need a credential: GATEWAY.auth.jwt (a "
     "token with scope 'enoki:admin') or GATEWAY.admin_token"},
    {"GATEWAY:\n  auth:\n    claims: {sub: call_id_stack}\n",
     "a.yaml:3: GATEWAY.auth.claims.sub: context key 'call_id_stack' is enoki's own; choose "
     "another"},
    {"GATEWAY: {auth: 1}\n", "a.yaml:1: GATEWAY.auth: expected a mapping, got '1'"},
    {"GATEWAY:\n  auth:\n    dflt: none\n",
     "a.yaml:3: GATEWAY.auth.dflt: unknown key (expected one of: default, cookie, websocket, "
     "claims, jwt)"},
    {"GATEWAY:\n  auth:\n    default: maybe\n",
     "a.yaml:3: GATEWAY.auth.default: expected one of none, optional, required, got 'maybe'"},
    {"GATEWAY:\n  auth:\n    websocket: true\n",
     "a.yaml:3: GATEWAY.auth.websocket: expected one of none, optional, required, got 'true'"},
    {"GATEWAY:\n  auth:\n    cookie: 'a b'\n",
     "a.yaml:3: GATEWAY.auth.cookie: expected a cookie name, got 'a b'"},
    {"GATEWAY:\n  auth:\n    claims: [sub]\n",
     "a.yaml:3: GATEWAY.auth.claims: expected a mapping of claim name to context key, got a "
     "list"},
    {"GATEWAY:\n  auth:\n    claims: {sub: ''}\n",
     "a.yaml:3: GATEWAY.auth.claims.sub: expected a context key, got ''"},
    {"GATEWAY:\n  auth:\n    claims:\n      sub: user_id\n      uid: user_id\n",
     "a.yaml:5: GATEWAY.auth.claims.uid: context key 'user_id' is already filled by claim 'sub'"},
    {"GATEWAY:\n  auth:\n    jwt: yes\n",
     "a.yaml:3: GATEWAY.auth.jwt: expected a mapping, got 'yes'"},
    {"GATEWAY:\n  auth:\n    jwt:\n      secret: k\n",
     "a.yaml:4: GATEWAY.auth.jwt.algorithms: required key is missing (a list such as [RS256])"},
    {"GATEWAY:\n  auth:\n    jwt:\n      secret: k\n      algorithms: []\n",
     "a.yaml:5: GATEWAY.auth.jwt.algorithms: expected a list of JWS algorithms, got an empty "
     "list"},
    {"GATEWAY:\n  auth:\n    jwt:\n      secret: k\n      algorithms: [HS256, none]\n",
     "a.yaml:5: GATEWAY.auth.jwt.algorithms[1]: 'none' is never accepted: an unsigned token "
     "proves nothing"},
    {"GATEWAY:\n  auth:\n    jwt:\n      secret: k\n      algorithms: None\n",
     "a.yaml:5: GATEWAY.auth.jwt.algorithms: 'None' is never accepted: an unsigned token proves "
     "nothing"},
    {"GATEWAY:\n  auth:\n    jwt:\n      secret: k\n      algorithms: [hs256]\n",
     "a.yaml:5: GATEWAY.auth.jwt.algorithms[0]: expected one of HS256, HS384, HS512, RS256, "
     "RS384, RS512, PS256, ES256, ES384, EdDSA, got 'hs256'"},
    {"GATEWAY:\n  auth:\n    jwt:\n      algorithms: [RS256]\n",
     "a.yaml:4: GATEWAY.auth.jwt: needs jwks_file or secret: no key would verify a token"},
    {"GATEWAY:\n  auth:\n    jwt:\n      algorithms: [HS256, ES256]\n      secret: k\n",
     "a.yaml:4: GATEWAY.auth.jwt.algorithms: ES256 needs jwks_file (a secret verifies only "
     "HS256, HS384, HS512)"},
    {"GATEWAY:\n  auth:\n    jwt:\n      algorithms: [HS256]\n      secret: k\n      leeway: -1\n",
     "a.yaml:6: GATEWAY.auth.jwt.leeway: expected an integer from 0 to 3600, got '-1'"},
    {"GATEWAY:\n  auth:\n    jwt:\n      algorithms: [HS256]\n      secret: k\n      kid: a\n",
     "a.yaml:6: GATEWAY.auth.jwt.kid: unknown key (expected one of: algorithms, jwks_file, "
     "secret, issuer, audience, leeway)"},
    {"GATEWAY:\n  auth:\n    default: required\n",
     "a.yaml:3: GATEWAY.auth.default: 'required' needs GATEWAY.auth.jwt (no token could be "
     "verified)"},
    {"GATEWAY:\n  auth:\n    websocket: optional\n",
     "a.yaml:3: GATEWAY.auth.websocket: 'optional' needs GATEWAY.auth.jwt (no token could be "
     "verified)"},
    {"routes:\n  - rule: /a\n    rpc: s.m\n    auth: optional\n",
     "a.yaml:2: routes[0].auth: needs GATEWAY.auth.jwt (no token could be verified)"},
    {"routes:\n  - rule: /a\n    rpc: s.m\n    auth: sometimes\n",
     "a.yaml:4: routes[0].auth: expected one of none, optional, required, got 'sometimes'"},
    {"routes:\n  - rule: /a\n    rpc: s.m\n    scopes: [a]\n",
     "a.yaml:2: routes[0].scopes: needs GATEWAY.auth.jwt (no token could be verified)"},
    {"routes:\n  - rule: /a\n    rpc: s.m\n    scopes: [a, '']\n",
     "a.yaml:4: routes[0].scopes[1]: expected a scope such as 'orders:read', got ''"},
    {"routes:\n  - rule: /a\n    rpc: s.m\n    auth: none\n    scopes: [a]\n",
     "a.yaml:2: routes[0].scopes: a route with auth 'none' reads no token, so no scope could be "
     "checked"},
    {"GATEWAY:\n  context_headers: {X-User: user_id}\n  auth:\n    claims:\n      sub: user_id\n"
     "    jwt: {algorithms: [HS256], secret: k}\n",
     "a.yaml:5: GATEWAY.auth.claims.sub: context key 'user_id' is also filled by "
     "GATEWAY.context_headers.X-User (a client could forge it)"},
    {"GATEWAY: {admin_scope: ''}\n",
     "a.yaml:1: GATEWAY.admin_scope: expected a non-empty string, got ''"},
    {"GATEWAY: {admin_token: [a]}\n",
     "a.yaml:1: GATEWAY.admin_token: expected a non-empty string, got a list (quote it, or use "
     "!raw_env_var)"},
    /* A secret is never quoted in a refusal, whatever it was read as. */
    {"GATEWAY: {admin_token: 9912873123}\n",
     "a.yaml:1: GATEWAY.admin_token: expected a non-empty string, got an integer (quote it, or use "
     "!raw_env_var)"},
};

START_TEST(refused)
{
    test_config_refused(refusals[_i].yaml, refusals[_i].message);
}
END_TEST

/* A later GATEWAY.auth replaces an earlier one whole (a --define of GATEWAY does too). */
START_TEST(duplicate_auth_replaces)
{
    struct gw_config *c = test_config_ok("GATEWAY:\n  auth: {cookie: a, claims: {sub: u}}\n"
                                         "  auth: {cookie: b}\n");
    ck_assert_str_eq(c->auth.cookie, "b");
    ck_assert_uint_eq(c->auth.n_claims, 0);
    gw_config_free(c);
}
END_TEST

Suite *config_auth_suite(void)
{
    Suite *s = suite_create("config_auth");
    TCase *tc = tcase_create("auth");
    tcase_add_test(tc, mode_names);
    tcase_add_test(tc, defaults);
    tcase_add_test(tc, every_key);
    tcase_add_test(tc, default_after_routes);
    tcase_add_test(tc, algorithm_names);
    tcase_add_loop_test(tc, refused, 0, (int)ARRAY_LEN(refusals));
    tcase_add_test(tc, duplicate_auth_replaces);
    suite_add_tcase(s, tc);
    return s;
}
