/* node_round.c - kombu's round robin over a cluster's nodes, with a backoff between rounds. */
#include "node_round.h"

#include "xalloc.h"

#include <math.h>
#include <stdlib.h>

#define BACKOFF_INITIAL_S 0.5
#define BACKOFF_MAX_S 5.0
/* The delay is the backoff times 1 +- this: many gateways do not knock at a restarting broker
 * in one instant. */
#define BACKOFF_JITTER 0.25

struct gw_node_round {
    size_t n;
    size_t node;  /* connected to, or to try next */
    size_t tried; /* failed attempts of this round */
    size_t last;  /* the node of the last connection made; n: none yet */
    double backoff_s;
    uint64_t connected_ms;
};

struct gw_node_round *gw_node_round_new(size_t n)
{
    struct gw_node_round *round = xcalloc(1, sizeof(*round));
    round->n = n ? n : 1;
    round->last = round->n;
    round->backoff_s = BACKOFF_INITIAL_S;
    return round;
}

void gw_node_round_free(struct gw_node_round *round)
{
    free(round);
}

size_t gw_node_round_node(const struct gw_node_round *round)
{
    return round->node;
}

bool gw_node_round_moved(const struct gw_node_round *round)
{
    return round->last != round->n && round->last != round->node;
}

void gw_node_round_connected(struct gw_node_round *round, uint64_t now_ms)
{
    round->last = round->node;
    round->connected_ms = now_ms;
}

uint64_t gw_node_round_failed(struct gw_node_round *round, double jitter, bool *round_over)
{
    round->node = (round->node + 1) % round->n;
    if (++round->tried < round->n) {
        *round_over = false;
        return 0;
    }
    *round_over = true;
    round->tried = 0;
    double delay = round->backoff_s * (1.0 - BACKOFF_JITTER + 2 * BACKOFF_JITTER * jitter);
    round->backoff_s = fmin(round->backoff_s * 2, BACKOFF_MAX_S);
    return (uint64_t)(delay * 1000);
}

uint64_t gw_node_round_lost(struct gw_node_round *round, uint64_t now_ms, double jitter)
{
    if (now_ms - round->connected_ms >= GW_NODE_ROUND_STABLE_MS) {
        round->backoff_s = BACKOFF_INITIAL_S;
        round->tried = 0;
    }
    bool round_over;
    /* The node just lost is the last one of its round: the others are tried first. */
    return gw_node_round_failed(round, jitter, &round_over);
}
