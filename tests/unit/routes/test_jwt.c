/* Unit tests for routes/jwt: tokens signed here with keys generated here, verified (every
 * algorithm) and refused (none, algorithms outside the policy, alg confusion, unknown kids,
 * tampering, malformed tokens, time and identity claims). */
#include "core/status.h"
#include "routes/jwk.h"
#include "routes/jwt.h"

#include "tests/unit/routes/jwt_signer.h"
#include "tests/unit/suites.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static EVP_PKEY *rsa, *p256, *p384, *ed;
static struct gw_jwk_set *keys;
static const char secret[] = "a shared secret of at least 32 bytes, for HS256";
static const char oct_secret[] = "the oct key's secret";

enum { NOW = 1700000000 };

static void keys_setup(void)
{
    rsa = test_keygen("RSA");
    p256 = test_keygen("P-256");
    p384 = test_keygen("P-384");
    ed = test_keygen("Ed25519");
    char *r = test_public_jwk(rsa, "r", NULL), *e2 = test_public_jwk(p256, "e2", NULL);
    char *e3 = test_public_jwk(p384, "e3", NULL), *o = test_public_jwk(ed, "o", NULL);
    char *k = test_b64url(oct_secret, strlen(oct_secret));
    char json[16384], err[256];
    snprintf(json, sizeof(json),
             "{\"keys\":[%s,%s,%s,%s,{\"kty\":\"oct\",\"kid\":\"s\",\"k\":\"%s\"}]}", r, e2, e3, o,
             k);
    if (gw_jwk_set_parse(json, strlen(json), &keys, err, sizeof(err)) != GW_OK) {
        fprintf(stderr, "test_jwt: %s\n", err);
        abort();
    }
    free(r);
    free(e2);
    free(e3);
    free(o);
    free(k);
}

static void keys_teardown(void)
{
    gw_jwk_set_free(keys);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(p256);
    EVP_PKEY_free(p384);
    EVP_PKEY_free(ed);
}

static const struct gw_jwt_policy all = {.algorithms = GW_JWS_ALL, .secret = secret};

/* Verifies token with policy and the suite's keys at NOW; checks that the reason is there and never
 * holds the token, and returns the status. */
static int verify(const struct gw_jwt_policy *p, const char *token)
{
    json_t *claims = (json_t *)1;
    char err[256];
    int status = gw_jwt_verify(p, keys, token, strlen(token), NOW, &claims, err, sizeof(err));
    if (status == GW_OK) {
        ck_assert(json_is_object(claims));
        json_decref(claims);
    } else {
        ck_assert_ptr_null(claims);
        ck_assert_msg(err[0] != '\0', "no reason for %d", status);
        ck_assert_msg(strlen(token) < 8 || strstr(err, token) == NULL,
                      "the reason holds the token");
    }
    return status;
}

static const struct {
    const char *alg;
    const char *kid;
    EVP_PKEY **key;
    const char *secret;
} signers[] = {
    {"HS256", NULL, NULL, secret},    {"HS384", NULL, NULL, secret},
    {"HS512", NULL, NULL, secret},    {"HS256", "s", NULL, oct_secret},
    {"HS512", "s", NULL, oct_secret}, {"RS256", "r", &rsa, NULL},
    {"RS384", "r", &rsa, NULL},       {"RS512", "r", &rsa, NULL},
    {"PS256", "r", &rsa, NULL},       {"ES256", "e2", &p256, NULL},
    {"ES384", "e3", &p384, NULL},     {"EdDSA", "o", &ed, NULL},
    {"ES256", NULL, &p256, NULL},     {"EdDSA", NULL, &ed, NULL},
};

static char *sign_with(size_t i, const char *payload)
{
    const char *s = signers[i].secret;
    return test_jwt(signers[i].alg, signers[i].kid, payload,
                    signers[i].key ? *signers[i].key : NULL, s, s ? strlen(s) : 0);
}

START_TEST(every_algorithm_verifies)
{
    char *token = sign_with((size_t)_i, "{\"sub\":\"alice\",\"exp\":1700000100}");
    json_t *claims = NULL;
    char err[256] = "";
    int status = gw_jwt_verify(&all, keys, token, strlen(token), NOW, &claims, err, sizeof(err));
    ck_assert_msg(status == GW_OK, "%s: %s", signers[_i].alg, err);
    ck_assert_str_eq(json_string_value(json_object_get(claims, "sub")), "alice");
    json_decref(claims);
    /* the policy's list is obeyed: everything but this alg */
    struct gw_jwt_policy others = all;
    others.algorithms &= ~gw_jws_alg_from_name(signers[_i].alg);
    ck_assert_int_eq(verify(&others, token), GW_ETOKEN_ALG);
    /* one bit changed in the payload */
    char *dot = strchr(token, '.') + 1;
    dot[2] = dot[2] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(verify(&all, token), GW_ETOKEN_SIG);
    free(token);
}
END_TEST

