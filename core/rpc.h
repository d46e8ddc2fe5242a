/* rpc.h - nameko's RPC client on a libuv loop (nameko-wire.md §1-4, §10).
 *
 * One gw_rpc per loop owns one AMQP connection, one reply queue "rpc.reply-<name>-<uuid>" and the
 * table of pending calls. Connecting (and reconnecting, with backoff) happens in libuv's worker
 * pool so the loop never waits on the network; all other work runs on the loop thread.
 *
 * Every call ends exactly once: by its reply, its deadline, a basic.return (unknown service), a
 * nack or the loss of the broker, unless the caller cancels it first; then done is never called.
 */
#ifndef ENOKI_RPC_H
#define ENOKI_RPC_H

#include "config.h"

#include <jansson.h>
#include <stdbool.h>
#include <uv.h>

struct gw_rpc;
struct gw_rpc_call;

struct gw_rpc_request {
    const char *service;   /* borrowed */
    const char *method;    /* borrowed */
    const json_t *args;    /* borrowed array; NULL = [] */
    const json_t *kwargs;  /* borrowed object; NULL = {} */
    const json_t *context; /* borrowed object of context data; sent as nameko.<key> headers */
    double timeout_s;      /* the deadline, from now; also the message's expiration */
};

/* Called on the loop thread when a call ends. status is GW_OK (result set), GW_EREMOTE (error set:
 * the nameko error object), GW_EUNKNOWN_SERVICE, GW_ETIMEOUT, GW_EBROKER, GW_EBADREPLY or
 * GW_ESHUTDOWN; detail is a human-readable reason (never NULL). result and error are borrowed for
 * the call. */
typedef void (*gw_rpc_done_fn)(void *arg, int status, const json_t *result, const json_t *error,
                               const char *detail);

/* Returns a new client for config (borrowed; must outlive it) on loop; gw_rpc_start connects. */
struct gw_rpc *gw_rpc_new(uv_loop_t *loop, const struct gw_config *config);
void gw_rpc_start(struct gw_rpc *rpc);

/* Counts calls, their latency and outcome, and reconnects into metrics (borrowed; NULL = none). */
struct gw_metrics;
void gw_rpc_set_metrics(struct gw_rpc *rpc, struct gw_metrics *metrics);

/* --- enoki as a nameko service (GATEWAY.name) and the hub's own queue ---------------------------
 */

/* A request to the native service, as received; owned by the rpc until gw_rpc_reply answers it. */
struct gw_rpc_incoming {
    char *method;          /* from the routing key <name>.<method> */
    json_t *args, *kwargs; /* the body's; kwargs is an object, args an array */
    json_t *body;          /* the whole decoded body, for forwarding */
    char *reply_to;
    char *correlation_id; /* NULL when the request had none */
    char *content_type;
    uint64_t delivery_tag;
    uint64_t generation; /* the connection it came on: a reply after a reconnect is not sent */
};

struct gw_rpc_service {
    /* A request to "<name>.<method>"; answer it (now or later) with gw_rpc_reply. */
    void (*request)(void *arg, struct gw_rpc_incoming *in);
    /* A message on the hub queue: from exchange (hub exchange or "<svc>.events") by routing key.
     * forwarded (new, or NULL) is a request another instance passed on ({"method", "args",
     * "kwargs"} in body): answer it with gw_rpc_reply. */
    void (*hub_message)(void *arg, const char *exchange, const char *routing_key,
                        const json_t *body, struct gw_rpc_incoming *forwarded);
    void *arg;
};

/* Makes this client also consume rpc-<name> and a queue of its own bound to "<name>.hub" by
 * "broadcast". Call before gw_rpc_start. service is copied. */
void gw_rpc_serve(struct gw_rpc *rpc, const struct gw_rpc_service *service);

/* Replies as nameko does (§2: to reply_to through the exchange, nameko's properties), then acks the
 * request; frees in. error is a nameko error object or NULL; result NULL means null. */
void gw_rpc_reply(struct gw_rpc *rpc, struct gw_rpc_incoming *in, const json_t *result,
                  const json_t *error);

/* Acknowledges a request someone else answers (another instance it was passed on to), and frees it.
 */
void gw_rpc_ack_only(struct gw_rpc *rpc, struct gw_rpc_incoming *in);

/* Frees a request without answering it. NULL is a no-op. */
void gw_rpc_incoming_free(struct gw_rpc_incoming *in);

/* The name of the hub exchange ("<name>.hub"). */
const char *gw_rpc_hub_exchange(const struct gw_rpc *rpc);

/* Binds this process's hub queue to exchange by key (declaring exchange as a topic one when
 * declare_exchange), reference-counted: the binding is made for the first, dropped with the last
 * gw_rpc_unbind, and made again after a reconnect. done(arg, status) runs once it is in place
 * (GW_OK) or failed (GW_EBROKER); the returned waiter may be cancelled. */
struct gw_rpc_waiter;
typedef void (*gw_rpc_bound_fn)(void *arg, int status);
struct gw_rpc_waiter *gw_rpc_bind(struct gw_rpc *rpc, const char *exchange, const char *key,
                                  bool declare_exchange, gw_rpc_bound_fn done, void *arg);
void gw_rpc_unbind(struct gw_rpc *rpc, const char *exchange, const char *key);
void gw_rpc_waiter_cancel(struct gw_rpc_waiter *waiter);

/* Publishes body (JSON, borrowed) to the hub exchange by routing_key with mandatory set; forwarded,
 * when not NULL, lends its reply_to, correlation_id and content_type so that the receiver can
 * answer the original caller. routed(arg, true) once the broker took it for some queue, (arg,
 * false) when no queue is bound for the key or the broker is gone. */
typedef void (*gw_rpc_routed_fn)(void *arg, bool routed);
void gw_rpc_publish_hub(struct gw_rpc *rpc, const char *routing_key, const json_t *body,
                        const struct gw_rpc_incoming *forwarded, gw_rpc_routed_fn routed,
                        void *arg);

/* true while the connection and the reply consumer are up. */
bool gw_rpc_ready(const struct gw_rpc *rpc);

/* Publishes a call. Returns GW_OK and (if out is not NULL) a borrowed handle valid until done runs
 * or the call is cancelled; or GW_EBROKER / GW_ESHUTDOWN at once (done is then never called). While
 * the first connection attempt is under way the call waits for it, unsent; it ends GW_EBROKER if
 * the attempt fails or its deadline comes first. gw_rpc_bind's waiters wait the same way. */
int gw_rpc_call(struct gw_rpc *rpc, const struct gw_rpc_request *request, gw_rpc_done_fn done,
                void *arg, struct gw_rpc_call **out);

/* Forgets a call whose caller has gone: done will not be called; a late reply is dropped. */
void gw_rpc_cancel(struct gw_rpc_call *call);

/* Number of calls waiting for their end. */
size_t gw_rpc_pending(const struct gw_rpc *rpc);

/* Fails every pending call with GW_ESHUTDOWN, closes the connection and every handle; closed(arg)
 * runs on the loop once all is released, after which gw_rpc_free may be called. */
void gw_rpc_close(struct gw_rpc *rpc, void (*closed)(void *arg), void *arg);
void gw_rpc_free(struct gw_rpc *rpc);

#endif
