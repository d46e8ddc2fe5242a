/* hub_service.h - the websocket hub as a nameko service, on the hub bus (core/hub_bus.h), as
 * nameko's hub would have it (docs/nameko-wire.md §5, §7): the sockets of this process and their
 * subscriptions, events of
 * "<service>.events" and broadcasts delivered to the sockets subscribed to their channel, and the
 * hub as a nameko service named GATEWAY.name (broadcast, unicast, subscribe, unsubscribe,
 * get_subscriptions), whose requests for a socket of another instance are passed on to it over the
 * hub bus.
 *
 * It knows no websocket: the sockets are libwebsockets' (gateway/hub.c), which the hub service
 * reaches through gw_hub_socket_ops, by the socket argument given to gw_hub_socket_open. All of it
 * runs on the loop thread.
 */
#ifndef ENOKI_HUB_SERVICE_H
#define ENOKI_HUB_SERVICE_H

#include "core/config.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct gw_broker;
struct gw_hub_service;
struct gw_hub_socket;

/* What the websocket side does for the hub service. */
struct gw_hub_socket_ops {
    /* Sends the event frame (event, data: borrowed, any JSON as a service gave them; channel NULL
     * for a unicast) to each of the n sockets. */
    void (*deliver)(void *arg, void *const *sockets, size_t n, const json_t *event,
                    const json_t *data, const char *channel);
    /* The socket's own binding is in place (or cannot be made while the broker is away): it may
     * learn its id. May run inside gw_hub_socket_open. */
    void (*ready)(void *socket);
    /* The answer to the socket's own subscribe that gw_hub_socket_subscribe left waiting: the
     * socket's subscriptions (borrowed) once the channel's events are bound, or an error (stolen)
     * when they cannot be. May run inside gw_hub_socket_subscribe. */
    void (*subscribed)(void *socket, const json_t *subscriptions, json_t *error);
    void *arg;
};

/* Returns a new hub service on broker (borrowed; it must outlive the service's activity), adding
 * the native service and the hub bus to the broker's users: call before gw_broker_start. config
 * and ops are borrowed. */
struct gw_hub_service *gw_hub_service_new(struct gw_broker *broker, const struct gw_config *config,
                                          const struct gw_hub_socket_ops *ops);
void gw_hub_service_free(struct gw_hub_service *hub);

/* Counts each channel's subscribers and messages into status (borrowed; NULL: not counted). */
struct gw_status_page;
void gw_hub_service_set_status_page(struct gw_hub_service *hub, struct gw_status_page *status);

/* Delivers an event to every socket of this process subscribed to channel; returns how many. */
size_t gw_hub_service_publish(struct gw_hub_service *hub, const char *channel, const json_t *event,
                              const json_t *data);

/* A socket opened, with its id (copied) and the gateway's socket argument. Returns the hub's
 * record of it (the hub's until gw_hub_socket_close). Its key on the hub bus is bound so that
 * every instance reaches it; ops->ready tells when. */
struct gw_hub_socket *gw_hub_socket_open(struct gw_hub_service *hub, const char *socket_id,
                                         void *socket);

/* The socket is gone: its subscriptions and bindings go, no callback about it runs any more. */
void gw_hub_socket_close(struct gw_hub_socket *socket);

/* Whether the socket waits for a binding (its own, or a subscribe's): its next frames wait too. */
bool gw_hub_socket_busy(const struct gw_hub_socket *socket);

/* The socket's own subscribe. Returns true when it is answered now (send the subscriptions), false
 * when ops->subscribed answers it once the channel's events are bound (an event channel,
 * "<service>.<event_type>"; nothing dispatched after the answer can then be missed). */
bool gw_hub_socket_subscribe(struct gw_hub_socket *socket, const char *channel);
void gw_hub_socket_unsubscribe(struct gw_hub_socket *socket, const char *channel);

/* The socket's channels, sorted (new array of strings). */
json_t *gw_hub_socket_subscriptions(const struct gw_hub_socket *socket);

#endif
