/* Unit tests for core/live_stats: slots that rotate with an injected clock, the rate and the
 * percentiles, bounded memory, and series kept by key across a reload (docs/status.md).
 */
#include "core/live_stats.h"

#include "tests/unit/suites.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define S 1000000000ull
#define MS 1000000ull

static const struct gw_live_shape route_shape = {10, 30, 60, 6};

/* A clock well past zero, at the start of a 60 s slice. */
static const uint64_t T0 = 600000 * S;

START_TEST(buckets_are_monotonic_and_bounded)
{
    ck_assert_uint_eq(gw_live_bucket(0), 0);
    ck_assert_uint_eq(gw_live_bucket(63999), 0);
    ck_assert_uint_eq(gw_live_bucket(64000), 1);
    ck_assert_uint_eq(gw_live_bucket(96000), 2);
    ck_assert_uint_eq(gw_live_bucket(128000), 3);
    ck_assert_uint_eq(gw_live_bucket(3600 * S), GW_LIVE_BUCKETS - 1);
    unsigned last = 0;
    for (uint64_t ns = 1000; ns < 200 * S; ns = ns * 11 / 10 + 1) {
        unsigned b = gw_live_bucket(ns);
        ck_assert_uint_ge(b, last);
        ck_assert_uint_lt(b, GW_LIVE_BUCKETS);
        double lo, hi;
        gw_live_bucket_bounds(b, &lo, &hi);
        double us = (double)(ns / 1000);
        ck_assert_msg(us >= lo && us < hi, "%f not in [%f, %f) (bucket %u)", us, lo, hi, b);
        last = b;
    }
}
END_TEST

START_TEST(counts_and_percentiles)
{
    struct gw_live_stats *s = gw_live_stats_new(&route_shape, 100);
    int id = gw_live_stats_id(s, "GET /a", "svc.a", T0);
    ck_assert_int_ge(id, 0);
    /* 100 requests: 98 at 10 ms, 2 at 500 ms (errors). */
    for (int i = 0; i < 100; i++)
        gw_live_stats_record(s, id, T0 + 5 * S, i < 98 ? 10 * MS : 500 * MS, i >= 98);
    struct gw_live_summary sum;
    gw_live_stats_summary(s, id, T0 + 10 * S, &sum);
    ck_assert_str_eq(sum.key, "GET /a");
    ck_assert_str_eq(sum.label, "svc.a");
    ck_assert_uint_eq(sum.requests, 100);
    ck_assert_uint_eq(sum.errors, 2);
    ck_assert_uint_eq(sum.requests_total, 100);
    ck_assert(fabs(sum.error_rate - 0.02) < 1e-9);
    /* Within the bucket (25%) around the true value. */
    ck_assert_msg(sum.p50_ms > 7.5 && sum.p50_ms < 12.5, "p50 %f", sum.p50_ms);
    ck_assert_msg(sum.p99_ms > 375 && sum.p99_ms < 625, "p99 %f", sum.p99_ms);
    /* 100 requests over the 10 s the series has lived. */
    ck_assert_msg(fabs(sum.rate - 10) < 1e-6, "rate %f", sum.rate);
    gw_live_stats_free(s);
}
END_TEST

