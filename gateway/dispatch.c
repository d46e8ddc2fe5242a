#include "dispatch.h"

#include "core/json.h"
#include "core/key_template.h"
#include "core/log.h"
#include "core/status.h"
#include "core/text.h"
#include "core/utf8.h"
#include "core/xalloc.h"
#include "gateway/docs_page.h"
#include "gateway/http_metrics.h"
#include "gateway/idempotency.h"
#include "gateway/stages.h"
#include "gateway/static_files.h"
#include "gateway/status_page.h"
#include "routes/call.h"
#include "routes/http_mode.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_QUERY_PARAMS = 256 };

static bool is_http_mode(const struct gw_route_conf *route)
{
    return route && route->mode == GW_MODE_HTTP;
}

static void respond_error(struct gw_request *req, int status, const char *message)
{
    gw_respond_error(status, message, req->call_id[0] ? req->call_id : NULL, &req->response);
    req->responded = true;
}

static void fill_call_response(struct gw_request *req, int status, const json_t *result,
                               const json_t *error, const char *detail);

/* For a call that could not even be published. */
static void on_call_done_now(struct gw_request *req, int status, const char *detail)
{
    req->call_failed = true;
    fill_call_response(req, status, NULL, NULL, detail);
    req->responded = true;
}

static void on_call_done(void *arg, int status, const json_t *result, const json_t *error,
                         const char *detail, bool may_have_run)
{
    struct gw_request *req = arg;
    req->call = NULL;
    req->call_failed = status != GW_OK;
    fill_call_response(req, status, result, error, detail);
    req->responded = true;
    /* Published and not given back: whatever its end, the service may have acted, so the answer is
     * kept for retries. One that no service can have seen (it waited for the broker and failed, or
     * the broker returned it: an unknown service) is not: a retry with the key calls again. */
    gw_idempotency_call_ended(req, may_have_run);
    req->respond(req);
}

static void fill_call_response(struct gw_request *req, int status, const json_t *result,
                               const json_t *error, const char *detail)
{
    char target[512];
    bool http_mode = is_http_mode(req->route);
    if (status == GW_OK && http_mode) {
        gw_http_respond_result(result, &req->response);
        return;
    }
    if (status == GW_OK) {
        gw_respond_result(result, &req->response);
        return;
    }
    snprintf(target, sizeof(target), "%s.%s", req->service, req->method_name);
    if (http_mode)
        gw_http_respond_error(status, error, detail, target, req->timeout,
                              &req->route->expected_exceptions, &req->response);
    else
        gw_respond_call_error(status, error, detail, target, req->timeout, req->call_id,
                              req->config, req->generic, &req->response);
}

static const char *lookup_header(void *ctx, const char *name)
{
    return gw_request_header(ctx, name);
}

/* The call's context data: the request's headers, then the verified token's claims (which no
 * header may stand in for), then enoki's span (whose keys only enoki fills). */
static json_t *new_context(struct gw_request *req)
{
    const struct gw_auth_conf *auth = &req->config->auth;
    json_t *context = gw_call_context_new(req->config, "http", lookup_header, req, req->call_id,
                                          sizeof(req->call_id));
    gw_auth_claims_to_context(auth->claims, auth->n_claims, req->claims, context);
    if (req->trace)
        gw_trace_to_context(req->trace, context);
    return context;
}

/* Publishes the call, whose end answers the request; or answers at once when the call cannot be
 * published. args, kwargs, context and routing_key (amphora's per-call key, NULL: none) are
 * borrowed. The service's protocol is the request's generation's (GATEWAY.services). */
