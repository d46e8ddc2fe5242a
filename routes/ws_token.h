/* ws_token.h - a websocket upgrade's bearer token, pure: where it is found, and keeping the
 * access_token query parameter out of log lines.
 *
 * Browsers cannot set headers on a websocket, so besides `Authorization: Bearer` the token may come
 * in the target's query (`access_token`, RFC 6750 section 2.3) or in the cookie GATEWAY.auth.cookie
 * names. The query is the risky one: URLs end up in logs. enoki never logs a target's query, and
 * every line libwebsockets or libmicrohttpd hands to enoki's log goes through gw_ws_redact first.
 * The hub reads the sources twice, from the sniffer's scan at admission and from libwebsockets'
 * headers when the socket opens, and both go through gw_ws_find_token.
 */
#ifndef ENOKI_WS_TOKEN_H
#define ENOKI_WS_TOKEN_H

#include "routes/auth.h"

#include <stddef.h>

/* The query parameter that may carry the token. */
#define GW_WS_TOKEN_PARAM "access_token"

/* What redacted values read as in a log line. */
#define GW_WS_REDACTED "[redacted]"

/* Where the token may be, as the upgrade carried them (all borrowed, each may be NULL). */
struct gw_ws_token_sources {
    const char *authorization; /* the Authorization value */
    size_t authorization_len;
    const char *query_token; /* the access_token parameter's value, decoded; NUL-terminated */
    const char *cookie;      /* the Cookie header's value */
    size_t cookie_len;
    const char *cookie_name; /* GATEWAY.auth.cookie; NULL: no cookie is read */
};

struct gw_ws_token {
    /* GW_BEARER_TOKEN, GW_BEARER_NONE, or GW_BEARER_MALFORMED for an Authorization of the Bearer
     * scheme without a proper token (routes/auth's gw_auth_bearer). */
    enum gw_bearer found;
    char *token; /* new, NUL-terminated (GW_BEARER_TOKEN only); free with gw_ws_token_clear */
    size_t len;
    const char *source; /* "header", "query" or "cookie" (static); NULL when none was found */
};

/* The first source that holds a token, in this order: an Authorization of the Bearer scheme, then
 * the access_token parameter, then the cookie. An Authorization of another scheme (Basic) is passed
 * over; so are an empty parameter and an empty cookie (a cleared cookie is no token). */
void gw_ws_find_token(const struct gw_ws_token_sources *sources, struct gw_ws_token *out);
void gw_ws_token_clear(struct gw_ws_token *token);

/* The first access_token value in the query of a request target (target[0..len), as sent), decoded
 * as werkzeug decodes a query. Returns a new string, or NULL when there is none. */
char *gw_ws_query_token(const char *target, size_t len);

/* Copies text into out (cut to fit outlen, always terminated) with the value of every access_token
 * parameter in it (its name percent-encoded or not, in any case) replaced by GW_WS_REDACTED. A
 * value ends at '&', '#', a quote, whitespace or the end of text. outlen > 0. */
void gw_ws_redact(const char *text, char *out, size_t outlen);

#endif
