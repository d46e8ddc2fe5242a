#include "jwt.h"

#include "core/status.h"
#include "core/text.h"
#include "core/util.h"

#include <math.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RFC 7518 section 3.5: PS256's salt is as long as its hash. */
enum { PSS_SALT_LEN = 32 };

/* Each algorithm's digest, and for ES* the length of one of R and S. */
static const EVP_MD *alg_md(unsigned alg)
{
    switch (alg) {
    case GW_JWS_HS256:
    case GW_JWS_RS256:
    case GW_JWS_PS256:
    case GW_JWS_ES256:
        return EVP_sha256();
    case GW_JWS_HS384:
    case GW_JWS_RS384:
    case GW_JWS_ES384:
        return EVP_sha384();
    case GW_JWS_HS512:
    case GW_JWS_RS512:
        return EVP_sha512();
    default:
        return NULL; /* EdDSA hashes inside */
    }
}

static int hmac_verify(unsigned alg, const unsigned char *secret, size_t secret_len,
                       const char *input, size_t input_len, const unsigned char *sig,
                       size_t sig_len)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;
    if (secret_len == 0 || secret_len > INT32_MAX)
        return GW_ETOKEN_SIG;
    if (!HMAC(alg_md(alg), secret, (int)secret_len, (const unsigned char *)input, input_len, mac,
              &mac_len))
        return GW_ETOKEN_SIG;
    int same = sig_len == mac_len && CRYPTO_memcmp(mac, sig, mac_len) == 0;
    OPENSSL_cleanse(mac, sizeof(mac));
    return same ? GW_OK : GW_ETOKEN_SIG;
}

/* JWS writes an ECDSA signature as R || S, each the curve's length (RFC 7518 section 3.4);
 * OpenSSL verifies the DER ECDSA-Sig-Value. Returns a new DER buffer, or NULL. */
static unsigned char *ecdsa_raw_to_der(const unsigned char *sig, size_t half, size_t *der_len)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, (int)half, NULL);
    BIGNUM *s = BN_bin2bn(sig + half, (int)half, NULL);
    unsigned char *der = NULL;
    if (!es || !r || !s || ECDSA_SIG_set0(es, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(es);
        return NULL;
    }
    int n = i2d_ECDSA_SIG(es, &der);
    ECDSA_SIG_free(es);
    if (n <= 0)
        return NULL;
    *der_len = (size_t)n;
    return der;
}

static int pkey_verify(unsigned alg, EVP_PKEY *pkey, const char *input, size_t input_len,
                       const unsigned char *sig, size_t sig_len)
{
    unsigned char *der = NULL;
    if (alg == GW_JWS_ES256 || alg == GW_JWS_ES384) {
        size_t half = alg == GW_JWS_ES256 ? 32 : 48;
        if (sig_len != 2 * half)
            return GW_ETOKEN_SIG;
        der = ecdsa_raw_to_der(sig, half, &sig_len);
        if (!der)
            return GW_ETOKEN_SIG;
        sig = der;
    }
    int status = GW_ETOKEN_SIG;
    EVP_PKEY_CTX *pctx = NULL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx && EVP_DigestVerifyInit(ctx, &pctx, alg_md(alg), NULL, pkey) == 1 &&
        (alg != GW_JWS_PS256 || (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
                                 EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1 &&
                                 EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, PSS_SALT_LEN) == 1)) &&
        EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)input, input_len) == 1)
        status = GW_OK;
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    return status;
}

/* A JSON object from a base64url part; NULL when either does not read. */
static json_t *decode_object(const char *part, size_t n)
{
    unsigned char *text;
    size_t len;
    if (gw_base64url_decode(part, n, &text, &len) != GW_OK)
        return NULL;
    json_t *v = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, NULL);
    free(text);
    if (v && !json_is_object(v)) {
        json_decref(v);
        return NULL;
    }
    return v;
}

