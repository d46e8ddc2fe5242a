#include "jwt_signer.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what)
{
    fprintf(stderr, "jwt_signer: %s failed\n", what);
    abort();
}

char *test_b64url(const void *in, size_t n)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const unsigned char *p = in;
    char *out = malloc(n / 3 * 4 + 5);
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        out[o++] = abc[v >> 18];
        out[o++] = abc[(v >> 12) & 63];
        out[o++] = abc[(v >> 6) & 63];
        out[o++] = abc[v & 63];
    }
    if (n - i == 1) {
        out[o++] = abc[p[i] >> 2];
        out[o++] = abc[(p[i] & 3) << 4];
    } else if (n - i == 2) {
        unsigned v = (unsigned)p[i] << 8 | p[i + 1];
        out[o++] = abc[v >> 10];
        out[o++] = abc[(v >> 4) & 63];
        out[o++] = abc[(v & 15) << 2];
    }
    out[o] = '\0';
    return out;
}

EVP_PKEY *test_keygen(const char *type)
{
    EVP_PKEY *k = NULL;
    if (strcmp(type, "RSA") == 0)
        k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    else if (strcmp(type, "P-256") == 0)
        k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    else if (strcmp(type, "P-384") == 0)
        k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    else if (strcmp(type, "Ed25519") == 0)
        k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (!k)
        die(type);
    return k;
}

static char *bn_param_b64(EVP_PKEY *pkey, const char *name)
{
    BIGNUM *bn = NULL;
    if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1)
        die(name);
    unsigned char buf[1024];
    int n = BN_bn2bin(bn, buf);
    BN_free(bn);
    return test_b64url(buf, (size_t)n);
}

char *test_public_jwk(EVP_PKEY *pkey, const char *kid, const char *alg)
{
    char members[2048], extra[256] = "";
    int n = 0;
    if (kid)
        n += snprintf(extra + n, sizeof(extra) - (size_t)n, ",\"kid\":\"%s\"", kid);
    if (alg)
        snprintf(extra + n, sizeof(extra) - (size_t)n, ",\"alg\":\"%s\"", alg);
    if (EVP_PKEY_is_a(pkey, "RSA")) {
        char *nn = bn_param_b64(pkey, OSSL_PKEY_PARAM_RSA_N);
        char *e = bn_param_b64(pkey, OSSL_PKEY_PARAM_RSA_E);
        snprintf(members, sizeof(members), "\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"", nn, e);
        free(nn);
        free(e);
    } else if (EVP_PKEY_is_a(pkey, "EC")) {
        unsigned char pt[200];
        size_t len = 0;
        if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &len) !=
                1 ||
            pt[0] != 4)
            die("EC public key");
        size_t half = (len - 1) / 2;
        char *x = test_b64url(pt + 1, half), *y = test_b64url(pt + 1 + half, half);
        snprintf(members, sizeof(members),
                 "\"kty\":\"EC\",\"crv\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"",
                 half == 32 ? "P-256" : "P-384", x, y);
        free(x);
        free(y);
    } else {
        unsigned char pub[32];
        size_t len = sizeof(pub);
        if (EVP_PKEY_get_raw_public_key(pkey, pub, &len) != 1)
            die("Ed25519 public key");
        char *x = test_b64url(pub, len);
        snprintf(members, sizeof(members), "\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"", x);
        free(x);
    }
    size_t size = strlen(members) + strlen(extra) + 3;
    char *out = malloc(size);
    snprintf(out, size, "{%s%s}", members, extra);
    return out;
}

char *test_public_pem(EVP_PKEY *pkey)
{
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio || PEM_write_bio_PUBKEY(bio, pkey) != 1)
        die("PEM");
    char *data;
    long n = BIO_get_mem_data(bio, &data);
    char *out = malloc((size_t)n + 1);
    memcpy(out, data, (size_t)n);
    out[n] = '\0';
    BIO_free(bio);
    return out;
}

static const EVP_MD *md_of(const char *alg)
{
    if (strstr(alg, "256"))
        return EVP_sha256();
    if (strstr(alg, "384"))
        return EVP_sha384();
    if (strstr(alg, "512"))
        return EVP_sha512();
    return NULL;
}

/* The raw signature of input; ECDSA's DER turned into R || S. */
static unsigned char *sign(const char *alg, const char *input, EVP_PKEY *pkey, const void *secret,
                           size_t secret_len, size_t *sig_len)
{
    unsigned char *sig = malloc(1024);
    if (alg[0] == 'H') {
        unsigned len = 0;
        if (!HMAC(md_of(alg), secret, (int)secret_len, (const unsigned char *)input, strlen(input),
                  sig, &len))
            die("HMAC");
        *sig_len = len;
        return sig;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    size_t len = 1024;
    if (EVP_DigestSignInit(ctx, &pctx, md_of(alg), NULL, pkey) != 1)
        die("DigestSignInit");
    if (alg[0] == 'P' && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                          EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1 ||
                          EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) != 1))
        die("PSS");
    if (EVP_DigestSign(ctx, sig, &len, (const unsigned char *)input, strlen(input)) != 1)
        die("DigestSign");
    EVP_MD_CTX_free(ctx);
    if (alg[0] == 'E' && alg[1] == 'S') {
        size_t half = strstr(alg, "256") ? 32 : 48;
        const unsigned char *p = sig;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);
        if (!es)
            die("d2i_ECDSA_SIG");
        unsigned char *raw = malloc(2 * half);
        if (BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, (int)half) != (int)half ||
            BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + half, (int)half) != (int)half)
            die("R || S");
        ECDSA_SIG_free(es);
        free(sig);
        *sig_len = 2 * half;
        return raw;
    }
    *sig_len = len;
    return sig;
}

char *test_jws_sign(const char *alg, const char *header, const char *payload, EVP_PKEY *pkey,
                    const void *secret, size_t secret_len)
{
    char *h = test_b64url(header, strlen(header));
    char *p = test_b64url(payload, strlen(payload));
    size_t input_len = strlen(h) + strlen(p) + 1;
    char *input = malloc(input_len + 1);
    snprintf(input, input_len + 1, "%s.%s", h, p);
    size_t sig_len = 0;
    unsigned char *sig =
        strcmp(alg, "none") == 0 ? NULL : sign(alg, input, pkey, secret, secret_len, &sig_len);
    char *s = test_b64url(sig ? sig : (const unsigned char *)"", sig_len);
    size_t size = input_len + strlen(s) + 2;
    char *token = malloc(size);
    snprintf(token, size, "%s.%s", input, s);
    free(h);
    free(p);
    free(input);
    free(sig);
    free(s);
    return token;
}

char *test_jwt(const char *alg, const char *kid, const char *payload, EVP_PKEY *pkey,
               const void *secret, size_t secret_len)
{
    char header[256];
    if (kid)
        snprintf(header, sizeof(header), "{\"alg\":\"%s\",\"kid\":\"%s\"}", alg, kid);
    else
        snprintf(header, sizeof(header), "{\"alg\":\"%s\"}", alg);
    return test_jws_sign(alg, header, payload, pkey, secret, secret_len);
}
