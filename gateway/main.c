/* enoki - HTTP and websocket gateway for nameko clusters: the command line and the loop. */
#include "core/config.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/random.h"
#include "core/rpc.h"
#include "core/status.h"
#include "core/util.h"
#include "core/version.h"
#include "core/xalloc.h"
#include "gateway/authn.h"
#include "gateway/generation.h"
#include "gateway/http.h"
#include "gateway/http_metrics.h"
#include "gateway/hub.h"
#include "gateway/limiter.h"
#include "gateway/listener.h"
#include "gateway/probe.h"
#include "gateway/refuse.h"
#include "gateway/route_setup.h"
#include "gateway/sniff.h"
#include "gateway/status_page.h"
#include "gateway/status_share.h"
#include "gateway/workers.h"
#include "routes/table.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_CONFIG = 2 };

struct gateway {
    uv_loop_t *loop;
    /* The settings new requests start under, and the first ones, which the broker side and the
     * hub keep until exit (their settings change at restart). */
    struct gw_generation *current, *first;
    const struct gw_config *config; /* current's */
    struct gw_rpc *rpc;
    struct gw_http *http;
    struct gw_hub *hub;
    struct gw_listener *listener;
    struct gw_sniff_set sniffing;
    struct gw_metrics *metrics;
    struct gw_http_metrics *http_metrics;
    struct gw_status_page *status; /* GATEWAY.status_path's numbers, kept whether it is on or not */
    struct gw_authn *authn;        /* bearer tokens, across reloads */
    struct gw_limiter *limiter;    /* the rate limits' buckets, across reloads */
    const char *config_path;
    const struct gw_define *defines;
    size_t n_defines;
    /* SIGTERM, SIGINT, SIGHUP, then its supervisor's GW_WORKER_ words (started in a worker only):
     * see start_signals. */
    uv_signal_t signals[6];
    bool worker; /* one of GATEWAY.workers' processes */
    uv_timer_t drain_timer;
    uv_prepare_t log_flusher;
    uint64_t drain_deadline;
    uint64_t hard_deadline;
    bool stopping;
    int stop_signals; /* SIGTERM and SIGINT taken (the supervisor's own signals not counted) */
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: enoki --config FILE [--define KEY=VALUE]... [--check] [--version] [--help]\n"
            "\n"
            "HTTP gateway for nameko clusters.\n"
            "\n"
            "  -c, --config FILE        the YAML config (default: $ENOKI_CONFIG)\n"
            "  -D, --define KEY=VALUE   set a top-level config key (VALUE is YAML; KEY alone: "
            "true), as\n"
            "                           nameko does\n"
            "      --check              validate the config, print the route table, exit\n"
            "      --probe URL          GET URL (http://host:port/path); exit 0 on a 2xx, else 1\n"
            "                           (a container HEALTHCHECK without curl)\n"
            "      --version            print the version and exit\n"
            "  -h, --help               print this help and exit\n");
}

/* --- lifecycle ----------------------------------------------------------------------------------
 */

/* An upgrade the hub does not take: answered with a plain HTTP answer before libwebsockets ever
 * sees the socket, and the connection closed. A 401 carries the decision's challenge. */
static void refuse_upgrade(int fd, const struct gw_h1_head *head, int status,
                           const struct gw_auth_decision *d)
{
    char seconds[16];
    snprintf(seconds, sizeof(seconds), "%d", GW_RETRY_AFTER_S);
    struct gw_h1_refusal refusal = {.status = status};
    if (d) {
        refusal.error = d->code;
        refusal.message = d->message;
        refusal.header_name = "WWW-Authenticate";
        refusal.header_value = d->challenge;
    } else if (status == 403) {
        refusal.error = "forbidden";
        refusal.message = "this Origin may not open a websocket";
    } else {
        refusal.error = "too_many_sockets";
        refusal.message = "websocket_max_sockets are open";
        refusal.header_name = "Retry-After";
        refusal.header_value = seconds;
    }
    gw_refuse(fd, &refusal, head->head_len, NULL); /* a websocket: no CORS */
    close(fd);
}

