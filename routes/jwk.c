#include "jwk.h"

#include "core/status.h"
#include "core/text.h"
#include "core/util.h"
#include "core/xalloc.h"

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RFC 7518 section 3.3: "A key of size 2048 bits or larger MUST be used with these algorithms." */
enum { RSA_MIN_BITS = 2048 };

struct gw_jwk {
    enum gw_jwk_type type;
    char *kid;             /* NULL when the key has none */
    unsigned algs;         /* the algorithms it may verify: its type's, narrowed by alg and use */
    EVP_PKEY *pkey;        /* RSA, EC, OKP */
    unsigned char *secret; /* oct */
    size_t secret_len;
};

struct gw_jwk_set {
    struct gw_jwk *keys;
    size_t count;
};

static const struct {
    unsigned alg;
    const char *name;
} alg_names[] = {
    {GW_JWS_HS256, "HS256"}, {GW_JWS_HS384, "HS384"}, {GW_JWS_HS512, "HS512"},
    {GW_JWS_RS256, "RS256"}, {GW_JWS_RS384, "RS384"}, {GW_JWS_RS512, "RS512"},
    {GW_JWS_PS256, "PS256"}, {GW_JWS_ES256, "ES256"}, {GW_JWS_ES384, "ES384"},
    {GW_JWS_EDDSA, "EdDSA"},
};

unsigned gw_jws_alg_from_name(const char *name)
{
    for (size_t i = 0; i < ARRAY_LEN(alg_names); i++)
        if (strcmp(alg_names[i].name, name) == 0)
            return alg_names[i].alg;
    return 0;
}

const char *gw_jws_alg_name(unsigned alg)
{
    for (size_t i = 0; i < ARRAY_LEN(alg_names); i++)
        if (alg_names[i].alg == alg)
            return alg_names[i].name;
    return "";
}

/* The algorithms each key type can verify. */
static unsigned type_algs(enum gw_jwk_type type)
{
    switch (type) {
    case GW_JWK_RSA:
        return GW_JWS_RS256 | GW_JWS_RS384 | GW_JWS_RS512 | GW_JWS_PS256;
    case GW_JWK_EC_P256:
        return GW_JWS_ES256;
    case GW_JWK_EC_P384:
        return GW_JWS_ES384;
    case GW_JWK_ED25519:
        return GW_JWS_EDDSA;
    case GW_JWK_OCT:
        return GW_JWS_HMAC;
    }
    return 0;
}

/* A base64url member of a key, decoded; NULL with a reason when it is missing or does not read. */
static unsigned char *member_bytes(json_t *jwk, const char *name, size_t *len, char *why,
                                   size_t whylen)
{
    json_t *v = json_object_get(jwk, name);
    unsigned char *out;
    if (!json_is_string(v)) {
        snprintf(why, whylen, "%s missing or not a string", name);
        return NULL;
    }
    if (gw_base64url_decode(json_string_value(v), json_string_length(v), &out, len) != GW_OK) {
        snprintf(why, whylen, "%s is not base64url", name);
        return NULL;
    }
    if (*len == 0) {
        free(out);
        snprintf(why, whylen, "%s is empty", name);
        return NULL;
    }
    return out;
}

/* An EVP_PKEY of the named algorithm from params, checked as a public key. */
static EVP_PKEY *pkey_from_params(const char *alg, OSSL_PARAM_BLD *bld)
{
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL);
    if (params && ctx && EVP_PKEY_fromdata_init(ctx) == 1 &&
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1) {
        EVP_PKEY_CTX *check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
        if (!check || EVP_PKEY_public_check(check) != 1) {
            EVP_PKEY_free(pkey);
            pkey = NULL;
        }
        EVP_PKEY_CTX_free(check);
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return pkey;
}

static int read_rsa(json_t *jwk, struct gw_jwk *key, char *why, size_t whylen)
{
    size_t n_len, e_len;
    unsigned char *n = member_bytes(jwk, "n", &n_len, why, whylen);
    unsigned char *e = n ? member_bytes(jwk, "e", &e_len, why, whylen) : NULL;
    if (!e) {
        free(n);
        return GW_EJWKS;
    }
    BIGNUM *bn_n = BN_bin2bn(n, (int)n_len, NULL);
    BIGNUM *bn_e = BN_bin2bn(e, (int)e_len, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    if (bn_n && bn_e && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) == 1)
        key->pkey = pkey_from_params("RSA", bld);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    free(n);
    free(e);
    if (!key->pkey) {
        snprintf(why, whylen, "not a valid RSA public key");
        return GW_EJWKS;
    }
    if (EVP_PKEY_get_bits(key->pkey) < RSA_MIN_BITS)
        key->algs = 0; /* read, but too small to verify anything */
    return GW_OK;
}

/* A coordinate into out[0..coord): the big-endian number, left-padded with zeros. RFC 7518
 * section 6.2.1.2 asks for exactly the field's length, but encoders that write the number in as
 * few bytes as it takes (PyJWT 2.6's to_jwk: one P-256 or P-384 key in 128) or with a
 * leading sign byte (0x00) are common; the number is the same. Longer with nonzero extra bytes is
 * not a coordinate of the curve. */
