/* service.h - enoki as a nameko service named GATEWAY.name (docs/nameko-wire.md §2): it consumes
 * "rpc-<name>" (durable, bound to the RPC exchange by "<name>.*", SERVICE_PREFETCH requests
 * unacknowledged at once) and answers as a nameko service does: the reply through the RPC exchange
 * to reply_to, then the ack. What a request means is its handler's business (the hub's methods,
 * gateway/hub_service). All of it runs on the loop thread.
 */
#ifndef ENOKI_SERVICE_H
#define ENOKI_SERVICE_H

#include "amqp_conn.h"
#include "config.h"

#include <jansson.h>
#include <stdint.h>

struct gw_broker;
struct gw_service;

/* A request to the native service, as received; owned by the service until answered (gw_service_
 * reply, gw_service_ack_only) or freed (gw_service_request_free). */
struct gw_service_request {
    char *method;          /* from the routing key <name>.<method> */
    json_t *args, *kwargs; /* the body's; args an array, kwargs an object */
    json_t *body;          /* the whole decoded body */
    char *reply_to;
    char *correlation_id; /* NULL when the request had none */
    char *content_type;
    uint64_t delivery_tag; /* 0: nothing to acknowledge (the request was passed on, unacked) */
    uint64_t generation;   /* the connection it came on: a reply after a reconnect is not sent */
};

/* Called with each well-formed request (stolen): answer it now or later. */
typedef void (*gw_service_request_fn)(void *arg, struct gw_service_request *request);

/* Returns a new service on broker (borrowed; it must outlive the service's activity) for config
 * (borrowed), which adds itself to the broker's users: call before gw_broker_start. A request
 * without args or kwargs, or whose body enoki cannot read (not JSON, or JSON holding a NUL, an
 * integer of more than 4,300 digits, a lone surrogate), is answered MalformedRequest here; one
 * without content_type or reply_to is acked and dropped. */
struct gw_service *gw_service_new(struct gw_broker *broker, const struct gw_config *config,
                                  gw_service_request_fn handler, void *arg);
void gw_service_free(struct gw_service *service);

/* Replies as nameko does (§2: to reply_to through the RPC exchange, nameko's properties), then
 * acks the request; frees request. error is a nameko error object or NULL; result NULL means
 * null. A request of a connection that is gone is only freed: the broker has requeued it. */
void gw_service_reply(struct gw_service *service, struct gw_service_request *request,
                      const json_t *result, const json_t *error);

/* Acknowledges a request someone else answers (another instance it was passed on to), and frees
 * it. */
void gw_service_ack_only(struct gw_service *service, struct gw_service_request *request);

/* Frees a request without answering it. NULL is a no-op. */
void gw_service_request_free(struct gw_service_request *request);

/* A request another instance passed on (a delivery of another consumer whose properties say where
 * to answer, calling method), to answer with gw_service_reply; nothing is acknowledged for it. NULL
 * (logged) when it cannot be answered. */
struct gw_service_request *gw_service_request_passed_on(struct gw_service *service,
                                                        const struct gw_amqp_delivery *delivery,
                                                        const char *method);

#endif
