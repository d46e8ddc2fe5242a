#include "rpc.h"

#include "amqp_conn.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "status.h"
#include "wire.h"
#include "xalloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { REPLY_QUEUE_EXPIRES_MS = 300000, BUCKETS = 1024 };

enum conn_state { DISCONNECTED, CONNECTING, CONNECTED, CLOSING };

struct gw_rpc_call {
    struct gw_rpc *rpc;
    struct gw_rpc_call *next; /* bucket chain, or the parked list while parked */
    uv_timer_t deadline;
    gw_rpc_done_fn done;
    void *arg;
    uint64_t delivery_tag;
    uint64_t started_ns;
    char correlation_id[GW_UUID_LEN + 1];
    char *routing_key;
    /* A call made while the first connection is being made waits for it, unsent: */
    bool parked;
    char *body; /* the request body, until published */
    size_t body_len;
    json_t *context; /* for the headers, until published */
};

struct hub_publish {
    struct hub_publish *next;
    char message_id[GW_UUID_LEN + 1];
    gw_rpc_routed_fn routed;
    void *arg;
};

struct unconfirmed {
    uint64_t tag;
    char correlation_id[GW_UUID_LEN + 1];
    struct hub_publish *hub; /* a hub publish waiting for its routing, or NULL */
};

struct gw_rpc_waiter {
    struct gw_rpc_waiter *next;
    gw_rpc_bound_fn done; /* NULL once cancelled */
    void *arg;
};

/* A binding of the hub queue, kept while anyone needs it and made again after a reconnect. */
struct binding {
    char *exchange;
    char *key;
    bool declare_exchange;
    bool ready;
    int refcount;
    struct gw_rpc_waiter *waiters;
};

/* A topology operation sent and not yet answered: which binding it was for (by name). */
struct topology_op {
    char *exchange;
    char *key;
};

struct connect_job {
    uv_work_t work;
    struct gw_rpc *rpc;
    struct gw_amqp_setup setup;
    struct gw_amqp_conn *conn;
    int status;
    char err[256];
};

struct gw_rpc {
    uv_loop_t *loop;
    const struct gw_config *config;
    enum conn_state state;
    struct gw_amqp_conn *conn;
    uv_poll_t *poll; /* watches conn's socket; freed by its close callback */
    uv_timer_t heartbeat;
    int heartbeat_s;        /* negotiated, 0 = off */
    uint64_t last_heard_ms; /* uv_now when the broker's socket was last readable */
    uv_timer_t reconnect;
    uv_prepare_t flusher;
    bool draining;      /* inside gw_amqp_conn_drain: the connection must not be freed */
    char lost_why[256]; /* a loss found meanwhile, handled when the drain returns */
    double backoff_s;
    char reply_key[GW_UUID_LEN + 1];
    char *reply_queue;
    struct gw_rpc_call *buckets[BUCKETS];
    size_t pending; /* calls in the buckets and parked ones */
    /* Until the first connection attempt ends, calls wait for it (FIFO) instead of failing: enoki
     * listens before it has reached the broker, and a client that connects in those few
     * milliseconds (a browser reconnecting after a restart) should not see BrokerUnavailable. */
    bool starting;
    struct gw_rpc_call *parked, **parked_tail;
    struct unconfirmed *unconfirmed; /* FIFO of publishes not yet acked, in tag order */
    size_t n_unconfirmed, cap_unconfirmed;
    amqp_pool_t header_pool;
    bool job_running;
    uint64_t generation; /* counts connections; a reply to a request of an older one is not sent */
    bool serving;
    struct gw_metrics *metrics;
    struct gw_rpc_service service;
    char *service_queue, *service_key, *hub_exchange, *hub_queue;
    struct binding *bindings;
    size_t n_bindings, cap_bindings;
    struct topology_op *ops; /* FIFO */
    size_t n_ops, cap_ops;
    struct hub_publish *publishes;
    int handles_open;
    void (*closed)(void *arg);
    void *closed_arg;
};

static void start_connect(struct gw_rpc *rpc);
static void connection_lost(struct gw_rpc *rpc, const char *why);
static void publish_parked(struct gw_rpc *rpc);
static void remember_unconfirmed(struct gw_rpc *rpc, uint64_t tag, const char *correlation_id);

/* Whether a call or a binding asked for now waits for the connection being made (see starting). */
static bool waits_for_first_connection(const struct gw_rpc *rpc)
{
    return rpc->state == CONNECTING && rpc->starting;
}

/* Runs the close callback once nothing of the client is left on the loop. */
static void maybe_closed(struct gw_rpc *rpc)
{
    if (rpc->state == CLOSING && rpc->handles_open == 0 && !rpc->job_running && rpc->closed) {
        void (*closed)(void *) = rpc->closed;
        rpc->closed = NULL;
        closed(rpc->closed_arg);
    }
}

