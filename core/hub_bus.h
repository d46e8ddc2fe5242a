/* hub_bus.h - the broker side of the websocket hub, through which enoki's instances behave as one
 * hub (docs/architecture.md, "The hub on libwebsockets"):
 *
 *   - the exchange "<name>.hub" (topic, durable) and this process's own queue
 *     "enoki-hub-<name>-<uuid>" (exclusive, gone with the connection), bound to it by
 *     GW_HUB_BROADCAST_KEY: a broadcast reaches every instance, this one included;
 *   - bindings of that queue made while running, counted by reference and made again after a
 *     reconnect: GW_HUB_SOCKET_PREFIX<socket_id> on the hub exchange for each open socket (what is
 *     meant for a socket reaches the instance that holds it), "<event_type>" on
 *     "<service>.events" for each event channel a socket is subscribed to (docs/nameko-wire.md §5);
 *   - publishing to the hub exchange, mandatory, so that the publisher learns whether any instance
 *     took the message;
 *   - what arrives on the queue, handed to one handler (gateway/hub_service).
 *
 * All of it runs on the loop thread.
 */
#ifndef ENOKI_HUB_BUS_H
#define ENOKI_HUB_BUS_H

#include "config.h"

#include <jansson.h>
#include <stdbool.h>

/* The routing key of a broadcast, and the prefix of a socket's. */
#define GW_HUB_BROADCAST_KEY "broadcast"
#define GW_HUB_SOCKET_PREFIX "sock."

struct gw_broker;
struct gw_service;
struct gw_service_request;
struct gw_hub_bus;
struct gw_hub_waiter;

/* A message on the hub queue: from exchange (the hub exchange, or "<service>.events") by
 * routing_key; body is its decoded JSON (borrowed). passed_on (stolen; NULL when none) is a request
 * another instance passed on ({"method", "kwargs"} in body): answer it with gw_service_reply. */
typedef void (*gw_hub_message_fn)(void *arg, const char *exchange, const char *routing_key,
                                  const json_t *body, struct gw_service_request *passed_on);

/* A binding is in place (GW_OK) or is not (GW_EBROKER: the broker refused it or is away;
 * GW_ESHUTDOWN: the bus is being freed). */
typedef void (*gw_hub_bound_fn)(void *arg, int status);

/* A publish was taken by some queue (true), or by none, or the broker is away (false). */
typedef void (*gw_hub_routed_fn)(void *arg, bool routed);

/* Returns a new bus on broker, which it adds itself to (call before gw_broker_start); broker,
 * service (which answers what is passed on) and config are borrowed and must outlive the bus's
 * activity. */
struct gw_hub_bus *gw_hub_bus_new(struct gw_broker *broker, struct gw_service *service,
                                  const struct gw_config *config, gw_hub_message_fn handler,
                                  void *arg);

/* Tells the waiters still waiting GW_ESHUTDOWN and frees the bus. NULL is a no-op. */
void gw_hub_bus_free(struct gw_hub_bus *bus);

/* The hub exchange's name, "<name>.hub". */
const char *gw_hub_bus_exchange(const struct gw_hub_bus *bus);

/* Binds this process's queue to exchange by key (declaring exchange a durable topic one when
 * declare_exchange), counted by reference: made for the first, dropped with the last
 * gw_hub_bus_unbind, and made again after a reconnect. done (may be NULL) runs once the binding is
 * in place or failed, maybe before this returns (and then NULL is returned); while the first
 * connection is being made it waits for it. The waiter returned may be cancelled (done is then
 * never called); it is the bus's. A name over GW_AMQP_NAME_MAX bytes is done at once with
 * GW_EINVAL. */
struct gw_hub_waiter *gw_hub_bus_bind(struct gw_hub_bus *bus, const char *exchange, const char *key,
                                      bool declare_exchange, gw_hub_bound_fn done, void *arg);
void gw_hub_bus_unbind(struct gw_hub_bus *bus, const char *exchange, const char *key);
void gw_hub_waiter_cancel(struct gw_hub_waiter *waiter);

/* Publishes body (JSON, borrowed) to the hub exchange by routing_key, mandatory. passed_on, when
 * not NULL, lends its reply_to, correlation_id and content_type, so that the instance that takes it
 * can answer the original caller. routed (always called once, maybe before this returns) says
 * whether it was taken. */
void gw_hub_bus_publish(struct gw_hub_bus *bus, const char *routing_key, const json_t *body,
                        const struct gw_service_request *passed_on, gw_hub_routed_fn routed,
                        void *arg);

#endif
