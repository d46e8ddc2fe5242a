/* route_setup.c - a config's routes compiled into a table, and --check's account of them
 * (route_setup.h). */
#include "gateway/route_setup.h"

#include "core/status.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "gateway/status_page.h"
#include "routes/call.h"
#include "routes/rate_limit.h"
#include "routes/rule.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void print_line(void *ctx, const char *line)
{
    fputs(line, ctx);
}

static void describe_route(void *target, char *buf, size_t len)
{
    const struct gw_route_conf *route = target;
    char collect[32] = "";
    if (route->collect == GW_COLLECT_ALL)
        snprintf(collect, sizeof(collect), "  collect=all");
    else if (route->collect > 0)
        snprintf(collect, sizeof(collect), "  collect=%d", route->collect);
    snprintf(buf, len, "%s.%s  protocol=%s  mode=%s  timeout=%gs%s%s%s", route->service,
             route->method, gw_protocol_name(route->protocol), gw_route_mode_name(route->mode),
             route->timeout, route->routing_key ? "  routing_key=" : "",
             route->routing_key ? route->routing_key : "", collect);
}

/* --check: each rate limit as it is understood, its policy item and what it covers. */
static void print_rate_limits(const struct gw_config *config, FILE *out)
{
    struct gw_rate_limits *limits = gw_rate_limits_compile(config);
    for (size_t i = 0; limits && i < limits->n; i++) {
        const struct gw_rate_limit_conf *l = limits->items[i].conf;
        size_t routes = 0;
        for (size_t r = 0; r < config->n_routes; r++)
            routes += (gw_rate_limits_of_route(limits, r) >> i) & 1;
        bool targets = l->match.n == 0;
        for (size_t j = 0; j < l->match.n; j++)
            targets = targets || l->match.items[j][0] != '/';
        fprintf(out,
                "rate limit %s: key=%s rate=%s burst=%d  RateLimit-Policy: %s  covers %zu "
                "route(s)%s\n",
                l->name, l->key, l->rate, l->burst, limits->items[i].item, routes,
                targets ? " and generic and websocket calls to its targets" : "");
    }
    gw_rate_limits_free(limits);
}

/* A mode: http handler is called as nameko calls it, fn(request, **path_values): a path variable
 * named request would take the request's place (nameko: a TypeError on every call). false (said
 * on stderr) for the first such route. */
static bool http_mode_names(const struct gw_config *config)
{
    for (size_t i = 0; i < config->n_routes; i++) {
        const struct gw_route_conf *route = &config->routes[i];
        struct gw_rule *rule = NULL;
        char err[256];
        if (route->mode != GW_MODE_HTTP ||
            gw_rule_parse(route->rule, strlen(route->rule), &rule, err, sizeof(err)) != GW_OK)
            continue; /* a rule that does not parse is refused where the table is built */
        bool taken = false;
        for (size_t k = 0; k < rule->nconvs; k++)
            taken = taken || strcmp(rule->convs[k].name, "request") == 0;
        gw_rule_free(rule);
        if (taken) {
            fprintf(stderr,
                    "enoki: %s: routes[%zu].rule: '%s': a mode: http handler is called with the "
                    "request as its first argument, so no path variable may be named request\n",
                    gw_config_where(config, route->rule_line, "routes").text, i, route->rule);
            return false;
        }
    }
    return true;
}

/* enoki answers everything under /static/ and under the docs page's path before the routes: a rule
 * whose literal start lies there could never be reached. false (said on stderr) for the first. */
static bool under_own_folders(const struct gw_config *config)
{
    char *docs = config->docs_path ? xasprintf("%s/", config->docs_path) : NULL;
    const char *folders[] = {"/static/", docs};
    bool ok = true;
    for (size_t i = 0; ok && i < config->n_routes; i++) {
        const struct gw_route_conf *route = &config->routes[i];
        for (size_t j = 0; ok && j < ARRAY_LEN(folders); j++) {
            const char *folder = folders[j];
            if (!folder || strncmp(route->rule, folder, strlen(folder)) != 0)
                continue;
            fprintf(stderr,
                    "enoki: %s: routes[%zu].rule: '%s' lies under enoki's own %s, which "
                    "answers every path there before the routes\n",
                    gw_config_where(config, route->rule_line, "routes").text, i, route->rule,
                    folder);
            ok = false;
        }
    }
    free(docs);
    return ok;
}

