/* node_round.h - which broker node to try next, and when (kombu's round robin over AMQP_URI's
 * nodes): after a failed attempt or a lost connection the next node at once; once every node of
 * the round has failed, the first of a new round after a jittered backoff (0.5 s doubling to 5 s).
 * A connection that lasted a while ends its round: its loss starts a new one with the first
 * backoff. One lost sooner (dropped right after opening, say) counts as a failed attempt, so nodes
 * that all do that are tried with the backoff, never in a tight loop. Pure: the caller gives the
 * time and the randomness. */
#ifndef ENOKI_NODE_ROUND_H
#define ENOKI_NODE_ROUND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gw_node_round;

/* A connection lasting this long counts as a good one. */
#define GW_NODE_ROUND_STABLE_MS 5000

/* A round over n (>= 1) nodes, starting with node 0. Never NULL. */
struct gw_node_round *gw_node_round_new(size_t n);
void gw_node_round_free(struct gw_node_round *round);

/* The node connected to, or to try next. */
size_t gw_node_round_node(const struct gw_node_round *round);

/* Whether the node to try is not the one of the last connection made (there was one). */
bool gw_node_round_moved(const struct gw_node_round *round);

/* A connection to the current node opened at now_ms. */
void gw_node_round_connected(struct gw_node_round *round, uint64_t now_ms);

/* The attempt on the current node failed: moves on and returns the milliseconds to wait before the
 * next attempt; *round_over says every node of the round has now failed once. jitter is uniform in
 * [0, 1]. */
uint64_t gw_node_round_failed(struct gw_node_round *round, double jitter, bool *round_over);

/* The connection was lost at now_ms: as a failed attempt, after a fresh start of the round (and of
 * the backoff) when the connection had lasted GW_NODE_ROUND_STABLE_MS. */
uint64_t gw_node_round_lost(struct gw_node_round *round, uint64_t now_ms, double jitter);

#endif
