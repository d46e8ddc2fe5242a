/* Unit tests for routes/cors: which Origins GATEWAY.cors allows, what a preflight is, and the
 * headers of a simple response and of a preflight's. The settings come from YAML, as enoki reads
 * them (core/config).
 */
#include "routes/cors.h"

#include "core/status.h"
#include "core/strbuf.h"

#include "tests/unit/suites.h"

#include <stdlib.h>
#include <string.h>

static struct gw_config *load(const char *yaml)
{
    struct gw_config *config = NULL;
    char err[256];
    int status =
        gw_config_load_string("cors.yaml", yaml, strlen(yaml), NULL, 0, &config, err, sizeof(err));
    ck_assert_msg(status == GW_OK, "%s", err);
    return config;
}

#define ORIGINS(list) "GATEWAY:\n  cors:\n    origins: " list "\n"

/* ---- allowed origins ------------------------------------------------------------------------ */

START_TEST(allowed_origin_when_disabled)
{
    struct gw_config *config = load("GATEWAY:\n  name: x\n");
    ck_assert(!config->cors.enabled);
    ck_assert_ptr_null(gw_cors_allowed_origin(&config->cors, "https://app.example"));
    ck_assert_ptr_null(gw_cors_allowed_origin(&config->cors, NULL));
    gw_config_free(config);
}
END_TEST

START_TEST(allowed_origin_any)
{
    struct gw_config *config = load(ORIGINS("['*']"));
    ck_assert(config->cors.enabled);
    const char *origin = "https://anything.example:8443";
    ck_assert_ptr_eq(gw_cors_allowed_origin(&config->cors, origin), origin);
    const char *opaque = "null";
    ck_assert_ptr_eq(gw_cors_allowed_origin(&config->cors, opaque), opaque);
    ck_assert_ptr_null(gw_cors_allowed_origin(&config->cors, NULL));
    gw_config_free(config);
}
END_TEST