static bool coordinate(unsigned char *out, size_t coord, const unsigned char *in, size_t len)
{
    while (len > coord && *in == 0) {
        in++;
        len--;
    }
    if (len > coord)
        return false;
    memset(out, 0, coord - len);
    memcpy(out + coord - len, in, len);
    return true;
}

/* EC: x and y as coordinates of the curve, at most coord bytes as numbers. */
static int read_ec(json_t *jwk, struct gw_jwk *key, const char *group, size_t coord, char *why,
                   size_t whylen)
{
    size_t x_len, y_len;
    unsigned char *x = member_bytes(jwk, "x", &x_len, why, whylen);
    unsigned char *y = x ? member_bytes(jwk, "y", &y_len, why, whylen) : NULL;
    int status = GW_EJWKS;
    if (!y)
        goto out;
    unsigned char point[1 + 2 * 66];
    point[0] = 0x04; /* SEC 1 uncompressed point: 04 || x || y */
    if (!coordinate(point + 1, coord, x, x_len) ||
        !coordinate(point + 1 + coord, coord, y, y_len)) {
        snprintf(why, whylen, "x and y must be numbers of at most %zu bytes", coord);
        goto out;
    }
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) == 1 &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * coord) == 1)
        key->pkey = pkey_from_params("EC", bld);
    OSSL_PARAM_BLD_free(bld);
    if (key->pkey)
        status = GW_OK;
    else
        snprintf(why, whylen, "not a point of %s", group);
out:
    free(x);
    free(y);
    return status;
}

static int read_ed25519(json_t *jwk, struct gw_jwk *key, char *why, size_t whylen)
{
    size_t x_len;
    unsigned char *x = member_bytes(jwk, "x", &x_len, why, whylen);
    if (!x)
        return GW_EJWKS;
    if (x_len == 32) {
        OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
        if (bld && OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, x, x_len) == 1)
            key->pkey = pkey_from_params("ED25519", bld);
        OSSL_PARAM_BLD_free(bld);
    }
    free(x);
    if (!key->pkey) {
        snprintf(why, whylen, "x is not an Ed25519 public key");
        return GW_EJWKS;
    }
    return GW_OK;
}

/* The members that only a private key has (RFC 7518 sections 6.2.2, 6.3.2; RFC 8037). */
/* RFC 7517 4.3: a key whose key_ops does not list "verify" is not for verifying signatures (as one
 * whose use is not "sig"); a key_ops that is not a list of strings lists nothing. Absent: any. */
static bool key_ops_verify(const json_t *ops)
{
    if (!ops)
        return true;
    size_t i;
    const json_t *op;
    bool verify = false;
    json_array_foreach(ops, i, op)
    {
        if (!json_is_string(op))
            return false;
        verify = verify || strcmp(json_string_value(op), "verify") == 0;
    }
    return verify;
}

static const char *const private_members[] = {"d", "p", "q", "dp", "dq", "qi", "oth"};

/* Reads one key of the set; on failure a reason in why. */
static int read_key(json_t *jwk, struct gw_jwk *key, char *why, size_t whylen)
{
    if (!json_is_object(jwk)) {
        snprintf(why, whylen, "not an object");
        return GW_EJWKS;
    }
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    json_t *kid = json_object_get(jwk, "kid");
    json_t *alg = json_object_get(jwk, "alg");
    json_t *use = json_object_get(jwk, "use");
    if (!kty) {
        snprintf(why, whylen, "kty missing or not a string");
        return GW_EJWKS;
    }
    if ((kid && !json_is_string(kid)) || (alg && !json_is_string(alg)) ||
        (use && !json_is_string(use))) {
        snprintf(why, whylen, "kid, alg and use must be strings");
        return GW_EJWKS;
    }
    if (strcmp(kty, "oct") != 0)
        for (size_t i = 0; i < ARRAY_LEN(private_members); i++)
            if (json_object_get(jwk, private_members[i])) {
                snprintf(why, whylen, "private key (%s)", private_members[i]);
                return GW_EJWKS;
            }
    if (strcmp(kty, "RSA") == 0)
        key->type = GW_JWK_RSA;
    else if (strcmp(kty, "EC") == 0 && crv && strcmp(crv, "P-256") == 0)
        key->type = GW_JWK_EC_P256;
    else if (strcmp(kty, "EC") == 0 && crv && strcmp(crv, "P-384") == 0)
        key->type = GW_JWK_EC_P384;
    else if (strcmp(kty, "OKP") == 0 && crv && strcmp(crv, "Ed25519") == 0)
        key->type = GW_JWK_ED25519;
    else if (strcmp(kty, "oct") == 0)
        key->type = GW_JWK_OCT;
    else if (strcmp(kty, "EC") == 0 || strcmp(kty, "OKP") == 0) {
        snprintf(why, whylen, "unsupported crv for kty %s", kty);
        return GW_EJWKS;
    } else {
        snprintf(why, whylen, "unsupported kty");
        return GW_EJWKS;
    }
    key->algs = type_algs(key->type);
    if (alg) {
        unsigned bit = gw_jws_alg_from_name(json_string_value(alg));
        if (bit && !(bit & key->algs)) {
            snprintf(why, whylen, "alg %s does not fit kty %s", gw_jws_alg_name(bit), kty);
            return GW_EJWKS;
        }
        key->algs &= bit; /* an alg enoki does not verify (RSA-OAEP, ...): nothing */
    }
    if (use && strcmp(json_string_value(use), "sig") != 0)
        key->algs = 0;
    if (!key_ops_verify(json_object_get(jwk, "key_ops")))
        key->algs = 0;
    if (kid)
        key->kid = xstrndup(json_string_value(kid), json_string_length(kid));
    switch (key->type) {
    case GW_JWK_RSA:
        return read_rsa(jwk, key, why, whylen);
    case GW_JWK_EC_P256:
        return read_ec(jwk, key, "P-256", 32, why, whylen);
    case GW_JWK_EC_P384:
        return read_ec(jwk, key, "P-384", 48, why, whylen);
    case GW_JWK_ED25519:
        return read_ed25519(jwk, key, why, whylen);
    case GW_JWK_OCT:
        key->secret = member_bytes(jwk, "k", &key->secret_len, why, whylen);
        return key->secret ? GW_OK : GW_EJWKS;
    }
    return GW_EJWKS;
}

