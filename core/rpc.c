#include "rpc.h"

#include "broker.h"
#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "status.h"
#include "wire.h"
#include "xalloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Buckets of the table of published calls, by a hash of their id. */
enum { BUCKETS = 1024 };

/* Protocols one client speaks at most: nameko's and a few more. */
enum { MAX_PROTOS = 4 };

/* Initial size of the pool the properties of a publish are built in. */
enum { HEADER_POOL_SIZE = 4096 };

struct gw_rpc_call {
    struct gw_rpc *rpc;
    struct gw_rpc_call *next; /* bucket chain, or the parked list while parked */
    uv_timer_t deadline;
    gw_rpc_done_fn done;
    void *arg;
    uint64_t started_ns;
    char id[GW_UUID_LEN + 1];
    char *service;
    char *target; /* "service.method", for messages */
    const struct gw_proto *proto;
    /* A call waits, unsent, for the first connection or for its protocol's declarations: */
    bool parked;
    bool published;  /* sent to the broker ... */
    bool given_back; /* ... and returned or nacked by it: no service got it */
    int collect;     /* replies it waits for: 0 one (the usual), GW_COLLECT_ALL, or that many */
    json_t *replies; /* collected so far, when it collects */
    struct gw_proto_request request; /* encoded, until published */
    json_t *context;                 /* for the headers, until published */
};

struct gw_rpc {
    uv_loop_t *loop;
    const struct gw_config *config;
    struct gw_broker *broker;
    int user; /* the table's number among the broker's users */
    struct gw_proto protos[MAX_PROTOS];
    size_t n_protos;
    size_t *consumer_proto; /* by the broker's consumer number: the protocol its replies are of */
    size_t n_consumers;
    struct gw_rpc_call *buckets[BUCKETS];
    size_t pending;                            /* calls in the buckets and parked ones */
    struct gw_rpc_call *parked, **parked_tail; /* FIFO */
    amqp_pool_t header_pool;
    struct gw_metrics *metrics;
    int timers_open;
    bool closing, broker_closed;
    void (*closed)(void *arg);
    void *closed_arg;
};

/* Runs the close callback once nothing of the client is left on the loop. */
static void maybe_closed(struct gw_rpc *rpc)
{
    if (rpc->closing && rpc->broker_closed && rpc->timers_open == 0 && rpc->closed) {
        void (*closed)(void *) = rpc->closed;
        rpc->closed = NULL;
        closed(rpc->closed_arg);
    }
}

