/* token_cache.c - a set-associative table of verified tokens' claims, keyed by SHA-256. */
#include "routes/token_cache.h"

#include "core/xalloc.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#define SETS (GW_TOKEN_CACHE_ENTRIES / GW_TOKEN_CACHE_WAYS)

struct entry {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    json_t *claims; /* NULL: the slot is free */
    int64_t until;
    size_t bytes;
};

struct gw_token_cache {
    /* SHA-256 fetched once: OpenSSL 3's SHA256() looks the algorithm up on every call, which
     * costs more than hashing a token. */
    EVP_MD *sha256;
    EVP_MD_CTX *md_ctx;
    struct entry entries[GW_TOKEN_CACHE_ENTRIES];
    size_t count;
    size_t bytes;
};

struct gw_token_cache *gw_token_cache_new(void)
{
    struct gw_token_cache *cache = xcalloc(1, sizeof(*cache));
    cache->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    cache->md_ctx = EVP_MD_CTX_new();
    if (!cache->sha256 || !cache->md_ctx)
        abort(); /* as an allocation failure: OpenSSL without SHA-256 cannot verify a token */
    return cache;
}

static void drop(struct gw_token_cache *cache, struct entry *e)
{
    if (!e->claims)
        return;
    json_decref(e->claims);
    cache->count--;
    cache->bytes -= e->bytes;
    memset(e, 0, sizeof(*e));
}

void gw_token_cache_clear(struct gw_token_cache *cache)
{
    for (size_t i = 0; i < GW_TOKEN_CACHE_ENTRIES; i++)
        drop(cache, &cache->entries[i]);
}

void gw_token_cache_free(struct gw_token_cache *cache)
{
    if (!cache)
        return;
    gw_token_cache_clear(cache);
    EVP_MD_CTX_free(cache->md_ctx);
    EVP_MD_free(cache->sha256);
    free(cache);
}

/* The token's digest and the first entry of its set. */
static struct entry *set_of(struct gw_token_cache *cache, const char *token, size_t len,
                            unsigned char digest[SHA256_DIGEST_LENGTH])
{
    if (EVP_DigestInit_ex2(cache->md_ctx, cache->sha256, NULL) != 1 ||
        EVP_DigestUpdate(cache->md_ctx, token, len) != 1 ||
        EVP_DigestFinal_ex(cache->md_ctx, digest, NULL) != 1)
        abort();
    uint32_t h = (uint32_t)digest[0] | (uint32_t)digest[1] << 8 | (uint32_t)digest[2] << 16 |
                 (uint32_t)digest[3] << 24;
    return &cache->entries[(size_t)(h % SETS) * GW_TOKEN_CACHE_WAYS];
}

const json_t *gw_token_cache_get(struct gw_token_cache *cache, const char *token, size_t len,
                                 int64_t now)
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    struct entry *set = set_of(cache, token, len, digest);
    for (size_t i = 0; i < GW_TOKEN_CACHE_WAYS; i++) {
        struct entry *e = &set[i];
        if (!e->claims || memcmp(e->digest, digest, sizeof(digest)) != 0)
            continue;
        if (now < e->until)
            return e->claims;
        drop(cache, e);
        return NULL;
    }
    return NULL;
}

void gw_token_cache_put(struct gw_token_cache *cache, const char *token, size_t len, json_t *claims,
                        int64_t until, int64_t now)
{
    if (until <= now)
        return;
    unsigned char digest[SHA256_DIGEST_LENGTH];
    struct entry *set = set_of(cache, token, len, digest);
    for (size_t i = 0; i < GW_TOKEN_CACHE_WAYS; i++) {
        struct entry *e = &set[i];
        if (e->claims && (memcmp(e->digest, digest, sizeof(digest)) == 0 || e->until <= now))
            drop(cache, e);
    }
    /* A free slot, or else the entry that ends first. */
    struct entry *victim = &set[0];
    for (size_t i = 0; i < GW_TOKEN_CACHE_WAYS && victim->claims; i++)
        if (!set[i].claims || set[i].until < victim->until)
            victim = &set[i];
    drop(cache, victim);
    if (cache->bytes + len > GW_TOKEN_CACHE_MAX_BYTES)
        return;
    memcpy(victim->digest, digest, sizeof(digest));
    victim->claims = json_incref(claims);
    victim->until = until;
    victim->bytes = len;
    cache->count++;
    cache->bytes += len;
}

size_t gw_token_cache_count(const struct gw_token_cache *cache)
{
    return cache->count;
}

size_t gw_token_cache_bytes(const struct gw_token_cache *cache)
{
    return cache->bytes;
}
