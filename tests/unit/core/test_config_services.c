#include "core/config.h"
#include "core/status.h"

#include "tests/unit/core/config_load.h"
#include "tests/unit/suites.h"

START_TEST(services_and_their_protocols)
{
    struct gw_config *c = test_config_ok("GATEWAY:\n"
                                         "  services:\n"
                                         "    simplemath: {protocol: amphora}\n"
                                         "    alerts: {protocol: amphora, fanout: true}\n"
                                         "    orders: {protocol: nameko}\n"
                                         "routes:\n"
                                         "  - {rule: /a, rpc: simplemath.send_message.email.text}\n"
                                         "  - {rule: /u/<int:id>, rpc: simplemath.f, routing_key: "
                                         "'{id}'}\n"
                                         "  - {rule: /all, rpc: alerts.f, collect: all}\n"
                                         "  - {rule: /two, rpc: alerts.f, collect: 2}\n"
                                         "  - {rule: /n, rpc: other.f}\n");
    ck_assert_uint_eq(c->services.n, 3);
    const struct gw_service_conf *s = gw_service_find(&c->services, "alerts");
    ck_assert(s && s->protocol == GW_PROTO_AMPHORA && s->fanout);
    s = gw_service_find(&c->services, "orders");
    ck_assert(s && s->protocol == GW_PROTO_NAMEKO && !s->fanout);
    ck_assert_ptr_null(gw_service_find(&c->services, "other"));
    ck_assert_str_eq(c->routes[0].method, "send_message.email.text");
    ck_assert_int_eq(c->routes[0].protocol, GW_PROTO_AMPHORA);
    ck_assert_str_eq(c->routes[1].routing_key, "{id}");
    ck_assert_int_eq(c->routes[2].collect, GW_COLLECT_ALL);
    ck_assert_int_eq(c->routes[3].collect, 2);
    ck_assert_int_eq(c->routes[4].protocol, GW_PROTO_NAMEKO);
    ck_assert_str_eq(gw_protocol_name(GW_PROTO_AMPHORA), "amphora");
    gw_config_free(c);
}
END_TEST

START_TEST(refusals)
{
    test_config_refused("GATEWAY:\n  services: [a]\n",
                        "a.yaml:2: GATEWAY.services: expected a mapping of service names to "
                        "{protocol, fanout}, got a list");
    test_config_refused("GATEWAY:\n  services:\n    s: {protocol: grpc}\n",
                        "a.yaml:3: GATEWAY.services.s.protocol: expected one of nameko, amphora, "
                        "got 'grpc'");
    test_config_refused("GATEWAY:\n  services:\n    s: {fanout: true}\n",
                        "a.yaml:3: GATEWAY.services.s.protocol: required key is missing");
    test_config_refused("GATEWAY:\n  services:\n    s: {protocol: nameko, fanout: true}\n",
                        "a.yaml:3: GATEWAY.services.s.fanout: fanout is amphora's (its Fanout "
                        "classes); nameko has no fanout RPC");
    test_config_refused("GATEWAY:\n  services:\n    \"a.b\": {protocol: amphora}\n",
                        "a.yaml:3: GATEWAY.services.a.b: expected a service name of letters, "
                        "digits, '_' and '-', got 'a.b'");
    test_config_refused("routes:\n  - {rule: /a, rpc: s.f, routing_key: k}\n",
                        "a.yaml:2: routes[0].routing_key: only an amphora service's calls take "
                        "a routing key; s speaks nameko (GATEWAY.services)");
    test_config_refused("GATEWAY:\n  services: {s: {protocol: amphora}}\n"
                        "routes:\n  - {rule: /a, rpc: s.f, collect: all}\n",
                        "a.yaml:4: routes[0].collect: only a fanout amphora service answers more "
                        "than once; s is not one (GATEWAY.services.s.fanout)");
    test_config_refused("routes:\n  - {rule: /a, rpc: s.f, collect: 0}\n",
                        "a.yaml:2: routes[0].collect: expected 'all' or a number of replies from "
                        "1 to 100000, got '0'");
    test_config_refused("routes:\n  - {rule: /a, rpc: s.f, routing_key: '{x'}\n",
                        "a.yaml:2: routes[0].routing_key: unclosed field '{x' (write '{{' for a "
                        "brace)");
}
END_TEST

Suite *config_services_suite(void)
{
    Suite *s = suite_create("config_services");
    TCase *tc = tcase_create("services");
    tcase_add_test(tc, services_and_their_protocols);
    tcase_add_test(tc, refusals);
    suite_add_tcase(s, tc);
    return s;
}
