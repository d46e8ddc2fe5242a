/* proto.h - an RPC protocol: how a call goes onto the wire, and how its reply is known and read.
 *
 * The call table (core/rpc) keeps calls, their ids, deadlines and outcomes, and knows no protocol;
 * the HTTP and websocket sides know only the call table. A protocol (struct gw_proto below) is
 * the rest:
 *
 *   protocol    which one it is: a call names its protocol (GATEWAY.services says which a service
 *               speaks), so a SIGHUP that changes it applies to the calls made after it.
 *   declare     what its replies need after every connect: nameko's exchange, the reply queue
 *               (looked for first), its binding and its consumer. Every delivery to a consumer
 *               declared here is a reply.
 *   prepare     (optional) before each publish: what must exist for the call first. GW_AGAIN
 *               keeps the call unsent until the declarations it asked for are reported (bound);
 *               the table asks again then.
 *   bound       (optional) a declaration or binding it asked gw_broker_bind for is in place or
 *               failed.
 *   down        (optional) the connection is gone: what was being declared is lost with it.
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
 * nameko's is core/proto_nameko.c (docs/nameko-wire.md §1-§4), amphora's core/proto_amphora.c
 * (docs/amphora.md).
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
    char *service; /* whom it is for */
    bool fanout;   /* amphora: its request exchange is a fanout one */
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
    enum gw_protocol protocol;
    void *state; /* the protocol's own (names of its reply queue and the like) */
    void (*declare)(void *state, struct gw_amqp_plan *plan);
    /* May be NULL. GW_OK: publish now; GW_AGAIN: not yet (see above); GW_EBROKER with why: the
     * call cannot be made. user is the table's, for gw_broker_bind. */
    int (*prepare)(void *state, struct gw_broker *broker, int user,
                   const struct gw_proto_request *request, char *why, size_t whylen);
    void (*bound)(void *state, const char *exchange, const char *key, bool ok, const char *why);
    void (*down)(void *state);
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

/* amphora's protocol (docs/amphora.md) for config (borrowed; must outlive it): one exclusive
 * reply queue of enoki's, bound to rpc_<svc>_response with its key for each service called,
 * declared with the service's exchanges on first use and again after every reconnect. */
struct gw_proto gw_proto_amphora(const struct gw_config *config);

/* nameko's protocol for config (borrowed; must outlive it). Its reply queue is
 * "rpc.reply-<name>-<uuid>", durable, expiring REPLY_QUEUE_EXPIRES_MS after its last consumer
 * (§3), bound to the RPC exchange by the uuid, which requests carry as reply_to. */
struct gw_proto gw_proto_nameko(const struct gw_config *config);

#endif
