/* live_stats.h - the status page's numbers over the last minutes (docs/status.md): named series
 * (a route, a websocket method, a channel), each a ring of time slots of requests and errors and a
 * ring of small log-scale latency histograms, for rates, error rates, p50 and p99.
 *
 * Pure: the time comes in (now_ns, any monotonic clock), nothing is read from the system. Counting
 * is O(1), with no allocation and no lookup: a series is found once by its key (gw_live_stats_id)
 * and its id kept, e.g. beside a compiled route. The memory is fixed per series once it exists
 * (gw_live_stats_series_bytes). Loop thread only.
 */
#ifndef ENOKI_LIVE_STATS_H
#define ENOKI_LIVE_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Latency buckets: below 64 us, then two per doubling (at 1x and 1.5x of each power of two) up to
 * 2^26 us (67 s), then the rest: a percentile is within 25% of the truth. */
#define GW_LIVE_BUCKETS 42

/* How a store slices time: count_slots of count_slot_s seconds each for requests and errors, and
 * latency_slots of latency_slot_s for the histograms (0: no latency kept). */
struct gw_live_shape {
    unsigned count_slot_s, count_slots;
    unsigned latency_slot_s, latency_slots;
};

struct gw_live_stats;

/* A store of at most max_series series shaped by shape (copied); NULL-free: aborts on OOM. */
struct gw_live_stats *gw_live_stats_new(const struct gw_live_shape *shape, size_t max_series);
void gw_live_stats_free(struct gw_live_stats *stats); /* NULL is a no-op */

/* The bytes one series takes, key and label aside. */
size_t gw_live_stats_series_bytes(const struct gw_live_shape *shape);

/* The id of the series called key (copied), made now (empty, born at now_ns) when there is none;
 * label (copied, may be NULL) is what it shows beside its key (a route's target) and replaces the
 * old one. Returns -1 when the store is full. Marks the series as kept (gw_live_stats_sweep). */
int gw_live_stats_id(struct gw_live_stats *stats, const char *key, const char *label,
                     uint64_t now_ns);

/* The id of key, or -1; nothing is made or marked. */
int gw_live_stats_find(const struct gw_live_stats *stats, const char *key);

/* SIGHUP: gw_live_stats_mark_none, then gw_live_stats_id for every series still wanted, then
 * gw_live_stats_sweep drops the others (their ids may be given to new series). Each sweep moves
 * the epoch on: ids kept from an older epoch must be looked up again by key. */
void gw_live_stats_mark_none(struct gw_live_stats *stats);
void gw_live_stats_sweep(struct gw_live_stats *stats);
uint64_t gw_live_stats_epoch(const struct gw_live_stats *stats);

/* Drops one series now (its id may be given to a new one). */
void gw_live_stats_drop(struct gw_live_stats *stats, int id);

/* One request (or message) of series id that ended at now_ns after duration_ns; error says whether
 * it failed. id -1 is a no-op. */
void gw_live_stats_record(struct gw_live_stats *stats, int id, uint64_t now_ns,
                          uint64_t duration_ns, bool error);

/* A gauge of the series (a channel's subscribers), moved by delta; returns its new value (0 for id
 * -1). */
long gw_live_stats_gauge(struct gw_live_stats *stats, int id, long delta);

/* What a series shows at now_ns. */
struct gw_live_summary {
    const char *key, *label;               /* borrowed from the store */
    uint64_t requests, errors;             /* in the window (count_slot_s * count_slots seconds) */
    uint64_t requests_total, errors_total; /* since the series was made */
    double rate;                           /* requests per second over the last minute */
    double error_rate;                     /* errors / requests in the window (0 without any) */
    double p50_ms, p99_ms;                 /* over the latency window; -1 without any request */
    long gauge;
};

/* Series ids in use, into ids (room for gw_live_stats_count), in no particular order. */
size_t gw_live_stats_count(const struct gw_live_stats *stats);
size_t gw_live_stats_ids(const struct gw_live_stats *stats, int *ids);

void gw_live_stats_summary(const struct gw_live_stats *stats, int id, uint64_t now_ns,
                           struct gw_live_summary *out);

/* Per count slot, oldest first, the slot at now_ns last (n = count_slots): requests and errors
 * (either may be NULL); with p99_ms (not NULL, needs latency slots of the same length) each slot's
 * p99 (-1: none). */
void gw_live_stats_series(const struct gw_live_stats *stats, int id, uint64_t now_ns,
                          uint32_t *requests, uint32_t *errors, double *p99_ms);

/* GATEWAY.workers (docs/workers.md): a store as flat bytes, for another process to add to its
 * own. Writes at most cap bytes into buf (the series that do not fit are left out) and returns
 * how many. */
size_t gw_live_stats_export(const struct gw_live_stats *stats, void *buf, size_t cap);

/* The bytes an export of every series takes. */
size_t gw_live_stats_export_bytes(const struct gw_live_stats *stats);

/* Adds an export of a store of the same shape (another shape: nothing) into stats, series by key:
 * a series not there yet is made (when there is room), slots of the same time slice are summed and
 * a newer slice replaces an older one, totals are summed and the earliest birth kept; gauges are
 * summed only when gauges. A record cut short ends the merge. */
void gw_live_stats_merge(struct gw_live_stats *stats, const void *buf, size_t len, bool gauges);

/* The bucket a duration falls in, and its bounds in microseconds (the last has no upper one:
 * HUGE_VAL); for the tests. */
unsigned gw_live_bucket(uint64_t duration_ns);
void gw_live_bucket_bounds(unsigned bucket, double *lo_us, double *hi_us);

#endif
