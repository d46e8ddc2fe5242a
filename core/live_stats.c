#include "live_stats.h"

#include "xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { FIRST_BUCKET_LOG2 = 6, LAST_BUCKET_LOG2 = 26 };
#define NS_PER_S 1000000000ull
/* The rate is over the last minute (or the series' life, when shorter). */
#define RATE_WINDOW_S 60

/* A slot's stamp is the number of its time slice plus one: 0 is a slot never written. */
struct count_slot {
    uint32_t stamp, requests, errors;
};

struct latency_slot {
    uint32_t stamp;
    uint32_t buckets[GW_LIVE_BUCKETS];
};

struct series {
    char *key, *label;
    uint64_t born_ns;
    uint64_t requests_total, errors_total;
    long gauge;
    bool kept;
    struct count_slot *counts;    /* count_slots of them, after the struct */
    struct latency_slot *latency; /* latency_slots of them, after the counts */
};

struct gw_live_stats {
    struct gw_live_shape shape;
    size_t max_series;
    struct series **series; /* by id; NULL: free */
    size_t cap, used;
    /* Open addressing over ids (id + 1; 0 is empty), linear probing, at most half full. */
    int *slots;
    size_t n_slots;
    uint64_t epoch;
};

size_t gw_live_stats_series_bytes(const struct gw_live_shape *shape)
{
    return sizeof(struct series) + shape->count_slots * sizeof(struct count_slot) +
           shape->latency_slots * sizeof(struct latency_slot);
}

struct gw_live_stats *gw_live_stats_new(const struct gw_live_shape *shape, size_t max_series)
{
    struct gw_live_stats *s = xcalloc(1, sizeof(*s));
    s->shape = *shape;
    s->max_series = max_series;
    return s;
}

static void free_series(struct series *x)
{
    if (!x)
        return;
    free(x->key);
    free(x->label);
    free(x);
}

void gw_live_stats_free(struct gw_live_stats *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->cap; i++)
        free_series(s->series[i]);
    free(s->series);
    free(s->slots);
    free(s);
}

static size_t key_hash(const char *key)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return (size_t)h;
}

/* The slot holding key, or the empty slot where it goes. */
static size_t find_slot(const struct gw_live_stats *s, const char *key)
{
    size_t mask = s->n_slots - 1;
    for (size_t i = key_hash(key) & mask;; i = (i + 1) & mask) {
        int at = s->slots[i];
        if (at == 0 || strcmp(s->series[at - 1]->key, key) == 0)
            return i;
    }
}

static void rehash(struct gw_live_stats *s, size_t n_slots)
{
    free(s->slots);
    s->n_slots = n_slots;
    s->slots = xcalloc(n_slots, sizeof(*s->slots));
    for (size_t id = 0; id < s->cap; id++)
        if (s->series[id])
            s->slots[find_slot(s, s->series[id]->key)] = (int)id + 1;
}

int gw_live_stats_find(const struct gw_live_stats *s, const char *key)
{
    if (!s->n_slots)
        return -1;
    int at = s->slots[find_slot(s, key)];
    return at - 1;
}

/* Removes the table entry of key, shifting back the entries that probed past it. */
static void unlink_key(struct gw_live_stats *s, const char *key)
{
    size_t mask = s->n_slots - 1;
    size_t hole = find_slot(s, key);
    if (s->slots[hole] == 0)
        return;
    for (size_t j = (hole + 1) & mask; s->slots[j]; j = (j + 1) & mask) {
        size_t home = key_hash(s->series[s->slots[j] - 1]->key) & mask;
        /* The entry at j may fill the hole when its home is not in (hole, j], cyclically. */
        bool stays = hole < j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!stays) {
            s->slots[hole] = s->slots[j];
            hole = j;
        }
    }
    s->slots[hole] = 0;
}

void gw_live_stats_drop(struct gw_live_stats *s, int id)
{
    if (id < 0 || (size_t)id >= s->cap || !s->series[id])
        return;
    unlink_key(s, s->series[id]->key);
    free_series(s->series[id]);
    s->series[id] = NULL;
    s->used--;
}

