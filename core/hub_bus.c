#include "hub_bus.h"

#include "broker.h"
#include "json.h"
#include "log.h"
#include "service.h"
#include "status.h"
#include "strmap.h"
#include "wire.h"
#include "xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char consumer_tag[] = "enoki-hub";

/* The hub exchange is "<name>" HUB_EXCHANGE_SUFFIX; each process's queue
 * HUB_QUEUE_PREFIX "<name>-<uuid>". */
#define HUB_EXCHANGE_SUFFIX ".hub"
#define HUB_QUEUE_PREFIX "enoki-hub-"

struct gw_hub_waiter {
    struct gw_hub_waiter *next;
    gw_hub_bound_fn done; /* NULL once cancelled */
    void *arg;
};

/* A binding of the hub queue, kept while anyone needs it and made again after a reconnect. */
struct binding {
    const char *exchange; /* in name */
    const char *key;      /* in name, after the exchange's NUL */
    size_t name_len;
    size_t index; /* in the bus's array */
    uint64_t id;  /* this binding's own: its binds carry it, so their reports find only it */
    bool declare_exchange;
    bool ready;
    bool to_notify; /* the connection went down and its waiters have not heard yet */
    int refcount;
    struct gw_hub_waiter *waiters;
    char name[]; /* its key in the bus's map: "<exchange>\0<key>" (no exchange holds a NUL) */
};

/* A publish waiting to learn whether some queue took it; matched by its message_id. */
struct hub_publish {
    struct hub_publish *next;
    char message_id[GW_UUID_LEN + 1];
    gw_hub_routed_fn routed;
    void *arg;
};

struct gw_hub_bus {
    struct gw_broker *broker;
    struct gw_service *service;
    int user; /* the bus's number among the broker's users */
    gw_hub_message_fn handler;
    void *arg;
    char *exchange;            /* "<name>.hub" */
    char *name;                /* GATEWAY.name */
    char *queue;               /* "enoki-hub-<name>-<uuid>", a new uuid for each connection */
    struct binding **bindings; /* every one, to make them again after a reconnect */
    size_t n_bindings, cap_bindings;
    struct gw_strmap *by_name; /* binding name -> binding: one per socket, so not a list */
    unsigned long removals;    /* bindings dropped so far (a walk that calls out restarts) */
    uint64_t binding_ids;      /* the last binding's id (0: no binding's: an unbind's) */
    struct hub_publish *publishes;
};

/* A binding's name into out (2 * (GW_AMQP_NAME_MAX + 1) bytes); its length, or 0 when the names
 * are too long to bind at all. */
static size_t binding_name(const char *exchange, const char *key, char *out)
{
    size_t e = strlen(exchange), k = strlen(key);
    if (e > GW_AMQP_NAME_MAX || k > GW_AMQP_NAME_MAX)
        return 0;
    memcpy(out, exchange, e + 1);
    memcpy(out + e + 1, key, k + 1);
    return e + 1 + k;
}

static struct binding *find_binding(struct gw_hub_bus *bus, const char *exchange, const char *key)
{
    char name[2 * (GW_AMQP_NAME_MAX + 1)];
    size_t len = binding_name(exchange, key, name);
    return len ? gw_strmap_get(bus->by_name, name, len) : NULL;
}

static void notify_waiters(struct binding *b, int status)
{
    struct gw_hub_waiter *w = b->waiters;
    b->waiters = NULL;
    while (w) {
        struct gw_hub_waiter *next = w->next;
        if (w->done)
            w->done(w->arg, status);
        free(w);
        w = next;
    }
}

/* Binds b, or unbinds it. An unbind's report carries no binding's id: neither it nor an earlier
 * bind's report can be taken for a binding of the same names made since (a socket that subscribes
 * just after another let the binding go), which would be answered before its bind is in place. */
static void send_bind(struct gw_hub_bus *bus, const struct binding *b, bool unbind)
{
    /* When it cannot be sent, the connection is away or being let go: up makes it again. */
    gw_broker_bind(bus->broker, bus->user, bus->queue, b->exchange, b->key,
                   !unbind && b->declare_exchange ? "topic" : NULL, unbind, unbind ? 0 : b->id);
}

