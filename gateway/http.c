#include "http.h"

#include "core/log.h"
#include "core/xalloc.h"
#include "gateway/http_fast.h"
#include "gateway/http_mhd.h"
#include "gateway/idempotency.h"
#include "gateway/request.h"

#include <stdlib.h>
#include <unistd.h>

struct gw_http {
    struct gw_http_env env;
    struct gw_http_mhd *mhd;
    struct gw_http_fast *fast;
};

struct gw_http *gw_http_new(uv_loop_t *loop, struct gw_generation *gen, struct gw_rpc *rpc,
                            char *err, size_t errlen)
{
    struct gw_http *http = xcalloc(1, sizeof(*http));
    http->env.loop = loop;
    http->env.current = gw_generation_ref(gen);
    http->env.rpc = rpc;
    http->env.library_head_max = (size_t)gen->config->max_header; /* libmicrohttpd's, for good */
    http->mhd = gw_http_mhd_new(&http->env, err, errlen);
    if (!http->mhd) {
        gw_generation_unref(http->env.current);
        free(http);
        return NULL;
    }
    http->fast = gw_http_fast_new(&http->env, http->mhd);
    http->env.idem = gw_idempotency_new(gen->config);
    return http;
}

void gw_http_set_authn(struct gw_http *http, struct gw_authn *authn)
{
    http->env.authn = authn;
}

void gw_http_add_connection(struct gw_http *http, int fd, const struct sockaddr *addr,
                            socklen_t len, const struct gw_h1_head *head, const char *buf)
{
    int max = http->env.current->config->max_connections;
    if (http->env.connections >= (size_t)max) {
        /* Refused here, closed at once: MHD's own limit leaves such a request half-started. */
        gw_warn("http", "closed a connection: %d are open (GATEWAY.max_connections)", max);
        close(fd);
        return;
    }
    if (head->verdict == GW_H1_FAST) {
        gw_http_fast_start(http->fast, fd, addr, len, head, buf);
        return;
    }
    gw_http_mhd_take(http->mhd, fd, addr, len);
}

void gw_http_reload(struct gw_http *http, struct gw_generation *gen)
{
    struct gw_generation *old = http->env.current;
    http->env.current = gw_generation_ref(gen);
    gw_generation_unref(old);
    gw_idempotency_reload(http->env.idem, gen->config);
    gw_http_mhd_reload(http->mhd);
}

struct gw_h1_limits gw_http_limits(const struct gw_http *http, const struct gw_config *config)
{
    return gw_http_env_limits(&http->env, config);
}

void gw_http_set_upgrade(struct gw_http *http, const char *path, size_t head_max,
                         void (*upgrade)(void *arg, int fd, const struct sockaddr *addr,
                                         socklen_t len, const struct gw_h1_head *head,
                                         const char *buf, size_t buf_len),
                         void *arg)
{
    http->env.websocket_path = path;
    http->env.websocket_head_max = head_max;
    http->env.upgrade = upgrade;
    http->env.upgrade_arg = arg;
}

void gw_http_set_limiter(struct gw_http *http, struct gw_limiter *limiter)
{
    http->env.limiter = limiter;
}

void gw_http_set_metrics(struct gw_http *http, struct gw_http_metrics *metrics)
{
    http->env.metrics = metrics;
}

void gw_http_set_status_page(struct gw_http *http, struct gw_status_page *status)
{
    http->env.status = status;
}

void gw_http_drain(struct gw_http *http)
{
    http->env.draining = true;
}

size_t gw_http_in_flight(const struct gw_http *http)
{
    return http->env.in_flight;
}

size_t gw_http_connections(const struct gw_http *http)
{
    return http->env.connections;
}

void gw_http_close(struct gw_http *http)
{
    if (!http)
        return;
    gw_http_fast_close(http->fast);
    gw_http_mhd_close(http->mhd);
    /* After the transports: their requests have ended, and the leads' calls they left behind are
     * cancelled here. */
    gw_idempotency_free(http->env.idem);
    gw_generation_unref(http->env.current);
    free(http);
}
