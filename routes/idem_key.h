/* idem_key.h - the Idempotency-Key request header (draft-ietf-httpapi-idempotency-key-header) read,
 * and what identifies a request under it (docs/idempotency.md).
 *
 * The draft makes the field a Structured Field Item whose value is a String (RFC 8941 sf-string:
 * Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324"). Many clients send the key bare, as
 * Stripe's API takes it: a bare run of safe characters (letters, digits and -._~:+/=) is accepted
 * too. Anything else is refused with a message naming the problem: an empty key, a longer one than
 * GW_IDEM_KEY_MAX bytes, a bad character or escape, an unterminated string, parameters or text
 * after the key. Pure.
 */
#ifndef ENOKI_IDEM_KEY_H
#define ENOKI_IDEM_KEY_H

#include <stddef.h>
#include <stdint.h>

/* The longest key accepted, in bytes once unquoted. */
#define GW_IDEM_KEY_MAX 255
#define GW_IDEM_DIGEST_LEN 32

/* Reads the field value[0..len): GW_OK with the key in out (NUL-terminated, out_cap at least
 * GW_IDEM_KEY_MAX + 1) and its length in *out_len; or GW_EARGS with a message for the client in
 * err ("the Idempotency-Key is empty", ...). */
int gw_idem_key_parse(const char *value, size_t len, char *out, size_t out_cap, size_t *out_len,
                      char *err, size_t errlen);

struct gw_idem_hasher;

/* SHA-256 fetched once, and secret[0..GW_IDEM_DIGEST_LEN) that keys the entries' ids (the process
 * draws it at random: ids cannot be chosen from outside to collide). NULL if OpenSSL has no
 * SHA-256. */
struct gw_idem_hasher *gw_idem_hasher_new(const uint8_t *secret);
void gw_idem_hasher_free(struct gw_idem_hasher *h);

/* The entry of a request: the key, what it calls (route: e.g. "POST /orders") and who calls
 * (identity: e.g. "iss\nsub" of a verified token; NULL for an anonymous caller, which is not the
 * same as ""). Each part is length-prefixed, so no two triples give the same input. */
void gw_idem_id(struct gw_idem_hasher *h, const char *key, size_t key_len, const char *route,
                const char *identity, uint8_t out[GW_IDEM_DIGEST_LEN]);

/* What "the same request" means for a key: the method, the target (path and query as sent), the
 * Content-Type (NULL: none) and the body, each length-prefixed. */
void gw_idem_fingerprint(struct gw_idem_hasher *h, const char *method, const char *target,
                         const char *content_type, const char *body, size_t body_len,
                         uint8_t out[GW_IDEM_DIGEST_LEN]);

#endif