static struct hub_publish *take_publish(struct gw_hub_bus *bus, const char *message_id)
{
    for (struct hub_publish **p = &bus->publishes; *p; p = &(*p)->next) {
        if (strcmp((*p)->message_id, message_id) == 0) {
            struct hub_publish *found = *p;
            *p = found->next;
            return found;
        }
    }
    return NULL;
}

/* --- the bus as a user of the broker ---------------------------------------------------------- */

static void on_declare(void *arg, struct gw_amqp_plan *plan)
{
    struct gw_hub_bus *bus = arg;
    /* A name of its own for each connection: the broker may still hold the last one's exclusive
     * queue (a connection given up as silent, whose close it has not seen), and would refuse its
     * name (405 RESOURCE_LOCKED) until it notices. The bindings follow it (on_up). */
    char uuid[GW_UUID_LEN + 1];
    gw_uuid4(uuid);
    free(bus->queue);
    bus->queue = xasprintf(HUB_QUEUE_PREFIX "%s-%s", bus->name, uuid);
    gw_amqp_plan_exchange(plan, "hub", bus->exchange, "topic");
    /* This process's own: exclusive, gone with the connection. */
    gw_amqp_plan_queue(plan, "hub", bus->queue, GW_QUEUE_EXCLUSIVE | GW_QUEUE_AUTO_DELETE, 0);
    gw_amqp_plan_bind(plan, "hub", bus->queue, bus->exchange, GW_HUB_BROADCAST_KEY);
    gw_amqp_plan_consume(plan, "hub", bus->queue, consumer_tag,
                         GW_CONSUME_NO_ACK | GW_CONSUME_EXCLUSIVE);
}

static char *bytes_dup(amqp_bytes_t b)
{
    return xstrndup(b.bytes ? b.bytes : "", b.len);
}

static void on_delivery(void *arg, const struct gw_amqp_delivery *d)
{
    struct gw_hub_bus *bus = arg;
    char *exchange = bytes_dup(d->exchange);
    char *key = bytes_dup(d->routing_key);
    struct gw_service_request *passed_on = NULL;
    json_t *body = gw_json_decode_lenient(d->body.bytes, d->body.len, NULL);
    const char *method = gw_json_text(json_object_get(body, "method"));
    if ((d->props->_flags & AMQP_BASIC_REPLY_TO_FLAG) && method)
        passed_on = gw_service_request_passed_on(bus->service, d, method);
    if (body)
        bus->handler(bus->arg, exchange, key, body, passed_on);
    else
        gw_warn("rpc", "dropped a message from %s that is not JSON", exchange);
    json_decref(body);
    free(exchange);
    free(key);
}

/* Tells the waiters of every binding marked to_notify: a waiter's callback may drop bindings
 * (a failed subscription lets its binding go), which moves the array under the walk, so the walk
 * starts again after any drop, skipping those already told. */
static void notify_all(struct gw_hub_bus *bus, int status)
{
    for (size_t i = 0; i < bus->n_bindings;) {
        struct binding *b = bus->bindings[i];
        if (!b->to_notify) {
            i++;
            continue;
        }
        b->to_notify = false;
        unsigned long removals = bus->removals;
        notify_waiters(b, status);
        i = removals == bus->removals ? i + 1 : 0;
    }
}

/* The hub queue went with the old connection: its bindings are made again. */
static void on_up(void *arg)
{
    struct gw_hub_bus *bus = arg;
    for (size_t i = 0; i < bus->n_bindings; i++)
        send_bind(bus, bus->bindings[i], false);
}

/* Everything waiting on the connection that is gone: publishes are unrouted, bindings are no
 * longer in place (they are made again on reconnect), their waiters fail. */
