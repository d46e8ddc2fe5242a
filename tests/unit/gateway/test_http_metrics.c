#include "tests/unit/suites.h"

#include "core/metrics.h"
#include "core/strbuf.h"
#include "gateway/http_metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The count on the line of (route, status), or -1 when /metrics has no such line. */
static long count_of(const char *text, const char *route, int status)
{
    char label[512];
    snprintf(label, sizeof(label), "enoki_http_requests_total{route=\"%s\",status=\"%d\"} ", route,
             status);
    const char *line = strstr(text, label);
    return line ? strtol(line + strlen(label), NULL, 10) : -1;
}

START_TEST(request_counters_stay_apart_across_growth)
{
    /* Enough routes and statuses to grow the table several times. */
    struct gw_metrics *rpc = gw_metrics_new();
    struct gw_http_metrics *m = gw_http_metrics_new(rpc);
    char route[32];
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 500; i++) {
            snprintf(route, sizeof(route), "/r/%d", i);
            gw_metrics_request(m, route, 200 + i % 3);
            if (i % 7 == 0)
                gw_metrics_request(m, route, 404);
        }
    size_t len;
    char *text = gw_http_metrics_render(m, &len);
    for (int i = 0; i < 500; i++) {
        snprintf(route, sizeof(route), "/r/%d", i);
        ck_assert_int_eq(count_of(text, route, 200 + i % 3), 3);
        ck_assert_int_eq(count_of(text, route, 404), i % 7 == 0 ? 3 : -1);
        ck_assert_int_eq(count_of(text, route, 200 + (i + 1) % 3), -1);
    }
    /* First seen, first listed. */
    ck_assert_ptr_nonnull(strstr(text, "route=\"/r/0\",status=\"200\""));
    ck_assert(strstr(text, "route=\"/r/0\",status=\"200\"") < strstr(text, "route=\"/r/1\","));
    free(text);
    gw_http_metrics_free(m);
    gw_metrics_free(rpc);
}
END_TEST

/* The value on the line that starts with prefix, or -1 when there is no such line. */
static long value_of(const char *text, const char *prefix)
{
    size_t n = strlen(prefix);
    for (const char *line = text; *line; line = strchr(line, '\n') + 1) {
        if (strncmp(line, prefix, n) == 0 && line[n] == ' ')
            return strtol(line + n + 1, NULL, 10);
        if (!strchr(line, '\n'))
            break;
    }
    return -1;
}

static const char *const kill_labels[GW_KILL_REASONS] = {
    [GW_KILL_STALLED] = "stalled",
    [GW_KILL_REQUEST_TIMEOUT] = "request_timeout",
    [GW_KILL_WRITE_TIMEOUT] = "write_timeout",
    [GW_KILL_HEADER_TIMEOUT] = "header_timeout",
    [GW_KILL_WEBSOCKET_TIMEOUT] = "websocket_timeout",
    [GW_KILL_ABANDONED] = "abandoned",
};

static long killed(const char *text, enum gw_kill_reason reason)
{
    char prefix[96];
    snprintf(prefix, sizeof(prefix), "enoki_connections_killed_total{reason=\"%s\"}",
             kill_labels[reason]);
    return value_of(text, prefix);
}

