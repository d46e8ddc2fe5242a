/* hub.c - the libwebsockets adapter: the lws context on the libuv loop, the upgrade's admission
 * and adoption, each socket's handshake, open and close, and keepalive. A socket's frames are
 * gateway/hub_frames.c's, its identity gateway/hub_auth.c's. */
#include "hub_int.h"

#include "core/log.h"
#include "core/status.h"
#include "core/xalloc.h"
#include "gateway/http_metrics.h"
#include "gateway/limiter.h"
#include "gateway/lws_alloc.h"
#include "routes/ws.h"
#include "routes/ws_admit.h"
#include "routes/ws_token.h"

#include <libwebsockets.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

/* The keepalive check runs this many times per websocket_ping interval, so that a ping is never
 * much later than due. */
enum { KEEPALIVE_CHECKS = 4 };

/* Seconds lws gives a handshake or a closing socket (its own timeouts). */
enum { LWS_TIMEOUT_S = 20 };

/* Each socket's receive buffer in lws (its default, 4 KiB, was most of an idle socket's memory):
 * a bigger message comes in pieces, which the hub puts together (gateway/hub_frames.c). It holds a
 * control frame's payload whole: at least 125 bytes (RFC 6455 5.5). */
enum { RX_BUFFER_SIZE = 512 };

/* What lws hands the kernel in one send. Without it lws sends at most the rx buffer's size (and a
 * few bytes) at a time and keeps a copy of the rest, one piece per writeable round: a 4 KiB answer
 * took eight. The kernel takes what it can; lws keeps only what it did not take. */
enum { TX_PACKET_SIZE = 1 << 24 };

/* lws keeps a head's header values in a buffer of its own size (4 KiB by default) and closes
 * without an answer when they do not fit: it gets room for every head the sniffer passes
 * (GATEWAY.max_header, at most half its bound), and its service buffer takes the head enoki read.
 */
enum { LWS_HEADER_DATA_MAX = 65535 /* lws keeps the size in an unsigned short */ };

/* --- the lws protocol ----------------------------------------------------------------------------
 */

static void copy_header(struct lws *wsi, enum lws_token_indexes token, json_t *context,
                        const char *key)
{
    int n = lws_hdr_total_length(wsi, token);
    if (n <= 0)
        return;
    char *value = xmalloc((size_t)n + 1);
    if (lws_hdr_copy(wsi, value, n + 1, token) >= 0) {
        json_t *s = json_string(value);
        if (s)
            json_object_set_new(context, key, s);
    }
    free(value);
}

static json_t *handshake_context(struct client *c)
{
    json_t *context = json_object();
    copy_header(c->wsi, WSI_TOKEN_HTTP_AUTHORIZATION, context, "auth_token");
    copy_header(c->wsi, WSI_TOKEN_HTTP_ACCEPT_LANGUAGE, context, "language");
    copy_header(c->wsi, WSI_TOKEN_HTTP_USER_AGENT, context, "user_agent");
    const struct gw_config *config = gw_hub_policy(c->hub);
    for (size_t i = 0; i < config->n_context_headers; i++) {
        /* lws keeps custom header names lower-case, with their colon. */
        char *name = xasprintf("%s:", config->context_headers[i].header);
        for (char *p = name; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        int nlen = (int)strlen(name);
        int n = lws_hdr_custom_length(c->wsi, name, nlen);
        if (n > 0) {
            char *value = xmalloc((size_t)n + 1);
            if (lws_hdr_custom_copy(c->wsi, value, n + 1, name, nlen) >= 0) {
                json_t *s = json_string(value);
                if (s)
                    json_object_set_new(context, config->context_headers[i].key, s);
            }
            free(value);
        }
        free(name);
    }
    json_object_set_new(context, "socket_id", json_string(c->socket_id));
    json_object_set_new(context, "gateway", json_string(config->name));
    return context;
}

/* A handshake header's value (new), whether lws knows its name as a token or keeps it as a custom
 * header; NULL when absent. */
static char *handshake_header(struct lws *wsi, const char *name)
{
    char lower[128];
    size_t n = strlen(name);
    if (n + 2 > sizeof(lower))
        return NULL;
    for (size_t i = 0; i < n; i++)
        lower[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i]);
    lower[n] = ':';
    lower[n + 1] = '\0';
    char *value = NULL;
    for (int t = 0; t < WSI_TOKEN_COUNT; t++) {
        const unsigned char *known = lws_token_to_string((enum lws_token_indexes)t);
        if (!known || strcmp((const char *)known, lower) != 0)
            continue;
        int len = lws_hdr_total_length(wsi, (enum lws_token_indexes)t);
        if (len > 0) {
            value = xmalloc((size_t)len + 1);
            if (lws_hdr_copy(wsi, value, len + 1, (enum lws_token_indexes)t) < 0) {
                free(value);
                value = NULL;
            }
        }
        return value;
    }
    int len = lws_hdr_custom_length(wsi, lower, (int)n + 1);
    if (len > 0) {
        value = xmalloc((size_t)len + 1);
        if (lws_hdr_custom_copy(wsi, value, len + 1, lower, (int)n + 1) < 0) {
            free(value);
            value = NULL;
        }
    }
    return value;
}