/* A copy of s[0..len) into buf as a C string, cut to fit; "" for NULL. */
static const char *copy_value(const char *s, size_t len, char *buf, size_t size)
{
    if (!s)
        return NULL;
    size_t n = len < size - 1 ? len : size - 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return buf;
}

static void on_sniffed(void *arg, int fd, const struct sockaddr *addr, socklen_t len,
                       const struct gw_h1_head *head, const char *buf, size_t buf_len)
{
    (void)buf_len;
    struct gateway *gw = arg;
    if (head->kind == GW_H1_HTTP || !gw->hub) {
        gw_http_add_connection(gw->http, fd, addr, len, head, buf);
        return;
    }
    char origin[512], host[256];
    int refusal =
        gw_hub_admit(gw->hub, copy_value(head->origin, head->origin_len, origin, sizeof(origin)),
                     copy_value(head->host, head->host_len, host, sizeof(host)));
    if (refusal) {
        gw_info("hub", "refused a websocket upgrade: %d", refusal);
        refuse_upgrade(fd, head, refusal, NULL);
        return;
    }
    struct gw_auth_decision d;
    if (!gw_hub_authenticate(gw->hub, head, &d)) {
        gw_info("hub", "refused a websocket upgrade: %d", d.http);
        refuse_upgrade(fd, head, d.http, &d);
        return;
    }
    gw_hub_adopt(gw->hub, fd, head->head_len);
}

static void on_accept(void *arg, int fd, const struct sockaddr *addr, socklen_t len)
{
    struct gateway *gw = arg;
    const struct gw_config *config = gw->config;
    /* The hub's path is the first config's (websocket settings change at restart), which lives
     * as long as the process: the current config is freed by a second SIGHUP while a head is
     * still being sniffed, and a path borrowed from it made that upgrade a plain GET (400). */
    struct gw_h1_limits limits = gw_http_limits(gw->http, config);
    gw_sniff_start(&gw->sniffing, gw->loop, fd, addr, len, &limits,
                   (uint64_t)config->header_timeout * 1000, on_sniffed, gw);
}

static void on_rpc_closed(void *arg)
{
    (void)arg; /* the loop ends once every handle is closed */
}

static void finish_stop(struct gateway *gw)
{
    /* A worker's signals stay pending from here to its exit: with their handles closed, a word of
     * its supervisor's (say, a reload) would kill it during the broker's polite close. */
    if (gw->worker)
        gw_workers_signals_hold();
    uv_timer_stop(&gw->drain_timer);
    uv_close((uv_handle_t *)&gw->drain_timer, NULL);
    for (size_t i = 0; i < ARRAY_LEN(gw->signals); i++)
        uv_close((uv_handle_t *)&gw->signals[i], NULL);
    uv_close((uv_handle_t *)&gw->log_flusher, NULL);
    gw_status_page_stop(gw->status);
    gw_http_close(gw->http);
    gw->http = NULL;
    gw_hub_close(gw->hub);
    gw_rpc_close(gw->rpc, on_rpc_closed, gw);
}

static void on_drain_tick(uv_timer_t *timer)
{
    struct gateway *gw = timer->data;
    /* Websockets get a moment for their closing handshake; HTTP requests their deadlines, and a
     * request that is not a call (a body still arriving) no longer than the longest of them. */
    uint64_t now = uv_now(timer->loop);
    bool sockets_done = gw_hub_sockets(gw->hub) == 0 || now >= gw->drain_deadline;
    if (gw_http_in_flight(gw->http) == 0 && sockets_done) {
        gw_info("main", "all requests answered; stopping");
        finish_stop(gw);
    } else if (now >= gw->hard_deadline) {
        gw_warn("main", "%zu request(s) still open after every deadline; stopping",
                gw_http_in_flight(gw->http));
        finish_stop(gw);
    }
}

