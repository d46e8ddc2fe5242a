#include "gateway/status_share.h"

#include "core/live_stats.h"
#include "tests/unit/suites.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const struct gw_live_shape shape = {10, 30, 60, 6};
static const uint64_t T0 = 600000ull * 1000000000ull;

static void new_stores(struct gw_live_stats *stores[GW_SHARE_STORES])
{
    for (int i = 0; i < GW_SHARE_STORES; i++)
        stores[i] = gw_live_stats_new(&shape, 10);
}

static void free_stores(struct gw_live_stats *stores[GW_SHARE_STORES])
{
    for (int i = 0; i < GW_SHARE_STORES; i++)
        gw_live_stats_free(stores[i]);
}

/* A worker that is gone leaves its numbers in the totals; its gauges (calls in flight, sockets
 * open) go to zero when the supervisor reaps it, not when a replacement publishes. */
START_TEST(a_gone_workers_gauges_go_to_zero_its_numbers_stay)
{
    size_t stride = gw_status_share_slot_bytes();
    unsigned char *area = calloc(2, stride);
    struct gw_status_share *gone = gw_status_share_new(area, stride, 2, 0);
    struct gw_status_share *other = gw_status_share_new(area, stride, 2, 1);
    struct gw_live_stats *stores[GW_SHARE_STORES];
    new_stores(stores);
    int id = gw_live_stats_id(stores[0], "GET /a", "svc.a", T0);
    for (int i = 0; i < 7; i++)
        gw_live_stats_record(stores[0], id, T0 + 1000, 1000, false);
    const int64_t gauges[GW_SHARE_GAUGES] = {3, 2, 5, 12};
    gw_status_share_publish(gone, stores, gauges);

    struct gw_live_stats *seen[GW_SHARE_STORES];
    new_stores(seen);
    int64_t sum[GW_SHARE_GAUGES] = {0};
    gw_status_share_collect(other, 0, seen, sum);
    ck_assert_int_eq(sum[3], 12);

    gw_status_share_clear_gauges(area); /* slot 0's */
    free_stores(seen);
    new_stores(seen);
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
    new_stores(none);
    int64_t nothing[GW_SHARE_GAUGES] = {0};
    gw_status_share_collect(gone, 0, none, nothing);
    ck_assert_int_eq(gw_live_stats_find(none[0], "GET /a"), -1);
    for (int i = 0; i < GW_SHARE_GAUGES; i++)
        ck_assert_int_eq(nothing[i], 0);
    free_stores(none);
    free_stores(stores);
    free_stores(seen);
    gw_status_share_free(gone);
    gw_status_share_free(other);
    free(area);
}
END_TEST

/* A worker publishing its k-th time: k requests on "GET /a", every gauge k. Never returns. */
static void publish_forever(struct gw_status_share *share, int ready_fd)
{
    struct gw_live_stats *stores[GW_SHARE_STORES];
    new_stores(stores);
    int id = gw_live_stats_id(stores[0], "GET /a", "svc.a", T0);
    for (int64_t k = 1;; k++) {
        gw_live_stats_record(stores[0], id, T0 + 1000, 1000, false);
        const int64_t gauges[GW_SHARE_GAUGES] = {k, k, k, k};
        gw_status_share_publish(share, stores, gauges);
        if (k == 1 && write(ready_fd, "x", 1) != 1)
            _exit(1);
    }
}

/* The requests on "GET /a" that other sees in the slots of the other workers; gauges into sum. */
static uint64_t seen_requests(struct gw_status_share *other, int64_t sum[GW_SHARE_GAUGES])
{
    struct gw_live_stats *seen[GW_SHARE_STORES];
    new_stores(seen);
    for (int i = 0; i < GW_SHARE_GAUGES; i++)
        sum[i] = 0;
    gw_status_share_collect(other, 0, seen, sum);
    int got = gw_live_stats_find(seen[0], "GET /a");
    struct gw_live_summary s = {0};
    if (got >= 0)
        gw_live_stats_summary(seen[0], got, T0 + 2000, &s);
    free_stores(seen);
    return s.requests_total;
}

/* A worker killed (SIGKILL) in the middle of its publishing leaves what it published last, whole:
 * the other workers still count its numbers, and they agree with one another; so do they while it
 * publishes. The worker here does nothing but publish, so a kill almost always lands inside a
 * publish. */
START_TEST(a_worker_killed_while_publishing_leaves_its_last_numbers_whole)
{
    size_t stride = gw_status_share_slot_bytes();
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    srand((unsigned)now.tv_nsec);
    for (int round = 0; round < 12; round++) {
        unsigned char *area =
            mmap(NULL, 2 * stride, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        ck_assert_ptr_ne(area, MAP_FAILED);
        struct gw_status_share *dying = gw_status_share_new(area, stride, 2, 0);
        struct gw_status_share *other = gw_status_share_new(area, stride, 2, 1);
        int ready[2];
        ck_assert_int_eq(pipe(ready), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            close(ready[0]);
            publish_forever(dying, ready[1]);
        }
        close(ready[1]);
        char c;
        ck_assert_int_eq(read(ready[0], &c, 1), 1);
        close(ready[0]);
        /* Read while it publishes: each read is one whole publish (or none, when every try met a
         * publish), never a mix of two. */
        for (int read = 0; read < 20; read++) {
            int64_t live[GW_SHARE_GAUGES];
            uint64_t n = seen_requests(other, live);
            for (int i = 1; i < GW_SHARE_GAUGES; i++)
                ck_assert_int_eq(live[i], live[0]);
            ck_assert_uint_eq(n, (uint64_t)live[0]);
        }
        usleep((useconds_t)(rand() % 3000));
        kill(pid, SIGKILL);
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFSIGNALED(status));

        int64_t sum[GW_SHARE_GAUGES];
        uint64_t requests = seen_requests(other, sum);
        ck_assert_int_ge(sum[0], 1);
        for (int i = 1; i < GW_SHARE_GAUGES; i++)
            ck_assert_int_eq(sum[i], sum[0]);
        ck_assert_uint_eq(requests, (uint64_t)sum[0]);

        /* The supervisor reaps it: the gauges go, the numbers stay. */
        gw_status_share_clear_gauges(area);
        int64_t after[GW_SHARE_GAUGES];
        ck_assert_uint_eq(seen_requests(other, after), requests);
        for (int i = 0; i < GW_SHARE_GAUGES; i++)
            ck_assert_int_eq(after[i], 0);

        gw_status_share_free(dying);
        gw_status_share_free(other);
        munmap(area, 2 * stride);
    }
}
END_TEST

Suite *status_share_suite(void)
{
    Suite *s = suite_create("status_share");
    TCase *tc = tcase_create("gateway");
    tcase_add_test(tc, a_gone_workers_gauges_go_to_zero_its_numbers_stay);
    tcase_add_test(tc, a_worker_killed_while_publishing_leaves_its_last_numbers_whole);
    suite_add_tcase(s, tc);
    return s;
}