START_TEST(slots_rotate_out_of_the_window)
{
    struct gw_live_stats *s = gw_live_stats_new(&route_shape, 10);
    int id = gw_live_stats_id(s, "k", NULL, T0);
    for (int minute = 0; minute < 10; minute++)
        gw_live_stats_record(s, id, T0 + (uint64_t)minute * 60 * S, MS, false);
    struct gw_live_summary sum;
    /* At 9 min 30 s: the window is the 5 minutes up to now, 30 slots of 10 s. */
    gw_live_stats_summary(s, id, T0 + 570 * S, &sum);
    ck_assert_uint_eq(sum.requests, 5); /* minutes 5..9 */
    ck_assert_uint_eq(sum.requests_total, 10);
    /* The series, oldest first: one request per minute, in the slot of each minute. */
    uint32_t counts[30];
    gw_live_stats_series(s, id, T0 + 570 * S, counts, NULL, NULL);
    unsigned sum_series = 0;
    for (int i = 0; i < 30; i++)
        sum_series += counts[i];
    ck_assert_uint_eq(sum_series, 5);
    ck_assert_uint_eq(counts[29], 0);
    ck_assert_uint_eq(counts[26], 1); /* T0 + 540 s: three slots before the last */
    /* Far later, nothing is left in the window, and no percentile. */
    gw_live_stats_summary(s, id, T0 + 3600 * S, &sum);
    ck_assert_uint_eq(sum.requests, 0);
    ck_assert(sum.p50_ms < 0);
    ck_assert(sum.rate == 0);
    /* A slot written again after a full turn starts from zero. */
    gw_live_stats_record(s, id, T0 + 3600 * S, MS, true);
    gw_live_stats_summary(s, id, T0 + 3601 * S, &sum);
    ck_assert_uint_eq(sum.requests, 1);
    ck_assert_uint_eq(sum.errors, 1);
    gw_live_stats_free(s);
}
END_TEST

START_TEST(rate_over_the_last_minute)
{
    struct gw_live_stats *s = gw_live_stats_new(&route_shape, 10);
    int id = gw_live_stats_id(s, "k", NULL, T0);
    /* 10 requests a second for 5 minutes. */
    for (uint64_t t = 0; t < 300; t++)
        for (int i = 0; i < 10; i++)
            gw_live_stats_record(s, id, T0 + t * S + (uint64_t)i * 100 * MS, MS, false);
    struct gw_live_summary sum;
    gw_live_stats_summary(s, id, T0 + 300 * S - 1, &sum);
    ck_assert_msg(fabs(sum.rate - 10) < 0.5, "rate %f", sum.rate);
    ck_assert_uint_eq(sum.requests, 3000);
    gw_live_stats_free(s);
}
END_TEST

START_TEST(per_second_series_with_p99)
{
    const struct gw_live_shape pulse = {1, 120, 1, 120};
    struct gw_live_stats *s = gw_live_stats_new(&pulse, 2);
    int id = gw_live_stats_id(s, "http", NULL, T0);
    gw_live_stats_record(s, id, T0 + 1 * S, 2 * MS, false);
    gw_live_stats_record(s, id, T0 + 3 * S, 100 * MS, true);
    uint32_t req[120], err[120];
    double p99[120];
    gw_live_stats_series(s, id, T0 + 3 * S + 5, req, err, p99);
    ck_assert_uint_eq(req[119], 1);
    ck_assert_uint_eq(err[119], 1);
    ck_assert_uint_eq(req[118], 0);
    ck_assert_uint_eq(req[117], 1);
    ck_assert(p99[118] < 0);
    ck_assert(p99[117] > 1.5 && p99[117] < 2.5);
    ck_assert(p99[119] > 75 && p99[119] < 125);
    gw_live_stats_free(s);
}
END_TEST