static struct series *new_series(const struct gw_live_shape *shape, const char *key,
                                 uint64_t now_ns)
{
    size_t counts = shape->count_slots * sizeof(struct count_slot);
    struct series *x = xcalloc(1, gw_live_stats_series_bytes(shape));
    x->counts = (struct count_slot *)(void *)(x + 1);
    x->latency = (struct latency_slot *)(void *)((char *)x->counts + counts);
    x->key = xstrdup(key);
    x->born_ns = now_ns;
    return x;
}

int gw_live_stats_id(struct gw_live_stats *s, const char *key, const char *label, uint64_t now_ns)
{
    int id = gw_live_stats_find(s, key);
    if (id < 0) {
        if (s->used >= s->max_series)
            return -1;
        size_t free_id = 0;
        while (free_id < s->cap && s->series[free_id])
            free_id++;
        if (free_id == s->cap) {
            size_t cap = s->cap ? s->cap * 2 : 16;
            s->series = xrealloc(s->series, cap * sizeof(*s->series));
            memset(s->series + s->cap, 0, (cap - s->cap) * sizeof(*s->series));
            s->cap = cap;
        }
        s->series[free_id] = new_series(&s->shape, key, now_ns);
        s->used++;
        id = (int)free_id;
        if (s->n_slots < 2 * s->cap)
            rehash(s, 4 * s->cap);
        else
            s->slots[find_slot(s, key)] = id + 1;
    }
    struct series *x = s->series[id];
    if (label && (!x->label || strcmp(x->label, label) != 0)) {
        free(x->label);
        x->label = xstrdup(label);
    }
    x->kept = true;
    return id;
}

void gw_live_stats_mark_none(struct gw_live_stats *s)
{
    for (size_t i = 0; i < s->cap; i++)
        if (s->series[i])
            s->series[i]->kept = false;
}

void gw_live_stats_sweep(struct gw_live_stats *s)
{
    for (size_t i = 0; i < s->cap; i++)
        if (s->series[i] && !s->series[i]->kept)
            gw_live_stats_drop(s, (int)i);
    s->epoch++;
}

uint64_t gw_live_stats_epoch(const struct gw_live_stats *s)
{
    return s->epoch;
}

unsigned gw_live_bucket(uint64_t duration_ns)
{
    uint64_t us = duration_ns / 1000;
    if (us < (1u << FIRST_BUCKET_LOG2))
        return 0;
    unsigned log2 = 63u - (unsigned)__builtin_clzll(us);
    if (log2 >= LAST_BUCKET_LOG2)
        return GW_LIVE_BUCKETS - 1;
    unsigned half = (unsigned)(us >> (log2 - 1)) & 1u;
    return 1 + (log2 - FIRST_BUCKET_LOG2) * 2 + half;
}

void gw_live_bucket_bounds(unsigned bucket, double *lo_us, double *hi_us)
{
    if (bucket == 0) {
        *lo_us = 0;
        *hi_us = 1u << FIRST_BUCKET_LOG2;
        return;
    }
    if (bucket >= GW_LIVE_BUCKETS - 1) {
        *lo_us = ldexp(1, LAST_BUCKET_LOG2);
        *hi_us = HUGE_VAL;
        return;
    }
    double power = ldexp(1, (int)(FIRST_BUCKET_LOG2 + (bucket - 1) / 2));
    bool upper_half = (bucket - 1) % 2;
    *lo_us = upper_half ? power * 1.5 : power;
    *hi_us = upper_half ? power * 2 : power * 1.5;
}

/* A bucket's value for a percentile: the geometric middle of its bounds, in ms. */
static double bucket_ms(unsigned bucket)
{
    double lo, hi;
    gw_live_bucket_bounds(bucket, &lo, &hi);
    if (bucket == 0)
        return hi / 2 / 1000;
    if (isinf(hi))
        return lo / 1000;
    return sqrt(lo * hi) / 1000;
}