static void publish_call(struct gw_request *req, const json_t *args, const json_t *kwargs,
                         const json_t *context, const char *routing_key)
{
    const struct gw_service_conf *speaks = gw_service_find(&req->config->services, req->service);
    if (gw_rpc_pending(req->env->rpc) >= (size_t)req->config->max_in_flight) {
        static const char busy[] = "too many calls are waiting for their replies "
                                   "(GATEWAY.max_in_flight); retry later";
        /* In @http's text format for a mode: http route, as its other answers without a reply. */
        if (is_http_mode(req->route))
            gw_stage_refuse(req, 503, "too_busy", "TooBusy", busy);
        else
            gw_respond_status(503, "too_busy", busy, req->call_id[0] ? req->call_id : NULL,
                              &req->response);
        req->responded = true;
        return;
    }
    struct gw_rpc_request call = {
        .service = req->service,
        .method = req->method_name,
        .args = args,
        .kwargs = kwargs,
        .context = context,
        .timeout_s = req->timeout,
        .protocol = speaks ? speaks->protocol : GW_PROTO_NAMEKO,
        .fanout = speaks && speaks->fanout,
        .routing_key = routing_key,
        .collect = req->route ? req->route->collect : 0,
    };
    char why[256];
    int status = gw_rpc_call(req->env->rpc, &call, on_call_done, req, &req->call, why, sizeof(why));
    if (status != GW_OK)
        on_call_done_now(req, status, why); /* answered now, as if the call had ended at once */
}

static const char *content_type_of(struct gw_request *req)
{
    return gw_request_header(req, "Content-Type");
}

/* http mode: kwargs = the path values and `request`, as nameko's @http hands them to a handler. */
static json_t *http_mode_kwargs(struct gw_request *req, const char *path, const json_t *path_values,
                                const struct gw_query *query)
{
    char addr[INET6_ADDRSTRLEN];
    char server[INET6_ADDRSTRLEN + 8];
    gw_request_client_address(req, addr, sizeof(addr));
    gw_request_server_address(req, server, sizeof(server));
    struct gw_http_request_view view = {
        .method = req->method,
        .target = req->raw_uri,
        .path = path,
        .remote_addr = addr,
        .server = server,
        .headers = req->headers,
        .n_headers = req->n_headers,
        .query = query->params,
        .n_query = query->n,
        .body = req->body,
        .body_len = req->body_len,
    };
    json_t *kwargs = path_values ? json_deep_copy(path_values) : json_object();
    json_object_set_new(kwargs, "request", gw_http_request_object(&view));
    return kwargs;
}

/* A configured route matched: what it calls, under its policy. */
static void resolve_route(struct gw_request *req, const struct gw_route_conf *route)
{
    req->target = GW_TARGET_ROUTE;
    req->route = route;
    req->route_label = route->rule;
    req->service = xstrdup(route->service);
    req->method_name = xstrdup(route->method);
    req->timeout = route->timeout;
    req->auth = gw_auth_policy_of(route->auth, &route->scopes);
}

/* A configured route's call: its arguments, by its mode. */
/* Where a routing key template's fields come from: the typed path values, then the query. */
struct key_values {
    const json_t *path_values;
    const struct gw_query *query;
};

/* A field's text as Python's str() writes the value (amphora's tune_function: str(routing_key)). */
static char *key_value(void *arg, const char *name, size_t len)
{
    const struct key_values *kv = arg;
    char *key = xstrndup(name, len);
    const json_t *v = kv->path_values ? json_object_get(kv->path_values, key) : NULL;
    char *text = NULL;
    if (v)
        text = gw_json_text(v) ? xstrdup(gw_json_text(v)) : gw_python_repr(v);
    for (size_t i = 0; !text && i < kv->query->n; i++)
        if (strcmp(kv->query->params[i].name, key) == 0)
            text = xstrdup(kv->query->params[i].value ? kv->query->params[i].value : "");
    free(key);
    return text;
}

/* Whether the raw query text holds "%00". */
static bool has_nul_escape(const char *query)
{
    for (const char *p = strchr(query, '%'); p; p = strchr(p + 1, '%'))
        if (p[1] == '0' && p[2] == '0')
            return true;
    return false;
}

