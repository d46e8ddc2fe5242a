/* jwt.h - a bearer token (a JWS-signed JWT, RFC 7519 / 7515 / 7518) verified against a policy.
 *
 * Compact serialization only: three base64url parts, header and payload JSON objects. The alg must
 * be one the policy accepts ("none" never is), and the key must be of alg's type: an HMAC secret
 * (the policy's, or an oct JWK) for HS*, an RSA key for RS* and PS256, a P-256 key for ES256, a
 * P-384 key for ES384, an Ed25519 key for EdDSA; so a token cannot pick how its key is read (the
 * "alg confusion" attack). Header parameters that name or carry keys (jku, jwk, x5u, x5c) are
 * ignored; a token with `crit` is refused, as enoki understands no extension (RFC 7515 section
 * 4.1.11). JSON with a duplicate member is refused. Pure: the time comes in as `now`.
 *
 * The key: an HS* token without a kid is verified with the policy's secret when there is one; any
 * other token with a kid by the set's key of that kid (an HS* one whose kid is not in the set by
 * the policy's secret, if any); without a kid by the only key of the set that fits its alg.
 */
#ifndef ENOKI_JWT_H
#define ENOKI_JWT_H

#include "routes/jwk.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Tokens longer than this are refused unread. */
#define GW_JWT_MAX_LEN 8192

struct gw_jwt_policy {
    unsigned algorithms; /* enum gw_jws_alg bits that may verify a token */
    const char *secret;  /* the HS* secret (its bytes up to the NUL), or NULL: oct JWKs only */
    const char *issuer;  /* iss must equal it; NULL: not checked */
    const char
        *audience; /* aud (a string or an array of strings) must hold it; NULL: not checked */
    int leeway_s;  /* seconds of clock skew allowed around exp and nbf */
};

/* Verifies token[0..len) with p and keys (may be NULL) at the Unix time now (seconds). On success
 * returns 0 and *claims is the payload object (a new reference). Otherwise *claims is NULL, err
 * holds a short reason fit for an RFC 6750 error_description (never the token), and the status
 * says which check failed: GW_ETOKEN (malformed), GW_ETOKEN_ALG, GW_ETOKEN_KID (no key for the
 * kid: a caller may read its key set again), GW_ETOKEN_SIG, GW_ETOKEN_EXPIRED (now >= exp +
 * leeway), GW_ETOKEN_EARLY (now < nbf - leeway), GW_ETOKEN_CLAIM (iss, aud, or a claim's type). */
int gw_jwt_verify(const struct gw_jwt_policy *p, const struct gw_jwk_set *keys, const char *token,
                  size_t len, int64_t now, json_t **claims, char *err, size_t errlen);

#endif
