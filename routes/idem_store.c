#include "routes/idem_store.h"

#include "core/xalloc.h"

#include <stdlib.h>
#include <string.h>

enum entry_state { IN_FLIGHT, KEPT, NOT_KEPT };

struct gw_idem_entry {
    uint8_t id[GW_IDEM_DIGEST_LEN];
    uint8_t fp[GW_IDEM_DIGEST_LEN];
    char *route;
    uint64_t began_ms;
    enum entry_state state;
    struct gw_response response; /* KEPT only */
    char *call_id;               /* KEPT only; NULL: none */
    size_t bytes;                /* counted in the store's bytes */
    void *waiters;
    struct gw_idem_entry *older, *newer; /* by age */
    struct gw_idem_entry *next_in_bucket;
};

struct gw_idem_store {
    struct gw_idem_limits limits;
    struct gw_idem_entry **buckets;
    size_t n_buckets; /* a power of two */
    struct gw_idem_entry *oldest, *newest;
    size_t count, in_flight, bytes;
};

static size_t bucket_of(const struct gw_idem_store *store, const uint8_t id[GW_IDEM_DIGEST_LEN])
{
    /* The id is a keyed digest: its first bytes are as good a hash as any. */
    uint64_t h = 0;
    memcpy(&h, id, sizeof(h));
    return (size_t)(h & (store->n_buckets - 1));
}

struct gw_idem_store *gw_idem_store_new(const struct gw_idem_limits *limits)
{
    struct gw_idem_store *store = xcalloc(1, sizeof(*store));
    store->limits = *limits;
    store->n_buckets = 64;
    store->buckets = xcalloc(store->n_buckets, sizeof(*store->buckets));
    return store;
}

static void free_entry(struct gw_idem_entry *e)
{
    gw_response_clear(&e->response);
    free(e->call_id);
    free(e->route);
    free(e);
}

void gw_idem_store_free(struct gw_idem_store *store)
{
    if (!store)
        return;
    for (struct gw_idem_entry *e = store->oldest, *next; e; e = next) {
        next = e->newer;
        free_entry(e);
    }
    free(store->buckets);
    free(store);
}

static void grow(struct gw_idem_store *store)
{
    size_t n = store->n_buckets * 2;
    struct gw_idem_entry **buckets = xcalloc(n, sizeof(*buckets));
    store->n_buckets = n;
    for (struct gw_idem_entry *e = store->oldest; e; e = e->newer) {
        size_t b = bucket_of(store, e->id);
        e->next_in_bucket = buckets[b];
        buckets[b] = e;
    }
    free(store->buckets);
    store->buckets = buckets;
}

static void drop(struct gw_idem_store *store, struct gw_idem_entry *e)
{
    struct gw_idem_entry **p = &store->buckets[bucket_of(store, e->id)];
    while (*p != e)
        p = &(*p)->next_in_bucket;
    *p = e->next_in_bucket;
    if (e->older)
        e->older->newer = e->newer;
    else
        store->oldest = e->newer;
    if (e->newer)
        e->newer->older = e->older;
    else
        store->newest = e->older;
    if (e->state == IN_FLIGHT)
        store->in_flight--;
    store->count--;
    store->bytes -= e->bytes;
    free_entry(e);
}

static bool expired(const struct gw_idem_store *store, const struct gw_idem_entry *e,
                    uint64_t now_ms)
{
    return now_ms - e->began_ms >= store->limits.ttl_ms;
}

static void expire(struct gw_idem_store *store, uint64_t now_ms)
{
    struct gw_idem_entry *e = store->oldest;
    while (e && expired(store, e, now_ms)) {
        struct gw_idem_entry *next = e->newer;
        if (e->state != IN_FLIGHT)
            drop(store, e);
        e = next;
    }
}

/* Drops the oldest completed entry other than spare; false when there is none. */
static bool drop_oldest_completed(struct gw_idem_store *store, const struct gw_idem_entry *spare)
{
    for (struct gw_idem_entry *e = store->oldest; e; e = e->newer)
        if (e->state != IN_FLIGHT && e != spare) {
            drop(store, e);
            return true;
        }
    return false;
}

/* Drops completed entries, oldest first, until extra entries and extra_bytes fit the limits. */
static bool make_room(struct gw_idem_store *store, size_t extra, size_t extra_bytes,
                      const struct gw_idem_entry *spare)
{
    while (store->count + extra > store->limits.max_entries ||
           store->bytes + extra_bytes > store->limits.max_bytes)
        if (!drop_oldest_completed(store, spare))
            return false;
    return true;
}

void gw_idem_store_set_limits(struct gw_idem_store *store, const struct gw_idem_limits *limits,
                              uint64_t now_ms)
{
    store->limits = *limits;
    expire(store, now_ms);
    make_room(store, 0, 0, NULL);
}

static struct gw_idem_entry *find(const struct gw_idem_store *store,
                                  const uint8_t id[GW_IDEM_DIGEST_LEN])
{
    for (struct gw_idem_entry *e = store->buckets[bucket_of(store, id)]; e; e = e->next_in_bucket)
        if (memcmp(e->id, id, GW_IDEM_DIGEST_LEN) == 0)
            return e;
    return NULL;
}