static void start_route_call(struct gw_request *req, const char *path, const json_t *path_values)
{
    char err[512];
    const struct gw_route_conf *route = req->route;
    json_t *context = new_context(req);
    /* The query string is parsed here, as werkzeug parses it, not by MHD (which keeps empty pairs
     * and cuts values at %00). */
    const char *raw_query = strchr(req->raw_uri, '?');
    struct gw_query query;
    gw_query_parse(raw_query ? raw_query + 1 : "", raw_query ? strlen(raw_query + 1) : 0, &query);
    json_t *args = NULL;
    json_t *kwargs = NULL;
    int status = GW_OK;
    if (query.n > MAX_QUERY_PARAMS) {
        snprintf(err, sizeof(err), "more than %d query parameters", MAX_QUERY_PARAMS);
        status = GW_EARGS;
    } else if (raw_query && has_nul_escape(raw_query + 1)) {
        /* Decoded, it would end its name or value there: two names merged, a value cut short. */
        snprintf(err, sizeof(err),
                 "a query parameter holds a NUL byte (%%00), which enoki does "
                 "not pass on");
        status = GW_EARGS;
    } else if (is_http_mode(route)) {
        args = json_array();
        kwargs = http_mode_kwargs(req, path, path_values, &query);
    } else {
        status = gw_call_build_args(path_values, query.params, query.n, content_type_of(req),
                                    req->body, req->body_len, &args, &kwargs, err, sizeof(err));
    }
    char *routing_key = NULL;
    if (status == GW_OK && route->routing_key) {
        struct key_values kv = {.path_values = path_values, .query = &query};
        routing_key = gw_key_template_render(route->routing_key, key_value, &kv, err, sizeof(err));
        if (!routing_key)
            status = GW_EARGS;
    }
    gw_query_clear(&query);
    if (status == GW_OK)
        publish_call(req, args, kwargs, context, routing_key);
    else if (is_http_mode(route)) /* @http's text format, as its other refusals */
        gw_stage_refuse(req, gw_http_status_of(status), gw_status_code(status),
                        gw_outcome_of(status)->exc_type, err);
    else
        respond_error(req, status, err);
    free(routing_key);
    json_decref(args);
    json_decref(kwargs);
    json_decref(context);
}

/* The generic and admin routes take POST only: anything else is answered 405 here. */
static bool require_post(struct gw_request *req, const char *url, const char *method)
{
    char message[512];
    if (strcmp(method, "POST") == 0)
        return true;
    snprintf(message, sizeof(message), "the method %s is not allowed for %s; allowed: POST", method,
             url);
    respond_error(req, GW_EMETHOD, message);
    snprintf(req->response.allow, sizeof(req->response.allow), "POST");
    return false;
}

/* POST <rpc_prefix>/<service>/<method>: the target, if the expose list lets it through. */
static void resolve_generic(struct gw_request *req, const char *url, const char *method)
{
    const struct gw_config *config = req->config;
    char message[512];
    if (gw_call_generic_target(config->rpc_prefix, url, &req->service, &req->method_name) !=
            GW_OK ||
        !gw_call_method_fits(config, req->service, req->method_name)) {
        snprintf(message, sizeof(message),
                 "no route matches %s; the generic route is POST "
                 "%s/<service>/<method>",
                 url, config->rpc_prefix);
        respond_error(req, GW_ENOMATCH, message);
        return;
    }
    if (!require_post(req, url, method))
        return;
    const struct gw_policy_entry *entry =
        gw_call_expose_find(config, req->service, req->method_name);
    if (entry == NULL) {
        snprintf(message, sizeof(message), "%s.%s is not exposed (GATEWAY.expose)", req->service,
                 req->method_name);
        respond_error(req, GW_EFORBIDDEN, message);
        return;
    }
    req->target = GW_TARGET_GENERIC;
    req->timeout = config->rpc_timeout;
    req->generic = true;
    req->auth = gw_auth_policy_of(entry->auth, &entry->scopes);
}

