/* Unit tests for gateway/idempotency: the stage's answers on hand-made requests (lead, parked,
 * replayed, refused), the parked requests answered at the lead's end, a parked client leaving, a
 * lead whose client leaves living on until its call ends, and mode: http refusals in text. The
 * calls themselves are simulated: the test fills the lead's response and ends it as dispatch does.
 */
#include "gateway/idempotency.h"

#include "core/status.h"
#include "core/xalloc.h"
#include "gateway/generation.h"
#include "gateway/request.h"
#include "gateway/stages.h"
#include "routes/table.h"

#include "tests/unit/suites.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define YAML                                                                                       \
    "GATEWAY:\n  idempotency: true\n"                                                              \
    "routes:\n"                                                                                    \
    "  - {rule: /o, rpc: s.m, methods: 'POST,GET'}\n"                                              \
    "  - {rule: /h, rpc: s.h, methods: POST, mode: http}\n"                                        \
    "  - {rule: /off, rpc: s.m, methods: POST, idempotency: false}\n"

struct env {
    struct gw_http_env env;
};

static int responded_count;

static void count_respond(struct gw_request *req)
{
    (void)req;
    responded_count++;
}

static void env_setup(struct env *e)
{
    struct gw_config *config = NULL;
    char err[256];
    int status =
        gw_config_load_string("idem.yaml", YAML, strlen(YAML), NULL, 0, &config, err, sizeof(err));
    ck_assert_msg(status == GW_OK, "%s", err);
    struct gw_route_table *table = gw_route_table_new();
    gw_route_table_compile(table);
    memset(e, 0, sizeof(*e));
    e->env.current = gw_generation_new(config, table);
    e->env.idem = gw_idempotency_new(config);
    responded_count = 0;
}

static void env_teardown(struct env *e)
{
    ck_assert_uint_eq(e->env.in_flight, 0);
    gw_idempotency_free(e->env.idem);
    gw_generation_unref(e->env.current);
}

/* A request to routes[route] as a transport would hand it over after resolving. */
static struct gw_request *request(struct env *e, const char *method, size_t route, const char *key,
                                  const char *body)
{
    struct gw_request *req = gw_request_new(&e->env, NULL, -1);
    req->respond = count_respond;
    snprintf(req->method, sizeof(req->method), "%s", method);
    req->route = &req->config->routes[route];
    req->target = GW_TARGET_ROUTE;
    req->raw_uri = xstrdup(req->route->rule);
    if (key)
        gw_request_add_field(req, "Idempotency-Key", key);
    gw_request_add_field(req, "Content-Type", "application/json");
    if (body) {
        req->body = xstrdup(body);
        req->body_len = strlen(body);
    }
    return req;
}

/* What dispatch does when a published call ends. */
static void end_call(struct gw_request *lead, const char *result)
{
    json_t *value = json_string(result);
    gw_respond_result(value, &lead->response);
    json_decref(value);
    gw_response_add_header(&lead->response, "X-Service", "yes");
    snprintf(lead->call_id, sizeof(lead->call_id), "s.m-call");
    lead->call = NULL;
    lead->responded = true;
    gw_idempotency_call_ended(lead, true);
    lead->respond(lead);
}

