/* config_auth.h - GATEWAY.auth (who a caller is: bearer JWTs verified at the edge), the routes'
 * auth and scopes keys checked against it, and GATEWAY.admin_scope / admin_token.
 *
 * core/ reads and checks the keys only; verifying a token is routes/jwt, the decision per request
 * routes/auth. The algorithm names are those of routes/jwk's enum gw_jws_alg (core includes nothing
 * of routes/, so they are kept here as the names the config writes).
 *
 * Checks that need the whole file (gw_config_auth_finish), one rule for routes and for the entries
 * of GATEWAY.expose and GATEWAY.channels (core/config_policy.h): one without auth takes
 * GATEWAY.auth.default, but is `required` when it lists scopes or (a channel) its pattern names a
 * claim, since both come from a token; auth `none` with either is refused; auth optional/required,
 * and GATEWAY.auth.default or .websocket other than none, need GATEWAY.auth.jwt; a context key that
 * a claim fills may not also be filled by GATEWAY.context_headers (a client could forge it).
 */
#ifndef ENOKI_CONFIG_AUTH_H
#define ENOKI_CONFIG_AUTH_H

#include "core/config_keys.h"

#include <stdbool.h>
#include <stddef.h>

struct gw_config;

/* A route's (or the websocket upgrade's) policy. */
enum gw_auth_mode {
    GW_AUTH_NONE,     /* no token is looked at */
    GW_AUTH_OPTIONAL, /* anonymous, or a valid token (an invalid one is refused, never ignored) */
    GW_AUTH_REQUIRED, /* a valid token */
};

/* The mode's name as the config writes it: "none", "optional" or "required". */
const char *gw_auth_mode_name(enum gw_auth_mode mode);

/* The names indexed by enum gw_auth_mode, then NULL (for gw_key_choose). */
extern const char *const gw_auth_mode_names[];

/* GATEWAY.auth.claims: one claim of a verified token sent as the context key nameko.<key>. */
struct gw_auth_claim {
    char *claim;
    char *key;
    int line; /* of the pair in the file, for messages */
};

/* GATEWAY.auth.jwt. The secret is a credential: never log it. */
struct gw_auth_jwt_conf {
    bool enabled;                     /* GATEWAY.auth.jwt is given */
    struct gw_string_list algorithms; /* names from "HS256" to "EdDSA"; never "none" */
    char *jwks_file;                  /* a JWK Set file, read by the gateway; NULL = none */
    char *secret;                     /* the HS* secret; NULL = none */
    char *issuer;                     /* iss must equal it; NULL = not checked */
    char *audience;                   /* aud must hold it; NULL = not checked */
    int leeway;                       /* seconds around exp and nbf, default 30 */
};

struct gw_auth_conf {
    enum gw_auth_mode default_mode; /* routes' auth when they give none; default none */
    enum gw_auth_mode websocket;    /* the websocket upgrade's; default none */
    char *cookie;                   /* cookie holding a websocket's token; NULL = none */
    struct gw_auth_claim *claims;
    size_t n_claims;
    struct gw_auth_jwt_conf jwt;
    int line; /* of GATEWAY.auth, for messages */
};

/* The applier of GATEWAY.auth; base is the struct gw_config. */
gw_key_apply_fn gw_config_apply_auth;

/* The applier of routes[].auth; base is the struct gw_route_conf. */
gw_key_apply_fn gw_config_apply_route_auth;

/* Sets the defaults of a (zeroed) record. */
void gw_config_auth_init(struct gw_auth_conf *auth);

/* Once the whole file is applied (after gw_config_routes_finish): settles the auth of routes and
 * of the entries of GATEWAY.expose and GATEWAY.channels, with the checks above. Returns GW_OK or
 * GW_ECONFIG with "<path>:<line>: <key path>: ..." in err. */
int gw_config_auth_finish(struct gw_config *c, char *err, size_t errlen);

/* Frees everything auth holds and zeroes it. */
void gw_config_auth_clear(struct gw_auth_conf *auth);

#endif
