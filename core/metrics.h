/* metrics.h - counters and a latency histogram, rendered in Prometheus' text format (0.0.4).
 *
 * One gw_metrics per process, written from the loop thread only. Modules borrow it.
 */
#ifndef ENOKI_METRICS_H
#define ENOKI_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct gw_metrics;

struct gw_metrics *gw_metrics_new(void);
void gw_metrics_free(struct gw_metrics *metrics);

/* One HTTP request answered: route is the rule that matched ("" for none, or "generic", "static",
 * "probe", "admin"), status the HTTP status. */
void gw_metrics_request(struct gw_metrics *metrics, const char *route, int status);

/* One RPC ended after seconds; outcome is a gw_status (GW_OK, GW_ETIMEOUT, GW_EUNKNOWN_SERVICE...).
 */
void gw_metrics_rpc(struct gw_metrics *metrics, double seconds, int outcome);

void gw_metrics_reconnect(struct gw_metrics *metrics);

/* A connection enoki closed because it made no progress; reason is one of "stalled",
 * "request_timeout", "write_timeout", "header_timeout", "websocket_timeout", "abandoned" (the label
 * of enoki_connections_killed_total). NULL metrics is a no-op. */
void gw_metrics_connection_killed(struct gw_metrics *metrics, const char *reason);

/* Gauges, set by their owners. */
void gw_metrics_set_in_flight(struct gw_metrics *metrics, size_t calls);
void gw_metrics_add_websockets(struct gw_metrics *metrics, int delta);

/* Returns the exposition text (new string), with *len set. */
char *gw_metrics_render(const struct gw_metrics *metrics, size_t *len);

#endif
