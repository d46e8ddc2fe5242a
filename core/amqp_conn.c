#include "amqp_conn.h"

#include "amqp_message.h"
#include "amqp_out.h"
#include "amqp_tls.h"
#include "status.h"
#include "xalloc.h"

#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

/* What the topology channel owes us, in order: an -ok to skip or one to report. */
enum topology_ok { SKIP, REPORT };

/* A consumer of the connection's plan. */
struct consumer {
    char *tag;  /* the consumer tag, as the broker's deliveries carry it */
    char *role; /* for messages */
};

struct gw_amqp_conn {
    amqp_connection_state_t state;
    uint64_t next_tag;          /* delivery tag of the next publish on the confirm channel */
    bool open;                  /* the AMQP connection handshake completed */
    struct consumer *consumers; /* in the plan's order: a delivery's consumer is an index */
    size_t n_consumers;
    enum topology_ok *pending; /* FIFO of -ok frames expected on TOPOLOGY */
    size_t n_pending, cap_pending;
    /* Once open, every frame enoki sends goes through out (core/amqp_out.h): rabbitmq-c writes
     * only during the handshake and the polite close. */
    struct gw_amqp_out *out;
    size_t frame_max;
    int heartbeat_s; /* negotiated; rabbitmq-c is told 0 so that it never writes one itself */
    struct gw_amqp_message *incoming; /* the delivery or return being read, frame by frame */
};

/* Channel 1 publishes (confirm mode) and consumes; channel 2 carries topology changes made while
 * running, sent without waiting so the loop never blocks on them. */
enum { CHANNEL = 1, TOPOLOGY = 2 };

/* Seconds a polite close waits for the broker's close-ok. */
enum { CLOSE_TIMEOUT_S = 1 };

/* Fills err from a synchronous call's reply; returns GW_OK for a normal reply, GW_EBROKER
 * otherwise. */
static int check_reply(amqp_rpc_reply_t reply, const char *what, char *err, size_t errlen)
{
    switch (reply.reply_type) {
    case AMQP_RESPONSE_NORMAL:
        return GW_OK;
    case AMQP_RESPONSE_NONE:
        snprintf(err, errlen, "%s: no reply from the broker", what);
        break;
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        snprintf(err, errlen, "%s: %s", what, amqp_error_string2(reply.library_error));
        break;
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
            const amqp_connection_close_t *c = reply.reply.decoded;
            snprintf(err, errlen, "%s: connection closed by the broker: %d %.*s", what,
                     c->reply_code, (int)c->reply_text.len, (const char *)c->reply_text.bytes);
        } else if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
            const amqp_channel_close_t *c = reply.reply.decoded;
            snprintf(err, errlen, "%s: channel closed by the broker: %d %.*s", what, c->reply_code,
                     (int)c->reply_text.len, (const char *)c->reply_text.bytes);
        } else {
            snprintf(err, errlen, "%s: unexpected broker method 0x%08x", what,
                     (unsigned)reply.reply.id);
        }
        break;
    }
    return GW_EBROKER;
}

/* Opens CHANNEL in publisher-confirm mode; its publishes count from delivery tag 1 again. */
static int open_confirm_channel(struct gw_amqp_conn *conn, char *err, size_t errlen)
{
    amqp_channel_open(conn->state, CHANNEL);
    if (check_reply(amqp_get_rpc_reply(conn->state), "channel.open", err, errlen) != GW_OK)
        return GW_EBROKER;
    amqp_confirm_select(conn->state, CHANNEL);
    if (check_reply(amqp_get_rpc_reply(conn->state), "confirm.select", err, errlen) != GW_OK)
        return GW_EBROKER;
    conn->next_tag = 1;
    return GW_OK;
}

/* "<role> <method>" (or the method alone) for messages. */
static void step_what(const struct gw_amqp_step *step, const char *method, char *out, size_t len)
{
    snprintf(out, len, "%s%s%s", step->role, step->role[0] ? " " : "", method);
}

/* A passive declare: whether the queue is there (found). AMQP's NOT_FOUND closes the channel, which
 * is then opened again. */
