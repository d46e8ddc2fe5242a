/* jwt_cost.c - what a bearer token costs enoki: a cold verification (the signature checked with
 * OpenSSL, routes/jwt) for RS256 and ES256, and a warm one (the token found in routes/token_cache).
 * Also writes the JWK Set and the RS256 token that bench/run.sh's auth measurement uses.
 *
 * Usage: jwt_cost --jwks FILE --token FILE
 * Prints "RESULT rs256_us=.. es256_us=.. cached_us=.." (each the median of RUNS batches). Every
 * token is checked to verify before it is timed, so a broken verifier cannot be measured as fast.
 */
#include "core/status.h"
#include "routes/jwk.h"
#include "routes/jwt.h"
#include "routes/token_cache.h"
#include "tests/unit/routes/jwt_signer.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RUNS 7
#define BATCH 400
#define CACHED_BATCH 100000

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void die(const char *what)
{
    fprintf(stderr, "jwt_cost: %s\n", what);
    exit(1);
}

/* Median microseconds of one gw_jwt_verify of token. */
static double verify_cost(const struct gw_jwt_policy *p, const struct gw_jwk_set *keys,
                          const char *token, int64_t now)
{
    double runs[RUNS];
    char err[256];
    json_t *claims;
    if (gw_jwt_verify(p, keys, token, strlen(token), now, &claims, err, sizeof(err)) != GW_OK)
        die(err);
    json_decref(claims);
    for (int r = 0; r < RUNS; r++) {
        double t0 = now_us();
        for (int i = 0; i < BATCH; i++) {
            if (gw_jwt_verify(p, keys, token, strlen(token), now, &claims, err, sizeof(err)) !=
                GW_OK)
                die(err);
            json_decref(claims);
        }
        runs[r] = (now_us() - t0) / BATCH;
    }
    qsort(runs, RUNS, sizeof(runs[0]), cmp_double);
    return runs[RUNS / 2];
}

/* Median microseconds of one cache lookup of a token that is there. */
static double cached_cost(const char *token, int64_t now)
{
    struct gw_token_cache *cache = gw_token_cache_new();
    json_t *claims = json_pack("{s:s}", "sub", "bench");
    gw_token_cache_put(cache, token, strlen(token), claims, now + 3600, now);
    double runs[RUNS];
    for (int r = 0; r < RUNS; r++) {
        double t0 = now_us();
        for (int i = 0; i < CACHED_BATCH; i++)
            if (gw_token_cache_get(cache, token, strlen(token), now) != claims)
                die("the cache lost the token");
        runs[r] = (now_us() - t0) / CACHED_BATCH;
    }
    gw_token_cache_free(cache);
    json_decref(claims);
    qsort(runs, RUNS, sizeof(runs[0]), cmp_double);
    return runs[RUNS / 2];
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        die("cannot write a file");
}

int main(int argc, char **argv)
{
    const char *jwks_path = NULL, *token_path = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--jwks") == 0)
            jwks_path = argv[i + 1];
        else if (strcmp(argv[i], "--token") == 0)
            token_path = argv[i + 1];
    }
    if (!jwks_path || !token_path)
        die("usage: jwt_cost --jwks FILE --token FILE");
    EVP_PKEY *rsa = test_keygen("RSA");
    EVP_PKEY *ec = test_keygen("P-256");
    char *rsa_jwk = test_public_jwk(rsa, "bench-rs", "RS256");
    char *ec_jwk = test_public_jwk(ec, "bench-es", "ES256");
    size_t n = strlen(rsa_jwk) + strlen(ec_jwk) + 32;
    char *jwks = malloc(n);
    snprintf(jwks, n, "{\"keys\":[%s,%s]}", rsa_jwk, ec_jwk);
    int64_t now = (int64_t)time(NULL);
    char payload[256];
    /* A day: the benchmark's token must outlive any run. */
    snprintf(payload, sizeof(payload),
             "{\"sub\":\"bench\",\"scope\":\"bench:echo\",\"iat\":%lld,\"exp\":%lld}",
             (long long)now, (long long)now + 86400);
    char *rs_token = test_jwt("RS256", "bench-rs", payload, rsa, NULL, 0);
    char *es_token = test_jwt("ES256", "bench-es", payload, ec, NULL, 0);
    write_file(jwks_path, jwks);
    write_file(token_path, rs_token);

    struct gw_jwk_set *keys;
    char err[256];
    if (gw_jwk_set_parse(jwks, strlen(jwks), &keys, err, sizeof(err)) != GW_OK)
        die(err);
    struct gw_jwt_policy policy = {.algorithms = GW_JWS_RS256 | GW_JWS_ES256, .leeway_s = 30};
    double rs = verify_cost(&policy, keys, rs_token, now);
    double es = verify_cost(&policy, keys, es_token, now);
    double cached = cached_cost(rs_token, now);
    printf("RESULT rs256_us=%.1f es256_us=%.1f cached_us=%.2f\n", rs, es, cached);
    gw_jwk_set_free(keys);
    free(jwks);
    free(rsa_jwk);
    free(ec_jwk);
    free(rs_token);
    free(es_token);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);
    return 0;
}
