/* Unit tests for routes/jwk: JWK Sets read from keys generated here, refused whole when one key is
 * private, unknown or malformed, and keys selected by kid and alg. */
#include "core/status.h"
#include "core/xalloc.h"
#include "routes/jwk.h"

#include "tests/unit/routes/jwt_signer.h"
#include "tests/unit/suites.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static EVP_PKEY *rsa, *p256, *p384, *ed;

static void keys_setup(void)
{
    rsa = test_keygen("RSA");
    p256 = test_keygen("P-256");
    p384 = test_keygen("P-384");
    ed = test_keygen("Ed25519");
}

static void keys_teardown(void)
{
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(p256);
    EVP_PKEY_free(p384);
    EVP_PKEY_free(ed);
}

/* {"keys":[a, b, ...]} of the given JWK texts (NULL-terminated), a new string. */
static char *set_of(const char *first, ...)
{
    static char buf[16384];
    size_t n = (size_t)snprintf(buf, sizeof(buf), "{\"keys\":[%s", first);
    va_list ap;
    va_start(ap, first);
    for (const char *k; (k = va_arg(ap, const char *)) != NULL;)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, ",%s", k);
    va_end(ap);
    snprintf(buf + n, sizeof(buf) - n, "]}");
    return strdup(buf);
}

static struct gw_jwk_set *parse_ok(const char *json)
{
    struct gw_jwk_set *set = NULL;
    char err[256] = "";
    int status = gw_jwk_set_parse(json, strlen(json), &set, err, sizeof(err));
    ck_assert_msg(status == GW_OK, "refused: %s", err);
    return set;
}

START_TEST(reads_every_kind)
{
    char *r = test_public_jwk(rsa, "r", "RS256"), *e2 = test_public_jwk(p256, "e2", NULL);
    char *e3 = test_public_jwk(p384, "e3", "ES384"), *o = test_public_jwk(ed, "o", "EdDSA");
    char *json = set_of(r, e2, e3, o, "{\"kty\":\"oct\",\"k\":\"c2VjcmV0\",\"kid\":\"s\"}", NULL);
    struct gw_jwk_set *set = parse_ok(json);
    ck_assert_uint_eq(gw_jwk_set_count(set), 5);
    const struct gw_jwk *k = gw_jwk_set_find(set, "r");
    ck_assert_ptr_eq(k, gw_jwk_set_at(set, 0));
    ck_assert_int_eq(gw_jwk_type(k), GW_JWK_RSA);
    ck_assert_str_eq(gw_jwk_kid(k), "r");
    ck_assert_ptr_nonnull(gw_jwk_pkey(k));
    ck_assert(gw_jwk_fits(k, GW_JWS_RS256));
    ck_assert(!gw_jwk_fits(k, GW_JWS_RS512)); /* its alg says RS256 only */
    ck_assert(!gw_jwk_fits(k, GW_JWS_HS256));
    k = gw_jwk_set_find(set, "e2");
    ck_assert_int_eq(gw_jwk_type(k), GW_JWK_EC_P256);
    ck_assert(gw_jwk_fits(k, GW_JWS_ES256) && !gw_jwk_fits(k, GW_JWS_ES384));
    k = gw_jwk_set_find(set, "e3");
    ck_assert_int_eq(gw_jwk_type(k), GW_JWK_EC_P384);
    ck_assert(gw_jwk_fits(k, GW_JWS_ES384) && !gw_jwk_fits(k, GW_JWS_ES256));
    k = gw_jwk_set_find(set, "o");
    ck_assert_int_eq(gw_jwk_type(k), GW_JWK_ED25519);
    ck_assert(gw_jwk_fits(k, GW_JWS_EDDSA));
    k = gw_jwk_set_find(set, "s");
    ck_assert_int_eq(gw_jwk_type(k), GW_JWK_OCT);
    size_t len;
    ck_assert_mem_eq(gw_jwk_secret(k, &len), "secret", 6);
    ck_assert_uint_eq(len, 6);
    ck_assert_ptr_null(gw_jwk_pkey(k));
    ck_assert(gw_jwk_fits(k, GW_JWS_HS512) && !gw_jwk_fits(k, GW_JWS_RS256));
    ck_assert_ptr_null(gw_jwk_set_find(set, "nope"));
    gw_jwk_set_free(set);
    free(r);
    free(e2);
    free(e3);
    free(o);
    free(json);
}
END_TEST

START_TEST(alg_names)
{
    ck_assert_uint_eq(gw_jws_alg_from_name("PS256"), GW_JWS_PS256);
    ck_assert_uint_eq(gw_jws_alg_from_name("EdDSA"), GW_JWS_EDDSA);
    ck_assert_uint_eq(gw_jws_alg_from_name("none"), 0);
    ck_assert_uint_eq(gw_jws_alg_from_name("hs256"), 0);
    ck_assert_str_eq(gw_jws_alg_name(GW_JWS_ES384), "ES384");
    ck_assert_str_eq(gw_jws_alg_name(GW_JWS_HMAC), "");
}
END_TEST

