/* Unit tests for routes/ws_admit: which upgrade may open a socket. */
#include "routes/ws_admit.h"

#include "tests/unit/suites.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct gw_config config_with(char **origins, size_t n)
{
    struct gw_config config = {0};
    config.websocket_max_sockets = 3;
    config.websocket_origins.items = origins;
    config.websocket_origins.n = n;
    return config;
}

START_TEST(limits_come_before_the_origin)
{
    struct gw_config config = config_with(NULL, 0);
    ck_assert_int_eq(gw_ws_admit(&config, false, 0, NULL, NULL), 0);
    ck_assert_int_eq(gw_ws_admit(&config, false, 2, NULL, NULL), 0);
    ck_assert_int_eq(gw_ws_admit(&config, false, 3, NULL, NULL), 503);
    ck_assert_int_eq(gw_ws_admit(&config, false, 4, "http://h", "h"), 503);
    ck_assert_int_eq(gw_ws_admit(&config, true, 0, NULL, NULL), 503);
    /* A refused Origin still gets 503 while stopping: the limit is checked first. */
    ck_assert_int_eq(gw_ws_admit(&config, true, 0, "http://evil", "h"), 503);
}
END_TEST

static const struct {
    const char *origin, *host;
    int status;
} same_host_cases[] = {
    {NULL, "example.com", 0}, /* not a browser */
    {"http://example.com", "example.com", 0},
    {"https://example.com", "example.com", 0},
    {"http://EXAMPLE.com", "example.COM", 0},
    {"http://example.com:8000", "example.com:8000", 0},
    {"http://example.com:8000", "example.com:8001", 403},
    {"http://example.com:8000", "example.com", 403},
    {"http://example.com:80", "example.com", 0},
    {"https://example.com:443", "example.com", 0},
    {"http://example.com", "example.com:80", 0},
    {"http://example.com/", "example.com", 0},
    {"http://other.example.com", "example.com", 403},
    {"http://example.com.evil", "example.com", 403},
    {"null", "example.com", 403},
    {"http://example.com", NULL, 403},
};

START_TEST(without_a_list_origin_must_be_the_host)
{
    struct gw_config config = config_with(NULL, 0);
    ck_assert_msg(gw_ws_admit(&config, false, 0, same_host_cases[_i].origin,
                              same_host_cases[_i].host) == same_host_cases[_i].status,
                  "origin %s host %s", same_host_cases[_i].origin, same_host_cases[_i].host);
}
END_TEST

START_TEST(a_list_names_exact_origins)
{
    static char a[] = "https://app.example.com", b[] = "http://localhost:3000";
    char *origins[] = {a, b};
    struct gw_config config = config_with(origins, 2);
    ck_assert_int_eq(gw_ws_admit(&config, false, 0, "https://app.example.com", "x"), 0);
    ck_assert_int_eq(gw_ws_admit(&config, false, 0, "HTTPS://App.Example.COM", "x"), 0);
    ck_assert_int_eq(gw_ws_admit(&config, false, 0, "http://localhost:3000", "x"), 0);
    /* Exact: another scheme or port, or the same host as the request, is not on the list. */
    ck_assert_int_eq(gw_ws_admit(&config, false, 0, "http://app.example.com", "x"), 403);
    ck_assert_int_eq(gw_ws_admit(&config, false, 0, "http://localhost:3001", "x"), 403);
    ck_assert_int_eq(gw_ws_admit(&config, false, 0, "http://x", "x"), 403);
    ck_assert_int_eq(gw_ws_admit(&config, false, 0, "https://app.example.com/", "x"), 403);
    ck_assert_int_eq(gw_ws_admit(&config, false, 0, NULL, "x"), 0);
}
END_TEST

START_TEST(a_star_allows_any_origin)
{
    static char star[] = "*", a[] = "https://app.example.com";
    char *origins[] = {a, star};
    struct gw_config config = config_with(origins, 2);
    ck_assert_int_eq(gw_ws_admit(&config, false, 0, "http://anything.test:1234", "x"), 0);
    ck_assert_int_eq(gw_ws_admit(&config, false, 0, "null", NULL), 0);
    ck_assert_int_eq(gw_ws_admit(&config, false, 3, "http://anything.test", "x"), 503);
}
END_TEST