/* The routes and the per-request settings of config (taken), all at once, or not at all. */
static void apply_config(struct gateway *gw, struct gw_config *config)
{
    struct gw_route_table *table = gw_route_setup_build(config);
    if (!table) {
        gw_error("main", "reload refused, keeping the current config: its routes do not compile");
        gw_config_free(config);
        return;
    }
    gw_authn_reload(gw->authn, &config->auth.jwt);
    struct gw_generation *gen = gw_generation_new(config, table);
    gw_status_page_bind(gw->status, gen);
    gw_http_reload(gw->http, gen);
    gw_hub_reload(gw->hub, gen);
    gw_limiter_reload(gw->limiter, gen);
    gw_generation_unref(gw->current);
    gw->current = gen;
    gw->config = config;
    gw_log_threshold = config->log_level;
    gw_log_format = config->log_format;
    gw_info("main",
            "reloaded %s: %zu route(s); the broker, listening address, GATEWAY.name, "
            "GATEWAY.workers and websocket settings change at restart (%u generation(s) in use)",
            gw->config_path, config->n_routes, gw_generation_count());
}

/* SIGHUP: the file again. */
static void reload(struct gateway *gw)
{
    char err[1024];
    struct gw_config *config = NULL;
    if (gw_config_load(gw->config_path, gw->defines, gw->n_defines, &config, err, sizeof(err)) !=
        GW_OK) {
        gw_error("main", "reload refused, keeping the current config: %s", err);
        return;
    }
    apply_config(gw, config);
}

static void on_reload(uv_signal_t *handle, int signum)
{
    (void)signum;
    reload(handle->data);
}

/* A worker reloads at its supervisor's word only (gateway/workers.h). */
static void on_worker_sighup(uv_signal_t *handle, int signum)
{
    (void)handle;
    (void)signum;
    gw_info("main", "SIGHUP: a worker reloads when its supervisor (pid %d) passes a reload on",
            (int)getppid());
}

/* No new connections; what is in flight is answered by its deadline at the latest. */
static void begin_drain(struct gateway *gw, const char *why)
{
    gw->stopping = true;
    gw_info("main", "%s: no new connections; answering %zu request(s) in flight", why,
            gw_http_in_flight(gw->http));
    gw_listener_close(gw->listener);
    gw->listener = NULL;
    gw_sniff_close_all(&gw->sniffing);
    gw_http_drain(gw->http);
    gw_hub_close_sockets(gw->hub);
    gw->drain_deadline = uv_now(gw->loop) + 2000;
    double longest = gw->config->rpc_timeout;
    for (size_t i = 0; i < gw->config->n_routes; i++)
        if (gw->config->routes[i].timeout > longest)
            longest = gw->config->routes[i].timeout;
    gw->hard_deadline = uv_now(gw->loop) + (uint64_t)(longest * 1000) + 5000;
    /* In-flight calls end by their deadlines at the latest. */
    uv_timer_start(&gw->drain_timer, on_drain_tick, 0, 20);
}

/* SIGTERM or SIGINT: the first drains, the second stops at once. A worker may also have begun to
 * drain at its supervisor's word: a signal to the whole process group reaches it from both, and
 * only a second SIGTERM or SIGINT of its own stops it at once (gateway/workers.h). */
static void on_signal(uv_signal_t *handle, int signum)
{
    struct gateway *gw = handle->data;
    if (++gw->stop_signals > 1) {
        gw_warn("main", "second signal %d: stopping now", signum);
        finish_stop(gw);
        return;
    }
    if (!gw->stopping) {
        char why[32];
        snprintf(why, sizeof(why), "signal %d", signum);
        begin_drain(gw, why);
    }
}