static int look(struct gw_amqp_conn *conn, struct gw_amqp_step *step, char *err, size_t errlen)
{
    char what[128];
    amqp_queue_declare(conn->state, CHANNEL, amqp_cstring_bytes(step->name), 1, 0, 0, 0,
                       amqp_empty_table);
    amqp_rpc_reply_t reply = amqp_get_rpc_reply(conn->state);
    step->found = reply.reply_type == AMQP_RESPONSE_NORMAL;
    if (step->found)
        return GW_OK;
    if (reply.reply_type != AMQP_RESPONSE_SERVER_EXCEPTION ||
        reply.reply.id != AMQP_CHANNEL_CLOSE_METHOD ||
        ((const amqp_channel_close_t *)reply.reply.decoded)->reply_code != AMQP_NOT_FOUND) {
        step_what(step, "queue.declare passive", what, sizeof(what));
        return check_reply(reply, what, err, errlen);
    }
    amqp_channel_close_ok_t close_ok = {0};
    amqp_send_method(conn->state, CHANNEL, AMQP_CHANNEL_CLOSE_OK_METHOD, &close_ok);
    return open_confirm_channel(conn, err, errlen);
}

/* Whether reply is the broker closing the channel with NOT_FOUND; if so the close is answered and
 * the confirm channel opened again (*reopened says whether that worked). */
static bool not_found(struct gw_amqp_conn *conn, amqp_rpc_reply_t reply, int *reopened, char *err,
                      size_t errlen)
{
    if (reply.reply_type != AMQP_RESPONSE_SERVER_EXCEPTION ||
        reply.reply.id != AMQP_CHANNEL_CLOSE_METHOD ||
        ((const amqp_channel_close_t *)reply.reply.decoded)->reply_code != AMQP_NOT_FOUND)
        return false;
    amqp_channel_close_ok_t close_ok = {0};
    amqp_send_method(conn->state, CHANNEL, AMQP_CHANNEL_CLOSE_OK_METHOD, &close_ok);
    *reopened = open_confirm_channel(conn, err, errlen);
    return true;
}

/* Carries out one declaration of the plan on the confirm channel, waiting for its -ok. */
static int run_step(struct gw_amqp_conn *conn, struct gw_amqp_step *step, char *err, size_t errlen)
{
    char what[128];
    amqp_bytes_t name = step->name ? amqp_cstring_bytes(step->name) : amqp_empty_bytes;
    amqp_table_entry_t expires = {
        .key = amqp_cstring_bytes("x-expires"),
        .value = {.kind = AMQP_FIELD_KIND_I32, .value.i32 = step->number},
    };
    amqp_table_t queue_args = {.num_entries = 1, .entries = &expires};
    switch (step->kind) {
    case GW_STEP_EXCHANGE:
        /* As nameko declares its exchanges (docs/nameko-wire.md §1, §5): durable, kept. */
        amqp_exchange_declare(conn->state, CHANNEL, name, amqp_cstring_bytes(step->arg), 0, 1, 0, 0,
                              amqp_empty_table);
        step_what(step, "exchange.declare", what, sizeof(what));
        break;
    case GW_STEP_LOOK:
        return look(conn, step, err, errlen);
    case GW_STEP_QUEUE:
        amqp_queue_declare(conn->state, CHANNEL, name, 0, (step->flags & GW_QUEUE_DURABLE) != 0,
                           (step->flags & GW_QUEUE_EXCLUSIVE) != 0,
                           (step->flags & GW_QUEUE_AUTO_DELETE) != 0,
                           step->number > 0 ? queue_args : amqp_empty_table);
        step_what(step, "queue.declare", what, sizeof(what));
        break;
    case GW_STEP_BIND:
        amqp_queue_bind(conn->state, CHANNEL, name, amqp_cstring_bytes(step->exchange),
                        amqp_cstring_bytes(step->arg), amqp_empty_table);
        step_what(step, "queue.bind", what, sizeof(what));
        break;
    case GW_STEP_QOS:
        amqp_basic_qos(conn->state, CHANNEL, 0, (uint16_t)step->number, 0);
        step_what(step, "basic.qos", what, sizeof(what));
        break;
    case GW_STEP_CONSUME:
        amqp_basic_consume(conn->state, CHANNEL, name, amqp_cstring_bytes(step->arg), 0,
                           (step->flags & GW_CONSUME_NO_ACK) != 0,
                           (step->flags & GW_CONSUME_EXCLUSIVE) != 0, amqp_empty_table);
        step_what(step, "basic.consume", what, sizeof(what));
        break;
    }
    amqp_rpc_reply_t reply = amqp_get_rpc_reply(conn->state);
    int reopened;
    if (step->kind == GW_STEP_QUEUE && (step->flags & GW_QUEUE_OPTIONAL) &&
        not_found(conn, reply, &reopened, err, errlen)) {
        step->missing = true;
        return reopened;
    }
    return check_reply(reply, what, err, errlen);
}

