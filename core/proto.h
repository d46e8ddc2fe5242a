/* proto.h - an RPC protocol: how a call goes onto the wire, and how its reply is known and read.
 *
 * The call table (core/rpc) keeps calls, their ids, deadlines and outcomes, and knows no protocol;
 * the HTTP and websocket sides know only the call table. A protocol (struct gw_proto below) is
 * the rest:
 *
 *   serves      which services it carries calls to (NULL: all; core/rpc asks the protocols
 *               added last first, and nameko's, added by gw_rpc_new, is the fallback).
 *   declare     what its replies need after every connect: nameko's exchange, the reply queue
 *               (looked for first), its binding and its consumer. Every delivery to a consumer
 *               declared here is a reply.
 *   prepare     (optional) before each publish to a service: what must exist for it first.
 *   encode      at call time: the request's exchange, routing key, mandatory flag and body.
 *   properties  at publish time (a call made while the first connection is being made waits for
 *               it): the message's properties. The call's id must travel where its reply, a
 *               basic.return and a nack carry it back: message_id, else correlation_id (the broker
 *               matches returns by that rule, core/broker.h).
 *   reply_id    which call a reply answers (its id, from the reply's properties).
 *   decode      a reply body into a result, or an error object shaped as nameko's
 *               {exc_type, exc_path, exc_args, value} (what the HTTP and websocket sides answer
 *               with), or GW_EBADREPLY.
 *   free        its state, with the call table.
 *
 * nameko's (docs/nameko-wire.md §1-§4, core/proto_nameko.c) is the one today. A second one sits
 * beside it as another gw_proto without a change to the call table. amphora's, say: encode to
 * exchange "rpc_<svc>_request", key "", body {"func", "args", "kwargs"}; properties message_id =
 * the call id, reply_to = its own reply key, delivery_mode 2, no headers; reply_id the message_id;
 * decode {"result": x} or {"exception": {"type", "args"}} into a nameko-shaped error. Its
 * per-service exchanges and the binding of its reply queue to "rpc_<svc>_response" are what
 * prepare is for: called before each publish to the service, it sends what is missing on the
 * publish channel ahead of the request (a verb the broker gains with that protocol).
 */
#ifndef ENOKI_PROTO_H
#define ENOKI_PROTO_H

#include "amqp_plan.h"
#include "config.h"

#include <amqp.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gw_broker;
struct gw_rpc_request;

/* A request as encode makes it, at call time; every member is new. */
struct gw_proto_request {
    char *exchange;
    char *routing_key;
    bool mandatory; /* a request no queue is bound for comes back: the service is unknown */
    char *body;
    size_t body_len;
};

/* A call being published. */
struct gw_proto_call {
    const char *id;         /* the call's id (a uuid) */
    const json_t *context;  /* borrowed; NULL = none */
    uint64_t expiration_ms; /* what is left of its deadline */
};

struct gw_proto {
    const char *name; /* "nameko" */
    void *state;      /* the protocol's own (names of its reply queue and the like) */
    /* Whether it carries the calls to service; NULL: every service (nameko's, the fallback). */
    bool (*serves)(void *state, const char *service);
    void (*declare)(void *state, struct gw_amqp_plan *plan);
    /* May be NULL. Returns GW_OK, or GW_EBROKER when the service cannot be reached now. */
    int (*prepare)(void *state, struct gw_broker *broker, const char *service);
    void (*encode)(void *state, const struct gw_rpc_request *request, struct gw_proto_request *out);
    /* Fills props; the memory it takes comes from pool (emptied after the publish). */
    void (*properties)(void *state, const struct gw_proto_call *call, amqp_pool_t *pool,
                       amqp_basic_properties_t *props);
    bool (*reply_id)(const amqp_basic_properties_t *props, amqp_bytes_t *id);
    /* As gw_wire_reply_decode: GW_OK with new references, or GW_EBADREPLY with why. */
    int (*decode)(const char *body, size_t len, json_t **result, json_t **error, char *why,
                  size_t whylen);
    void (*free)(void *state);
};

/* Frees what encode made. */
void gw_proto_request_clear(struct gw_proto_request *request);

/* nameko's protocol for config (borrowed; must outlive it). Its reply queue is
 * "rpc.reply-<name>-<uuid>", durable, expiring REPLY_QUEUE_EXPIRES_MS after its last consumer
 * (§3), bound to the RPC exchange by the uuid, which requests carry as reply_to. */
struct gw_proto gw_proto_nameko(const struct gw_config *config);

#endif
