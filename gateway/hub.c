#include "hub.h"

#include "core/hub_service.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/status.h"
#include "core/strbuf.h"
#include "core/wire.h"
#include "core/xalloc.h"
#include "routes/hub_args.h"
#include "routes/ws.h"
#include "routes/ws_admit.h"

#include <libwebsockets.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Frames received and not yet answered one socket may hold; beyond, it is closed (1008). */
enum { MAX_PENDING_FRAMES = 64 };

/* The keepalive check runs this many times per websocket_ping interval, so that a ping is never
 * much later than due. */
enum { KEEPALIVE_CHECKS = 4 };

/* Seconds lws gives a handshake or a closing socket (its own timeouts). */
enum { LWS_TIMEOUT_S = 20 };

/* lws takes at most its rx buffer of pre-read data: a longer upgrade head is left unread. */
enum { ADOPT_HEAD_MAX = 2048 };

/* A ping carries a payload: lws reports the pong of an empty ping to nobody. */
static const char ping_payload[] = "enoki";

struct out_msg {
    struct out_msg *next;
    size_t len;
    unsigned char buf[]; /* LWS_PRE bytes for lws, then the frame */
};

struct in_msg {
    struct in_msg *next;
    size_t len;
    char text[];
};

/* One socket; lives in lws's per-session memory, from ESTABLISHED to CLOSED. */
struct client {
    struct gw_hub *hub;
    struct lws *wsi;
    struct client *prev, *next;
    char socket_id[GW_UUID_LEN + 1];
    json_t *context;     /* handshake context data */
    struct gw_strbuf rx; /* the message being received */
    struct in_msg *in_head, *in_tail;
    size_t in_count;
    struct out_msg *out_head, *out_tail;
    size_t out_bytes;
    struct gw_rpc_call *call; /* the call in flight, one at a time */
    json_t *call_correlation_id;
    char call_target[256];
    struct gw_hub_socket *sock;       /* the hub service's record of it: subscriptions, bindings */
    json_t *subscribe_correlation_id; /* of the subscribe waiting for its channel's binding */
    int close_code;                   /* set: close with it at the next writeable */
    bool established;
    /* libwebsockets is closing it (a protocol error, or the peer's close): nothing more may be
     * written, or a data frame would follow the close frame (RFC 6455 5.5.1). */
    bool closing;
    bool processing;    /* process_next is on the stack: a nested call leaves the work to it */
    uint64_t last_seen; /* loop time of the last frame or pong from the client */
    uint64_t ping_sent; /* loop time of an unanswered ping, 0 when none */
    bool ping_due;      /* send a ping at the next writeable */
};

struct gw_hub {
    uv_loop_t *loop;
    const struct gw_config *config;
    struct gw_rpc *rpc;
    struct gw_hub_service *service; /* the broker side: subscriptions, the hub's methods */
    struct lws_context *context;
    struct lws_vhost *vhost;
    struct lws_protocols protocols[2];
    struct client *clients;
    size_t n_clients;
    bool stopping;
    struct lws_context *destroying;
    struct gw_metrics *metrics; /* destroyed once more after the loop ends (foreign loop) */
    uv_timer_t keepalive;       /* pings idle sockets, hangs up on those that stopped answering */
    bool keepalive_on;
};

static void process_next(struct client *c);

/* --- sending ---------------------------------------------------------------------------------- */

static void close_with(struct client *c, int code)
{
    if (!c->close_code)
        c->close_code = code;
    lws_callback_on_writable(c->wsi);
}

/* Queues a frame (copied) for the socket; a reader too far behind is closed with 1008. */
static void send_copy(struct client *c, const char *text, size_t len)
{
    if (c->close_code)
        return;
    if (c->out_bytes + len > (size_t)c->hub->config->websocket_send_queue) {
        gw_warn("hub", "socket %s reads too slowly: closing it", c->socket_id);
        close_with(c, LWS_CLOSE_STATUS_POLICY_VIOLATION);
        return;
    }
    struct out_msg *m = xmalloc(sizeof(*m) + LWS_PRE + len);
    m->next = NULL;
    m->len = len;
    memcpy(m->buf + LWS_PRE, text, len);
    if (c->out_tail)
        c->out_tail->next = m;
    else
        c->out_head = m;
    c->out_tail = m;
    c->out_bytes += len;
    lws_callback_on_writable(c->wsi);
}

