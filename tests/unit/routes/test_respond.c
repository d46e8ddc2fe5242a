/* Unit tests for routes/respond: the one table from outcomes to HTTP. */
#include "core/status.h"
#include "routes/respond.h"

#include "tests/unit/suites.h"

#include <string.h>

static json_t *body_of(const struct gw_response *r)
{
    json_t *doc = json_loadb(r->body, r->body_len, 0, NULL);
    ck_assert_ptr_nonnull(doc);
    return doc;
}

static json_t *nameko_error(const char *type, const char *path)
{
    return json_pack("{s:s, s:s, s:[s], s:s}", "exc_type", type, "exc_path", path, "exc_args", "x",
                     "value", "x");
}

struct remote_case {
    const char *type;
    const char *path;
    bool generic;
    int http;
    const char *code;
};

static const struct remote_case remote_cases[] = {
    {"IncorrectSignature", "nameko.exceptions.IncorrectSignature", false, 400,
     "incorrect_signature"},
    {"MalformedRequest", "nameko.exceptions.MalformedRequest", false, 400, "malformed_request"},
    {"MethodNotFound", "nameko.exceptions.MethodNotFound", false, 502, "method_not_found"},
    {"MethodNotFound", "nameko.exceptions.MethodNotFound", true, 404, "method_not_found"},
    {"ConnectionNotFound", "nameko.exceptions.ConnectionNotFound", false, 404,
     "connection_not_found"},
    {"ValueError", "builtins.ValueError", false, 500, "remote_error"},
    {"KeyError", "builtins.KeyError", false, 409, "remote_error"}, /* mapped by GATEWAY.errors */
    /* A user class that happens to share a nameko name is not nameko's. */
    {"IncorrectSignature", "myapp.IncorrectSignature", false, 500, "remote_error"},
};

START_TEST(remote_errors)
{
    const struct remote_case *c = &remote_cases[_i];
    static char key_error[] = "KeyError";
    struct gw_error_status map[] = {{key_error, 409}};
    struct gw_config config = {.errors = map, .n_errors = 1};
    json_t *error = nameko_error(c->type, c->path);
    struct gw_response r;
    gw_respond_call_error(GW_EREMOTE, error, c->type, "svc.m", 30, "gw.http.1", &config, c->generic,
                          &r);
    ck_assert_int_eq(r.status, c->http);
    ck_assert_str_eq(r.content_type, "application/json");
    json_t *doc = body_of(&r);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "error")), c->code);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "exc_type")), c->type);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "exc_path")), c->path);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "call_id")), "gw.http.1");
    ck_assert_int_eq(json_array_size(json_object_get(doc, "exc_args")), 1);
    ck_assert_ptr_nonnull(json_object_get(doc, "value"));
    ck_assert_int_eq(r.retry_after, 0);
    json_decref(doc);
    json_decref(error);
    gw_response_clear(&r);
}
END_TEST

START_TEST(local_outcomes)
{
    struct gw_config config = {0};
    const struct {
        int status;
        int http;
        const char *code;
        const char *message_has;
        int retry_after;
    } cases[] = {
        {GW_EUNKNOWN_SERVICE, 503, "unknown_service", "Unknown service `svc`", 5},
        {GW_EBROKER, 503, "broker_unavailable", "unreachable", 5},
        {GW_ETIMEOUT, 504, "timeout", "no reply from svc.m within 1.5 s", 0},
        {GW_EBADREPLY, 502, "bad_reply", "could not be decoded", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct gw_response r;
        gw_respond_call_error(cases[i].status, NULL, "why", "svc.m", 1.5, NULL, &config, false, &r);
        ck_assert_int_eq(r.status, cases[i].http);
        ck_assert_int_eq(r.retry_after, cases[i].retry_after);
        json_t *doc = body_of(&r);
        ck_assert_str_eq(json_string_value(json_object_get(doc, "error")), cases[i].code);
        ck_assert_msg(
            strstr(json_string_value(json_object_get(doc, "message")), cases[i].message_has), "%s",
            json_string_value(json_object_get(doc, "message")));
        ck_assert(json_is_null(json_object_get(doc, "call_id")));
        ck_assert_ptr_null(json_object_get(doc, "exc_type"));
        json_decref(doc);
        gw_response_clear(&r);
    }
}
END_TEST

START_TEST(http_status_table)
{
    ck_assert_int_eq(gw_http_status_of(GW_ENOMATCH), 404);
    ck_assert_int_eq(gw_http_status_of(GW_EMETHOD), 405);
    ck_assert_int_eq(gw_http_status_of(GW_EREDIRECT), 308);
    ck_assert_int_eq(gw_http_status_of(GW_EARGS), 400);
    ck_assert_int_eq(gw_http_status_of(GW_EJSON), 400);
    ck_assert_int_eq(gw_http_status_of(GW_EMEDIA), 415);
    ck_assert_int_eq(gw_http_status_of(GW_EFORBIDDEN), 403);
    ck_assert_int_eq(gw_http_status_of(GW_EINVAL), 500);
}
END_TEST

START_TEST(result_is_compact_utf8_json)
{
    json_t *v = json_pack("{s:s, s:f}", "name", "h\xc3\xa9", "x", 0.1);
    struct gw_response r;
    gw_respond_result(v, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.content_type, "application/json");
    ck_assert_str_eq(r.body, "{\"name\":\"h\xc3\xa9\",\"x\":0.1}");
    ck_assert_uint_eq(r.body_len, strlen(r.body));
    gw_response_clear(&r);
    json_decref(v);
}
END_TEST

START_TEST(one_outcome_table_for_http_and_websockets)
{
    /* Each outcome's HTTP status and websocket exception come from the same row. */
    const struct gw_outcome *timeout = gw_outcome_of(GW_ETIMEOUT);
    ck_assert_int_eq(timeout->http, 504);
    ck_assert_str_eq(timeout->exc_type, "RpcTimeout");
    ck_assert_str_eq(timeout->exc_path, "nameko.exceptions.RpcTimeout");
    const struct gw_outcome *unknown = gw_outcome_of(GW_EUNKNOWN_SERVICE);
    ck_assert_int_eq(unknown->http, 503);
    ck_assert_str_eq(unknown->exc_path, "nameko.exceptions.UnknownService");
    ck_assert_int_eq(gw_outcome_of(GW_EBROKER)->http, gw_http_status_of(GW_EBROKER));
    ck_assert_str_eq(gw_outcome_of(GW_EBROKER)->exc_type, "BrokerUnavailable");
    const struct gw_outcome *other = gw_outcome_of(GW_ECANCELLED);
    ck_assert_int_eq(other->http, 500);
    ck_assert_str_eq(other->exc_path, "enoki.GatewayError");
    ck_assert_int_eq(gw_http_status_of(12345), 500);
}
END_TEST

Suite *respond_suite(void)
{
    Suite *s = suite_create("respond");
    TCase *tc = tcase_create("errors");
    tcase_add_loop_test(tc, remote_errors, 0,
                        (int)(sizeof(remote_cases) / sizeof(remote_cases[0])));
    tcase_add_test(tc, local_outcomes);
    tcase_add_test(tc, http_status_table);
    tcase_add_test(tc, one_outcome_table_for_http_and_websockets);
    suite_add_tcase(s, tc);
    tc = tcase_create("results");
    tcase_add_test(tc, result_is_compact_utf8_json);
    suite_add_tcase(s, tc);
    return s;
}
