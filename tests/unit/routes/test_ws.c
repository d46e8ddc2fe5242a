/* Unit tests for routes/ws: nameko's websocket frames and error objects. */
#include "core/status.h"
#include "routes/ws.h"

#include "tests/unit/suites.h"

#include <stdlib.h>
#include <string.h>

START_TEST(frames_parse_as_nameko_reads_them)
{
    struct gw_ws_request r;
    const char *text = "{\"method\": \"subscribe\", \"data\": {\"channel\": \"x\"}, "
                       "\"correlation_id\": 1}";
    ck_assert_int_eq(gw_ws_parse(text, strlen(text), &r), GW_OK);
    ck_assert_str_eq(r.method, "subscribe");
    ck_assert_str_eq(json_string_value(json_object_get(r.data, "channel")), "x");
    ck_assert_int_eq(json_integer_value(r.correlation_id), 1);
    gw_ws_request_clear(&r);

    /* A falsy data is {}, a missing correlation_id is null. */
    text = "{\"method\": \"get_subscriptions\", \"data\": 0}";
    ck_assert_int_eq(gw_ws_parse(text, strlen(text), &r), GW_OK);
    ck_assert(json_is_object(r.data) && json_object_size(r.data) == 0);
    ck_assert(json_is_null(r.correlation_id));
    gw_ws_request_clear(&r);

    /* A method that is not a string names none: "" (nameko answers MethodNotFound). */
    text = "{\"method\": 1, \"correlation_id\": 2}";
    ck_assert_int_eq(gw_ws_parse(text, strlen(text), &r), GW_OK);
    ck_assert_str_eq(r.method, "");
    ck_assert_int_eq(json_integer_value(r.correlation_id), 2);
    gw_ws_request_clear(&r);

    static const char *const malformed[] = {"not json", "[1]", "{\"data\": 1}", "{}"};
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
        ck_assert_int_eq(gw_ws_parse(malformed[i], strlen(malformed[i]), &r), GW_EJSON);
        ck_assert_ptr_null(r.method);
    }
}
END_TEST

/* A binary message is read as json.loads reads bytes: UTF-16 and UTF-32 too, a BOM skipped; a
 * text message is a str to nameko's hub, where a BOM is an error. */
START_TEST(binary_messages_are_bytes_to_json_loads)
{
    struct gw_ws_request r;
    static const char utf16le[] = "\xff\xfe{\0\"\0m\0e\0t\0h\0o\0d\0\"\0:\0\"\0x\0\"\0}\0";
    ck_assert_int_eq(gw_ws_parse_binary(utf16le, sizeof(utf16le) - 1, &r), GW_OK);
    ck_assert_str_eq(r.method, "x");
    gw_ws_request_clear(&r);
    static const char utf32be[] = "\0\0\0{\0\0\0\"\0\0\0m\0\0\0e\0\0\0t\0\0\0h\0\0\0o"
                                  "\0\0\0d\0\0\0\"\0\0\0:\0\0\0\"\0\0\0y\0\0\0\"\0\0\0}";
    ck_assert_int_eq(gw_ws_parse_binary(utf32be, sizeof(utf32be) - 1, &r), GW_OK);
    ck_assert_str_eq(r.method, "y");
    gw_ws_request_clear(&r);
    const char *bom = "\xef\xbb\xbf{\"method\": \"z\"}";
    ck_assert_int_eq(gw_ws_parse_binary(bom, strlen(bom), &r), GW_OK);
    ck_assert_str_eq(r.method, "z");
    gw_ws_request_clear(&r);
    ck_assert_int_eq(gw_ws_parse(bom, strlen(bom), &r), GW_EJSON);
    ck_assert_int_eq(gw_ws_parse_binary(utf16le, sizeof(utf16le) - 2, &r), GW_EJSON);
    ck_assert_ptr_null(r.method);
}
END_TEST

START_TEST(frames_are_what_json_dumps_writes)
{
    json_t *data = json_pack("{s:i}", "a", 1);
    json_t *cid = json_integer(1);
    size_t len;
    char *frame = gw_ws_result_frame(data, cid, &len);
    ck_assert_str_eq(frame, "{\"type\": \"result\", \"success\": true, \"data\": {\"a\": 1}, "
                            "\"correlation_id\": 1}");
    ck_assert_uint_eq(len, strlen(frame));
    free(frame);
    json_decref(data);
    json_decref(cid);
}
END_TEST

/* Found with tests/fuzz/fuzz_ws_frame.c (its error-object property): the hub writes its messages
 * into fixed-size buffers, which can cut a UTF-8 character in two; such text is not a string
 * jansson keeps, so the error lost its "value" and its exc_args. Every member is now there, the
 * cut character replaced by U+FFFD. */
