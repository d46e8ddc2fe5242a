#include "http_metrics.h"

#include "core/metrics.h"
#include "core/strbuf.h"
#include "core/util.h"
#include "core/xalloc.h"

#include <stdatomic.h>
#include <stdbool.h>
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

/* The shared slot's bounds (docs/workers.md): distinct (route, status) pairs and rate-limited
 * routes one process counts; a label is cut to LABEL_BYTES - 1 bytes. Beyond the last entry, pairs
 * are counted under OVERFLOW_LABEL (status 0). */
enum { MAX_REQUESTS = 4096, MAX_LIMITED = 256, LABEL_BYTES = 176 };
#define OVERFLOW_LABEL "(other)"

/* A counter of one label, as it lies in the shared slot: written once (label, status) before
 * the slot's count of entries is raised past it, then counted. */
struct shared_count {
    char label[LABEL_BYTES];
    int32_t status;
    _Atomic uint64_t count;
};

/* One process's numbers, which every worker can read; each process writes its own only. */
struct http_slot {
    _Atomic uint64_t killed[GW_KILL_REASONS];
    _Atomic int64_t websockets; /* a gauge: zeroed when the process is replaced */
    _Atomic uint32_t n_requests, n_limited;
    struct shared_count requests[MAX_REQUESTS];
    struct shared_count limited[MAX_LIMITED];
};

/* Labels found by (label, status) with open addressing: the process's own way to its entries, and
 * the totals when rendering. value: an entry's index, or a sum. */
struct label_entry {
    const char *label; /* borrowed from the slot */
    int status;
    uint64_t value;
};

struct label_index {
    struct label_entry *entries; /* in first-seen order, as /metrics lists them */
    size_t n, cap;
    size_t *slots; /* entry index + 1; 0 is empty; twice the capacity */
    size_t n_slots;
};

struct gw_http_metrics {
    const struct gw_metrics *rpc;
    struct http_slot *self;
    const unsigned char *area; /* every process's slot, stride bytes apart */
    size_t stride;
    int n;
    bool owns_area;
    struct label_index requests, limited; /* into self's entries */
};

static size_t label_hash(const char *label, int status)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)(unsigned)status; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)label; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return (size_t)h;
}

/* The slot holding (label, status), or the empty slot where it goes. */
static size_t *index_slot(const struct label_index *x, const char *label, int status)
{
    size_t mask = x->n_slots - 1;
    for (size_t i = label_hash(label, status) & mask;; i = (i + 1) & mask) {
        size_t *slot = &x->slots[i];
        if (*slot == 0)
            return slot;
        const struct label_entry *e = &x->entries[*slot - 1];
        if (e->status == status && strcmp(e->label, label) == 0)
            return slot;
    }
}

/* The entry of (label, status), or NULL. */
static struct label_entry *index_find(const struct label_index *x, const char *label, int status)
{
    if (!x->n_slots)
        return NULL;
    size_t *slot = index_slot(x, label, status);
    return *slot ? &x->entries[*slot - 1] : NULL;
}

/* Adds (label, status) with value; label is borrowed. */
static struct label_entry *index_add(struct label_index *x, const char *label, int status,
                                     uint64_t value)
{
    if (x->n == x->cap) {
        x->cap = x->cap ? x->cap * 2 : 32;
        x->entries = xrealloc(x->entries, x->cap * sizeof(*x->entries));
        free(x->slots);
        x->n_slots = x->cap * 2;
        x->slots = xcalloc(x->n_slots, sizeof(*x->slots));
        for (size_t i = 0; i < x->n; i++)
            *index_slot(x, x->entries[i].label, x->entries[i].status) = i + 1;
    }
    x->entries[x->n++] = (struct label_entry){label, status, value};
    *index_slot(x, label, status) = x->n;
    return &x->entries[x->n - 1];
}

static void index_clear(struct label_index *x)
{
    free(x->entries);
    free(x->slots);
    memset(x, 0, sizeof(*x));
}