/* The generic route's call: {"args": [...], "kwargs": {...}}. */
static void start_generic_call(struct gw_request *req)
{
    char message[512];
    json_t *args = NULL;
    json_t *kwargs = NULL;
    int status = gw_call_generic_args(content_type_of(req), req->body, req->body_len, &args,
                                      &kwargs, message, sizeof(message));
    if (status != GW_OK) {
        respond_error(req, status, message);
        return;
    }
    json_t *context = new_context(req);
    publish_call(req, args, kwargs, context, NULL);
    json_decref(args);
    json_decref(kwargs);
    json_decref(context);
}

/* werkzeug's host of a redirect: the Host header (else the address the client reached), lower
 * case, without http's default port. New. */
static char *redirect_host(struct gw_request *req)
{
    const char *given = gw_request_header(req, "Host");
    char address[INET6_ADDRSTRLEN + 8];
    if (!given || !*given) {
        gw_request_server_address(req, address, sizeof(address));
        given = address;
    }
    char *host = xstrdup(given);
    for (char *c = host; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    size_t len = strlen(host);
    if (len > 3 && strcmp(host + len - 3, ":80") == 0)
        host[len - 3] = '\0';
    return host;
}

static void redirect(struct gw_request *req, const char *path)
{
    /* werkzeug's answer: an absolute URL from the Host header, the path re-quoted, the raw query
     * string kept (MapAdapter.make_redirect_url). */
    const char *query = strchr(req->raw_uri, '?');
    query = query && query[1] ? query + 1 : "";
    while (*path == '/')
        path++;
    /* werkzeug's url_quote(path, safe="/:|+"). */
    char *quoted = gw_url_quote(path, "/:|+");
    char *host = redirect_host(req);
    char *location = NULL;
    bool ascii = true;
    for (const char *c = query; *c && ascii; c++)
        ascii = (unsigned char)*c < 0x80;
    if (ascii) {
        location = xasprintf("http://%s/%s%s%s", host, quoted, *query ? "?" : "", query);
    } else {
        /* What werkzeug's redirect() does to a URL that is not all ASCII (iri_to_uri): the path
         * quoted once more, the query read as UTF-8 (an ill-formed byte is U+FFFD) and quoted. */
        char *path_uri = gw_url_quote(quoted, "/:~+%");
        char *text = gw_utf8_repair(query, strlen(query), NULL);
        char *query_uri = gw_url_quote(text, ":/?#[]@!$&'()*+,;=%");
        location = xasprintf("http://%s/%s?%s", host, path_uri, query_uri);
        free(path_uri);
        free(text);
        free(query_uri);
    }
    free(host);
    free(quoted);
    char message[512];
    snprintf(message, sizeof(message), "the resource is at %s", location);
    gw_respond_error(GW_EREDIRECT, message, NULL, &req->response);
    req->response.location = location;
    req->responded = true;
}

/* Load balancers and Kubernetes: alive while the loop answers, ready while the broker is there. */
static void probe(struct gw_request *req, const char *url)
{
    bool health = strcmp(url, req->config->health_path) == 0;
    bool ready = health || gw_rpc_ready(req->env->rpc);
    memset(&req->response, 0, sizeof(req->response));
    if (ready) {
        /* Readiness names the broker node in use: with a cluster, operators see which. */
        char node[300];
        json_t *body = json_pack("{s:s}", "status", "ok");
        if (!health && gw_rpc_node(req->env->rpc, node, sizeof(node)))
            json_object_set_new(body, "node", json_string(node));
        req->response.status = 200;
        req->response.content_type = "application/json";
        req->response.body = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
        req->response.body_len = strlen(req->response.body);
        json_decref(body);
    } else {
        if (gw_rpc_blocked(req->env->rpc))
            gw_respond_status(503, "broker_blocked",
                              "the broker blocks publishers (a memory or disk alarm)", NULL,
                              &req->response);
        else
            gw_respond_status(503, "not_ready", "the broker connection is not up", NULL,
                              &req->response);
    }
    req->responded = true;
}

/* POST <admin_prefix>/<method> with the kwargs as a JSON object: an RPC to enoki's own service
 * (GATEWAY.name), so that whichever instance holds a socket answers. The auth stage has let the
 * caller in before anything under the prefix is answered, even a 404. */
static void start_admin_call(struct gw_request *req, const char *url, const char *method)
{
    static const char *const methods[] = {"broadcast",   "unicast",           "subscribe",
                                          "unsubscribe", "get_subscriptions", NULL};
    const struct gw_config *config = req->config;
    const char *name = url + strlen(config->admin_prefix);
    char message[512];
    bool known = false;
    for (size_t i = 0; *name == '/' && methods[i]; i++)
        known = known || strcmp(name + 1, methods[i]) == 0;
    if (!known) {
        snprintf(message, sizeof(message),
                 "no route matches %s; the hub's methods are POST "
                 "%s/broadcast, unicast, subscribe, unsubscribe and get_subscriptions",
                 url, config->admin_prefix);
        respond_error(req, GW_ENOMATCH, message);
        return;
    }
    if (!require_post(req, url, method))
        return;
    json_t *args = NULL, *kwargs = NULL;
    int status = gw_call_build_args(NULL, NULL, 0, content_type_of(req), req->body, req->body_len,
                                    &args, &kwargs, message, sizeof(message));
    if (status != GW_OK) {
        respond_error(req, status, message);
        return;
    }
    req->service = xstrdup(config->name);
    req->method_name = xstrdup(name + 1);
    req->timeout = config->rpc_timeout;
    req->generic = true;
    json_t *context = new_context(req);
    publish_call(req, args, kwargs, context, NULL);
    json_decref(args);
    json_decref(kwargs);
    json_decref(context);
}

/* enoki's own paths, answered at once; false when url is none of them. */
/* GET <openapi_path>: the generation's OpenAPI document (docs/openapi.md), GET and HEAD only. */
static void serve_openapi(struct gw_request *req)
{
    req->route_label = "openapi";
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        respond_error(req, GW_EMETHOD, "the OpenAPI document answers GET and HEAD");
        snprintf(req->response.allow, sizeof(req->response.allow), "GET, HEAD");
        return;
    }
    size_t len;
    const char *doc = gw_generation_openapi(req->gen, &len);
    memset(&req->response, 0, sizeof(req->response));
    req->response.status = 200;
    req->response.content_type = "application/json";
    req->response.body = xmalloc(len + 1);
    memcpy(req->response.body, doc, len + 1);
    req->response.body_len = len;
    req->responded = true;
}

