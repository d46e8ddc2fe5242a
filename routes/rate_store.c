#include "routes/rate_store.h"

#include "core/siphash.h"
#include "core/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* Links are indexes + 1 into entries; 0 is none. */
struct entry {
    uint64_t limit;
    struct gw_rate_digest digest;
    struct gw_bucket bucket;
    uint32_t chain;        /* the next entry in the same slot */
    uint32_t newer, older; /* the recency list */
};

struct gw_rate_store {
    uint8_t key_a[16], key_b[16];
    size_t capacity;
    struct entry *entries; /* capacity of them, used from the first; NULL until the first bucket */
    size_t used;
    uint32_t *slots; /* heads of chains */
    size_t slot_mask;
    uint32_t newest, oldest;
    uint64_t evictions;
};

struct gw_rate_store *gw_rate_store_new(size_t capacity, const uint8_t seed[32])
{
    struct gw_rate_store *s = xcalloc(1, sizeof(*s));
    memcpy(s->key_a, seed, 16);
    memcpy(s->key_b, seed + 16, 16);
    s->capacity = capacity ? capacity : 1;
    if (s->capacity > UINT32_MAX - 1)
        s->capacity = UINT32_MAX - 1;
    return s;
}

void gw_rate_store_free(struct gw_rate_store *s)
{
    if (!s)
        return;
    free(s->entries);
    free(s->slots);
    free(s);
}

void gw_rate_store_digest(const struct gw_rate_store *s, uint8_t kind, const void *data, size_t len,
                          struct gw_rate_digest *out)
{
    /* The kind byte and a short key (an address, a claim) hashed as one piece: no byte-wise
     * joining of pieces, which cost more than the rounds. */
    uint8_t joined[64];
    if (len < sizeof(joined)) {
        joined[0] = kind;
        if (len)
            memcpy(joined + 1, data, len);
        out->a = gw_siphash(s->key_a, joined, len + 1);
        out->b = gw_siphash(s->key_b, joined, len + 1);
        return;
    }
    struct gw_siphash h;
    gw_siphash_init(&h, s->key_a);
    gw_siphash_add(&h, &kind, 1);
    gw_siphash_add(&h, data, len);
    out->a = gw_siphash_end(&h);
    gw_siphash_init(&h, s->key_b);
    gw_siphash_add(&h, &kind, 1);
    gw_siphash_add(&h, data, len);
    out->b = gw_siphash_end(&h);
}

static size_t slot_of(const struct gw_rate_store *s, uint64_t limit, const struct gw_rate_digest *d)
{
    uint64_t h = d->a ^ (limit * 0x9e3779b97f4a7c15ULL);
    return (size_t)(h ^ (h >> 32)) & s->slot_mask;
}

static struct entry *at(struct gw_rate_store *s, uint32_t link)
{
    return &s->entries[link - 1];
}

static void unlink_recency(struct gw_rate_store *s, uint32_t link)
{
    struct entry *e = at(s, link);
    if (e->newer)
        at(s, e->newer)->older = e->older;
    else
        s->newest = e->older;
    if (e->older)
        at(s, e->older)->newer = e->newer;
    else
        s->oldest = e->newer;
    e->newer = e->older = 0;
}

static void make_newest(struct gw_rate_store *s, uint32_t link)
{
    struct entry *e = at(s, link);
    e->newer = 0;
    e->older = s->newest;
    if (s->newest)
        at(s, s->newest)->newer = link;
    s->newest = link;
    if (!s->oldest)
        s->oldest = link;
}

static void unlink_chain(struct gw_rate_store *s, uint32_t link)
{
    struct entry *e = at(s, link);
    uint32_t *p = &s->slots[slot_of(s, e->limit, &e->digest)];
    while (*p != link)
        p = &at(s, *p)->chain;
    *p = e->chain;
    e->chain = 0;
}

static void allocate(struct gw_rate_store *s)
{
    size_t slots = 1;
    while (slots < s->capacity)
        slots *= 2;
    /* calloc'd pages are not touched until used: the resident size grows with the buckets. */
    s->entries = xcalloc(s->capacity, sizeof(*s->entries));
    s->slots = xcalloc(slots, sizeof(*s->slots));
    s->slot_mask = slots - 1;
}

struct gw_bucket *gw_rate_store_find(struct gw_rate_store *s, uint64_t limit,
                                     const struct gw_rate_digest *d)
{
    if (!s->entries)
        return NULL;
    for (uint32_t link = s->slots[slot_of(s, limit, d)]; link; link = at(s, link)->chain) {
        struct entry *e = at(s, link);
        if (e->limit == limit && e->digest.a == d->a && e->digest.b == d->b) {
            if (s->newest != link) {
                unlink_recency(s, link);
                make_newest(s, link);
            }
            return &e->bucket;
        }
    }
    return NULL;
}

struct gw_bucket *gw_rate_store_bucket(struct gw_rate_store *s, uint64_t limit,
                                       const struct gw_rate_digest *d, bool *fresh)
{
    if (!s->entries)
        allocate(s);
    struct gw_bucket *found = gw_rate_store_find(s, limit, d);
    if (found) {
        *fresh = false;
        return found;
    }
    size_t slot = slot_of(s, limit, d);
    uint32_t link;
    if (s->used < s->capacity) {
        link = (uint32_t)++s->used;
    } else {
        link = s->oldest;
        unlink_recency(s, link);
        unlink_chain(s, link);
        s->evictions++;
    }
    struct entry *e = at(s, link);
    memset(e, 0, sizeof(*e));
    e->limit = limit;
    e->digest = *d;
    e->chain = s->slots[slot];
    s->slots[slot] = link;
    make_newest(s, link);
    *fresh = true;
    return &e->bucket;
}

bool gw_rate_store_has(const struct gw_rate_store *s, uint64_t limit,
                       const struct gw_rate_digest *d)
{
    if (!s->entries)
        return false;
    for (uint32_t link = s->slots[slot_of(s, limit, d)]; link; link = s->entries[link - 1].chain) {
        const struct entry *e = &s->entries[link - 1];
        if (e->limit == limit && e->digest.a == d->a && e->digest.b == d->b)
            return true;
    }
    return false;
}

size_t gw_rate_store_size(const struct gw_rate_store *s)
{
    return s->used;
}

uint64_t gw_rate_store_evictions(const struct gw_rate_store *s)
{
    return s->evictions;
}