static void on_supervisor_signal(uv_signal_t *handle, int signum)
{
    struct gateway *gw = handle->data;
    if (signum == GW_WORKER_STOP_NOW) {
        gw_warn("main", "the supervisor says stop now");
        if (!gw->stopping)
            begin_drain(gw, "the supervisor");
        finish_stop(gw);
    } else if (!gw->stopping) {
        begin_drain(gw, "the supervisor says drain");
    }
}

/* The signals the loop handles. The single process leaves the supervisor's words (SIGUSR1,
 * SIGUSR2, SIGRTMIN+1) as they were: their handles are made, not started. */
static void start_signals(struct gateway *gw, bool worker)
{
    const struct {
        int signum;
        uv_signal_cb cb;
        bool word; /* the supervisor's */
    } handled[] = {
        {SIGTERM, on_signal, false},
        {SIGINT, on_signal, false},
        {SIGHUP, worker ? on_worker_sighup : on_reload, false},
        {GW_WORKER_DRAIN, on_supervisor_signal, true},
        {GW_WORKER_STOP_NOW, on_supervisor_signal, true},
        {GW_WORKER_RELOAD, on_reload, true},
    };
    _Static_assert(ARRAY_LEN(handled) == ARRAY_LEN(gw->signals), "a handle per signal");
    for (size_t i = 0; i < ARRAY_LEN(handled); i++) {
        uv_signal_init(gw->loop, &gw->signals[i]);
        gw->signals[i].data = gw;
        if (worker || !handled[i].word)
            uv_signal_start(&gw->signals[i], handled[i].cb, handled[i].signum);
    }
}

static void on_log_flush(uv_prepare_t *prepare)
{
    (void)prepare;
    gw_log_flush();
}

/* A worker's slot of the shared area (docs/workers.md): the RPC side's numbers, the HTTP side's,
 * then the status page's, each from a cache line of its own. */
static size_t http_part_offset(void)
{
    return (gw_metrics_slot_bytes() + 63) & ~(size_t)63;
}

static size_t status_part_offset(void)
{
    return (http_part_offset() + gw_http_metrics_slot_bytes() + 63) & ~(size_t)63;
}

static size_t worker_slot_bytes(void)
{
    return (status_part_offset() + gw_status_share_slot_bytes() + 63) & ~(size_t)63;
}

/* Start-up failed past the config: the single process exits 1. A worker says so to its supervisor
 * with its own status (workers.h), and exits at once: what it built is left to the exit, so that a
 * leak report of a sanitizer's build cannot turn the status into another. */
static int start_failed(const char *err, const struct gw_worker_role *role)
{
    gw_error("main", "%s", err);
    if (role) {
        gw_log_flush();
        _exit(GW_WORKER_START_FAILED);
    }
    return EXIT_FAILURE;
}

/* Runs enoki until it stops; takes config, table and authn. role: NULL for the one process of
 * workers: 1, else this worker's (its socket). accepted (taken; NULL: none): a replacement
 * worker's config, the one its supervisor last accepted at a SIGHUP, applied over the start-up
 * config as a reload would. */
