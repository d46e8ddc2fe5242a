/* Unit tests for core/amqp_uri: AMQP URIs by kombu's rules. */
#include "core/amqp_uri.h"
#include "core/status.h"
#include "core/util.h"

#include "tests/unit/suites.h"

#include <stddef.h>

/* ---------------------------------------------------------------------------------------------
 * AMQP URIs, kombu's rules
 */

static const struct {
    const char *text;
    int rc;
    const char *host;
    int port;
    const char *user, *password, *vhost;
    const char *err; /* exact reason for failures */
} uri_cases[] = {
    {"amqp://guest:guest@localhost:5672/", GW_OK, "localhost", 5672, "guest", "guest", "/", NULL},
    {"amqp://localhost", GW_OK, "localhost", 5672, "guest", "guest", "/", NULL},
    {"amqp://h/", GW_OK, "h", 5672, "guest", "guest", "/", NULL},
    {"amqp://h//", GW_OK, "h", 5672, "guest", "guest", "/", NULL},
    {"amqp://h/%2F", GW_OK, "h", 5672, "guest", "guest", "/", NULL},
    {"amqp://h/%2f", GW_OK, "h", 5672, "guest", "guest", "/", NULL},
    {"amqp://h/vh", GW_OK, "h", 5672, "guest", "guest", "vh", NULL},
    {"amqp://h/a%2Fb", GW_OK, "h", 5672, "guest", "guest", "a/b", NULL},
    {"amqp://h/a/b", GW_OK, "h", 5672, "guest", "guest", "a/b", NULL},
    {"amqp://h/v%zz", GW_OK, "h", 5672, "guest", "guest", "v%zz", NULL},
    {"amqp://h/v%2", GW_OK, "h", 5672, "guest", "guest", "v%2", NULL},
    {"amqp://h/vh?heartbeat=10", GW_OK, "h", 5672, "guest", "guest", "vh", NULL},
    {"amqp://h?heartbeat=10", GW_OK, "h", 5672, "guest", "guest", "/", NULL},
    {"amqp://h/vh#frag", GW_OK, "h", 5672, "guest", "guest", "vh", NULL},
    {"amqp://u%40x:p%3Aw%2F@h", GW_OK, "h", 5672, "u@x", "p:w/", "/", NULL},
    {"amqp://user@h", GW_OK, "h", 5672, "user", "guest", "/", NULL},
    {"amqp://:pw@h", GW_OK, "h", 5672, "guest", "pw", "/", NULL},
    {"amqp://user:@h", GW_OK, "h", 5672, "user", "guest", "/", NULL},
    {"amqp://u:p:q@h", GW_OK, "h", 5672, "u", "p:q", "/", NULL},
    {"amqp://u:p@q@h", GW_OK, "h", 5672, "u", "p@q", "/", NULL},
    {"pyamqp://h:1234", GW_OK, "h", 1234, "guest", "guest", "/", NULL},
    {"pyamqp://guest:guest@localhost", GW_OK, "localhost", 5672, "guest", "guest", "/", NULL},
    {"AMQP://RabbitMQ.Local:1", GW_OK, "rabbitmq.local", 1, "guest", "guest", "/", NULL},
    {"amqp://h:65535", GW_OK, "h", 65535, "guest", "guest", "/", NULL},
    {"amqp://h:", GW_OK, "h", 5672, "guest", "guest", "/", NULL},
    {"amqp://", GW_OK, "localhost", 5672, "guest", "guest", "/", NULL},
    {"amqp:///vh", GW_OK, "localhost", 5672, "guest", "guest", "vh", NULL},
    {"amqp://u:p@:5673", GW_OK, "localhost", 5673, "u", "p", "/", NULL},
    {"amqp://[::1]:5673/x", GW_OK, "::1", 5673, "guest", "guest", "x", NULL},
    {"amqp://u:p@[fe80::1]", GW_OK, "fe80::1", 5672, "u", "p", "/", NULL},
    {"redis://localhost", GW_EURI, NULL, 0, NULL, NULL, NULL,
     "unsupported scheme 'redis' (expected amqp://, pyamqp:// or amqps://)"},
    /* kombu's SSL transport: port 5671 unless given. */
    {"amqps://h", GW_OK, "h", 5671, "guest", "guest", "/", NULL},
    {"AMQPS://u:p@h:5673/v", GW_OK, "h", 5673, "u", "p", "v", NULL},
    {"localhost", GW_EURI, NULL, 0, NULL, NULL, NULL,
     "expected amqp://[user[:password]@]host[:port][/vhost]"},
    {"://h", GW_EURI, NULL, 0, NULL, NULL, NULL,
     "expected amqp://[user[:password]@]host[:port][/vhost]"},
    {"", GW_EURI, NULL, 0, NULL, NULL, NULL,
     "expected amqp://[user[:password]@]host[:port][/vhost]"},
    {"amqp://h:0", GW_EURI, NULL, 0, NULL, NULL, NULL,
     "invalid port: not a number from 1 to 65535 (a '/', '?' or '#' in the password must be "
     "percent-encoded: %2F, %3F, %23)"},
    {"amqp://h:65536", GW_EURI, NULL, 0, NULL, NULL, NULL,
     "invalid port: not a number from 1 to 65535 (a '/', '?' or '#' in the password must be "
     "percent-encoded: %2F, %3F, %23)"},
    {"amqp://h:123456", GW_EURI, NULL, 0, NULL, NULL, NULL,
     "invalid port: not a number from 1 to 65535 (a '/', '?' or '#' in the password must be "
     "percent-encoded: %2F, %3F, %23)"},
    {"amqp://h:x", GW_EURI, NULL, 0, NULL, NULL, NULL,
     "invalid port: not a number from 1 to 65535 (a '/', '?' or '#' in the password must be "
     "percent-encoded: %2F, %3F, %23)"},
    {"amqp://h:-1", GW_EURI, NULL, 0, NULL, NULL, NULL,
     "invalid port: not a number from 1 to 65535 (a '/', '?' or '#' in the password must be "
     "percent-encoded: %2F, %3F, %23)"},
    {"amqp://h:1:2", GW_EURI, NULL, 0, NULL, NULL, NULL,
     "invalid port: not a number from 1 to 65535 (a '/', '?' or '#' in the password must be "
     "percent-encoded: %2F, %3F, %23)"},
    {"amqp://[::1", GW_EURI, NULL, 0, NULL, NULL, NULL, "invalid IPv6 host: missing ']'"},
    {"amqp://[::1]x", GW_EURI, NULL, 0, NULL, NULL, NULL, "unexpected text after the IPv6 host"},
    {"amqp://h]", GW_EURI, NULL, 0, NULL, NULL, NULL,
     "invalid IPv6 host: brackets must enclose the whole host"},
    {"amqp://h/%00", GW_EURI, NULL, 0, NULL, NULL, NULL, "the vhost contains %00"},
    {"amqp://u%00:p@h", GW_EURI, NULL, 0, NULL, NULL, NULL, "the user name contains %00"},
};

