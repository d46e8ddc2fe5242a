/* status_share.h - the status page's numbers across GATEWAY.workers (docs/workers.md).
 *
 * Each worker publishes its status page stores (core/live_stats exports) and its gauges into its
 * own slot of the workers' shared memory, once a second and at once when asked; the worker that
 * answers <status_path>/data adds the other slots into copies of its own stores. A slot holds its
 * numbers twice and a publish writes the copy not being read, so a worker killed while publishing
 * leaves its last whole publish; a reader that sees the slot published again meanwhile copies
 * again, and gives up on that slot after a few tries. The numbers of the other workers are at most
 * a second old. Loop thread only; a slot is written by its own worker only (and by the supervisor
 * once that worker is gone).
 */
#ifndef ENOKI_STATUS_SHARE_H
#define ENOKI_STATUS_SHARE_H

#include <stddef.h>
#include <stdint.h>

struct gw_live_stats;

/* What a status page keeps: its four stores (routes, websocket methods, channels, the per-second
 * totals) and the gauges it shows (calls in flight, HTTP requests in flight, HTTP connections,
 * websockets). */
enum { GW_SHARE_STORES = 4, GW_SHARE_GAUGES = 4 };

struct gw_status_share;

size_t gw_status_share_slot_bytes(void);

/* n slots of gw_status_share_slot_bytes, stride bytes apart from area (shared, borrowed); this
 * worker's is self. */
struct gw_status_share *gw_status_share_new(void *area, size_t stride, int n, int self);
void gw_status_share_free(struct gw_status_share *share); /* NULL is a no-op */

/* How many workers share. */
int gw_status_share_workers(const struct gw_status_share *share);

/* This worker's stores and gauges into its slot. */
void gw_status_share_publish(struct gw_status_share *share,
                             struct gw_live_stats *const stores[GW_SHARE_STORES],
                             const int64_t gauges[GW_SHARE_GAUGES]);

/* In the supervisor, once slot's worker is gone (nobody writes the slot then): its gauges go to
 * zero, its numbers (as its last whole publish left them) stay. */
void gw_status_share_clear_gauges(void *slot);

/* Adds the slots of the other workers (or, with own, this worker's slot only: a replacement
 * taking over its predecessor's numbers, gauges left out) into stores and gauges. */
void gw_status_share_collect(const struct gw_status_share *share, int own,
                             struct gw_live_stats *const stores[GW_SHARE_STORES],
                             int64_t gauges[GW_SHARE_GAUGES]);

#endif
