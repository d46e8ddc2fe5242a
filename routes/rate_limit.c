#include "routes/rate_limit.h"

#include "core/text.h"
#include "core/xalloc.h"

#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SECONDS_PER_DAY = 86400 };

/* FNV-1a over a limit's identity: its key, its rate in tokens per day (so "100/s" and "6000/min"
 * are one rate), burst and match. Equal for alike limits of two generations. */
static uint64_t identity(const struct gw_rate_limit_conf *l)
{
    char head[256];
    int n = snprintf(head, sizeof(head), "%s|%lld|%d", l->key,
                     l->count * (SECONDS_PER_DAY / l->period_s), l->burst);
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < n && i < (int)sizeof(head); i++)
        h = (h ^ (unsigned char)head[i]) * 1099511628211ULL;
    for (size_t i = 0; i < l->match.n; i++) {
        h = (h ^ '|') * 1099511628211ULL;
        for (const unsigned char *p = (const unsigned char *)l->match.items[i]; *p; p++)
            h = (h ^ *p) * 1099511628211ULL;
    }
    return h;
}

static bool covers_route(const struct gw_rate_limit_conf *l, const struct gw_route_conf *route)
{
    if (l->match.n == 0)
        return true;
    char target[512];
    snprintf(target, sizeof(target), "%s.%s", route->service, route->method);
    for (size_t i = 0; i < l->match.n; i++) {
        const char *p = l->match.items[i];
        if (fnmatch(p, p[0] == '/' ? route->rule : target, 0) == 0)
            return true;
    }
    return false;
}

bool gw_rate_limits_cover_route(const struct gw_config *config, const struct gw_route_conf *route)
{
    for (size_t i = 0; i < config->rate_limits.n; i++)
        if (covers_route(&config->rate_limits.items[i], route))
            return true;
    return false;
}

bool gw_rate_limits_cover_targets(const struct gw_config *config)
{
    for (size_t i = 0; i < config->rate_limits.n; i++) {
        const struct gw_string_list *match = &config->rate_limits.items[i].match;
        if (match->n == 0)
            return true;
        for (size_t j = 0; j < match->n; j++)
            if (match->items[j][0] != '/')
                return true;
    }
    return false;
}

struct gw_rate_limits *gw_rate_limits_compile(const struct gw_config *config)
{
    if (config->rate_limits.n == 0)
        return NULL;
    struct gw_rate_limits *limits = xcalloc(1, sizeof(*limits));
    limits->n = config->rate_limits.n;
    limits->items = xcalloc(limits->n, sizeof(*limits->items));
    for (size_t i = 0; i < limits->n; i++) {
        struct gw_rate_policy *p = &limits->items[i];
        p->conf = &config->rate_limits.items[i];
        p->id = identity(p->conf);
        p->window_s = gw_bucket_seconds_until(0, p->conf->burst, p->conf);
        snprintf(p->item, sizeof(p->item), "\"%s\";q=%d;w=%lld", p->conf->name, p->conf->burst,
                 p->window_s);
    }
    limits->n_routes = config->n_routes;
    limits->routes = xcalloc(config->n_routes ? config->n_routes : 1, sizeof(*limits->routes));
    for (size_t r = 0; r < config->n_routes; r++)
        for (size_t i = 0; i < limits->n; i++)
            if (covers_route(limits->items[i].conf, &config->routes[r]))
                limits->routes[r] |= 1ULL << i;
    return limits;
}

void gw_rate_limits_free(struct gw_rate_limits *limits)
{
    if (!limits)
        return;
    free(limits->items);
    free(limits->routes);
    free(limits);
}

uint64_t gw_rate_limits_of_route(const struct gw_rate_limits *limits, size_t route_index)
{
    return limits && route_index < limits->n_routes ? limits->routes[route_index] : 0;
}

uint64_t gw_rate_limits_of_target(const struct gw_rate_limits *limits, const char *target)
{
    uint64_t mask = 0;
    for (size_t i = 0; limits && i < limits->n; i++) {
        const struct gw_rate_limit_conf *l = limits->items[i].conf;
        bool covered = l->match.n == 0;
        for (size_t j = 0; !covered && j < l->match.n; j++)
            covered = l->match.items[j][0] != '/' && fnmatch(l->match.items[j], target, 0) == 0;
        if (covered)
            mask |= 1ULL << i;
    }
    return mask;
}

