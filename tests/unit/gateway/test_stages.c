/* Unit tests for gateway/stages: the checks a request passes before its route is called, in their
 * order, each stage's answer, and gw_stages_run stopping at the first that answers. The request is
 * built by hand, as a transport would make it, on a generation whose config is loaded from YAML.
 */
#include "gateway/stages.h"

#include "core/status.h"
#include "gateway/generation.h"
#include "gateway/limiter.h"
#include "gateway/request.h"
#include "routes/table.h"

#include "tests/unit/suites.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CORS "GATEWAY:\n  cors:\n    origins: ['https://app.example']\n"
#define LIMITS "  max_header: 4096\n  max_body: 1000\n"

/* A request on its own generation, as a transport hands it to the stages. */
struct fixture {
    struct gw_http_env env;
    struct gw_request req;
};

static void setup(struct fixture *f, const char *yaml, const char *method)
{
    struct gw_config *config = NULL;
    char err[256];
    int status = gw_config_load_string("stages.yaml", yaml, strlen(yaml), NULL, 0, &config, err,
                                       sizeof(err));
    ck_assert_msg(status == GW_OK, "%s", err);
    struct gw_route_table *table = gw_route_table_new();
    gw_route_table_compile(table);
    memset(f, 0, sizeof(*f));
    f->env.current = gw_generation_new(config, table);
    struct gw_request *req = &f->req;
    req->env = &f->env;
    req->gen = gw_generation_ref(f->env.current);
    req->config = req->gen->config;
    req->fd = -1;
    req->file_fd = -1;
    snprintf(req->method, sizeof(req->method), "%s", method);
}

static void teardown(struct fixture *f)
{
    gw_response_clear(&f->req.response);
    free(f->req.headers);
    free(f->req.trace);
    free(f->req.rate);
    gw_generation_unref(f->req.gen);
    gw_generation_unref(f->env.current);
}

/* The response's JSON body has error and message as given. */
static void assert_error(const struct gw_response *r, int status, const char *error,
                         const char *message)
{
    ck_assert_int_eq(r->status, status);
    ck_assert_str_eq(r->code, error);
    ck_assert_str_eq(r->content_type, "application/json");
    json_error_t e;
    json_t *body = json_loadb(r->body, r->body_len, 0, &e);
    ck_assert_msg(body != NULL, "%s", e.text);
    ck_assert_str_eq(json_string_value(json_object_get(body, "error")), error);
    ck_assert_str_eq(json_string_value(json_object_get(body, "message")), message);
    ck_assert(json_is_null(json_object_get(body, "call_id")));
    json_decref(body);
}

START_TEST(stage_order)
{
    size_t n = 0;
    const struct gw_stage *stages = gw_stages(GW_BEFORE_RESOLVE, &n);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(stages[0].name, "trace");
    ck_assert(stages[0].run == gw_stage_trace);
    ck_assert_str_eq(stages[1].name, "cors_preflight");
    ck_assert(stages[1].run == gw_stage_cors_preflight);
    ck_assert_str_eq(stages[2].name, "limits");
    ck_assert(stages[2].run == gw_stage_limits);
    /* After auth: rate limits (a claim key reads the verified claims), then idempotent retries
     * (a limited request is never parked nor kept). */
    stages = gw_stages(GW_AFTER_RESOLVE, &n);
    ck_assert_uint_eq(n, 3);
    ck_assert(stages[0].run == gw_stage_auth);
    ck_assert_str_eq(stages[1].name, "rate_limit");
    ck_assert(stages[1].run == gw_stage_rate_limit);
    ck_assert_str_eq(stages[2].name, "idempotency");
    ck_assert(stages[2].run == gw_stage_idempotency);
}
END_TEST

/* ---- trace ---------------------------------------------------------------------------------- */

#define TRACED "GATEWAY:\n  trace_context: true\n"