int gw_jwk_set_parse(const char *json, size_t len, struct gw_jwk_set **out, char *err,
                     size_t errlen)
{
    *out = NULL;
    json_error_t jerr;
    json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        snprintf(err, errlen, "not JSON: %s", jerr.text);
        return GW_EJWKS;
    }
    json_t *keys = json_object_get(doc, "keys");
    if (!json_is_array(keys)) {
        snprintf(err, errlen, "not a JWK Set: no \"keys\" array");
        json_decref(doc);
        return GW_EJWKS;
    }
    struct gw_jwk_set *set = xcalloc(1, sizeof(*set));
    set->keys = xcalloc(json_array_size(keys) + 1, sizeof(*set->keys));
    for (size_t i = 0; i < json_array_size(keys); i++) {
        char why[128];
        set->count++; /* counted before it is read, so that a half-read key is freed too */
        if (read_key(json_array_get(keys, i), &set->keys[i], why, sizeof(why)) != GW_OK) {
            snprintf(err, errlen, "key %zu: %s", i, why);
            gw_jwk_set_free(set);
            json_decref(doc);
            return GW_EJWKS;
        }
    }
    json_decref(doc);
    *out = set;
    return GW_OK;
}

void gw_jwk_set_free(struct gw_jwk_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->count; i++) {
        free(set->keys[i].kid);
        EVP_PKEY_free(set->keys[i].pkey);
        if (set->keys[i].secret)
            OPENSSL_cleanse(set->keys[i].secret, set->keys[i].secret_len);
        free(set->keys[i].secret);
    }
    free(set->keys);
    free(set);
}

size_t gw_jwk_set_count(const struct gw_jwk_set *set)
{
    return set->count;
}

const struct gw_jwk *gw_jwk_set_at(const struct gw_jwk_set *set, size_t i)
{
    return &set->keys[i];
}

const struct gw_jwk *gw_jwk_set_find(const struct gw_jwk_set *set, const char *kid)
{
    for (size_t i = 0; i < set->count; i++)
        if (set->keys[i].kid && strcmp(set->keys[i].kid, kid) == 0)
            return &set->keys[i];
    return NULL;
}

int gw_jwk_set_select(const struct gw_jwk_set *set, const char *kid, unsigned alg,
                      const struct gw_jwk **out)
{
    *out = NULL;
    size_t with_kid = 0, fitting = 0;
    for (size_t i = 0; i < set->count; i++) {
        const struct gw_jwk *key = &set->keys[i];
        if (kid && !(key->kid && strcmp(key->kid, kid) == 0))
            continue;
        with_kid++;
        if (gw_jwk_fits(key, alg) && fitting++ == 0)
            *out = key;
    }
    if (kid) {
        if (with_kid == 0)
            return GW_ETOKEN_KID;
        return *out ? GW_OK : GW_ETOKEN_ALG;
    }
    if (fitting == 0)
        return GW_ETOKEN_KID;
    if (fitting > 1) {
        *out = NULL;
        return GW_ETOKEN;
    }
    return GW_OK;
}

bool gw_jwk_fits(const struct gw_jwk *key, unsigned alg)
{
    return alg != 0 && (key->algs & alg) == alg;
}

enum gw_jwk_type gw_jwk_type(const struct gw_jwk *key)
{
    return key->type;
}

const char *gw_jwk_kid(const struct gw_jwk *key)
{
    return key->kid;
}

void *gw_jwk_pkey(const struct gw_jwk *key)
{
    return key->pkey;
}

const unsigned char *gw_jwk_secret(const struct gw_jwk *key, size_t *len)
{
    *len = key->secret_len;
    return key->secret;
}