static bool answer_own_path(struct gw_request *req, const char *url)
{
    const struct gw_config *config = req->config;
    if (config->openapi_path && strcmp(url, config->openapi_path) == 0) {
        serve_openapi(req);
        return true;
    }
    if (strcmp(url, config->metrics_path) == 0 && req->env->metrics) {
        req->route_label = "metrics";
        memset(&req->response, 0, sizeof(req->response));
        req->response.status = 200;
        req->response.content_type = "text/plain; version=0.0.4; charset=utf-8";
        req->response.body = gw_http_metrics_render(req->env->metrics, &req->response.body_len);
        req->responded = true;
        return true;
    }
    if (strcmp(url, config->health_path) == 0 || strcmp(url, config->ready_path) == 0) {
        req->route_label = "probe";
        probe(req, url);
        return true;
    }
    if (strcmp(url, config->websocket_path) == 0) {
        /* The sniffer sends upgrades to the hub: this one did not ask for one. */
        gw_respond_status(400, "bad_request",
                          "this path is the websocket hub: send an Upgrade: websocket request",
                          NULL, &req->response);
        req->responded = true;
        return true;
    }
    if (gw_status_page_owns(config, url) && req->env->status) {
        /* Answered once the auth stage has let the caller in (gateway/stage_auth.c). */
        req->route_label = "status";
        req->target = GW_TARGET_STATUS;
        return true;
    }
    if (gw_docs_page_answer(req, url))
        return true;
    if (strncmp(url, "/static/", 8) == 0) {
        req->route_label = "static";
        gw_serve_file(req, config->static_dir, url + 8);
        return true;
    }
    return false;
}

