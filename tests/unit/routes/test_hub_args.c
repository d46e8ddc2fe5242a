/* Unit tests for routes/hub_args: the hub's methods, their arguments bound as Python binds them,
 * and the exact words nameko (that is, CPython's inspect.getcallargs) answers a bad call with. */
#include "core/json.h"
#include "core/wire.h"
#include "routes/hub_args.h"

#include "tests/unit/suites.h"

#include <stdlib.h>
#include <string.h>

static json_t *parse(const char *text)
{
    json_t *v = gw_json_decode_lenient(text, strlen(text), NULL); /* as frames are read */
    ck_assert_ptr_nonnull(v);
    return v;
}

static const char *const broadcast_names[] = {"channel", "event", "data", NULL};

static const struct {
    const char *args, *kwargs, *message;
} bind_failures[] = {
    {"[1, 2, 3, 4]", "{}", "broadcast() takes 4 positional arguments but 5 were given"},
    {"[]", "{\"channel\": 1, \"event\": 2, \"data\": 3, \"extra\": 4}",
     "broadcast() got an unexpected keyword argument 'extra'"},
    {"[\"c\"]", "{\"channel\": \"d\", \"event\": 2, \"data\": 3}",
     "broadcast() got multiple values for argument 'channel'"},
    {"[\"c\", \"e\"]", "{}", "broadcast() missing 1 required positional argument: 'data'"},
    {"[\"c\"]", "{}", "broadcast() missing 2 required positional arguments: 'event' and 'data'"},
    {"[]", "{\"event\": 1}",
     "broadcast() missing 2 required positional arguments: 'channel' and 'data'"},
    {"[]", "{}",
     "broadcast() missing 3 required positional arguments: 'channel', 'event', and 'data'"},
};

START_TEST(bind_fails_with_pythons_words)
{
    json_t *args = parse(bind_failures[_i].args);
    json_t *kwargs = parse(bind_failures[_i].kwargs);
    char msg[256] = "unset";
    json_t *bound = gw_hub_args_bind("broadcast", args, kwargs, broadcast_names, msg, sizeof(msg));
    ck_assert_ptr_null(bound);
    ck_assert_str_eq(msg, bind_failures[_i].message);
    json_decref(args);
    json_decref(kwargs);
}
END_TEST

START_TEST(bind_takes_positional_and_keyword_arguments)
{
    json_t *args = parse("[\"news\"]");
    json_t *kwargs = parse("{\"data\": {\"n\": 1}, \"event\": \"posted\"}");
    char msg[256];
    json_t *bound = gw_hub_args_bind("broadcast", args, kwargs, broadcast_names, msg, sizeof(msg));
    ck_assert_ptr_nonnull(bound);
    json_t *want = parse("{\"channel\": \"news\", \"event\": \"posted\", \"data\": {\"n\": 1}}");
    ck_assert(json_equal(bound, want));
    json_decref(want);
    json_decref(bound);
    json_decref(kwargs);
    json_decref(args);

    /* No arguments at all (NULL is an empty array or object) for a method that takes none. */
    static const char *const none[] = {NULL};
    bound = gw_hub_args_bind("ping", NULL, NULL, none, msg, sizeof(msg));
    ck_assert(json_is_object(bound) && json_object_size(bound) == 0);
    json_decref(bound);
}
END_TEST

/* value and exc_args[0] hold message; the type is IncorrectSignature. */
static void assert_incorrect_signature(json_t *error, const char *message)
{
    ck_assert_ptr_nonnull(error);
    ck_assert_str_eq(gw_wire_exc_type(error), "IncorrectSignature");
    ck_assert_str_eq(gw_wire_exc_path(error), "nameko.exceptions.IncorrectSignature");
    ck_assert_str_eq(gw_wire_exc_value(error), message);
    json_t *args = json_object_get(error, "exc_args");
    ck_assert_uint_eq(json_array_size(args), 1);
    ck_assert_str_eq(json_string_value(json_array_get(args, 0)), message);
    json_decref(error);
}

START_TEST(check_kwargs_wants_exactly_the_names)
{
    static const char *const channel[] = {"channel", NULL};
    json_t *ok = parse("{\"channel\": \"x\"}");
    ck_assert_ptr_null(gw_hub_args_check_kwargs("subscribe", ok, channel));
    json_decref(ok);

    json_t *extra = parse("{\"channel\": \"x\", \"other\": 1}");
    assert_incorrect_signature(gw_hub_args_check_kwargs("subscribe", extra, channel),
                               "subscribe() got an unexpected keyword argument 'other'");
    json_decref(extra);

    json_t *empty = parse("{}");
    assert_incorrect_signature(gw_hub_args_check_kwargs("subscribe", empty, channel),
                               "subscribe() missing 1 required positional argument: 'channel'");
    json_decref(empty);
}
END_TEST