/* Whether step works on an optional queue that could not be declared. */
static bool on_missing_queue(const struct gw_amqp_plan *plan, size_t i)
{
    const struct gw_amqp_step *step = &plan->steps[i];
    if (step->kind == GW_STEP_EXCHANGE || step->kind == GW_STEP_QOS || !step->name)
        return false;
    for (size_t j = 0; j < plan->n; j++) {
        const struct gw_amqp_step *q = &plan->steps[j];
        if (q->kind == GW_STEP_QUEUE && q->missing && strcmp(q->name, step->name) == 0)
            return true;
    }
    return false;
}

/* Carries out the plan. An optional queue that cannot be declared closes the channel, and with it
 * the consumers made so far: the plan is then carried out again from the start on the new channel
 * without that queue (the passive looks keep what they found the first time). */
static int run_plan(struct gw_amqp_conn *conn, struct gw_amqp_plan *plan, char *err, size_t errlen)
{
    bool again = false;
    for (size_t i = 0; i < plan->n; i++) {
        struct gw_amqp_step *step = &plan->steps[i];
        if (on_missing_queue(plan, i) || (again && step->kind == GW_STEP_LOOK))
            continue;
        if (run_step(conn, step, err, errlen) != GW_OK)
            return GW_EBROKER;
        if (step->missing) {
            again = true;
            i = (size_t)-1; /* from the first step again */
        }
    }
    return GW_OK;
}

/* The kernel ends a connection that goes silent, within about two heartbeat intervals, as
 * rabbitmq-c's own heartbeat check would have (rabbitmq-c is told there is none): a guard beside
 * the loop's check (core/broker.c), which covers reads, for bytes written that are never acked. */
static void keep_alive(int fd, int heartbeat_s)
{
    if (heartbeat_s <= 0)
        return;
    int on = 1, idle = heartbeat_s, interval = heartbeat_s > 2 ? heartbeat_s / 2 : 1, count = 2;
    unsigned int user_timeout_ms = (unsigned int)heartbeat_s * 2000u;
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms, sizeof(user_timeout_ms));
}