static void send_take(struct client *c, char *text, size_t len)
{
    send_copy(c, text, len);
    free(text);
}

static void send_error_take(struct client *c, json_t *error, const json_t *correlation_id)
{
    size_t len;
    char *text = gw_ws_error_frame(error, correlation_id, &len);
    json_decref(error);
    send_take(c, text, len);
}

static void send_result(struct client *c, const json_t *data, const json_t *correlation_id)
{
    size_t len;
    char *text = gw_ws_result_frame(data, correlation_id, &len);
    send_take(c, text, len);
}

/* --- what the hub service asks of the sockets ----------------------------------------------- */

static void deliver(void *arg, void *const *sockets, size_t n, const char *event,
                    const json_t *data, const char *channel)
{
    (void)arg;
    size_t len;
    char *frame = gw_ws_event_frame(event, data, channel, &len);
    for (size_t i = 0; i < n; i++)
        send_copy(sockets[i], frame, len);
    free(frame);
}

/* The socket is reachable from every instance (or the broker is away): tell the client its id. */
static void on_ready(void *socket)
{
    struct client *c = socket;
    json_t *data = json_pack("{s:s}", "socket_id", c->socket_id);
    size_t len;
    char *frame = gw_ws_event_frame("connected", data, NULL, &len);
    json_decref(data);
    send_take(c, frame, len);
    if (c->sock) /* not while it is being opened: no frame has come yet */
        process_next(c);
}

static void on_subscribed(void *socket, const json_t *subscriptions, json_t *error)
{
    struct client *c = socket;
    json_t *correlation_id = c->subscribe_correlation_id;
    c->subscribe_correlation_id = NULL;
    if (error)
        send_error_take(c, error, correlation_id);
    else
        send_result(c, subscriptions, correlation_id);
    json_decref(correlation_id);
    process_next(c);
}

/* --- the hub's own methods -------------------------------------------------------------------- */

/* Answers a hub method; returns false when method is not one of them. */
static bool hub_method(struct client *c, const struct gw_ws_request *r)
{
    const char *channel;
    json_t *error;
    enum gw_hub_method method = gw_hub_args_frame(r->method, r->data, &channel, &error);
    if (method == GW_HUB_NONE)
        return false;
    if (error) {
        send_error_take(c, error, r->correlation_id);
        return true;
    }
    if (method == GW_HUB_SUBSCRIBE) {
        /* For an event channel the answer waits until the binding is in place, so that no event
         * dispatched after the answer can be missed (on_subscribed). */
        c->subscribe_correlation_id = json_incref(r->correlation_id);
        if (!gw_hub_socket_subscribe(c->sock, channel))
            return true;
        json_decref(c->subscribe_correlation_id);
        c->subscribe_correlation_id = NULL;
    }
    if (method == GW_HUB_UNSUBSCRIBE)
        gw_hub_socket_unsubscribe(c->sock, channel);
    json_t *list = gw_hub_socket_subscriptions(c->sock);
    send_result(c, list, r->correlation_id);
    json_decref(list);
    return true;
}

/* --- calls to the cluster ------------------------------------------------------------------------
 */

static void on_call_done(void *arg, int status, const json_t *result, const json_t *error,
                         const char *detail)
{
    struct client *c = arg;
    c->call = NULL;
    if (status == GW_OK)
        send_result(c, result, c->call_correlation_id);
    else if (status == GW_EREMOTE)
        send_error_take(c, json_incref((json_t *)(uintptr_t)error), c->call_correlation_id);
    else
        send_error_take(
            c, gw_ws_call_failure(status, detail, c->call_target, c->hub->config->rpc_timeout),
            c->call_correlation_id);
    json_decref(c->call_correlation_id);
    c->call_correlation_id = NULL;
    process_next(c);
}

