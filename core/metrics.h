/* metrics.h - the RPC side's counters and its call latency histogram, in Prometheus' text format
 * (0.0.4). The HTTP side's counters (gateway/http_metrics.h) render these with their own.
 *
 * One gw_metrics per process, written from the loop thread only. Modules borrow it.
 */
#ifndef ENOKI_METRICS_H
#define ENOKI_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct gw_metrics;
struct gw_strbuf;

struct gw_metrics *gw_metrics_new(void);
void gw_metrics_free(struct gw_metrics *metrics);

/* One RPC ended after seconds; outcome is a gw_status (GW_OK, GW_ETIMEOUT, GW_EUNKNOWN_SERVICE...).
 */
void gw_metrics_rpc(struct gw_metrics *metrics, double seconds, int outcome);

void gw_metrics_reconnect(struct gw_metrics *metrics);

/* The gauge of calls waiting for replies, set by the call table. */
void gw_metrics_set_in_flight(struct gw_metrics *metrics, size_t calls);

/* Appends the exposition text of these metrics to out. */
void gw_metrics_render(const struct gw_metrics *metrics, struct gw_strbuf *out);

#endif
