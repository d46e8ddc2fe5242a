/* respond.h - a call's outcome becomes an HTTP response (json mode): the one table of HTTP
 * statuses. Pure: handlers fill a gw_response and never touch the HTTP library. */
#ifndef ENOKI_RESPOND_H
#define ENOKI_RESPOND_H

#include "core/config.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Seconds a 503 asks the client to wait before it retries. */
#define GW_RETRY_AFTER_S 5

struct gw_response_header {
    char *name;  /* new */
    char *value; /* new */
};

struct gw_response {
    int status;               /* HTTP status */
    const char *content_type; /* static string */
    char *body;               /* new; may be NULL for an empty body */
    size_t body_len;
    char *location;                     /* new; for redirects */
    char allow[256];                    /* for 405; "" otherwise */
    int retry_after;                    /* seconds; 0 = no Retry-After header */
    const char *code;                   /* the stable error code, for logs; NULL on success */
    struct gw_response_header *headers; /* new; a handler's own headers (http mode), in order */
    size_t n_headers;
};

/* Appends a header (both copied). */
void gw_response_add_header(struct gw_response *response, const char *name, const char *value);

void gw_response_clear(struct gw_response *response);

/* 200, application/json, the result as JSON. result is borrowed. */
void gw_respond_result(const json_t *result, struct gw_response *out);

/* An error with an explicit HTTP status and stable code (e.g. 400 "bad_request"). */
void gw_respond_status(int http, const char *code, const char *message, const char *call_id,
                       struct gw_response *out);

/* An error enoki found itself (status is a gw_status: GW_ENOMATCH, GW_EARGS, GW_EBROKER, ...).
 * message is shown to the client; call_id may be NULL. */
void gw_respond_error(int status, const char *message, const char *call_id,
                      struct gw_response *out);

/* The end of a call that did not succeed. status is the gw_rpc outcome; error is the nameko error
 * object for GW_EREMOTE (borrowed, else NULL); target is "service.method"; generic tells whether
 * the call came through the generic route (MethodNotFound is then 404, else 502: the route is
 * wrong). */
void gw_respond_call_error(int status, const json_t *error, const char *detail, const char *target,
                           double timeout_s, const char *call_id, const struct gw_config *config,
                           bool generic, struct gw_response *out);

/* Writes the message for a call that ended without a reply (status is not GW_EREMOTE), e.g.
 * "Unknown service `svc`", "no reply from svc.m within 5 s". */
void gw_describe_call_failure(int status, const char *detail, const char *target, double timeout_s,
                              char *buf, size_t len);

/* true when a remote error is of nameko's BadRequest family (by exc_path), which @http answers 400.
 */
int gw_remote_is_bad_request(const json_t *error);

/* An outcome enoki decides itself (a gw_status): the HTTP status it is answered with, and the
 * exception (exc_type, exc_path) that names it in a websocket error frame. */
struct gw_outcome {
    int status;
    int http;
    const char *exc_type, *exc_path;
};

/* The one table's row for status; never NULL (anything unexpected: 500, enoki.GatewayError). */
const struct gw_outcome *gw_outcome_of(int status);

/* The HTTP status enoki answers for a local gw_status (500 for anything unexpected). */
int gw_http_status_of(int status);

#endif