/* A websocket upgrade goes to the hub before any request is dispatched, so the admin credential
 * that guards everything under admin_prefix cannot guard a socket path there: refused, rather than
 * open to anyone under a prefix that promises otherwise. false (said on stderr) when it is. */
static bool websocket_outside_admin(const struct gw_config *config)
{
    if (!config->admin_prefix ||
        !gw_call_under_prefix(config->admin_prefix, config->websocket_path))
        return true;
    fprintf(stderr,
            "enoki: %s: GATEWAY.websocket_path: '%s' lies under GATEWAY.admin_prefix '%s', whose "
            "requests need the admin credential; websocket upgrades go to the hub, which asks "
            "what GATEWAY.auth.websocket says: choose a path outside the prefix\n",
            gw_config_where(config, config->admin_prefix_line, "GATEWAY").text,
            config->websocket_path, config->admin_prefix);
    return false;
}

struct gw_route_table *gw_route_setup_build(const struct gw_config *config)
{
    struct gw_route_table *table = gw_route_table_new();
    char err[512];
    for (size_t i = 0; i < config->n_routes; i++) {
        const struct gw_route_conf *route = &config->routes[i];
        int status = gw_route_table_add(table, route->rule, route->methods,
                                        (void *)(uintptr_t)route, err, sizeof(err));
        if (status != GW_OK) {
            fprintf(stderr, "enoki: %s: routes[%zu].rule: %s\n",
                    gw_config_where(config, route->rule_line, "routes").text, i, err);
            gw_route_table_free(table);
            return NULL;
        }
    }
    gw_route_table_compile(table);
    /* enoki's own paths answer before the routes: a route that one of them would hide is an
     * error, not a surprise. */
    char *status_data =
        config->status_path ? xasprintf("%s" GW_STATUS_DATA, config->status_path) : NULL;
    const char *own[] = {config->health_path,    config->ready_path,   config->metrics_path,
                         config->websocket_path, config->openapi_path, config->docs_path,
                         config->status_path,    status_data};
    /* Every method: the probes and /metrics answer them all, the others their own 405. */
    static const char *const methods[] = {"GET",   "HEAD",   "POST",   "PUT",
                                          "PATCH", "DELETE", "OPTIONS"};
    for (size_t i = 0; i < ARRAY_LEN(own) * ARRAY_LEN(methods); i++) {
        const char *path = own[i / ARRAY_LEN(methods)];
        if (!path)
            continue; /* off */
        struct gw_route_match match = {0};
        int status = gw_route_table_match(table, methods[i % ARRAY_LEN(methods)], path, &match);
        const struct gw_route_conf *route = match.target;
        gw_route_match_clear(&match);
        if (status == GW_OK && route) {
            fprintf(stderr, "enoki: %s: routes[%zu].rule: '%s' collides with enoki's own %s\n",
                    gw_config_where(config, route->rule_line, "routes").text,
                    (size_t)(route - config->routes), route->rule, path);
            gw_route_table_free(table);
            free(status_data);
            return NULL;
        }
    }
    free(status_data);
    if (!under_own_folders(config) || !http_mode_names(config) ||
        !websocket_outside_admin(config)) {
        gw_route_table_free(table);
        return NULL;
    }
    return table;
}

void gw_route_setup_print(const struct gw_config *config, const struct gw_route_table *table,
                          FILE *out)
{
    fprintf(out, "%s: OK, %zu route(s); AMQP %s:%d vhost %s, exchange %s; listening on %s:%d",
            config->path, config->n_routes, config->amqp_nodes[0].host, config->amqp_nodes[0].port,
            config->amqp_nodes[0].vhost, config->rpc_exchange, config->web_host, config->web_port);
    /* What auto came to here (CPUs, quota) is worth seeing before it starts. */
    if (config->workers != 1 || config->workers_auto)
        fprintf(out, "; workers: %s%d", config->workers_auto ? "auto = " : "", config->workers);
    fputc('\n', out);
    gw_route_table_dump(table, describe_route, print_line, out);
    if (config->expose.n > 0) {
        fprintf(out, "%s/<service>/<method>\tPOST\t(generic route)  timeout=%gs  exposes:",
                config->rpc_prefix, config->rpc_timeout);
        for (size_t i = 0; i < config->expose.n; i++)
            fprintf(out, " %s", config->expose.items[i].pattern);
        fprintf(out, "\n");
    }
    print_rate_limits(config, out);
}
