#include "status_page.h"

#include "core/broker.h"
#include "core/clock.h"
#include "core/live_stats.h"
#include "core/rpc.h"
#include "core/status.h"
#include "core/strbuf.h"
#include "core/version.h"
#include "core/xalloc.h"
#include "gateway/http.h"
#include "gateway/hub.h"
#include "gateway/request.h"
#include "gateway/static_files.h"
#include "gateway/status_share.h"
#include "routes/call.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Routes and websocket methods: 10 s slots over 5 minutes, latency in 1-minute slots. */
static const struct gw_live_shape series_shape = {10, 30, 60, 6};
/* Channels: messages only. */
static const struct gw_live_shape channel_shape = {10, 30, 0, 0};
/* The HTTP and websocket totals behind the charts: per second over 2 minutes. */
static const struct gw_live_shape pulse_shape = {1, 120, 1, 120};

/* Bounds: websocket method names come from clients (within GATEWAY.expose), channels too. */
enum { MAX_WS_METHODS = 256, MAX_CHANNELS = 4096, MAX_ROUTES = 1 << 20 };
/* What the JSON lists unless asked: the top routes, and the busiest channels. */
enum { DEFAULT_LIMIT = 20, TOP_CHANNELS = 10 };

#define OTHER_METHODS "(other)"
/* The longest method name kept as a series of its own: an AMQP routing key's most, so every name a
 * call can carry. Longer ones (up to websocket_max_frame) count as "(other)": 256 names of a
 * client's choosing would otherwise hold 256 MiB for the process's life. */
#define MAX_METHOD_NAME 255

/* The four stores a page shows from: its own, or with workers the totals of all. */
struct stores {
    struct gw_live_stats *routes, *ws_methods, *channels, *pulse;
    int http_total, ws_total, ws_other;
};

struct gw_status_page {
    struct gw_rpc *rpc;
    const struct gw_hub *hub;
    struct gw_live_stats *routes, *ws_methods, *channels, *pulse;
    int http_total, ws_total, ws_other;
    /* GATEWAY.workers: the other workers' numbers, and this one's published once a second. */
    struct gw_status_share *share;
    const struct gw_http *http;
    uv_timer_t publisher;
    bool publishing;
    double started_at; /* Unix time */
    uint64_t started_ns;
};

static double wall_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

struct gw_status_page *gw_status_page_new(struct gw_rpc *rpc)
{
    struct gw_status_page *page = xcalloc(1, sizeof(*page));
    uint64_t now = gw_now_ns();
    page->rpc = rpc;
    page->routes = gw_live_stats_new(&series_shape, MAX_ROUTES);
    page->ws_methods = gw_live_stats_new(&series_shape, MAX_WS_METHODS);
    page->channels = gw_live_stats_new(&channel_shape, MAX_CHANNELS);
    page->pulse = gw_live_stats_new(&pulse_shape, 2);
    page->http_total = gw_live_stats_id(page->pulse, "http", NULL, now);
    page->ws_total = gw_live_stats_id(page->pulse, "websocket", NULL, now);
    page->ws_other = gw_live_stats_id(page->ws_methods, OTHER_METHODS, NULL, now);
    page->started_at = wall_now();
    page->started_ns = now;
    return page;
}

void gw_status_page_free(struct gw_status_page *page)
{
    if (!page)
        return;
    gw_status_share_free(page->share);
    gw_live_stats_free(page->routes);
    gw_live_stats_free(page->ws_methods);
    gw_live_stats_free(page->channels);
    gw_live_stats_free(page->pulse);
    free(page);
}

void gw_status_page_set_hub(struct gw_status_page *page, const struct gw_hub *hub)
{
    page->hub = hub;
}

/* A route's key (new): its methods as written, then its rule. */
static char *route_key(const struct gw_route_conf *route)
{
    return xasprintf("%s %s", route->methods, route->rule);
}

