#include "gateway/limiter.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "routes/client_ip.h"

#include <netinet/in.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gw_limiter {
    struct gw_generation *current;
    struct gw_rate_store *store;
};

struct gw_limiter *gw_limiter_new(struct gw_generation *gen)
{
    struct gw_limiter *limiter = xcalloc(1, sizeof(*limiter));
    uint8_t seed[32];
    if (RAND_bytes(seed, sizeof(seed)) != 1)
        abort(); /* OpenSSL's generator is seeded from the kernel: it fails only when broken */
    limiter->store = gw_rate_store_new((size_t)gen->config->rate_limit_keys, seed);
    limiter->current = gw_generation_ref(gen);
    return limiter;
}

void gw_limiter_free(struct gw_limiter *limiter)
{
    if (!limiter)
        return;
    gw_rate_store_free(limiter->store);
    gw_generation_unref(limiter->current);
    free(limiter);
}

void gw_limiter_reload(struct gw_limiter *limiter, struct gw_generation *gen)
{
    struct gw_generation *old = limiter->current;
    limiter->current = gw_generation_ref(gen);
    gw_generation_unref(old);
}

struct gw_generation *gw_limiter_current(const struct gw_limiter *limiter)
{
    return limiter->current;
}

struct gw_rate_store *gw_limiter_store(struct gw_limiter *limiter)
{
    return limiter->store;
}

void gw_limit_subject_address(struct gw_limit_subject *s, const struct sockaddr *peer,
                              const char *const *xff, size_t n, const struct gw_cidr_list *trusted)
{
    uint8_t addr[16] = {0};
    if (peer && peer->sa_family == AF_INET) {
        addr[10] = addr[11] = 0xff;
        memcpy(addr + 12, &((const struct sockaddr_in *)(const void *)peer)->sin_addr, 4);
    } else if (peer && peer->sa_family == AF_INET6) {
        memcpy(addr, &((const struct sockaddr_in6 *)(const void *)peer)->sin6_addr, 16);
    }
    uint8_t client[16];
    if (trusted->n > 0 && n > 0)
        gw_client_ip(addr, xff, n, trusted, client);
    else
        memcpy(client, addr, 16);
    gw_client_ip_key(client, s->ip_key);
}

static void subject_key(void *ctx, const struct gw_rate_limit_conf *limit, struct gw_rate_key *out)
{
    struct gw_limit_subject *s = ctx;
    const char *value = NULL;
    size_t len = 0;
    if (limit->kind == GW_RATE_KEY_CLAIM && s->claims) {
        const json_t *claim = json_object_get(s->claims, limit->key_name);
        if (json_is_string(claim)) {
            value = json_string_value(claim);
            len = json_string_length(claim);
        } else if (json_is_integer(claim)) {
            len = (size_t)snprintf(s->number, sizeof(s->number), "%lld",
                                   (long long)json_integer_value(claim));
            value = s->number;
        }
    } else if (limit->kind == GW_RATE_KEY_HEADER && s->header) {
        value = s->header(s->header_ctx, limit->key_name);
        len = value ? strlen(value) : 0;
    }
    if (value && len > 0) {
        out->type = limit->kind == GW_RATE_KEY_CLAIM ? GW_RATE_BY_CLAIM : GW_RATE_BY_HEADER;
        out->data = value;
        out->len = len;
        return;
    }
    out->type = GW_RATE_BY_IP;
    out->data = s->ip_key;
    out->len = sizeof(s->ip_key);
}

void gw_limiter_take(struct gw_limiter *limiter, const struct gw_rate_limits *limits, uint64_t mask,
                     struct gw_limit_subject *subject, struct gw_rate_verdict *out)
{
    gw_rate_limits_take(limits, limiter->store, mask, subject_key, subject, gw_now_ns(), out);
}
