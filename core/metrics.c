#include "metrics.h"

#include "status.h"
#include "strbuf.h"
#include "util.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Seconds; Prometheus' default buckets, from 1 ms. */
static const double buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                 0.25,  0.5,    1,     2.5,  5,     10};
enum { N_BUCKETS = ARRAY_LEN(buckets) };

struct gw_metrics {
    uint64_t latency[N_BUCKETS + 1]; /* cumulative at render; here per bucket, +Inf last */
    double latency_sum;
    uint64_t latency_count;
    uint64_t timeouts, unknown_services, remote_errors, broker_failures;
    uint64_t reconnects;
    size_t in_flight;
    char **nodes; /* "host:port" of AMQP_URI's nodes */
    size_t n_nodes;
    int connected_node; /* -1: none */
    bool blocked;
};

struct gw_metrics *gw_metrics_new(void)
{
    struct gw_metrics *m = xcalloc(1, sizeof(struct gw_metrics));
    m->connected_node = -1;
    return m;
}

void gw_metrics_set_nodes(struct gw_metrics *m, const char *const *nodes, size_t n)
{
    for (size_t i = 0; i < m->n_nodes; i++)
        free(m->nodes[i]);
    free(m->nodes);
    m->nodes = xcalloc(n ? n : 1, sizeof(*m->nodes));
    for (size_t i = 0; i < n; i++)
        m->nodes[i] = xstrdup(nodes[i]);
    m->n_nodes = n;
}

void gw_metrics_set_connected_node(struct gw_metrics *m, int node)
{
    m->connected_node = node;
}

void gw_metrics_set_blocked(struct gw_metrics *m, bool blocked)
{
    m->blocked = blocked;
}

void gw_metrics_free(struct gw_metrics *m)
{
    if (!m)
        return;
    gw_metrics_set_nodes(m, NULL, 0);
    free(m->nodes);
    free(m);
}

void gw_metrics_rpc(struct gw_metrics *m, double seconds, int outcome)
{
    size_t b = 0;
    while (b < N_BUCKETS && seconds > buckets[b])
        b++;
    m->latency[b]++;
    m->latency_sum += seconds;
    m->latency_count++;
    if (outcome == GW_ETIMEOUT)
        m->timeouts++;
    else if (outcome == GW_EUNKNOWN_SERVICE)
        m->unknown_services++;
    else if (outcome == GW_EREMOTE)
        m->remote_errors++;
    else if (outcome == GW_EBROKER)
        m->broker_failures++;
}

void gw_metrics_reconnect(struct gw_metrics *m)
{
    m->reconnects++;
}

void gw_metrics_set_in_flight(struct gw_metrics *m, size_t calls)
{
    m->in_flight = calls;
}

static void add_line(struct gw_strbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void add_line(struct gw_strbuf *b, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    gw_strbuf_adds(b, line);
}

void gw_metrics_render(const struct gw_metrics *m, struct gw_strbuf *out)
{
    struct gw_strbuf b = *out;
    add_line(&b, "# HELP enoki_rpc_duration_seconds Time from publishing a call to its end.\n"
                 "# TYPE enoki_rpc_duration_seconds histogram\n");
    uint64_t cumulative = 0;
    for (size_t i = 0; i < N_BUCKETS; i++) {
        cumulative += m->latency[i];
        add_line(&b, "enoki_rpc_duration_seconds_bucket{le=\"%g\"} %llu\n", buckets[i],
                 (unsigned long long)cumulative);
    }
    cumulative += m->latency[N_BUCKETS];
    add_line(&b, "enoki_rpc_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
             (unsigned long long)cumulative);
    add_line(&b, "enoki_rpc_duration_seconds_sum %.6f\nenoki_rpc_duration_seconds_count %llu\n",
             m->latency_sum, (unsigned long long)m->latency_count);
    add_line(&b,
             "# HELP enoki_rpc_in_flight Calls waiting for their reply.\n"
             "# TYPE enoki_rpc_in_flight gauge\nenoki_rpc_in_flight %zu\n"
             "# HELP enoki_broker_reconnects_total Connections to the broker made again.\n"
             "# TYPE enoki_broker_reconnects_total counter\nenoki_broker_reconnects_total %llu\n",
             m->in_flight, (unsigned long long)m->reconnects);
    add_line(&b,
             "# HELP enoki_rpc_deadlines_missed_total Calls that got no reply before their "
             "deadline.\n"
             "# TYPE enoki_rpc_deadlines_missed_total counter\n"
             "enoki_rpc_deadlines_missed_total %llu\n"
             "# HELP enoki_rpc_unknown_services_total Calls no queue was bound for.\n"
             "# TYPE enoki_rpc_unknown_services_total counter\n"
             "enoki_rpc_unknown_services_total %llu\n",
             (unsigned long long)m->timeouts, (unsigned long long)m->unknown_services);
    add_line(&b,
             "# HELP enoki_rpc_remote_errors_total Calls answered with an exception.\n"
             "# TYPE enoki_rpc_remote_errors_total counter\nenoki_rpc_remote_errors_total %llu\n"
             "# HELP enoki_rpc_broker_failures_total Calls failed by the loss of the broker.\n"
             "# TYPE enoki_rpc_broker_failures_total counter\n"
             "enoki_rpc_broker_failures_total %llu\n",
             (unsigned long long)m->remote_errors, (unsigned long long)m->broker_failures);
    add_line(&b,
             "# HELP enoki_broker_blocked 1 while the broker blocks publishers (a resource "
             "alarm).\n# TYPE enoki_broker_blocked gauge\nenoki_broker_blocked %d\n",
             m->blocked);
    if (m->n_nodes > 0)
        add_line(&b, "# HELP enoki_broker_connected The broker node enoki is connected to (1).\n"
                     "# TYPE enoki_broker_connected gauge\n");
    for (size_t i = 0; i < m->n_nodes; i++)
        add_line(&b, "enoki_broker_connected{node=\"%s\"} %d\n", m->nodes[i],
                 (int)i == m->connected_node);
    *out = b;
}
