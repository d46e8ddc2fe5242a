/* http_metrics.h - the HTTP and websocket side's counters: requests answered by route and status,
 * connections killed, open websockets. Rendered with the RPC side's (core/metrics.h) as the one
 * /metrics page.
 *
 * One per process, written from the loop thread only. Modules borrow it. Its numbers lie in a slot
 * that other processes may read: with GATEWAY.workers every worker counts in its own slot of the
 * memory they share and /metrics shows the totals of all (docs/workers.md). A slot holds at most
 * 4096 (route, status) pairs and 256 rate-limited routes; further ones are counted under the route
 * "(other)" (status 0), and a route label is cut at 175 bytes.
 */
#ifndef ENOKI_HTTP_METRICS_H
#define ENOKI_HTTP_METRICS_H

#include <stddef.h>

struct gw_metrics;
struct gw_http_metrics;

/* rpc (borrowed, may be NULL) is rendered after the HTTP requests. One process alone: its slot is
 * its own memory. */
struct gw_http_metrics *gw_http_metrics_new(const struct gw_metrics *rpc);

/* n slots of gw_http_metrics_slot_bytes, stride bytes apart from area (shared memory, borrowed,
 * zeroed at first): this process counts in slot self (going on from what a predecessor in the
 * slot counted; its gauge starts at zero); rendering adds up all. */
struct gw_http_metrics *gw_http_metrics_new_shared(const struct gw_metrics *rpc, void *area,
                                                   size_t stride, int n, int self);
size_t gw_http_metrics_slot_bytes(void);

/* The gauge of a slot whose process is gone (open websockets) goes back to zero. */
void gw_http_metrics_clear_gauges(void *slot);
void gw_http_metrics_free(struct gw_http_metrics *metrics);

/* One HTTP request answered: route is the rule that matched ("" for none, or "generic", "static",
 * "probe", "admin", "cors", "metrics"), status the HTTP status. */
void gw_metrics_request(struct gw_http_metrics *metrics, const char *route, int status);

/* A call refused by a rate limit (GATEWAY.rate_limits): route is the rule, "generic" or
 * "websocket". */
void gw_metrics_rate_limited(struct gw_http_metrics *metrics, const char *route);

/* Why enoki closed a connection that made no progress: the label of
 * enoki_connections_killed_total. */
enum gw_kill_reason {
    GW_KILL_STALLED,
    GW_KILL_REQUEST_TIMEOUT,
    GW_KILL_WRITE_TIMEOUT,
    GW_KILL_HEADER_TIMEOUT,
    GW_KILL_WEBSOCKET_TIMEOUT,
    GW_KILL_ABANDONED,
    GW_KILL_REASONS /* how many there are */
};

/* NULL metrics is a no-op. */
void gw_metrics_connection_killed(struct gw_http_metrics *metrics, enum gw_kill_reason reason);

void gw_metrics_add_websockets(struct gw_http_metrics *metrics, int delta);

/* Returns the whole exposition text (new string), with *len set. */
char *gw_http_metrics_render(const struct gw_http_metrics *metrics, size_t *len);

#endif
