/* metrics.h - the RPC side's counters and its call latency histogram, in Prometheus' text format
 * (0.0.4). The HTTP side's counters (gateway/http_metrics.h) render these with their own.
 *
 * One gw_metrics per process, written from the loop thread only. Modules borrow it. Its numbers
 * lie in a slot that other processes may read: with GATEWAY.workers every worker counts in its own
 * slot of the memory they share, and /metrics shows the totals of all the slots (docs/workers.md).
 */
#ifndef ENOKI_METRICS_H
#define ENOKI_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gw_metrics;
struct gw_strbuf;

/* Adds to a counter of a slot only its own process writes: a relaxed load and store, no locked
 * instruction (other processes read it with relaxed loads). */
static inline void gw_counter_add(_Atomic uint64_t *counter, uint64_t by)
{
    atomic_store_explicit(counter, atomic_load_explicit(counter, memory_order_relaxed) + by,
                          memory_order_relaxed);
}

/* One process alone: its slot is its own memory. */
struct gw_metrics *gw_metrics_new(void);

/* n slots of gw_metrics_slot_bytes, stride bytes apart from area (shared memory, borrowed, zeroed
 * at first): this process counts in slot self, whose gauges start at zero; rendering adds up all.
 */
struct gw_metrics *gw_metrics_new_shared(void *area, size_t stride, int n, int self);
size_t gw_metrics_slot_bytes(void);

/* The gauges of a slot whose process is gone go back to zero (its counters stay in the totals). */
void gw_metrics_clear_gauges(void *slot);

void gw_metrics_free(struct gw_metrics *metrics);

/* One RPC ended after seconds; outcome is a gw_status (GW_OK, GW_ETIMEOUT, GW_EUNKNOWN_SERVICE...).
 */
void gw_metrics_rpc(struct gw_metrics *metrics, double seconds, int outcome);

void gw_metrics_reconnect(struct gw_metrics *metrics);

/* The broker nodes (AMQP_URI's, "host:port" each, copied) and the one connected to (-1: none):
 * the gauge enoki_broker_connected{node} is 1 for it and 0 for the others (with workers: how many
 * are connected to it). */
void gw_metrics_set_nodes(struct gw_metrics *metrics, const char *const *nodes, size_t n);
void gw_metrics_set_connected_node(struct gw_metrics *metrics, int node);

/* The gauge enoki_broker_blocked: 1 while the broker blocks publishers (with workers: how many
 * workers it blocks). */
void gw_metrics_set_blocked(struct gw_metrics *metrics, bool blocked);

/* The gauge of calls waiting for replies, set by the call table. */
void gw_metrics_set_in_flight(struct gw_metrics *metrics, size_t calls);

/* Appends the exposition text of these metrics to out. */
void gw_metrics_render(const struct gw_metrics *metrics, struct gw_strbuf *out);

#endif
