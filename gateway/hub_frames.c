/* hub_frames.c - a socket's frames: received and queued, answered one at a time (the hub's own
 * methods, calls to the cluster), sent when lws says the socket is writeable. */
#include "hub_int.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/random.h"
#include "core/status.h"
#include "core/utf8.h"
#include "core/xalloc.h"
#include "gateway/http_metrics.h"
#include "gateway/limiter.h"
#include "gateway/status_page.h"
#include "routes/hub_args.h"
#include "routes/trace_context.h"
#include "routes/ws.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* Frames received and not yet answered one socket may hold: at that many lws stops reading it
 * (the client waits in TCP, as nameko's hub, which reads a frame at a time, makes it), and reads
 * again once half are answered. lws may still hand over what it had read already; past four times
 * as many the socket is closed (1008). */
enum { MAX_PENDING_FRAMES = 64, MAX_HELD_FRAMES = 4 * MAX_PENDING_FRAMES };

/* --- sending ---------------------------------------------------------------------------------- */

void gw_hub_close_with(struct client *c, int code, const char *reason)
{
    if (!c->close_code) {
        c->close_code = code;
        c->close_reason = reason;
    }
    /* Closed from lws's timer callback (gw_hub_on_timer), not from a writeable one: Debian's lws
     * 4.1.6 is a debug build, whose libuv service closes a socket a second time at once when a
     * writeable callback returns -1, and that second close drops the connection before the close
     * frame is out. A timer callback's -1 closes it once: close frame, code and reason. */
    lws_set_timer_usecs(c->wsi, 0);
    gw_hub_wake(c->hub);
}

int gw_hub_on_timer(struct client *c)
{
    if (!c->close_code)
        gw_hub_on_expiry(c);
    if (!c->close_code || c->closing)
        return 0;
    const char *reason = c->close_reason ? c->close_reason : "";
    lws_close_reason(c->wsi, (enum lws_close_status)c->close_code,
                     (unsigned char *)(uintptr_t)reason, strlen(reason));
    c->closing = true;
    return -1;
}

/* Frames one sendmsg carries at most: a socket far behind takes its turns with the others. */
enum { FRAMES_PER_SEND = 16 };

/* The connection broke under a send: nothing more goes to it, lws closes it. */
static void broken(struct client *c)
{
    c->closing = true;
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    gw_hub_wake(c->hub);
}

/* A send's result: the bytes the kernel took (0 when it would block), or -1 when the connection is
 * broken. */
static ssize_t sent_or_broken(ssize_t sent)
{
    if (sent >= 0)
        return sent;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
}

/* What the kernel did not take of a frame it took part of (took bytes of len) goes to lws as raw
 * bytes, which lws keeps and sends before anything else (4.1.6's lws_issue_raw). Returns -1 when
 * the connection is broken. */
static int rest_to_lws(struct client *c, const unsigned char *wire, size_t len, size_t took)
{
    if (took >= len)
        return 0;
    unsigned char *rest = (unsigned char *)(uintptr_t)wire + took;
    return lws_write(c->wsi, rest, len - took, LWS_WRITE_HTTP) < 0 ? -1 : 0;
}

/* Sends c's queued frames, up to FRAMES_PER_SEND in one sendmsg, when nothing of lws's is ahead of
 * them (the unsent part of a frame, a pong): a broadcast costs each socket a send, several
 * broadcasts in one pass of the loop still one. What the kernel does not take of a frame goes to
 * lws, which keeps a copy and sends it before anything else (4.1.6's lws_issue_raw); the frames
 * not begun stay queued for the writeable callback. Not for a socket that deflates (lws deflates
 * in the writeable callback only). Returns -1 when the connection is broken. */
static int send_queued(struct client *c)
{
    if (!c->out.count)
        return 0;
    if (lws_partial_buffered(c->wsi)) {
        lws_callback_on_writable(c->wsi);
        return 0;
    }
    struct gw_hub_frame *frames[FRAMES_PER_SEND];
    struct iovec iov[FRAMES_PER_SEND];
    uint32_t n = gw_hub_sendq_peek(&c->out, frames, FRAMES_PER_SEND);
    for (uint32_t i = 0; i < n; i++) {
        size_t len;
        iov[i].iov_base = (void *)(uintptr_t)gw_hub_frame_wire(frames[i], &len);
        iov[i].iov_len = len;
    }
    /* One frame with send(): the kernel copies no message header and iovec in. */
    ssize_t sent;
    if (n == 1) {
        sent = send(c->fd, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL | MSG_DONTWAIT);
    } else {
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = n};
        sent = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    if ((sent = sent_or_broken(sent)) < 0)
        return -1;
    size_t left = (size_t)sent;
    for (uint32_t i = 0; i < n && left > 0; i++) {
        struct gw_hub_frame *f = gw_hub_sendq_pop(&c->out);
        size_t took = left < iov[i].iov_len ? left : iov[i].iov_len;
        left -= took;
        int w = rest_to_lws(c, iov[i].iov_base, iov[i].iov_len, took);
        gw_hub_frame_unref(f);
        if (w < 0)
            return -1;
    }
    if (c->out.count)
        lws_callback_on_writable(c->wsi);
    return 0;
}

static void unlist(struct client *c)
{
    if (!c->send_listed)
        return;
    c->hub->to_send[c->send_slot] = NULL;
    c->send_listed = false;
}

static void on_send_check(uv_check_t *check);
static void on_send_idle(uv_idle_t *idle);

/* Has c's queue sent at the end of this pass of the loop: after its I/O callbacks (the check
 * handle), or at the start of the next pass for a frame queued after them (the idle handle, which
 * also keeps the loop from waiting while any socket is listed). */
static void list_to_send(struct client *c)
{
    struct gw_hub *hub = c->hub;
    if (c->send_listed || !hub->handles_open)
        return;
    if (hub->n_to_send == hub->to_send_cap) {
        hub->to_send_cap = hub->to_send_cap ? hub->to_send_cap * 2 : 64;
        hub->to_send = xrealloc(hub->to_send, hub->to_send_cap * sizeof(*hub->to_send));
    }
    c->send_listed = true;
    c->send_slot = hub->n_to_send;
    hub->to_send[hub->n_to_send++] = c;
    uv_check_start(&hub->send_check, on_send_check);
    uv_idle_start(&hub->send_idle, on_send_idle);
}

/* Sockets ahead of the one being sent to whose memory is fetched meanwhile: a broadcast walks
 * every socket, and each one's lines would otherwise be a wait of their own. */
enum { SEND_PREFETCH = 2 };

/* Fetches what a send reads of c, the fields of struct client up to `closing` (none when c is
 * NULL): 67 bytes from the record's 64-byte-aligned start, so two cache lines. */
static inline void prefetch_hot(const struct client *c)
{
    if (!c)
        return;
    __builtin_prefetch(c);
    __builtin_prefetch(&c->closing);
}

static void send_pass(struct gw_hub *hub)
{
    hub->send_passes++; /* the sockets sent to at once since the last pass may be so again */
    /* A socket dropped meanwhile left NULL in its place; one listed meanwhile is sent too. */
    for (uint32_t i = 0; i < hub->n_to_send; i++) {
        if (i + SEND_PREFETCH < hub->n_to_send)
            prefetch_hot(hub->to_send[i + SEND_PREFETCH]);
        struct client *c = hub->to_send[i];
        if (!c)
            continue;
        c->send_listed = false;
        if (!c->closing && !c->close_code && send_queued(c) < 0)
            broken(c);
    }
    hub->n_to_send = 0;
    uv_check_stop(&hub->send_check);
    uv_idle_stop(&hub->send_idle);
}

static void on_send_check(uv_check_t *check)
{
    send_pass(check->data);
}

static void on_send_idle(uv_idle_t *idle)
{
    send_pass(idle->data);
}

/* Sends f to c from the shared frame, nothing being queued before it: queued only when lws holds
 * something of its own (it goes first) or the kernel takes none of it. Returns -1 when the
 * connection is broken. */
static int send_now(struct client *c, struct gw_hub_frame *f)
{
    ssize_t sent = 0;
    size_t len;
    const unsigned char *wire = gw_hub_frame_wire(f, &len);
    if (!lws_partial_buffered(c->wsi) &&
        (sent = sent_or_broken(send(c->fd, wire, len, MSG_NOSIGNAL | MSG_DONTWAIT))) < 0)
        return -1;
    if (sent > 0)
        return rest_to_lws(c, wire, len, (size_t)sent);
    gw_hub_sendq_push(&c->out, f);
    lws_callback_on_writable(c->wsi);
    return 0;
}

/* Queues a frame for the socket (a reference of its own to f, borrowed); a reader too far behind
 * is dropped: one with websocket_send_queue bytes or more already waiting when a frame comes,
 * counting each frame it holds whole, whoever else shares it. What waits before the frame is what
 * says a reader is behind, not the frame's own size: a frame larger than the bound (an event, a
 * result) reaches a reader that keeps up, and memory stays within the bound plus one frame. With
 * at_once, and nothing queued before it, the frame is sent now,
 * not from the pass after the loop's I/O: a broadcast then walks its sockets once, not twice. A
 * socket gets one such send per pass; the frames after it wait for the pass and go out together
 * (a stream of broadcasts costs each socket two sends per pass of the loop, not one per frame). */
static void send_frame(struct client *c, struct gw_hub_frame *f, bool at_once)
{
    if (c->close_code)
        return;
    if (c->out.bytes >= (size_t)c->hub->config->websocket_send_queue) {
        gw_warn("hub", "socket %s reads too slowly: closing it", c->socket_id);
        /* No close frame gets past what it has not read: drop it now, and queue nothing more. */
        c->close_code = LWS_CLOSE_STATUS_POLICY_VIOLATION;
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        gw_hub_wake(c->hub);
        return;
    }
    struct gw_hub *hub = c->hub;
    if (at_once && !c->out.count && !c->deflate && c->sent_pass != hub->send_passes &&
        !c->closing && hub->handles_open) {
        c->sent_pass = hub->send_passes;
        uv_check_start(&hub->send_check, on_send_check); /* ends the pass */
        if (send_now(c, f) < 0)
            broken(c);
        return;
    }
    gw_hub_sendq_push(&c->out, f);
    if (c->deflate)
        lws_callback_on_writable(c->wsi);
    else
        list_to_send(c);
}

/* Queues a frame of the socket's own (text copied). */
static void send_copy(struct client *c, const char *text, size_t len)
{
    struct gw_hub_frame *f = gw_hub_frame_new(text, len);
    send_frame(c, f, false);
    gw_hub_frame_unref(f);
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

/* The frame being answered is answered, for the status page's numbers. */
static void note_answered(struct client *c, const char *method, bool failed)
{
    c->frame_counted = true;
    gw_status_page_note_ws(c->hub->status, method, c->frame_start_ns, gw_now_ns(), failed);
}

/* --- what the hub service asks of the sockets ----------------------------------------------- */

/* One frame for every socket it goes to: encoded once, each socket's queue holding a reference. */
void gw_hub_deliver(void *arg, void *const *sockets, size_t n, const json_t *event,
                    const json_t *data, const char *channel)
{
    (void)arg;
    size_t len;
    char *text = gw_ws_event_frame(event, data, channel, &len);
    struct gw_hub_frame *f = gw_hub_frame_new(text, len);
    free(text);
    for (size_t i = 0; i < n; i++) {
        if (i + SEND_PREFETCH < n)
            prefetch_hot(sockets[i + SEND_PREFETCH]);
        send_frame(sockets[i], f, true);
    }
    gw_hub_frame_unref(f);
}

/* The socket is reachable from every instance (or the broker is away): tell the client its id. */
void gw_hub_on_ready(void *socket)
{
    struct client *c = socket;
    json_t *data = json_pack("{s:s}", "socket_id", c->socket_id);
    json_t *event = json_string("connected");
    size_t len;
    char *frame = gw_ws_event_frame(event, data, NULL, &len);
    json_decref(event);
    json_decref(data);
    send_take(c, frame, len);
    if (c->sock) /* not while it is being opened: no frame has come yet */
        gw_hub_process(c);
}

void gw_hub_on_subscribed(void *socket, const json_t *subscriptions, json_t *error)
{
    struct client *c = socket;
    json_t *correlation_id = c->subscribe_correlation_id;
    c->subscribe_correlation_id = NULL;
    note_answered(c, "subscribe", error != NULL);
    if (error)
        send_error_take(c, error, correlation_id);
    else
        send_result(c, subscriptions, correlation_id);
    json_decref(correlation_id);
    gw_hub_process(c);
}

/* --- the hub's own methods -------------------------------------------------------------------- */

/* Answers a hub method; returns false when method is not one of them. */
static bool hub_method(struct client *c, const struct gw_ws_request *r)
{
    const char *arg; /* the channel, or refresh's token */
    json_t *error;
    enum gw_hub_method method = gw_hub_args_frame(r->method, r->data, &arg, &error);
    if (method == GW_HUB_NONE)
        return false;
    if (error) {
        send_error_take(c, error, r->correlation_id);
        return true;
    }
    if (method == GW_HUB_REFRESH) {
        json_t *result = gw_hub_refresh(c, arg, &error);
        if (error)
            send_error_take(c, error, r->correlation_id);
        else
            send_result(c, result, r->correlation_id);
        json_decref(result);
        return true;
    }
    if (method == GW_HUB_SUBSCRIBE && (error = gw_hub_may_subscribe(c, arg)) != NULL) {
        send_error_take(c, error, r->correlation_id);
        return true;
    }
    if (method == GW_HUB_SUBSCRIBE) {
        /* For an event channel the answer waits until the binding is in place, so that no event
         * dispatched after the answer can be missed (on_subscribed). */
        c->subscribe_correlation_id = json_incref(r->correlation_id);
        if (!gw_hub_socket_subscribe(c->sock, arg))
            return true;
        json_decref(c->subscribe_correlation_id);
        c->subscribe_correlation_id = NULL;
    }
    if (method == GW_HUB_UNSUBSCRIBE)
        gw_hub_socket_unsubscribe(c->sock, arg);
    json_t *list = gw_hub_socket_subscriptions(c->sock);
    send_result(c, list, r->correlation_id);
    json_decref(list);
    return true;
}

/* --- calls to the cluster ------------------------------------------------------------------------
 */

static void on_call_done(void *arg, int status, const json_t *result, const json_t *error,
                         const char *detail, bool may_have_run)
{
    (void)may_have_run;
    struct client *c = arg;
    c->call = NULL;
    note_answered(c, c->call_target, status != GW_OK);
    if (status == GW_OK)
        send_result(c, result, c->call_correlation_id);
    else if (status == GW_EREMOTE)
        send_error_take(c, json_incref((json_t *)(uintptr_t)error), c->call_correlation_id);
    else
        send_error_take(
            c,
            gw_ws_call_failure(status, detail, c->call_target, gw_hub_policy(c->hub)->rpc_timeout),
            c->call_correlation_id);
    json_decref(c->call_correlation_id);
    c->call_correlation_id = NULL;
    gw_hub_process(c);
}

static const char *socket_header(void *ctx, const char *name)
{
    const struct client *c = ctx;
    char lower[128];
    snprintf(lower, sizeof(lower), "%s", name);
    for (char *p = lower; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return json_string_value(json_object_get(c->limit_headers, lower));
}

/* Whether GATEWAY.rate_limits refuse the call now (docs/rate_limits.md): then it is answered with
 * an error frame RateLimited. */
static bool rate_limited(struct client *c, const char *target, const json_t *correlation_id)
{
    if (!c->hub->limiter)
        return false;
    const struct gw_rate_limits *limits = gw_limiter_current(c->hub->limiter)->rate_limits;
    uint64_t mask = gw_rate_limits_of_target(limits, target);
    if (mask == 0)
        return false;
    struct gw_limit_subject subject = {
        .claims = c->claims, .header = socket_header, .header_ctx = c};
    memcpy(subject.ip_key, c->limit_ip, sizeof(subject.ip_key));
    struct gw_rate_verdict v;
    gw_limiter_take(c->hub->limiter, limits, mask, &subject, &v);
    if (!v.limited)
        return false;
    char detail[160];
    snprintf(detail, sizeof(detail),
             "rate limit '%s' reached (GATEWAY.rate_limits); retry in %lld s", v.policy->conf->name,
             v.retry_after_s);
    send_error_take(
        c, gw_ws_call_failure(GW_ELIMITED, detail, target, gw_hub_policy(c->hub)->rpc_timeout),
        correlation_id);
    gw_metrics_rate_limited(c->hub->metrics, "websocket");
    c->frame_failed = true;
    return true;
}

/* "service.method" through GATEWAY.expose. Returns false when the target may not be called. */
static bool start_call(struct client *c, const struct gw_ws_request *r)
{
    const struct gw_config *config = gw_hub_policy(c->hub);
    char *service;
    const char *method;
    const struct gw_policy_entry *entry;
    if (gw_ws_call_target(config, r->method, &service, &method, &entry) != GW_OK)
        return false;
    json_t *refused = gw_hub_may_call(c, entry);
    if (refused) {
        send_error_take(c, refused, r->correlation_id);
        free(service);
        return true;
    }
    free(c->call_target);
    c->call_target = xstrdup(r->method);
    if (!json_is_object(r->data)) {
        send_error_take(c, gw_hub_args_not_a_mapping(r->data), r->correlation_id);
        free(service);
        return true;
    }
    if (rate_limited(c, r->method, r->correlation_id)) {
        free(service);
        return true;
    }
    char id[GW_UUID_LEN + 1];
    gw_uuid4(id);
    json_t *context = gw_ws_call_context(c->context, config->name, id);
    if (config->trace_context) {
        /* Each call a trace of its own: a socket lives for hours, and one trace for all its calls
         * would say nothing (docs/trace-context.md). */
        unsigned char entropy[GW_TRACE_RANDOM_LEN];
        struct gw_trace trace;
        gw_random_fill(entropy, sizeof(entropy));
        gw_trace_begin(NULL, 0, entropy, &trace);
        gw_trace_to_context(&trace, context);
    }
    struct gw_rpc_request call = {
        .service = service,
        .method = method,
        .args = NULL,
        .kwargs = r->data,
        .context = context,
        .timeout_s = config->rpc_timeout,
    };
    const struct gw_service_conf *speaks = gw_service_find(&config->services, service);
    if (speaks) {
        call.protocol = speaks->protocol;
        call.fanout = speaks->fanout;
    }
    c->call_correlation_id = json_incref(r->correlation_id);
    char why[256];
    int status = gw_rpc_call(c->hub->rpc, &call, on_call_done, c, &c->call, why, sizeof(why));
    c->frame_failed = status != GW_OK;
    if (status != GW_OK) {
        send_error_take(c, gw_ws_call_failure(status, why, c->call_target, config->rpc_timeout),
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
void gw_hub_process(struct client *c)
{
    if (c->processing)
        return;
    c->processing = true;
    while (!c->call && !(c->sock && gw_hub_socket_busy(c->sock)) && c->in_head && !c->close_code) {
        /* Not decided on since a reload: decided now, before its frame is (a key just removed
         * lets no call through while the hub's slices have not come to it). */
        if (gw_hub_recheck(c) && c->close_code)
            break;
        struct in_msg *m = c->in_head;
        c->in_head = m->next;
        if (!c->in_head)
            c->in_tail = NULL;
        c->in_count--;
        if (c->rx_paused && c->in_count <= MAX_PENDING_FRAMES / 2) {
            c->rx_paused = false;
            lws_rx_flow_control(c->wsi, 1);
            gw_hub_wake(c->hub); /* lws serves what it held back on its next pass */
        }
        struct gw_ws_request r;
        bool parsed = (m->binary ? gw_ws_parse_binary : gw_ws_parse)(m->text, m->len, &r) == GW_OK;
        if (!parsed && !m->binary && !gw_utf8_valid(m->text, m->len)) {
            /* A text message that is not UTF-8 fails the connection (RFC 6455 8.1; nameko's hub
             * fails it too, with 1011 on eventlet 0.33); a binary one that does not decode is
             * malformed JSON to nameko, as below. */
            gw_hub_close_with(c, LWS_CLOSE_STATUS_INVALID_PAYLOAD, "Text data must be valid utf-8");
            free(m);
            continue;
        }
        const char *counted_as = "(malformed)";
        c->frame_start_ns = gw_now_ns();
        c->frame_failed = false;
        c->frame_counted = false;
        if (!parsed) {
            /* nameko answers unparsable frames with a null correlation_id, always. */
            send_error_take(c, gw_ws_malformed_error(), NULL);
        } else if (hub_method(c, &r) || start_call(c, &r)) {
            counted_as = r.method;
        } else {
            send_error_take(c, gw_ws_method_not_found(), r.correlation_id);
            counted_as = "(unknown)";
        }
        /* A call in flight, or a subscribe waiting for its binding, is counted at its end. */
        if (!c->frame_counted && !c->call && !c->subscribe_correlation_id)
            note_answered(c, counted_as, c->frame_failed);
        if (parsed)
            gw_ws_request_clear(&r);
        free(m);
    }
    c->processing = false;
}

/* A socket being closed reads nothing more. Closes go through gw_hub_close_with: lws 4.1.6 drops a
 * receive callback's -1 while it inflates a compressed message, and would go on inflating. */
void gw_hub_receive(struct client *c, const void *in, size_t len)
{
    size_t max = (size_t)c->hub->config->websocket_max_frame;
    if (c->close_code)
        return;
    c->last_seen = uv_now(c->hub->loop);
    /* A frame that announces more than the limit is refused before its payload arrives; a
     * compressed one as soon as what it inflates to passes the limit. */
    if (c->rx.len + len + lws_remaining_packet_payload(c->wsi) > max) {
        gw_hub_close_with(c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "");
        return;
    }
    gw_strbuf_add(&c->rx, in, len);
    if (!lws_is_final_fragment(c->wsi) || lws_remaining_packet_payload(c->wsi) > 0)
        return;
    if (c->in_count >= MAX_HELD_FRAMES) {
        gw_warn("hub", "socket %s sends faster than it is answered: closing it", c->socket_id);
        gw_hub_close_with(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "");
        return;
    }
    struct in_msg *m = xmalloc(sizeof(*m) + c->rx.len + 1);
    m->next = NULL;
    m->len = c->rx.len;
    m->binary = lws_frame_is_binary(c->wsi);
    memcpy(m->text, c->rx.data ? c->rx.data : "", c->rx.len);
    m->text[c->rx.len] = '\0';
    c->rx.len = 0;
    if (c->in_tail)
        c->in_tail->next = m;
    else
        c->in_head = m;
    c->in_tail = m;
    c->in_count++;
    if (c->in_count >= MAX_PENDING_FRAMES && !c->rx_paused) {
        c->rx_paused = true;
        lws_rx_flow_control(c->wsi, 0);
    }
    gw_hub_process(c);
}

int gw_hub_writeable(struct client *c)
{
    /* lws calls this once it is done with the last message (it deflates before anything else). */
    gw_hub_deflate_hold(c, NULL);
    /* A socket being closed writes nothing more: gw_hub_on_timer sends its close. */
    if (c->closing || c->close_code)
        return 0;
    if (c->ping_due) {
        static const char payload[] = GW_HUB_PING_PAYLOAD;
        unsigned char ping[LWS_PRE + sizeof(payload) - 1];
        memcpy(ping + LWS_PRE, payload, sizeof(payload) - 1);
        c->ping_due = false;
        if (lws_write(c->wsi, ping + LWS_PRE, sizeof(payload) - 1, LWS_WRITE_PING) < 0)
            return -1;
        if (c->out.count)
            lws_callback_on_writable(c->wsi);
        return 0;
    }
    /* A socket that deflates writes one frame per writeable: lws may still be deflating it. */
    if (!c->deflate)
        return send_queued(c);
    struct gw_hub_frame *f = gw_hub_sendq_pop(&c->out);
    if (!f)
        return 0;
    int n = lws_write(c->wsi, gw_hub_frame_payload(f), gw_hub_frame_len(f), LWS_WRITE_TEXT);
    gw_hub_deflate_hold(c, f);
    if (n < 0)
        return -1;
    if (c->out.count)
        lws_callback_on_writable(c->wsi);
    return 0;
}

void gw_hub_drop_frames(struct client *c)
{
    unlist(c);
    gw_hub_sendq_clear(&c->out);
    for (struct in_msg *m = c->in_head, *next; m; m = next) {
        next = m->next;
        free(m);
    }
    gw_hub_deflate_hold(c, NULL);
    free(c->inflating.data);
    c->inflating = (struct gw_strbuf){0};
    c->in_head = c->in_tail = NULL;
    c->in_count = 0;
}