START_TEST(errors_keep_every_member_for_text_cut_mid_character)
{
    const char *cut = "got an unexpected keyword argument 'caf\xc3";
    json_t *errors[] = {
        gw_ws_incorrect_signature(cut),
        gw_nameko_error("TypeError", "builtins.TypeError", NULL, cut),
    };
    for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
        const char *value = json_string_value(json_object_get(errors[i], "value"));
        ck_assert_ptr_nonnull(value);
        ck_assert_str_eq(value, "got an unexpected keyword argument 'caf\xef\xbf\xbd");
        ck_assert(json_is_string(json_object_get(errors[i], "exc_type")));
        ck_assert(json_is_string(json_object_get(errors[i], "exc_path")));
        ck_assert(json_is_array(json_object_get(errors[i], "exc_args")));
        json_decref(errors[i]);
    }
    json_t *error = gw_ws_incorrect_signature(cut);
    ck_assert_uint_eq(json_array_size(json_object_get(error, "exc_args")), 1);
    ck_assert(json_equal(json_array_get(json_object_get(error, "exc_args"), 0),
                         json_object_get(error, "value")));
    json_decref(error);
}
END_TEST

static const struct {
    int status;
    const char *type, *path, *value, *arg;
} failure_cases[] = {
    {GW_EUNKNOWN_SERVICE, "UnknownService", "nameko.exceptions.UnknownService",
     "Unknown service `svc`", "svc"},
    {GW_ETIMEOUT, "RpcTimeout", "nameko.exceptions.RpcTimeout", "no reply from svc.m within 1.5 s",
     NULL},
    {GW_EBROKER, "BrokerUnavailable", "enoki.BrokerUnavailable",
     "the message broker is unreachable (not connected); retry later", NULL},
    {GW_EBADREPLY, "BadReply", "enoki.BadReply",
     "the reply from svc.m could not be decoded: not connected", NULL},
    {GW_ESHUTDOWN, "GatewayStopping", "enoki.GatewayStopping", "not connected", NULL},
    {GW_EJSON, "GatewayError", "enoki.GatewayError", "not connected", NULL},
};

/* A call that ended without a reply becomes the exception nameko's hub would send. */
START_TEST(call_failures_are_nameko_exceptions)
{
    json_t *error = gw_ws_call_failure(failure_cases[_i].status, "not connected", "svc.m", 1.5);
    ck_assert_str_eq(json_string_value(json_object_get(error, "exc_type")), failure_cases[_i].type);
    ck_assert_str_eq(json_string_value(json_object_get(error, "exc_path")), failure_cases[_i].path);
    ck_assert_str_eq(json_string_value(json_object_get(error, "value")), failure_cases[_i].value);
    json_t *args = json_object_get(error, "exc_args");
    ck_assert_uint_eq(json_array_size(args), 1);
    /* UnknownService's argument is the service; the others' the message. */
    const char *arg = failure_cases[_i].arg ? failure_cases[_i].arg : failure_cases[_i].value;
    ck_assert_str_eq(json_string_value(json_array_get(args, 0)), arg);
    json_decref(error);
}
END_TEST

/* A frame's call to the cluster: "<service>.<method>" that GATEWAY.expose lets through. */
START_TEST(call_targets_are_exposed_service_methods)
{
    static char glob_a[] = "svc.*", glob_b[] = "other.ping";
    struct gw_policy_entry entries[] = {{.pattern = glob_a, .auth = GW_AUTH_REQUIRED},
                                        {.pattern = glob_b}};
    struct gw_config config = {0};
    config.expose.items = entries;
    config.expose.n = 2;
    char *service = NULL;
    const char *method = NULL;
    const struct gw_policy_entry *entry = NULL;
    ck_assert_int_eq(gw_ws_call_target(&config, "svc.echo", &service, &method, &entry), GW_OK);
    ck_assert_str_eq(service, "svc");
    ck_assert_str_eq(method, "echo");
    ck_assert_ptr_eq(entry, &entries[0]);
    free(service);
    ck_assert_int_eq(gw_ws_call_target(&config, "other.ping", &service, &method, &entry), GW_OK);
    ck_assert_str_eq(service, "other");
    ck_assert_str_eq(method, "ping");
    ck_assert_ptr_eq(entry, &entries[1]);
    free(service);
    /* The entry is optional. */
    ck_assert_int_eq(gw_ws_call_target(&config, "svc.x", &service, &method, NULL), GW_OK);
    free(service);
    static const char *const refused[] = {"other.pong", "svc", ".echo", "svc.",
                                          "svc.a.b",    "",    "nope.x"};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        service = NULL;
        ck_assert_msg(gw_ws_call_target(&config, refused[i], &service, &method, NULL) ==
                          GW_ENOMATCH,
                      "%s", refused[i]);
        ck_assert_ptr_null(service);
    }
    /* Without expose nothing is callable. */
    struct gw_config closed = {0};
    ck_assert_int_eq(gw_ws_call_target(&closed, "svc.echo", &service, &method, NULL), GW_ENOMATCH);
}
END_TEST

