#include "core/node_round.h"

#include "tests/unit/suites.h"

/* jitter 0.5: the delay is the backoff itself. */
#define MID 0.5

START_TEST(one_node_waits_the_backoff_doubling_to_five_seconds)
{
    struct gw_node_round *r = gw_node_round_new(1);
    bool over;
    const uint64_t expected[] = {500, 1000, 2000, 4000, 5000, 5000};
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        ck_assert_uint_eq(gw_node_round_failed(r, MID, &over), expected[i]);
        ck_assert(over);
        ck_assert_uint_eq(gw_node_round_node(r), 0);
    }
    /* Jitter: 1 +- 25 %. */
    ck_assert_uint_eq(gw_node_round_failed(r, 0.0, &over), 3750);
    ck_assert_uint_eq(gw_node_round_failed(r, 1.0, &over), 6250);
    /* A connection that lasted: its loss waits the first backoff again. */
    gw_node_round_connected(r, 1000);
    ck_assert_uint_eq(gw_node_round_lost(r, 1000 + GW_NODE_ROUND_STABLE_MS, MID), 500);
    ck_assert(!gw_node_round_moved(r));
    gw_node_round_free(r);
}
END_TEST

START_TEST(a_cluster_tries_the_next_node_at_once_and_waits_between_rounds)
{
    struct gw_node_round *r = gw_node_round_new(3);
    bool over;
    ck_assert(!gw_node_round_moved(r)); /* no connection yet */
    ck_assert_uint_eq(gw_node_round_failed(r, MID, &over), 0);
    ck_assert(!over);
    ck_assert_uint_eq(gw_node_round_node(r), 1);
    ck_assert_uint_eq(gw_node_round_failed(r, MID, &over), 0);
    ck_assert_uint_eq(gw_node_round_node(r), 2);
    ck_assert_uint_eq(gw_node_round_failed(r, MID, &over), 500);
    ck_assert(over);
    ck_assert_uint_eq(gw_node_round_node(r), 0);

    /* Connected to node 1 after a failure on node 0; lost after a good while: node 2 at once, then
     * node 0 at once, then node 1 after the first backoff. */
    gw_node_round_failed(r, MID, &over);
    gw_node_round_connected(r, 10000);
    ck_assert_uint_eq(gw_node_round_node(r), 1);
    ck_assert_uint_eq(gw_node_round_lost(r, 20000, MID), 0);
    ck_assert_uint_eq(gw_node_round_node(r), 2);
    ck_assert(gw_node_round_moved(r));
    ck_assert_uint_eq(gw_node_round_failed(r, MID, &over), 0);
    ck_assert_uint_eq(gw_node_round_node(r), 0);
    ck_assert_uint_eq(gw_node_round_failed(r, MID, &over), 500);
    ck_assert(over);
    ck_assert_uint_eq(gw_node_round_node(r), 1);
    ck_assert(!gw_node_round_moved(r)); /* back to the node of the last connection */
    gw_node_round_free(r);
}
END_TEST

START_TEST(connections_lost_at_once_are_failed_attempts)
{
    /* Two nodes that each drop the connection right after opening it: a round of them waits the
     * backoff, which grows, instead of a tight loop. */
    struct gw_node_round *r = gw_node_round_new(2);
    uint64_t now = 0, waited = 0;
    for (int i = 0; i < 6; i++) {
        gw_node_round_connected(r, now);
        uint64_t delay = gw_node_round_lost(r, now + 10, MID);
        waited += delay;
        now += 10 + delay;
    }
    /* Rounds of two losses: 0 + 500, 0 + 1000, 0 + 2000. */
    ck_assert_uint_eq(waited, 3500);
    gw_node_round_free(r);
}
END_TEST

Suite *node_round_suite(void)
{
    Suite *s = suite_create("node_round");
    TCase *tc = tcase_create("rounds");
    tcase_add_test(tc, one_node_waits_the_backoff_doubling_to_five_seconds);
    tcase_add_test(tc, a_cluster_tries_the_next_node_at_once_and_waits_between_rounds);
    tcase_add_test(tc, connections_lost_at_once_are_failed_attempts);
    suite_add_tcase(s, tc);
    return s;
}