START_TEST(none_is_never_accepted)
{
    const char *names[] = {"none", "None", "NONE", "nOnE"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char header[64];
        snprintf(header, sizeof(header), "{\"alg\":\"%s\"}", names[i]);
        char *token = test_jws_sign("none", header, "{\"sub\":\"x\"}", NULL, NULL, 0);
        ck_assert_int_eq(verify(&all, token), GW_ETOKEN_ALG);
        free(token);
    }
}
END_TEST

/* An RS256 token re-signed as HS256 with the RSA public key's text as the HMAC secret. */
START_TEST(alg_confusion_is_refused)
{
    char *pem = test_public_pem(rsa);
    char *jwk = test_public_jwk(rsa, "r", NULL);
    const char *texts[] = {pem, jwk};
    struct gw_jwt_policy no_secret = {.algorithms = GW_JWS_ALL};
    for (size_t i = 0; i < 2; i++) {
        char *with_kid = test_jwt("HS256", "r", "{}", NULL, texts[i], strlen(texts[i]));
        char *without = test_jwt("HS256", NULL, "{}", NULL, texts[i], strlen(texts[i]));
        ck_assert_int_eq(verify(&no_secret, with_kid), GW_ETOKEN_ALG);
        ck_assert_int_eq(verify(&all, with_kid), GW_ETOKEN_ALG);
        ck_assert_int_eq(verify(&no_secret, without), GW_ETOKEN_SIG); /* the oct key is not it */
        json_t *claims;
        char err[128];
        ck_assert_int_eq(gw_jwt_verify(&no_secret, NULL, without, strlen(without), NOW, &claims,
                                       err, sizeof(err)),
                         GW_ETOKEN_KID);
        ck_assert_int_eq(verify(&all, without), GW_ETOKEN_SIG); /* the policy's secret is not it */
        free(with_kid);
        free(without);
    }
    /* an EC key of the other curve, an RSA token pointing at an EC key, EdDSA at an RSA key */
    char *t = test_jwt("ES256", "e3", "{}", p256, NULL, 0);
    ck_assert_int_eq(verify(&all, t), GW_ETOKEN_ALG);
    free(t);
    t = test_jwt("ES384", "e2", "{}", p384, NULL, 0);
    ck_assert_int_eq(verify(&all, t), GW_ETOKEN_ALG);
    free(t);
    t = test_jwt("RS256", "e2", "{}", rsa, NULL, 0);
    ck_assert_int_eq(verify(&all, t), GW_ETOKEN_ALG);
    free(t);
    t = test_jwt("EdDSA", "r", "{}", ed, NULL, 0);
    ck_assert_int_eq(verify(&all, t), GW_ETOKEN_ALG);
    free(t);
    /* the oct key's secret is not an RSA key, and a token signed by another key fails */
    t = test_jwt("RS256", "s", "{}", rsa, NULL, 0);
    ck_assert_int_eq(verify(&all, t), GW_ETOKEN_ALG);
    free(t);
    EVP_PKEY *other = test_keygen("P-256");
    t = test_jwt("ES256", "e2", "{}", other, NULL, 0);
    ck_assert_int_eq(verify(&all, t), GW_ETOKEN_SIG);
    free(t);
    EVP_PKEY_free(other);
    free(pem);
    free(jwk);
}
END_TEST

START_TEST(kids)
{
    char *t = test_jwt("RS256", "rotated", "{}", rsa, NULL, 0);
    ck_assert_int_eq(verify(&all, t), GW_ETOKEN_KID);
    /* without a key set, any kid is unknown */
    json_t *claims;
    char err[128];
    ck_assert_int_eq(gw_jwt_verify(&all, NULL, t, strlen(t), NOW, &claims, err, sizeof(err)),
                     GW_ETOKEN_KID);
    free(t);
    /* an HS256 token whose kid is not in the set: the policy's secret */
    t = test_jwt("HS256", "elsewhere", "{}", NULL, secret, strlen(secret));
    ck_assert_int_eq(verify(&all, t), GW_OK);
    free(t);
    /* RS256 without a kid: the only RSA key */
    t = test_jwt("RS256", NULL, "{}", rsa, NULL, 0);
    ck_assert_int_eq(verify(&all, t), GW_OK);
    free(t);
}
END_TEST

static void refused_as(const char *token, int status)
{
    ck_assert_int_eq(verify(&all, token), status);
}

