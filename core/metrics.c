#include "metrics.h"

#include "status.h"
#include "strbuf.h"
#include "util.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Seconds; Prometheus' default buckets, from 1 ms. */
static const double buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                 0.25,  0.5,    1,     2.5,  5,     10};
enum { N_BUCKETS = ARRAY_LEN(buckets) };

/* One process's numbers, where every worker can read them (docs/workers.md): each is written by
 * its own process only, so a relaxed load and store (a plain move on x86-64) counts, with no
 * locked instruction; another worker reads them with relaxed loads. */
struct gw_metrics_slot {
    _Atomic uint64_t latency[N_BUCKETS + 1]; /* per bucket, +Inf last; cumulative at render */
    _Atomic uint64_t latency_sum_ns;
    _Atomic uint64_t timeouts, unknown_services, remote_errors, broker_failures;
    _Atomic uint64_t reconnects;
    /* Gauges, zeroed when the process is replaced (gw_metrics_clear_gauges). */
    _Atomic int64_t in_flight;
    _Atomic int32_t blocked;
    _Atomic int32_t connected_node; /* the node's index + 1; 0: none */
};

struct gw_metrics {
    struct gw_metrics_slot *self;
    const unsigned char *area; /* every process's slot, stride bytes apart */
    size_t stride;
    int n;
    bool owns_area;
    char **nodes; /* "host:port" of AMQP_URI's nodes */
    size_t n_nodes;
};

static uint64_t read_u64(const _Atomic uint64_t *counter)
{
    return atomic_load_explicit(counter, memory_order_relaxed);
}

static const struct gw_metrics_slot *slot_of(const struct gw_metrics *m, int i)
{
    return (const struct gw_metrics_slot *)(const void *)(m->area + (size_t)i * m->stride);
}

size_t gw_metrics_slot_bytes(void)
{
    return sizeof(struct gw_metrics_slot);
}

void gw_metrics_clear_gauges(void *slot)
{
    struct gw_metrics_slot *s = slot;
    atomic_store_explicit(&s->in_flight, 0, memory_order_relaxed);
    atomic_store_explicit(&s->blocked, 0, memory_order_relaxed);
    atomic_store_explicit(&s->connected_node, 0, memory_order_relaxed);
}

struct gw_metrics *gw_metrics_new_shared(void *area, size_t stride, int n, int self)
{
    struct gw_metrics *m = xcalloc(1, sizeof(struct gw_metrics));
    m->area = area;
    m->stride = stride;
    m->n = n;
    m->self = (struct gw_metrics_slot *)(void *)((unsigned char *)area + (size_t)self * stride);
    gw_metrics_clear_gauges(m->self); /* a replacement starts with none of its predecessor's */
    return m;
}

struct gw_metrics *gw_metrics_new(void)
{
    struct gw_metrics_slot *slot = xcalloc(1, sizeof(*slot));
    struct gw_metrics *m = gw_metrics_new_shared(slot, sizeof(*slot), 1, 0);
    m->owns_area = true;
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
    atomic_store_explicit(&m->self->connected_node, node < 0 ? 0 : node + 1, memory_order_relaxed);
}

void gw_metrics_set_blocked(struct gw_metrics *m, bool blocked)
{
    atomic_store_explicit(&m->self->blocked, blocked, memory_order_relaxed);
}

void gw_metrics_free(struct gw_metrics *m)
{
    if (!m)
        return;
    gw_metrics_set_nodes(m, NULL, 0);
    free(m->nodes);
    if (m->owns_area)
        free(m->self);
    free(m);
}

void gw_metrics_rpc(struct gw_metrics *m, double seconds, int outcome)
{
    struct gw_metrics_slot *s = m->self;
    size_t b = 0;
    while (b < N_BUCKETS && seconds > buckets[b])
        b++;
    gw_counter_add(&s->latency[b], 1);
    gw_counter_add(&s->latency_sum_ns, seconds > 0 ? (uint64_t)(seconds * 1e9) : 0);
    if (outcome == GW_ETIMEOUT)
        gw_counter_add(&s->timeouts, 1);
    else if (outcome == GW_EUNKNOWN_SERVICE)
        gw_counter_add(&s->unknown_services, 1);
    else if (outcome == GW_EREMOTE)
        gw_counter_add(&s->remote_errors, 1);
    else if (outcome == GW_EBROKER)
        gw_counter_add(&s->broker_failures, 1);
}

void gw_metrics_reconnect(struct gw_metrics *m)
{
    gw_counter_add(&m->self->reconnects, 1);
}