static size_t bucket_of(const char *correlation_id)
{
    /* FNV-1a over a random uuid spreads well enough. */
    uint32_t h = 2166136261u;
    for (const char *p = correlation_id; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h % BUCKETS;
}

static struct gw_rpc_call *find_call(struct gw_rpc *rpc, const char *correlation_id, size_t len)
{
    char key[GW_UUID_LEN + 1];
    if (len != GW_UUID_LEN)
        return NULL;
    memcpy(key, correlation_id, len);
    key[len] = '\0';
    for (struct gw_rpc_call *c = rpc->buckets[bucket_of(key)]; c; c = c->next)
        if (strcmp(c->correlation_id, key) == 0)
            return c;
    return NULL;
}

static void unlink_call(struct gw_rpc_call *call)
{
    struct gw_rpc *rpc = call->rpc;
    struct gw_rpc_call **p =
        call->parked ? &rpc->parked : &rpc->buckets[bucket_of(call->correlation_id)];
    struct gw_rpc_call *prev = NULL;
    while (*p && *p != call) {
        prev = *p;
        p = &(*p)->next;
    }
    if (*p) {
        *p = call->next;
        if (call->parked && rpc->parked_tail == &call->next)
            rpc->parked_tail = prev ? &prev->next : &rpc->parked;
        call->next = NULL;
        call->parked = false;
        rpc->pending--;
    }
}

static void free_call(uv_handle_t *handle)
{
    struct gw_rpc_call *call = handle->data;
    struct gw_rpc *rpc = call->rpc;
    free(call->routing_key);
    free(call->body);
    json_decref(call->context);
    free(call);
    rpc->handles_open--;
    maybe_closed(rpc);
}

/* Ends a call exactly once: out of the table, timer closed, done called (unless cancelled). */
static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void finish_call(struct gw_rpc_call *call, int status, const json_t *result,
                        const json_t *error, const char *detail)
{
    unlink_call(call);
    if (call->rpc->metrics && status != GW_ECANCELLED) {
        gw_metrics_rpc(call->rpc->metrics, (double)(now_ns() - call->started_ns) / 1e9, status);
        gw_metrics_set_in_flight(call->rpc->metrics, call->rpc->pending);
    }
    uv_timer_stop(&call->deadline);
    uv_close((uv_handle_t *)&call->deadline, free_call);
    if (call->done)
        call->done(call->arg, status, result, error, detail);
}

static void on_deadline(uv_timer_t *timer)
{
    struct gw_rpc_call *call = timer->data;
    if (call->parked) {
        /* Never sent: the broker was not reached in time, which is not the service's fault. */
        finish_call(call, GW_EBROKER, NULL, NULL, "not connected to the broker yet");
        return;
    }
    char detail[256];
    snprintf(detail, sizeof(detail), "no reply from %s before the deadline", call->routing_key);
    finish_call(call, GW_ETIMEOUT, NULL, NULL, detail);
}

static void fail_parked(struct gw_rpc *rpc, int status, const char *detail)
{
    while (rpc->parked)
        finish_call(rpc->parked, status, NULL, NULL, detail);
}

static void fail_all(struct gw_rpc *rpc, int status, const char *detail)
{
    for (size_t i = 0; i < BUCKETS; i++)
        while (rpc->buckets[i])
            finish_call(rpc->buckets[i], status, NULL, NULL, detail);
    fail_parked(rpc, status, detail);
    rpc->n_unconfirmed = 0;
}

/* --- events from the connection ------------------------------------------------------------- */

static void on_reply(struct gw_rpc *rpc, const amqp_basic_properties_t *props, amqp_bytes_t body)
{
    if (!(props->_flags & AMQP_BASIC_CORRELATION_ID_FLAG)) {
        gw_debug("rpc", "dropped a reply without correlation_id");
        return;
    }
    struct gw_rpc_call *call =
        find_call(rpc, props->correlation_id.bytes, props->correlation_id.len);
    if (!call) {
        /* Late (after its deadline), duplicate (redelivered request) or foreign: dropped (§3). */
        gw_debug("rpc", "dropped a reply for an unknown or finished call %.*s",
                 (int)props->correlation_id.len, (const char *)props->correlation_id.bytes);
        return;
    }
    json_t *result = NULL;
    json_t *error = NULL;
    char why[256];
    int status = gw_wire_reply_decode(body.bytes, body.len, &result, &error, why, sizeof(why));
    if (status != GW_OK) {
        gw_warn("rpc", "undecodable reply from %s: %s", call->routing_key, why);
        finish_call(call, GW_EBADREPLY, NULL, NULL, why);
    } else if (error) {
        finish_call(call, GW_EREMOTE, NULL, error, gw_wire_exc_type(error));
    } else {
        finish_call(call, GW_OK, result, NULL, "ok");
    }
    json_decref(result);
    json_decref(error);
}

static char *bytes_dup(amqp_bytes_t b)
{
    return xstrndup(b.bytes ? b.bytes : "", b.len);
}

void gw_rpc_incoming_free(struct gw_rpc_incoming *in)
{
    if (!in)
        return;
    free(in->method);
    json_decref(in->args);
    json_decref(in->kwargs);
    json_decref(in->body);
    free(in->reply_to);
    free(in->correlation_id);
    free(in->content_type);
    free(in);
}

/* A request as nameko reads one (§2), or NULL (with the delivery acked and dropped) for what nameko
 * would drop, or die on: no content_type, no reply_to, a body that is not JSON. */
static struct gw_rpc_incoming *incoming_new(struct gw_rpc *rpc, const struct gw_amqp_delivery *d,
                                            const char *method)
{
    const amqp_basic_properties_t *props = d->props;
    json_t *body = gw_json_decode_lenient(d->body.bytes, d->body.len, NULL);
    bool usable = body && (props->_flags & AMQP_BASIC_CONTENT_TYPE_FLAG) &&
                  (props->_flags & AMQP_BASIC_REPLY_TO_FLAG);
    if (!usable) {
        gw_warn("rpc", "dropped a request to %s without content_type, reply_to or a JSON body",
                method);
        json_decref(body);
        if (d->consumer == GW_CONSUMER_SERVICE && rpc->conn)
            gw_amqp_conn_ack(rpc->conn, d->delivery_tag);
        return NULL;
    }
    struct gw_rpc_incoming *in = xcalloc(1, sizeof(*in));
    in->method = xstrdup(method);
    in->body = body;
    json_t *args = json_object_get(body, "args");
    json_t *kwargs = json_object_get(body, "kwargs");
    in->args = json_is_array(args) ? json_incref(args) : NULL;
    in->kwargs = json_is_object(kwargs) ? json_incref(kwargs) : NULL;
    in->reply_to = bytes_dup(props->reply_to);
    if (props->_flags & AMQP_BASIC_CORRELATION_ID_FLAG)
        in->correlation_id = bytes_dup(props->correlation_id);
    in->content_type = bytes_dup(props->content_type);
    in->delivery_tag = d->consumer == GW_CONSUMER_SERVICE ? d->delivery_tag : 0;
    in->generation = rpc->generation;
    return in;
}

static void on_service_request(struct gw_rpc *rpc, const struct gw_amqp_delivery *d)
{
    char *key = bytes_dup(d->routing_key);
    const char *dot = strchr(key, '.');
    struct gw_rpc_incoming *in = incoming_new(rpc, d, dot ? dot + 1 : "");
    free(key);
    if (!in)
        return;
    if (!in->args || !in->kwargs) {
        json_t *error = json_pack("{s:s, s:s, s:[s], s:s}", "exc_type", "MalformedRequest",
                                  "exc_path", "nameko.exceptions.MalformedRequest", "exc_args",
                                  "Message missing `args` or `kwargs`", "value",
                                  "Message missing `args` or `kwargs`");
        gw_rpc_reply(rpc, in, NULL, error);
        json_decref(error);
        return;
    }
    rpc->service.request(rpc->service.arg, in);
}

static void on_hub_delivery(struct gw_rpc *rpc, const struct gw_amqp_delivery *d)
{
    char *exchange = bytes_dup(d->exchange);
    char *key = bytes_dup(d->routing_key);
    struct gw_rpc_incoming *forwarded = NULL;
    json_t *body = gw_json_decode_lenient(d->body.bytes, d->body.len, NULL);
    const char *method = json_string_value(json_object_get(body, "method"));
    if ((d->props->_flags & AMQP_BASIC_REPLY_TO_FLAG) && method)
        forwarded = incoming_new(rpc, d, method); /* a request another instance passed on */
    if (body)
        rpc->service.hub_message(rpc->service.arg, exchange, key, body, forwarded);
    else
        gw_warn("rpc", "dropped a message from %s that is not JSON", exchange);
    json_decref(body);
    free(exchange);
    free(key);
}

static void on_delivery(void *arg, const struct gw_amqp_delivery *d)
{
    struct gw_rpc *rpc = arg;
    switch (d->consumer) {
    case GW_CONSUMER_REPLY:
        on_reply(rpc, d->props, d->body);
        break;
    case GW_CONSUMER_SERVICE:
        on_service_request(rpc, d);
        break;
    case GW_CONSUMER_HUB:
        on_hub_delivery(rpc, d);
        break;
    }
}

static struct hub_publish *take_publish(struct gw_rpc *rpc, const char *message_id, size_t len)
{
    for (struct hub_publish **p = &rpc->publishes; *p; p = &(*p)->next) {
        if (strlen((*p)->message_id) == len && memcmp((*p)->message_id, message_id, len) == 0) {
            struct hub_publish *found = *p;
            *p = found->next;
            return found;
        }
    }
    return NULL;
}

static void on_returned(void *arg, const amqp_basic_properties_t *props, int reply_code)
{
    struct gw_rpc *rpc = arg;
    if (props->_flags & AMQP_BASIC_MESSAGE_ID_FLAG) {
        /* A hub publish no queue was bound for: the socket is on no instance. Its ack follows and
         * then finds nothing. */
        struct hub_publish *hub = take_publish(rpc, props->message_id.bytes, props->message_id.len);
        if (hub) {
            for (size_t i = 0; i < rpc->n_unconfirmed; i++)
                if (rpc->unconfirmed[i].hub == hub)
                    rpc->unconfirmed[i].hub = NULL;
            hub->routed(hub->arg, false);
            free(hub);
        }
        return;
    }
    if (!(props->_flags & AMQP_BASIC_CORRELATION_ID_FLAG))
        return;
    struct gw_rpc_call *call =
        find_call(rpc, props->correlation_id.bytes, props->correlation_id.len);
    if (!call)
        return;
    char detail[256];
    /* A 312 NO_ROUTE return comes before the ack of the same publish: no queue is bound (§1). */
    snprintf(detail, sizeof(detail), "no queue is bound for %s (return %d)", call->routing_key,
             reply_code);
    finish_call(call, GW_EUNKNOWN_SERVICE, NULL, NULL, detail);
}

static void on_confirmed(void *arg, uint64_t tag, bool multiple, bool ack)
{
    struct gw_rpc *rpc = arg;
    size_t keep = 0;
    for (size_t i = 0; i < rpc->n_unconfirmed; i++) {
        struct unconfirmed *u = &rpc->unconfirmed[i];
        bool covered = multiple ? u->tag <= tag : u->tag == tag;
        if (!covered) {
            rpc->unconfirmed[keep++] = *u;
            continue;
        }
        if (u->hub) {
            struct hub_publish *hub = take_publish(rpc, u->hub->message_id, GW_UUID_LEN);
            if (hub) {
                hub->routed(hub->arg, ack);
                free(hub);
            }
        } else if (!ack && u->correlation_id[0]) {
            struct gw_rpc_call *call = find_call(rpc, u->correlation_id, GW_UUID_LEN);
            if (call)
                finish_call(call, GW_EBROKER, NULL, NULL, "the broker refused the request (nack)");
        }
    }
    rpc->n_unconfirmed = keep;
}

static struct binding *find_binding(struct gw_rpc *rpc, const char *exchange, const char *key)
{
    for (size_t i = 0; i < rpc->n_bindings; i++)
        if (strcmp(rpc->bindings[i].exchange, exchange) == 0 &&
            strcmp(rpc->bindings[i].key, key) == 0)
            return &rpc->bindings[i];
    return NULL;
}

static void notify_waiters(struct binding *b, int status)
{
    struct gw_rpc_waiter *w = b->waiters;
    b->waiters = NULL;
    while (w) {
        struct gw_rpc_waiter *next = w->next;
        if (w->done)
            w->done(w->arg, status);
        free(w);
        w = next;
    }
}

static void on_topology(void *arg, bool ok, const char *why)
{
    struct gw_rpc *rpc = arg;
    if (rpc->n_ops == 0)
        return;
    struct topology_op op = rpc->ops[0];
    memmove(rpc->ops, rpc->ops + 1, (rpc->n_ops - 1) * sizeof(*rpc->ops));
    rpc->n_ops--;
    struct binding *b = find_binding(rpc, op.exchange, op.key);
    if (b && b->refcount > 0) {
        if (!ok)
            gw_warn("rpc", "cannot bind to %s by %s: %s", op.exchange, op.key, why);
        b->ready = ok;
        notify_waiters(b, ok ? GW_OK : GW_EBROKER);
    }
    free(op.exchange);
    free(op.key);
}

static const struct gw_amqp_events events = {
    .delivery = on_delivery,
    .returned = on_returned,
    .confirmed = on_confirmed,
    .topology = on_topology,
};

static void drain(struct gw_rpc *rpc)
{
    char err[256];
    if (rpc->state != CONNECTED)
        return;
    rpc->draining = true;
    int status = gw_amqp_conn_drain(rpc->conn, &events, rpc, err, sizeof(err));
    rpc->draining = false;
    if (rpc->lost_why[0]) {
        snprintf(err, sizeof(err), "%s", rpc->lost_why);
        rpc->lost_why[0] = '\0';
        status = GW_EBROKER;
    }
    if (status != GW_OK)
        connection_lost(rpc, err);
}

static void on_readable(uv_poll_t *poll, int status, int revents)
{
    (void)revents;
    struct gw_rpc *rpc = poll->data;
    if (status < 0) {
        connection_lost(rpc, uv_strerror(status));
        return;
    }
    rpc->last_heard_ms = uv_now(rpc->loop);
    drain(rpc);
}

static void on_flush(uv_prepare_t *prepare)
{
    struct gw_rpc *rpc = prepare->data;
    char err[256];
    if (rpc->state == CONNECTED && gw_amqp_conn_has_output(rpc->conn) &&
        gw_amqp_conn_flush(rpc->conn, err, sizeof(err)) != GW_OK)
        connection_lost(rpc, err);
}

static void on_heartbeat_tick(uv_timer_t *timer)
{
    struct gw_rpc *rpc = timer->data;
    /* The broker sends a heartbeat every half interval when it has nothing else to say: a whole
     * interval of silence is two missed, and the connection is dead even if TCP has not noticed
     * (a frozen broker, a cut cable). rabbitmq-c itself would wait two intervals. */
    uint64_t silent_ms = uv_now(rpc->loop) - rpc->last_heard_ms;
    if (rpc->state == CONNECTED && silent_ms > (uint64_t)rpc->heartbeat_s * 1000) {
        char why[96];
        snprintf(why, sizeof(why), "no heartbeat from the broker for %.1f s",
                 (double)silent_ms / 1000);
        connection_lost(rpc, why);
        return;
    }
    /* rabbitmq-c sends heartbeats only from inside its own calls: a zero-timeout drain does it. */
    drain(rpc);
}

/* --- connecting ----------------------------------------------------------------------------- */

static void free_poll(uv_handle_t *handle)
{
    struct gw_rpc *rpc = handle->data;
    free(handle);
    rpc->handles_open--;
    maybe_closed(rpc);
}

static void on_handle_closed(uv_handle_t *handle)
{
    struct gw_rpc *rpc = handle->data;
    rpc->handles_open--;
    maybe_closed(rpc);
}

static void stop_watching(struct gw_rpc *rpc)
{
    if (rpc->poll) {
        uv_poll_stop(rpc->poll);
        uv_close((uv_handle_t *)rpc->poll, free_poll);
        rpc->poll = NULL;
    }
    uv_timer_stop(&rpc->heartbeat);
}

static void on_reconnect_timer(uv_timer_t *timer)
{
    start_connect(timer->data);
}

static void schedule_reconnect(struct gw_rpc *rpc)
{
    /* Jittered exponential backoff: 0.5 s doubling up to 5 s, +-25 %, so that many gateways do not
     * all knock at a restarting broker in the same instant. */
    double delay = rpc->backoff_s * (0.75 + 0.5 * (double)rand() / RAND_MAX);
    rpc->backoff_s = fmin(rpc->backoff_s * 2, 5.0);
    uv_timer_start(&rpc->reconnect, on_reconnect_timer, (uint64_t)(delay * 1000), 0);
}

/* Everything waiting on the connection that is gone: hub publishes are unrouted, bindings are no
 * longer in place (they are made again on reconnect), their waiters fail. */
static void fail_topology(struct gw_rpc *rpc)
{
    while (rpc->publishes) {
        struct hub_publish *p = rpc->publishes;
        rpc->publishes = p->next;
        p->routed(p->arg, false);
        free(p);
    }
    for (size_t i = 0; i < rpc->n_ops; i++) {
        free(rpc->ops[i].exchange);
        free(rpc->ops[i].key);
    }
    rpc->n_ops = 0;
    for (size_t i = 0; i < rpc->n_bindings; i++) {
        rpc->bindings[i].ready = false;
        notify_waiters(&rpc->bindings[i], GW_EBROKER);
    }
}

static void send_bind(struct gw_rpc *rpc, const char *exchange, const char *key, bool declare,
                      bool unbind)
{
    if (rpc->state != CONNECTED || !rpc->hub_queue)
        return;
    if (gw_amqp_conn_bind(rpc->conn, rpc->hub_queue, exchange, key, declare, unbind) != GW_OK)
        return; /* the drain will find the connection broken */
    if (rpc->n_ops == rpc->cap_ops) {
        rpc->cap_ops = rpc->cap_ops ? rpc->cap_ops * 2 : 16;
        rpc->ops = xrealloc(rpc->ops, rpc->cap_ops * sizeof(*rpc->ops));
    }
    rpc->ops[rpc->n_ops].exchange = xstrdup(exchange);
    rpc->ops[rpc->n_ops].key = xstrdup(key);
    rpc->n_ops++;
}

static void connection_lost(struct gw_rpc *rpc, const char *why)
{
    if (rpc->state != CONNECTED)
        return;
    if (rpc->draining) {
        /* A callback of the drain found the connection broken (a failed ack, say): the drain still
         * holds it, so it is let go once the drain returns. */
        if (!rpc->lost_why[0])
            snprintf(rpc->lost_why, sizeof(rpc->lost_why), "%s", why);
        return;
    }
    gw_warn("rpc", "lost the broker connection: %s", why);
    stop_watching(rpc);
    gw_amqp_conn_free(rpc->conn, false);
    rpc->conn = NULL;
    rpc->state = DISCONNECTED;
    fail_all(rpc, GW_EBROKER, "the broker connection was lost");
    fail_topology(rpc);
    schedule_reconnect(rpc);
}

static void connect_work(uv_work_t *work)
{
    struct connect_job *job = work->data;
    job->status = gw_amqp_conn_open(&job->setup, 5.0, &job->conn, job->err, sizeof(job->err));
}

static void connect_done(uv_work_t *work, int status)
{
    struct connect_job *job = work->data;
    struct gw_rpc *rpc = job->rpc;
    rpc->job_running = false;
    if (rpc->state == CLOSING) {
        gw_amqp_conn_free(job->conn, true);
        free(job);
        maybe_closed(rpc);
        return;
    }
    if (status < 0 || job->status != GW_OK) {
        gw_warn("rpc", "cannot reach the broker at %s:%d: %s", rpc->config->amqp.host,
                rpc->config->amqp.port, status < 0 ? uv_strerror(status) : job->err);
        rpc->state = DISCONNECTED;
        free(job);
        rpc->starting = false;
        fail_parked(rpc, GW_EBROKER, "cannot reach the broker");
        fail_topology(rpc);
        schedule_reconnect(rpc);
        return;
    }
    rpc->conn = job->conn;
    free(job);
    rpc->poll = xcalloc(1, sizeof(*rpc->poll));
    rpc->poll->data = rpc;
    uv_poll_init(rpc->loop, rpc->poll, gw_amqp_conn_fd(rpc->conn));
    rpc->handles_open++;
    uv_poll_start(rpc->poll, UV_READABLE | UV_DISCONNECT, on_readable);
    rpc->heartbeat_s = gw_amqp_conn_heartbeat(rpc->conn);
    rpc->last_heard_ms = uv_now(rpc->loop);
    if (rpc->heartbeat_s > 0) {
        /* Eighths: a dead broker is noticed at most 1/8 interval late. */
        uint64_t every = (uint64_t)rpc->heartbeat_s * 1000 / 8;
        uv_timer_start(&rpc->heartbeat, on_heartbeat_tick, every, every);
    }
    rpc->state = CONNECTED;
    rpc->backoff_s = 0.5;
    if (rpc->generation > 0 && rpc->metrics)
        gw_metrics_reconnect(rpc->metrics);
    rpc->generation++;
    /* The hub queue went with the old connection: its bindings are made again. */
    for (size_t i = 0; i < rpc->n_bindings; i++)
        send_bind(rpc, rpc->bindings[i].exchange, rpc->bindings[i].key,
                  rpc->bindings[i].declare_exchange, false);
    gw_info("rpc", "connected to %s:%d vhost %s, reply queue %s", rpc->config->amqp.host,
            rpc->config->amqp.port, rpc->config->amqp.vhost, rpc->reply_queue);
    /* Every call was failed when the connection went, so none waits on the vanished queue. */
    if (rpc->generation > 1 && !gw_amqp_conn_reply_queue_found(rpc->conn))
        gw_warn("rpc", "reply queue %s had expired while disconnected; declared it again",
                rpc->reply_queue);
    rpc->starting = false;
    publish_parked(rpc);
    /* Frames that arrived with the last synchronous reply are already buffered. */
    drain(rpc);
}

static void start_connect(struct gw_rpc *rpc)
{
    if (rpc->state != DISCONNECTED || rpc->job_running)
        return;
    struct connect_job *job = xcalloc(1, sizeof(*job));
    job->rpc = rpc;
    job->work.data = job;
    job->setup = (struct gw_amqp_setup){
        .uri = &rpc->config->amqp,
        .heartbeat = rpc->config->heartbeat,
        .exchange = rpc->config->rpc_exchange,
        .reply_queue = rpc->reply_queue,
        .reply_key = rpc->reply_key,
        .reply_queue_expires_ms = REPLY_QUEUE_EXPIRES_MS,
        .product = "enoki",
        .service_queue = rpc->serving ? rpc->service_queue : NULL,
        .service_key = rpc->service_key,
        .prefetch = 10,
        .hub_exchange = rpc->serving ? rpc->hub_exchange : NULL,
        .hub_queue = rpc->serving ? rpc->hub_queue : NULL,
        .hub_key = "broadcast",
    };
    rpc->state = CONNECTING;
    rpc->job_running = true;
    uv_queue_work(rpc->loop, &job->work, connect_work, connect_done);
}

/* --- the public face -------------------------------------------------------------------------- */

struct gw_rpc *gw_rpc_new(uv_loop_t *loop, const struct gw_config *config)
{
    struct gw_rpc *rpc = xcalloc(1, sizeof(*rpc));
    rpc->loop = loop;
    rpc->config = config;
    rpc->state = DISCONNECTED;
    rpc->starting = true;
    rpc->parked_tail = &rpc->parked;
    rpc->backoff_s = 0.5;
    gw_uuid4(rpc->reply_key);
    rpc->reply_queue = xasprintf("rpc.reply-%s-%s", config->name, rpc->reply_key);
    init_amqp_pool(&rpc->header_pool, 4096);
    uv_timer_init(loop, &rpc->heartbeat);
    rpc->heartbeat.data = rpc;
    uv_timer_init(loop, &rpc->reconnect);
    rpc->reconnect.data = rpc;
    /* Once per loop pass, before it waits: everything published during the pass goes out in one
     * write. Unreferenced, so that it does not keep the loop alive. */
    uv_prepare_init(loop, &rpc->flusher);
    rpc->flusher.data = rpc;
    uv_prepare_start(&rpc->flusher, on_flush);
    uv_unref((uv_handle_t *)&rpc->flusher);
    rpc->handles_open = 3;
    rpc->service_queue = xasprintf("rpc-%s", config->name);
    rpc->service_key = xasprintf("%s.*", config->name);
    rpc->hub_exchange = xasprintf("%s.hub", config->name);
    char uuid[GW_UUID_LEN + 1];
    gw_uuid4(uuid);
    rpc->hub_queue = xasprintf("enoki-hub-%s-%s", config->name, uuid);
    return rpc;
}

void gw_rpc_set_metrics(struct gw_rpc *rpc, struct gw_metrics *metrics)
{
    rpc->metrics = metrics;
}

void gw_rpc_start(struct gw_rpc *rpc)
{
    start_connect(rpc);
}

void gw_rpc_serve(struct gw_rpc *rpc, const struct gw_rpc_service *service)
{
    rpc->service = *service;
    rpc->serving = true;
}

const char *gw_rpc_hub_exchange(const struct gw_rpc *rpc)
{
    return rpc->hub_exchange;
}

void gw_rpc_reply(struct gw_rpc *rpc, struct gw_rpc_incoming *in, const json_t *result,
                  const json_t *error)
{
    /* A request of a connection that is gone has been requeued by the broker: it is answered
     * again when it comes back, not now. */
    if (rpc->state != CONNECTED || in->generation != rpc->generation) {
        gw_rpc_incoming_free(in);
        return;
    }
    json_t *doc = json_object();
    json_object_set(doc, "result", result ? (json_t *)(uintptr_t)result : json_null());
    json_object_set(doc, "error", error ? (json_t *)(uintptr_t)error : json_null());
    size_t len;
    char *body = gw_json_encode(doc, GW_JSON_PYTHON, &len);
    json_decref(doc);
    /* nameko's reply properties (§2): flags 0xFC00, correlation_id only when the request had one.
     */
    amqp_basic_properties_t props = {0};
    props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_CONTENT_ENCODING_FLAG |
                   AMQP_BASIC_HEADERS_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
                   AMQP_BASIC_PRIORITY_FLAG;
    props.content_type = amqp_cstring_bytes(in->content_type);
    props.content_encoding = amqp_cstring_bytes("utf-8");
    props.headers = amqp_empty_table;
    props.delivery_mode = 2;
    props.priority = 0;
    if (in->correlation_id) {
        props._flags |= AMQP_BASIC_CORRELATION_ID_FLAG;
        props.correlation_id = amqp_cstring_bytes(in->correlation_id);
    }
    uint64_t tag;
    char err[256];
    int status = gw_amqp_conn_publish(rpc->conn, rpc->config->rpc_exchange, in->reply_to, false,
                                      &props, body, len, &tag, err, sizeof(err));
    free(body);
    if (status == GW_OK) {
        remember_unconfirmed(rpc, tag, "");
        /* Acked after the reply is out, as nameko does. */
        if (in->delivery_tag)
            status = gw_amqp_conn_ack(rpc->conn, in->delivery_tag);
    }
    gw_rpc_incoming_free(in);
    if (status != GW_OK)
        connection_lost(rpc, err);
}

void gw_rpc_ack_only(struct gw_rpc *rpc, struct gw_rpc_incoming *in)
{
    if (rpc->state == CONNECTED && in->generation == rpc->generation && in->delivery_tag &&
        gw_amqp_conn_ack(rpc->conn, in->delivery_tag) != GW_OK)
        connection_lost(rpc, "ack failed");
    gw_rpc_incoming_free(in);
}

struct gw_rpc_waiter *gw_rpc_bind(struct gw_rpc *rpc, const char *exchange, const char *key,
                                  bool declare_exchange, gw_rpc_bound_fn done, void *arg)
{
    struct binding *b = find_binding(rpc, exchange, key);
    if (!b) {
        if (rpc->n_bindings == rpc->cap_bindings) {
            rpc->cap_bindings = rpc->cap_bindings ? rpc->cap_bindings * 2 : 16;
            rpc->bindings = xrealloc(rpc->bindings, rpc->cap_bindings * sizeof(*rpc->bindings));
        }
        b = &rpc->bindings[rpc->n_bindings++];
        memset(b, 0, sizeof(*b));
        b->exchange = xstrdup(exchange);
        b->key = xstrdup(key);
        b->declare_exchange = declare_exchange;
        send_bind(rpc, exchange, key, declare_exchange, false);
    }
    b->refcount++;
    if (!done)
        return NULL;
    if (b->ready || (rpc->state != CONNECTED && !waits_for_first_connection(rpc))) {
        done(arg, b->ready ? GW_OK : GW_EBROKER);
        return NULL;
    }
    struct gw_rpc_waiter *w = xcalloc(1, sizeof(*w));
    w->done = done;
    w->arg = arg;
    w->next = b->waiters;
    b->waiters = w;
    return w;
}

void gw_rpc_waiter_cancel(struct gw_rpc_waiter *waiter)
{
    if (waiter)
        waiter->done = NULL;
}

void gw_rpc_unbind(struct gw_rpc *rpc, const char *exchange, const char *key)
{
    struct binding *b = find_binding(rpc, exchange, key);
    if (!b || --b->refcount > 0)
        return;
    send_bind(rpc, exchange, key, false, true);
    notify_waiters(b, GW_EBROKER);
    free(b->exchange);
    free(b->key);
    *b = rpc->bindings[--rpc->n_bindings];
}

void gw_rpc_publish_hub(struct gw_rpc *rpc, const char *routing_key, const json_t *body,
                        const struct gw_rpc_incoming *forwarded, gw_rpc_routed_fn routed, void *arg)
{
    if (rpc->state != CONNECTED) {
        routed(arg, false);
        return;
    }
    struct hub_publish *hub = xcalloc(1, sizeof(*hub));
    gw_uuid4(hub->message_id);
    hub->routed = routed;
    hub->arg = arg;
    amqp_basic_properties_t props = {0};
    props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_CONTENT_ENCODING_FLAG |
                   AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG;
    props.content_type = amqp_cstring_bytes("application/json");
    props.content_encoding = amqp_cstring_bytes("utf-8");
    props.delivery_mode = 1; /* between live instances: nothing to keep */
    props.message_id = amqp_cstring_bytes(hub->message_id);
    if (forwarded) {
        props._flags |= AMQP_BASIC_REPLY_TO_FLAG;
        props.reply_to = amqp_cstring_bytes(forwarded->reply_to);
        props.content_type = amqp_cstring_bytes(forwarded->content_type);
        if (forwarded->correlation_id) {
            props._flags |= AMQP_BASIC_CORRELATION_ID_FLAG;
            props.correlation_id = amqp_cstring_bytes(forwarded->correlation_id);
        }
    }
    size_t len;
    char *text = gw_json_encode(body, GW_JSON_PYTHON, &len);
    uint64_t tag;
    char err[256];
    int status = gw_amqp_conn_publish(rpc->conn, rpc->hub_exchange, routing_key, true, &props, text,
                                      len, &tag, err, sizeof(err));
    free(text);
    if (status != GW_OK) {
        free(hub);
        routed(arg, false);
        connection_lost(rpc, err);
        return;
    }
    hub->next = rpc->publishes;
    rpc->publishes = hub;
    remember_unconfirmed(rpc, tag, "");
    rpc->unconfirmed[rpc->n_unconfirmed - 1].hub = hub;
}

bool gw_rpc_ready(const struct gw_rpc *rpc)
{
    return rpc->state == CONNECTED;
}

size_t gw_rpc_pending(const struct gw_rpc *rpc)
{
    return rpc->pending;
}

static void remember_unconfirmed(struct gw_rpc *rpc, uint64_t tag, const char *correlation_id)
{
    if (rpc->n_unconfirmed == rpc->cap_unconfirmed) {
        rpc->cap_unconfirmed = rpc->cap_unconfirmed ? rpc->cap_unconfirmed * 2 : 64;
        rpc->unconfirmed =
            xrealloc(rpc->unconfirmed, rpc->cap_unconfirmed * sizeof(*rpc->unconfirmed));
    }
    struct unconfirmed *u = &rpc->unconfirmed[rpc->n_unconfirmed++];
    u->tag = tag;
    u->hub = NULL;
    snprintf(u->correlation_id, sizeof(u->correlation_id), "%s", correlation_id);
}

/* Sends a call and files it for its reply; the body and context go. On failure the call is in no
 * list (its caller ends it) and the connection is being let go. */
static int publish_call(struct gw_rpc *rpc, struct gw_rpc_call *call, uint64_t expiration_ms)
{
    char expiration[32];
    snprintf(expiration, sizeof(expiration), "%llu", (unsigned long long)expiration_ms);
    amqp_basic_properties_t props = {0};
    props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_CONTENT_ENCODING_FLAG |
                   AMQP_BASIC_HEADERS_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
                   AMQP_BASIC_PRIORITY_FLAG | AMQP_BASIC_CORRELATION_ID_FLAG |
                   AMQP_BASIC_REPLY_TO_FLAG | AMQP_BASIC_EXPIRATION_FLAG;
    props.content_type = amqp_cstring_bytes("application/json");
    props.content_encoding = amqp_cstring_bytes("utf-8");
    props.delivery_mode = (uint8_t)rpc->config->delivery_mode;
    props.priority = 0;
    props.correlation_id = amqp_cstring_bytes(call->correlation_id);
    props.reply_to = amqp_cstring_bytes(rpc->reply_key);
    props.expiration = amqp_cstring_bytes(expiration);
    gw_wire_context_headers(call->context, &rpc->header_pool, &props.headers);

    char err[256];
    int status =
        gw_amqp_conn_publish(rpc->conn, rpc->config->rpc_exchange, call->routing_key, true, &props,
                             call->body, call->body_len, &call->delivery_tag, err, sizeof(err));
    recycle_amqp_pool(&rpc->header_pool);
    free(call->body);
    call->body = NULL;
    json_decref(call->context);
    call->context = NULL;
    if (status != GW_OK) {
        connection_lost(rpc, err);
        return GW_EBROKER;
    }
    size_t b = bucket_of(call->correlation_id);
    call->next = rpc->buckets[b];
    rpc->buckets[b] = call;
    rpc->pending++;
    remember_unconfirmed(rpc, call->delivery_tag, call->correlation_id);
    return GW_OK;
}

/* The first connection is up: the calls that waited for it go out in the order they came, each
 * with what is left of its deadline as its expiration. */
static void publish_parked(struct gw_rpc *rpc)
{
    while (rpc->parked && rpc->state == CONNECTED) {
        struct gw_rpc_call *call = rpc->parked;
        unlink_call(call);
        uint64_t left_ms = uv_timer_get_due_in(&call->deadline);
        if (publish_call(rpc, call, left_ms > 0 ? left_ms : 1) != GW_OK)
            finish_call(call, GW_EBROKER, NULL, NULL, "the broker connection was lost");
    }
    fail_parked(rpc, GW_EBROKER, "the broker connection was lost");
}

int gw_rpc_call(struct gw_rpc *rpc, const struct gw_rpc_request *request, gw_rpc_done_fn done,
                void *arg, struct gw_rpc_call **out)
{
    if (rpc->state == CLOSING)
        return GW_ESHUTDOWN;
    bool park = waits_for_first_connection(rpc);
    if (rpc->state != CONNECTED && !park)
        return GW_EBROKER;

    struct gw_rpc_call *call = xcalloc(1, sizeof(*call));
    call->rpc = rpc;
    call->done = done;
    call->arg = arg;
    call->routing_key = xasprintf("%s.%s", request->service, request->method);
    gw_uuid4(call->correlation_id);
    call->body = gw_wire_request_body(request->args, request->kwargs, &call->body_len);
    call->context = json_incref((json_t *)(uintptr_t)request->context);

    /* The deadline is also the message's expiration, so a request that nobody waits for any more
     * is dropped by the broker instead of being run (§3). */
    double ms = ceil(request->timeout_s * 1000.0);
    if (ms < 1)
        ms = 1;
    if (park) {
        call->parked = true;
        *rpc->parked_tail = call;
        rpc->parked_tail = &call->next;
        rpc->pending++;
    } else if (publish_call(rpc, call, (uint64_t)ms) != GW_OK) {
        free(call->routing_key);
        free(call);
        return GW_EBROKER;
    }
    call->started_ns = now_ns();
    if (rpc->metrics)
        gw_metrics_set_in_flight(rpc->metrics, rpc->pending);
    uv_timer_init(rpc->loop, &call->deadline);
    rpc->handles_open++;
    call->deadline.data = call;
    uv_timer_start(&call->deadline, on_deadline, (uint64_t)ms, 0);
    if (out)
        *out = call;
    return GW_OK;
}

void gw_rpc_cancel(struct gw_rpc_call *call)
{
    call->done = NULL;
    finish_call(call, GW_ECANCELLED, NULL, NULL, "cancelled");
}

void gw_rpc_close(struct gw_rpc *rpc, void (*closed)(void *arg), void *arg)
{
    rpc->closed = closed;
    rpc->closed_arg = arg;
    fail_all(rpc, GW_ESHUTDOWN, "the gateway is shutting down");
    fail_topology(rpc);
    stop_watching(rpc);
    if (rpc->conn) {
        gw_amqp_conn_free(rpc->conn, true);
        rpc->conn = NULL;
    }
    rpc->state = CLOSING;
    uv_timer_stop(&rpc->reconnect);
    uv_close((uv_handle_t *)&rpc->heartbeat, on_handle_closed);
    uv_close((uv_handle_t *)&rpc->reconnect, on_handle_closed);
    uv_close((uv_handle_t *)&rpc->flusher, on_handle_closed);
}

void gw_rpc_free(struct gw_rpc *rpc)
{
    if (!rpc)
        return;
    empty_amqp_pool(&rpc->header_pool);
    free(rpc->unconfirmed);
    free(rpc->reply_queue);
    for (size_t i = 0; i < rpc->n_bindings; i++) {
        notify_waiters(&rpc->bindings[i], GW_ESHUTDOWN);
        free(rpc->bindings[i].exchange);
        free(rpc->bindings[i].key);
    }
    free(rpc->bindings);
    for (size_t i = 0; i < rpc->n_ops; i++) {
        free(rpc->ops[i].exchange);
        free(rpc->ops[i].key);
    }
    free(rpc->ops);
    free(rpc->service_queue);
    free(rpc->service_key);
    free(rpc->hub_exchange);
    free(rpc->hub_queue);
    free(rpc);
}