static const char *header_of(const struct gw_response *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

static void assert_replay(const struct gw_request *req, const char *body)
{
    ck_assert(req->responded);
    ck_assert_int_eq(req->response.status, 200);
    ck_assert_str_eq(req->response.body, body);
    ck_assert_str_eq(header_of(&req->response, "X-Service"), "yes");
    ck_assert_str_eq(header_of(&req->response, "Idempotent-Replayed"), "true");
    ck_assert_str_eq(req->call_id, "s.m-call");
}

START_TEST(lead_waiters_and_replay)
{
    struct env e;
    env_setup(&e);
    struct gw_request *lead = request(&e, "POST", 0, "\"k1\"", "{\"a\":1}");
    ck_assert(!gw_stage_idempotency(lead));
    ck_assert(lead->idem_lead);
    struct gw_request *w1 = request(&e, "POST", 0, "k1", "{\"a\":1}");
    struct gw_request *w2 = request(&e, "POST", 0, "k1", "{\"a\":1}");
    struct gw_request *w3 = request(&e, "POST", 0, "k1", "{\"a\":1}");
    /* Parked: no answer, no call. */
    ck_assert(gw_stage_idempotency(w1) && !w1->responded);
    ck_assert(gw_stage_idempotency(w2) && !w2->responded);
    ck_assert(gw_stage_idempotency(w3) && !w3->responded);
    /* Another body with the key, while in flight: 422 at once. */
    struct gw_request *other = request(&e, "POST", 0, "k1", "{\"a\":2}");
    ck_assert(gw_stage_idempotency(other));
    ck_assert_int_eq(other->response.status, 422);
    ck_assert_str_eq(other->response.code, "idempotency_key_reused");
    gw_request_finish(other, false);
    /* w2's client leaves: the others are still answered, w2 is not. */
    gw_request_finish(w2, true);
    lead->call = (struct gw_rpc_call *)(void *)&e; /* in flight (never touched) */
    end_call(lead, "done");
    ck_assert_int_eq(responded_count, 3); /* w1, w3 and the lead */
    assert_replay(w1, "\"done\"");
    assert_replay(w3, "\"done\"");
    ck_assert_ptr_null(header_of(&lead->response, "Idempotent-Replayed"));
    gw_request_finish(w1, false);
    gw_request_finish(w3, false);
    gw_request_finish(lead, false);
    /* After: the kept response. */
    struct gw_request *later = request(&e, "POST", 0, "k1", "{\"a\":1}");
    ck_assert(gw_stage_idempotency(later));
    assert_replay(later, "\"done\"");
    gw_request_finish(later, false);
    ck_assert_uint_eq(gw_idempotency_count(e.env.idem), 1);
    env_teardown(&e);
}
END_TEST

START_TEST(answered_at_once_is_not_kept)
{
    struct env e;
    env_setup(&e);
    struct gw_request *lead = request(&e, "POST", 0, "k2", "{}");
    ck_assert(!gw_stage_idempotency(lead));
    gw_respond_status(503, "too_busy", "busy", NULL, &lead->response);
    lead->responded = true;
    gw_idempotency_call_ended(lead, false);
    gw_request_finish(lead, false);
    ck_assert_uint_eq(gw_idempotency_count(e.env.idem), 0);
    struct gw_request *again = request(&e, "POST", 0, "k2", "{}");
    ck_assert(!gw_stage_idempotency(again));
    ck_assert(again->idem_lead);
    gw_idempotency_call_ended(again, false);
    gw_request_finish(again, false);
    env_teardown(&e);
}
END_TEST

START_TEST(lead_whose_client_leaves_lives_on)
{
    struct env e;
    env_setup(&e);
    struct gw_request *lead = request(&e, "POST", 0, "k3", "{}");
    ck_assert(!gw_stage_idempotency(lead));
    lead->call = (struct gw_rpc_call *)(void *)&e; /* in flight (never touched) */
    struct gw_request *waiter = request(&e, "POST", 0, "k3", "{}");
    ck_assert(gw_stage_idempotency(waiter));
    gw_request_finish(lead, true); /* not freed: detached */
    ck_assert_uint_eq(e.env.in_flight, 1);
    ck_assert_ptr_null(lead->headers);
    end_call(lead, "late"); /* answers the waiter, keeps the response, frees the lead */
    assert_replay(waiter, "\"late\"");
    gw_request_finish(waiter, false);
    struct gw_request *later = request(&e, "POST", 0, "k3", "{}");
    ck_assert(gw_stage_idempotency(later));
    assert_replay(later, "\"late\"");
    gw_request_finish(later, false);
    /* A lead still detached when the store goes is freed with it (its call cancelled). */
    struct gw_request *gone = request(&e, "POST", 0, "k4", "{}");
    ck_assert(!gw_stage_idempotency(gone));
    gone->call = (struct gw_rpc_call *)(void *)&e;
    gw_request_finish(gone, true);
    gone->call = NULL; /* no real call to cancel here */
    env_teardown(&e);
}
END_TEST

START_TEST(refusals_and_what_is_ignored)
{
    struct env e;
    env_setup(&e);
    struct gw_request *req = request(&e, "POST", 0, "a b", "{}");
    ck_assert(gw_stage_idempotency(req));
    ck_assert_int_eq(req->response.status, 400);
    ck_assert_str_eq(req->response.content_type, "application/json");
    ck_assert(strstr(req->response.body, "holds ' '") != NULL);
    gw_request_finish(req, false);
    req = request(&e, "POST", 0, "a", "{}");
    gw_request_add_field(req, "idempotency-key", "b");
    ck_assert(gw_stage_idempotency(req));
    ck_assert_int_eq(req->response.status, 400);
    ck_assert(strstr(req->response.body, "more than once") != NULL);
    gw_request_finish(req, false);
    /* mode: http: @http's text. */
    req = request(&e, "POST", 1, "\"open", "{}");
    ck_assert(gw_stage_idempotency(req));
    ck_assert_int_eq(req->response.status, 400);
    ck_assert_str_eq(req->response.body,
                     "Error: GatewayError: the Idempotency-Key's quoted string has no closing "
                     "quote\n");
    gw_request_finish(req, false);
    /* GET, a route with idempotency: false, no key: on as if there were none. */
    req = request(&e, "GET", 0, "a b", NULL);
    ck_assert(!gw_stage_idempotency(req) && !req->idem_entry);
    gw_request_finish(req, false);
    req = request(&e, "POST", 2, "a b", "{}");
    ck_assert(!gw_stage_idempotency(req) && !req->idem_entry);
    gw_request_finish(req, false);
    req = request(&e, "POST", 0, NULL, "{}");
    ck_assert(!gw_stage_idempotency(req) && !req->idem_entry);
    gw_request_finish(req, false);
    ck_assert_uint_eq(gw_idempotency_count(e.env.idem), 0);
    env_teardown(&e);
}
END_TEST

START_TEST(stage_order)
{
    size_t n = 0;
    const struct gw_stage *stages = gw_stages(GW_AFTER_RESOLVE, &n);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(stages[0].name, "auth");
    ck_assert_str_eq(stages[2].name, "idempotency");
    ck_assert(stages[2].run == gw_stage_idempotency);
}
END_TEST

Suite *idempotency_suite(void)
{
    Suite *s = suite_create("idempotency");
    TCase *tc = tcase_create("stage");
    tcase_add_test(tc, lead_waiters_and_replay);
    tcase_add_test(tc, answered_at_once_is_not_kept);
    tcase_add_test(tc, lead_whose_client_leaves_lives_on);
    tcase_add_test(tc, refusals_and_what_is_ignored);
    tcase_add_test(tc, stage_order);
    suite_add_tcase(s, tc);
    return s;
}
