#include "gateway/status_share.h"

#include "core/live_stats.h"
#include "tests/unit/suites.h"

#include <stdlib.h>

static const struct gw_live_shape shape = {10, 30, 60, 6};
static const uint64_t T0 = 600000ull * 1000000000ull;

/* A worker that is gone leaves its numbers in the totals; its gauges (calls in flight, sockets
 * open) go to zero when the supervisor reaps it, not when a replacement publishes. */
START_TEST(a_gone_workers_gauges_go_to_zero_its_numbers_stay)
{
    size_t stride = gw_status_share_slot_bytes();
    unsigned char *area = calloc(2, stride);
    struct gw_status_share *gone = gw_status_share_new(area, stride, 2, 0);
    struct gw_status_share *other = gw_status_share_new(area, stride, 2, 1);
    struct gw_live_stats *stores[GW_SHARE_STORES];
    for (int i = 0; i < GW_SHARE_STORES; i++)
        stores[i] = gw_live_stats_new(&shape, 10);
    int id = gw_live_stats_id(stores[0], "GET /a", "svc.a", T0);
    for (int i = 0; i < 7; i++)
        gw_live_stats_record(stores[0], id, T0 + 1000, 1000, false);
    const int64_t gauges[GW_SHARE_GAUGES] = {3, 2, 5, 12};
    gw_status_share_publish(gone, stores, gauges);

    struct gw_live_stats *seen[GW_SHARE_STORES];
    for (int i = 0; i < GW_SHARE_STORES; i++)
        seen[i] = gw_live_stats_new(&shape, 10);
    int64_t sum[GW_SHARE_GAUGES] = {0};
    gw_status_share_collect(other, 0, seen, sum);
    ck_assert_int_eq(sum[3], 12);

    gw_status_share_clear_gauges(area); /* slot 0's */
    for (int i = 0; i < GW_SHARE_STORES; i++) {
        gw_live_stats_free(seen[i]);
        seen[i] = gw_live_stats_new(&shape, 10);
    }
    int64_t after[GW_SHARE_GAUGES] = {0};
    gw_status_share_collect(other, 0, seen, after);
    for (int i = 0; i < GW_SHARE_GAUGES; i++)
        ck_assert_int_eq(after[i], 0);
    int got = gw_live_stats_find(seen[0], "GET /a");
    ck_assert_int_ge(got, 0);
    struct gw_live_summary s;
    gw_live_stats_summary(seen[0], got, T0 + 2000, &s);
    ck_assert_uint_eq(s.requests_total, 7);

    /* A slot never written stays unwritten: slot 0's view of the others finds nothing. */
    gw_status_share_clear_gauges(area + stride);
    struct gw_live_stats *none[GW_SHARE_STORES];
    for (int i = 0; i < GW_SHARE_STORES; i++)
        none[i] = gw_live_stats_new(&shape, 10);
    int64_t nothing[GW_SHARE_GAUGES] = {0};
    gw_status_share_collect(gone, 0, none, nothing);
    ck_assert_int_eq(gw_live_stats_find(none[0], "GET /a"), -1);
    for (int i = 0; i < GW_SHARE_STORES; i++) {
        ck_assert_int_eq(nothing[i], 0);
        gw_live_stats_free(none[i]);
    }
    for (int i = 0; i < GW_SHARE_STORES; i++) {
        gw_live_stats_free(stores[i]);
        gw_live_stats_free(seen[i]);
    }
    gw_status_share_free(gone);
    gw_status_share_free(other);
    free(area);
}
END_TEST

Suite *status_share_suite(void)
{
    Suite *s = suite_create("status_share");
    TCase *tc = tcase_create("gateway");
    tcase_add_test(tc, a_gone_workers_gauges_go_to_zero_its_numbers_stay);
    suite_add_tcase(s, tc);
    return s;
}
