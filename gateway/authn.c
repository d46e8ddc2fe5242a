/* authn.c - GATEWAY.auth.jwt at run time: the policy, the key set and its re-reading, the cache. */
#include "gateway/authn.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/status.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "gateway/auth_keys.h"
#include "routes/auth.h"
#include "routes/jwt.h"
#include "routes/token_cache.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NS_PER_S 1000000000ull

struct gw_authn {
    bool enabled;
    struct gw_jwt_policy policy; /* its strings owned below */
    char *secret, *issuer, *audience;
    char *jwks_file;
    struct gw_jwk_set *keys;
    bool kid_reread;        /* the file has been read again for an unknown kid */
    uint64_t kid_reread_ns; /* when (monotonic) */
    struct gw_token_cache *cache;
    uint64_t checks, hits;
};

static void set_policy(struct gw_authn *a, const struct gw_auth_jwt_conf *jwt)
{
    free(a->secret);
    free(a->issuer);
    free(a->audience);
    a->enabled = jwt->enabled;
    a->secret = jwt->secret ? xstrdup(jwt->secret) : NULL;
    a->issuer = jwt->issuer ? xstrdup(jwt->issuer) : NULL;
    a->audience = jwt->audience ? xstrdup(jwt->audience) : NULL;
    unsigned algorithms = 0;
    for (size_t i = 0; i < jwt->algorithms.n; i++)
        algorithms |= gw_jws_alg_from_name(jwt->algorithms.items[i]);
    a->policy = (struct gw_jwt_policy){
        .algorithms = algorithms,
        .secret = a->secret,
        .issuer = a->issuer,
        .audience = a->audience,
        .leeway_s = jwt->leeway,
    };
}

/* Reads jwks_file into the set; on failure keeps the old one. */
static int read_keys(struct gw_authn *a, char *err, size_t errlen)
{
    struct gw_jwk_set *keys;
    int rc = gw_auth_keys_load(a->jwks_file, &keys, err, errlen);
    if (rc != GW_OK)
        return rc;
    gw_jwk_set_free(a->keys);
    a->keys = keys;
    gw_token_cache_clear(a->cache);
    return GW_OK;
}

struct gw_authn *gw_authn_new(const struct gw_auth_jwt_conf *jwt, char *err, size_t errlen)
{
    struct gw_authn *a = xcalloc(1, sizeof(*a));
    a->cache = gw_token_cache_new();
    set_policy(a, jwt);
    if (jwt->enabled && jwt->jwks_file) {
        a->jwks_file = xstrdup(jwt->jwks_file);
        if (read_keys(a, err, errlen) != GW_OK) {
            gw_authn_free(a);
            return NULL;
        }
    }
    return a;
}

void gw_authn_reload(struct gw_authn *a, const struct gw_auth_jwt_conf *jwt)
{
    char err[512];
    set_policy(a, jwt);
    gw_token_cache_clear(a->cache);
    free(a->jwks_file);
    a->jwks_file = jwt->enabled && jwt->jwks_file ? xstrdup(jwt->jwks_file) : NULL;
    if (!a->jwks_file) {
        gw_jwk_set_free(a->keys);
        a->keys = NULL;
        return;
    }
    if (read_keys(a, err, sizeof(err)) != GW_OK)
        gw_error("auth", "keeping the keys read before: %s", err);
    else
        gw_info("auth", "read %zu key(s) from %s", gw_jwk_set_count(a->keys), a->jwks_file);
}

/* A token names a kid the set lacks: the issuer may have rotated its keys. Read the set again,
 * unless an unknown kid had it read a moment ago (a client could otherwise make enoki read the file
 * per request). Reads at start-up and on SIGHUP do not count: a key added just after either is
 * found by its first token. */
static bool reread_for_kid(struct gw_authn *a)
{
    char err[512];
    uint64_t now = gw_now_ns();
    if (!a->jwks_file ||
        (a->kid_reread && now - a->kid_reread_ns < GW_AUTHN_KID_RELOAD_S * NS_PER_S))
        return false;
    a->kid_reread = true;
    a->kid_reread_ns = now;
    if (read_keys(a, err, sizeof(err)) != GW_OK) {
        gw_error("auth", "a token names an unknown kid; keeping the keys read before: %s", err);
        return false;
    }
    gw_info("auth", "a token names an unknown kid: read %zu key(s) from %s again",
            gw_jwk_set_count(a->keys), a->jwks_file);
    return true;
}

/* Until when a verified token may be answered from the cache: the instant its check would fail. */
static int64_t trusted_until(const struct gw_authn *a, const json_t *claims, int64_t now)
{
    double exp;
    int64_t cap = now + GW_TOKEN_CACHE_MAX_TTL_S;
    if (!gw_auth_claims_exp(claims, &exp))
        return cap;
    /* The check refuses from the first whole second at or past exp + leeway. */
    double until = ceil(exp + a->policy.leeway_s);
    return until < (double)cap ? (int64_t)until : cap;
}

int gw_authn_verify(struct gw_authn *a, const char *token, size_t len, json_t **claims,
                    char *reason, size_t reasonlen)
{
    *claims = NULL;
    if (!a->enabled) {
        gw_set_err(reason, reasonlen, "no token can be verified (GATEWAY.auth.jwt is not set)");
        return GW_ETOKEN;
    }
    int64_t now = (int64_t)time(NULL);
    if (len <= GW_JWT_MAX_LEN) {
        const json_t *cached = gw_token_cache_get(a->cache, token, len, now);
        if (cached) {
            a->hits++;
            *claims = json_incref((json_t *)(uintptr_t)cached);
            return GW_OK;
        }
    }
    a->checks++;
    int rc = gw_jwt_verify(&a->policy, a->keys, token, len, now, claims, reason, reasonlen);
    if (rc == GW_ETOKEN_KID && reread_for_kid(a)) {
        a->checks++;
        rc = gw_jwt_verify(&a->policy, a->keys, token, len, now, claims, reason, reasonlen);
    }
    if (rc == GW_OK)
        gw_token_cache_put(a->cache, token, len, *claims, trusted_until(a, *claims, now), now);
    return rc;
}

void gw_authn_token_state(struct gw_authn *authn, enum gw_bearer found, const char *token,
                          size_t len, struct gw_auth_token_state *t, json_t **claims, char *reason,
                          size_t reasonlen)
{
    memset(t, 0, sizeof(*t));
    *claims = NULL;
    t->sent = found != GW_BEARER_NONE;
    if (found == GW_BEARER_MALFORMED) {
        t->verify_status = GW_ETOKEN;
        t->reason = "the Authorization header is not 'Bearer <token>'";
    } else if (found == GW_BEARER_TOKEN) {
        t->verify_status =
            authn ? gw_authn_verify(authn, token, len, claims, reason, reasonlen) : GW_ETOKEN;
        if (!authn)
            gw_set_err(reason, reasonlen, "no token can be verified");
        t->reason = reason;
        t->claims = *claims;
    }
}

uint64_t gw_authn_checks(const struct gw_authn *a)
{
    return a->checks;
}

uint64_t gw_authn_cache_hits(const struct gw_authn *a)
{
    return a->hits;
}

void gw_authn_free(struct gw_authn *a)
{
    if (!a)
        return;
    gw_token_cache_free(a->cache);
    gw_jwk_set_free(a->keys);
    free(a->secret);
    free(a->issuer);
    free(a->audience);
    free(a->jwks_file);
    free(a);
}
