/* idempotency.h - idempotent retries at run time (docs/idempotency.md): one per process, kept
 * across reloads, owned by gw_http.
 *
 * The stage (gw_stage_idempotency, after auth) reads a POST/PUT/PATCH/DELETE's Idempotency-Key on a
 * route that honours it and, from the store (routes/idem_store.h), lets the call go (the request
 * leads its entry), answers a kept response again (with Idempotent-Replayed: true), answers 400,
 * 409, 422 or 503 itself, or parks the request behind the same request in flight. When the lead's
 * response is final (before it is written, so before compression) gw_idempotency_call_ended keeps
 * it and answers every parked request with a copy. A lead whose client goes away keeps its call:
 * the request lives on, detached from its transport, until the call ends and serves the others.
 */
#ifndef ENOKI_IDEMPOTENCY_H
#define ENOKI_IDEMPOTENCY_H

#include "core/config.h"

#include <stdbool.h>

struct gw_request;
struct gw_idempotency;

/* A new store with config's bounds and a random key for its ids. */
struct gw_idempotency *gw_idempotency_new(const struct gw_config *config);

/* Frees the store. Requests still parked must have ended; detached leads' calls are cancelled and
 * the requests freed. NULL is a no-op. */
void gw_idempotency_free(struct gw_idempotency *idem);

/* A reload: config's bounds, and the kept responses of routes that no longer exist (or no longer
 * honour the key) dropped. */
void gw_idempotency_reload(struct gw_idempotency *idem, const struct gw_config *config);

/* The lead's response is final (req->response): kept when keep (the call was published: the
 * service may have acted), else its entry is dropped; every parked request gets a copy. A no-op for
 * a request that leads nothing. */
void gw_idempotency_call_ended(struct gw_request *req, bool keep);

/* From gw_request_finish: a parked request leaves its entry. Returns true for a lead whose call is
 * in flight: the request must stay allocated (its borrowed fields are dropped by the caller) and is
 * freed with gw_request_free when the call ends. */
bool gw_idempotency_request_ends(struct gw_request *req);

/* Entries held, for the tests' eyes in logs and metrics. */
size_t gw_idempotency_count(const struct gw_idempotency *idem);

#endif