void gw_status_page_bind(struct gw_status_page *page, struct gw_generation *gen)
{
    const struct gw_config *config = gen->config;
    uint64_t now = gw_now_ns();
    free(gen->route_stats);
    gen->route_stats = xcalloc(config->n_routes ? config->n_routes : 1, sizeof(int));
    gw_live_stats_mark_none(page->routes);
    for (size_t i = 0; i < config->n_routes; i++) {
        const struct gw_route_conf *route = &config->routes[i];
        char *key = route_key(route);
        char *target = xasprintf("%s.%s", route->service, route->method);
        gen->route_stats[i] = gw_live_stats_id(page->routes, key, target, now);
        free(key);
        free(target);
    }
    gw_live_stats_sweep(page->routes);
    gen->stats_epoch = gw_live_stats_epoch(page->routes);
}

/* The series of the route req ran, or -1. A request that began before a reload looks its route up
 * by key: the ids of its generation may have been given to other routes since. */
static int route_series(const struct gw_status_page *page, const struct gw_request *req)
{
    const struct gw_generation *gen = req->gen;
    if (!req->route || !gen->route_stats)
        return -1;
    size_t index = (size_t)(req->route - req->config->routes);
    if (index >= req->config->n_routes)
        return -1;
    if (gen->stats_epoch == gw_live_stats_epoch(page->routes))
        return gen->route_stats[index];
    char *key = route_key(req->route);
    int id = gw_live_stats_find(page->routes, key);
    free(key);
    return id;
}

void gw_status_page_note_http(struct gw_status_page *page, const struct gw_request *req,
                              uint64_t now_ns)
{
    if (!page || !req->response.status || req->target == GW_TARGET_STATUS)
        return;
    uint64_t duration = now_ns - req->start_ns;
    bool failed = req->response.status >= 500 || req->call_failed;
    gw_live_stats_record(page->pulse, page->http_total, now_ns, duration, failed);
    gw_live_stats_record(page->routes, route_series(page, req), now_ns, duration, failed);
}

void gw_status_page_note_ws(struct gw_status_page *page, const char *method, uint64_t start_ns,
                            uint64_t now_ns, bool failed)
{
    if (!page)
        return;
    uint64_t duration = now_ns - start_ns;
    gw_live_stats_record(page->pulse, page->ws_total, now_ns, duration, failed);
    /* Found by name (not on the HTTP path): the names a client may send are bounded by the store,
     * past which they count as one. */
    int id = -1;
    if (strlen(method) <= MAX_METHOD_NAME) {
        id = gw_live_stats_find(page->ws_methods, method);
        if (id < 0)
            id = gw_live_stats_id(page->ws_methods, method, NULL, now_ns);
    }
    gw_live_stats_record(page->ws_methods, id < 0 ? page->ws_other : id, now_ns, duration, failed);
}

void gw_status_page_note_subscribers(struct gw_status_page *page, const char *channel, int delta)
{
    if (!page)
        return;
    int id = gw_live_stats_find(page->channels, channel);
    if (id < 0 && delta > 0)
        id = gw_live_stats_id(page->channels, channel, NULL, gw_now_ns());
    if (id < 0)
        return;
    /* A channel nobody here listens to any more goes: the store holds the channels in use. */
    if (gw_live_stats_gauge(page->channels, id, delta) <= 0)
        gw_live_stats_drop(page->channels, id);
}

void gw_status_page_note_message(struct gw_status_page *page, const char *channel)
{
    if (!page)
        return;
    gw_live_stats_record(page->channels, gw_live_stats_find(page->channels, channel), gw_now_ns(),
                         0, false);
}

bool gw_status_page_protected(const struct gw_config *config)
{
    return config->auth.jwt.enabled || config->admin_token;
}

static bool is_data_path(const struct gw_config *config, const char *url)
{
    size_t n = strlen(config->status_path);
    return strncmp(url, config->status_path, n) == 0 && strcmp(url + n, GW_STATUS_DATA) == 0;
}