/* The socket's rate-limit keys, under the limits in force when it opens (docs/rate_limits.md). */
static void capture_limit_keys(struct client *c)
{
    if (!c->hub->limiter)
        return;
    const struct gw_config *config = gw_limiter_current(c->hub->limiter)->config;
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);
    const struct sockaddr *peer = NULL;
    if (getpeername(c->fd, (struct sockaddr *)&ss, &sslen) == 0)
        peer = (const struct sockaddr *)&ss;
    char *xff = config->trusted_proxies.n > 0 ? handshake_header(c->wsi, "X-Forwarded-For") : NULL;
    const char *fields[] = {xff};
    struct gw_limit_subject s = {0};
    gw_limit_subject_address(&s, peer, fields, xff ? 1 : 0, &config->trusted_proxies);
    memcpy(c->limit_ip, s.ip_key, sizeof(c->limit_ip));
    free(xff);
    for (size_t i = 0; i < config->rate_limits.n; i++) {
        const struct gw_rate_limit_conf *l = &config->rate_limits.items[i];
        if (l->kind != GW_RATE_KEY_HEADER)
            continue;
        char *value = handshake_header(c->wsi, l->key_name);
        if (!value)
            continue;
        if (!c->limit_headers)
            c->limit_headers = json_object();
        char lower[128];
        snprintf(lower, sizeof(lower), "%s", l->key_name);
        for (char *p = lower; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        json_t *s_value = json_string(value);
        if (s_value)
            json_object_set_new(c->limit_headers, lower, s_value);
        free(value);
    }
}

/* Returns -1 when the socket may not open (its token: gateway/hub_auth.c); lws then closes it. The
 * record comes from the hub's pool; slot, lws's per-session data, points to it while it is open. */
static int on_established(struct gw_hub *hub, struct client **slot, struct lws *wsi)
{
    struct client *c = gw_pool_get(hub->client_pool);
    c->hub = hub;
    c->wsi = wsi;
    c->fd = lws_get_socket_fd(wsi);
    gw_uuid4(c->socket_id);
    c->context = handshake_context(c);
    if (!gw_hub_identify(c)) {
        json_decref(c->context);
        gw_hub_forget(c);
        gw_pool_put(hub->client_pool, c);
        return -1;
    }
    *slot = c; /* from here on callbacks see it: an open socket */
    capture_limit_keys(c);
    gw_hub_deflate_bound(c);
    c->last_seen = uv_now(hub->loop);
    c->checked_round = hub->recheck_round; /* decided just now, under the current policy */
    c->next = hub->clients;
    if (hub->clients)
        hub->clients->prev = c;
    hub->clients = c;
    hub->n_clients++;
    if (hub->metrics)
        gw_metrics_add_websockets(hub->metrics, 1);
    c->sock = gw_hub_socket_open(hub->service, c->socket_id, c);
    gw_info("hub", "socket %s connected (%zu open)", c->socket_id, hub->n_clients);
    return 0;
}