START_TEST(allowed_origin_listed)
{
    struct gw_config *config =
        load(ORIGINS("['https://app.example', 'http://Other.example:8080']"));
    static const struct {
        const char *origin;
        bool allowed;
    } cases[] = {
        {"https://app.example", true},
        {"HTTPS://APP.EXAMPLE", true}, /* origins compare without case */
        {"http://other.example:8080", true},
        {"http://app.example", false},
        {"https://app.example:443", false},
        {"https://app.example/", false},
        {"https://app.example.evil", false},
        {"https://evil.app.example", false},
        {"http://other.example", false},
        {"", false},
        {"*", false},
        {"null", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got = gw_cors_allowed_origin(&config->cors, cases[i].origin);
        ck_assert_msg(got == (cases[i].allowed ? cases[i].origin : NULL), "%s", cases[i].origin);
    }
    ck_assert_ptr_null(gw_cors_allowed_origin(&config->cors, NULL));
    gw_config_free(config);
}
END_TEST

/* ---- preflight ------------------------------------------------------------------------------ */

START_TEST(preflight_detection)
{
    struct gw_config *config = load(ORIGINS("['https://app.example']"));
    const struct gw_cors *cors = &config->cors;
    ck_assert(gw_cors_is_preflight(cors, "OPTIONS", "https://app.example", "POST"));
    /* An Origin that is not allowed still makes a preflight: it is answered 403. */
    ck_assert(gw_cors_is_preflight(cors, "OPTIONS", "https://evil.example", "POST"));
    ck_assert(gw_cors_is_preflight(cors, "OPTIONS", "https://app.example", ""));
    ck_assert(!gw_cors_is_preflight(cors, "OPTIONS", "https://app.example", NULL));
    ck_assert(!gw_cors_is_preflight(cors, "OPTIONS", NULL, "POST"));
    ck_assert(!gw_cors_is_preflight(cors, "GET", "https://app.example", "POST"));
    ck_assert(!gw_cors_is_preflight(cors, "POST", "https://app.example", "POST"));
    ck_assert(!gw_cors_is_preflight(cors, "options", "https://app.example", "POST"));
    gw_config_free(config);

    config = load("{}");
    ck_assert(!gw_cors_is_preflight(&config->cors, "OPTIONS", "https://app.example", "POST"));
    gw_config_free(config);
}
END_TEST

/* ---- headers -------------------------------------------------------------------------------- */

/* Collects headers as "Name: value\n" lines. */
static void collect(void *ctx, const char *name, const char *value)
{
    struct gw_strbuf *b = ctx;
    gw_strbuf_adds(b, name);
    gw_strbuf_adds(b, ": ");
    gw_strbuf_adds(b, value);
    gw_strbuf_adds(b, "\n");
}

/* The headers for a request from origin, as one string (new). */
static char *headers(const struct gw_config *config, const char *origin, bool preflight,
                     const char *asked)
{
    struct gw_strbuf b = {0};
    gw_cors_headers(&config->cors, origin, preflight, asked, collect, &b);
    return gw_strbuf_take(&b);
}

static void assert_headers(const struct gw_config *config, const char *origin, bool preflight,
                           const char *asked, const char *want)
{
    char *got = headers(config, origin, preflight, asked);
    ck_assert_str_eq(got, want);
    free(got);
}

START_TEST(headers_of_a_simple_response)
{
    struct gw_config *config = load(ORIGINS("['https://app.example']"));
    assert_headers(config, "https://app.example", false, NULL,
                   "Vary: Origin\n"
                   "Access-Control-Allow-Origin: https://app.example\n"
                   "Access-Control-Expose-Headers: X-Call-Id, Retry-After, RateLimit, "
                   "RateLimit-Policy, Idempotent-Replayed, WWW-Authenticate, traceparent\n");
    /* The Origin as the request gave it. */
    assert_headers(config, "HTTPS://App.Example", false, "X-Ignored",
                   "Vary: Origin\n"
                   "Access-Control-Allow-Origin: HTTPS://App.Example\n"
                   "Access-Control-Expose-Headers: " GW_CORS_EXPOSED "\n");
    /* Only Vary for an Origin not allowed, or none: the answer still depends on it. */
    assert_headers(config, "https://evil.example", false, NULL, "Vary: Origin\n");
    assert_headers(config, NULL, false, NULL, "Vary: Origin\n");
    assert_headers(config, "https://evil.example", true, "X-A", "Vary: Origin\n");
    gw_config_free(config);

    config = load("{}");
    assert_headers(config, "https://app.example", false, NULL, "");
    assert_headers(config, "https://app.example", true, NULL, "");
    gw_config_free(config);
}
END_TEST

START_TEST(headers_with_any_origin)
{
    struct gw_config *config = load(ORIGINS("['https://app.example', '*']"));
    assert_headers(config, "https://else.example", false, NULL,
                   "Vary: Origin\n"
                   "Access-Control-Allow-Origin: *\n"
                   "Access-Control-Expose-Headers: " GW_CORS_EXPOSED "\n");
    gw_config_free(config);

    /* "*" cannot go with credentials: the Origin itself is named. */
    config = load("GATEWAY:\n  cors:\n    origins: ['*']\n    credentials: true\n");
    assert_headers(config, "https://else.example", false, NULL,
                   "Vary: Origin\n"
                   "Access-Control-Allow-Origin: https://else.example\n"
                   "Access-Control-Allow-Credentials: true\n"
                   "Access-Control-Expose-Headers: " GW_CORS_EXPOSED "\n");
    gw_config_free(config);

    config = load("GATEWAY:\n  cors:\n    origins: ['https://app.example']\n"
                  "    credentials: true\n");
    assert_headers(config, "https://app.example", true, NULL,
                   "Vary: Origin\n"
                   "Access-Control-Allow-Origin: https://app.example\n"
                   "Access-Control-Allow-Credentials: true\n"
                   "Access-Control-Allow-Methods: GET, HEAD, POST, PUT, PATCH, DELETE\n"
                   "Access-Control-Max-Age: 600\n");
    gw_config_free(config);
}
END_TEST

START_TEST(headers_of_a_preflight)
{
    /* The defaults: every method enoki routes, the headers the preflight asked for, 600 s. */
    struct gw_config *config = load(ORIGINS("['https://app.example']"));
    assert_headers(config, "https://app.example", true, "X-Tenant, Content-Type",
                   "Vary: Origin\n"
                   "Access-Control-Allow-Origin: https://app.example\n"
                   "Access-Control-Allow-Methods: GET, HEAD, POST, PUT, PATCH, DELETE\n"
                   "Access-Control-Allow-Headers: X-Tenant, Content-Type\n"
                   "Access-Control-Max-Age: 600\n");
    /* Nothing asked, nothing allowed. */
    assert_headers(config, "https://app.example", true, NULL,
                   "Vary: Origin\n"
                   "Access-Control-Allow-Origin: https://app.example\n"
                   "Access-Control-Allow-Methods: GET, HEAD, POST, PUT, PATCH, DELETE\n"
                   "Access-Control-Max-Age: 600\n");
    gw_config_free(config);

    /* Configured methods, headers and max age: the asked headers do not matter. */
    config = load("GATEWAY:\n  cors:\n    origins: ['https://app.example']\n"
                  "    methods: [POST, GET]\n    headers: [X-Tenant, Authorization]\n"
                  "    max_age: 60\n");
    static const char want[] = "Vary: Origin\n"
                               "Access-Control-Allow-Origin: https://app.example\n"
                               "Access-Control-Allow-Methods: POST, GET\n"
                               "Access-Control-Allow-Headers: X-Tenant, Authorization\n"
                               "Access-Control-Max-Age: 60\n";
    assert_headers(config, "https://app.example", true, "X-Other", want);
    assert_headers(config, "https://app.example", true, NULL, want);
    /* A simple response does not list them. */
    assert_headers(config, "https://app.example", false, "X-Other",
                   "Vary: Origin\n"
                   "Access-Control-Allow-Origin: https://app.example\n"
                   "Access-Control-Expose-Headers: " GW_CORS_EXPOSED "\n");
    gw_config_free(config);

    config = load("GATEWAY:\n  cors:\n    origins: ['*']\n    max_age: 0\n    methods: [PUT]\n");
    assert_headers(config, "https://app.example", true, NULL,
                   "Vary: Origin\n"
                   "Access-Control-Allow-Origin: *\n"
                   "Access-Control-Allow-Methods: PUT\n"
                   "Access-Control-Max-Age: 0\n");
    gw_config_free(config);
}
END_TEST

Suite *cors_suite(void)
{
    Suite *s = suite_create("cors");
    TCase *origins = tcase_create("origins");
    tcase_add_test(origins, allowed_origin_when_disabled);
    tcase_add_test(origins, allowed_origin_any);
    tcase_add_test(origins, allowed_origin_listed);
    suite_add_tcase(s, origins);

    TCase *preflight = tcase_create("preflight");
    tcase_add_test(preflight, preflight_detection);
    suite_add_tcase(s, preflight);

    TCase *hdrs = tcase_create("headers");
    tcase_add_test(hdrs, headers_of_a_simple_response);
    tcase_add_test(hdrs, headers_with_any_origin);
    tcase_add_test(hdrs, headers_of_a_preflight);
    suite_add_tcase(s, hdrs);
    return s;
}