START_TEST(malformed_tokens)
{
    char *good = test_jwt("HS256", NULL, "{\"sub\":\"x\"}", NULL, secret, strlen(secret));
    char buf[12000];
    size_t n = strlen(good);
    refused_as("", GW_ETOKEN);
    refused_as("abc", GW_ETOKEN);
    refused_as("a.b", GW_ETOKEN);
    snprintf(buf, sizeof(buf), "%s.", good);
    refused_as(buf, GW_ETOKEN); /* four parts */
    snprintf(buf, sizeof(buf), "%.*s", (int)(n - 1), good);
    ck_assert_int_ne(verify(&all, buf), GW_OK); /* truncated */
    snprintf(buf, sizeof(buf), "%.*s", (int)(strrchr(good, '.') - good + 1), good);
    refused_as(buf, GW_ETOKEN_SIG); /* no signature */
    snprintf(buf, sizeof(buf), "%s=", good);
    refused_as(buf, GW_ETOKEN); /* padding */
    snprintf(buf, sizeof(buf), "%s", good);
    buf[3] = '+';
    refused_as(buf, GW_ETOKEN); /* base64, not base64url */
    /* headers that are not what a JWS header is */
    const char *headers[] = {"[]",
                             "{\"typ\":\"JWT\"}",
                             "{\"alg\":256}",
                             "{\"alg\":\"HS256\",\"kid\":1}",
                             "{\"alg\":\"HS256\",\"crit\":[\"exp\"]}",
                             "{\"alg\":\"HS256\",\"alg\":\"HS256\"}",
                             "{\"alg\":\"HS256\"",
                             "not json"};
    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        char *t = test_jws_sign("HS256", headers[i], "{}", NULL, secret, strlen(secret));
        ck_assert_msg(verify(&all, t) == GW_ETOKEN, "header %s", headers[i]);
        free(t);
    }
    /* payloads that are not JSON objects, signed */
    const char *payloads[] = {
        "", "[]", "\"x\"", "{\"a\":1", "{\"a\":1,\"a\":2}", "{\"a\":\"\\u0000\"}"};
    for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
        char *t = test_jwt("HS256", NULL, payloads[i], NULL, secret, strlen(secret));
        ck_assert_msg(verify(&all, t) == GW_ETOKEN, "payload %s", payloads[i]);
        free(t);
    }
    /* an ECDSA signature of the wrong length */
    char *t = test_jwt("ES256", "e2", "{}", p256, NULL, 0);
    snprintf(buf, sizeof(buf), "%sAAAA", t);
    refused_as(buf, GW_ETOKEN_SIG);
    free(t);
    /* over 8 KiB, even when it is signed well */
    char big[9000];
    memset(big, 'x', sizeof(big));
    snprintf(big, sizeof(big), "{\"pad\":\"%06200d\"}", 0);
    t = test_jwt("HS256", NULL, big, NULL, secret, strlen(secret));
    ck_assert_uint_gt(strlen(t), GW_JWT_MAX_LEN);
    refused_as(t, GW_ETOKEN);
    free(t);
    /* exactly 8 KiB is not over: {"alg":"HS256"} is 20 characters, the signature 43, the
     * payload {"pad":"..."} of 6095 bytes 8127 */
    snprintf(big, sizeof(big), "{\"pad\":\"%06085d\"}", 0);
    t = test_jwt("HS256", NULL, big, NULL, secret, strlen(secret));
    ck_assert_uint_eq(strlen(t), GW_JWT_MAX_LEN);
    refused_as(t, GW_OK);
    free(t);
    free(good);
}
END_TEST

static int at(const struct gw_jwt_policy *p, const char *payload, int64_t now)
{
    char *t = test_jwt("HS256", NULL, payload, NULL, secret, strlen(secret));
    json_t *claims = NULL;
    char err[128];
    int status = gw_jwt_verify(p, keys, t, strlen(t), now, &claims, err, sizeof(err));
    json_decref(claims);
    free(t);
    return status;
}