/* The key of the header's alg and kid: the policy's secret or a JWK. */
static int select_key(const struct gw_jwt_policy *p, const struct gw_jwk_set *keys, unsigned alg,
                      const char *kid, const struct gw_jwk **key, char *err, size_t errlen)
{
    *key = NULL;
    int status = GW_ETOKEN_KID;
    if ((alg & GW_JWS_HMAC) && p->secret && !kid)
        return GW_OK; /* the policy's secret is the HS* key of tokens without a kid */
    if (keys) {
        status = gw_jwk_set_select(keys, kid, alg, key);
        if (status == GW_OK)
            return GW_OK;
    }
    /* and of those whose kid is not in the set */
    if ((alg & GW_JWS_HMAC) && p->secret && status == GW_ETOKEN_KID)
        return GW_OK;
    if (status == GW_ETOKEN_ALG)
        snprintf(err, errlen, "the key of this kid does not fit alg %s", gw_jws_alg_name(alg));
    else if (status == GW_ETOKEN)
        snprintf(err, errlen, "no kid, and several keys fit alg %s", gw_jws_alg_name(alg));
    else if (kid)
        snprintf(err, errlen, "unknown kid");
    else
        snprintf(err, errlen, "no key for alg %s", gw_jws_alg_name(alg));
    return status;
}

static int check_signature(const struct gw_jwt_policy *p, const struct gw_jwk *key, unsigned alg,
                           const char *input, size_t input_len, const char *sig64, size_t sig64_len,
                           char *err, size_t errlen)
{
    unsigned char *sig;
    size_t sig_len;
    if (gw_base64url_decode(sig64, sig64_len, &sig, &sig_len) != GW_OK) {
        snprintf(err, errlen, "the signature is not base64url");
        return GW_ETOKEN;
    }
    int status;
    if (alg & GW_JWS_HMAC) {
        size_t secret_len;
        const unsigned char *secret =
            key ? gw_jwk_secret(key, &secret_len) : (const unsigned char *)p->secret;
        if (!key)
            secret_len = strlen(p->secret);
        status = hmac_verify(alg, secret, secret_len, input, input_len, sig, sig_len);
    } else {
        status = pkey_verify(alg, gw_jwk_pkey(key), input, input_len, sig, sig_len);
    }
    free(sig);
    if (status != GW_OK)
        snprintf(err, errlen, "invalid signature");
    return status;
}

/* A time claim: absent (0), a number in *t (1), or a bad type (-1). exp and nbf in whole seconds,
 * the fraction dropped (as PyJWT's int() of them), iat as it is (PyJWT compares it so); "now" is
 * whole seconds. */
static int time_claim(json_t *claims, const char *name, double *t)
{
    json_t *v = json_object_get(claims, name);
    if (!v)
        return 0;
    if (!json_is_number(v))
        return -1;
    *t = strcmp(name, "iat") == 0 ? json_number_value(v) : trunc(json_number_value(v));
    return 1;
}

/* A list with an item that is not a string holds nothing: PyJWT refuses its format. */
static bool audience_holds(json_t *aud, const char *audience)
{
    if (json_is_string(aud))
        return strcmp(json_string_value(aud), audience) == 0;
    if (!json_is_array(aud))
        return false;
    size_t i;
    json_t *v;
    bool found = false;
    json_array_foreach(aud, i, v)
    {
        if (!json_is_string(v))
            return false;
        found = found || strcmp(json_string_value(v), audience) == 0;
    }
    return found;
}