/* What an entry costs without a response. */
static size_t base_bytes(const char *route)
{
    return sizeof(struct gw_idem_entry) + strlen(route) + 1;
}

enum gw_idem_verdict gw_idem_store_begin(struct gw_idem_store *store,
                                         const uint8_t id[GW_IDEM_DIGEST_LEN],
                                         const uint8_t fp[GW_IDEM_DIGEST_LEN], const char *route,
                                         uint64_t now_ms, struct gw_idem_entry **entry)
{
    *entry = NULL;
    expire(store, now_ms);
    struct gw_idem_entry *e = find(store, id);
    if (e) {
        if (memcmp(e->fp, fp, GW_IDEM_DIGEST_LEN) != 0)
            return GW_IDEM_MISMATCH;
        if (e->state == NOT_KEPT)
            return GW_IDEM_NOT_KEPT;
        *entry = e;
        return e->state == IN_FLIGHT ? GW_IDEM_WAIT : GW_IDEM_REPLAY;
    }
    size_t bytes = base_bytes(route);
    if (!make_room(store, 1, bytes, NULL))
        return GW_IDEM_FULL;
    if (store->count >= store->n_buckets)
        grow(store); /* before e is on the age list, which grow rehashes */
    e = xcalloc(1, sizeof(*e));
    memcpy(e->id, id, GW_IDEM_DIGEST_LEN);
    memcpy(e->fp, fp, GW_IDEM_DIGEST_LEN);
    e->route = xstrdup(route);
    e->began_ms = now_ms;
    e->state = IN_FLIGHT;
    e->bytes = bytes;
    e->older = store->newest;
    if (store->newest)
        store->newest->newer = e;
    else
        store->oldest = e;
    store->newest = e;
    size_t b = bucket_of(store, id);
    e->next_in_bucket = store->buckets[b];
    store->buckets[b] = e;
    store->count++;
    store->in_flight++;
    store->bytes += bytes;
    *entry = e;
    return GW_IDEM_PROCEED;
}

void gw_idem_response_copy(struct gw_response *dst, const struct gw_response *src)
{
    *dst = *src;
    dst->body = NULL;
    dst->location = src->location ? xstrdup(src->location) : NULL;
    dst->headers = NULL;
    dst->n_headers = 0;
    if (src->body) {
        dst->body = xmalloc(src->body_len + 1);
        memcpy(dst->body, src->body, src->body_len);
        dst->body[src->body_len] = '\0';
    }
    for (size_t i = 0; i < src->n_headers; i++)
        gw_response_add_header(dst, src->headers[i].name, src->headers[i].value);
}

/* What a kept response costs. */
static size_t response_bytes(const struct gw_response *r, const char *call_id)
{
    size_t n = r->body_len + (r->location ? strlen(r->location) + 1 : 0) +
               (call_id ? strlen(call_id) + 1 : 0) + r->n_headers * sizeof(*r->headers);
    for (size_t i = 0; i < r->n_headers; i++)
        n += strlen(r->headers[i].name) + strlen(r->headers[i].value) + 2;
    return n;
}

void gw_idem_store_complete(struct gw_idem_store *store, struct gw_idem_entry *e,
                            const struct gw_response *response, const char *call_id, bool keep,
                            uint64_t now_ms)
{
    if (!keep || expired(store, e, now_ms)) {
        drop(store, e);
        return;
    }
    e->state = NOT_KEPT;
    e->waiters = NULL;
    store->in_flight--;
    size_t bytes = response_bytes(response, call_id);
    if (response->body_len > store->limits.max_body || e->bytes + bytes > store->limits.max_bytes ||
        !make_room(store, 0, bytes, e))
        return; /* the mark alone: the call is not made again for this key */
    e->state = KEPT;
    gw_idem_response_copy(&e->response, response);
    e->call_id = call_id && call_id[0] ? xstrdup(call_id) : NULL;
    e->bytes += bytes;
    store->bytes += bytes;
}

const struct gw_response *gw_idem_entry_response(const struct gw_idem_entry *entry)
{
    return &entry->response;
}

const char *gw_idem_entry_call_id(const struct gw_idem_entry *entry)
{
    return entry->call_id ? entry->call_id : "";
}

void *gw_idem_entry_waiters(const struct gw_idem_entry *entry)
{
    return entry->waiters;
}

void gw_idem_entry_set_waiters(struct gw_idem_entry *entry, void *waiters)
{
    entry->waiters = waiters;
}

void gw_idem_store_retain(struct gw_idem_store *store, gw_idem_keep_fn keep, const void *ctx)
{
    for (struct gw_idem_entry *e = store->oldest, *next; e; e = next) {
        next = e->newer;
        if (e->state != IN_FLIGHT && !keep(ctx, e->route))
            drop(store, e);
    }
}

size_t gw_idem_store_count(const struct gw_idem_store *store)
{
    return store->count;
}

size_t gw_idem_store_in_flight(const struct gw_idem_store *store)
{
    return store->in_flight;
}

size_t gw_idem_store_bytes(const struct gw_idem_store *store)
{
    return store->bytes;
}
