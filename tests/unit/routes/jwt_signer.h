/* jwt_signer.h - a test-only JWS signer and JWK writer for the routes/jwk and routes/jwt tests:
 * keys generated with OpenSSL, their public parts written as JWK JSON, tokens signed with them. */
#ifndef ENOKI_TEST_JWT_SIGNER_H
#define ENOKI_TEST_JWT_SIGNER_H

#include <openssl/evp.h>
#include <stddef.h>

/* base64url without padding of in[0..n), a new string. */
char *test_b64url(const void *in, size_t n);

/* A new key pair: "RSA" (2048 bits), "P-256", "P-384" or "Ed25519". Aborts on failure. */
EVP_PKEY *test_keygen(const char *type);

/* The public JWK of pkey as JSON text (a new string); kid and alg are left out when NULL. */
char *test_public_jwk(EVP_PKEY *pkey, const char *kid, const char *alg);

/* The PEM text of pkey's public key (a new string). */
char *test_public_pem(EVP_PKEY *pkey);

/* A compact JWS: base64url(header) "." base64url(payload) "." base64url(signature), signed with
 * alg (a JWS name) by pkey, or for HS* with secret[0..secret_len). The JSON texts are used as they
 * are. alg "none" gives an empty signature. Returns a new string. */
char *test_jws_sign(const char *alg, const char *header, const char *payload, EVP_PKEY *pkey,
                    const void *secret, size_t secret_len);

/* test_jws_sign with the header {"alg":alg[,"kid":kid]}. */
char *test_jwt(const char *alg, const char *kid, const char *payload, EVP_PKEY *pkey,
               const void *secret, size_t secret_len);

#endif
