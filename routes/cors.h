/* cors.h - which browser pages may call enoki, and what a response tells them (GATEWAY.cors; the
 * Fetch standard's CORS protocol). Pure: the caller passes the request's values in and gets the
 * headers out through a callback.
 */
#ifndef ENOKI_CORS_H
#define ENOKI_CORS_H

#include "core/config.h"

#include <stdbool.h>

/* Where a response's headers go. */
typedef void (*gw_header_fn)(void *ctx, const char *name, const char *value);

/* The response headers a page may read: the call id, the waits and limits it should honour
 * (Retry-After, RateLimit, RateLimit-Policy), an idempotent replay, the bearer challenge and the
 * trace. */
#define GW_CORS_EXPOSED                                                                            \
    "X-Call-Id, Retry-After, RateLimit, RateLimit-Policy, Idempotent-Replayed, WWW-Authenticate, " \
    "traceparent"

/* origin when GATEWAY.cors is on and lists it (or "*"), else NULL. origin may be NULL. */
const char *gw_cors_allowed_origin(const struct gw_cors *cors, const char *origin);

/* A CORS preflight: OPTIONS with Origin and Access-Control-Request-Method, with GATEWAY.cors on.
 * enoki answers it itself: 204 when gw_cors_allowed_origin, else 403. */
bool gw_cors_is_preflight(const struct gw_cors *cors, const char *method, const char *origin,
                          const char *request_method);

/* The CORS headers of a response to a request from origin (with GATEWAY.cors on, Vary: Origin
 * always; nothing more when origin is NULL or not allowed): for a
 * preflight the allowed methods, headers (GATEWAY.cors.headers, else those the preflight asked
 * for: asked_headers, may be NULL) and max age; else the headers a page may read. */
void gw_cors_headers(const struct gw_cors *cors, const char *origin, bool preflight,
                     const char *asked_headers, gw_header_fn add, void *ctx);

#endif
