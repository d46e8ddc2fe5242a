/* authn.h - who a bearer token says its holder is: GATEWAY.auth.jwt's policy, its keys and the
 * cache of verified tokens, shared by every request and socket (docs/auth.md).
 *
 * One per process, living across SIGHUP: a reload gives it the new GATEWAY.auth.jwt (policy,
 * secret, key file); the JWK Set is read again then, and also when a token names a kid the set
 * lacks (at most once per GW_AUTHN_KID_RELOAD_S), so keys rotate without a restart. A set that does
 * not read or parse then keeps the old keys, logged; at start-up it is a config error. Whatever
 * changes what a token proves (new keys, a new policy) clears the cache. Loop thread only.
 */
#ifndef ENOKI_AUTHN_H
#define ENOKI_AUTHN_H

#include "core/config_auth.h"
#include "routes/auth.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* The fewest seconds between two reads of the JWK Set for unknown kids. */
#define GW_AUTHN_KID_RELOAD_S 10

struct gw_authn;

/* A verifier for jwt (its values are copied). When jwt is not enabled every token is refused. On a
 * key file that does not load returns NULL and err says "<path>: <reason>". */
struct gw_authn *gw_authn_new(const struct gw_auth_jwt_conf *jwt, char *err, size_t errlen);

/* SIGHUP: the new jwt settings, and the key file read again (kept on failure, logged). */
void gw_authn_reload(struct gw_authn *authn, const struct gw_auth_jwt_conf *jwt);

/* Verifies token[0..len) now. Returns GW_OK and the claims (a new reference in *claims), or a
 * status of gw_jwt_verify with a short reason in reason (never the token) and *claims NULL. */
int gw_authn_verify(struct gw_authn *authn, const char *token, size_t len, json_t **claims,
                    char *reason, size_t reasonlen);

/* What credentials come to, for gw_auth_decide: found is what the Authorization value (or a
 * websocket's token source) held, token[0..len) the token when found is GW_BEARER_TOKEN. A
 * malformed value is an invalid token; a token is verified (authn NULL: none verifies). *t is
 * filled (its reason points into reason), *claims is a new reference when verified, else NULL. */
void gw_authn_token_state(struct gw_authn *authn, enum gw_bearer found, const char *token,
                          size_t len, struct gw_auth_token_state *t, json_t **claims, char *reason,
                          size_t reasonlen);

/* Counts, for the tests and metrics: signature checks done, and tokens answered by the cache. */
uint64_t gw_authn_checks(const struct gw_authn *authn);
uint64_t gw_authn_cache_hits(const struct gw_authn *authn);

/* NULL is a no-op. */
void gw_authn_free(struct gw_authn *authn);

#endif
