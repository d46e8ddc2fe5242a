#include "metrics.h"

#include "status.h"
#include "strbuf.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Seconds; Prometheus' default buckets, from 1 ms. */
static const double buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                 0.25,  0.5,    1,     2.5,  5,     10};
enum { N_BUCKETS = sizeof(buckets) / sizeof(buckets[0]) };

static const char *const kill_reasons[] = {"stalled",        "request_timeout",   "write_timeout",
                                           "header_timeout", "websocket_timeout", "abandoned"};
enum { N_KILL_REASONS = sizeof(kill_reasons) / sizeof(kill_reasons[0]) };

struct request_count {
    char *route;
    int status;
    uint64_t count;
};

struct gw_metrics {
    struct request_count *requests; /* in first-seen order, as /metrics lists them */
    size_t n_requests, cap_requests;
    /* Open addressing over requests (index + 1; 0 is empty), twice their capacity: a request's
     * counter is found without comparing its route against every other one. */
    size_t *slots;
    size_t n_slots;
    uint64_t latency[N_BUCKETS + 1]; /* cumulative at render; here per bucket, +Inf last */
    double latency_sum;
    uint64_t latency_count;
    uint64_t timeouts, unknown_services, remote_errors, broker_failures;
    uint64_t reconnects;
    uint64_t killed[N_KILL_REASONS];
    size_t in_flight;
    long websockets;
};

struct gw_metrics *gw_metrics_new(void)
{
    return xcalloc(1, sizeof(struct gw_metrics));
}

void gw_metrics_free(struct gw_metrics *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_requests; i++)
        free(m->requests[i].route);
    free(m->requests);
    free(m->slots);
    free(m);
}

static size_t request_hash(const char *route, int status)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)(unsigned)status; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)route; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return (size_t)h;
}

/* The slot holding (route, status), or the empty slot where it goes. */
static size_t *request_slot(struct gw_metrics *m, const char *route, int status)
{
    size_t mask = m->n_slots - 1;
    for (size_t i = request_hash(route, status) & mask;; i = (i + 1) & mask) {
        size_t *slot = &m->slots[i];
        if (*slot == 0)
            return slot;
        const struct request_count *r = &m->requests[*slot - 1];
        if (r->status == status && strcmp(r->route, route) == 0)
            return slot;
    }
}

void gw_metrics_request(struct gw_metrics *m, const char *route, int status)
{
    if (m->n_slots) {
        size_t *slot = request_slot(m, route, status);
        if (*slot) {
            m->requests[*slot - 1].count++;
            return;
        }
    }
    if (m->n_requests == m->cap_requests) {
        m->cap_requests = m->cap_requests ? m->cap_requests * 2 : 32;
        m->requests = xrealloc(m->requests, m->cap_requests * sizeof(*m->requests));
        free(m->slots);
        m->n_slots = m->cap_requests * 2;
        m->slots = xcalloc(m->n_slots, sizeof(*m->slots));
        for (size_t i = 0; i < m->n_requests; i++)
            *request_slot(m, m->requests[i].route, m->requests[i].status) = i + 1;
    }
    m->requests[m->n_requests++] = (struct request_count){xstrdup(route), status, 1};
    *request_slot(m, route, status) = m->n_requests;
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

void gw_metrics_connection_killed(struct gw_metrics *m, const char *reason)
{
    if (!m)
        return;
    for (size_t i = 0; i < N_KILL_REASONS; i++)
        if (strcmp(kill_reasons[i], reason) == 0)
            m->killed[i]++;
}

void gw_metrics_set_in_flight(struct gw_metrics *m, size_t calls)
{
    m->in_flight = calls;
}

void gw_metrics_add_websockets(struct gw_metrics *m, int delta)
{
    m->websockets += delta;
}

/* A label value: backslash, double quote and newline escaped. */
static void add_label(struct gw_strbuf *b, const char *value)
{
    for (const char *p = value; *p; p++) {
        if (*p == '\\' || *p == '"')
            gw_strbuf_add(b, "\\", 1);
        if (*p == '\n')
            gw_strbuf_adds(b, "\\n");
        else
            gw_strbuf_add(b, p, 1);
    }
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

char *gw_metrics_render(const struct gw_metrics *m, size_t *len)
{
    struct gw_strbuf b = {0};
    add_line(&b, "# HELP enoki_http_requests_total HTTP requests answered, by route and status.\n"
                 "# TYPE enoki_http_requests_total counter\n");
    for (size_t i = 0; i < m->n_requests; i++) {
        gw_strbuf_adds(&b, "enoki_http_requests_total{route=\"");
        add_label(&b, m->requests[i].route);
        add_line(&b, "\",status=\"%d\"} %llu\n", m->requests[i].status,
                 (unsigned long long)m->requests[i].count);
    }
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
             "# HELP enoki_websocket_connections Open websockets.\n"
             "# TYPE enoki_websocket_connections gauge\nenoki_websocket_connections %ld\n"
             "# HELP enoki_broker_reconnects_total Connections to the broker made again.\n"
             "# TYPE enoki_broker_reconnects_total counter\nenoki_broker_reconnects_total %llu\n",
             m->in_flight, m->websockets, (unsigned long long)m->reconnects);
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
             "# HELP enoki_connections_killed_total Connections closed for making no progress.\n"
             "# TYPE enoki_connections_killed_total counter\n");
    for (size_t i = 0; i < N_KILL_REASONS; i++)
        add_line(&b, "enoki_connections_killed_total{reason=\"%s\"} %llu\n", kill_reasons[i],
                 (unsigned long long)m->killed[i]);
    if (len)
        *len = b.len;
    return gw_strbuf_take(&b);
}