START_TEST(killed_connections_by_reason)
{
    struct gw_http_metrics *m = gw_http_metrics_new(NULL);
    size_t len;
    char *text = gw_http_metrics_render(m, &len);
    ck_assert_uint_eq(len, strlen(text));
    /* Every reason is listed, from 0. */
    ck_assert_ptr_nonnull(strstr(text, "# TYPE enoki_connections_killed_total counter\n"));
    for (int r = 0; r < GW_KILL_REASONS; r++)
        ck_assert_int_eq(killed(text, (enum gw_kill_reason)r), 0);
    free(text);

    gw_metrics_connection_killed(m, GW_KILL_HEADER_TIMEOUT);
    gw_metrics_connection_killed(m, GW_KILL_HEADER_TIMEOUT);
    gw_metrics_connection_killed(m, GW_KILL_STALLED);
    gw_metrics_connection_killed(m, GW_KILL_ABANDONED);
    gw_metrics_connection_killed(m, GW_KILL_WEBSOCKET_TIMEOUT);
    for (int i = 0; i < 5; i++)
        gw_metrics_connection_killed(m, GW_KILL_WRITE_TIMEOUT);
    gw_metrics_connection_killed(m, GW_KILL_REASONS); /* no such reason: ignored */
    gw_metrics_connection_killed(NULL, GW_KILL_STALLED);
    text = gw_http_metrics_render(m, NULL);
    ck_assert_int_eq(killed(text, GW_KILL_HEADER_TIMEOUT), 2);
    ck_assert_int_eq(killed(text, GW_KILL_STALLED), 1);
    ck_assert_int_eq(killed(text, GW_KILL_ABANDONED), 1);
    ck_assert_int_eq(killed(text, GW_KILL_WEBSOCKET_TIMEOUT), 1);
    ck_assert_int_eq(killed(text, GW_KILL_WRITE_TIMEOUT), 5);
    ck_assert_int_eq(killed(text, GW_KILL_REQUEST_TIMEOUT), 0);
    free(text);
    gw_http_metrics_free(m);
    gw_http_metrics_free(NULL);
}
END_TEST

START_TEST(websocket_gauge)
{
    struct gw_http_metrics *m = gw_http_metrics_new(NULL);
    char *text = gw_http_metrics_render(m, NULL);
    ck_assert_ptr_nonnull(strstr(text, "# HELP enoki_websocket_connections Open websockets.\n"
                                       "# TYPE enoki_websocket_connections gauge\n"
                                       "enoki_websocket_connections 0\n"));
    free(text);
    gw_metrics_add_websockets(m, 3);
    gw_metrics_add_websockets(m, 2);
    gw_metrics_add_websockets(m, -4);
    gw_metrics_add_websockets(NULL, 7);
    text = gw_http_metrics_render(m, NULL);
    ck_assert_int_eq(value_of(text, "enoki_websocket_connections"), 1);
    free(text);
    gw_http_metrics_free(m);
}
END_TEST

START_TEST(rate_limited_by_route)
{
    struct gw_http_metrics *m = gw_http_metrics_new(NULL);
    char *text = gw_http_metrics_render(m, NULL);
    ck_assert_ptr_nonnull(strstr(text, "# TYPE enoki_rate_limited_total counter\n"));
    ck_assert_ptr_null(strstr(text, "enoki_rate_limited_total{"));
    free(text);
    gw_metrics_rate_limited(m, "/a");
    gw_metrics_rate_limited(m, "websocket");
    gw_metrics_rate_limited(m, "/a");
    gw_metrics_rate_limited(NULL, "/a");
    text = gw_http_metrics_render(m, NULL);
    ck_assert_int_eq(value_of(text, "enoki_rate_limited_total{route=\"/a\"}"), 2);
    ck_assert_int_eq(value_of(text, "enoki_rate_limited_total{route=\"websocket\"}"), 1);
    free(text);
    gw_http_metrics_free(m);
}
END_TEST

START_TEST(rpc_part_when_given)
{
    /* Without the RPC side's metrics: the HTTP side's only. */
    struct gw_http_metrics *m = gw_http_metrics_new(NULL);
    gw_metrics_request(m, "/r", 200);
    char *text = gw_http_metrics_render(m, NULL);
    ck_assert_ptr_null(strstr(text, "enoki_rpc_"));
    ck_assert_ptr_null(strstr(text, "enoki_broker_"));
    ck_assert_int_eq(count_of(text, "/r", 200), 1);
    free(text);
    gw_http_metrics_free(m);

    /* With them: after the requests, before the websockets, as the RPC side renders them. */
    struct gw_metrics *rpc = gw_metrics_new();
    gw_metrics_reconnect(rpc);
    gw_metrics_set_in_flight(rpc, 4);
    m = gw_http_metrics_new(rpc);
    gw_metrics_request(m, "/r", 200);
    text = gw_http_metrics_render(m, NULL);
    struct gw_strbuf own = {0};
    gw_metrics_render(rpc, &own);
    const char *part = strstr(text, own.data);
    ck_assert_ptr_nonnull(part);
    ck_assert(strstr(text, "enoki_http_requests_total{") < part);
    ck_assert(part + own.len <= strstr(text, "# HELP enoki_websocket_connections"));
    ck_assert_int_eq(value_of(text, "enoki_rpc_in_flight"), 4);
    ck_assert_int_eq(value_of(text, "enoki_broker_reconnects_total"), 1);
    free(own.data);
    free(text);
    gw_http_metrics_free(m);
    gw_metrics_free(rpc);
}
END_TEST

