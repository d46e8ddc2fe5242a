#include "hub_service.h"

#include "core/hub_bus.h"
#include "core/json.h"
#include "core/log.h"
#include "core/service.h"
#include "core/status.h"
#include "core/strmap.h"
#include "core/wire.h"
#include "core/xalloc.h"
#include "gateway/status_page.h"
#include "routes/hub_args.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* nameko's events exchange of a service is "<service>" EVENTS_SUFFIX (docs/nameko-wire.md §5). */
#define EVENTS_SUFFIX ".events"

struct gw_hub_socket {
    struct gw_hub_service *hub;
    struct gw_hub_socket *prev, *next;
    char id[GW_UUID_LEN + 1];
    void *socket;    /* the gateway's */
    char **channels; /* sorted */
    size_t *slots;   /* for channels[i], this socket's place in the channel's subscribers */
    size_t n_channels;
    bool binding;                      /* its own binding is being made */
    struct gw_hub_waiter *bind_waiter; /* for it, once gw_hub_bus_bind has returned */
    bool subscribing;                  /* its own subscribe waits for the channel's binding */
    struct gw_hub_waiter *waiter;      /* for that, once gw_hub_bus_bind has returned */
    char *waiter_channel;
};

/* A channel's subscribers, so a broadcast visits only them (not every socket) in one array: the
 * gateway's sockets, and beside them the hub's, whose slots are fixed when one moves. */
struct subscribers {
    char *channel; /* the map's key */
    void **sockets;
    struct gw_hub_socket **hub_sockets;
    size_t n, cap;
};

struct gw_hub_service {
    const struct gw_config *config;
    struct gw_hub_socket_ops ops;
    struct gw_service *service;
    struct gw_hub_bus *bus;
    struct gw_hub_socket *sockets;
    struct gw_strmap *by_id;       /* socket id -> struct gw_hub_socket */
    struct gw_strmap *by_channel;  /* channel -> struct subscribers */
    struct gw_status_page *status; /* counts subscribers and messages per channel; may be NULL */
};

/* Answers a native request; one passed on without a reply address (a unicast) has none. */
static void answer(struct gw_hub_service *hub, struct gw_service_request *in, const json_t *result,
                   const json_t *error)
{
    if (in)
        gw_service_reply(hub->service, in, result, error);
}

static void answer_error_take(struct gw_hub_service *hub, struct gw_service_request *in,
                              json_t *error)
{
    answer(hub, in, NULL, error);
    json_decref(error);
}

static json_t *broker_unavailable(const char *message)
{
    return gw_nameko_error("BrokerUnavailable", "enoki.BrokerUnavailable",
                           json_pack("[s]", message), message);
}

/* Why a channel's binding failed (channel may be NULL): a name AMQP cannot carry is the caller's
 * error; anything else is the broker's, and worth a retry. */
static json_t *bind_error(int status, const char *channel)
{
    char message[512];
    if (status == GW_EINVAL) {
        snprintf(message, sizeof(message),
                 "channel name too long: its service and event type are AMQP names, at most %d "
                 "bytes each",
                 GW_AMQP_NAME_MAX);
        return gw_nameko_error("ValueError", "builtins.ValueError", json_pack("[s]", message),
                               message);
    }
    if (channel)
        snprintf(message, sizeof(message), "cannot receive the events of %s now; retry later",
                 channel);
    else
        snprintf(message, sizeof(message), "cannot bind the channel's events");
    return broker_unavailable(message);
}

/* --- subscriptions ---------------------------------------------------------------------------- */