/* The process's entries as its slot holds them (a replacement goes on counting in them). */
static void index_slot_entries(struct label_index *x, const struct shared_count *entries,
                               const _Atomic uint32_t *n)
{
    uint32_t count = atomic_load_explicit(n, memory_order_acquire);
    for (uint32_t i = 0; i < count; i++)
        index_add(x, entries[i].label, entries[i].status, i);
}

size_t gw_http_metrics_slot_bytes(void)
{
    return sizeof(struct http_slot);
}

void gw_http_metrics_clear_gauges(void *slot)
{
    atomic_store_explicit(&((struct http_slot *)slot)->websockets, 0, memory_order_relaxed);
}

struct gw_http_metrics *gw_http_metrics_new_shared(const struct gw_metrics *rpc, void *area,
                                                   size_t stride, int n, int self)
{
    struct gw_http_metrics *m = xcalloc(1, sizeof(*m));
    m->rpc = rpc;
    m->area = area;
    m->stride = stride;
    m->n = n;
    m->self = (struct http_slot *)(void *)((unsigned char *)area + (size_t)self * stride);
    gw_http_metrics_clear_gauges(m->self);
    index_slot_entries(&m->requests, m->self->requests, &m->self->n_requests);
    index_slot_entries(&m->limited, m->self->limited, &m->self->n_limited);
    return m;
}

struct gw_http_metrics *gw_http_metrics_new(const struct gw_metrics *rpc)
{
    struct http_slot *slot = xcalloc(1, sizeof(*slot));
    struct gw_http_metrics *m = gw_http_metrics_new_shared(rpc, slot, sizeof(*slot), 1, 0);
    m->owns_area = true;
    return m;
}

void gw_http_metrics_free(struct gw_http_metrics *m)
{
    if (!m)
        return;
    index_clear(&m->requests);
    index_clear(&m->limited);
    if (m->owns_area)
        free(m->self);
    free(m);
}

/* Counts (label, status) in the process's entries, made when new: a label is cut to fit, and the
 * last entry, OVERFLOW_LABEL, takes every pair that finds no room. */
static void count_label(struct label_index *x, struct shared_count *entries, _Atomic uint32_t *n,
                        uint32_t max, const char *label, int status)
{
    struct label_entry *e = index_find(x, label, status);
    uint32_t used = atomic_load_explicit(n, memory_order_relaxed);
    char fitted[LABEL_BYTES];
    if (!e && (used >= max - 1 || strlen(label) >= LABEL_BYTES)) {
        bool full = used >= max - 1;
        if (full) {
            memcpy(fitted, OVERFLOW_LABEL, sizeof(OVERFLOW_LABEL));
        } else {
            /* Cut at a character's start: Prometheus refuses a label value that is not UTF-8. */
            memcpy(fitted, label, LABEL_BYTES);
            size_t cut = LABEL_BYTES - 1;
            while (cut > 0 && ((unsigned char)fitted[cut] & 0xC0) == 0x80)
                cut--;
            fitted[cut] = '\0';
        }
        status = full ? 0 : status;
        e = index_find(x, fitted, status);
        if (!e && used >= max)
            return; /* unreachable: the overflow entry is made before the table fills */
        label = fitted;
    }
    if (e) {
        gw_counter_add(&entries[e->value].count, 1);
        return;
    }
    struct shared_count *c = &entries[used];
    memcpy(c->label, label, strlen(label) + 1);
    c->status = status;
    atomic_store_explicit(&c->count, 1, memory_order_relaxed);
    atomic_store_explicit(n, used + 1, memory_order_release); /* readers see it whole */
    index_add(x, c->label, status, used);
}

void gw_metrics_request(struct gw_http_metrics *m, const char *route, int status)
{
    count_label(&m->requests, m->self->requests, &m->self->n_requests, MAX_REQUESTS, route, status);
}

void gw_metrics_rate_limited(struct gw_http_metrics *m, const char *route)
{
    if (m)
        count_label(&m->limited, m->self->limited, &m->self->n_limited, MAX_LIMITED, route, 429);
}

void gw_metrics_connection_killed(struct gw_http_metrics *m, enum gw_kill_reason reason)
{
    if (m && reason < GW_KILL_REASONS)
        gw_counter_add(&m->self->killed[reason], 1);
}