static void on_down(void *arg, int status, const char *detail)
{
    struct gw_hub_bus *bus = arg;
    (void)status;
    (void)detail;
    while (bus->publishes) {
        struct hub_publish *p = bus->publishes;
        bus->publishes = p->next;
        p->routed(p->arg, false);
        free(p);
    }
    for (size_t i = 0; i < bus->n_bindings; i++) {
        bus->bindings[i]->ready = false;
        bus->bindings[i]->to_notify = true;
    }
    notify_all(bus, GW_EBROKER);
}

/* A publish no queue was bound for: for a socket, the socket is on no instance. */
static void on_returned(void *arg, const char *key, int reply_code)
{
    (void)reply_code;
    struct hub_publish *p = take_publish(arg, key);
    if (p) {
        p->routed(p->arg, false);
        free(p);
    }
}

static void on_confirmed(void *arg, const char *key, bool ack)
{
    struct hub_publish *p = take_publish(arg, key);
    if (p) {
        p->routed(p->arg, ack);
        free(p);
    }
}

static void on_bound(void *arg, const char *exchange, const char *key, uint64_t tag, bool ok,
                     const char *why)
{
    struct binding *b = find_binding(arg, exchange, key);
    if (!b || b->refcount <= 0 || b->id != tag)
        return; /* dropped meanwhile, or an earlier binding's (or its unbind's) report */
    if (!ok)
        gw_warn("rpc", "cannot bind to %s by %s: %s", exchange, key, why);
    b->ready = ok;
    notify_waiters(b, ok ? GW_OK : GW_EBROKER);
}

/* --- the public face -------------------------------------------------------------------------- */

struct gw_hub_bus *gw_hub_bus_new(struct gw_broker *broker, struct gw_service *service,
                                  const struct gw_config *config, gw_hub_message_fn handler,
                                  void *arg)
{
    struct gw_hub_bus *bus = xcalloc(1, sizeof(*bus));
    bus->broker = broker;
    bus->service = service;
    bus->handler = handler;
    bus->arg = arg;
    bus->exchange = xasprintf("%s" HUB_EXCHANGE_SUFFIX, config->name);
    bus->name = xstrdup(config->name);
    bus->by_name = gw_strmap_new();
    struct gw_broker_user user = {
        .declare = on_declare,
        .delivery = on_delivery,
        .up = on_up,
        .down = on_down,
        .returned = on_returned,
        .confirmed = on_confirmed,
        .bound = on_bound,
        .arg = bus,
    };
    bus->user = gw_broker_add_user(broker, &user);
    return bus;
}

void gw_hub_bus_free(struct gw_hub_bus *bus)
{
    if (!bus)
        return;
    for (size_t i = 0; i < bus->n_bindings; i++)
        bus->bindings[i]->to_notify = true;
    notify_all(bus, GW_ESHUTDOWN);
    for (size_t i = 0; i < bus->n_bindings; i++)
        free(bus->bindings[i]);
    free(bus->bindings);
    gw_strmap_free(bus->by_name);
    while (bus->publishes) {
        struct hub_publish *p = bus->publishes;
        bus->publishes = p->next;
        free(p);
    }
    free(bus->exchange);
    free(bus->queue);
    free(bus->name);
    free(bus);
}

const char *gw_hub_bus_exchange(const struct gw_hub_bus *bus)
{
    return bus->exchange;
}

