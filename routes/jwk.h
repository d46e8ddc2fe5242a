/* jwk.h - a JSON Web Key Set (RFC 7517) read into verification keys (OpenSSL 3's EVP_PKEY).
 *
 * Public keys only: kty RSA (n, e), EC (crv P-256 or P-384: x, y), OKP (crv Ed25519: x), and oct
 * (k, an HMAC secret). A set with a private key (d, p, q, ...), an unknown kty or crv, or a key
 * that does not read is refused whole, naming the key's index and the reason: a half-read set would
 * make tokens fail later for a reason nobody sees. A key whose `use` is not "sig" or whose `alg` is
 * not a JWS algorithm enoki knows (an encryption key such as RSA-OAEP, which identity providers
 * publish beside their signing keys) is read and kept, but never verifies anything.
 *
 * The set owns its keys; a key returned by a lookup lives as long as the set.
 */
#ifndef ENOKI_JWK_H
#define ENOKI_JWK_H

#include <stdbool.h>
#include <stddef.h>

/* The JWS algorithms (RFC 7518 section 3) enoki verifies, as bits of a set. "none" is not one. */
enum gw_jws_alg {
    GW_JWS_HS256 = 1 << 0,
    GW_JWS_HS384 = 1 << 1,
    GW_JWS_HS512 = 1 << 2,
    GW_JWS_RS256 = 1 << 3,
    GW_JWS_RS384 = 1 << 4,
    GW_JWS_RS512 = 1 << 5,
    GW_JWS_PS256 = 1 << 6,
    GW_JWS_ES256 = 1 << 7,
    GW_JWS_ES384 = 1 << 8,
    GW_JWS_EDDSA = 1 << 9,
};

#define GW_JWS_HMAC (GW_JWS_HS256 | GW_JWS_HS384 | GW_JWS_HS512)
#define GW_JWS_ALL ((1u << 10) - 1)

/* The bit for an alg's name ("RS256"), or 0 when enoki does not verify it. */
unsigned gw_jws_alg_from_name(const char *name);

/* The name of one alg bit; "" for anything else. */
const char *gw_jws_alg_name(unsigned alg);

enum gw_jwk_type {
    GW_JWK_RSA,
    GW_JWK_EC_P256,
    GW_JWK_EC_P384,
    GW_JWK_ED25519,
    GW_JWK_OCT,
};

struct gw_jwk;
struct gw_jwk_set;

/* Reads the JSON text of a JWK Set ({"keys": [...]}). On success *out is a new set (free it with
 * gw_jwk_set_free) and 0 is returned; otherwise GW_EJWKS with the reason in err ("key 2: private
 * key (d)"). */
int gw_jwk_set_parse(const char *json, size_t len, struct gw_jwk_set **out, char *err,
                     size_t errlen);

void gw_jwk_set_free(struct gw_jwk_set *set);

size_t gw_jwk_set_count(const struct gw_jwk_set *set);

/* The key at index i (< count). */
const struct gw_jwk *gw_jwk_set_at(const struct gw_jwk_set *set, size_t i);

/* The first key whose kid is kid, or NULL. */
const struct gw_jwk *gw_jwk_set_find(const struct gw_jwk_set *set, const char *kid);

/* The key a token signed with alg (one bit) and kid (NULL when its header has none) is verified
 * with, in *out: with a kid, a key of that kid that fits alg (GW_ETOKEN_KID when no key has the
 * kid, GW_ETOKEN_ALG when those that have it do not fit); without one, the only key of the set that
 * fits alg (GW_ETOKEN_KID when none does, GW_ETOKEN when several do). */
int gw_jwk_set_select(const struct gw_jwk_set *set, const char *kid, unsigned alg,
                      const struct gw_jwk **out);

/* Whether key may verify a token signed with alg: its use and alg allow it, its type is alg's (an
 * RSA key never an HMAC secret, a P-384 key never ES256), an RSA modulus has at least 2048 bits
 * (RFC 7518 section 3.3). */
bool gw_jwk_fits(const struct gw_jwk *key, unsigned alg);

enum gw_jwk_type gw_jwk_type(const struct gw_jwk *key);

/* The key's kid, or NULL. */
const char *gw_jwk_kid(const struct gw_jwk *key);

/* The EVP_PKEY of an RSA, EC or OKP key (borrowed), or NULL for oct. Typed void * so that this
 * header does not pull OpenSSL's into every includer. */
void *gw_jwk_pkey(const struct gw_jwk *key);

/* The secret of an oct key (borrowed) and its length; NULL for the others. */
const unsigned char *gw_jwk_secret(const struct gw_jwk *key, size_t *len);

#endif