static uint32_t slice_stamp(uint64_t now_ns, unsigned slot_s)
{
    return (uint32_t)(now_ns / NS_PER_S / slot_s) + 1;
}

void gw_live_stats_record(struct gw_live_stats *s, int id, uint64_t now_ns, uint64_t duration_ns,
                          bool error)
{
    if (id < 0)
        return;
    struct series *x = s->series[id];
    const struct gw_live_shape *shape = &s->shape;
    uint32_t stamp = slice_stamp(now_ns, shape->count_slot_s);
    struct count_slot *c = &x->counts[stamp % shape->count_slots];
    if (c->stamp != stamp)
        *c = (struct count_slot){.stamp = stamp};
    c->requests++;
    c->errors += error;
    x->requests_total++;
    x->errors_total += error;
    if (!shape->latency_slots)
        return;
    stamp = slice_stamp(now_ns, shape->latency_slot_s);
    struct latency_slot *l = &x->latency[stamp % shape->latency_slots];
    if (l->stamp != stamp) {
        memset(l, 0, sizeof(*l));
        l->stamp = stamp;
    }
    l->buckets[gw_live_bucket(duration_ns)]++;
}

long gw_live_stats_gauge(struct gw_live_stats *s, int id, long delta)
{
    if (id < 0)
        return 0;
    return s->series[id]->gauge += delta;
}

size_t gw_live_stats_count(const struct gw_live_stats *s)
{
    return s->used;
}

size_t gw_live_stats_ids(const struct gw_live_stats *s, int *ids)
{
    size_t n = 0;
    for (size_t i = 0; i < s->cap; i++)
        if (s->series[i])
            ids[n++] = (int)i;
    return n;
}

/* Whether a slot stamped stamp is among the n slices up to now's. */
static bool in_window(uint32_t stamp, uint32_t now_stamp, unsigned n)
{
    return stamp && stamp <= now_stamp && now_stamp - stamp < n;
}

/* The value at rank q (0..1) of a histogram of total entries; -1 for none. */
static double percentile(const uint64_t *buckets, uint64_t total, double q)
{
    if (!total)
        return -1;
    uint64_t rank = (uint64_t)ceil(q * (double)total);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned b = 0; b < GW_LIVE_BUCKETS; b++) {
        seen += buckets[b];
        if (seen >= rank)
            return bucket_ms(b);
    }
    return bucket_ms(GW_LIVE_BUCKETS - 1);
}

void gw_live_stats_summary(const struct gw_live_stats *s, int id, uint64_t now_ns,
                           struct gw_live_summary *out)
{
    const struct series *x = s->series[id];
    const struct gw_live_shape *shape = &s->shape;
    memset(out, 0, sizeof(*out));
    out->key = x->key;
    out->label = x->label;
    out->requests_total = x->requests_total;
    out->errors_total = x->errors_total;
    out->gauge = x->gauge;
    uint32_t now_stamp = slice_stamp(now_ns, shape->count_slot_s);
    unsigned rate_slots = (RATE_WINDOW_S + shape->count_slot_s - 1) / shape->count_slot_s;
    uint64_t recent = 0;
    for (unsigned i = 0; i < shape->count_slots; i++) {
        const struct count_slot *c = &x->counts[i];
        if (!in_window(c->stamp, now_stamp, shape->count_slots))
            continue;
        out->requests += c->requests;
        out->errors += c->errors;
        if (now_stamp - c->stamp < rate_slots)
            recent += c->requests;
    }
    /* The rate's slots end now, in the middle of the current one; they begin no earlier than the
     * series. */
    double into_slot = (double)(now_ns % ((uint64_t)shape->count_slot_s * NS_PER_S)) / 1e9;
    double covered = (rate_slots - 1) * (double)shape->count_slot_s + into_slot;
    double age = (double)(now_ns - x->born_ns) / 1e9;
    if (age < covered)
        covered = age;
    if (covered < 1)
        covered = 1;
    out->rate = (double)recent / covered;
    out->error_rate = out->requests ? (double)out->errors / (double)out->requests : 0;
    uint64_t buckets[GW_LIVE_BUCKETS] = {0};
    uint64_t total = 0;
    uint32_t lat_now = shape->latency_slots ? slice_stamp(now_ns, shape->latency_slot_s) : 0;
    for (unsigned i = 0; i < shape->latency_slots; i++) {
        const struct latency_slot *l = &x->latency[i];
        if (!in_window(l->stamp, lat_now, shape->latency_slots))
            continue;
        for (unsigned b = 0; b < GW_LIVE_BUCKETS; b++) {
            buckets[b] += l->buckets[b];
            total += l->buckets[b];
        }
    }
    out->p50_ms = percentile(buckets, total, 0.5);
    out->p99_ms = percentile(buckets, total, 0.99);
}