bool gw_status_page_owns(const struct gw_config *config, const char *url)
{
    return config->status_path &&
           (strcmp(url, config->status_path) == 0 || is_data_path(config, url));
}

/* --- the JSON ------------------------------------------------------------------------------ */

struct row {
    int id;
    struct gw_live_summary sum;
};

/* By rate, then by key: the busiest first, a stable order among the idle. */
static int by_rate(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    if (x->sum.rate != y->sum.rate)
        return x->sum.rate < y->sum.rate ? 1 : -1;
    if (x->sum.requests != y->sum.requests)
        return x->sum.requests < y->sum.requests ? 1 : -1;
    return strcmp(x->sum.key, y->sum.key);
}

/* By messages in the window, then by subscribers. */
static int by_messages(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    if (x->sum.requests != y->sum.requests)
        return x->sum.requests < y->sum.requests ? 1 : -1;
    if (x->sum.gauge != y->sum.gauge)
        return x->sum.gauge < y->sum.gauge ? 1 : -1;
    return strcmp(x->sum.key, y->sum.key);
}

/* Every series of a store, summarized and sorted; *n gets how many. */
static struct row *sorted_rows(const struct gw_live_stats *stats, uint64_t now,
                               int (*order)(const void *, const void *), size_t *n)
{
    size_t count = gw_live_stats_count(stats);
    int *ids = xcalloc(count ? count : 1, sizeof(*ids));
    struct row *rows = xcalloc(count ? count : 1, sizeof(*rows));
    *n = gw_live_stats_ids(stats, ids);
    for (size_t i = 0; i < *n; i++) {
        rows[i].id = ids[i];
        gw_live_stats_summary(stats, ids[i], now, &rows[i].sum);
    }
    free(ids);
    qsort(rows, *n, sizeof(*rows), order);
    return rows;
}

/* Rates and milliseconds to a thousandth: the page shows no more. */
static json_t *rounded(double x)
{
    return json_real(round(x * 1000) / 1000);
}

static json_t *ms_or_null(double ms)
{
    return ms < 0 ? json_null() : rounded(ms);
}

/* Adds a series' numbers to o, and returns o. */
static json_t *add_numbers(json_t *o, const struct gw_live_stats *stats, const struct row *r,
                           uint64_t now, bool with_slots)
{
    json_object_set_new(o, "requests", json_integer((json_int_t)r->sum.requests));
    json_object_set_new(o, "errors", json_integer((json_int_t)r->sum.errors));
    json_object_set_new(o, "requests_total", json_integer((json_int_t)r->sum.requests_total));
    json_object_set_new(o, "errors_total", json_integer((json_int_t)r->sum.errors_total));
    json_object_set_new(o, "rate", rounded(r->sum.rate));
    json_object_set_new(o, "error_rate", json_real(round(r->sum.error_rate * 1e6) / 1e6));
    json_object_set_new(o, "p50_ms", ms_or_null(r->sum.p50_ms));
    json_object_set_new(o, "p99_ms", ms_or_null(r->sum.p99_ms));
    if (with_slots) {
        uint32_t counts[64];
        gw_live_stats_series(stats, r->id, now, counts, NULL, NULL);
        json_t *slots = json_array();
        for (unsigned i = 0; i < series_shape.count_slots; i++)
            json_array_append_new(slots, json_integer(counts[i]));
        json_object_set_new(o, "slots", slots);
    }
    return o;
}

static bool matches(const struct gw_live_summary *sum, const char *q)
{
    if (!q || !*q)
        return true;
    size_t n = strlen(q);
    for (const char *texts[] = {sum->key, sum->label}, **t = texts; t < texts + 2; t++)
        for (const char *p = *t; p && *p; p++)
            if (strncasecmp(p, q, n) == 0)
                return true;
    return false;
}