/* Keys that are read but verify nothing: not for signatures (use, or key_ops without verify, RFC
 * 7517 4.3), an alg enoki does not verify, RSA under 2048 bits. */
START_TEST(keeps_keys_it_cannot_use)
{
    EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    char *s = test_public_jwk(small, "small", NULL);
    char *r = test_public_jwk(rsa, "enc", "RSA-OAEP");
    char use[4096], ops[4096], bad_ops[4096], verify[4096];
    char *plain = test_public_jwk(rsa, "use", NULL);
    snprintf(use, sizeof(use), "{\"use\":\"enc\",%s", plain + 1);
    snprintf(ops, sizeof(ops), "{\"key_ops\":[\"sign\",\"encrypt\"],%s", plain + 1);
    snprintf(bad_ops, sizeof(bad_ops), "{\"key_ops\":\"verify\",%s", plain + 1);
    snprintf(verify, sizeof(verify), "{\"key_ops\":[\"verify\"],%s", plain + 1);
    char *json = set_of(s, r, use, ops, bad_ops, verify, NULL);
    struct gw_jwk_set *set = parse_ok(json);
    ck_assert_uint_eq(gw_jwk_set_count(set), 6);
    for (size_t i = 0; i < 5; i++)
        for (unsigned alg = 1; alg <= GW_JWS_EDDSA; alg <<= 1)
            ck_assert(!gw_jwk_fits(gw_jwk_set_at(set, i), alg));
    ck_assert(gw_jwk_fits(gw_jwk_set_at(set, 5), GW_JWS_RS256));
    gw_jwk_set_free(set);
    EVP_PKEY_free(small);
    free(s);
    free(r);
    free(plain);
    free(json);
}
END_TEST

static void refused(const char *json, const char *reason)
{
    struct gw_jwk_set *set = (struct gw_jwk_set *)1;
    char err[256] = "";
    ck_assert_int_eq(gw_jwk_set_parse(json, strlen(json), &set, err, sizeof(err)), GW_EJWKS);
    ck_assert_ptr_null(set);
    ck_assert_msg(strstr(err, reason) != NULL, "\"%s\" does not say \"%s\"", err, reason);
}

START_TEST(refuses_the_whole_set)
{
    char *good = test_public_jwk(p256, "a", NULL);
    char *r = test_public_jwk(rsa, NULL, NULL);
    char buf[8192];
    refused("not json", "not JSON");
    refused("{\"keys\":{}}", "no \"keys\" array");
    refused("[]", "no \"keys\" array");
    snprintf(buf, sizeof(buf), "{\"keys\":[%s,{\"d\":\"AQAB\",%s]}", good, good + 1);
    refused(buf, "key 1: private key (d)");
    snprintf(buf, sizeof(buf), "{\"keys\":[%s,%s,{\"p\":\"AQAB\",%s]}", good, good, r + 1);
    refused(buf, "key 2: private key (p)");
    snprintf(buf, sizeof(buf), "{\"keys\":[%s,{\"kty\":\"XYZ\"}]}", good);
    refused(buf, "key 1: unsupported kty");
    refused("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-521\",\"x\":\"AA\",\"y\":\"AA\"}]}",
            "key 0: unsupported crv");
    refused("{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"AA\"}]}",
            "key 0: unsupported crv");
    refused("{\"keys\":[{\"kty\":\"oct\"}]}", "key 0: k missing");
    refused("{\"keys\":[{\"kty\":\"oct\",\"k\":\"\"}]}", "key 0: k is empty");
    refused("{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0==\"}]}", "key 0: k is not base64url");
    refused("{\"keys\":[{\"kty\":\"oct\",\"k\":\"AAAA\",\"kid\":7}]}", "must be strings");
    refused("{\"keys\":[{\"kty\":\"RSA\",\"e\":\"AQAB\"}]}", "key 0: n missing");
    refused("{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AAAA\",\"e\":\"AQAB\"}]}",
            "key 0: not a valid RSA public key");
    refused("{\"keys\":[7]}", "key 0: not an object");
    refused("{\"keys\":[{\"kty\":\"oct\",\"k\":\"AAAA\",\"alg\":\"RS256\"}]}",
            "alg RS256 does not fit kty oct");
    /* x longer than the field (33 bytes, the first not 0), and a point that is not on the curve */
    snprintf(buf, sizeof(buf), "%s", good);
    char *x = strstr(buf, "\"x\":\"") + 5;
    memmove(x + 4, x, strlen(x) + 1);
    memcpy(x, "AQAB", 4); /* 01 00 01 before the 32 bytes */
    char set[8300];
    snprintf(set, sizeof(set), "{\"keys\":[%s]}", buf);
    refused(set, "key 0: x and y must be numbers of at most 32 bytes");
    snprintf(buf, sizeof(buf), "%s", good);
    x = strstr(buf, "\"x\":\"") + 5;
    x[3] = x[3] == 'A' ? 'B' : 'A';
    snprintf(set, sizeof(set), "{\"keys\":[%s]}", buf);
    refused(set, "key 0: not a point of P-256");
    snprintf(set, sizeof(set), "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAAA\"}]}");
    refused(set, "key 0: x is not an Ed25519 public key");
    /* a duplicate member */
    refused("{\"keys\":[],\"keys\":[]}", "not JSON");
    free(good);
    free(r);
}
END_TEST