int gw_amqp_conn_open(const struct gw_amqp_setup *setup, double connect_timeout_s,
                      struct gw_amqp_conn **out, char *err, size_t errlen)
{
    int status = GW_EBROKER;
    struct gw_amqp_conn *conn = xcalloc(1, sizeof(*conn));
    conn->incoming = gw_amqp_message_new();
    struct timeval timeout = {
        .tv_sec = (time_t)connect_timeout_s,
        .tv_usec = (suseconds_t)((connect_timeout_s - (double)(time_t)connect_timeout_s) * 1e6)};
    conn->state = amqp_new_connection();
    bool tls = setup->uri->tls;
    amqp_socket_t *socket =
        tls ? gw_amqp_tls_socket(conn->state, setup->tls, setup->uri->host, err, errlen)
            : amqp_tcp_socket_new(conn->state);
    if (!socket) {
        if (!tls)
            snprintf(err, errlen, "cannot create a socket");
        goto out;
    }
    amqp_set_handshake_timeout(conn->state, &timeout);
    amqp_set_rpc_timeout(conn->state, &timeout);
    int rc = amqp_socket_open_noblock(socket, setup->uri->host, setup->uri->port, &timeout);
    if (rc != AMQP_STATUS_OK) {
        char why[256];
        snprintf(err, errlen, "cannot connect to %s:%d%s: %s", setup->uri->host, setup->uri->port,
                 tls ? " (TLS)" : "", gw_amqp_tls_reason(rc, why, sizeof(why)));
        goto out;
    }
    struct ssl_st *session = tls ? gw_amqp_tls_session(socket) : NULL;
    if (tls && !session) {
        snprintf(err, errlen, "cannot connect to %s:%d (TLS): no TLS session", setup->uri->host,
                 setup->uri->port);
        goto out;
    }
    conn->out = gw_amqp_out_new(amqp_get_sockfd(conn->state), session);
    /* consumer_cancel_notify: without it the broker deletes a consumed queue (an operator, a
     * policy) silently, and the calls waiting on its replies would only end at their deadlines. */
    /* connection.blocked: told when the broker blocks publishers (a memory or disk alarm), new
     * calls are refused at once instead of queueing behind the alarm. */
    amqp_table_entry_t capabilities[] = {
        {.key = amqp_cstring_bytes("consumer_cancel_notify"),
         .value = {.kind = AMQP_FIELD_KIND_BOOLEAN, .value.boolean = 1}},
        {.key = amqp_cstring_bytes("connection.blocked"),
         .value = {.kind = AMQP_FIELD_KIND_BOOLEAN, .value.boolean = 1}},
    };
    /* What operators see of the connection (rabbitmqctl list_connections, the management UI). */
    amqp_table_entry_t props[] = {
        {.key = amqp_cstring_bytes("product"),
         .value = {.kind = AMQP_FIELD_KIND_UTF8,
                   .value.bytes = amqp_cstring_bytes(setup->product)}},
        {.key = amqp_cstring_bytes("version"),
         .value = {.kind = AMQP_FIELD_KIND_UTF8,
                   .value.bytes = amqp_cstring_bytes(setup->version)}},
        {.key = amqp_cstring_bytes("platform"),
         .value = {.kind = AMQP_FIELD_KIND_UTF8, .value.bytes = amqp_cstring_bytes("C")}},
        {.key = amqp_cstring_bytes("connection_name"),
         .value = {.kind = AMQP_FIELD_KIND_UTF8,
                   .value.bytes = amqp_cstring_bytes(setup->connection_name)}},
        {.key = amqp_cstring_bytes("capabilities"),
         .value = {.kind = AMQP_FIELD_KIND_TABLE,
                   .value.table = {.num_entries = 2, .entries = capabilities}}},
    };
    amqp_table_t client_props = {.num_entries = sizeof(props) / sizeof(props[0]), .entries = props};
    /* EXTERNAL: RabbitMQ takes the user from the client certificate and ignores the response;
     * rabbitmq-c refuses an empty one (a malloc of 0 bytes), so it carries the URI's user name. */
    amqp_rpc_reply_t reply =
        setup->login == GW_LOGIN_EXTERNAL
            ? amqp_login_with_properties(conn->state, setup->uri->vhost, 0, AMQP_DEFAULT_FRAME_SIZE,
                                         setup->heartbeat, &client_props, AMQP_SASL_METHOD_EXTERNAL,
                                         setup->uri->user)
            : amqp_login_with_properties(conn->state, setup->uri->vhost, 0, AMQP_DEFAULT_FRAME_SIZE,
                                         setup->heartbeat, &client_props, AMQP_SASL_METHOD_PLAIN,
                                         setup->uri->user, setup->uri->password);
    if (check_reply(reply, "login", err, errlen) != GW_OK)
        goto out;
    conn->open = true;
    conn->frame_max = (size_t)amqp_get_frame_max(conn->state);
    /* The spec's frame-min-size: enoki's own frames assume at least that much room. */
    if (conn->frame_max < AMQP_FRAME_MIN_SIZE) {
        snprintf(err, errlen, "login: the broker's frame_max %zu is below AMQP's minimum %d",
                 conn->frame_max, AMQP_FRAME_MIN_SIZE);
        goto out;
    }

    if (open_confirm_channel(conn, err, errlen) != GW_OK)
        goto out;