START_TEST(py_type_names_pythons_types)
{
    static const struct {
        const char *json, *type;
    } cases[] = {
        {"{}", "dict"},
        {"[]", "list"},
        {"\"s\"", "str"},
        {"1", "int"},
        {"1.5", "float"},
        {"true", "bool"},
        {"false", "bool"},
        {"null", "NoneType"},
        /* What json.loads reads beyond jansson: */
        {"NaN", "float"},
        {"-Infinity", "float"},
        {"1e400", "float"},
        {"123456789012345678901234567890", "int"},
        {"-9223372036854775809", "int"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *v = parse(cases[i].json);
        ck_assert_str_eq(gw_hub_args_py_type(v), cases[i].type);
        json_decref(v);
    }
}
END_TEST

START_TEST(not_a_mapping_names_the_type)
{
    json_t *list = parse("[1]");
    assert_incorrect_signature(
        gw_hub_args_not_a_mapping(list),
        "inspect.getcallargs() argument after ** must be a mapping, not list");
    json_decref(list);
    json_t *text = parse("\"x\"");
    assert_incorrect_signature(
        gw_hub_args_not_a_mapping(text),
        "inspect.getcallargs() argument after ** must be a mapping, not str");
    json_decref(text);
}
END_TEST

START_TEST(frames_name_the_hubs_own_methods)
{
    const char *channel;
    json_t *error;
    json_t *data = parse("{\"channel\": \"news\"}");
    ck_assert_int_eq(gw_hub_args_frame("subscribe", data, &channel, &error), GW_HUB_SUBSCRIBE);
    ck_assert_ptr_null(error);
    ck_assert_str_eq(channel, "news");
    ck_assert_int_eq(gw_hub_args_frame("unsubscribe", data, &channel, &error), GW_HUB_UNSUBSCRIBE);
    ck_assert_ptr_null(error);
    ck_assert_str_eq(channel, "news");
    /* get_subscriptions takes nothing but the socket. */
    ck_assert_int_eq(gw_hub_args_frame("get_subscriptions", data, &channel, &error),
                     GW_HUB_GET_SUBSCRIPTIONS);
    assert_incorrect_signature(error,
                               "get_subscriptions() got an unexpected keyword argument 'channel'");
    /* The native service's methods and the cluster's are not the frame's hub methods. */
    ck_assert_int_eq(gw_hub_args_frame("broadcast", data, &channel, &error), GW_HUB_NONE);
    ck_assert_ptr_null(error);
    ck_assert_int_eq(gw_hub_args_frame("svc.method", data, &channel, &error), GW_HUB_NONE);
    ck_assert_ptr_null(error);
    json_decref(data);

    json_t *empty = parse("{}");
    ck_assert_int_eq(gw_hub_args_frame("get_subscriptions", empty, &channel, &error),
                     GW_HUB_GET_SUBSCRIPTIONS);
    ck_assert_ptr_null(error);
    ck_assert_int_eq(gw_hub_args_frame("subscribe", empty, &channel, &error), GW_HUB_SUBSCRIBE);
    assert_incorrect_signature(error, "subscribe() missing 1 required positional argument: "
                                      "'channel'");
    json_decref(empty);

    json_t *number = parse("{\"channel\": 5}");
    ck_assert_int_eq(gw_hub_args_frame("subscribe", number, &channel, &error), GW_HUB_SUBSCRIBE);
    ck_assert_str_eq(gw_wire_exc_type(error), "TypeError");
    ck_assert_str_eq(gw_wire_exc_path(error), "builtins.TypeError");
    ck_assert_str_eq(gw_wire_exc_value(error), "channel must be a string");
    json_decref(error);
    json_decref(number);

    json_t *list = parse("[\"news\"]");
    ck_assert_int_eq(gw_hub_args_frame("unsubscribe", list, &channel, &error), GW_HUB_UNSUBSCRIBE);
    assert_incorrect_signature(
        error, "inspect.getcallargs() argument after ** must be a mapping, not list");
    json_decref(list);
}
END_TEST

START_TEST(refresh_takes_one_token)
{
    const char *token;
    json_t *error;
    json_t *data = parse("{\"token\": \"a.b.c\"}");
    ck_assert_int_eq(gw_hub_args_frame("refresh", data, &token, &error), GW_HUB_REFRESH);
    ck_assert_ptr_null(error);
    ck_assert_str_eq(token, "a.b.c");
    json_decref(data);

    json_t *empty = parse("{}");
    ck_assert_int_eq(gw_hub_args_frame("refresh", empty, &token, &error), GW_HUB_REFRESH);
    assert_incorrect_signature(error, "refresh() missing 1 required positional argument: 'token'");
    ck_assert_ptr_null(token);
    json_decref(empty);

    json_t *extra = parse("{\"token\": \"a\", \"sub\": \"x\"}");
    ck_assert_int_eq(gw_hub_args_frame("refresh", extra, &token, &error), GW_HUB_REFRESH);
    assert_incorrect_signature(error, "refresh() got an unexpected keyword argument 'sub'");
    json_decref(extra);

    json_t *number = parse("{\"token\": 5}");
    ck_assert_int_eq(gw_hub_args_frame("refresh", number, &token, &error), GW_HUB_REFRESH);
    ck_assert_str_eq(gw_wire_exc_type(error), "TypeError");
    ck_assert_str_eq(gw_wire_exc_path(error), "builtins.TypeError");
    ck_assert_str_eq(gw_wire_exc_value(error), "token must be a string");
    ck_assert_ptr_null(token);
    json_decref(error);
    json_decref(number);

    json_t *text = parse("\"a.b.c\"");
    ck_assert_int_eq(gw_hub_args_frame("refresh", text, &token, &error), GW_HUB_REFRESH);
    assert_incorrect_signature(
        error, "inspect.getcallargs() argument after ** must be a mapping, not str");
    json_decref(text);

    /* Not a method of enoki's nameko service: a socket refreshes its own token only. */
    json_t *bound, *args = parse("[]"), *kwargs = parse("{\"token\": \"a\"}");
    ck_assert_int_eq(gw_hub_args_service("refresh", args, kwargs, &bound, &error), GW_HUB_NONE);
    ck_assert_ptr_null(bound);
    ck_assert_str_eq(gw_wire_exc_type(error), "MethodNotFound");
    ck_assert_str_eq(gw_wire_exc_value(error), "refresh");
    json_decref(error);
    json_decref(args);
    json_decref(kwargs);
    ck_assert_str_eq(gw_hub_method_name(GW_HUB_REFRESH), "refresh");
    ck_assert_int_eq(gw_hub_method_of("refresh"), GW_HUB_REFRESH);
}
END_TEST

START_TEST(service_requests_bind_to_the_methods)
{
    json_t *bound, *error;
    json_t *args = parse("[\"sock-1\", \"ping\"]");
    json_t *kwargs = parse("{\"data\": 7}");
    ck_assert_int_eq(gw_hub_args_service("unicast", args, kwargs, &bound, &error), GW_HUB_UNICAST);
    ck_assert_ptr_null(error);
    json_t *want = parse("{\"socket_id\": \"sock-1\", \"event\": \"ping\", \"data\": 7}");
    ck_assert(json_equal(bound, want));
    json_decref(want);
    json_decref(bound);
    json_decref(kwargs);

    json_t *none = parse("{}");
    ck_assert_int_eq(gw_hub_args_service("subscribe", args, none, &bound, &error),
                     GW_HUB_SUBSCRIBE);
    ck_assert_str_eq(json_string_value(json_object_get(bound, "channel")), "ping");
    json_decref(bound);

    ck_assert_int_eq(gw_hub_args_service("get_subscriptions", args, none, &bound, &error),
                     GW_HUB_NONE);
    ck_assert_ptr_null(bound);
    assert_incorrect_signature(error,
                               "get_subscriptions() takes 2 positional arguments but 3 were given");

    ck_assert_int_eq(gw_hub_args_service("publish", args, none, &bound, &error), GW_HUB_NONE);
    ck_assert_ptr_null(bound);
    ck_assert_str_eq(gw_wire_exc_type(error), "MethodNotFound");
    ck_assert_str_eq(gw_wire_exc_path(error), "nameko.exceptions.MethodNotFound");
    ck_assert_str_eq(gw_wire_exc_value(error), "publish");
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(error, "exc_args"), 0)),
                     "publish");
    json_decref(error);
    json_decref(none);
    json_decref(args);

    ck_assert_str_eq(gw_hub_method_name(GW_HUB_BROADCAST), "broadcast");
    ck_assert_str_eq(gw_hub_method_name(GW_HUB_GET_SUBSCRIPTIONS), "get_subscriptions");
    ck_assert_str_eq(gw_hub_method_name(GW_HUB_NONE), "");
}
END_TEST

Suite *hub_args_suite(void)
{
    Suite *s = suite_create("hub_args");
    TCase *tc = tcase_create("bind");
    tcase_add_loop_test(tc, bind_fails_with_pythons_words, 0,
                        (int)(sizeof(bind_failures) / sizeof(bind_failures[0])));
    tcase_add_test(tc, bind_takes_positional_and_keyword_arguments);
    tcase_add_test(tc, refresh_takes_one_token);
    tcase_add_test(tc, check_kwargs_wants_exactly_the_names);
    suite_add_tcase(s, tc);
    tc = tcase_create("wording");
    tcase_add_test(tc, py_type_names_pythons_types);
    tcase_add_test(tc, not_a_mapping_names_the_type);
    suite_add_tcase(s, tc);
    tc = tcase_create("methods");
    tcase_add_test(tc, frames_name_the_hubs_own_methods);
    tcase_add_test(tc, service_requests_bind_to_the_methods);
    suite_add_tcase(s, tc);
    return s;
}