START_TEST(origin_host_drops_scheme_slash_and_default_ports)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"http://example.com", "example.com"},
        {"https://example.com:443", "example.com"},
        {"http://example.com:80/", "example.com"},
        {"http://example.com:8080", "example.com:8080"},
        {"example.com:443", "example.com"},
        {"ws://h:4430", "h:4430"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[64];
        gw_ws_origin_host(cases[i].in, out, sizeof(out));
        ck_assert_str_eq(out, cases[i].out);
    }
    /* Truncated to the room given. */
    char small[5];
    gw_ws_origin_host("http://example.com", small, sizeof(small));
    ck_assert_str_eq(small, "exam");
}
END_TEST

START_TEST(subprotocol_offers_are_dropped_from_the_head)
{
    char head[] = "GET /ws HTTP/1.1\r\n"
                  "Host: h\r\n"
                  "Sec-WebSocket-Protocol: chat, superchat\r\n"
                  "Upgrade: websocket\r\n"
                  "sec-websocket-PROTOCOL: v2\r\n"
                  "Sec-WebSocket-Protocols: kept\r\n"
                  "\r\n";
    size_t len = gw_ws_drop_subprotocols(head, strlen(head));
    const char *want = "GET /ws HTTP/1.1\r\n"
                       "Host: h\r\n"
                       "Upgrade: websocket\r\n"
                       "Sec-WebSocket-Protocols: kept\r\n"
                       "\r\n";
    ck_assert_uint_eq(len, strlen(want));
    ck_assert(memcmp(head, want, len) == 0);

    /* A head without the header is left as it is; so is a last line without its newline. */
    char plain[] = "GET /ws HTTP/1.1\r\nHost: h";
    ck_assert_uint_eq(gw_ws_drop_subprotocols(plain, strlen(plain)), strlen(plain));
    char last[] = "GET / HTTP/1.1\r\nSec-WebSocket-Protocol: x";
    ck_assert_uint_eq(gw_ws_drop_subprotocols(last, strlen(last)), strlen("GET / HTTP/1.1\r\n"));
}
END_TEST

/* The head after gw_ws_settle_extensions, as a string. */
static char *settled(const char *head)
{
    size_t len = strlen(head);
    char *buf = calloc(1, len + GW_WS_SETTLE_SLACK + 1);
    memcpy(buf, head, len);
    buf[gw_ws_settle_extensions(buf, len, len + GW_WS_SETTLE_SLACK)] = '\0';
    return buf;
}

static void assert_settled(const char *extensions, const char *want)
{
    char head[512], expected[512];
    snprintf(head, sizeof(head), "GET /ws HTTP/1.1\r\nHost: h\r\n%s\r\nUpgrade: websocket\r\n\r\n",
             extensions);
    if (want)
        snprintf(expected, sizeof(expected),
                 "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
                 "Sec-WebSocket-Extensions: %s\r\n\r\n",
                 want);
    else
        snprintf(expected, sizeof(expected),
                 "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n");
    char *got = settled(head);
    ck_assert_str_eq(got, expected);
    free(got);
}

START_TEST(the_first_offer_a_server_may_take_is_kept_alone)
{
    assert_settled("Sec-WebSocket-Extensions: permessage-deflate", "permessage-deflate");
    assert_settled("sec-websocket-extensions:permessage-deflate;client_max_window_bits",
                   "permessage-deflate; client_max_window_bits");
    assert_settled("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=\"8\"; "
                   "server_no_context_takeover; client_no_context_takeover",
                   "permessage-deflate; client_max_window_bits=8; server_no_context_takeover; "
                   "client_no_context_takeover");
    /* Declined (RFC 7692 5): unknown, repeated, valued flags, windows out of 8-15; and
     * server_max_window_bits, which libwebsockets would not name in its answer (7.1.2.1). */
    assert_settled("Sec-WebSocket-Extensions: permessage-deflate; foo", NULL);
    assert_settled("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=7", NULL);
    assert_settled("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=16", NULL);
    assert_settled("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=", NULL);
    assert_settled("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover=1",
                   NULL);
    assert_settled("Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; "
                   "client_no_context_takeover",
                   NULL);
    assert_settled("Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10", NULL);
    assert_settled("Sec-WebSocket-Extensions: x-webkit-deflate-frame", NULL);
    /* The first takeable one, across offers and header lines. */
    assert_settled("Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10, "
                   "x-other\r\nSec-WebSocket-Extensions: PERMESSAGE-DEFLATE; "
                   "Server_No_Context_Takeover, permessage-deflate",
                   "permessage-deflate; server_no_context_takeover");
    /* No header: the head as it was. */
    char *got = settled("GET /ws HTTP/1.1\r\nHost: h\r\n\r\n");
    ck_assert_str_eq(got, "GET /ws HTTP/1.1\r\nHost: h\r\n\r\n");
    free(got);
}
END_TEST

