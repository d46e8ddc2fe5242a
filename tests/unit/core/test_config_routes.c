/* Unit tests for core/config_routes: the names of the modes, and a route's defaults. The route
 * keys' values and messages are tested through the loader in test_config.c. */
#include "core/config.h"
#include "core/config_routes.h"
#include "core/status.h"

#include "tests/unit/suites.h"

#include <string.h>

START_TEST(mode_names)
{
    ck_assert_str_eq(gw_route_mode_name(GW_MODE_JSON), "json");
    ck_assert_str_eq(gw_route_mode_name(GW_MODE_HTTP), "http");
    ck_assert_str_eq(gw_route_mode_name((enum gw_route_mode)7), "?");
}
END_TEST

START_TEST(route_defaults)
{
    static const char yaml[] = "GATEWAY: {rpc_timeout: 2}\nroutes: [{rule: /a, rpc: s.m}]\n";
    struct gw_config *c = NULL;
    char err[256] = "";
    int rc = gw_config_load_string("r.yaml", yaml, strlen(yaml), NULL, 0, &c, err, sizeof(err));
    ck_assert_msg(rc == GW_OK, "%s", err);
    ck_assert_uint_eq(c->n_routes, 1);
    ck_assert_str_eq(c->routes[0].methods, "GET");
    ck_assert_int_eq(c->routes[0].mode, GW_MODE_JSON);
    ck_assert(c->routes[0].timeout == 2);
    ck_assert_uint_eq(c->routes[0].expected_exceptions.n, 0);
    gw_config_routes_clear(c);
    ck_assert_ptr_null(c->routes);
    ck_assert_uint_eq(c->n_routes, 0);
    gw_config_free(c);
}
END_TEST

Suite *config_routes_suite(void)
{
    Suite *s = suite_create("config_routes");
    TCase *tc = tcase_create("routes");
    tcase_add_test(tc, mode_names);
    tcase_add_test(tc, route_defaults);
    suite_add_tcase(s, tc);
    return s;
}