START_TEST(bounded_and_kept_across_a_reload)
{
    struct gw_live_stats *s = gw_live_stats_new(&route_shape, 1000);
    /* 1,000 routes fit, the 1,001st does not; each costs a fixed size (docs/status.md). */
    char key[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof(key), "GET /r%d", i);
        ck_assert_int_ge(gw_live_stats_id(s, key, NULL, T0), 0);
    }
    ck_assert_int_eq(gw_live_stats_id(s, "GET /more", NULL, T0), -1);
    ck_assert_uint_eq(gw_live_stats_count(s), 1000);
    ck_assert_uint_lt(gw_live_stats_series_bytes(&route_shape), 1600);
    int kept = gw_live_stats_find(s, "GET /r7");
    gw_live_stats_record(s, kept, T0 + S, MS, false);
    uint64_t epoch = gw_live_stats_epoch(s);

    /* A reload that keeps /r7 (with a new label) and /r8, and adds /new. */
    gw_live_stats_mark_none(s);
    ck_assert_int_eq(gw_live_stats_id(s, "GET /r7", "svc.renamed", T0), kept);
    int r8 = gw_live_stats_id(s, "GET /r8", NULL, T0);
    int fresh = gw_live_stats_id(s, "GET /new", NULL, T0); /* still full: nothing swept yet */
    ck_assert_int_eq(fresh, -1);
    gw_live_stats_sweep(s);
    ck_assert_uint_ne(gw_live_stats_epoch(s), epoch);
    ck_assert_uint_eq(gw_live_stats_count(s), 2);
    ck_assert_int_eq(gw_live_stats_find(s, "GET /r7"), kept);
    ck_assert_int_eq(gw_live_stats_find(s, "GET /r8"), r8);
    ck_assert_int_eq(gw_live_stats_find(s, "GET /r9"), -1);
    struct gw_live_summary sum;
    gw_live_stats_summary(s, kept, T0 + 2 * S, &sum);
    ck_assert_uint_eq(sum.requests, 1);
    ck_assert_str_eq(sum.label, "svc.renamed");
    /* Ids freed by the sweep are given again, to empty series. */
    fresh = gw_live_stats_id(s, "GET /new", NULL, T0);
    ck_assert_int_ge(fresh, 0);
    gw_live_stats_summary(s, fresh, T0 + 2 * S, &sum);
    ck_assert_uint_eq(sum.requests_total, 0);
    int ids[1000];
    ck_assert_uint_eq(gw_live_stats_ids(s, ids), 3);
    gw_live_stats_free(s);
}
END_TEST

START_TEST(drop_keeps_the_others_findable)
{
    struct gw_live_stats *s = gw_live_stats_new(&(struct gw_live_shape){10, 30, 0, 0}, 5000);
    char key[32];
    for (int i = 0; i < 3000; i++) {
        snprintf(key, sizeof(key), "chan.%d", i);
        gw_live_stats_id(s, key, NULL, T0);
    }
    for (int i = 0; i < 3000; i += 2) {
        snprintf(key, sizeof(key), "chan.%d", i);
        gw_live_stats_drop(s, gw_live_stats_find(s, key));
    }
    for (int i = 0; i < 3000; i++) {
        snprintf(key, sizeof(key), "chan.%d", i);
        int id = gw_live_stats_find(s, key);
        if (i % 2)
            ck_assert_int_ge(id, 0);
        else
            ck_assert_int_eq(id, -1);
    }
    int id = gw_live_stats_find(s, "chan.1");
    ck_assert_int_eq(gw_live_stats_gauge(s, id, 3), 3);
    ck_assert_int_eq(gw_live_stats_gauge(s, id, -1), 2);
    ck_assert_int_eq(gw_live_stats_gauge(s, -1, 5), 0);
    struct gw_live_summary sum;
    gw_live_stats_summary(s, id, T0, &sum);
    ck_assert_int_eq(sum.gauge, 2);
    ck_assert(sum.p50_ms < 0);
    gw_live_stats_free(s);
}
END_TEST