static int run(struct gw_config *config, struct gw_route_table *table, struct gw_authn *authn,
               const char *path, const struct gw_define *defines, size_t n_defines,
               const struct gw_worker_role *role, struct gw_config *accepted)
{
    struct gateway gw = {.config = config,
                         .authn = authn,
                         .config_path = path,
                         .defines = defines,
                         .n_defines = n_defines};
    char err[512];
    gw.first = gw_generation_new(config, table);
    gw.current = gw_generation_ref(gw.first);
    gw.loop = uv_default_loop();
    gw.worker = role != NULL;
    signal(SIGPIPE, SIG_IGN);
    srand((unsigned)time(NULL) ^ (unsigned)getpid());

    /* The port first: when it is taken nothing else has started, and exiting is clean. From the
     * listen on, clients (and tests) may take enoki for started: a SIGTERM then must drain it, not
     * kill it, so the loop's signals wait until its handlers are in (a worker's wait from its
     * fork). */
    if (!role)
        gw_workers_signals_hold();
    gw.listener = role ? gw_listener_adopt(gw.loop, role->listen_fd, role->port, on_accept, &gw)
                       : gw_listener_new(gw.loop, config->web_host, config->web_port, on_accept,
                                         &gw, err, sizeof(err));
    if (!gw.listener) {
        gw_error("main", "%s", err);
        uv_loop_close(gw.loop);
        gw_generation_unref(gw.current);
        gw_generation_unref(gw.first);
        gw_authn_free(gw.authn);
        gw_config_free(accepted);
        return EXIT_FAILURE;
    }
    gw.rpc = gw_rpc_new(gw.loop, config);
    gw.http = gw_http_new(gw.loop, gw.first, gw.rpc, err, sizeof(err));
    if (!gw.http)
        return start_failed(err, role);
    gw.hub = gw_hub_new(gw.loop, config, gw.rpc, err, sizeof(err));
    if (!gw.hub)
        return start_failed(err, role);
    if (role) {
        unsigned char *slot = role->shared;
        gw.metrics = gw_metrics_new_shared(slot, worker_slot_bytes(), role->workers, role->index);
        gw.http_metrics = gw_http_metrics_new_shared(
            gw.metrics, slot + http_part_offset(), worker_slot_bytes(), role->workers, role->index);
    } else {
        gw.metrics = gw_metrics_new();
        gw.http_metrics = gw_http_metrics_new(gw.metrics);
    }
    gw_rpc_set_metrics(gw.rpc, gw.metrics);
    gw_http_set_metrics(gw.http, gw.http_metrics);
    /* Counted whether the page is on or not: turning it on by SIGHUP shows numbers at once. */
    gw.status = gw_status_page_new(gw.rpc);
    gw_status_page_bind(gw.status, gw.first);
    gw_status_page_set_hub(gw.status, gw.hub);
    if (role)
        gw_status_page_share(
            gw.status, gw.loop,
            gw_status_share_new((unsigned char *)role->shared + status_part_offset(),
                                worker_slot_bytes(), role->workers, role->index),
            gw.http);
    gw_http_set_status_page(gw.http, gw.status);
    gw_hub_set_status_page(gw.hub, gw.status);
    gw_http_set_authn(gw.http, gw.authn);
    gw.limiter = gw_limiter_new(gw.first);
    gw_http_set_limiter(gw.http, gw.limiter);
    gw_hub_set_limiter(gw.hub, gw.limiter);
    gw_hub_set_metrics(gw.hub, gw.http_metrics);
    gw_hub_set_authn(gw.hub, gw.authn);
    if (gw.hub)
        gw_http_set_upgrade(gw.http, gw.first->config->websocket_path, gw_hub_head_max(gw.hub),
                            on_sniffed, &gw);
    gw.sniffing.metrics = gw.http_metrics;
    gw.sniffing.config = &gw.config;
    gw_rpc_start(gw.rpc);
    start_signals(&gw, role != NULL);
    gw_workers_signals_ready();
    uv_timer_init(gw.loop, &gw.drain_timer);
    gw.drain_timer.data = &gw;
    gw_info("main", "enoki %s listening on %s:%d, %zu route(s), exchange %s", GW_VERSION,
            config->web_host, gw_listener_port(gw.listener), config->n_routes,
            config->rpc_exchange);

    /* Access lines are written once per loop pass, before the loop waits. */
    uv_prepare_init(gw.loop, &gw.log_flusher);
    uv_prepare_start(&gw.log_flusher, on_log_flush);
    uv_unref((uv_handle_t *)&gw.log_flusher);
    gw_log_batch(1);
    if (accepted)
        apply_config(&gw, accepted);

    uv_run(gw.loop, UV_RUN_DEFAULT);
    gw_log_batch(0);
    gw_hub_free(gw.hub);
    gw_rpc_free(gw.rpc);
    gw_http_metrics_free(gw.http_metrics);
    gw_status_page_free(gw.status);
    gw_limiter_free(gw.limiter);
    gw_metrics_free(gw.metrics);
    gw_sniff_set_free(&gw.sniffing);
    gw_generation_unref(gw.current);
    gw_generation_unref(gw.first);
    gw_authn_free(gw.authn);
    uv_loop_close(gw.loop);
    gw_info("main", "stopped");
    return EXIT_SUCCESS;
}