static void on_closed(struct gw_hub *hub, struct client **slot)
{
    struct client *c = *slot;
    if (c->call) {
        gw_rpc_cancel(c->call);
        c->call = NULL;
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        hub->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    hub->n_clients--;
    if (hub->metrics)
        gw_metrics_add_websockets(hub->metrics, -1);
    gw_hub_drop_frames(c);
    gw_hub_socket_close(c->sock);
    c->sock = NULL;
    json_decref(c->subscribe_correlation_id);
    free(c->rx.data);
    json_decref(c->context);
    json_decref(c->call_correlation_id);
    free(c->call_target);
    c->call_target = NULL;
    json_decref(c->limit_headers);
    c->limit_headers = NULL;
    gw_hub_forget(c);
    gw_info("hub", "socket %s closed (%zu open)", c->socket_id, hub->n_clients);
    *slot = NULL;
    gw_pool_put(hub->client_pool, c);
}

static int hub_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                        size_t len)
{
    struct gw_hub *hub = lws_context_user(lws_get_context(wsi));
    struct client *c = gw_hub_client_of(user);
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
        return on_established(hub, user, wsi);
    case LWS_CALLBACK_TIMER:
        if (c)
            return gw_hub_on_timer(c);
        break;
    case LWS_CALLBACK_RECEIVE:
        if (!c)
            break;
        gw_hub_receive(c, in, len);
        /* A compressed message inflates in pieces; lws 4.1.6's libuv glue services the next piece
         * only when something else wakes it (its idle handler stops after one), so wake it. */
        if (!c->close_code && !lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0)
            gw_hub_wake(hub);
        break;
    case LWS_CALLBACK_RECEIVE_PONG:
        if (c) {
            c->last_seen = uv_now(hub->loop);
            c->ping_sent = 0;
        }
        break;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        if (c)
            return gw_hub_writeable(c);
        break;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        /* lws 4.1.6 echoes a close whose code no peer may send (5000) or whose reason is not
         * text, and a 1-byte one as it came: such a close fails the connection (RFC 6455 7.1.7). */
        if (!gw_ws_close_payload_ok(in, len)) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_PROTOCOL_ERR, NULL, 0);
            return -1;
        }
        /* fall through */
    case LWS_CALLBACK_WS_SERVER_DROP_PROTOCOL:
        if (c)
            c->closing = true;
        break;
    case LWS_CALLBACK_CLOSED:
        if (c)
            on_closed(hub, user);
        break;
    default:
        break;
    }
    return 0;
}

static void lws_log(int level, const char *line)
{
    /* lws may name an upgrade's target, whose query may carry its token. */
    char text[512];
    gw_ws_redact(line, text, sizeof(text));
    text[strcspn(text, "\n")] = '\0';
    /* lws 4.1 logs every adoption of a socket whose upgrade enoki has already read as an error
     * ("adopt_socket_readbuf: calling service"): it is the normal path of every websocket here. */
    if ((level & LLL_ERR) && !strstr(text, "adopt_socket_readbuf: calling service"))
        gw_warn("lws", "%s", text);
    else
        gw_debug("lws", "%s", text);
}

/* A socket idle for websocket_ping seconds is pinged; one that has not answered a ping within
 * another websocket_ping seconds is gone (a half-open TCP connection, a frozen tab): hang up. */
static void on_keepalive(uv_timer_t *timer)
{
    struct gw_hub *hub = timer->data;
    uint64_t now = uv_now(timer->loop);
    uint64_t interval = (uint64_t)hub->config->websocket_ping * 1000;
    for (struct client *c = hub->clients; c; c = c->next) {
        if (c->ping_sent && now - c->ping_sent >= interval) {
            gw_info("hub", "socket %s stopped answering pings: hanging up", c->socket_id);
            gw_metrics_connection_killed(hub->metrics, GW_KILL_WEBSOCKET_TIMEOUT);
            /* No closing handshake with a peer that does not answer: drop it now. */
            lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
            gw_hub_wake(hub);
        } else if (!c->ping_sent && now - c->last_seen >= interval) {
            c->ping_sent = now;
            c->ping_due = true;
            lws_callback_on_writable(c->wsi);
        }
    }
}

void gw_hub_wake(struct gw_hub *hub)
{
    if (hub->context)
        lws_cancel_service(hub->context);
}

/* Each socket is a descriptor: the soft RLIMIT_NOFILE (often 1024) would refuse sockets long
 * before websocket_max_sockets. Raised up to the hard limit, as far as the configured sockets and
 * HTTP connections need; a hard limit below websocket_max_sockets is logged, not fatal. */
static void raise_nofile(const struct gw_config *config)
{
    enum { SPARE = 256 }; /* the broker, listeners, files, lws's own */
    rlim_t need = (rlim_t)config->websocket_max_sockets + (rlim_t)config->max_connections + SPARE;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
        return;
    rlim_t old = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need ? rl.rlim_max : need;
    if (rl.rlim_cur > old && setrlimit(RLIMIT_NOFILE, &rl) == 0)
        gw_info("hub", "open files limit raised from %llu to %llu", (unsigned long long)old,
                (unsigned long long)rl.rlim_cur);
    if (rl.rlim_cur < (rlim_t)config->websocket_max_sockets + SPARE)
        gw_warn("hub",
                "the open files hard limit (%llu) is below websocket_max_sockets (%d): raise it "
                "(ulimit -Hn, LimitNOFILE=)",
                (unsigned long long)rl.rlim_max, config->websocket_max_sockets);
}