/* "service.method" through GATEWAY.expose. Returns false when the target may not be called. */
static bool start_call(struct client *c, const struct gw_ws_request *r)
{
    const struct gw_config *config = c->hub->config;
    char *service;
    const char *method;
    if (gw_ws_call_target(config, r->method, &service, &method) != GW_OK)
        return false;
    snprintf(c->call_target, sizeof(c->call_target), "%s", r->method);
    if (!json_is_object(r->data)) {
        send_error_take(c, gw_hub_args_not_a_mapping(r->data), r->correlation_id);
        free(service);
        return true;
    }
    char id[GW_UUID_LEN + 1];
    gw_uuid4(id);
    json_t *context = gw_ws_call_context(c->context, config->name, id);
    struct gw_rpc_request call = {
        .service = service,
        .method = method,
        .args = NULL,
        .kwargs = r->data,
        .context = context,
        .timeout_s = config->rpc_timeout,
    };
    c->call_correlation_id = json_incref(r->correlation_id);
    int status = gw_rpc_call(c->hub->rpc, &call, on_call_done, c, &c->call);
    if (status != GW_OK) {
        send_error_take(
            c, gw_ws_call_failure(status, "not connected", c->call_target, config->rpc_timeout),
            r->correlation_id);
        json_decref(c->call_correlation_id);
        c->call_correlation_id = NULL;
        c->call = NULL;
    }
    json_decref(context);
    free(service);
    return true;
}

/* Handles queued frames in order, one at a time: a call in flight holds back the ones after it. */
static void process_next(struct client *c)
{
    if (c->processing)
        return;
    c->processing = true;
    while (!c->call && !(c->sock && gw_hub_socket_busy(c->sock)) && c->in_head && !c->close_code) {
        struct in_msg *m = c->in_head;
        c->in_head = m->next;
        if (!c->in_head)
            c->in_tail = NULL;
        c->in_count--;
        struct gw_ws_request r;
        if (gw_ws_parse(m->text, m->len, &r) != GW_OK) {
            /* nameko answers unparsable frames with a null correlation_id, always. */
            send_error_take(c, gw_ws_malformed_error(), NULL);
        } else {
            if (!hub_method(c, &r) && !start_call(c, &r))
                send_error_take(c, gw_ws_method_not_found(), r.correlation_id);
            gw_ws_request_clear(&r);
        }
        free(m);
    }
    c->processing = false;
}

/* Returns -1 when the socket must close now (lws then sends the close frame). */
static int receive(struct client *c, const void *in, size_t len)
{
    size_t max = (size_t)c->hub->config->websocket_max_frame;
    c->last_seen = uv_now(c->hub->loop);
    /* A frame that announces more than the limit is refused before its payload arrives. */
    if (c->rx.len + len + lws_remaining_packet_payload(c->wsi) > max) {
        lws_close_reason(c->wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, NULL, 0);
        return -1;
    }
    gw_strbuf_add(&c->rx, in, len);
    if (!lws_is_final_fragment(c->wsi) || lws_remaining_packet_payload(c->wsi) > 0)
        return 0;
    if (c->in_count >= MAX_PENDING_FRAMES) {
        gw_warn("hub", "socket %s sends faster than it is answered: closing it", c->socket_id);
        lws_close_reason(c->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, NULL, 0);
        return -1;
    }
    struct in_msg *m = xmalloc(sizeof(*m) + c->rx.len + 1);
    m->next = NULL;
    m->len = c->rx.len;
    memcpy(m->text, c->rx.data ? c->rx.data : "", c->rx.len);
    m->text[c->rx.len] = '\0';
    c->rx.len = 0;
    if (c->in_tail)
        c->in_tail->next = m;
    else
        c->in_head = m;
    c->in_tail = m;
    c->in_count++;
    process_next(c);
    return 0;
}

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
    const struct gw_config *config = c->hub->config;
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

