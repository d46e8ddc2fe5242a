#include "rpc.h"

#include "amqp_conn.h"
#include "log.h"
#include "status.h"
#include "wire.h"
#include "xalloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { REPLY_QUEUE_EXPIRES_MS = 300000, BUCKETS = 1024 };

enum conn_state { DISCONNECTED, CONNECTING, CONNECTED, CLOSING };

struct gw_rpc_call {
    struct gw_rpc *rpc;
    struct gw_rpc_call *next; /* bucket chain */
    uv_timer_t deadline;
    gw_rpc_done_fn done;
    void *arg;
    uint64_t delivery_tag;
    char correlation_id[GW_UUID_LEN + 1];
    char *routing_key;
};

struct unconfirmed {
    uint64_t tag;
    char correlation_id[GW_UUID_LEN + 1];
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
    uv_timer_t reconnect;
    double backoff_s;
    char reply_key[GW_UUID_LEN + 1];
    char *reply_queue;
    struct gw_rpc_call *buckets[BUCKETS];
    size_t pending;
    struct unconfirmed *unconfirmed; /* FIFO of publishes not yet acked, in tag order */
    size_t n_unconfirmed, cap_unconfirmed;
    amqp_pool_t header_pool;
    bool job_running;
    int handles_open;
    void (*closed)(void *arg);
    void *closed_arg;
};

static void start_connect(struct gw_rpc *rpc);
static void connection_lost(struct gw_rpc *rpc, const char *why);

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
    struct gw_rpc_call **p = &call->rpc->buckets[bucket_of(call->correlation_id)];
    while (*p && *p != call)
        p = &(*p)->next;
    if (*p) {
        *p = call->next;
        call->rpc->pending--;
    }
}

static void free_call(uv_handle_t *handle)
{
    struct gw_rpc_call *call = handle->data;
    struct gw_rpc *rpc = call->rpc;
    free(call->routing_key);
    free(call);
    rpc->handles_open--;
    maybe_closed(rpc);
}

/* Ends a call exactly once: out of the table, timer closed, done called (unless cancelled). */
static void finish_call(struct gw_rpc_call *call, int status, const json_t *result,
                        const json_t *error, const char *detail)
{
    unlink_call(call);
    uv_timer_stop(&call->deadline);
    uv_close((uv_handle_t *)&call->deadline, free_call);
    if (call->done)
        call->done(call->arg, status, result, error, detail);
}

static void on_deadline(uv_timer_t *timer)
{
    struct gw_rpc_call *call = timer->data;
    char detail[256];
    snprintf(detail, sizeof(detail), "no reply from %s before the deadline", call->routing_key);
    finish_call(call, GW_ETIMEOUT, NULL, NULL, detail);
}

static void fail_all(struct gw_rpc *rpc, int status, const char *detail)
{
    for (size_t i = 0; i < BUCKETS; i++)
        while (rpc->buckets[i])
            finish_call(rpc->buckets[i], status, NULL, NULL, detail);
    rpc->n_unconfirmed = 0;
}

/* --- events from the connection ------------------------------------------------------------- */

static void on_delivery(void *arg, const amqp_basic_properties_t *props, amqp_bytes_t body)
{
    struct gw_rpc *rpc = arg;
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

static void on_returned(void *arg, const amqp_basic_properties_t *props, int reply_code)
{
    struct gw_rpc *rpc = arg;
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
        if (!ack) {
            struct gw_rpc_call *call = find_call(rpc, u->correlation_id, GW_UUID_LEN);
            if (call)
                finish_call(call, GW_EBROKER, NULL, NULL, "the broker refused the request (nack)");
        }
    }
    rpc->n_unconfirmed = keep;
}

static const struct gw_amqp_events events = {
    .delivery = on_delivery,
    .returned = on_returned,
    .confirmed = on_confirmed,
};

static void drain(struct gw_rpc *rpc)
{
    char err[256];
    if (rpc->state != CONNECTED)
        return;
    if (gw_amqp_conn_drain(rpc->conn, &events, rpc, err, sizeof(err)) != GW_OK)
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
    drain(rpc);
}

