/* rate_store.h - the buckets of the rate limits, one per (limit, key), in a bounded table: at most
 * `capacity` of them, the least recently used dropped to make room, so a flood of distinct keys
 * costs no more memory than the bound (docs/rate_limits.md). Pure: the seed of its keyed hash
 * comes from the caller.
 *
 * Keys are never stored: a key is known by a 128-bit SipHash-2-4 digest under the store's random
 * key (core/siphash), so every entry has the same small size, and nobody who does not know the
 * seed can make keys collide in the table. Finding, adding or evicting a bucket is O(1): one hash
 * table slot (a chain as long as the load, at most 1 on average) and one list move.
 */
#ifndef ENOKI_RATE_STORE_H
#define ENOKI_RATE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A token bucket's state (routes/rate_limit). */
struct gw_bucket {
    double tokens;  /* at at_ns */
    uint64_t at_ns; /* when tokens was last brought up to date */
};

/* What a key is known by in the store. */
struct gw_rate_digest {
    uint64_t a, b;
};

struct gw_rate_store;

/* A store of at most capacity buckets (>= 1). seed: 32 random bytes. Memory is taken on the first
 * bucket, and touched only as buckets are added. */
struct gw_rate_store *gw_rate_store_new(size_t capacity, const uint8_t seed[32]);
void gw_rate_store_free(struct gw_rate_store *store);

/* The digest of a key of kind (one byte that keeps kinds of keys apart) and len bytes. */
void gw_rate_store_digest(const struct gw_rate_store *store, uint8_t kind, const void *data,
                          size_t len, struct gw_rate_digest *out);

/* The bucket of (limit, digest), now the most recently used: found, or made (*fresh set, the
 * bucket zeroed for the caller to fill), taking the place of the least recently used one when the
 * store is full. Borrowed until a later call adds a bucket past capacity - 1 others. */
struct gw_bucket *gw_rate_store_bucket(struct gw_rate_store *store, uint64_t limit,
                                       const struct gw_rate_digest *digest, bool *fresh);

/* The bucket of (limit, digest), now the most recently used, or NULL when it has none: nothing is
 * made. Borrowed as gw_rate_store_bucket's. */
struct gw_bucket *gw_rate_store_find(struct gw_rate_store *store, uint64_t limit,
                                     const struct gw_rate_digest *digest);

/* Whether (limit, digest) has a bucket, without making it the most recently used (for tests). */
bool gw_rate_store_has(const struct gw_rate_store *store, uint64_t limit,
                       const struct gw_rate_digest *digest);

/* Buckets held; buckets dropped to make room, since the start. */
size_t gw_rate_store_size(const struct gw_rate_store *store);
uint64_t gw_rate_store_evictions(const struct gw_rate_store *store);

#endif