void gw_metrics_set_in_flight(struct gw_metrics *m, size_t calls)
{
    atomic_store_explicit(&m->self->in_flight, (int64_t)calls, memory_order_relaxed);
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

/* Every process's numbers added up: counters and histogram buckets, and the gauges. */
struct totals {
    uint64_t latency[N_BUCKETS + 1], latency_sum_ns;
    uint64_t timeouts, unknown_services, remote_errors, broker_failures, reconnects;
    int64_t in_flight, blocked;
};

static void add_up(const struct gw_metrics *m, struct totals *t)
{
    memset(t, 0, sizeof(*t));
    for (int i = 0; i < m->n; i++) {
        const struct gw_metrics_slot *s = slot_of(m, i);
        for (size_t b = 0; b <= N_BUCKETS; b++)
            t->latency[b] += read_u64(&s->latency[b]);
        t->latency_sum_ns += read_u64(&s->latency_sum_ns);
        t->timeouts += read_u64(&s->timeouts);
        t->unknown_services += read_u64(&s->unknown_services);
        t->remote_errors += read_u64(&s->remote_errors);
        t->broker_failures += read_u64(&s->broker_failures);
        t->reconnects += read_u64(&s->reconnects);
        t->in_flight += atomic_load_explicit(&s->in_flight, memory_order_relaxed);
        t->blocked += atomic_load_explicit(&s->blocked, memory_order_relaxed);
    }
}

/* How many processes are connected to node (one process: 1 or 0). */
static int connected_to(const struct gw_metrics *m, size_t node)
{
    int count = 0;
    for (int i = 0; i < m->n; i++)
        count += atomic_load_explicit(&slot_of(m, i)->connected_node, memory_order_relaxed) ==
                 (int32_t)node + 1;
    return count;
}

void gw_metrics_render(const struct gw_metrics *m, struct gw_strbuf *out)
{
    struct totals t;
    add_up(m, &t);
    struct gw_strbuf b = *out;
    add_line(&b, "# HELP enoki_rpc_duration_seconds Time from publishing a call to its end.\n"
                 "# TYPE enoki_rpc_duration_seconds histogram\n");
    uint64_t cumulative = 0;
    for (size_t i = 0; i < N_BUCKETS; i++) {
        cumulative += t.latency[i];
        add_line(&b, "enoki_rpc_duration_seconds_bucket{le=\"%g\"} %llu\n", buckets[i],
                 (unsigned long long)cumulative);
    }
    cumulative += t.latency[N_BUCKETS];
    add_line(&b, "enoki_rpc_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
             (unsigned long long)cumulative);
    /* The count is the +Inf bucket's, read in the same pass: counted apart, another worker's call
     * ending between the two reads would make them differ. */
    add_line(&b, "enoki_rpc_duration_seconds_sum %.6f\nenoki_rpc_duration_seconds_count %llu\n",
             (double)t.latency_sum_ns / 1e9, (unsigned long long)cumulative);
    add_line(&b,
             "# HELP enoki_rpc_in_flight Calls waiting for their reply.\n"
             "# TYPE enoki_rpc_in_flight gauge\nenoki_rpc_in_flight %lld\n"
             "# HELP enoki_broker_reconnects_total Connections to the broker made again.\n"
             "# TYPE enoki_broker_reconnects_total counter\nenoki_broker_reconnects_total %llu\n",
             (long long)t.in_flight, (unsigned long long)t.reconnects);
    add_line(&b,
             "# HELP enoki_rpc_deadlines_missed_total Calls that got no reply before their "
             "deadline.\n"
             "# TYPE enoki_rpc_deadlines_missed_total counter\n"
             "enoki_rpc_deadlines_missed_total %llu\n"
             "# HELP enoki_rpc_unknown_services_total Calls no queue was bound for.\n"
             "# TYPE enoki_rpc_unknown_services_total counter\n"
             "enoki_rpc_unknown_services_total %llu\n",
             (unsigned long long)t.timeouts, (unsigned long long)t.unknown_services);
    add_line(&b,
             "# HELP enoki_rpc_remote_errors_total Calls answered with an exception.\n"
             "# TYPE enoki_rpc_remote_errors_total counter\nenoki_rpc_remote_errors_total %llu\n"
             "# HELP enoki_rpc_broker_failures_total Calls failed by the loss of the broker.\n"
             "# TYPE enoki_rpc_broker_failures_total counter\n"
             "enoki_rpc_broker_failures_total %llu\n",
             (unsigned long long)t.remote_errors, (unsigned long long)t.broker_failures);
    add_line(&b,
             "# HELP enoki_broker_blocked Processes whose publishers the broker blocks (a "
             "resource alarm): 1 or 0 for one process, up to GATEWAY.workers.\n"
             "# TYPE enoki_broker_blocked gauge\nenoki_broker_blocked %lld\n",
             (long long)t.blocked);
    if (m->n_nodes > 0)
        add_line(&b, "# HELP enoki_broker_connected Processes connected to the broker node: 1 "
                     "or 0 for one process, up to GATEWAY.workers.\n"
                     "# TYPE enoki_broker_connected gauge\n");
    for (size_t i = 0; i < m->n_nodes; i++)
        add_line(&b, "enoki_broker_connected{node=\"%s\"} %d\n", m->nodes[i], connected_to(m, i));
    *out = b;
}