static json_t *routes_json(const struct stores *page, uint64_t now, const char *q, size_t limit,
                           json_t *top)
{
    size_t n;
    struct row *rows = sorted_rows(page->routes, now, by_rate, &n);
    json_t *list = json_array();
    size_t matched = 0;
    for (size_t i = 0; i < n; i++) {
        if (!matches(&rows[i].sum, q))
            continue;
        if (matched++ >= limit)
            continue;
        json_t *o = json_object();
        const char *space = strchr(rows[i].sum.key, ' ');
        json_object_set_new(o, "route", json_string(rows[i].sum.key));
        json_object_set_new(
            o, "methods",
            json_stringn(rows[i].sum.key, space ? (size_t)(space - rows[i].sum.key) : 0));
        json_object_set_new(o, "rule", json_string(space ? space + 1 : rows[i].sum.key));
        json_object_set_new(o, "target", json_string(rows[i].sum.label ? rows[i].sum.label : ""));
        json_array_append_new(list, add_numbers(o, page->routes, &rows[i], now, true));
    }
    json_object_set_new(top, "routes_total", json_integer((json_int_t)n));
    json_object_set_new(top, "routes_matched", json_integer((json_int_t)matched));
    free(rows);
    return list;
}

static json_t *ws_methods_json(const struct stores *page, uint64_t now)
{
    size_t n;
    struct row *rows = sorted_rows(page->ws_methods, now, by_rate, &n);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        if (rows[i].id == page->ws_other && rows[i].sum.requests_total == 0)
            continue;
        json_t *o = json_pack("{s:s}", "method", rows[i].sum.key);
        json_array_append_new(list, add_numbers(o, page->ws_methods, &rows[i], now, true));
    }
    free(rows);
    return list;
}

static json_t *channels_json(const struct stores *page, uint64_t now)
{
    size_t n;
    struct row *rows = sorted_rows(page->channels, now, by_messages, &n);
    json_t *list = json_array();
    for (size_t i = 0; i < n && i < TOP_CHANNELS; i++) {
        const struct gw_live_summary *s = &rows[i].sum;
        json_array_append_new(
            list, json_pack("{s:s, s:i, s:I, s:I, s:f}", "channel", s->key, "subscribers",
                            (int)s->gauge, "messages", (json_int_t)s->requests, "messages_total",
                            (json_int_t)s->requests_total, "rate", round(s->rate * 1000) / 1000));
    }
    free(rows);
    return list;
}

/* The per-second totals behind the charts. */
static json_t *pulse_json(const struct stores *page, int id, uint64_t now)
{
    struct row r = {.id = id};
    gw_live_stats_summary(page->pulse, id, now, &r.sum);
    json_t *o = add_numbers(json_object(), page->pulse, &r, now, false);
    uint32_t requests[120], errors[120];
    double p99[120];
    gw_live_stats_series(page->pulse, id, now, requests, errors, p99);
    json_t *req = json_array(), *err = json_array(), *lat = json_array();
    for (unsigned i = 0; i < pulse_shape.count_slots; i++) {
        json_array_append_new(req, json_integer(requests[i]));
        json_array_append_new(err, json_integer(errors[i]));
        json_array_append_new(lat, ms_or_null(p99[i]));
    }
    json_object_set_new(o, "slot_s", json_integer(pulse_shape.count_slot_s));
    json_object_set_new(o, "requests_per_slot", req);
    json_object_set_new(o, "errors_per_slot", err);
    json_object_set_new(o, "p99_ms_per_slot", lat);
    return o;
}

static json_t *broker_json(struct gw_rpc *rpc, const struct gw_config *config)
{
    struct gw_broker *broker = gw_rpc_broker(rpc);
    char node[300];
    const char *state = gw_rpc_blocked(rpc)          ? "blocked"
                        : gw_rpc_ready(rpc)          ? "connected"
                        : gw_broker_starting(broker) ? "connecting"
                                                     : "disconnected";
    json_t *nodes = json_array();
    for (size_t i = 0; i < config->n_amqp_nodes; i++) {
        char text[300];
        snprintf(text, sizeof(text), "%s:%d", config->amqp_nodes[i].host,
                 config->amqp_nodes[i].port);
        json_array_append_new(nodes, json_string(text));
    }
    bool connected = gw_rpc_node(rpc, node, sizeof(node));
    return json_pack("{s:s, s:o, s:o, s:I}", "state", state, "node",
                     connected ? json_string(node) : json_null(), "nodes", nodes, "connections",
                     (json_int_t)gw_broker_generation(broker));
}