void gw_metrics_add_websockets(struct gw_http_metrics *m, int delta)
{
    if (m)
        atomic_store_explicit(&m->self->websockets,
                              atomic_load_explicit(&m->self->websockets, memory_order_relaxed) +
                                  delta,
                              memory_order_relaxed);
}

static const struct http_slot *slot_of(const struct gw_http_metrics *m, int i)
{
    return (const struct http_slot *)(const void *)(m->area + (size_t)i * m->stride);
}

/* Every process's entries of one kind added up by (label, status), in first-seen order. */
static void add_up(const struct gw_http_metrics *m, bool limited, struct label_index *totals)
{
    for (int i = 0; i < m->n; i++) {
        const struct http_slot *s = slot_of(m, i);
        const struct shared_count *entries = limited ? s->limited : s->requests;
        uint32_t n =
            atomic_load_explicit(limited ? &s->n_limited : &s->n_requests, memory_order_acquire);
        for (uint32_t k = 0; k < n; k++) {
            uint64_t count = atomic_load_explicit(&entries[k].count, memory_order_relaxed);
            struct label_entry *e = index_find(totals, entries[k].label, entries[k].status);
            if (e)
                e->value += count;
            else
                index_add(totals, entries[k].label, entries[k].status, count);
        }
    }
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

static void render_counts(struct gw_strbuf *b, const struct gw_http_metrics *m, bool limited)
{
    struct label_index totals = {0};
    add_up(m, limited, &totals);
    char line[256];
    for (size_t i = 0; i < totals.n; i++) {
        const struct label_entry *e = &totals.entries[i];
        gw_strbuf_adds(b, limited ? "enoki_rate_limited_total{route=\""
                                  : "enoki_http_requests_total{route=\"");
        add_label(b, e->label);
        if (limited)
            snprintf(line, sizeof(line), "\"} %llu\n", (unsigned long long)e->value);
        else
            snprintf(line, sizeof(line), "\",status=\"%d\"} %llu\n", e->status,
                     (unsigned long long)e->value);
        gw_strbuf_adds(b, line);
    }
    index_clear(&totals);
}

char *gw_http_metrics_render(const struct gw_http_metrics *m, size_t *len)
{
    struct gw_strbuf b = {0};
    char line[256];
    gw_strbuf_adds(&b, "# HELP enoki_http_requests_total HTTP requests answered, by route and "
                       "status.\n# TYPE enoki_http_requests_total counter\n");
    render_counts(&b, m, false);
    gw_strbuf_adds(&b, "# HELP enoki_rate_limited_total Calls refused by a rate limit, by route.\n"
                       "# TYPE enoki_rate_limited_total counter\n");
    render_counts(&b, m, true);
    if (m->rpc)
        gw_metrics_render(m->rpc, &b);
    int64_t websockets = 0;
    uint64_t killed[GW_KILL_REASONS] = {0};
    for (int i = 0; i < m->n; i++) {
        const struct http_slot *s = slot_of(m, i);
        websockets += atomic_load_explicit(&s->websockets, memory_order_relaxed);
        for (size_t r = 0; r < GW_KILL_REASONS; r++)
            killed[r] += atomic_load_explicit(&s->killed[r], memory_order_relaxed);
    }
    snprintf(line, sizeof(line),
             "# HELP enoki_websocket_connections Open websockets.\n"
             "# TYPE enoki_websocket_connections gauge\nenoki_websocket_connections %lld\n",
             (long long)websockets);
    gw_strbuf_adds(&b, line);
    gw_strbuf_adds(&b, "# HELP enoki_connections_killed_total Connections closed for making no "
                       "progress.\n# TYPE enoki_connections_killed_total counter\n");
    for (size_t i = 0; i < ARRAY_LEN(kill_reasons); i++) {
        snprintf(line, sizeof(line), "enoki_connections_killed_total{reason=\"%s\"} %llu\n",
                 kill_reasons[i], (unsigned long long)killed[i]);
        gw_strbuf_adds(&b, line);
    }
    if (len)
        *len = b.len;
    return gw_strbuf_take(&b);
}