START_TEST(trace_on_by_default_off_when_asked)
{
    struct fixture f;
    setup(&f, "{}", "GET");
    ck_assert(!gw_stage_trace(&f.req));
    ck_assert_ptr_nonnull(f.req.trace);
    teardown(&f);
    setup(&f, "GATEWAY:\n  trace_context: false\n", "GET");
    gw_request_add_field(&f.req, "traceparent",
                         "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    ck_assert(!gw_stage_trace(&f.req));
    ck_assert_ptr_null(f.req.trace);
    ck_assert(!f.req.responded);
    teardown(&f);
}
END_TEST

START_TEST(trace_continues_or_starts)
{
    struct fixture f;
    setup(&f, TRACED, "GET");
    gw_request_add_field(&f.req, "TraceParent",
                         "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    gw_request_add_field(&f.req, "tracestate", "congo=t61rcWkgMzE");
    ck_assert(!gw_stage_trace(&f.req));
    ck_assert_ptr_nonnull(f.req.trace);
    ck_assert(!f.req.responded);
    ck_assert_str_eq(f.req.trace->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    ck_assert_str_eq(f.req.trace->parent_id, "00f067aa0ba902b7");
    ck_assert_str_ne(f.req.trace->span_id, "00f067aa0ba902b7");
    ck_assert_uint_eq(strlen(f.req.trace->span_id), 16);
    ck_assert_str_eq(f.req.trace->tracestate, "congo=t61rcWkgMzE");
    char first_span[17];
    memcpy(first_span, f.req.trace->span_id, sizeof(first_span));
    teardown(&f);

    /* Each request a span of its own; none sent: a new trace. */
    setup(&f, TRACED, "GET");
    ck_assert(!gw_stage_trace(&f.req));
    ck_assert_ptr_nonnull(f.req.trace);
    ck_assert_str_ne(f.req.trace->span_id, first_span);
    ck_assert_str_ne(f.req.trace->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    ck_assert_str_eq(f.req.trace->parent_id, "");
    ck_assert_uint_eq(f.req.trace->flags, 0);
    teardown(&f);
}
END_TEST

/* ---- cors_preflight ------------------------------------------------------------------------- */

START_TEST(preflight_allowed)
{
    struct fixture f;
    setup(&f, CORS, "OPTIONS");
    gw_request_add_field(&f.req, "Origin", "https://app.example");
    gw_request_add_field(&f.req, "Access-Control-Request-Method", "POST");
    ck_assert(gw_stage_cors_preflight(&f.req));
    ck_assert(f.req.responded);
    ck_assert(f.req.is_preflight);
    ck_assert_int_eq(f.req.response.status, 204);
    ck_assert_ptr_null(f.req.response.body);
    ck_assert_ptr_null(f.req.response.code);
    ck_assert_str_eq(f.req.route_label, "cors");
    teardown(&f);
}
END_TEST

START_TEST(preflight_forbidden)
{
    struct fixture f;
    setup(&f, CORS, "OPTIONS");
    gw_request_add_field(&f.req, "origin", "https://evil.example");
    gw_request_add_field(&f.req, "access-control-request-method", "DELETE");
    ck_assert(gw_stage_cors_preflight(&f.req));
    ck_assert(f.req.responded);
    ck_assert(f.req.is_preflight);
    ck_assert_str_eq(f.req.route_label, "cors");
    assert_error(&f.req.response, 403, "cors_forbidden",
                 "this Origin may not call enoki (GATEWAY.cors)");
    teardown(&f);
}
END_TEST

START_TEST(not_a_preflight)
{
    static const struct {
        const char *yaml, *method, *origin, *request_method;
    } cases[] = {
        {CORS, "GET", "https://app.example", "POST"},
        {CORS, "POST", "https://evil.example", "POST"},
        {CORS, "OPTIONS", "https://app.example", NULL},
        {CORS, "OPTIONS", NULL, "POST"},
        {"{}", "OPTIONS", "https://app.example", "POST"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fixture f;
        setup(&f, cases[i].yaml, cases[i].method);
        if (cases[i].origin)
            gw_request_add_field(&f.req, "Origin", cases[i].origin);
        if (cases[i].request_method)
            gw_request_add_field(&f.req, "Access-Control-Request-Method", cases[i].request_method);
        ck_assert_msg(!gw_stage_cors_preflight(&f.req), "case %zu", i);
        ck_assert(!f.req.responded);
        ck_assert(!f.req.is_preflight);
        ck_assert_int_eq(f.req.response.status, 0);
        ck_assert_ptr_null(f.req.route_label);
        teardown(&f);
    }
}
END_TEST

/* ---- limits --------------------------------------------------------------------------------- */

START_TEST(limits_head_too_large)
{
    struct fixture f;
    setup(&f, "GATEWAY:\n" LIMITS, "GET");
    f.req.head_too_large = true;
    ck_assert(gw_stage_limits(&f.req));
    ck_assert(f.req.responded);
    assert_error(&f.req.response, 431, "header_too_large",
                 "the request head is larger than 4096 bytes (GATEWAY.max_header)");
    teardown(&f);
}
END_TEST

START_TEST(limits_body_too_large)
{
    struct fixture f;
    setup(&f, "GATEWAY:\n" LIMITS, "POST");
    f.req.body_too_large = true;
    ck_assert(gw_stage_limits(&f.req));
    ck_assert(f.req.responded);
    assert_error(&f.req.response, 413, "body_too_large",
                 "the body is larger than 1000 bytes (GATEWAY.max_body)");
    teardown(&f);

    /* The defaults, and the head first when both are over. */
    setup(&f, "{}", "POST");
    f.req.body_too_large = true;
    f.req.head_too_large = true;
    ck_assert(gw_stage_limits(&f.req));
    assert_error(&f.req.response, 431, "header_too_large",
                 "the request head is larger than 16384 bytes (GATEWAY.max_header)");
    teardown(&f);
    setup(&f, "{}", "POST");
    f.req.body_too_large = true;
    ck_assert(gw_stage_limits(&f.req));
    assert_error(&f.req.response, 413, "body_too_large",
                 "the body is larger than 1048576 bytes (GATEWAY.max_body)");
    teardown(&f);
}
END_TEST

START_TEST(limits_within)
{
    struct fixture f;
    setup(&f, "GATEWAY:\n" LIMITS, "POST");
    ck_assert(!gw_stage_limits(&f.req));
    ck_assert(!f.req.responded);
    ck_assert_int_eq(f.req.response.status, 0);
    teardown(&f);
}
END_TEST

/* ---- gw_stages_run -------------------------------------------------------------------------- */

START_TEST(run_stops_at_the_first_answer)
{
    /* A forbidden preflight with a head too large: the preflight's answer, limits never run. */
    struct fixture f;
    setup(&f, CORS LIMITS, "OPTIONS");
    gw_request_add_field(&f.req, "Origin", "https://evil.example");
    gw_request_add_field(&f.req, "Access-Control-Request-Method", "POST");
    f.req.head_too_large = true;
    ck_assert(gw_stages_run(GW_BEFORE_RESOLVE, &f.req));
    assert_error(&f.req.response, 403, "cors_forbidden",
                 "this Origin may not call enoki (GATEWAY.cors)");
    teardown(&f);

    /* An allowed preflight whose body is too large: 204. */
    setup(&f, CORS LIMITS, "OPTIONS");
    gw_request_add_field(&f.req, "Origin", "https://app.example");
    gw_request_add_field(&f.req, "Access-Control-Request-Method", "POST");
    f.req.body_too_large = true;
    ck_assert(gw_stages_run(GW_BEFORE_RESOLVE, &f.req));
    ck_assert_int_eq(f.req.response.status, 204);
    teardown(&f);

    /* Not a preflight: the limits answer. */
    setup(&f, CORS LIMITS, "POST");
    gw_request_add_field(&f.req, "Origin", "https://app.example");
    f.req.body_too_large = true;
    ck_assert(gw_stages_run(GW_BEFORE_RESOLVE, &f.req));
    ck_assert(!f.req.is_preflight);
    assert_error(&f.req.response, 413, "body_too_large",
                 "the body is larger than 1000 bytes (GATEWAY.max_body)");
    teardown(&f);

    /* Nothing to say: the route is called. */
    setup(&f, CORS LIMITS, "POST");
    gw_request_add_field(&f.req, "Origin", "https://app.example");
    ck_assert(!gw_stages_run(GW_BEFORE_RESOLVE, &f.req));
    ck_assert(!f.req.responded);
    ck_assert_int_eq(f.req.response.status, 0);
    teardown(&f);
}
END_TEST

/* ---- rate_limit ------------------------------------------------------------------------------ */

#define RATE                                                                                       \
    "GATEWAY:\n  rate_limits:\n    - {name: two, key: client_ip, rate: 1/min, burst: 2, match: "   \
    "['/a']}\nroutes:\n  - {rule: /a, rpc: s.a}\n  - {rule: /http, rpc: s.h, mode: http}\n"

/* A request for routes[route] from 192.0.2.1, through the rate-limit stage. */
static bool rate_limited(struct fixture *f, struct gw_limiter *limiter, size_t route,
                         struct sockaddr_in *peer)
{
    f->env.limiter = limiter;
    f->req.peer = (const struct sockaddr *)peer;
    f->req.target = GW_TARGET_ROUTE;
    f->req.route = &f->req.config->routes[route];
    f->req.route_label = f->req.route->rule;
    return gw_stage_rate_limit(&f->req);
}

START_TEST(rate_limit_over_and_under)
{
    struct fixture f;
    struct sockaddr_in peer = {.sin_family = AF_INET};
    inet_pton(AF_INET, "192.0.2.1", &peer.sin_addr);
    setup(&f, RATE, "GET");
    struct gw_limiter *limiter = gw_limiter_new(f.env.current);
    for (int left = 1; left >= 0; left--) {
        ck_assert(!rate_limited(&f, limiter, 0, &peer));
        ck_assert(!f.req.responded);
        ck_assert_str_eq(f.req.rate->policy, "\"two\";q=2;w=120");
        char expected[64];
        snprintf(expected, sizeof(expected), "\"two\";r=%d;t=60", left);
        ck_assert_str_eq(f.req.rate->limit, expected);
    }
    ck_assert(rate_limited(&f, limiter, 0, &peer));
    ck_assert(f.req.responded);
    assert_error(&f.req.response, 429, "rate_limited",
                 "rate limit 'two' reached (GATEWAY.rate_limits); retry in 60 s");
    ck_assert_int_eq(f.req.response.retry_after, 60);
    ck_assert_str_eq(f.req.rate->limit, "\"two\";r=0;t=60");
    teardown(&f);

    /* A route no limit covers, and enoki's own paths, pass without a header. */
    setup(&f, RATE, "GET");
    ck_assert(!rate_limited(&f, limiter, 1, &peer));
    ck_assert_ptr_null(f.req.rate); /* no RateLimit headers */
    f.req.target = GW_TARGET_NONE;
    ck_assert(!gw_stage_rate_limit(&f.req));
    teardown(&f);
    gw_limiter_free(limiter);
}
END_TEST

Suite *stages_suite(void)
{
    Suite *s = suite_create("stages");
    TCase *order = tcase_create("order");
    tcase_add_test(order, stage_order);
    suite_add_tcase(s, order);

    TCase *trace = tcase_create("trace");
    tcase_add_test(trace, trace_on_by_default_off_when_asked);
    tcase_add_test(trace, trace_continues_or_starts);
    suite_add_tcase(s, trace);

    TCase *preflight = tcase_create("cors_preflight");
    tcase_add_test(preflight, preflight_allowed);
    tcase_add_test(preflight, preflight_forbidden);
    tcase_add_test(preflight, not_a_preflight);
    suite_add_tcase(s, preflight);

    TCase *limits = tcase_create("limits");
    tcase_add_test(limits, limits_head_too_large);
    tcase_add_test(limits, limits_body_too_large);
    tcase_add_test(limits, limits_within);
    suite_add_tcase(s, limits);

    TCase *rate = tcase_create("rate_limit");
    tcase_add_test(rate, rate_limit_over_and_under);
    suite_add_tcase(s, rate);

    TCase *run = tcase_create("run");
    tcase_add_test(run, run_stops_at_the_first_answer);
    suite_add_tcase(s, run);
    return s;
}