    if (run_plan(conn, setup->plan, err, errlen) != GW_OK)
        goto out;
    conn->n_consumers = setup->plan->n_consumers;
    conn->consumers = xcalloc(conn->n_consumers ? conn->n_consumers : 1, sizeof(*conn->consumers));
    for (size_t i = 0; i < conn->n_consumers; i++) {
        const struct gw_amqp_step *step = gw_amqp_plan_consumer(setup->plan, i);
        conn->consumers[i].tag = xstrdup(step->arg);
        conn->consumers[i].role = xstrdup(step->role);
    }
    amqp_channel_open(conn->state, TOPOLOGY);
    if (check_reply(amqp_get_rpc_reply(conn->state), "channel.open", err, errlen) != GW_OK)
        goto out;
    /* From here on enoki writes every frame itself (see struct gw_amqp_conn), heartbeats too: the
     * broker keeps the negotiated interval, rabbitmq-c is told there is none. */
    conn->heartbeat_s = amqp_get_heartbeat(conn->state);
    rc = amqp_tune_connection(conn->state, amqp_get_channel_max(conn->state),
                              amqp_get_frame_max(conn->state), 0);
    if (rc != AMQP_STATUS_OK) {
        snprintf(err, errlen, "tune: %s", amqp_error_string2(rc));
        goto out;
    }
    keep_alive(amqp_get_sockfd(conn->state), conn->heartbeat_s);
    status = GW_OK;
out:
    if (status != GW_OK) {
        gw_amqp_conn_free(conn, false);
        conn = NULL;
    }
    *out = conn;
    return status;
}

int gw_amqp_conn_fd(const struct gw_amqp_conn *conn)
{
    return amqp_get_sockfd(conn->state);
}

int gw_amqp_conn_heartbeat(const struct gw_amqp_conn *conn)
{
    return conn->heartbeat_s;
}

void gw_amqp_conn_beat(struct gw_amqp_conn *conn)
{
    if (conn->heartbeat_s > 0)
        gw_amqp_out_beat(conn->out, (uint64_t)conn->heartbeat_s * 1000 / 2);
}

static void topology_pop(struct gw_amqp_conn *conn, const struct gw_amqp_events *events, void *arg)
{
    if (conn->n_pending == 0)
        return;
    enum topology_ok what = conn->pending[0];
    memmove(conn->pending, conn->pending + 1, (conn->n_pending - 1) * sizeof(*conn->pending));
    conn->n_pending--;
    if (what == REPORT)
        events->topology(arg, true, "ok");
}

/* The topology channel's own frames: -ok replies in order, or its closing by the broker (a bad
 * declaration), which fails what is pending and opens the channel again. */
