/* stages.h - the checks a request passes before its route is called, in order
 * (docs/architecture.md, "One REST request, end to end").
 *
 * Each stage looks at the request and either lets it go on (returns false) or answers it itself
 * (fills req->response, sets req->responded and returns true), and then no later stage runs. A
 * stage may also park the request: it returns true without an answer, and whoever holds the
 * request answers it later through req->respond, as a call's end does.
 * Two lists: the stages before the path is resolved (the trace context, the CORS preflight, the
 * size limits) and those after it, which need to know what the request calls (authentication: the
 * route's, the expose entry's or the admin endpoints' policy), then the rate limits (a claim key
 * reads the caller's verified claims) and idempotent retries (which need the caller's identity).
 */
#ifndef ENOKI_STAGES_H
#define ENOKI_STAGES_H

#include "gateway/request.h"

#include <stdbool.h>

typedef bool (*gw_stage_fn)(struct gw_request *req);

struct gw_stage {
    const char *name;
    gw_stage_fn run;
};

enum gw_stage_phase {
    GW_BEFORE_RESOLVE, /* the request as it came */
    GW_AFTER_RESOLVE,  /* req->target and req->auth are set */
};

/* The stages of a phase, in the order they run; *n gets their number. */
const struct gw_stage *gw_stages(enum gw_stage_phase phase, size_t *n);

/* Runs every stage of phase in order; true when one has answered the request. */
bool gw_stages_run(enum gw_stage_phase phase, struct gw_request *req);

/* A stage's own refusal, answered: as JSON ({"error": code, "message": ...}), or on a mode: http
 * route in @http's text format with exc_type. Sets req->responded. */
void gw_stage_refuse(struct gw_request *req, int http, const char *code, const char *exc_type,
                     const char *message);

/* The stages themselves, for their tests. */
bool gw_stage_trace(struct gw_request *req);
bool gw_stage_cors_preflight(struct gw_request *req);
bool gw_stage_limits(struct gw_request *req);
/* The caller's token against the target's policy (docs/auth.md): goes on, with req->claims set for
 * a verified token, or answers 401 / 403 with RFC 6750's WWW-Authenticate. */
bool gw_stage_auth(struct gw_request *req);
/* GATEWAY.rate_limits (docs/rate_limits.md): a route or generic call that the limits cover takes a
 * token from each, and goes on with its RateLimit headers set; or is answered 429 rate_limited with
 * Retry-After. Runs after auth, whose claims a claim key reads. */
bool gw_stage_rate_limit(struct gw_request *req);
/* A POST/PUT/PATCH/DELETE's Idempotency-Key (gateway/idempotency.h): goes on as the lead of its
 * entry, answers a kept response or a refusal (400, 409, 422, 503), or parks the request behind
 * the same request in flight. */
bool gw_stage_idempotency(struct gw_request *req);

#endif
