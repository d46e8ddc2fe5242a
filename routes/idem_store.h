/* idem_store.h - the responses kept for idempotent retries (docs/idempotency.md): one entry per
 * (key, route, caller), found by its id (routes/idem_key.h), with the fingerprint of the request
 * that made it.
 *
 * An entry is in flight from gw_idem_store_begin until gw_idem_store_complete: then it holds a copy
 * of the response (or, when the response is larger than max_body, only the mark that there was
 * one), until ttl_ms after it began. In-flight entries are never dropped, so a pointer to one stays
 * valid until it completes. Memory is bounded twice: max_entries entries, and max_bytes of kept
 * responses; to make room the oldest completed entries go first. Entries are kept in the order
 * they began (the oldest first), which is also the order they expire. Pure: time comes in (ms).
 */
#ifndef ENOKI_IDEM_STORE_H
#define ENOKI_IDEM_STORE_H

#include "routes/idem_key.h"
#include "routes/respond.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gw_idem_limits {
    uint64_t ttl_ms;    /* an entry's life from its first request */
    size_t max_entries; /* at least 1 */
    size_t max_body;    /* the largest response body kept */
    size_t max_bytes;   /* every kept response's bytes together (bodies, headers, ...) */
};

enum gw_idem_verdict {
    GW_IDEM_PROCEED,  /* a new entry, in flight: make the call, then complete it */
    GW_IDEM_WAIT,     /* the same request is in flight: wait for its end */
    GW_IDEM_REPLAY,   /* the same request has been answered: answer its kept response */
    GW_IDEM_MISMATCH, /* the key was used for another request (422) */
    GW_IDEM_NOT_KEPT, /* answered, but its response was too large to keep */
    GW_IDEM_FULL,     /* max_entries are all in flight: nothing can be dropped to make room */
};

struct gw_idem_store;
struct gw_idem_entry;

struct gw_idem_store *gw_idem_store_new(const struct gw_idem_limits *limits);

/* Frees the store and every entry (in flight or not). NULL is a no-op. */
void gw_idem_store_free(struct gw_idem_store *store);

/* New limits (a reload): entries are dropped, oldest completed first, until they fit. */
void gw_idem_store_set_limits(struct gw_idem_store *store, const struct gw_idem_limits *limits,
                              uint64_t now_ms);

/* The entry of id for a request whose fingerprint is fp, on route (copied; kept to tell whether
 * the route still exists after a reload). Expired entries are dropped first. *entry gets the
 * entry for PROCEED (new, in flight), WAIT and REPLAY; NULL otherwise. */
enum gw_idem_verdict gw_idem_store_begin(struct gw_idem_store *store,
                                         const uint8_t id[GW_IDEM_DIGEST_LEN],
                                         const uint8_t fp[GW_IDEM_DIGEST_LEN], const char *route,
                                         uint64_t now_ms, struct gw_idem_entry **entry);

/* The end of an in-flight entry's call. keep: the response (borrowed, copied) and call_id (NULL:
 * none) are kept for replays (only the mark when the body is over max_body); else the entry is
 * dropped, and a retry makes the call again. */
void gw_idem_store_complete(struct gw_idem_store *store, struct gw_idem_entry *entry,
                            const struct gw_response *response, const char *call_id, bool keep,
                            uint64_t now_ms);

/* A completed entry's kept response and call id ("" when none): borrowed from the entry, valid
 * until the store next changes. */
const struct gw_response *gw_idem_entry_response(const struct gw_idem_entry *entry);
const char *gw_idem_entry_call_id(const struct gw_idem_entry *entry);

/* What the caller hangs on an in-flight entry (the requests waiting for it), NULL at first. */
void *gw_idem_entry_waiters(const struct gw_idem_entry *entry);
void gw_idem_entry_set_waiters(struct gw_idem_entry *entry, void *waiters);

/* Drops every completed entry whose route keep() refuses (a reload removed the route). */
typedef bool (*gw_idem_keep_fn)(const void *ctx, const char *route);
void gw_idem_store_retain(struct gw_idem_store *store, gw_idem_keep_fn keep, const void *ctx);

/* A copy of src into dst (every string new; content_type and code are static). */
void gw_idem_response_copy(struct gw_response *dst, const struct gw_response *src);

/* For the tests and metrics: entries held (in flight too), of which in flight, and kept bytes. */
size_t gw_idem_store_count(const struct gw_idem_store *store);
size_t gw_idem_store_in_flight(const struct gw_idem_store *store);
size_t gw_idem_store_bytes(const struct gw_idem_store *store);

#endif