/* A P-256 JWK of key's coordinates, each written as the number in as few bytes as it takes
 * (PyJWT 2.6's to_jwk) with lead zero bytes before it; a new string. */
static char *ec_jwk_as_numbers(EVP_PKEY *key, int lead)
{
    BIGNUM *xy[2] = {NULL, NULL};
    ck_assert(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &xy[0]) == 1);
    ck_assert(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &xy[1]) == 1);
    char *b64[2];
    for (int i = 0; i < 2; i++) {
        unsigned char bytes[40] = {0};
        int n = BN_bn2bin(xy[i], bytes + lead);
        b64[i] = test_b64url(bytes, (size_t)(lead + n));
        BN_free(xy[i]);
    }
    char *out =
        xasprintf("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}", b64[0], b64[1]);
    free(b64[0]);
    free(b64[1]);
    return out;
}

/* Coordinates are numbers: shorter than the field (a leading zero byte left out) or with a zero
 * sign byte before them, they are the same key. */
START_TEST(reads_coordinates_as_numbers)
{
    EVP_PKEY *key = NULL;
    for (int tries = 0; tries < 20000 && !key; tries++) {
        EVP_PKEY *k = test_keygen("P-256");
        BIGNUM *x = NULL, *y = NULL;
        ck_assert(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &x) == 1);
        ck_assert(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, &y) == 1);
        if (BN_num_bytes(x) < 32 || BN_num_bytes(y) < 32)
            key = k;
        else
            EVP_PKEY_free(k);
        BN_free(x);
        BN_free(y);
    }
    ck_assert_msg(key, "no P-256 key with a coordinate under 32 bytes in 20,000");
    for (int lead = 0; lead <= 2; lead++) {
        char *jwk = ec_jwk_as_numbers(key, lead);
        char *json = set_of(jwk, NULL);
        struct gw_jwk_set *set = parse_ok(json);
        ck_assert_int_eq(EVP_PKEY_eq(gw_jwk_pkey(gw_jwk_set_at(set, 0)), key), 1);
        gw_jwk_set_free(set);
        free(json);
        free(jwk);
    }
    EVP_PKEY_free(key);
}
END_TEST

START_TEST(selects_by_kid_and_alg)
{
    char *a = test_public_jwk(rsa, "a", NULL), *b = test_public_jwk(p256, "b", NULL);
    char *c = test_public_jwk(p256, "c", NULL);
    char *json = set_of(a, b, c, NULL);
    struct gw_jwk_set *set = parse_ok(json);
    const struct gw_jwk *k;
    ck_assert_int_eq(gw_jwk_set_select(set, "a", GW_JWS_PS256, &k), GW_OK);
    ck_assert_ptr_eq(k, gw_jwk_set_at(set, 0));
    ck_assert_int_eq(gw_jwk_set_select(set, "c", GW_JWS_ES256, &k), GW_OK);
    ck_assert_ptr_eq(k, gw_jwk_set_at(set, 2));
    ck_assert_int_eq(gw_jwk_set_select(set, "z", GW_JWS_ES256, &k), GW_ETOKEN_KID);
    ck_assert_ptr_null(k);
    ck_assert_int_eq(gw_jwk_set_select(set, "a", GW_JWS_HS256, &k), GW_ETOKEN_ALG);
    ck_assert_int_eq(gw_jwk_set_select(set, "b", GW_JWS_ES384, &k), GW_ETOKEN_ALG);
    /* without a kid: the only key that fits, or none, or an ambiguity */
    ck_assert_int_eq(gw_jwk_set_select(set, NULL, GW_JWS_RS384, &k), GW_OK);
    ck_assert_ptr_eq(k, gw_jwk_set_at(set, 0));
    ck_assert_int_eq(gw_jwk_set_select(set, NULL, GW_JWS_EDDSA, &k), GW_ETOKEN_KID);
    ck_assert_int_eq(gw_jwk_set_select(set, NULL, GW_JWS_ES256, &k), GW_ETOKEN);
    ck_assert_ptr_null(k);
    gw_jwk_set_free(set);
    free(a);
    free(b);
    free(c);
    free(json);
}
END_TEST

Suite *jwk_suite(void)
{
    Suite *s = suite_create("jwk");
    TCase *tc = tcase_create("sets");
    tcase_add_unchecked_fixture(tc, keys_setup, keys_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, reads_every_kind);
    tcase_add_test(tc, alg_names);
    tcase_add_test(tc, keeps_keys_it_cannot_use);
    tcase_add_test(tc, refuses_the_whole_set);
    tcase_add_test(tc, reads_coordinates_as_numbers);
    tcase_add_test(tc, selects_by_kid_and_alg);
    suite_add_tcase(s, tc);
    return s;
}