/* --- workers (docs/workers.md) ------------------------------------------------------------------
 */

struct supervision {
    const char *path;
    const struct gw_define *defines;
    size_t n_defines;
    struct gw_workers *workers;
    /* The config the last accepted SIGHUP loaded (NULL: none yet). A replacement worker starts
     * from it, not from the file: the file may have changed since (an edit half written, or one
     * nobody has reloaded yet), and a worker serving other routes or auth than its siblings must
     * never happen. */
    struct gw_config *accepted;
    /* The key set the workers hold: read again at each accepted SIGHUP, as they read it, and kept
     * as they keep it when it does not load. A replacement starts from it, not from the keys of
     * the start: a key removed since must not come back in one worker. */
    struct gw_authn *authn;
};

static void worker_gone(void *arg, int index)
{
    const struct supervision *sup = arg;
    unsigned char *slot =
        (unsigned char *)gw_workers_shared(sup->workers) + (size_t)index * worker_slot_bytes();
    gw_metrics_clear_gauges(slot);
    gw_http_metrics_clear_gauges(slot + http_part_offset());
    gw_status_share_clear_gauges(slot + status_part_offset());
}

/* The supervisor's SIGHUP: the file is loaded and its routes compiled, as each worker will; kept
 * for the workers forked after it. */
static int check_config(void *arg)
{
    struct supervision *check = arg;
    char err[1024];
    struct gw_config *config = NULL;
    if (gw_config_load(check->path, check->defines, check->n_defines, &config, err, sizeof(err)) !=
        GW_OK) {
        gw_error("workers", "reload refused, the workers keep their config: %s", err);
        return -1;
    }
    struct gw_route_table *table = gw_route_setup_build(config);
    int workers = table ? config->workers : -1;
    gw_route_table_free(table);
    if (!table) {
        gw_error("workers", "reload refused, the workers keep their config: its routes do not "
                            "compile");
        gw_config_free(config);
        return -1;
    }
    gw_authn_reload(check->authn, &config->auth.jwt);
    gw_config_free(check->accepted);
    check->accepted = config;
    return workers;
}

/* GATEWAY.workers above 1: the supervisor forks the workers and returns once they have all stopped;
 * in a worker it runs enoki (and takes config, *table and *authn). */