/* The page's own stores, in the order gateway/status_share keeps them. */
static void own_stores(const struct gw_status_page *page, struct gw_live_stats **out)
{
    out[0] = page->routes;
    out[1] = page->ws_methods;
    out[2] = page->channels;
    out[3] = page->pulse;
}

static void stores_free(struct stores *x)
{
    gw_live_stats_free(x->routes);
    gw_live_stats_free(x->ws_methods);
    gw_live_stats_free(x->channels);
    gw_live_stats_free(x->pulse);
}

/* Adds src's series into dst. */
static void merge_store(struct gw_live_stats *dst, const struct gw_live_stats *src)
{
    size_t len = gw_live_stats_export_bytes(src);
    void *buf = xmalloc(len);
    gw_live_stats_merge(dst, buf, gw_live_stats_export(src, buf, len), true);
    free(buf);
}

/* Every worker's numbers added up into new stores, and into gauges (this worker's, on entry). */
static struct stores all_workers(const struct gw_status_page *page, int64_t *gauges)
{
    struct stores x = {gw_live_stats_new(&series_shape, MAX_ROUTES),
                       gw_live_stats_new(&series_shape, MAX_WS_METHODS),
                       gw_live_stats_new(&channel_shape, MAX_CHANNELS),
                       gw_live_stats_new(&pulse_shape, 2),
                       0,
                       0,
                       0};
    struct gw_live_stats *mine[GW_SHARE_STORES];
    own_stores(page, mine);
    struct gw_live_stats *const all[GW_SHARE_STORES] = {x.routes, x.ws_methods, x.channels,
                                                        x.pulse};
    for (int i = 0; i < GW_SHARE_STORES; i++)
        merge_store(all[i], mine[i]);
    gw_status_share_collect(page->share, 0, all, gauges);
    x.http_total = gw_live_stats_find(x.pulse, "http");
    x.ws_total = gw_live_stats_find(x.pulse, "websocket");
    x.ws_other = gw_live_stats_find(x.ws_methods, OTHER_METHODS);
    return x;
}

static void publish(const struct gw_status_page *page)
{
    int64_t gauges[GW_SHARE_GAUGES] = {(int64_t)gw_rpc_pending(page->rpc),
                                       (int64_t)gw_http_in_flight(page->http),
                                       (int64_t)gw_http_connections(page->http),
                                       (int64_t)(page->hub ? gw_hub_sockets(page->hub) : 0)};
    struct gw_live_stats *mine[GW_SHARE_STORES];
    own_stores(page, mine);
    gw_status_share_publish(page->share, mine, gauges);
}

static void on_publish(uv_timer_t *timer)
{
    publish(timer->data);
}

void gw_status_page_share(struct gw_status_page *page, uv_loop_t *loop,
                          struct gw_status_share *share, const struct gw_http *http)
{
    page->share = share;
    page->http = http;
    /* A replacement goes on from its predecessor's numbers (as they were at most a second before
     * it died), its gauges aside. */
    struct gw_live_stats *mine[GW_SHARE_STORES];
    own_stores(page, mine);
    int64_t none[GW_SHARE_GAUGES] = {0};
    gw_status_share_collect(share, 1, mine, none);
    uv_timer_init(loop, &page->publisher);
    page->publisher.data = page;
    uv_timer_start(&page->publisher, on_publish, 0, 1000);
    uv_unref((uv_handle_t *)&page->publisher);
    page->publishing = true;
}

