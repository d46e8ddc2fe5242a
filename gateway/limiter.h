/* limiter.h - the process's rate limiter (docs/rate_limits.md): the buckets of GATEWAY.rate_limits
 * (routes/rate_store, seeded at random), which outlive config generations so that a SIGHUP keeps
 * the buckets of the limits it keeps, and the current generation for those (the hub) that have
 * none of their own. The HTTP stage (gateway/stage_rate_limit.c) and the hub's calls
 * (gateway/hub_frames.c) decide through it. Loop thread only.
 */
#ifndef ENOKI_LIMITER_H
#define ENOKI_LIMITER_H

#include "gateway/generation.h"
#include "routes/rate_limit.h"

#include <jansson.h>
#include <stdint.h>
#include <sys/socket.h>

struct gw_limiter;

/* Holds a reference to gen; its GATEWAY.rate_limit_keys bounds the buckets (read once: a reload
 * does not change it). */
struct gw_limiter *gw_limiter_new(struct gw_generation *gen);
void gw_limiter_free(struct gw_limiter *limiter);

/* SIGHUP: gen becomes current (a reference is taken, the old one dropped). */
void gw_limiter_reload(struct gw_limiter *limiter, struct gw_generation *gen);

/* The current generation (borrowed). */
struct gw_generation *gw_limiter_current(const struct gw_limiter *limiter);

/* Who a call comes from, for its keys. */
struct gw_limit_subject {
    uint8_t ip_key[16];   /* gw_client_ip_key of the client's address */
    const json_t *claims; /* the verified token's, or NULL */
    const char *(*header)(void *ctx, const char *name); /* a header's value, or NULL */
    void *header_ctx;
    char number[32]; /* an integer claim's digits */
};

/* The client's address of a peer (and the request's X-Forwarded-For fields under trusted, n may
 * be 0) into subject->ip_key. */
void gw_limit_subject_address(struct gw_limit_subject *subject, const struct sockaddr *peer,
                              const char *const *xff, size_t n, const struct gw_cidr_list *trusted);

/* Decides on a call that mask of limits covers (routes/rate_limit's gw_rate_limits_take) with the
 * keys of subject: a claim or header that is missing, empty or (a claim) neither a string nor an
 * integer falls back to the client's address. */
void gw_limiter_take(struct gw_limiter *limiter, const struct gw_rate_limits *limits, uint64_t mask,
                     struct gw_limit_subject *subject, struct gw_rate_verdict *out);

/* The store, for tests and the log. */
struct gw_rate_store *gw_limiter_store(struct gw_limiter *limiter);

#endif