static int check_claims(const struct gw_jwt_policy *p, json_t *claims, int64_t now, char *err,
                        size_t errlen)
{
    double exp = 0, nbf = 0, iat = 0, t = (double)now, leeway = p->leeway_s;
    int has_exp = time_claim(claims, "exp", &exp);
    int has_nbf = time_claim(claims, "nbf", &nbf);
    int has_iat = time_claim(claims, "iat", &iat);
    if (has_exp < 0 || has_nbf < 0) {
        snprintf(err, errlen, "exp and nbf must be numbers");
        return GW_ETOKEN_CLAIM;
    }
    if (has_iat < 0) {
        snprintf(err, errlen, "iat must be a number");
        return GW_ETOKEN_CLAIM;
    }
    if (has_exp && t >= exp + leeway) {
        snprintf(err, errlen, "the token has expired");
        return GW_ETOKEN_EXPIRED;
    }
    if (has_nbf && t < nbf - leeway) {
        snprintf(err, errlen, "the token is not valid yet");
        return GW_ETOKEN_EARLY;
    }
    /* Issued in the future (beyond the leeway): not valid yet either, as PyJWT says. */
    if (has_iat && t < iat - leeway) {
        snprintf(err, errlen, "the token is not valid yet (issued in the future)");
        return GW_ETOKEN_EARLY;
    }
    if (p->issuer) {
        json_t *iss = json_object_get(claims, "iss");
        if (!json_is_string(iss) || strcmp(json_string_value(iss), p->issuer) != 0) {
            snprintf(err, errlen, "unexpected issuer");
            return GW_ETOKEN_CLAIM;
        }
    }
    /* Without GATEWAY.auth.jwt.audience a token's aud is not looked at (docs/auth.md: a choice,
     * where PyJWT would refuse a token that names one). */
    if (p->audience && !audience_holds(json_object_get(claims, "aud"), p->audience)) {
        snprintf(err, errlen, "unexpected audience");
        return GW_ETOKEN_CLAIM;
    }
    return GW_OK;
}

/* The header's alg and kid, checked against the policy. */
static int read_header(const struct gw_jwt_policy *p, json_t *header, unsigned *alg,
                       const char **kid, char *err, size_t errlen)
{
    const char *name = json_string_value(json_object_get(header, "alg"));
    json_t *kid_value = json_object_get(header, "kid");
    if (!name || (kid_value && !json_is_string(kid_value))) {
        snprintf(err, errlen, "the header needs a string alg, and kid a string");
        return GW_ETOKEN;
    }
    if (json_object_get(header, "crit")) {
        snprintf(err, errlen, "unsupported critical header parameter");
        return GW_ETOKEN;
    }
    *kid = json_string_value(kid_value);
    *alg = gw_jws_alg_from_name(name);
    if (!(*alg & p->algorithms)) {
        snprintf(err, errlen, "algorithm not accepted");
        return GW_ETOKEN_ALG;
    }
    return GW_OK;
}

int gw_jwt_verify(const struct gw_jwt_policy *p, const struct gw_jwk_set *keys, const char *token,
                  size_t len, int64_t now, json_t **claims, char *err, size_t errlen)
{
    *claims = NULL;
    if (errlen)
        err[0] = '\0';
    if (len > GW_JWT_MAX_LEN) {
        snprintf(err, errlen, "the token is too long");
        return GW_ETOKEN;
    }
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token))) {
        snprintf(err, errlen, "a token has three parts");
        return GW_ETOKEN;
    }
    json_t *header = decode_object(token, (size_t)(dot1 - token));
    if (!header) {
        snprintf(err, errlen, "the header is not a base64url JSON object");
        return GW_ETOKEN;
    }
    unsigned alg = 0;
    const char *kid = NULL;
    const struct gw_jwk *key = NULL;
    int status = read_header(p, header, &alg, &kid, err, errlen);
    if (status == GW_OK)
        status = select_key(p, keys, alg, kid, &key, err, errlen);
    if (status == GW_OK)
        status = check_signature(p, key, alg, token, (size_t)(dot2 - token), dot2 + 1,
                                 len - (size_t)(dot2 + 1 - token), err, errlen);
    json_decref(header);
    if (status != GW_OK)
        return status;
    json_t *payload = decode_object(dot1 + 1, (size_t)(dot2 - dot1 - 1));
    if (!payload) {
        snprintf(err, errlen, "the payload is not a base64url JSON object");
        return GW_ETOKEN;
    }
    status = check_claims(p, payload, now, err, errlen);
    if (status != GW_OK) {
        json_decref(payload);
        return status;
    }
    *claims = payload;
    return GW_OK;
}
