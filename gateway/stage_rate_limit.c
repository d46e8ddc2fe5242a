/* stage_rate_limit.c - the rate-limit stage (docs/rate_limits.md): a configured route or a generic
 * call that GATEWAY.rate_limits cover takes a token from each of their buckets, or is answered 429.
 * The decision is routes/rate_limit's; the buckets are the process's (gateway/limiter). */
#include "gateway/stages.h"

#include "core/status.h"
#include "core/xalloc.h"
#include "gateway/http_metrics.h"
#include "gateway/limiter.h"
#include "routes/http_mode.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* X-Forwarded-For fields looked at, the last ones sent: the right end is where trust lies. */
enum { XFF_FIELDS_MAX = 16 };

static const char *lookup_header(void *ctx, const char *name)
{
    return gw_request_header(ctx, name);
}

static uint64_t covering(const struct gw_request *req, const struct gw_rate_limits *limits)
{
    char target[512];
    switch (req->target) {
    case GW_TARGET_ROUTE:
        return gw_rate_limits_of_route(limits, (size_t)(req->route - req->config->routes));
    case GW_TARGET_GENERIC:
        snprintf(target, sizeof(target), "%s.%s", req->service, req->method_name);
        return gw_rate_limits_of_target(limits, target);
    default:
        /* enoki's own paths (probes, metrics, documents, the status page, admin) are never
         * limited. */
        return 0;
    }
}

static void client_address(struct gw_request *req, struct gw_limit_subject *s)
{
    const char *xff[XFF_FIELDS_MAX];
    size_t n = 0;
    const struct gw_cidr_list *trusted = &req->config->trusted_proxies;
    for (size_t i = 0; trusted->n > 0 && i < req->n_headers; i++) {
        if (strcasecmp(req->headers[i].name, "X-Forwarded-For") != 0)
            continue;
        if (n == XFF_FIELDS_MAX) {
            memmove(xff, xff + 1, sizeof(xff) - sizeof(xff[0]));
            n--;
        }
        xff[n++] = req->headers[i].value;
    }
    gw_limit_subject_address(s, req->peer, xff, n, trusted);
}

bool gw_stage_rate_limit(struct gw_request *req)
{
    const struct gw_rate_limits *limits = req->gen->rate_limits;
    if (!limits || !req->env->limiter)
        return false;
    uint64_t mask = covering(req, limits);
    if (mask == 0)
        return false;
    struct gw_limit_subject subject = {
        .claims = req->claims, .header = lookup_header, .header_ctx = req};
    client_address(req, &subject);
    struct gw_rate_verdict v;
    gw_limiter_take(req->env->limiter, limits, mask, &subject, &v);
    if (!req->rate)
        req->rate = xcalloc(1, sizeof(*req->rate));
    gw_rate_policy_header(limits, mask, req->rate->policy, sizeof(req->rate->policy));
    gw_rate_limit_header(&v, req->rate->limit, sizeof(req->rate->limit));
    if (!v.limited)
        return false;
    char message[160];
    snprintf(message, sizeof(message),
             "rate limit '%s' reached (GATEWAY.rate_limits); retry in %lld s", v.policy->conf->name,
             v.retry_after_s);
    gw_stage_refuse(req, gw_http_status_of(GW_ELIMITED), gw_status_code(GW_ELIMITED),
                    gw_outcome_of(GW_ELIMITED)->exc_type, message);
    req->response.retry_after = (int)(v.retry_after_s > 2000000000 ? 2000000000 : v.retry_after_s);
    if (req->env->metrics)
        gw_metrics_rate_limited(req->env->metrics, req->route_label ? req->route_label : "");
    return true;
}