void gw_status_page_stop(struct gw_status_page *page)
{
    if (!page->publishing)
        return;
    page->publishing = false;
    uv_close((uv_handle_t *)&page->publisher, NULL);
}

static char *render(struct gw_status_page *page, const struct gw_request *req, size_t *len)
{
    uint64_t now = gw_now_ns();
    const struct gw_generation *gen = req->env->current;
    const char *raw_query = strchr(req->raw_uri, '?');
    struct gw_query query;
    gw_query_parse(raw_query ? raw_query + 1 : "", raw_query ? strlen(raw_query + 1) : 0, &query);
    const char *q = NULL;
    size_t limit = DEFAULT_LIMIT;
    for (size_t i = 0; i < query.n; i++) {
        const char *value = query.params[i].value ? query.params[i].value : "";
        if (strcmp(query.params[i].name, "q") == 0)
            q = value;
        else if (strcmp(query.params[i].name, "limit") == 0)
            limit = strcmp(value, "all") == 0 ? (size_t)-1 : (size_t)strtoul(value, NULL, 10);
    }
    json_t *o = json_object();
    double now_wall = wall_now();
    json_object_set_new(o, "version", json_string(GW_VERSION));
    json_object_set_new(o, "now", json_real(now_wall));
    json_object_set_new(o, "started_at", json_real(page->started_at));
    json_object_set_new(o, "uptime_s", rounded((double)(now - page->started_ns) / 1e9));
    json_object_set_new(o, "broker", broker_json(page->rpc, gen->config));
    json_object_set_new(o, "generation",
                        json_pack("{s:I, s:f, s:I}", "number", (json_int_t)gen->number, "loaded_at",
                                  gen->loaded_at, "routes", (json_int_t)gen->config->n_routes));
    int64_t gauges[GW_SHARE_GAUGES] = {(int64_t)gw_rpc_pending(page->rpc),
                                       (int64_t)req->env->in_flight, (int64_t)req->env->connections,
                                       (int64_t)(page->hub ? gw_hub_sockets(page->hub) : 0)};
    struct stores own = {page->routes,     page->ws_methods, page->channels, page->pulse,
                         page->http_total, page->ws_total,   page->ws_other};
    struct stores view = page->share ? all_workers(page, gauges) : own;
    json_object_set_new(o, "in_flight",
                        json_pack("{s:I, s:I}", "calls", (json_int_t)gauges[0], "http_requests",
                                  (json_int_t)gauges[1]));
    json_object_set_new(o, "open",
                        json_pack("{s:I, s:I}", "http_connections", (json_int_t)gauges[2],
                                  "websockets", (json_int_t)gauges[3]));
    json_object_set_new(o, "window_s",
                        json_integer(series_shape.count_slot_s * series_shape.count_slots));
    json_object_set_new(o, "slot_s", json_integer(series_shape.count_slot_s));
    json_object_set_new(o, "http", pulse_json(&view, view.http_total, now));
    json_object_set_new(o, "websocket", pulse_json(&view, view.ws_total, now));
    json_object_set_new(o, "query", q ? json_string(q) : json_null());
    json_object_set_new(o, "routes", routes_json(&view, now, q, limit, o));
    json_object_set_new(o, "websocket_methods", ws_methods_json(&view, now));
    json_object_set_new(o, "channels", channels_json(&view, now));
    if (page->share) {
        json_object_set_new(o, "workers", json_integer(gw_status_share_workers(page->share)));
        stores_free(&view);
    }
    gw_query_clear(&query);
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(13));
    json_decref(o);
    *len = strlen(text);
    return text;
}

bool gw_status_page_wants_login(const struct gw_request *req)
{
    const char *accept = gw_request_header(req, "Accept");
    size_t path_len = strcspn(req->raw_uri, "?");
    size_t data_len = strlen(GW_STATUS_DATA);
    bool data = path_len >= data_len &&
                strncmp(req->raw_uri + path_len - data_len, GW_STATUS_DATA, data_len) == 0;
    return !data && accept && strstr(accept, "text/html");
}