void gw_bucket_refill(struct gw_bucket *b, bool fresh, const struct gw_rate_limit_conf *l,
                      uint64_t now_ns)
{
    if (fresh || now_ns < b->at_ns) {
        b->tokens = l->burst;
    } else {
        double gained =
            (double)(now_ns - b->at_ns) * (double)l->count / ((double)l->period_s * 1e9);
        b->tokens += gained;
        if (b->tokens > l->burst)
            b->tokens = l->burst;
    }
    b->at_ns = now_ns;
}

long long gw_bucket_seconds_until(double tokens, double want, const struct gw_rate_limit_conf *l)
{
    if (tokens >= want)
        return 1;
    double seconds = (want - tokens) * (double)l->period_s / (double)l->count;
    /* Less than a microsecond over a whole second is the arithmetic's, not the bucket's. */
    long long whole = (long long)ceil(seconds - 1e-6);
    return whole < 1 ? 1 : whole;
}

void gw_rate_limits_take(const struct gw_rate_limits *limits, struct gw_rate_store *store,
                         uint64_t mask, gw_rate_key_fn *key, void *ctx, uint64_t now_ns,
                         struct gw_rate_verdict *out)
{
    struct gw_rate_digest digests[GW_RATE_LIMITS_MAX];
    memset(out, 0, sizeof(*out));
    /* Decided from the buckets there are, a missing one being full: a refused request makes no
     * bucket, or a client refused by one limit could make buckets under another (a header's key
     * it chooses) until every other client's were pushed out, full again. */
    for (size_t i = 0; i < limits->n; i++) {
        if (!(mask & (1ULL << i)))
            continue;
        const struct gw_rate_policy *p = &limits->items[i];
        struct gw_rate_key k;
        key(ctx, p->conf, &k);
        gw_rate_store_digest(store, (uint8_t)k.type, k.data, k.len, &digests[i]);
        struct gw_bucket *b = gw_rate_store_find(store, p->id, &digests[i]);
        if (!b)
            continue;
        gw_bucket_refill(b, false, p->conf, now_ns);
        if (b->tokens < 1.0) {
            long long wait = gw_bucket_seconds_until(b->tokens, 1.0, p->conf);
            if (!out->limited || wait > out->retry_after_s) {
                out->limited = true;
                out->policy = p;
                out->retry_after_s = wait;
            }
        }
    }
    if (out->limited) {
        out->remaining = 0;
        out->reset_s = out->retry_after_s;
        return;
    }
    for (size_t i = 0; i < limits->n; i++) {
        if (!(mask & (1ULL << i)))
            continue;
        const struct gw_rate_policy *p = &limits->items[i];
        bool fresh;
        struct gw_bucket *b = gw_rate_store_bucket(store, p->id, &digests[i], &fresh);
        if (fresh)
            gw_bucket_refill(b, true, p->conf, now_ns);
        b->tokens -= 1.0;
        double whole = floor(b->tokens);
        long long remaining = (long long)whole;
        long long reset = gw_bucket_seconds_until(b->tokens, whole + 1.0, p->conf);
        if (!out->policy || remaining < out->remaining ||
            (remaining == out->remaining && reset > out->reset_s)) {
            out->policy = p;
            out->remaining = remaining;
            out->reset_s = reset;
        }
    }
}

void gw_rate_policy_header(const struct gw_rate_limits *limits, uint64_t mask, char *buf,
                           size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < limits->n; i++) {
        if (!(mask & (1ULL << i)))
            continue;
        const char *item = limits->items[i].item;
        size_t need = strlen(item) + (used ? 2 : 0);
        if (used + need + 1 > len)
            continue;
        if (used) {
            memcpy(buf + used, ", ", 2);
            used += 2;
        }
        memcpy(buf + used, item, strlen(item) + 1);
        used += strlen(item);
    }
}

void gw_rate_limit_header(const struct gw_rate_verdict *v, char *buf, size_t len)
{
    /* "<name>";r=<n>;t=<n>, without printf: it runs on every covered request. */
    char r[GW_I64_DIGITS], t[GW_I64_DIGITS];
    size_t r_len = gw_fmt_i64(r, v->remaining), t_len = gw_fmt_i64(t, v->reset_s);
    const char *name = v->policy->conf->name;
    size_t name_len = strlen(name);
    if (len < name_len + r_len + t_len + 8) {
        if (len > 0)
            buf[0] = '\0';
        return;
    }
    char *at = buf;
    *at++ = '"';
    memcpy(at, name, name_len);
    at += name_len;
    memcpy(at, "\";r=", 4);
    at += 4;
    memcpy(at, r, r_len);
    at += r_len;
    memcpy(at, ";t=", 3);
    at += 3;
    memcpy(at, t, t_len + 1);
}