START_TEST(route_labels_escaped)
{
    struct gw_http_metrics *m = gw_http_metrics_new(NULL);
    gw_metrics_request(m, "/a\"b\\c\nd", 404);
    gw_metrics_request(m, "", 400);
    char *text = gw_http_metrics_render(m, NULL);
    ck_assert_ptr_nonnull(
        strstr(text, "enoki_http_requests_total{route=\"/a\\\"b\\\\c\\nd\",status=\"404\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(text, "enoki_http_requests_total{route=\"\",status=\"400\"} 1\n"));
    free(text);
    gw_http_metrics_free(m);

    /* A label too long is cut at a character's start (Prometheus refuses a value not UTF-8): "/x"
     * and 103 e-acute (2 bytes each) is cut after 86 of them (174 bytes, not 175). */
    m = gw_http_metrics_new(NULL);
    char label[2 + 103 * 2 + 1] = "/x";
    for (int i = 0; i < 103; i++)
        memcpy(label + 2 + 2 * i, "\xc3\xa9", 2);
    label[sizeof(label) - 1] = '\0';
    gw_metrics_request(m, label, 200);
    text = gw_http_metrics_render(m, NULL);
    char want[300];
    snprintf(want, sizeof(want), "{route=\"%.*s\",status=\"200\"} 1\n", 2 + 86 * 2, label);
    ck_assert_ptr_nonnull(strstr(text, want));
    free(text);
    gw_http_metrics_free(m);
}
END_TEST

/* Three workers' slots in one area, as GATEWAY.workers shares them: each counts in its own, any of
 * them renders the totals; a replacement goes on from its predecessor's counters with its gauges at
 * zero. */
START_TEST(workers_render_totals)
{
    size_t rpc_stride = gw_metrics_slot_bytes(), http_stride = gw_http_metrics_slot_bytes();
    unsigned char *rpc_area = calloc(3, rpc_stride), *http_area = calloc(3, http_stride);
    struct gw_metrics *rpc[3];
    struct gw_http_metrics *m[3];
    for (int i = 0; i < 3; i++) {
        rpc[i] = gw_metrics_new_shared(rpc_area, rpc_stride, 3, i);
        m[i] = gw_http_metrics_new_shared(rpc[i], http_area, http_stride, 3, i);
        const char *nodes[] = {"a:5672", "b:5672"};
        gw_metrics_set_nodes(rpc[i], nodes, 2);
    }
    for (int i = 0; i < 3; i++) {
        for (int k = 0; k <= i; k++) {
            gw_metrics_request(m[i], "/shared", 200);
            gw_metrics_rpc(rpc[i], 0.002, 0);
        }
        gw_metrics_request(m[i], i == 2 ? "/third" : "/shared", 404);
        gw_metrics_rate_limited(m[i], "/shared");
        gw_metrics_connection_killed(m[i], GW_KILL_STALLED);
        gw_metrics_add_websockets(m[i], 2);
        gw_metrics_set_in_flight(rpc[i], 5);
        gw_metrics_set_connected_node(rpc[i], i == 0 ? 0 : 1);
    }
    for (int i = 0; i < 3; i++) {
        char *text = gw_http_metrics_render(m[i], NULL);
        ck_assert_int_eq(count_of(text, "/shared", 200), 6);
        ck_assert_int_eq(count_of(text, "/shared", 404), 2);
        ck_assert_int_eq(count_of(text, "/third", 404), 1);
        ck_assert_int_eq(value_of(text, "enoki_rate_limited_total{route=\"/shared\"}"), 3);
        ck_assert_int_eq(killed(text, GW_KILL_STALLED), 3);
        ck_assert_int_eq(value_of(text, "enoki_websocket_connections"), 6);
        ck_assert_int_eq(value_of(text, "enoki_rpc_in_flight"), 15);
        ck_assert_int_eq(value_of(text, "enoki_rpc_duration_seconds_count"), 6);
        ck_assert_int_eq(value_of(text, "enoki_rpc_duration_seconds_bucket{le=\"0.0025\"}"), 6);
        ck_assert_int_eq(value_of(text, "enoki_broker_connected{node=\"a:5672\"}"), 1);
        ck_assert_int_eq(value_of(text, "enoki_broker_connected{node=\"b:5672\"}"), 2);
        free(text);
    }
    /* Worker 2 dies (its gauges cleared, as the supervisor does) and is replaced. */
    gw_http_metrics_free(m[1]);
    gw_metrics_free(rpc[1]);
    gw_metrics_clear_gauges(rpc_area + rpc_stride);
    gw_http_metrics_clear_gauges(http_area + http_stride);
    char *text = gw_http_metrics_render(m[0], NULL);
    ck_assert_int_eq(count_of(text, "/shared", 200), 6); /* counters never go back */
    ck_assert_int_eq(value_of(text, "enoki_websocket_connections"), 4);
    ck_assert_int_eq(value_of(text, "enoki_rpc_in_flight"), 10);
    ck_assert_int_eq(value_of(text, "enoki_broker_connected{node=\"b:5672\"}"), 1);
    free(text);
    rpc[1] = gw_metrics_new_shared(rpc_area, rpc_stride, 3, 1);
    m[1] = gw_http_metrics_new_shared(rpc[1], http_area, http_stride, 3, 1);
    gw_metrics_request(m[1], "/shared", 200);
    gw_metrics_request(m[1], "/new", 201);
    text = gw_http_metrics_render(m[2], NULL);
    ck_assert_int_eq(count_of(text, "/shared", 200), 7);
    ck_assert_int_eq(count_of(text, "/new", 201), 1);
    /* One line per (route, status): the replacement counts in its predecessor's entry. */
    const char *first = strstr(text, "route=\"/shared\",status=\"200\"");
    ck_assert_ptr_null(strstr(first + 1, "route=\"/shared\",status=\"200\""));
    free(text);
    for (int i = 0; i < 3; i++) {
        gw_http_metrics_free(m[i]);
        gw_metrics_free(rpc[i]);
    }
    free(rpc_area);
    free(http_area);
}
END_TEST

/* A slot's bounds: a long label is cut, and pairs past the last entry count under (other). */
START_TEST(slot_bounds)
{
    struct gw_http_metrics *m = gw_http_metrics_new(NULL);
    char long_route[400];
    memset(long_route, 'x', sizeof(long_route) - 1);
    long_route[0] = '/';
    long_route[sizeof(long_route) - 1] = '\0';
    gw_metrics_request(m, long_route, 200);
    gw_metrics_request(m, long_route, 200);
    char route[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(route, sizeof(route), "/n/%d", i);
        gw_metrics_request(m, route, 200);
    }
    char *text = gw_http_metrics_render(m, NULL);
    long_route[175] = '\0';
    ck_assert_int_eq(count_of(text, long_route, 200), 2);
    ck_assert_int_eq(count_of(text, "/n/0", 200), 1);
    ck_assert_int_eq(count_of(text, "/n/4093", 200), 1); /* 4094 entries, then (other) */
    ck_assert_int_eq(count_of(text, "/n/4094", 200), -1);
    ck_assert_int_eq(count_of(text, "(other)", 0), 5000 - 4094);
    free(text);
    gw_http_metrics_free(m);
}
END_TEST

Suite *http_metrics_suite(void)
{
    Suite *s = suite_create("http_metrics");
    TCase *tc = tcase_create("requests");
    tcase_add_test(tc, request_counters_stay_apart_across_growth);
    tcase_add_test(tc, route_labels_escaped);
    tcase_add_test(tc, rpc_part_when_given);
    tcase_add_test(tc, rate_limited_by_route);
    tcase_add_test(tc, workers_render_totals);
    tcase_add_test(tc, slot_bounds);
    suite_add_tcase(s, tc);
    TCase *connections = tcase_create("connections");
    tcase_add_test(connections, killed_connections_by_reason);
    tcase_add_test(connections, websocket_gauge);
    suite_add_tcase(s, connections);
    return s;
}