/* --- the public face -------------------------------------------------------------------------- */

struct gw_hub *gw_hub_new(uv_loop_t *loop, const struct gw_config *config, struct gw_rpc *rpc,
                          char *err, size_t errlen)
{
    raise_nofile(config);
    struct gw_hub *hub = xcalloc(1, sizeof(*hub));
    hub->loop = loop;
    hub->config = config;
    hub->rpc = rpc;
    hub->client_pool = gw_pool_new(sizeof(struct client));
    gw_lws_alloc_install(); /* before the context: every wsi from the pool */
    /* lws warns about every pre-read adoption; only its errors matter here. */
    lws_set_log_level(LLL_ERR, lws_log);
    hub->protocols[0] = (struct lws_protocols){
        .name = "nameko-hub",
        .callback = hub_callback,
        .per_session_data_size = sizeof(struct client *),
        .rx_buffer_size = RX_BUFFER_SIZE,
        .tx_packet_size = TX_PACKET_SIZE,
    };
    void *loops[] = {loop};
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
    info.protocols = hub->protocols;
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN;
    info.foreign_loops = loops;
    info.user = hub;
    info.retry_and_idle_policy = NULL; /* keepalive is the hub's own (on_keepalive) */
    info.timeout_secs = LWS_TIMEOUT_S;
    /* lws keeps more than the wire's bytes per header (an unknown name costs a few more): it gets
     * twice the head the sniffer lets through. */
    int head_max =
        config->max_header < LWS_HEADER_DATA_MAX / 2 ? config->max_header : LWS_HEADER_DATA_MAX / 2;
    info.max_http_header_data = (unsigned short)(2 * head_max);
    info.pt_serv_buf_size = (unsigned int)head_max + 4096;
    hub->head_max = (size_t)head_max;
    /* RFC 7692, when the client offers it (gateway/hub_deflate.c). */
    if (config->websocket_deflate)
        info.extensions = gw_hub_extensions;
    hub->context = lws_create_context(&info);
    if (!hub->context) {
        snprintf(err, errlen, "cannot start libwebsockets (is libwebsockets-evlib-uv installed?)");
        gw_pool_free(hub->client_pool);
        free(hub);
        return NULL;
    }
    hub->vhost = lws_get_vhost_by_name(hub->context, "default");
    struct gw_hub_socket_ops ops = {
        .deliver = gw_hub_deliver,
        .ready = gw_hub_on_ready,
        .subscribed = gw_hub_on_subscribed,
        .arg = hub,
    };
    hub->service = gw_hub_service_new(gw_rpc_broker(rpc), config, &ops);
    uv_timer_init(loop, &hub->keepalive);
    hub->keepalive.data = hub;
    if (config->websocket_ping > 0) {
        uint64_t tick = (uint64_t)config->websocket_ping * 1000 / KEEPALIVE_CHECKS;
        uv_timer_start(&hub->keepalive, on_keepalive, tick ? tick : 1, tick ? tick : 1);
    }
    hub->handles_open = true;
    uv_check_init(loop, &hub->send_check);
    uv_idle_init(loop, &hub->send_idle);
    uv_idle_init(loop, &hub->recheck);
    hub->send_check.data = hub->send_idle.data = hub->recheck.data = hub;
    uv_unref((uv_handle_t *)&hub->send_check);
    uv_unref((uv_handle_t *)&hub->send_idle);
    uv_unref((uv_handle_t *)&hub->recheck);
    return hub;
}

size_t gw_hub_head_max(const struct gw_hub *hub)
{
    return hub->head_max;
}

int gw_hub_admit(const struct gw_hub *hub, const char *origin, const char *host)
{
    return gw_ws_admit(hub->config, hub->stopping, hub->n_clients, origin, host);
}