static void on_heartbeat_tick(uv_timer_t *timer)
{
    /* rabbitmq-c sends heartbeats only from inside its own calls: a zero-timeout drain does it. */
    drain(timer->data);
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

static void connection_lost(struct gw_rpc *rpc, const char *why)
{
    if (rpc->state != CONNECTED)
        return;
    gw_warn("rpc", "lost the broker connection: %s", why);
    stop_watching(rpc);
    gw_amqp_conn_free(rpc->conn, false);
    rpc->conn = NULL;
    rpc->state = DISCONNECTED;
    fail_all(rpc, GW_EBROKER, "the broker connection was lost");
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
    int heartbeat = gw_amqp_conn_heartbeat(rpc->conn);
    if (heartbeat > 0) {
        uint64_t every = (uint64_t)heartbeat * 1000 / 2;
        uv_timer_start(&rpc->heartbeat, on_heartbeat_tick, every, every);
    }
    rpc->state = CONNECTED;
    rpc->backoff_s = 0.5;
    gw_info("rpc", "connected to %s:%d vhost %s, reply queue %s", rpc->config->amqp.host,
            rpc->config->amqp.port, rpc->config->amqp.vhost, rpc->reply_queue);
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
    rpc->backoff_s = 0.5;
    gw_uuid4(rpc->reply_key);
    rpc->reply_queue = xasprintf("rpc.reply-%s-%s", config->name, rpc->reply_key);
    init_amqp_pool(&rpc->header_pool, 4096);
    uv_timer_init(loop, &rpc->heartbeat);
    rpc->heartbeat.data = rpc;
    uv_timer_init(loop, &rpc->reconnect);
    rpc->reconnect.data = rpc;
    rpc->handles_open = 2;
    start_connect(rpc);
    return rpc;
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
    memcpy(u->correlation_id, correlation_id, sizeof(u->correlation_id));
}

int gw_rpc_call(struct gw_rpc *rpc, const struct gw_rpc_request *request, gw_rpc_done_fn done,
                void *arg, struct gw_rpc_call **out)
{
    if (rpc->state == CLOSING)
        return GW_ESHUTDOWN;
    if (rpc->state != CONNECTED)
        return GW_EBROKER;

    struct gw_rpc_call *call = xcalloc(1, sizeof(*call));
    call->rpc = rpc;
    call->done = done;
    call->arg = arg;
    call->routing_key = xasprintf("%s.%s", request->service, request->method);
    gw_uuid4(call->correlation_id);

    /* The deadline is also the message's expiration, so a request that nobody waits for any more
     * is dropped by the broker instead of being run (§3). */
    double ms = ceil(request->timeout_s * 1000.0);
    if (ms < 1)
        ms = 1;
    char expiration[32];
    snprintf(expiration, sizeof(expiration), "%.0f", ms);

    size_t body_len;
    char *body = gw_wire_request_body(request->args, request->kwargs, &body_len);
    amqp_basic_properties_t props = {0};
    props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_CONTENT_ENCODING_FLAG |
                   AMQP_BASIC_HEADERS_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
                   AMQP_BASIC_PRIORITY_FLAG | AMQP_BASIC_CORRELATION_ID_FLAG |
                   AMQP_BASIC_REPLY_TO_FLAG | AMQP_BASIC_EXPIRATION_FLAG;
    props.content_type = amqp_cstring_bytes("application/json");
    props.content_encoding = amqp_cstring_bytes("utf-8");
    props.delivery_mode = 2;
    props.priority = 0;
    props.correlation_id = amqp_cstring_bytes(call->correlation_id);
    props.reply_to = amqp_cstring_bytes(rpc->reply_key);
    props.expiration = amqp_cstring_bytes(expiration);
    gw_wire_context_headers(request->context, &rpc->header_pool, &props.headers);

    char err[256];
    int status = gw_amqp_conn_publish(rpc->conn, rpc->config->rpc_exchange, call->routing_key,
                                      true, &props, body, body_len, &call->delivery_tag, err,
                                      sizeof(err));
    recycle_amqp_pool(&rpc->header_pool);
    free(body);
    if (status != GW_OK) {
        free(call->routing_key);
        free(call);
        connection_lost(rpc, err);
        return GW_EBROKER;
    }

    size_t b = bucket_of(call->correlation_id);
    call->next = rpc->buckets[b];
    rpc->buckets[b] = call;
    rpc->pending++;
    remember_unconfirmed(rpc, call->delivery_tag, call->correlation_id);
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
    stop_watching(rpc);
    if (rpc->conn) {
        gw_amqp_conn_free(rpc->conn, true);
        rpc->conn = NULL;
    }
    rpc->state = CLOSING;
    uv_timer_stop(&rpc->reconnect);
    uv_close((uv_handle_t *)&rpc->heartbeat, on_handle_closed);
    uv_close((uv_handle_t *)&rpc->reconnect, on_handle_closed);
}

void gw_rpc_free(struct gw_rpc *rpc)
{
    if (!rpc)
        return;
    empty_amqp_pool(&rpc->header_pool);
    free(rpc->unconfirmed);
    free(rpc->reply_queue);
    free(rpc);
}