static int supervise(struct gw_config **config, struct gw_route_table **table,
                     struct gw_authn **authn, const char *path, const struct gw_define *defines,
                     size_t n_defines)
{
    struct supervision sup = {path, defines, n_defines, NULL, NULL, *authn};
    struct gw_workers_conf conf = {.n = (*config)->workers,
                                   .host = (*config)->web_host,
                                   .port = (*config)->web_port,
                                   .slot_bytes = worker_slot_bytes(),
                                   .check_config = check_config,
                                   .worker_gone = worker_gone,
                                   .arg = &sup};
    char err[512];
    struct gw_workers *workers = sup.workers = gw_workers_new(&conf, err, sizeof(err));
    if (!workers) {
        gw_error("main", "%s", err);
        return EXIT_FAILURE;
    }
    struct gw_worker_role role;
    int status = EXIT_FAILURE;
    if (!gw_workers_supervise(workers, &role, &status)) {
        gw_workers_free(workers);
        gw_config_free(sup.accepted);
        return status;
    }
    gw_log_worker = role.index + 1;
    gw_random_after_fork();
    status = run(*config, *table, *authn, path, defines, n_defines, &role, sup.accepted);
    *config = NULL;
    *table = NULL;
    *authn = NULL;
    gw_workers_free(workers);
    return status;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"define", required_argument, NULL, 'D'},
        {"check", no_argument, NULL, 'k'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {"probe", required_argument, NULL, 'p'},
        {NULL, 0, NULL, 0},
    };
    const char *path = getenv("ENOKI_CONFIG");
    bool check_only = false;
    struct gw_define *defines = xcalloc((size_t)argc, sizeof(*defines));
    size_t n_defines = 0;
    int status = EXIT_CONFIG;
    struct gw_config *config = NULL;
    struct gw_route_table *table = NULL;
    struct gw_authn *authn = NULL;
    int opt;
    while ((opt = getopt_long(argc, argv, "c:D:h", options, NULL)) != -1) {
        switch (opt) {
        case 'c':
            path = optarg;
            break;
        case 'D': {
            /* As nameko's --define: the key stripped of blanks, and a KEY alone is true. */
            char *eq = strchr(optarg, '=');
            if (eq)
                *eq = '\0';
            char *key = optarg + strspn(optarg, " \t\n\r\f\v");
            for (size_t n = strlen(key); n > 0 && strchr(" \t\n\r\f\v", key[n - 1]); n--)
                key[n - 1] = '\0';
            if (!*key) {
                if (eq)
                    *eq = '=';
                fprintf(stderr, "enoki: --define %s: expected KEY=VALUE or KEY\n", optarg);
                goto out;
            }
            defines[n_defines].key = key;
            defines[n_defines].value = eq ? eq + 1 : "true";
            n_defines++;
            break;
        }
        case 'k':
            check_only = true;
            break;
        case 'p':
            status = gw_probe_url(optarg);
            goto out;
        case 'V':
            printf("enoki %s\n", GW_VERSION);
            status = EXIT_SUCCESS;
            goto out;
        case 'h':
            usage(stdout);
            status = EXIT_SUCCESS;
            goto out;
        default:
            usage(stderr);
            goto out;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "enoki: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        goto out;
    }
    if (!path || !*path) {
        fprintf(stderr, "enoki: no config file: give --config FILE or set ENOKI_CONFIG\n");
        goto out;
    }
    char err[1024];
    if (gw_config_load(path, defines, n_defines, &config, err, sizeof(err)) != GW_OK) {
        fprintf(stderr, "enoki: %s\n", err);
        goto out;
    }
    gw_log_threshold = config->log_level;
    gw_log_format = config->log_format;
    table = gw_route_setup_build(config);
    if (!table)
        goto out;
    for (size_t i = 0; i < config->n_amqp_nodes; i++)
        if (config->amqp_nodes[i].tls && config->amqp_tls.cert_reqs == GW_CERT_NONE) {
            gw_warn("main", "AMQP_SSL.cert_reqs is CERT_NONE: the broker's certificate is not "
                            "verified, anyone on the path can pose as the broker");
            break;
        }
    /* The key file is part of the config: one that does not load stops enoki here. */
    authn = gw_authn_new(&config->auth.jwt, err, sizeof(err));
    if (!authn) {
        fprintf(stderr, "enoki: %s: GATEWAY.auth.jwt.jwks_file: %s\n", config->path, err);
        goto out;
    }
    if (check_only) {
        gw_route_setup_print(config, table, stdout);
        status = EXIT_SUCCESS;
        goto out;
    }
    if (config->workers > 1) {
        status = supervise(&config, &table, &authn, path, defines, n_defines);
        goto out;
    }
    status = run(config, table, authn, path, defines, n_defines, NULL, NULL);
    config = NULL; /* run has taken them */
    table = NULL;
    authn = NULL;
out:
    gw_authn_free(authn);
    gw_route_table_free(table);
    gw_config_free(config);
    free(defines);
    return status;
}