static size_t bucket_of(const char *id)
{
    /* FNV-1a over a random uuid spreads well enough. */
    uint32_t h = 2166136261u;
    for (const char *p = id; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h % BUCKETS;
}

static struct gw_rpc_call *find_call(struct gw_rpc *rpc, const char *id, size_t len)
{
    char key[GW_UUID_LEN + 1];
    if (len != GW_UUID_LEN)
        return NULL;
    memcpy(key, id, len);
    key[len] = '\0';
    for (struct gw_rpc_call *c = rpc->buckets[bucket_of(key)]; c; c = c->next)
        if (strcmp(c->id, key) == 0)
            return c;
    return NULL;
}

static void unlink_call(struct gw_rpc_call *call)
{
    struct gw_rpc *rpc = call->rpc;
    struct gw_rpc_call **p = call->parked ? &rpc->parked : &rpc->buckets[bucket_of(call->id)];
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

static void free_call_memory(struct gw_rpc_call *call)
{
    free(call->service);
    free(call->target);
    gw_proto_request_clear(&call->request);
    json_decref(call->context);
    json_decref(call->replies);
    free(call);
}

static void free_call(uv_handle_t *handle)
{
    struct gw_rpc_call *call = handle->data;
    struct gw_rpc *rpc = call->rpc;
    free_call_memory(call);
    rpc->timers_open--;
    maybe_closed(rpc);
}

/* Ends a call exactly once: out of the table, timer closed, done called (unless cancelled). */
static void finish_call(struct gw_rpc_call *call, int status, const json_t *result,
                        const json_t *error, const char *detail)
{
    unlink_call(call);
    if (call->rpc->metrics && status != GW_ECANCELLED) {
        gw_metrics_rpc(call->rpc->metrics, (double)(gw_now_ns() - call->started_ns) / 1e9, status);
        gw_metrics_set_in_flight(call->rpc->metrics, call->rpc->pending);
    }
    uv_timer_stop(&call->deadline);
    uv_close((uv_handle_t *)&call->deadline, free_call);
    if (call->done)
        call->done(call->arg, status, result, error, detail, call->published && !call->given_back);
}

/* A collecting call ends with what it has: {"replies": [...], "complete": bool}. */
static void finish_collected(struct gw_rpc_call *call, bool complete)
{
    json_t *result = json_pack("{s:O,s:b}", "replies", call->replies, "complete", complete);
    finish_call(call, GW_OK, result, NULL, "ok");
    json_decref(result);
}

static void on_deadline(uv_timer_t *timer)
{
    struct gw_rpc_call *call = timer->data;
    if (call->parked) {
        /* Never sent: the broker was not reached in time, which is not the service's fault. */
        finish_call(call, GW_EBROKER, NULL, NULL,
                    gw_broker_ready(call->rpc->broker)
                        ? "the service's exchanges were not declared before the deadline"
                        : "not connected to the broker yet");
        return;
    }
    if (call->collect != 0 && json_array_size(call->replies) > 0) {
        /* "all" is complete by its deadline; a number is complete only when it is reached. */
        finish_collected(call, call->collect == GW_COLLECT_ALL);
        return;
    }
    char detail[256];
    snprintf(detail, sizeof(detail), "no reply from %s before the deadline", call->target);
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
}

/* Whether the AMQP names a call was encoded with fit AMQP's short strings; why says which does
 * not. Checked before anything is sent: rabbitmq-c would refuse to encode the publish. */
static bool names_fit(const struct gw_rpc_call *call, char *why, size_t whylen)
{
    const struct gw_proto_request *r = &call->request;
    size_t exchange = strlen(r->exchange), key = strlen(r->routing_key);
    if (exchange <= GW_AMQP_NAME_MAX && key <= GW_AMQP_NAME_MAX)
        return true;
    /* The target is cut: it may be what is too long. */
    snprintf(why, whylen,
             "%.48s%s cannot be called: its AMQP %s would be %zu bytes, over AMQP's %d",
             call->target, strlen(call->target) > 48 ? "..." : "",
             key > GW_AMQP_NAME_MAX ? "routing key" : "exchange",
             key > GW_AMQP_NAME_MAX ? key : exchange, GW_AMQP_NAME_MAX);
    return false;
}

/* Sends a call and files it for its reply; what was encoded for it goes. GW_AGAIN: its protocol
 * is not ready for it yet (nothing sent, nothing filed, still encoded). On failure (GW_EBROKER,
 * or GW_EFRAME: the call does not fit in an AMQP message) the call is in no list (its caller ends
 * it) with why. */
static int publish_call(struct gw_rpc *rpc, struct gw_rpc_call *call, uint64_t expiration_ms,
                        char *why, size_t whylen)
{
    const struct gw_proto *proto = call->proto;
    snprintf(why, whylen, "the broker connection was lost");
    int status = proto->prepare ? proto->prepare(proto->state, rpc->broker, rpc->user,
                                                 &call->request, why, whylen)
                                : GW_OK;
    if (status == GW_AGAIN)
        return GW_AGAIN;
    if (status == GW_OK) {
        struct gw_proto_call about = {
            .id = call->id,
            .context = call->context,
            .expiration_ms = expiration_ms,
        };
        amqp_basic_properties_t props;
        proto->properties(proto->state, &about, &rpc->header_pool, &props);
        struct gw_broker_message message = {
            .exchange = call->request.exchange,
            .routing_key = call->request.routing_key,
            .mandatory = call->request.mandatory,
            .props = &props,
            .body = call->request.body,
            .len = call->request.body_len,
        };
        status = gw_broker_publish(rpc->broker, &message, rpc->user, call->id);
        recycle_amqp_pool(&rpc->header_pool);
        if (status == GW_EFRAME)
            snprintf(why, whylen,
                     "the call to %s does not fit in an AMQP message: its properties (the context "
                     "headers among them) are over the broker's frame size",
                     call->target);
    }
    gw_proto_request_clear(&call->request);
    json_decref(call->context);
    call->context = NULL;
    if (status != GW_OK)
        return status == GW_EFRAME ? GW_EFRAME : GW_EBROKER;
    size_t b = bucket_of(call->id);
    call->next = rpc->buckets[b];
    rpc->buckets[b] = call;
    rpc->pending++;
    call->published = true;
    return GW_OK;
}

/* --- the table as a user of the broker -------------------------------------------------------- */

static void on_declare(void *arg, struct gw_amqp_plan *plan)
{
    struct gw_rpc *rpc = arg;
    for (size_t p = 0; p < rpc->n_protos; p++) {
        size_t first = plan->n_consumers;
        rpc->protos[p].declare(rpc->protos[p].state, plan);
        rpc->consumer_proto =
            xrealloc(rpc->consumer_proto, (plan->n_consumers + 1) * sizeof(*rpc->consumer_proto));
        for (size_t c = first; c < plan->n_consumers; c++)
            rpc->consumer_proto[c] = p;
        rpc->n_consumers = plan->n_consumers;
    }
}

static void on_reply(void *arg, const struct gw_amqp_delivery *d)
{
    struct gw_rpc *rpc = arg;
    if (d->consumer >= rpc->n_consumers)
        return;
    const struct gw_proto *proto = &rpc->protos[rpc->consumer_proto[d->consumer]];
    amqp_bytes_t id;
    if (!proto->reply_id(d->props, &id)) {
        gw_debug("rpc", "dropped a reply that names no call");
        return;
    }
    struct gw_rpc_call *call = find_call(rpc, id.bytes, id.len);
    if (!call) {
        /* Late (after its deadline), duplicate (redelivered request) or foreign: dropped
         * (docs/nameko-wire.md §3). */
        gw_debug("rpc", "dropped a reply for an unknown or finished call %.*s", (int)id.len,
                 (const char *)id.bytes);
        return;
    }
    json_t *result = NULL;
    json_t *error = NULL;
    char why[256];
    int status = proto->decode(d->body.bytes, d->body.len, &result, &error, why, sizeof(why));
    if (call->collect != 0) {
        /* One more of several: a result, or {"error": ...} for a remote exception. */
        if (status != GW_OK)
            gw_warn("rpc", "undecodable reply from %s (not collected): %s", call->target, why);
        else if (error)
            json_array_append_new(call->replies, json_pack("{s:O}", "error", error));
        else
            json_array_append(call->replies, result);
        if (call->collect > 0 && json_array_size(call->replies) >= (size_t)call->collect)
            finish_collected(call, true);
    } else if (status != GW_OK) {
        gw_warn("rpc", "undecodable reply from %s: %s", call->target, why);
        finish_call(call, GW_EBADREPLY, NULL, NULL, why);
    } else if (error) {
        finish_call(call, GW_EREMOTE, NULL, error, gw_wire_exc_type(error));
    } else {
        finish_call(call, GW_OK, result, NULL, "ok");
    }
    json_decref(result);
    json_decref(error);
}

/* Appends call to the parked list. */
static void park(struct gw_rpc *rpc, struct gw_rpc_call *call)
{
    call->parked = true;
    call->next = NULL;
    *rpc->parked_tail = call;
    rpc->parked_tail = &call->next;
    rpc->pending++;
}

/* The calls that waited (for the first connection, or for their protocol's declarations) go out
 * in the order they came, each with what is left of its deadline as its expiration; those whose
 * protocol is still not ready wait on. */
static void send_parked(struct gw_rpc *rpc)
{
    struct gw_rpc_call *list = rpc->parked;
    size_t n = 0;
    for (struct gw_rpc_call *c = list; c; c = c->next)
        n++;
    rpc->parked = NULL;
    rpc->parked_tail = &rpc->parked;
    rpc->pending -= n;
    while (list) {
        struct gw_rpc_call *call = list;
        list = call->next;
        call->next = NULL;
        call->parked = false;
        if (!gw_broker_ready(rpc->broker)) {
            park(rpc, call);
            continue;
        }
        char why[256];
        uint64_t left_ms = uv_timer_get_due_in(&call->deadline);
        int status = publish_call(rpc, call, left_ms > 0 ? left_ms : 1, why, sizeof(why));
        if (status == GW_AGAIN)
            park(rpc, call);
        else if (status != GW_OK)
            finish_call(call, status, NULL, NULL, why); /* counted out above */
    }
}

static void on_up(void *arg)
{
    struct gw_rpc *rpc = arg;
    send_parked(rpc);
    if (!gw_broker_ready(rpc->broker))
        fail_parked(rpc, GW_EBROKER, "the broker connection was lost");
}

/* A declaration a protocol asked for is reported: it may be what parked calls wait for. */
static void on_bound(void *arg, const char *exchange, const char *key, uint64_t tag, bool ok,
                     const char *why)
{
    (void)tag; /* a protocol's declarations are matched by their names */
    struct gw_rpc *rpc = arg;
    for (size_t p = 0; p < rpc->n_protos; p++)
        if (rpc->protos[p].bound)
            rpc->protos[p].bound(rpc->protos[p].state, exchange, key, ok, why);
    send_parked(rpc);
}

static void on_down(void *arg, int status, const char *detail)
{
    struct gw_rpc *rpc = arg;
    for (size_t p = 0; p < rpc->n_protos; p++)
        if (rpc->protos[p].down)
            rpc->protos[p].down(rpc->protos[p].state);
    fail_all(rpc, status, detail);
}

static void on_returned(void *arg, const char *key, int reply_code)
{
    struct gw_rpc_call *call = find_call(arg, key, strlen(key));
    if (!call)
        return;
    char detail[256];
    /* An AMQP NO_ROUTE return comes before the ack of the same publish: no queue is bound (§1). */
    snprintf(detail, sizeof(detail), "no queue is bound for %s (return %d)", call->target,
             reply_code);
    call->given_back = true;
    finish_call(call, GW_EUNKNOWN_SERVICE, NULL, NULL, detail);
}

static void on_confirmed(void *arg, const char *key, bool ack)
{
    struct gw_rpc_call *call = ack ? NULL : find_call(arg, key, strlen(key));
    if (call) {
        call->given_back = true;
        finish_call(call, GW_EBROKER, NULL, NULL, "the broker refused the request (nack)");
    }
}

/* --- the public face -------------------------------------------------------------------------- */

struct gw_rpc *gw_rpc_new(uv_loop_t *loop, const struct gw_config *config)
{
    struct gw_rpc *rpc = xcalloc(1, sizeof(*rpc));
    rpc->loop = loop;
    rpc->config = config;
    rpc->parked_tail = &rpc->parked;
    init_amqp_pool(&rpc->header_pool, HEADER_POOL_SIZE);
    rpc->broker = gw_broker_new(loop, config);
    struct gw_broker_user user = {
        .declare = on_declare,
        .delivery = on_reply,
        .up = on_up,
        .down = on_down,
        .returned = on_returned,
        .confirmed = on_confirmed,
        .bound = on_bound,
        .arg = rpc,
    };
    rpc->user = gw_broker_add_user(rpc->broker, &user);
    gw_rpc_add_proto(rpc, gw_proto_nameko(config));
    gw_rpc_add_proto(rpc, gw_proto_amphora(config));
    return rpc;
}

void gw_rpc_add_proto(struct gw_rpc *rpc, struct gw_proto proto)
{
    if (rpc->n_protos == MAX_PROTOS)
        abort(); /* a fixed set of protocols, not a runtime quantity */
    rpc->protos[rpc->n_protos++] = proto;
}

struct gw_broker *gw_rpc_broker(struct gw_rpc *rpc)
{
    return rpc->broker;
}

void gw_rpc_set_metrics(struct gw_rpc *rpc, struct gw_metrics *metrics)
{
    rpc->metrics = metrics;
    gw_broker_set_metrics(rpc->broker, metrics);
}

void gw_rpc_start(struct gw_rpc *rpc)
{
    gw_broker_start(rpc->broker);
}

bool gw_rpc_blocked(const struct gw_rpc *rpc)
{
    return gw_broker_blocked(rpc->broker);
}

bool gw_rpc_ready(const struct gw_rpc *rpc)
{
    return gw_broker_ready(rpc->broker) && !gw_broker_blocked(rpc->broker);
}

bool gw_rpc_node(const struct gw_rpc *rpc, char *buf, size_t len)
{
    return gw_broker_node(rpc->broker, buf, len);
}

size_t gw_rpc_pending(const struct gw_rpc *rpc)
{
    return rpc->pending;
}

/* The protocol a call speaks (nameko's when none other is added). */
static const struct gw_proto *proto_for(const struct gw_rpc *rpc, enum gw_protocol protocol)
{
    for (size_t i = 0; i < rpc->n_protos; i++)
        if (rpc->protos[i].protocol == protocol)
            return &rpc->protos[i];
    return &rpc->protos[0];
}

int gw_rpc_call(struct gw_rpc *rpc, const struct gw_rpc_request *request, gw_rpc_done_fn done,
                void *arg, struct gw_rpc_call **out, char *why, size_t whylen)
{
    if (rpc->closing || gw_broker_closing(rpc->broker)) {
        snprintf(why, whylen, "shutting down");
        return GW_ESHUTDOWN;
    }
    /* Behind an alarm a publish would wait for minutes: refused now, to be retried. */
    if (gw_broker_blocked(rpc->broker)) {
        snprintf(why, whylen, "blocked");
        return GW_EBLOCKED;
    }
    bool wait_for_broker = gw_broker_starting(rpc->broker);
    if (!gw_broker_ready(rpc->broker) && !wait_for_broker) {
        snprintf(why, whylen, "not connected");
        return GW_EBROKER;
    }

    struct gw_rpc_call *call = xcalloc(1, sizeof(*call));
    call->rpc = rpc;
    call->done = done;
    call->arg = arg;
    call->service = xstrdup(request->service);
    call->target = xstrjoin(request->service, ".", request->method, NULL);
    gw_uuid4(call->id);
    call->proto = proto_for(rpc, request->protocol);
    call->proto->encode(call->proto->state, request, &call->request);
    call->context = json_incref((json_t *)(uintptr_t)request->context);
    call->collect = request->collect;
    if (call->collect != 0)
        call->replies = json_array();

    /* The deadline is also the message's expiration, so a request that nobody waits for any more
     * is dropped by the broker instead of being run (§3). */
    double ms = ceil(request->timeout_s * 1000.0);
    if (ms < 1)
        ms = 1;
    if (!names_fit(call, why, whylen)) {
        free_call_memory(call);
        return GW_EFRAME;
    }
    int status = wait_for_broker ? GW_AGAIN : publish_call(rpc, call, (uint64_t)ms, why, whylen);
    if (status == GW_AGAIN) {
        park(rpc, call);
    } else if (status != GW_OK) {
        free_call_memory(call);
        return status;
    }
    call->started_ns = gw_now_ns();
    if (rpc->metrics)
        gw_metrics_set_in_flight(rpc->metrics, rpc->pending);
    uv_timer_init(rpc->loop, &call->deadline);
    rpc->timers_open++;
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

static void on_broker_closed(void *arg)
{
    struct gw_rpc *rpc = arg;
    rpc->broker_closed = true;
    maybe_closed(rpc);
}

void gw_rpc_close(struct gw_rpc *rpc, void (*closed)(void *arg), void *arg)
{
    rpc->closed = closed;
    rpc->closed_arg = arg;
    rpc->closing = true;
    /* Every user of the broker, this table first, is told down (GW_ESHUTDOWN): calls end. */
    gw_broker_close(rpc->broker, on_broker_closed, rpc);
}

void gw_rpc_free(struct gw_rpc *rpc)
{
    if (!rpc)
        return;
    gw_broker_free(rpc->broker);
    for (size_t i = 0; i < rpc->n_protos; i++)
        if (rpc->protos[i].free)
            rpc->protos[i].free(rpc->protos[i].state);
    free(rpc->consumer_proto);
    empty_amqp_pool(&rpc->header_pool);
    free(rpc);
}
