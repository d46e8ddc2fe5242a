/* token_cache.h - tokens already verified, so that a client's repeated token costs a lookup, not a
 * signature check (docs/auth.md, "Cost").
 *
 * Keyed by the SHA-256 of the token: the cache never holds a token, and two tokens share an entry
 * only if SHA-256 collides. An entry lives until the token's exp plus the leeway (the instant the
 * verifier would start refusing it), or GW_TOKEN_CACHE_MAX_TTL_S for a token without exp. Memory is
 * bounded twice: GW_TOKEN_CACHE_ENTRIES entries in sets of GW_TOKEN_CACHE_WAYS (a full set drops
 * the entry that ends first), and GW_TOKEN_CACHE_MAX_BYTES of tokens' length in all (beyond, a
 * token is not cached: it is verified again each time). Only verified tokens are cached: whatever
 * changes what a token proves (new keys, another policy) must clear the cache. Pure: time comes in.
 */
#ifndef ENOKI_TOKEN_CACHE_H
#define ENOKI_TOKEN_CACHE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define GW_TOKEN_CACHE_ENTRIES 4096
#define GW_TOKEN_CACHE_WAYS 4
#define GW_TOKEN_CACHE_MAX_BYTES (4u << 20)
/* How long a token without exp is trusted without a new check. */
#define GW_TOKEN_CACHE_MAX_TTL_S 300

struct gw_token_cache;

struct gw_token_cache *gw_token_cache_new(void);

/* Frees the cache and drops its claims. NULL is a no-op. */
void gw_token_cache_free(struct gw_token_cache *cache);

/* The claims of token[0..len) cached and still valid at now (borrowed: valid until the next call
 * that changes the cache; take a reference to keep them), or NULL. */
const json_t *gw_token_cache_get(struct gw_token_cache *cache, const char *token, size_t len,
                                 int64_t now);

/* Caches the verified claims of token[0..len) (a reference is taken) until `until` (Unix seconds;
 * an earlier or equal one than now is not cached). */
void gw_token_cache_put(struct gw_token_cache *cache, const char *token, size_t len, json_t *claims,
                        int64_t until, int64_t now);

/* Drops every entry. */
void gw_token_cache_clear(struct gw_token_cache *cache);

/* Entries held, and the tokens' bytes they stand for (for the tests and metrics). */
size_t gw_token_cache_count(const struct gw_token_cache *cache);
size_t gw_token_cache_bytes(const struct gw_token_cache *cache);

#endif