static int handle_topology_frame(struct gw_amqp_conn *conn, const amqp_frame_t *frame,
                                 const struct gw_amqp_events *events, void *arg)
{
    switch (frame->payload.method.id) {
    case AMQP_EXCHANGE_DECLARE_OK_METHOD:
    case AMQP_QUEUE_BIND_OK_METHOD:
    case AMQP_QUEUE_UNBIND_OK_METHOD:
        topology_pop(conn, events, arg);
        return GW_OK;
    case AMQP_CHANNEL_CLOSE_METHOD: {
        const amqp_channel_close_t *c = frame->payload.method.decoded;
        char why[256];
        snprintf(why, sizeof(why), "%d %.*s", c->reply_code, (int)c->reply_text.len,
                 (const char *)c->reply_text.bytes);
        amqp_channel_close_ok_t ok = {0};
        gw_amqp_out_method(conn->out, TOPOLOGY, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
        /* Open again before anyone is told: a failure's handler may bind or unbind at once, and
         * a frame on the closed channel would make the broker close the connection (504). */
        amqp_channel_open_t open = {.out_of_band = amqp_empty_bytes};
        int status = gw_amqp_out_method(conn->out, TOPOLOGY, AMQP_CHANNEL_OPEN_METHOD, &open);
        size_t n = conn->n_pending;
        enum topology_ok *pending = conn->pending;
        conn->pending = NULL;
        conn->n_pending = conn->cap_pending = 0;
        for (size_t i = 0; i < n; i++)
            if (pending[i] == REPORT)
                events->topology(arg, false, why);
        free(pending);
        return status;
    }
    default:
        return GW_OK; /* channel.open-ok and the like */
    }
}

/* The number of the consumer a delivery came to (by its tag); n_consumers for none of ours. */
static size_t consumer_of(const struct gw_amqp_conn *conn, amqp_bytes_t tag)
{
    for (size_t i = 0; i < conn->n_consumers; i++)
        if (tag.len == strlen(conn->consumers[i].tag) &&
            memcmp(tag.bytes, conn->consumers[i].tag, tag.len) == 0)
            return i;
    return conn->n_consumers;
}

static int handle_method_frame(struct gw_amqp_conn *conn, const amqp_frame_t *frame,
                               const struct gw_amqp_events *events, void *arg, char *err,
                               size_t errlen)
{
    if (frame->channel == TOPOLOGY)
        return handle_topology_frame(conn, frame, events, arg);
    switch (frame->payload.method.id) {
    case AMQP_BASIC_ACK_METHOD: {
        const amqp_basic_ack_t *ack = frame->payload.method.decoded;
        events->confirmed(arg, ack->delivery_tag, ack->multiple, true);
        return GW_OK;
    }
    case AMQP_BASIC_NACK_METHOD: {
        const amqp_basic_nack_t *nack = frame->payload.method.decoded;
        events->confirmed(arg, nack->delivery_tag, nack->multiple, false);
        return GW_OK;
    }
    case AMQP_CHANNEL_CLOSE_METHOD: {
        const amqp_channel_close_t *c = frame->payload.method.decoded;
        snprintf(err, errlen, "channel closed by the broker: %d %.*s", c->reply_code,
                 (int)c->reply_text.len, (const char *)c->reply_text.bytes);
        amqp_channel_close_ok_t ok = {0};
        gw_amqp_out_method(conn->out, frame->channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
        return GW_EBROKER;
    }
    case AMQP_CONNECTION_BLOCKED_METHOD: {
        const amqp_connection_blocked_t *b = frame->payload.method.decoded;
        char reason[128];
        snprintf(reason, sizeof(reason), "%.*s", (int)b->reason.len, (const char *)b->reason.bytes);
        if (events->blocked)
            events->blocked(arg, true, reason);
        return GW_OK;
    }
    case AMQP_CONNECTION_UNBLOCKED_METHOD:
        if (events->blocked)
            events->blocked(arg, false, "");
        return GW_OK;
    case AMQP_CONNECTION_CLOSE_METHOD: {
        const amqp_connection_close_t *c = frame->payload.method.decoded;
        snprintf(err, errlen, "connection closed by the broker: %d %.*s", c->reply_code,
                 (int)c->reply_text.len, (const char *)c->reply_text.bytes);
        amqp_connection_close_ok_t ok = {0};
        gw_amqp_out_method(conn->out, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
        conn->open = false;
        return GW_EBROKER;
    }
    default:
        /* basic.cancel-ok, consume-ok and the like: nothing to do. A server basic.cancel (a
         * consumed queue was deleted: the reply queue, and with it every reply) leaves a consumer
         * without deliveries: treat it as a lost connection, which declares it all again. */
        if (frame->payload.method.id == AMQP_BASIC_CANCEL_METHOD) {
            const amqp_basic_cancel_t *cancel = frame->payload.method.decoded;
            size_t i = consumer_of(conn, cancel->consumer_tag);
            snprintf(err, errlen, "the broker cancelled the %s consumer",
                     i < conn->n_consumers ? conn->consumers[i].role : "unknown");
            return GW_EBROKER;
        }
        return GW_OK;
    }
}

/* Whether rabbitmq-c holds bytes or frames not yet handed out. When it does not, the drain stops
 * without another read: that read would only find EAGAIN (and rabbitmq-c adds a poll), and the
 * loop's poll is level-triggered, so bytes still in the socket wake it again at once. */
static bool more_buffered(struct gw_amqp_conn *conn)
{
    return amqp_frames_enqueued(conn->state) || amqp_data_in_buffer(conn->state);
}

/* A complete delivery or return, handed to events. */
static void hand_out(struct gw_amqp_conn *conn, const struct gw_amqp_events *events, void *arg)
{
    const amqp_method_t *method = gw_amqp_message_method(conn->incoming);
    const amqp_basic_properties_t *props = gw_amqp_message_props(conn->incoming);
    if (method->id == AMQP_BASIC_RETURN_METHOD) {
        const amqp_basic_return_t *ret = method->decoded;
        events->returned(arg, props, ret->reply_code);
        return;
    }
    const amqp_basic_deliver_t *deliver = method->decoded;
    struct gw_amqp_delivery d = {
        .consumer = consumer_of(conn, deliver->consumer_tag),
        .exchange = deliver->exchange,
        .routing_key = deliver->routing_key,
        .delivery_tag = deliver->delivery_tag,
        .props = props,
        .body = gw_amqp_message_body(conn->incoming),
    };
    events->delivery(arg, &d);
}

/* One frame, as it comes: a frame of the message being read, the start of a message, or a method
 * of its own. A message's frames are never waited for (core/amqp_message.h). */
static int take_frame(struct gw_amqp_conn *conn, const amqp_frame_t *frame,
                      const struct gw_amqp_events *events, void *arg, char *err, size_t errlen)
{
    bool in_message = frame->channel == CHANNEL && gw_amqp_message_pending(conn->incoming);
    bool channel_close = frame->frame_type == AMQP_FRAME_METHOD &&
                         frame->payload.method.id == AMQP_CHANNEL_CLOSE_METHOD;
    if (in_message && !channel_close) {
        int status = gw_amqp_message_add(conn->incoming, frame, err, errlen);
        if (status == GW_OK)
            hand_out(conn, events, arg);
        if (status != GW_AGAIN)
            gw_amqp_message_end(conn->incoming);
        return status == GW_AGAIN ? GW_OK : status;
    }
    if (in_message)
        gw_amqp_message_end(conn->incoming); /* the broker closes the channel mid-message */
    if (frame->frame_type != AMQP_FRAME_METHOD)
        return GW_OK; /* a stray header or body frame: nothing to do with it */
    if (frame->channel == CHANNEL && (frame->payload.method.id == AMQP_BASIC_DELIVER_METHOD ||
                                      frame->payload.method.id == AMQP_BASIC_RETURN_METHOD)) {
        gw_amqp_message_begin(conn->incoming, frame);
        return GW_OK;
    }
    return handle_method_frame(conn, frame, events, arg, err, errlen);
}

int gw_amqp_conn_drain(struct gw_amqp_conn *conn, const struct gw_amqp_events *events, void *arg,
                       char *err, size_t errlen)
{
    struct timeval zero = {0, 0};
    for (;;) {
        /* rabbitmq-c's buffers hold the frames of a message being read: its channel's are kept
         * until it ends. */
        if (!gw_amqp_message_pending(conn->incoming)) {
            amqp_maybe_release_buffers(conn->state);
        } else {
            amqp_maybe_release_buffers_on_channel(conn->state, 0);
            amqp_maybe_release_buffers_on_channel(conn->state, TOPOLOGY);
        }
        amqp_frame_t frame;
        int rc = amqp_simple_wait_frame_noblock(conn->state, &frame, &zero);
        if (rc == AMQP_STATUS_TIMEOUT)
            return GW_OK; /* the rest comes with the socket's next readable event */
        if (rc != AMQP_STATUS_OK) {
            snprintf(err, errlen, "read: %s", amqp_error_string2(rc));
            return GW_EBROKER;
        }
        int status = take_frame(conn, &frame, events, arg, err, errlen);
        if (status != GW_OK || !more_buffered(conn))
            return status;
    }
}

int gw_amqp_conn_publish(struct gw_amqp_conn *conn, const char *exchange, const char *routing_key,
                         bool mandatory, const amqp_basic_properties_t *props, const void *body,
                         size_t len, uint64_t *delivery_tag, char *err, size_t errlen)
{
    amqp_basic_publish_t method = {
        .exchange = amqp_cstring_bytes(exchange),
        .routing_key = amqp_cstring_bytes(routing_key),
        .mandatory = mandatory,
    };
    int status = gw_amqp_out_publish(conn->out, CHANNEL, conn->frame_max, &method, props, body, len,
                                     err, errlen);
    if (status == GW_OK)
        *delivery_tag = conn->next_tag++;
    return status;
}

bool gw_amqp_conn_has_output(const struct gw_amqp_conn *conn)
{
    return gw_amqp_out_bytes(conn->out) > 0;
}

size_t gw_amqp_conn_output_bytes(const struct gw_amqp_conn *conn)
{
    return gw_amqp_out_bytes(conn->out);
}

int gw_amqp_conn_flush_some(struct gw_amqp_conn *conn, char *err, size_t errlen)
{
    return gw_amqp_out_flush_some(conn->out, err, errlen);
}

int gw_amqp_conn_ack(struct gw_amqp_conn *conn, uint64_t delivery_tag)
{
    /* Queued after the reply it follows (nameko acks once the reply is out). */
    amqp_basic_ack_t ack = {.delivery_tag = delivery_tag};
    return gw_amqp_out_method(conn->out, CHANNEL, AMQP_BASIC_ACK_METHOD, &ack);
}

static void topology_push(struct gw_amqp_conn *conn, enum topology_ok what)
{
    if (conn->n_pending == conn->cap_pending) {
        conn->cap_pending = conn->cap_pending ? conn->cap_pending * 2 : 16;
        conn->pending = xrealloc(conn->pending, conn->cap_pending * sizeof(*conn->pending));
    }
    conn->pending[conn->n_pending++] = what;
}

int gw_amqp_conn_bind(struct gw_amqp_conn *conn, const char *queue, const char *exchange,
                      const char *key, const char *declare_type, bool unbind)
{
    if ((queue && strlen(queue) > GW_AMQP_NAME_MAX) || strlen(exchange) > GW_AMQP_NAME_MAX ||
        strlen(key) > GW_AMQP_NAME_MAX)
        return GW_EINVAL;
    int rc = GW_OK;
    if (declare_type) {
        /* Durable and kept, as nameko declares an events exchange (§5) and amphora its own. */
        amqp_exchange_declare_t declare = {
            .exchange = amqp_cstring_bytes(exchange),
            .type = amqp_cstring_bytes(declare_type),
            .durable = 1,
            .arguments = amqp_empty_table,
        };
        rc = gw_amqp_out_method(conn->out, TOPOLOGY, AMQP_EXCHANGE_DECLARE_METHOD, &declare);
        topology_push(conn, queue ? SKIP : REPORT);
        if (!queue)
            return rc;
    }
    if (rc == GW_OK && unbind) {
        amqp_queue_unbind_t req = {
            .queue = amqp_cstring_bytes(queue),
            .exchange = amqp_cstring_bytes(exchange),
            .routing_key = amqp_cstring_bytes(key),
            .arguments = amqp_empty_table,
        };
        rc = gw_amqp_out_method(conn->out, TOPOLOGY, AMQP_QUEUE_UNBIND_METHOD, &req);
    } else if (rc == GW_OK) {
        amqp_queue_bind_t req = {
            .queue = amqp_cstring_bytes(queue),
            .exchange = amqp_cstring_bytes(exchange),
            .routing_key = amqp_cstring_bytes(key),
            .arguments = amqp_empty_table,
        };
        rc = gw_amqp_out_method(conn->out, TOPOLOGY, AMQP_QUEUE_BIND_METHOD, &req);
    }
    topology_push(conn, REPORT);
    return rc;
}

void gw_amqp_conn_free(struct gw_amqp_conn *conn, bool polite)
{
    if (!conn)
        return;
    char err[128];
    /* rabbitmq-c writes the close itself: only once every frame of enoki's went whole. */
    if (polite && conn->open && conn->out &&
        gw_amqp_out_flush(conn->out, CLOSE_TIMEOUT_S * 1000, err, sizeof(err)) == GW_OK) {
        struct timeval timeout = {CLOSE_TIMEOUT_S, 0};
        amqp_set_rpc_timeout(conn->state, &timeout);
        amqp_channel_close(conn->state, CHANNEL, AMQP_REPLY_SUCCESS);
        amqp_connection_close(conn->state, AMQP_REPLY_SUCCESS);
    } else if (conn->out) {
        gw_amqp_out_flush_some(conn->out, err,
                               sizeof(err)); /* a close-ok, if the socket takes it */
    }
    amqp_destroy_connection(conn->state);
    for (size_t i = 0; i < conn->n_consumers; i++) {
        free(conn->consumers[i].tag);
        free(conn->consumers[i].role);
    }
    free(conn->consumers);
    free(conn->pending);
    gw_amqp_out_free(conn->out);
    gw_amqp_message_free(conn->incoming);
    free(conn);
}
