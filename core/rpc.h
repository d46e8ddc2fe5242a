/* rpc.h - the call table: RPC calls to the cluster on a libuv loop (docs/nameko-wire.md §1-§4).
 *
 * One gw_rpc per loop owns the broker connection (core/broker) and the table of pending calls: each
 * call has an id (a uuid4, the correlation id nameko's replies carry back), a deadline (a uv timer,
 * also the request's expiration) and one end. How a call is put on the wire and its reply read is
 * an RPC protocol's business (core/proto.h; nameko's is the one today), never the table's.
 *
 * Every call ends exactly once: by its reply, its deadline, a basic.return (unknown service), a
 * nack or the loss of the broker, unless the caller cancels it first; then done is never called.
 * A call that collects replies (amphora fanout, collect) ends GW_OK with {"replies": [...],
 * "complete": bool} once it has them all, or at its deadline with those that came (none: timeout).
 * All of it runs on the loop thread.
 */
#ifndef ENOKI_RPC_H
#define ENOKI_RPC_H

#include "config.h"
#include "proto.h"

#include <jansson.h>
#include <stdbool.h>
#include <uv.h>

struct gw_rpc;
struct gw_rpc_call;
struct gw_broker;
struct gw_metrics;

struct gw_rpc_request {
    const char *service;   /* borrowed */
    const char *method;    /* borrowed */
    const json_t *args;    /* borrowed array; NULL = [] */
    const json_t *kwargs;  /* borrowed object; NULL = {} */
    const json_t *context; /* borrowed object of context data; sent as nameko.<key> headers */
    double timeout_s;      /* the deadline, from now; also the message's expiration */
    /* The service's protocol (GATEWAY.services; GW_PROTO_NAMEKO when not listed) and what amphora
     * takes besides: */
    enum gw_protocol protocol;
    bool fanout;             /* its request exchange is a fanout one */
    const char *routing_key; /* the call's own key (routes[].routing_key), borrowed; NULL: "" */
    int collect;             /* fanout: 0 the first reply answers, GW_COLLECT_ALL, or that many */
};

/* Called on the loop thread when a call ends. status is GW_OK (result set), GW_EREMOTE (error set:
 * the nameko error object), GW_EUNKNOWN_SERVICE, GW_ETIMEOUT, GW_EBROKER, GW_EBADREPLY,
 * GW_ESHUTDOWN or GW_EFRAME (a call that waited for the broker, then did not fit); detail is a
 * human-readable reason (never NULL). result and error are borrowed for the call. may_have_run:
 * the request was published and the broker did not give it back (a return, a nack), so a service
 * may have acted on it; false when none can have (never sent, returned, refused). */
typedef void (*gw_rpc_done_fn)(void *arg, int status, const json_t *result, const json_t *error,
                               const char *detail, bool may_have_run);

/* Returns a new client for config (borrowed; must outlive it) on loop, speaking nameko's protocol;
 * gw_rpc_start connects. */
struct gw_rpc *gw_rpc_new(uv_loop_t *loop, const struct gw_config *config);

/* Adds a protocol (stolen: freed with the client) that carries the calls to the services it serves;
 * the protocols added last are asked first, nameko's is the fallback. Call before gw_rpc_start. */
void gw_rpc_add_proto(struct gw_rpc *rpc, struct gw_proto proto);

/* The broker connection the client owns, for the other users of it (the native service and the
 * hub bus), which add themselves before gw_rpc_start. */
struct gw_broker *gw_rpc_broker(struct gw_rpc *rpc);

void gw_rpc_start(struct gw_rpc *rpc);

/* Counts calls, their latency and outcome, and reconnects into metrics (borrowed; NULL = none). */
void gw_rpc_set_metrics(struct gw_rpc *rpc, struct gw_metrics *metrics);

/* true while the broker blocks publishers (connection.blocked): calls get GW_EBLOCKED. */
bool gw_rpc_blocked(const struct gw_rpc *rpc);

/* true while the connection and the reply consumer are up, and the broker takes publishes. */
bool gw_rpc_ready(const struct gw_rpc *rpc);

/* The broker node in use, "host:port" (gw_broker_node). */
bool gw_rpc_node(const struct gw_rpc *rpc, char *buf, size_t len);

/* Publishes a call. Returns GW_OK and (if out is not NULL) a borrowed handle valid until done runs
 * or the call is cancelled; or at once (done is then never called, nothing was sent) GW_EBROKER,
 * GW_EBLOCKED, GW_ESHUTDOWN, or GW_EFRAME (the call does not fit in an AMQP message: a routing key
 * or exchange name over 255 bytes, properties over a frame), with a reason in why. While the first
 * connection attempt is under way the call waits for it, unsent; it ends GW_EBROKER if the attempt
 * fails or its deadline comes first. */
int gw_rpc_call(struct gw_rpc *rpc, const struct gw_rpc_request *request, gw_rpc_done_fn done,
                void *arg, struct gw_rpc_call **out, char *why, size_t whylen);

/* Forgets a call whose caller has gone: done will not be called; a late reply is dropped. */
void gw_rpc_cancel(struct gw_rpc_call *call);

/* Number of calls waiting for their end. */
size_t gw_rpc_pending(const struct gw_rpc *rpc);

/* Fails every pending call with GW_ESHUTDOWN, closes the broker connection and every handle;
 * closed(arg) runs on the loop once all is released, after which gw_rpc_free may be called. */
void gw_rpc_close(struct gw_rpc *rpc, void (*closed)(void *arg), void *arg);
void gw_rpc_free(struct gw_rpc *rpc);

#endif