static int window(const char *offer)
{
    struct gw_ws_deflate_terms terms;
    gw_ws_deflate_terms(offer, 13, &terms);
    return terms.window_bits;
}

static bool fresh(const char *offer)
{
    struct gw_ws_deflate_terms terms;
    gw_ws_deflate_terms(offer, 13, &terms);
    return terms.fresh_window;
}

START_TEST(deflate_window_follows_the_smallest_server_max_window_bits)
{
    ck_assert_int_eq(window(NULL), 13);
    ck_assert_int_eq(window(""), 13);
    ck_assert_int_eq(window("permessage-deflate; client_max_window_bits"), 13);
    ck_assert_int_eq(window("permessage-deflate; server_max_window_bits=10"), 10);
    ck_assert_int_eq(window("Permessage-Deflate;Server_Max_Window_Bits = \"11\""), 11);
    /* Above the cap: the cap. 8 is 9 (zlib's raw deflate has no 8). */
    ck_assert_int_eq(window("permessage-deflate; server_max_window_bits=15"), 13);
    ck_assert_int_eq(window("permessage-deflate; server_max_window_bits=8"), 9);
    /* The smallest of several offers; another extension's parameter is not ours. */
    ck_assert_int_eq(window("permessage-deflate; server_max_window_bits=12, "
                            "permessage-deflate; server_max_window_bits=10"),
                     10);
    ck_assert_int_eq(window("x-webkit-deflate-frame; server_max_window_bits=9"), 13);
    /* Malformed values are ignored. */
    ck_assert_int_eq(window("permessage-deflate; server_max_window_bits=16"), 13);
    ck_assert_int_eq(window("permessage-deflate; server_max_window_bits=7"), 13);
    ck_assert_int_eq(window("permessage-deflate; server_max_window_bits="), 13);
    ck_assert_int_eq(window("permessage-deflate; server_max_window_bits"), 13);
    ck_assert_int_eq(window("permessage-deflate; server_max_window_bitsx=9"), 13);
}
END_TEST

START_TEST(deflate_context_takeover_as_the_first_offer_asks)
{
    ck_assert(!fresh(NULL));
    ck_assert(!fresh("permessage-deflate"));
    ck_assert(!fresh("permessage-deflate; client_no_context_takeover"));
    ck_assert(fresh("permessage-deflate; server_no_context_takeover"));
    ck_assert(fresh("permessage-deflate;SERVER_NO_CONTEXT_TAKEOVER; client_max_window_bits"));
    /* libwebsockets takes the first permessage-deflate offer; another extension is not one. */
    ck_assert(!fresh("permessage-deflate, permessage-deflate; server_no_context_takeover"));
    ck_assert(fresh("x-other; a, permessage-deflate; server_no_context_takeover"));
    ck_assert(!fresh("x-other; server_no_context_takeover, permessage-deflate"));
    ck_assert(!fresh("permessage-deflate; server_no_context_takeoverx"));
}
END_TEST

Suite *ws_admit_suite(void)
{
    Suite *s = suite_create("ws_admit");
    TCase *tc = tcase_create("admit");
    tcase_add_test(tc, limits_come_before_the_origin);
    tcase_add_loop_test(tc, without_a_list_origin_must_be_the_host, 0,
                        (int)(sizeof(same_host_cases) / sizeof(same_host_cases[0])));
    tcase_add_test(tc, a_list_names_exact_origins);
    tcase_add_test(tc, a_star_allows_any_origin);
    tcase_add_test(tc, origin_host_drops_scheme_slash_and_default_ports);
    tcase_add_test(tc, subprotocol_offers_are_dropped_from_the_head);
    tcase_add_test(tc, the_first_offer_a_server_may_take_is_kept_alone);
    tcase_add_test(tc, deflate_window_follows_the_smallest_server_max_window_bits);
    tcase_add_test(tc, deflate_context_takeover_as_the_first_offer_asks);
    suite_add_tcase(s, tc);
    return s;
}