START_TEST(amqp_uri)
{
    struct gw_amqp_uri uri;
    char err[160] = "";
    int rc = gw_amqp_uri_parse(uri_cases[_i].text, &uri, err, sizeof(err));
    ck_assert_msg(rc == uri_cases[_i].rc, "case %d (%s): rc %d: %s", _i, uri_cases[_i].text, rc,
                  err);
    if (rc != GW_OK) {
        ck_assert_str_eq(err, uri_cases[_i].err);
        ck_assert_ptr_null(uri.host);
        return;
    }
    ck_assert_str_eq(uri.host, uri_cases[_i].host);
    ck_assert_int_eq(uri.port, uri_cases[_i].port);
    ck_assert_str_eq(uri.user, uri_cases[_i].user);
    ck_assert_str_eq(uri.password, uri_cases[_i].password);
    ck_assert_str_eq(uri.vhost, uri_cases[_i].vhost);
    gw_amqp_uri_clear(&uri);
    ck_assert_ptr_null(uri.host);
}
END_TEST

/* Without an err buffer, a failure still zeroes the result; clearing twice is harmless. */
START_TEST(amqp_uri_without_err)
{
    struct gw_amqp_uri uri;
    ck_assert_int_eq(gw_amqp_uri_parse("redis://h", &uri, NULL, 0), GW_EURI);
    ck_assert_ptr_null(uri.host);
    ck_assert_ptr_null(uri.vhost);
    ck_assert_int_eq(gw_amqp_uri_parse("amqp://h", &uri, NULL, 0), GW_OK);
    ck_assert_int_eq(uri.port, GW_AMQP_DEFAULT_PORT);
    ck_assert_str_eq(uri.user, GW_AMQP_DEFAULT_USER);
    gw_amqp_uri_clear(&uri);
    gw_amqp_uri_clear(&uri);
    gw_amqp_uri_clear(NULL);
}
END_TEST

