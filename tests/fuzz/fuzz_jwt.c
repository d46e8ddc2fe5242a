/* fuzz_jwt - libFuzzer harness for routes/jwt's gw_jwt_verify (and through it core/text's base64url
 * decoder and routes/jwk's key selection).
 *
 * The input is a token, verified from an exact-length heap copy against a fixed JWK Set (an RSA
 * 2048, a P-256, a P-384, an Ed25519 and an oct key, generated once; the seeds in
 * tests/fuzz/corpus/jwt were signed with their private halves, which were then thrown away) and
 * the policy secret "fuzz secret", every algorithm allowed; once without claim checks and once
 * with issuer, audience and a leeway. Properties: never a crash or a leak; success means a JSON
 * object of claims and nothing else; failure means no claims, a token status and a reason.
 */
#include "fuzz_util.h"

#include "core/status.h"
#include "routes/jwk.h"
#include "routes/jwt.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char jwks[] =
    "{\"keys\":["
    "{\"kty\":\"RSA\",\"n\":\"rJjr6RJMknySzmYJPVlnoE9uG6XhlYSRahWFiT2z-eBfiS21KTvhdS1VAkpbdqs"
    "3biDRdAASW3TuHQkXDzXQMlcNdNeFQpu1PZ_cNyRJzgnWBH68Rs-cVYiHGvT1kxNKHNaQyLWVftqZmMxi7YIR4lw"
    "C82-XjmOJ_7NuHNOnewvVyWmjmODDTs7TVcQArxuBq2_66gYfkeoAzvHSxUBahjPamDYgcFY_TYmS9-d_h573VPo"
    "vVl5BudSYkTqSyEabS0G20F1dErViNhFKCt5gTYe4mavMqh6K0fwW2knxyhqmgPw3Xg7y-buxcznazNeTjO_-hNU"
    "2ao8Qg2Mx1jF8DQ\",\"e\":\"AQAB\",\"kid\":\"r\"},"
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"ewRcMvXyVuGBBmEAcfincqomOEv-qolVCWSrFtSwGpw\","
    "\"y\":\"GC75lbJD08QgfR4v0JiRWUJwK1ykdg5tqzJJPlDqRrQ\",\"kid\":\"e2\"},"
    "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"MUE9WXCWewvAcCJVyN-Z9AQPG6vw00-ofHj7wn2MeVZ3zm"
    "JlhrtOjZgwBaMXfaUc\",\"y\":\"zQcfJ-QudNxIWtTEvITNrlI9TlVz8lJA2qml6lahxY27frqYlMSaDmrIGcU"
    "tWO5f\",\"kid\":\"e3\"},"
    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"nGJzNmaAmodBVOPxB6eVAPMzqsk-N-DovT22w-32uDI"
    "\",\"kid\":\"o\"},"
    "{\"kty\":\"oct\",\"kid\":\"s\",\"k\":\"ZnV6eiBvY3Qgc2VjcmV0\"}"
    "]}";

/* The seeds' exp and nbf hold around this time. */
enum { NOW = 1700000000 };

static struct gw_jwk_set *keys;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[256];
    if (gw_jwk_set_parse(jwks, strlen(jwks), &keys, err, sizeof(err)) != GW_OK) {
        fprintf(stderr, "fuzz_jwt: %s\n", err);
        abort();
    }
    return 0;
}

static void verify(const struct gw_jwt_policy *p, const char *token, size_t len)
{
    json_t *claims = NULL;
    char err[256];
    int status = gw_jwt_verify(p, keys, token, len, NOW, &claims, err, sizeof(err));
    if (status == GW_OK) {
        FUZZ_ASSERT(json_is_object(claims));
        json_decref(claims);
    } else {
        FUZZ_ASSERT(claims == NULL);
        FUZZ_ASSERT(status <= GW_ETOKEN && status >= GW_ETOKEN_CLAIM);
        FUZZ_ASSERT(err[0] != '\0' && strlen(err) < sizeof(err));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct gw_jwt_policy lenient = {.algorithms = GW_JWS_ALL, .secret = "fuzz secret"};
    static const struct gw_jwt_policy strict = {.algorithms = GW_JWS_ALL,
                                                .secret = "fuzz secret",
                                                .issuer = "https://id.example",
                                                .audience = "enoki",
                                                .leeway_s = 60};
    char *token = malloc(size ? size : 1);
    memcpy(token, data, size);
    verify(&lenient, token, size);
    verify(&strict, token, size);
    free(token);
    return 0;
}
