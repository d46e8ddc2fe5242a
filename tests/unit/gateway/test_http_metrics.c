#include "tests/unit/suites.h"

#include "core/metrics.h"
#include "gateway/http_metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The count on the line of (route, status), or -1 when /metrics has no such line. */
static long count_of(const char *text, const char *route, int status)
{
    char label[128];
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

Suite *http_metrics_suite(void)
{
    Suite *s = suite_create("http_metrics");
    TCase *tc = tcase_create("requests");
    tcase_add_test(tc, request_counters_stay_apart_across_growth);
    suite_add_tcase(s, tc);
    return s;
}