/* GATEWAY.workers: two workers' stores merged into a third as if one had counted everything. */
START_TEST(export_and_merge_add_up)
{
    struct gw_live_stats *a = gw_live_stats_new(&route_shape, 10);
    struct gw_live_stats *b = gw_live_stats_new(&route_shape, 10);
    struct gw_live_stats *one = gw_live_stats_new(&route_shape, 10);
    int ia = gw_live_stats_id(a, "GET /a", "svc.a", T0);
    int ib = gw_live_stats_id(b, "GET /a", "svc.a", T0 + 3 * S);
    int ib2 = gw_live_stats_id(b, "GET /b", NULL, T0);
    int io = gw_live_stats_id(one, "GET /a", "svc.a", T0);
    for (int i = 0; i < 30; i++) {
        uint64_t at = T0 + (uint64_t)(i % 20) * S, took = (i % 3 ? 10 : 400) * MS;
        gw_live_stats_record(i % 2 ? a : b, i % 2 ? ia : ib, at, took, i % 5 == 0);
        gw_live_stats_record(one, io, at, took, i % 5 == 0);
    }
    gw_live_stats_record(b, ib2, T0, MS, false);
    gw_live_stats_gauge(a, ia, 2);
    gw_live_stats_gauge(b, ib, 3);
    static unsigned char buf[2][1 << 16];
    size_t la = gw_live_stats_export(a, buf[0], sizeof(buf[0]));
    size_t lb = gw_live_stats_export(b, buf[1], sizeof(buf[1]));
    struct gw_live_stats *merged = gw_live_stats_new(&route_shape, 10);
    gw_live_stats_merge(merged, buf[0], la, true);
    gw_live_stats_merge(merged, buf[1], lb, true);
    ck_assert_uint_eq(gw_live_stats_count(merged), 2);
    struct gw_live_summary want, got;
    uint64_t now = T0 + 25 * S;
    gw_live_stats_summary(one, io, now, &want);
    gw_live_stats_summary(merged, gw_live_stats_find(merged, "GET /a"), now, &got);
    ck_assert_str_eq(got.label, "svc.a");
    ck_assert_uint_eq(got.requests, want.requests);
    ck_assert_uint_eq(got.errors, want.errors);
    ck_assert_uint_eq(got.requests_total, 30);
    ck_assert(fabs(got.rate - want.rate) < 1e-9);
    ck_assert(fabs(got.p50_ms - want.p50_ms) < 1e-9 && fabs(got.p99_ms - want.p99_ms) < 1e-9);
    ck_assert_int_eq(got.gauge, 5);
    uint32_t rw[30], rg[30];
    gw_live_stats_series(one, io, now, rw, NULL, NULL);
    gw_live_stats_series(merged, gw_live_stats_find(merged, "GET /a"), now, rg, NULL, NULL);
    ck_assert_mem_eq(rw, rg, sizeof(rw));
    /* Without gauges (a replacement taking over its predecessor's numbers). */
    struct gw_live_stats *again = gw_live_stats_new(&route_shape, 10);
    gw_live_stats_merge(again, buf[0], la, false);
    gw_live_stats_summary(again, gw_live_stats_find(again, "GET /a"), now, &got);
    ck_assert_int_eq(got.gauge, 0);
    ck_assert_uint_eq(got.requests_total, 15);
    /* A store of another shape, a buffer cut short, one too small: nothing breaks. */
    static const struct gw_live_shape other = {1, 120, 1, 120};
    struct gw_live_stats *o = gw_live_stats_new(&other, 10);
    gw_live_stats_merge(o, buf[0], la, true);
    ck_assert_uint_eq(gw_live_stats_count(o), 0);
    struct gw_live_stats *cut = gw_live_stats_new(&route_shape, 10);
    gw_live_stats_merge(cut, buf[1], lb - 9, true);
    ck_assert_uint_eq(gw_live_stats_count(cut), 1); /* the first record, whole */
    gw_live_stats_merge(cut, buf[1], 3, true);
    ck_assert_uint_eq(gw_live_stats_export(a, buf[0], 3), 0);
    ck_assert_uint_eq(gw_live_stats_export(b, buf[0], lb - 1), lb - (lb - la));
    gw_live_stats_free(a);
    gw_live_stats_free(b);
    gw_live_stats_free(one);
    gw_live_stats_free(merged);
    gw_live_stats_free(again);
    gw_live_stats_free(o);
    gw_live_stats_free(cut);
}
END_TEST

Suite *live_stats_suite(void)
{
    Suite *s = suite_create("live_stats");
    TCase *tc = tcase_create("slots");
    tcase_add_test(tc, buckets_are_monotonic_and_bounded);
    tcase_add_test(tc, counts_and_percentiles);
    tcase_add_test(tc, slots_rotate_out_of_the_window);
    tcase_add_test(tc, rate_over_the_last_minute);
    tcase_add_test(tc, per_second_series_with_p99);
    suite_add_tcase(s, tc);
    tc = tcase_create("series");
    tcase_add_test(tc, bounded_and_kept_across_a_reload);
    tcase_add_test(tc, drop_keeps_the_others_findable);
    tcase_add_test(tc, export_and_merge_add_up);
    suite_add_tcase(s, tc);
    return s;
}