void gw_live_stats_series(const struct gw_live_stats *s, int id, uint64_t now_ns,
                          uint32_t *requests, uint32_t *errors, double *p99_ms)
{
    const struct series *x = s->series[id];
    const struct gw_live_shape *shape = &s->shape;
    unsigned n = shape->count_slots;
    uint32_t now_stamp = slice_stamp(now_ns, shape->count_slot_s);
    for (unsigned k = 0; k < n; k++) {
        /* k-th oldest: the slice now_stamp - (n - 1 - k). */
        uint32_t want = now_stamp - (n - 1 - k);
        const struct count_slot *c = &x->counts[want % n];
        bool here = want >= 1 && c->stamp == want;
        if (requests)
            requests[k] = here ? c->requests : 0;
        if (errors)
            errors[k] = here ? c->errors : 0;
        if (!p99_ms)
            continue;
        p99_ms[k] = -1;
        if (shape->latency_slot_s != shape->count_slot_s || shape->latency_slots != n)
            continue;
        const struct latency_slot *l = &x->latency[want % n];
        if (want < 1 || l->stamp != want)
            continue;
        uint64_t buckets[GW_LIVE_BUCKETS], total = 0;
        for (unsigned b = 0; b < GW_LIVE_BUCKETS; b++)
            total += buckets[b] = l->buckets[b];
        p99_ms[k] = percentile(buckets, total, 0.99);
    }
}

/* --- export and merge (GATEWAY.workers, docs/workers.md) ---------------------------------------
 */

/* An export: the shape, then per series a record: its fixed part, its count and latency slots, its
 * key and label (each NUL-terminated), padded to 8 bytes. Read and written with memcpy: the
 * buffer has no alignment of its own. */
struct export_head {
    struct gw_live_shape shape;
    uint32_t n_series;
};

struct record_head {
    uint64_t born_ns, requests_total, errors_total;
    int64_t gauge;
    uint32_t key_len, label_len; /* label_len 0: none */
};

static size_t record_bytes(const struct gw_live_shape *shape, size_t key_len, size_t label_len)
{
    size_t n = sizeof(struct record_head) + shape->count_slots * sizeof(struct count_slot) +
               shape->latency_slots * sizeof(struct latency_slot) + key_len + 1 + label_len + 1;
    return (n + 7) & ~(size_t)7;
}

size_t gw_live_stats_export_bytes(const struct gw_live_stats *s)
{
    size_t n = sizeof(struct export_head);
    for (size_t id = 0; id < s->cap; id++)
        if (s->series[id])
            n += record_bytes(&s->shape, strlen(s->series[id]->key),
                              s->series[id]->label ? strlen(s->series[id]->label) : 0);
    return n;
}

