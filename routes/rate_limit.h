/* rate_limit.h - GATEWAY.rate_limits at run time, pure (docs/rate_limits.md): the limits of one
 * config compiled (which limits cover which route or target), the token bucket's arithmetic with
 * the clock passed in, the decision on a request, and the IETF RateLimit header values
 * (draft-ietf-httpapi-ratelimit-headers-11).
 *
 * A bucket holds at most burst tokens and gains count tokens per period, continuously; a request
 * takes one. With several limits on a request, it goes on only when every one of them has a token,
 * and then takes one from each; otherwise it takes none. Buckets live in a routes/rate_store,
 * which outlives config generations: a limit is known there by its identity (key, rate, burst,
 * match), so a reload that keeps a limit keeps its buckets.
 */
#ifndef ENOKI_RATE_LIMIT_H
#define ENOKI_RATE_LIMIT_H

#include "core/config.h"
#include "routes/rate_store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The kinds of key a bucket is found by (kept apart in the store's digests). */
enum gw_rate_key_type { GW_RATE_BY_IP = 1, GW_RATE_BY_CLAIM = 2, GW_RATE_BY_HEADER = 3 };

/* The longest RateLimit-Policy item: "name";q=<burst>;w=<seconds>. */
#define GW_RATE_ITEM_LEN 80

struct gw_rate_policy {
    const struct gw_rate_limit_conf *conf; /* borrowed from the config */
    uint64_t id;                           /* the limit's identity in the store */
    long long window_s;                    /* seconds to fill an empty bucket, at least 1 */
    char item[GW_RATE_ITEM_LEN];           /* its RateLimit-Policy item */
};

struct gw_rate_limits {
    struct gw_rate_policy *items;
    size_t n;
    uint64_t
        *routes; /* by index in config->routes: the limits covering that route (bit i: items[i]) */
    size_t n_routes;
};

/* The limits of config compiled (config borrowed, and must outlive them); NULL when it has none. */
struct gw_rate_limits *gw_rate_limits_compile(const struct gw_config *config);
void gw_rate_limits_free(struct gw_rate_limits *limits);

/* Whether an entry of config's GATEWAY.rate_limits covers the route, or may cover a call through
 * the generic route or a websocket (no match, or a target glob): for the OpenAPI document. */
bool gw_rate_limits_cover_route(const struct gw_config *config, const struct gw_route_conf *route);
bool gw_rate_limits_cover_targets(const struct gw_config *config);

/* The limits covering the configured route of that index in config->routes. */
uint64_t gw_rate_limits_of_route(const struct gw_rate_limits *limits, size_t route_index);

/* The limits covering an RPC target "service.method" called through the generic route or a
 * websocket: those without match and those with a target glob that matches it. */
uint64_t gw_rate_limits_of_target(const struct gw_rate_limits *limits, const char *target);

/* A request's key for a limit: type and bytes (borrowed until the call returns). */
struct gw_rate_key {
    enum gw_rate_key_type type;
    const void *data;
    size_t len;
};
typedef void gw_rate_key_fn(void *ctx, const struct gw_rate_limit_conf *limit,
                            struct gw_rate_key *out);

/* Brings a bucket up to now_ns: a fresh one is full; otherwise it gains what the time since its
 * last update is worth, up to burst. */
void gw_bucket_refill(struct gw_bucket *bucket, bool fresh, const struct gw_rate_limit_conf *limit,
                      uint64_t now_ns);

/* Whole seconds, rounded up (at least 1), until a bucket holding tokens reaches `want` tokens. */
long long gw_bucket_seconds_until(double tokens, double want,
                                  const struct gw_rate_limit_conf *limit);

struct gw_rate_verdict {
    bool limited;                        /* refused: 429 */
    const struct gw_rate_policy *policy; /* the one reported: the most restrictive */
    long long remaining;                 /* its RateLimit r: whole tokens left */
    long long reset_s;                   /* its RateLimit t: seconds until it gains one more */
    long long retry_after_s;             /* limited: seconds until every limit has a token */
};

/* The decision on a request that the limits of mask cover (mask not 0): each limit's bucket for
 * the key `key` gives, brought up to now_ns; when all hold a token, one is taken from each.
 * Reported: when refused, the refusing limit that frees last; otherwise the limit with the fewest
 * tokens left (on a tie, the one that takes longest to gain one). */
void gw_rate_limits_take(const struct gw_rate_limits *limits, struct gw_rate_store *store,
                         uint64_t mask, gw_rate_key_fn *key, void *ctx, uint64_t now_ns,
                         struct gw_rate_verdict *out);

/* The RateLimit-Policy value: the items of the limits of mask, in config order, separated by ", "
 * (items that do not fit in len are left out). */
void gw_rate_policy_header(const struct gw_rate_limits *limits, uint64_t mask, char *buf,
                           size_t len);

/* The RateLimit value of a verdict: "name";r=<remaining>;t=<reset_s>. */
void gw_rate_limit_header(const struct gw_rate_verdict *verdict, char *buf, size_t len);

#endif