void gw_hub_adopt(struct gw_hub *hub, int fd, size_t head_len)
{
    /* A message goes out as soon as it is written: lws sends a frame's head and the end of a big
     * payload in separate writes, and with Nagle the second waited for the client's delayed ACK
     * (40 ms on Linux). */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    char *head = head_len > 0 ? xmalloc(head_len + GW_WS_SETTLE_SLACK) : NULL;
    if (head && recv(fd, head, head_len, 0) == (ssize_t)head_len) {
        size_t len = gw_ws_drop_subprotocols(head, head_len);
        if (hub->config->websocket_deflate)
            len = gw_ws_settle_extensions(head, len, head_len + GW_WS_SETTLE_SLACK);
        if (!lws_adopt_socket_vhost_readbuf(hub->vhost, fd, head, len))
            gw_warn("hub", "libwebsockets refused a connection");
        free(head);
        return;
    }
    free(head);
    lws_sock_file_fd_type desc;
    desc.sockfd = fd;
    if (!lws_adopt_descriptor_vhost(hub->vhost, LWS_ADOPT_SOCKET | LWS_ADOPT_HTTP, desc, NULL,
                                    NULL))
        gw_warn("hub", "libwebsockets refused a connection");
}

void gw_hub_set_metrics(struct gw_hub *hub, struct gw_http_metrics *metrics)
{
    hub->metrics = metrics;
}

void gw_hub_set_limiter(struct gw_hub *hub, struct gw_limiter *limiter)
{
    hub->limiter = limiter;
}

void gw_hub_set_status_page(struct gw_hub *hub, struct gw_status_page *status)
{
    hub->status = status;
    gw_hub_service_set_status_page(hub->service, status);
}

size_t gw_hub_sockets(const struct gw_hub *hub)
{
    return hub->n_clients;
}

void gw_hub_close_sockets(struct gw_hub *hub)
{
    if (!hub)
        return;
    hub->stopping = true;
    for (struct client *c = hub->clients; c; c = c->next)
        gw_hub_close_with(c, LWS_CLOSE_STATUS_GOINGAWAY, NULL);
}

static void on_handle_closed(uv_handle_t *handle)
{
    (void)handle; /* the hub is freed after the loop ends */
}

void gw_hub_close(struct gw_hub *hub)
{
    if (!hub || !hub->context)
        return;
    if (hub->handles_open) {
        uv_timer_stop(&hub->keepalive);
        uv_close((uv_handle_t *)&hub->keepalive, on_handle_closed);
        uv_close((uv_handle_t *)&hub->send_check, on_handle_closed);
        uv_close((uv_handle_t *)&hub->send_idle, on_handle_closed);
        uv_close((uv_handle_t *)&hub->recheck, on_handle_closed);
        hub->handles_open = false;
    }
    /* With a foreign loop, lws closes its libuv handles on the loop and finishes when destroyed
     * again after the loop has run (gw_hub_free). */
    hub->destroying = hub->context;
    lws_context_destroy(hub->context);
    hub->context = NULL;
}

/* About this long of a loop pass goes to deciding on sockets again: 10,000 sockets with tokens of
 * their own take about half a second to verify (docs/auth.md), which would hold every other socket
 * and request that long. A socket's frames wait for its own turn (gw_hub_process), so a key just
 * removed lets no call in meanwhile. */
enum { RECHECK_SLICE_NS = 5 * 1000 * 1000 };

static void on_recheck(uv_idle_t *idle)
{
    struct gw_hub *hub = idle->data;
    uint64_t until = uv_hrtime() + RECHECK_SLICE_NS;
    for (struct client *c = hub->clients; c; c = c->next)
        if (gw_hub_recheck(c) && uv_hrtime() >= until)
            return; /* the rest at the next pass */
    uv_idle_stop(idle);
}

void gw_hub_reload(struct gw_hub *hub, struct gw_generation *gen)
{
    if (!hub)
        return;
    struct gw_generation *old = hub->current;
    hub->current = gw_generation_ref(gen);
    gw_generation_unref(old);
    /* The keys were read again before (gateway/main.c): a socket is let in on the same terms as a
     * new one, or closed; a socket that opens meanwhile is decided under the new terms. */
    hub->recheck_round++;
    if (hub->handles_open)
        uv_idle_start(&hub->recheck, on_recheck);
}

void gw_hub_free(struct gw_hub *hub)
{
    if (!hub)
        return;
    if (hub->context)
        lws_context_destroy(hub->context);
    else if (hub->destroying)
        lws_context_destroy(hub->destroying);
    gw_hub_service_free(hub->service);
    gw_pool_free(hub->client_pool); /* after lws's last CLOSED: every record is back */
    gw_lws_alloc_release();
    gw_generation_unref(hub->current);
    free(hub->to_send);
    free(hub);
}