size_t gw_live_stats_export(const struct gw_live_stats *s, void *buf, size_t cap)
{
    const struct gw_live_shape *shape = &s->shape;
    struct export_head head = {.shape = *shape};
    size_t at = sizeof(head);
    if (cap < at)
        return 0;
    size_t counts = shape->count_slots * sizeof(struct count_slot);
    size_t latency = shape->latency_slots * sizeof(struct latency_slot);
    for (size_t id = 0; id < s->cap; id++) {
        const struct series *x = s->series[id];
        if (!x)
            continue;
        size_t key_len = strlen(x->key), label_len = x->label ? strlen(x->label) : 0;
        size_t size = record_bytes(shape, key_len, label_len);
        if (size > cap - at)
            continue; /* no room: the series is left out */
        unsigned char *p = (unsigned char *)buf + at;
        struct record_head r = {x->born_ns,        x->requests_total, x->errors_total,
                                (int64_t)x->gauge, (uint32_t)key_len, (uint32_t)label_len};
        memset(p, 0, size);
        memcpy(p, &r, sizeof(r));
        p += sizeof(r);
        memcpy(p, x->counts, counts);
        memcpy(p + counts, x->latency, latency);
        p += counts + latency;
        memcpy(p, x->key, key_len);
        if (label_len)
            memcpy(p + key_len + 1, x->label, label_len);
        at += size;
        head.n_series++;
    }
    memcpy(buf, &head, sizeof(head));
    return at;
}

/* Adds a slot of another store into one of this store's: same slice, summed; a newer slice
 * replaces an older one; an older one is out of the window already. */
static void merge_counts(struct count_slot *to, const struct count_slot *from)
{
    if (!from->stamp || from->stamp < to->stamp)
        return;
    if (from->stamp > to->stamp)
        *to = (struct count_slot){.stamp = from->stamp};
    to->requests += from->requests;
    to->errors += from->errors;
}

static void merge_latency(struct latency_slot *to, const struct latency_slot *from)
{
    if (!from->stamp || from->stamp < to->stamp)
        return;
    if (from->stamp > to->stamp) {
        memset(to, 0, sizeof(*to));
        to->stamp = from->stamp;
    }
    for (unsigned b = 0; b < GW_LIVE_BUCKETS; b++)
        to->buckets[b] += from->buckets[b];
}

void gw_live_stats_merge(struct gw_live_stats *s, const void *buf, size_t len, bool gauges)
{
    const struct gw_live_shape *shape = &s->shape;
    struct export_head head;
    if (len < sizeof(head))
        return;
    memcpy(&head, buf, sizeof(head));
    if (memcmp(&head.shape, shape, sizeof(*shape)) != 0)
        return; /* another kind of store */
    size_t at = sizeof(head);
    for (uint32_t i = 0; i < head.n_series; i++) {
        struct record_head r;
        if (len - at < sizeof(r))
            return;
        const unsigned char *p = (const unsigned char *)buf + at;
        memcpy(&r, p, sizeof(r));
        size_t size = record_bytes(shape, r.key_len, r.label_len);
        if (r.key_len > len || r.label_len > len || size > len - at)
            return; /* cut short: what was read stays */
        at += size;
        const unsigned char *slots = p + sizeof(r);
        size_t counts = shape->count_slots * sizeof(struct count_slot);
        size_t latency = shape->latency_slots * sizeof(struct latency_slot);
        const char *key = (const char *)slots + counts + latency;
        const char *label = r.label_len ? key + r.key_len + 1 : NULL;
        int id = gw_live_stats_find(s, key);
        if (id < 0)
            id = gw_live_stats_id(s, key, label, r.born_ns);
        if (id < 0)
            continue; /* the store is full */
        struct series *x = s->series[id];
        if (r.born_ns < x->born_ns)
            x->born_ns = r.born_ns;
        x->requests_total += r.requests_total;
        x->errors_total += r.errors_total;
        if (gauges)
            x->gauge += (long)r.gauge;
        for (unsigned k = 0; k < shape->count_slots; k++) {
            struct count_slot from;
            memcpy(&from, slots + k * sizeof(from), sizeof(from));
            merge_counts(&x->counts[k], &from);
        }
        for (unsigned k = 0; k < shape->latency_slots; k++) {
            struct latency_slot from;
            memcpy(&from, slots + counts + k * sizeof(from), sizeof(from));
            merge_latency(&x->latency[k], &from);
        }
    }
}
