/* auth.h - who may call a route: the decision on a request's bearer token, and the token read out
 * of an Authorization header (RFC 6750).
 *
 * Pure: the caller verifies the token (routes/jwt) and passes in what came of it; this module says
 * what happens next. A route whose auth is none never looks at a token. A route that lists scopes
 * needs a token even when its auth is optional (core/config_auth refuses scopes with auth none). An
 * invalid token is refused on an optional route too: treating it as anonymous would hide a broken
 * client or an attack.
 */
#ifndef ENOKI_AUTH_H
#define ENOKI_AUTH_H

#include "core/config_auth.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The realm of every challenge. */
#define GW_AUTH_REALM "enoki"

/* Room for a WWW-Authenticate value and a message: a longer reason or scope list is cut. */
#define GW_AUTH_CHALLENGE_LEN 512
#define GW_AUTH_MESSAGE_LEN 256

/* A route's policy (borrowed from the config). */
struct gw_auth_policy {
    enum gw_auth_mode mode;
    char *const *scopes; /* all needed; n_scopes 0 = none */
    size_t n_scopes;
};

/* The policy of a route, an expose entry or a channel entry: its settled mode and its scopes
 * (borrowed: the policy lives no longer than they do). */
struct gw_auth_policy gw_auth_policy_of(enum gw_auth_mode mode,
                                        const struct gw_string_list *scopes);

/* What was found of a token and its verification. */
struct gw_auth_token_state {
    bool sent;            /* a bearer token came with the request */
    int verify_status;    /* GW_OK or gw_jwt_verify's status (unread when !sent) */
    const char *reason;   /* gw_jwt_verify's reason on failure; NULL: a generic one */
    const json_t *claims; /* the verified payload (borrowed); NULL unless verified */
};

enum gw_auth_verdict {
    GW_AUTH_ANONYMOUS,    /* go on without claims */
    GW_AUTH_AUTHENTIC,    /* go on with the token's claims */
    GW_AUTH_UNAUTHORIZED, /* 401 */
    GW_AUTH_FORBIDDEN,    /* 403 insufficient_scope */
};

struct gw_auth_decision {
    enum gw_auth_verdict verdict;
    int http;         /* 401 or 403; 0 when the request goes on */
    const char *code; /* "unauthorized" or "forbidden" (the error table's); NULL when it goes on */
    /* The WWW-Authenticate value of a 401 or 403; "" when it goes on. */
    char challenge[GW_AUTH_CHALLENGE_LEN];
    /* For the body: why, in a few words (never the token). "" when it goes on. */
    char message[GW_AUTH_MESSAGE_LEN];
};

/* Decides on a request to a route with policy p whose token is t:
 *   none: anonymous, whatever was sent;
 *   no token: anonymous when optional without scopes, else 401 `Bearer realm="enoki"` (RFC 6750
 *     section 3.1: no error attribute when the request carried no credentials);
 *   a token that did not verify: 401 `Bearer realm="enoki", error="invalid_token",
 *     error_description="<reason>"`;
 *   a verified token without every scope: 403 `Bearer realm="enoki", error="insufficient_scope",
 *     scope="<the route's scopes>"`; scopes are read from the `scope` claim (a space-separated
 *     string) and the `scp` claim (a list of strings, or one such string);
 *   otherwise authentic. */
void gw_auth_decide(const struct gw_auth_policy *p, const struct gw_auth_token_state *t,
                    struct gw_auth_decision *out);

/* Whether claims grant scope (see gw_auth_decide). */
bool gw_auth_has_scope(const json_t *claims, const char *scope);

/* The token's exp claim when it is a number (whole seconds since the epoch, the fraction dropped).
 */
bool gw_auth_claims_exp(const json_t *claims, double *exp);

/* Fills context with GATEWAY.auth.claims (n pairs): first every key a claim fills is removed,
 * whatever put it there (a client's header), then each claim present in claims (NULL: an anonymous
 * caller) is set under its key when it can travel as a nameko header (a string, number, boolean or
 * list); so a key a claim fills only ever holds the verified token's value. */
void gw_auth_claims_to_context(const struct gw_auth_claim *map, size_t n, const json_t *claims,
                               json_t *context);

enum gw_bearer {
    GW_BEARER_NONE,      /* no credentials of the Bearer scheme (absent, or e.g. Basic) */
    GW_BEARER_TOKEN,     /* a token */
    GW_BEARER_MALFORMED, /* the Bearer scheme with no token, or one of characters a token lacks */
};

/* Reads an Authorization header value: the scheme "Bearer" in any case, one space or more, then a
 * b64token (RFC 6750 section 2.1: letters, digits, - . _ ~ + /, then '=' padding), with trailing
 * spaces ignored. value may be NULL (no header). On GW_BEARER_TOKEN, *token points into value and
 * *token_len is its length. */
enum gw_bearer gw_auth_bearer(const char *value, size_t len, const char **token, size_t *token_len);

#endif