/* What url calls: sets req->target (and what the call needs), or answers the request (404, 405, a
 * redirect). A route's path values go to *match. */
static void resolve(struct gw_request *req, const char *url, const char *method,
                    struct gw_route_match *match)
{
    const struct gw_config *config = req->config;
    /* Under admin_prefix nothing is answered before the caller is let in: enoki's own paths put
     * there (metrics, the OpenAPI document, probes, the docs page) are answered once the admin
     * credential has been checked (route_request). The status page signs in on its own. */
    bool admin = config->admin_prefix && gw_call_under_prefix(config->admin_prefix, url);
    if ((!admin || gw_status_page_owns(config, url)) && answer_own_path(req, url))
        return;
    if (admin) {
        req->route_label = "admin";
        req->target = GW_TARGET_ADMIN;
        return;
    }
    if (config->expose.n > 0 && gw_call_under_prefix(config->rpc_prefix, url)) {
        req->route_label = "generic";
        resolve_generic(req, url, method);
        return;
    }
    int status = gw_route_table_match(req->gen->table, method, url, match);
    char message[512];
    switch (status) {
    case GW_OK:
        resolve_route(req, match->target);
        break;
    case GW_EMETHOD:
        snprintf(message, sizeof(message), "the method %s is not allowed for %s; allowed: %s",
                 method, url, match->allow);
        respond_error(req, status, message);
        snprintf(req->response.allow, sizeof(req->response.allow), "%s", match->allow);
        break;
    case GW_EREDIRECT:
        redirect(req, match->redirect);
        break;
    default:
        snprintf(message, sizeof(message), "no route matches %s", url);
        respond_error(req, GW_ENOMATCH, message);
        break;
    }
}

static void route_request(struct gw_request *req, const char *method)
{
    /* The path is decoded here from the raw target, not taken from MHD: MHD's is a C string, cut at
     * %00, and keeps ill-formed UTF-8 that werkzeug would have replaced. */
    char err[256];
    char *url = NULL;
    if (gw_call_decode_path(req->raw_uri, strcspn(req->raw_uri, "?"), &url, err, sizeof(err)) !=
        GW_OK) {
        respond_error(req, GW_EARGS, err);
        return;
    }
    struct gw_route_match match = {0};
    resolve(req, url, method, &match);
    if (!req->responded && !gw_stages_run(GW_AFTER_RESOLVE, req)) {
        switch (req->target) {
        case GW_TARGET_ROUTE:
            start_route_call(req, url, match.values);
            break;
        case GW_TARGET_GENERIC:
            start_generic_call(req);
            break;
        case GW_TARGET_ADMIN:
            if (!answer_own_path(req, url))
                start_admin_call(req, url, method);
            break;
        case GW_TARGET_STATUS:
            gw_status_page_answer(req->env->status, req, url);
            break;
        case GW_TARGET_NONE:
            break;
        }
    }
    gw_route_match_clear(&match);
    free(url);
}

bool gw_dispatch(struct gw_request *req)
{
    if (!gw_stages_run(GW_BEFORE_RESOLVE, req))
        route_request(req, req->method);
    if (req->responded)
        /* Answered now, so never published (bad arguments, too busy, the broker down): a retry
         * with the same key may call. */
        gw_idempotency_call_ended(req, false);
    return req->responded;
}