START_TEST(call_context_adds_a_call_id_stack)
{
    json_t *socket = json_pack("{s:s, s:s}", "auth_token", "t", "socket_id", "s1");
    json_t *context = gw_ws_call_context(socket, "gw", "1234");
    json_t *want = json_pack("{s:s, s:s, s:[s]}", "auth_token", "t", "socket_id", "s1",
                             "call_id_stack", "gw.ws.1234");
    ck_assert(json_equal(context, want));
    /* The socket's own context is left as it was, for its next call. */
    ck_assert_ptr_null(json_object_get(socket, "call_id_stack"));
    json_decref(want);
    json_decref(context);
    json_decref(socket);
}
END_TEST

START_TEST(close_payloads_a_peer_may_send)
{
    static const struct {
        const char *payload;
        size_t len;
        bool ok;
    } cases[] = {
        {"", 0, true},
        {"\x03", 1, false},
        {"\x03\xe8", 2, true},  /* 1000 */
        {"\x03\xeb", 2, true},  /* 1003 */
        {"\x03\xec", 2, false}, /* 1004, reserved */
        {"\x03\xed", 2, false}, /* 1005, never on the wire */
        {"\x03\xee", 2, false}, /* 1006 */
        {"\x03\xef", 2, true},  /* 1007 */
        {"\x03\xf3", 2, true},  /* 1011 */
        {"\x03\xf4", 2, false}, /* 1012: not to nameko's hub (eventlet) */
        {"\x03\xf7", 2, false}, /* 1015, never on the wire */
        {"\x03\xe7", 2, false}, /* 999 */
        {"\x0b\xb7", 2, false}, /* 2999 */
        {"\x0b\xb8", 2, true},  /* 3000 */
        {"\x13\x87", 2, true},  /* 4999 */
        {"\x13\x88", 2, false}, /* 5000 */
        {"\xff\xff", 2, false}, /* 65535 */
        {"\x03\xe8"
         "bye \xc3\xa9",
         8, true},                          /* a UTF-8 reason */
        {"\x03\xe8\xff\xfe", 4, false},     /* one that is not */
        {"\x03\xe8\xed\xa0\x80", 5, false}, /* a surrogate */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        ck_assert_msg(gw_ws_close_payload_ok((const unsigned char *)cases[i].payload,
                                             cases[i].len) == cases[i].ok,
                      "case %zu", i);
}
END_TEST

START_TEST(truthiness_is_pythons)
{
    const char *falsy[] = {"null", "false", "0", "0.0", "\"\"", "[]", "{}"};
    const char *truthy[] = {"true", "1", "-0.5", "\"x\"", "[0]", "{\"a\": null}"};
    for (size_t i = 0; i < sizeof(falsy) / sizeof(falsy[0]); i++) {
        json_t *v = json_loads(falsy[i], JSON_DECODE_ANY, NULL);
        ck_assert_msg(!gw_json_truthy(v), "%s", falsy[i]);
        json_decref(v);
    }
    for (size_t i = 0; i < sizeof(truthy) / sizeof(truthy[0]); i++) {
        json_t *v = json_loads(truthy[i], JSON_DECODE_ANY, NULL);
        ck_assert_msg(gw_json_truthy(v), "%s", truthy[i]);
        json_decref(v);
    }
}
END_TEST

Suite *ws_suite(void)
{
    Suite *s = suite_create("ws");
    TCase *tc = tcase_create("frames");
    tcase_add_test(tc, frames_parse_as_nameko_reads_them);
    tcase_add_test(tc, binary_messages_are_bytes_to_json_loads);
    tcase_add_test(tc, frames_are_what_json_dumps_writes);
    tcase_add_test(tc, truthiness_is_pythons);
    tcase_add_test(tc, call_targets_are_exposed_service_methods);
    tcase_add_test(tc, call_context_adds_a_call_id_stack);
    tcase_add_test(tc, close_payloads_a_peer_may_send);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, errors_keep_every_member_for_text_cut_mid_character);
    tcase_add_loop_test(tc, call_failures_are_nameko_exceptions, 0,
                        (int)(sizeof(failure_cases) / sizeof(failure_cases[0])));
    suite_add_tcase(s, tc);
    return s;
}