static void on_established(struct gw_hub *hub, struct client *c, struct lws *wsi)
{
    memset(c, 0, sizeof(*c));
    c->hub = hub;
    c->wsi = wsi;
    c->established = true;
    gw_uuid4(c->socket_id);
    c->context = handshake_context(c);
    c->last_seen = uv_now(hub->loop);
    c->next = hub->clients;
    if (hub->clients)
        hub->clients->prev = c;
    hub->clients = c;
    hub->n_clients++;
    if (hub->metrics)
        gw_metrics_add_websockets(hub->metrics, 1);
    c->sock = gw_hub_socket_open(hub->service, c->socket_id, c);
    gw_info("hub", "socket %s connected (%zu open)", c->socket_id, hub->n_clients);
}

static void on_closed(struct gw_hub *hub, struct client *c)
{
    if (!c->established)
        return;
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
    for (struct out_msg *m = c->out_head, *next; m; m = next) {
        next = m->next;
        free(m);
    }
    for (struct in_msg *m = c->in_head, *next; m; m = next) {
        next = m->next;
        free(m);
    }
    gw_hub_socket_close(c->sock);
    c->sock = NULL;
    json_decref(c->subscribe_correlation_id);
    free(c->rx.data);
    json_decref(c->context);
    json_decref(c->call_correlation_id);
    c->established = false;
    gw_info("hub", "socket %s closed (%zu open)", c->socket_id, hub->n_clients);
}

static int on_writeable(struct client *c)
{
    if (c->closing)
        return 0;
    if (c->close_code) {
        lws_close_reason(c->wsi, (enum lws_close_status)c->close_code, NULL, 0);
        return -1;
    }
    if (c->ping_due) {
        unsigned char ping[LWS_PRE + sizeof(ping_payload) - 1];
        memcpy(ping + LWS_PRE, ping_payload, sizeof(ping_payload) - 1);
        c->ping_due = false;
        if (lws_write(c->wsi, ping + LWS_PRE, sizeof(ping_payload) - 1, LWS_WRITE_PING) < 0)
            return -1;
        if (c->out_head)
            lws_callback_on_writable(c->wsi);
        return 0;
    }
    struct out_msg *m = c->out_head;
    if (!m)
        return 0;
    c->out_head = m->next;
    if (!c->out_head)
        c->out_tail = NULL;
    c->out_bytes -= m->len;
    int n = lws_write(c->wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT);
    free(m);
    if (n < 0)
        return -1;
    if (c->out_head)
        lws_callback_on_writable(c->wsi);
    return 0;
}

static int hub_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                        size_t len)
{
    struct gw_hub *hub = lws_context_user(lws_get_context(wsi));
    struct client *c = user;
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
        on_established(hub, c, wsi);
        break;
    case LWS_CALLBACK_RECEIVE:
        if (c && c->established)
            return receive(c, in, len);
        break;
    case LWS_CALLBACK_RECEIVE_PONG:
        if (c && c->established) {
            c->last_seen = uv_now(hub->loop);
            c->ping_sent = 0;
        }
        break;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        if (c && c->established)
            return on_writeable(c);
        break;
    case LWS_CALLBACK_WS_SERVER_DROP_PROTOCOL:
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (c)
            c->closing = true;
        break;
    case LWS_CALLBACK_CLOSED:
        if (c)
            on_closed(hub, c);
        break;
    default:
        break;
    }
    return 0;
}

static void lws_log(int level, const char *line)
{
    char text[512];
    snprintf(text, sizeof(text), "%s", line);
    text[strcspn(text, "\n")] = '\0';
    if (level & LLL_ERR)
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
            gw_metrics_connection_killed(hub->metrics, "websocket_timeout");
            /* No closing handshake with a peer that does not answer: drop it now. */
            lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        } else if (!c->ping_sent && now - c->last_seen >= interval) {
            c->ping_sent = now;
            c->ping_due = true;
            lws_callback_on_writable(c->wsi);
        }
    }
}