START_TEST(exp_and_nbf)
{
    struct gw_jwt_policy lenient = all;
    lenient.leeway_s = 30;
    const char *exp = "{\"exp\":1000}", *nbf = "{\"nbf\":1000}";
    ck_assert_int_eq(at(&all, exp, 999), GW_OK);
    ck_assert_int_eq(at(&all, exp, 1000), GW_ETOKEN_EXPIRED);
    ck_assert_int_eq(at(&lenient, exp, 1029), GW_OK);
    ck_assert_int_eq(at(&lenient, exp, 1030), GW_ETOKEN_EXPIRED);
    /* Whole seconds, as PyJWT reads them (int()): an exp of 1000.5 has passed at 1000. */
    ck_assert_int_eq(at(&all, "{\"exp\":1000.5}", 999), GW_OK);
    ck_assert_int_eq(at(&all, "{\"exp\":1000.5}", 1000), GW_ETOKEN_EXPIRED);
    /* iat: a number, and not in the future beyond the leeway (PyJWT's ImmatureSignatureError). */
    ck_assert_int_eq(at(&all, "{\"iat\":1000}", 1000), GW_OK);
    ck_assert_int_eq(at(&all, "{\"iat\":1001}", 1000), GW_ETOKEN_EARLY);
    ck_assert_int_eq(at(&lenient, "{\"iat\":1030}", 1000), GW_OK);
    ck_assert_int_eq(at(&lenient, "{\"iat\":1031}", 1000), GW_ETOKEN_EARLY);
    /* iat's fraction counts (PyJWT compares it as it is): 1030.5 is past 1000 + 30. */
    ck_assert_int_eq(at(&lenient, "{\"iat\":1030.5}", 1000), GW_ETOKEN_EARLY);
    ck_assert_int_eq(at(&all, "{\"iat\":\"abc\"}", 1000), GW_ETOKEN_CLAIM);
    ck_assert_int_eq(at(&all, nbf, 1000), GW_OK);
    ck_assert_int_eq(at(&all, nbf, 999), GW_ETOKEN_EARLY);
    ck_assert_int_eq(at(&lenient, nbf, 970), GW_OK);
    ck_assert_int_eq(at(&lenient, nbf, 969), GW_ETOKEN_EARLY);
    ck_assert_int_eq(at(&all, "{\"exp\":\"2000\"}", 0), GW_ETOKEN_CLAIM);
    ck_assert_int_eq(at(&all, "{\"nbf\":null}", 0), GW_ETOKEN_CLAIM);
    ck_assert_int_eq(at(&all, "{}", INT64_MAX), GW_OK); /* neither: no time limit */
}
END_TEST

START_TEST(issuer_and_audience)
{
    struct gw_jwt_policy p = all;
    p.issuer = "https://id.example";
    p.audience = "enoki";
    ck_assert_int_eq(at(&p, "{\"iss\":\"https://id.example\",\"aud\":\"enoki\"}", NOW), GW_OK);
    ck_assert_int_eq(at(&p, "{\"iss\":\"https://id.example\",\"aud\":[\"x\",\"enoki\"]}", NOW),
                     GW_OK);
    ck_assert_int_eq(at(&p, "{\"iss\":\"https://id.example\",\"aud\":[\"x\",1]}", NOW),
                     GW_ETOKEN_CLAIM);
    /* A list holding anything but strings is refused whole, the audience among them (PyJWT). */
    ck_assert_int_eq(at(&p, "{\"iss\":\"https://id.example\",\"aud\":[\"enoki\",1]}", NOW),
                     GW_ETOKEN_CLAIM);
    ck_assert_int_eq(at(&p, "{\"iss\":\"https://id.example\",\"aud\":[null,\"enoki\"]}", NOW),
                     GW_ETOKEN_CLAIM);
    ck_assert_int_eq(at(&p, "{\"iss\":\"https://id.example\",\"aud\":\"enoki2\"}", NOW),
                     GW_ETOKEN_CLAIM);
    ck_assert_int_eq(at(&p, "{\"iss\":\"https://id.example\"}", NOW), GW_ETOKEN_CLAIM);
    ck_assert_int_eq(at(&p, "{\"iss\":\"https://evil.example\",\"aud\":\"enoki\"}", NOW),
                     GW_ETOKEN_CLAIM);
    ck_assert_int_eq(at(&p, "{\"iss\":[\"https://id.example\"],\"aud\":\"enoki\"}", NOW),
                     GW_ETOKEN_CLAIM);
    ck_assert_int_eq(at(&p, "{\"aud\":\"enoki\"}", NOW), GW_ETOKEN_CLAIM);
    /* neither set: neither checked */
    ck_assert_int_eq(at(&all, "{\"iss\":7,\"aud\":{}}", NOW), GW_OK);
}
END_TEST

Suite *jwt_suite(void)
{
    Suite *s = suite_create("jwt");
    TCase *tc = tcase_create("verify");
    tcase_add_unchecked_fixture(tc, keys_setup, keys_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, every_algorithm_verifies, 0,
                        (int)(sizeof(signers) / sizeof(signers[0])));
    tcase_add_test(tc, none_is_never_accepted);
    tcase_add_test(tc, alg_confusion_is_refused);
    tcase_add_test(tc, kids);
    tcase_add_test(tc, malformed_tokens);
    tcase_add_test(tc, exp_and_nbf);
    tcase_add_test(tc, issuer_and_audience);
    suite_add_tcase(s, tc);
    return s;
}