/* text with &, <, >, " and ' escaped for HTML. */
static void add_escaped(struct gw_strbuf *b, const char *text)
{
    for (const char *p = text; *p; p++) {
        const char *entity = *p == '&'    ? "&amp;"
                             : *p == '<'  ? "&lt;"
                             : *p == '>'  ? "&gt;"
                             : *p == '"'  ? "&quot;"
                             : *p == '\'' ? "&#39;"
                                          : NULL;
        if (entity)
            gw_strbuf_adds(b, entity);
        else
            gw_strbuf_add(b, p, 1);
    }
}

/* The form only stores what is typed, in the cookie the page's requests then carry; the page's
 * numbers come only with a valid credential. */
void gw_status_page_login(struct gw_request *req, int status, const char *message)
{
    const struct gw_config *config = req->config;
    struct gw_strbuf b = {0};
    gw_strbuf_adds(&b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                       "<title>enoki status: sign in</title>"
                       "<style>body{font:15px system-ui,sans-serif;margin:3em auto;max-width:32em}"
                       "input{font:inherit;width:100%;box-sizing:border-box;margin:.5em 0}"
                       "</style></head><body><h1>enoki status</h1><p id=\"why\">");
    add_escaped(&b, message);
    gw_strbuf_adds(&b, "</p><form id=\"login\" data-cookie=\"");
    add_escaped(&b, config->auth.cookie ? config->auth.cookie : GW_STATUS_COOKIE);
    gw_strbuf_adds(&b, "\" data-path=\"");
    add_escaped(&b, config->status_path);
    gw_strbuf_adds(
        &b, "\"><label>Admin token (GATEWAY.admin_token, or a token with GATEWAY.admin_scope)"
            "<input id=\"token\" type=\"password\" autocomplete=\"off\" required></label>"
            "<button>Open the status page</button></form><script>\n"
            "const f = document.getElementById('login');\n"
            "f.addEventListener('submit', (e) => {\n"
            "  e.preventDefault();\n"
            "  const t = document.getElementById('token').value.trim();\n"
            "  if (!/^[A-Za-z0-9._~+\\/-]+=*$/.test(t)) {\n"
            "    document.getElementById('why').textContent = 'not a bearer token';\n"
            "    return;\n"
            "  }\n"
            "  document.cookie = f.dataset.cookie + '=' + t + '; Path=' + f.dataset.path +\n"
            "    '; SameSite=Strict' + (location.protocol === 'https:' ? '; Secure' : '');\n"
            "  location.reload();\n"
            "});\n</script></body></html>\n");
    gw_response_clear(&req->response);
    memset(&req->response, 0, sizeof(req->response));
    req->response.status = status;
    req->response.content_type = "text/html; charset=utf-8";
    req->response.code = status == 401 ? "unauthorized" : "forbidden";
    req->response.body_len = b.len;
    req->response.body = gw_strbuf_take(&b);
    gw_response_add_header(&req->response, "Cache-Control", "no-store");
    req->responded = true;
}

void gw_status_page_answer(struct gw_status_page *page, struct gw_request *req, const char *url)
{
    const struct gw_config *config = req->config;
    bool data = is_data_path(config, url);
    if (!data) {
        gw_serve_file(req, config->static_dir, "status.html");
        gw_response_add_header(&req->response, "Cache-Control", "no-cache");
        return;
    }
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        gw_respond_error(GW_EMETHOD, "the status page answers GET and HEAD", NULL, &req->response);
        snprintf(req->response.allow, sizeof(req->response.allow), "GET, HEAD");
        req->responded = true;
        return;
    }
    memset(&req->response, 0, sizeof(req->response));
    req->response.status = 200;
    req->response.content_type = "application/json";
    req->response.body = render(page, req, &req->response.body_len);
    gw_response_add_header(&req->response, "Cache-Control", "no-store");
    req->responded = true;
}