/* Where channel is in s's sorted list, or where it would go (*found false). */
static size_t channel_index(const struct gw_hub_socket *s, const char *channel, bool *found)
{
    size_t lo = 0, hi = s->n_channels;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(s->channels[mid], channel);
        if (cmp == 0) {
            *found = true;
            return mid;
        }
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

static bool subscribed(const struct gw_hub_socket *s, const char *channel)
{
    bool found;
    channel_index(s, channel, &found);
    return found;
}

/* Adds s to channel's subscribers; returns its place there. */
static size_t subscribers_add(struct gw_hub_service *hub, const char *channel,
                              struct gw_hub_socket *s)
{
    size_t len = strlen(channel);
    struct subscribers *subs = gw_strmap_get(hub->by_channel, channel, len);
    if (!subs) {
        subs = xcalloc(1, sizeof(*subs));
        subs->channel = xstrdup(channel);
        gw_strmap_put(hub->by_channel, subs->channel, len, subs);
    }
    if (subs->n == subs->cap) {
        subs->cap = subs->cap ? subs->cap * 2 : 4;
        subs->sockets = xrealloc(subs->sockets, subs->cap * sizeof(*subs->sockets));
        subs->hub_sockets = xrealloc(subs->hub_sockets, subs->cap * sizeof(*subs->hub_sockets));
    }
    subs->sockets[subs->n] = s->socket;
    subs->hub_sockets[subs->n] = s;
    return subs->n++;
}

/* Takes the subscriber at slot out of channel's: the last one moves into its place. */
static void subscribers_remove(struct gw_hub_service *hub, const char *channel, size_t slot)
{
    size_t len = strlen(channel);
    struct subscribers *subs = gw_strmap_get(hub->by_channel, channel, len);
    size_t last = --subs->n;
    if (slot != last) {
        struct gw_hub_socket *moved = subs->hub_sockets[last];
        subs->sockets[slot] = subs->sockets[last];
        subs->hub_sockets[slot] = moved;
        bool found;
        moved->slots[channel_index(moved, channel, &found)] = slot;
    }
    if (subs->n == 0) {
        gw_strmap_remove(hub->by_channel, channel, len);
        free(subs->channel);
        free(subs->sockets);
        free(subs->hub_sockets);
        free(subs);
    }
}

static void add_channel(struct gw_hub_socket *s, const char *channel)
{
    bool found;
    size_t at = channel_index(s, channel, &found);
    if (found)
        return;
    s->channels = xrealloc(s->channels, (s->n_channels + 1) * sizeof(*s->channels));
    s->slots = xrealloc(s->slots, (s->n_channels + 1) * sizeof(*s->slots));
    memmove(s->channels + at + 1, s->channels + at, (s->n_channels - at) * sizeof(*s->channels));
    memmove(s->slots + at + 1, s->slots + at, (s->n_channels - at) * sizeof(*s->slots));
    s->channels[at] = xstrdup(channel);
    s->n_channels++;
    s->slots[at] = subscribers_add(s->hub, channel, s);
    gw_status_page_note_subscribers(s->hub->status, channel, 1);
}

/* Takes s's i-th channel out of its list and out of the channel's subscribers. */
static void remove_channel_at(struct gw_hub_socket *s, size_t i)
{
    gw_status_page_note_subscribers(s->hub->status, s->channels[i], -1);
    subscribers_remove(s->hub, s->channels[i], s->slots[i]);
    free(s->channels[i]);
    memmove(s->channels + i, s->channels + i + 1, (s->n_channels - i - 1) * sizeof(*s->channels));
    memmove(s->slots + i, s->slots + i + 1, (s->n_channels - i - 1) * sizeof(*s->slots));
    s->n_channels--;
}

static void remove_channel(struct gw_hub_socket *s, const char *channel)
{
    bool found;
    size_t i = channel_index(s, channel, &found);
    if (found)
        remove_channel_at(s, i);
}

json_t *gw_hub_socket_subscriptions(const struct gw_hub_socket *s)
{
    json_t *list = json_array();
    for (size_t i = 0; i < s->n_channels; i++)
        json_array_append_new(list, json_string(s->channels[i]));
    return list;
}

void gw_hub_service_set_status_page(struct gw_hub_service *hub, struct gw_status_page *status)
{
    hub->status = status;
}

size_t gw_hub_service_publish(struct gw_hub_service *hub, const char *channel, const json_t *event,
                              const json_t *data)
{
    struct subscribers *subs = gw_strmap_get(hub->by_channel, channel, strlen(channel));
    if (!subs)
        return 0;
    /* A copy: what the delivery does to a socket must not move the list it walks. */
    size_t n = subs->n;
    void **to = xmalloc(n * sizeof(*to));
    memcpy(to, subs->sockets, n * sizeof(*to));
    hub->ops.deliver(hub->ops.arg, to, n, event, data, channel);
    gw_status_page_note_message(hub->status, channel);
    free(to);
    return n;
}

/* nameko's events: a channel "<service>.<event_type>" is bound to "<service>.events" by the event
 * type. Splits such a channel; false for a plain channel (no dot). */
static bool event_channel(const char *channel, char **exchange, const char **event_type)
{
    const char *dot = strchr(channel, '.');
    if (!dot || dot == channel || !dot[1])
        return false;
    *exchange = xasprintf("%.*s" EVENTS_SUFFIX, (int)(dot - channel), channel);
    *event_type = dot + 1;
    return true;
}

static void release_channel(struct gw_hub_service *hub, const char *channel)
{
    char *exchange;
    const char *event_type;
    if (event_channel(channel, &exchange, &event_type)) {
        gw_hub_bus_unbind(hub->bus, exchange, event_type);
        free(exchange);
    }
}

static void on_subscribed(void *arg, int status)
{
    struct gw_hub_socket *s = arg;
    char *channel = s->waiter_channel;
    /* Settled before the socket hears of it: its next frame may subscribe again. */
    s->subscribing = false;
    s->waiter = NULL;
    s->waiter_channel = NULL;
    if (status == GW_OK) {
        json_t *list = gw_hub_socket_subscriptions(s);
        s->hub->ops.subscribed(s->socket, list, NULL);
        json_decref(list);
    } else {
        /* No binding, no subscription: the client may try again. */
        remove_channel(s, channel);
        release_channel(s->hub, channel);
        s->hub->ops.subscribed(s->socket, NULL, bind_error(status, channel));
    }
    free(channel);
}

bool gw_hub_socket_subscribe(struct gw_hub_socket *s, const char *channel)
{
    if (subscribed(s, channel))
        return true;
    add_channel(s, channel);
    char *exchange;
    const char *event_type;
    if (!event_channel(channel, &exchange, &event_type))
        return true;
    s->waiter_channel = xstrdup(channel);
    s->subscribing = true;
    struct gw_hub_waiter *w =
        gw_hub_bus_bind(s->hub->bus, exchange, event_type, true, on_subscribed, s);
    free(exchange);
    if (s->subscribing)
        s->waiter = w;
    return false;
}

void gw_hub_socket_unsubscribe(struct gw_hub_socket *s, const char *channel)
{
    if (!subscribed(s, channel))
        return;
    remove_channel(s, channel);
    release_channel(s->hub, channel);
}

/* --- sockets ---------------------------------------------------------------------------------- */

static struct gw_hub_socket *find_socket(struct gw_hub_service *hub, const char *socket_id)
{
    return gw_strmap_get(hub->by_id, socket_id, strlen(socket_id));
}

/* The socket is reachable from every instance (or the broker is away): tell the client its id. */
static void on_socket_bound(void *arg, int status)
{
    struct gw_hub_socket *s = arg;
    (void)status; /* without the broker, unicasts from elsewhere fail anyway */
    s->binding = false;
    s->bind_waiter = NULL;
    s->hub->ops.ready(s->socket);
}

struct gw_hub_socket *gw_hub_socket_open(struct gw_hub_service *hub, const char *socket_id,
                                         void *socket)
{
    struct gw_hub_socket *s = xcalloc(1, sizeof(*s));
    s->hub = hub;
    snprintf(s->id, sizeof(s->id), "%s", socket_id);
    s->socket = socket;
    s->next = hub->sockets;
    if (hub->sockets)
        hub->sockets->prev = s;
    hub->sockets = s;
    gw_strmap_put(hub->by_id, s->id, strlen(s->id), s);
    /* Other instances reach this socket through the hub exchange by its key: the client learns
     * its id only once that binding is in place, so no instance can miss it after. */
    char *key = xasprintf(GW_HUB_SOCKET_PREFIX "%s", s->id);
    s->binding = true;
    struct gw_hub_waiter *w =
        gw_hub_bus_bind(hub->bus, gw_hub_bus_exchange(hub->bus), key, false, on_socket_bound, s);
    if (s->binding)
        s->bind_waiter = w;
    free(key);
    return s;
}

void gw_hub_socket_close(struct gw_hub_socket *s)
{
    struct gw_hub_service *hub = s->hub;
    gw_hub_waiter_cancel(s->waiter);
    gw_hub_waiter_cancel(s->bind_waiter);
    free(s->waiter_channel);
    while (s->n_channels) { /* the last first: nothing to move */
        release_channel(hub, s->channels[s->n_channels - 1]);
        remove_channel_at(s, s->n_channels - 1);
    }
    free(s->channels);
    free(s->slots);
    gw_strmap_remove(hub->by_id, s->id, strlen(s->id));
    char *key = xasprintf(GW_HUB_SOCKET_PREFIX "%s", s->id);
    gw_hub_bus_unbind(hub->bus, gw_hub_bus_exchange(hub->bus), key);
    free(key);
    if (s->prev)
        s->prev->next = s->next;
    else
        hub->sockets = s->next;
    if (s->next)
        s->next->prev = s->prev;
    free(s);
}

bool gw_hub_socket_busy(const struct gw_hub_socket *s)
{
    return s->binding || s->subscribing;
}

/* --- the hub as a nameko service -------------------------------------------------------------- */

/* A request waiting to learn whether its publish on the hub bus was taken. */
struct pending_reply {
    struct gw_hub_service *hub;
    struct gw_service_request *in;
    enum gw_hub_method method;
    char socket_id[128]; /* as bound from args or kwargs */
};

static void on_broadcast_routed(void *arg, bool routed)
{
    struct pending_reply *p = arg;
    (void)routed; /* at least this instance's own queue is bound: routed unless the broker left */
    answer(p->hub, p->in, NULL, NULL);
    free(p);
}

/* A request for a socket of another instance was taken, or came back unrouted: no instance holds
 * the socket. */
static void on_passed_on(void *arg, bool routed)
{
    struct pending_reply *p = arg;
    if (p->method == GW_HUB_UNICAST) {
        answer(p->hub, p->in, routed ? json_true() : json_false(), NULL);
    } else if (routed) {
        gw_service_ack_only(p->hub->service, p->in); /* the instance holding the socket answers */
    } else if (p->method == GW_HUB_GET_SUBSCRIPTIONS) {
        json_t *empty = json_array();
        answer(p->hub, p->in, empty, NULL);
        json_decref(empty);
    } else if (p->method == GW_HUB_SUBSCRIBE) {
        answer_error_take(p->hub, p->in,
                          gw_nameko_error("ConnectionNotFound",
                                          "nameko.exceptions.ConnectionNotFound",
                                          json_pack("[s]", p->socket_id), p->socket_id));
    } else {
        answer(p->hub, p->in, NULL, NULL); /* unsubscribe: an unknown socket is ignored */
    }
    free(p);
}

struct native_subscribe {
    struct gw_hub_service *hub;
    struct gw_service_request *in;
    char *socket_id, *channel; /* new */
};

static void on_native_subscribed(void *arg, int status)
{
    struct native_subscribe *ns = arg;
    if (status == GW_OK) {
        answer(ns->hub, ns->in, NULL, NULL);
    } else {
        /* No binding, no subscription, as for the socket's own subscribe: the service is told,
         * and the socket (if it is still here) neither gets the channel's messages nor counts as
         * subscribed when it asks again. */
        struct gw_hub_socket *s = find_socket(ns->hub, ns->socket_id);
        if (s && subscribed(s, ns->channel)) {
            remove_channel(s, ns->channel);
            release_channel(ns->hub, ns->channel);
        }
        answer_error_take(ns->hub, ns->in, bind_error(status, NULL));
    }
    free(ns->socket_id);
    free(ns->channel);
    free(ns);
}

/* The socket methods, for a socket of this process. in (may be NULL) is answered. */
static void socket_method(struct gw_hub_service *hub, struct gw_hub_socket *s,
                          enum gw_hub_method method, const json_t *bound,
                          struct gw_service_request *in)
{
    const char *channel = gw_json_text(json_object_get(bound, "channel"));
    if (method == GW_HUB_UNICAST) {
        void *to[] = {s->socket};
        hub->ops.deliver(hub->ops.arg, to, 1, json_object_get(bound, "event"),
                         json_object_get(bound, "data"), NULL);
        answer(hub, in, json_true(), NULL);
    } else if (method == GW_HUB_GET_SUBSCRIPTIONS) {
        json_t *list = gw_hub_socket_subscriptions(s);
        answer(hub, in, list, NULL);
        json_decref(list);
    } else if (method == GW_HUB_UNSUBSCRIBE) {
        if (channel)
            gw_hub_socket_unsubscribe(s, channel);
        answer(hub, in, NULL, NULL);
    } else if (method == GW_HUB_SUBSCRIBE && channel) {
        char *exchange;
        const char *event_type;
        bool fresh = !subscribed(s, channel);
        add_channel(s, channel);
        if (fresh && event_channel(channel, &exchange, &event_type)) {
            struct native_subscribe *ns = xcalloc(1, sizeof(*ns));
            ns->hub = hub;
            ns->in = in;
            ns->socket_id = xstrdup(gw_json_text(json_object_get(bound, "socket_id")));
            ns->channel = xstrdup(channel);
            gw_hub_bus_bind(hub->bus, exchange, event_type, true, on_native_subscribed, ns);
            free(exchange);
        } else {
            answer(hub, in, NULL, NULL);
        }
    } else {
        answer_error_take(hub, in, gw_hub_args_channel_not_a_string());
    }
}

static void on_service_request(void *arg, struct gw_service_request *in)
{
    struct gw_hub_service *hub = arg;
    json_t *bound, *error;
    enum gw_hub_method method =
        gw_hub_args_service(in->method, in->args, in->kwargs, &bound, &error);
    if (method == GW_HUB_NONE) {
        answer_error_take(hub, in, error);
        return;
    }
    struct pending_reply *p = xcalloc(1, sizeof(*p));
    p->hub = hub;
    p->in = in;
    p->method = method;
    if (method == GW_HUB_BROADCAST) {
        /* Every instance, this one included, delivers it from its own hub queue. */
        gw_hub_bus_publish(hub->bus, GW_HUB_BROADCAST_KEY, bound, NULL, on_broadcast_routed, p);
        json_decref(bound);
        return;
    }
    const char *socket_id = gw_json_text(json_object_get(bound, "socket_id"));
    struct gw_hub_socket *s = socket_id ? find_socket(hub, socket_id) : NULL;
    if (s) {
        free(p);
        socket_method(hub, s, method, bound, in);
    } else {
        /* Another instance may hold it: pass the request on, by the socket's key. A unicast is
         * answered here (by whether it was taken), the rest by the instance that takes them. */
        snprintf(p->socket_id, sizeof(p->socket_id), "%s", socket_id ? socket_id : "");
        char *key = xasprintf(GW_HUB_SOCKET_PREFIX "%s", socket_id ? socket_id : "");
        json_t *body =
            json_pack("{s:s, s:O}", "method", gw_hub_method_name(method), "kwargs", bound);
        gw_hub_bus_publish(hub->bus, key, body, method == GW_HUB_UNICAST ? NULL : in, on_passed_on,
                           p);
        json_decref(body);
        free(key);
    }
    json_decref(bound);
}

static void on_hub_message(void *arg, const char *exchange, const char *routing_key,
                           const json_t *body, struct gw_service_request *passed_on)
{
    struct gw_hub_service *hub = arg;
    size_t suffix = strlen(EVENTS_SUFFIX);
    if (strcmp(exchange, gw_hub_bus_exchange(hub->bus)) != 0) {
        /* A nameko event from "<service>.events": channel "<service>.<event_type>". */
        size_t n = strlen(exchange);
        if (n > suffix && strcmp(exchange + n - suffix, EVENTS_SUFFIX) == 0) {
            char *channel = xasprintf("%.*s.%s", (int)(n - suffix), exchange, routing_key);
            json_t *event = json_string(routing_key);
            gw_hub_service_publish(hub, channel, event, body);
            json_decref(event);
            free(channel);
        }
    } else if (strcmp(routing_key, GW_HUB_BROADCAST_KEY) == 0) {
        /* The event as the service gave it, whatever JSON it is: nameko's hub sends it so. */
        const char *channel = gw_json_text(json_object_get(body, "channel"));
        if (channel)
            gw_hub_service_publish(hub, channel, json_object_get(body, "event"),
                                   json_object_get(body, "data"));
    } else if (strncmp(routing_key, GW_HUB_SOCKET_PREFIX, strlen(GW_HUB_SOCKET_PREFIX)) == 0) {
        struct gw_hub_socket *s = find_socket(hub, routing_key + strlen(GW_HUB_SOCKET_PREFIX));
        const char *method = gw_json_text(json_object_get(body, "method"));
        json_t *kwargs = json_object_get(body, "kwargs");
        if (s && method && json_is_object(kwargs)) {
            socket_method(hub, s, gw_hub_method_of(method), kwargs, passed_on);
            return;
        }
    }
    gw_service_request_free(passed_on);
}

/* --- the public face -------------------------------------------------------------------------- */

struct gw_hub_service *gw_hub_service_new(struct gw_broker *broker, const struct gw_config *config,
                                          const struct gw_hub_socket_ops *ops)
{
    struct gw_hub_service *hub = xcalloc(1, sizeof(*hub));
    hub->config = config;
    hub->ops = *ops;
    hub->by_id = gw_strmap_new();
    hub->by_channel = gw_strmap_new();
    hub->service = gw_service_new(broker, config, on_service_request, hub);
    hub->bus = gw_hub_bus_new(broker, hub->service, config, on_hub_message, hub);
    return hub;
}

void gw_hub_service_free(struct gw_hub_service *hub)
{
    if (!hub)
        return;
    /* Sockets still open lose their callbacks before the bus tells its waiters it is going. */
    while (hub->sockets)
        gw_hub_socket_close(hub->sockets);
    gw_hub_bus_free(hub->bus);
    gw_service_free(hub->service);
    gw_strmap_free(hub->by_id);
    gw_strmap_free(hub->by_channel); /* empty: every socket has left its channels */
    free(hub);
}