/* ?heartbeat=N, which kombu lets win over the connection's own setting; the rest is ignored. */
START_TEST(heartbeat_from_the_query)
{
    static const struct {
        const char *text;
        int heartbeat; /* -1: not given; -2: refused */
    } cases[] = {
        {"amqp://h/vh", -1},
        {"amqp://h/vh?heartbeat=10", 10},
        {"amqp://h?heartbeat=0", 0},
        {"amqp://h/?x=1&heartbeat=7;y=2", 7},
        {"amqp://h/?heartbeat=7#heartbeat=9", 7},
        {"amqp://h/?heartbeats=7", -1},
        {"amqp://h/?heartbeat=65535", 65535},
        {"amqp://h/?heartbeat=65536", -2},
        {"amqp://h/?heartbeat=1.5", -2},
        {"amqp://h/?heartbeat=", -1}, /* a blank value is dropped, as parse_qsl does */
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct gw_amqp_uri uri;
        char err[160] = "";
        int rc = gw_amqp_uri_parse(cases[i].text, &uri, err, sizeof(err));
        if (cases[i].heartbeat == -2) {
            ck_assert_msg(rc == GW_EURI, "%s", cases[i].text);
            ck_assert_str_eq(err, "invalid heartbeat in the query (expected 0 to 65535 s)");
            continue;
        }
        ck_assert_msg(rc == GW_OK, "%s: %s", cases[i].text, err);
        ck_assert_msg(uri.heartbeat == cases[i].heartbeat, "%s: %d", cases[i].text, uri.heartbeat);
        ck_assert_int_eq(gw_amqp_uri_heartbeat(&uri, 60),
                         cases[i].heartbeat < 0 ? 60 : cases[i].heartbeat);
        gw_amqp_uri_clear(&uri);
    }
}
END_TEST

/* AMQP_URI as kombu's failover list: ';' between URIs, each parsed alone, tls per scheme. */
START_TEST(uri_list)
{
    struct gw_amqp_uri *nodes;
    size_t n;
    char err[256] = "";
    ck_assert_int_eq(gw_amqp_uri_list_parse("amqp://a", &nodes, &n, err, sizeof(err)), GW_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(nodes[0].host, "a");
    ck_assert(!nodes[0].tls && !nodes[0].port_given);
    gw_amqp_uri_list_free(nodes, n);

    ck_assert_int_eq(
        gw_amqp_uri_list_parse("amqps://u:p@rmq-0:5671/; amqp://rmq-1:5673/v ;amqps://rmq-2",
                               &nodes, &n, err, sizeof(err)),
        GW_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(nodes[0].host, "rmq-0");
    ck_assert(nodes[0].tls && nodes[0].port_given && nodes[0].port == 5671);
    ck_assert_str_eq(nodes[1].host, "rmq-1");
    ck_assert(!nodes[1].tls && nodes[1].port == 5673);
    ck_assert_str_eq(nodes[1].vhost, "v");
    ck_assert(nodes[2].tls && !nodes[2].port_given && nodes[2].port == 5671);
    gw_amqp_uri_list_free(nodes, n);

    ck_assert_int_eq(gw_amqp_uri_list_parse("amqp://a;", &nodes, &n, err, sizeof(err)), GW_EURI);
    ck_assert_str_eq(err, "URI 2 of the list is empty");
    ck_assert_ptr_null(nodes);
    ck_assert_int_eq(gw_amqp_uri_list_parse("amqp://a; ;amqp://b", &nodes, &n, err, sizeof(err)),
                     GW_EURI);
    ck_assert_str_eq(err, "URI 2 of the list is empty");
    ck_assert_int_eq(
        gw_amqp_uri_list_parse("amqp://a;redis://secret@b", &nodes, &n, err, sizeof(err)), GW_EURI);
    ck_assert_str_eq(err, "URI 2 of the list: unsupported scheme 'redis' (expected amqp://, "
                          "pyamqp:// or amqps://)");
    ck_assert_ptr_null(strstr(err, "secret"));
    char many[2048] = "";
    for (int i = 0; i <= GW_AMQP_MAX_NODES; i++)
        strcat(many, i ? ";amqp://h" : "amqp://h");
    ck_assert_int_eq(gw_amqp_uri_list_parse(many, &nodes, &n, err, sizeof(err)), GW_EURI);
    ck_assert_str_eq(err, "more than 16 URIs");
}
END_TEST

Suite *amqp_uri_suite(void)
{
    Suite *s = suite_create("amqp_uri");
    TCase *tc = tcase_create("amqp_uri");
    tcase_add_test(tc, uri_list);
    tcase_add_loop_test(tc, amqp_uri, 0, (int)ARRAY_LEN(uri_cases));
    tcase_add_test(tc, amqp_uri_without_err);
    tcase_add_test(tc, heartbeat_from_the_query);
    suite_add_tcase(s, tc);
    return s;
}
