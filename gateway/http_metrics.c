#include "http_metrics.h"

#include "core/metrics.h"
#include "core/strbuf.h"
#include "core/util.h"
#include "core/xalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kill_reasons[GW_KILL_REASONS] = {
    [GW_KILL_STALLED] = "stalled",
    [GW_KILL_REQUEST_TIMEOUT] = "request_timeout",
    [GW_KILL_WRITE_TIMEOUT] = "write_timeout",
    [GW_KILL_HEADER_TIMEOUT] = "header_timeout",
    [GW_KILL_WEBSOCKET_TIMEOUT] = "websocket_timeout",
    [GW_KILL_ABANDONED] = "abandoned",
};

struct request_count {
    char *route;
    int status;
    uint64_t count;
};

struct gw_http_metrics {
    const struct gw_metrics *rpc;
    struct request_count *requests; /* in first-seen order, as /metrics lists them */
    size_t n_requests, cap_requests;
    /* Open addressing over requests (index + 1; 0 is empty), twice their capacity: a request's
     * counter is found without comparing its route against every other one. */
    size_t *slots;
    size_t n_slots;
    /* Calls refused by a rate limit, by route: only routes that were limited are listed, and
     * their labels are bounded (rules, "generic", "websocket"), so a short list does. */
    struct request_count *limited;
    size_t n_limited;
    uint64_t killed[GW_KILL_REASONS];
    long websockets;
};

struct gw_http_metrics *gw_http_metrics_new(const struct gw_metrics *rpc)
{
    struct gw_http_metrics *m = xcalloc(1, sizeof(*m));
    m->rpc = rpc;
    return m;
}

void gw_http_metrics_free(struct gw_http_metrics *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_requests; i++)
        free(m->requests[i].route);
    free(m->requests);
    for (size_t i = 0; i < m->n_limited; i++)
        free(m->limited[i].route);
    free(m->limited);
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
static size_t *request_slot(struct gw_http_metrics *m, const char *route, int status)
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

void gw_metrics_request(struct gw_http_metrics *m, const char *route, int status)
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

void gw_metrics_rate_limited(struct gw_http_metrics *m, const char *route)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_limited; i++) {
        if (strcmp(m->limited[i].route, route) == 0) {
            m->limited[i].count++;
            return;
        }
    }
    m->limited = xrealloc(m->limited, (m->n_limited + 1) * sizeof(*m->limited));
    m->limited[m->n_limited++] = (struct request_count){xstrdup(route), 429, 1};
}

void gw_metrics_connection_killed(struct gw_http_metrics *m, enum gw_kill_reason reason)
{
    if (m && reason < GW_KILL_REASONS)
        m->killed[reason]++;
}

void gw_metrics_add_websockets(struct gw_http_metrics *m, int delta)
{
    if (m)
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

char *gw_http_metrics_render(const struct gw_http_metrics *m, size_t *len)
{
    struct gw_strbuf b = {0};
    char line[256];
    gw_strbuf_adds(&b, "# HELP enoki_http_requests_total HTTP requests answered, by route and "
                       "status.\n# TYPE enoki_http_requests_total counter\n");
    for (size_t i = 0; i < m->n_requests; i++) {
        gw_strbuf_adds(&b, "enoki_http_requests_total{route=\"");
        add_label(&b, m->requests[i].route);
        snprintf(line, sizeof(line), "\",status=\"%d\"} %llu\n", m->requests[i].status,
                 (unsigned long long)m->requests[i].count);
        gw_strbuf_adds(&b, line);
    }
    gw_strbuf_adds(&b, "# HELP enoki_rate_limited_total Calls refused by a rate limit, by route.\n"
                       "# TYPE enoki_rate_limited_total counter\n");
    for (size_t i = 0; i < m->n_limited; i++) {
        gw_strbuf_adds(&b, "enoki_rate_limited_total{route=\"");
        add_label(&b, m->limited[i].route);
        snprintf(line, sizeof(line), "\"} %llu\n", (unsigned long long)m->limited[i].count);
        gw_strbuf_adds(&b, line);
    }
    if (m->rpc)
        gw_metrics_render(m->rpc, &b);
    snprintf(line, sizeof(line),
             "# HELP enoki_websocket_connections Open websockets.\n"
             "# TYPE enoki_websocket_connections gauge\nenoki_websocket_connections %ld\n",
             m->websockets);
    gw_strbuf_adds(&b, line);
    gw_strbuf_adds(&b, "# HELP enoki_connections_killed_total Connections closed for making no "
                       "progress.\n# TYPE enoki_connections_killed_total counter\n");
    for (size_t i = 0; i < ARRAY_LEN(kill_reasons); i++) {
        snprintf(line, sizeof(line), "enoki_connections_killed_total{reason=\"%s\"} %llu\n",
                 kill_reasons[i], (unsigned long long)m->killed[i]);
        gw_strbuf_adds(&b, line);
    }
    if (len)
        *len = b.len;
    return gw_strbuf_take(&b);
}