/* --- the public face -------------------------------------------------------------------------- */

struct gw_hub *gw_hub_new(uv_loop_t *loop, const struct gw_config *config, struct gw_rpc *rpc,
                          char *err, size_t errlen)
{
    struct gw_hub *hub = xcalloc(1, sizeof(*hub));
    hub->loop = loop;
    hub->config = config;
    hub->rpc = rpc;
    /* lws warns about every pre-read adoption; only its errors matter here. */
    lws_set_log_level(LLL_ERR, lws_log);
    hub->protocols[0] = (struct lws_protocols){
        .name = "nameko-hub",
        .callback = hub_callback,
        .per_session_data_size = sizeof(struct client),
        .rx_buffer_size = 0,
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
    hub->context = lws_create_context(&info);
    if (!hub->context) {
        snprintf(err, errlen, "cannot start libwebsockets (is libwebsockets-evlib-uv installed?)");
        free(hub);
        return NULL;
    }
    hub->vhost = lws_get_vhost_by_name(hub->context, "default");
    struct gw_hub_socket_ops ops = {
        .deliver = deliver,
        .ready = on_ready,
        .subscribed = on_subscribed,
        .arg = hub,
    };
    hub->service = gw_hub_service_new(gw_rpc_broker(rpc), config, &ops);
    uv_timer_init(loop, &hub->keepalive);
    hub->keepalive.data = hub;
    if (config->websocket_ping > 0) {
        uint64_t tick = (uint64_t)config->websocket_ping * 1000 / KEEPALIVE_CHECKS;
        uv_timer_start(&hub->keepalive, on_keepalive, tick ? tick : 1, tick ? tick : 1);
    }
    hub->keepalive_on = true;
    return hub;
}

int gw_hub_admit(const struct gw_hub *hub, const char *origin, const char *host)
{
    return gw_ws_admit(hub->config, hub->stopping, hub->n_clients, origin, host);
}

void gw_hub_adopt(struct gw_hub *hub, int fd, size_t head_len)
{
    char head[ADOPT_HEAD_MAX];
    if (head_len > 0 && head_len <= sizeof(head) &&
        recv(fd, head, head_len, 0) == (ssize_t)head_len) {
        size_t len = gw_ws_drop_subprotocols(head, head_len);
        if (!lws_adopt_socket_vhost_readbuf(hub->vhost, fd, head, len))
            gw_warn("hub", "libwebsockets refused a connection");
        return;
    }
    lws_sock_file_fd_type desc;
    desc.sockfd = fd;
    if (!lws_adopt_descriptor_vhost(hub->vhost, LWS_ADOPT_SOCKET | LWS_ADOPT_HTTP, desc, NULL,
                                    NULL))
        gw_warn("hub", "libwebsockets refused a connection");
}

void gw_hub_set_metrics(struct gw_hub *hub, struct gw_metrics *metrics)
{
    hub->metrics = metrics;
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
        close_with(c, LWS_CLOSE_STATUS_GOINGAWAY);
}

static void on_keepalive_closed(uv_handle_t *handle)
{
    (void)handle; /* the hub is freed after the loop ends */
}

void gw_hub_close(struct gw_hub *hub)
{
    if (!hub || !hub->context)
        return;
    if (hub->keepalive_on) {
        uv_timer_stop(&hub->keepalive);
        uv_close((uv_handle_t *)&hub->keepalive, on_keepalive_closed);
        hub->keepalive_on = false;
    }
    /* With a foreign loop, lws closes its libuv handles on the loop and finishes when destroyed
     * again after the loop has run (gw_hub_free). */
    hub->destroying = hub->context;
    lws_context_destroy(hub->context);
    hub->context = NULL;
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
    free(hub);
}