struct gw_hub_waiter *gw_hub_bus_bind(struct gw_hub_bus *bus, const char *exchange, const char *key,
                                      bool declare_exchange, gw_hub_bound_fn done, void *arg)
{
    /* AMQP names are short strings: a longer one cannot be sent at all. */
    if (strlen(exchange) > GW_AMQP_NAME_MAX || strlen(key) > GW_AMQP_NAME_MAX) {
        if (done)
            done(arg, GW_EINVAL);
        return NULL;
    }
    struct binding *b = find_binding(bus, exchange, key);
    if (!b) {
        if (bus->n_bindings == bus->cap_bindings) {
            bus->cap_bindings = bus->cap_bindings ? bus->cap_bindings * 2 : 16;
            bus->bindings = xrealloc(bus->bindings, bus->cap_bindings * sizeof(*bus->bindings));
        }
        char name[2 * (GW_AMQP_NAME_MAX + 1)];
        size_t len = binding_name(exchange, key, name);
        b = xcalloc(1, sizeof(*b) + len + 1);
        memcpy(b->name, name, len + 1);
        b->name_len = len;
        b->exchange = b->name;
        b->key = b->name + strlen(exchange) + 1;
        b->index = bus->n_bindings;
        bus->bindings[bus->n_bindings++] = b;
        gw_strmap_put(bus->by_name, b->name, len, b);
        b->declare_exchange = declare_exchange;
        b->id = ++bus->binding_ids;
        send_bind(bus, b, false);
    }
    b->refcount++;
    if (!done)
        return NULL;
    if (b->ready || (!gw_broker_ready(bus->broker) && !gw_broker_starting(bus->broker))) {
        done(arg, b->ready ? GW_OK : GW_EBROKER);
        return NULL;
    }
    struct gw_hub_waiter *w = xcalloc(1, sizeof(*w));
    w->done = done;
    w->arg = arg;
    w->next = b->waiters;
    b->waiters = w;
    return w;
}

void gw_hub_waiter_cancel(struct gw_hub_waiter *waiter)
{
    if (waiter)
        waiter->done = NULL;
}

void gw_hub_bus_unbind(struct gw_hub_bus *bus, const char *exchange, const char *key)
{
    struct binding *b = find_binding(bus, exchange, key);
    if (!b || --b->refcount > 0)
        return;
    send_bind(bus, b, true);
    /* Out of the array and the map first: a waiter told now may bind or drop others. */
    struct binding *last = bus->bindings[--bus->n_bindings];
    bus->bindings[b->index] = last;
    last->index = b->index;
    gw_strmap_remove(bus->by_name, b->name, b->name_len);
    bus->removals++;
    notify_waiters(b, GW_EBROKER);
    free(b);
}

void gw_hub_bus_publish(struct gw_hub_bus *bus, const char *routing_key, const json_t *body,
                        const struct gw_service_request *passed_on, gw_hub_routed_fn routed,
                        void *arg)
{
    if (!gw_broker_ready(bus->broker)) {
        routed(arg, false);
        return;
    }
    struct hub_publish *p = xcalloc(1, sizeof(*p));
    gw_uuid4(p->message_id);
    p->routed = routed;
    p->arg = arg;
    amqp_basic_properties_t props = {0};
    props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_CONTENT_ENCODING_FLAG |
                   AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG;
    props.content_type = amqp_cstring_bytes("application/json");
    props.content_encoding = amqp_cstring_bytes("utf-8");
    props.delivery_mode = 1; /* between live instances: nothing to keep */
    props.message_id = amqp_cstring_bytes(p->message_id);
    if (passed_on) {
        props._flags |= AMQP_BASIC_REPLY_TO_FLAG;
        props.reply_to = amqp_cstring_bytes(passed_on->reply_to);
        props.content_type = amqp_cstring_bytes(passed_on->content_type);
        if (passed_on->correlation_id) {
            props._flags |= AMQP_BASIC_CORRELATION_ID_FLAG;
            props.correlation_id = amqp_cstring_bytes(passed_on->correlation_id);
        }
    }
    size_t len;
    char *text = gw_json_encode(body, GW_JSON_PYTHON, &len);
    struct gw_broker_message message = {
        .exchange = bus->exchange,
        .routing_key = routing_key,
        .mandatory = true,
        .props = &props,
        .body = text,
        .len = len,
    };
    /* Filed first: the broker's answer is matched by the message_id. */
    char message_id[GW_UUID_LEN + 1];
    memcpy(message_id, p->message_id, sizeof(message_id));
    p->next = bus->publishes;
    bus->publishes = p;
    int status = gw_broker_publish(bus->broker, &message, bus->user, message_id);
    free(text);
    if (status != GW_OK) {
        /* The connection is being let go; unless that already told it (and freed p), tell it. */
        p = take_publish(bus, message_id);
        if (p) {
            p->routed(p->arg, false);
            free(p);
        }
    }
}
