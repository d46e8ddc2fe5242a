/* broker.h - the broker connection's life on a libuv loop: connecting in libuv's worker pool (the
 * loop never waits on the network), reconnecting with a jittered backoff, heartbeats, one write per
 * loop pass for everything published during it, and the dispatch of what the broker sends back:
 * deliveries to their consumer's user, publisher confirms and returns to the publish's user,
 * bindings' -ok to the user that asked.
 *
 * The broker knows no protocol. Its users do: the call table (core/rpc, through an RPC protocol,
 * core/proto.h), the native service (core/service) and the hub bus (core/hub_bus). Each adds its
 * declarations to the plan made after every connect, and is told when the connection comes and
 * goes. Everything runs on the loop thread.
 */
#ifndef ENOKI_BROKER_H
#define ENOKI_BROKER_H

#include "amqp_conn.h"
#include "amqp_plan.h"
#include "config.h"

#include <amqp.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct gw_broker;
struct gw_metrics;

/* Publishes are matched to their confirm and return by a key: a uuid, the message's
 * correlation_id or message_id (see gw_broker_publish). */
#define GW_BROKER_KEY_MAX 64

/* What a user of the broker is told; every member but arg may be NULL. */
struct gw_broker_user {
    /* Adds this user's declarations to plan; called before every connect, users in the order they
     * were added. Deliveries to the consumers it adds come to delivery. */
    void (*declare)(void *arg, struct gw_amqp_plan *plan);
    void (*delivery)(void *arg, const struct gw_amqp_delivery *delivery);
    /* The connection is up and the plan carried out (gw_broker_ready is true). */
    void (*up)(void *arg);
    /* The connection is gone (status GW_EBROKER; a reconnect is scheduled), the first attempt
     * failed (GW_EBROKER), or the broker is closing (GW_ESHUTDOWN, called before it is): what
     * waited on it ends now. detail says why, for callers. */
    void (*down)(void *arg, int status, const char *detail);
    /* A publish of this user with a key came back unrouted (mandatory, no queue bound): its
     * confirm follows and is not reported. */
    void (*returned)(void *arg, const char *key, int reply_code);
    /* A publish of this user with a key was confirmed (ack) or refused (nack). */
    void (*confirmed)(void *arg, const char *key, bool ack);
    /* A binding asked for with gw_broker_bind is in place (ok) or failed (why); tag is the one
     * given with it. */
    void (*bound)(void *arg, const char *exchange, const char *key, uint64_t tag, bool ok,
                  const char *why);
    void *arg;
};

/* A message to publish; every member is borrowed for the call. */
struct gw_broker_message {
    const char *exchange;
    const char *routing_key;
    bool mandatory;
    const amqp_basic_properties_t *props;
    const void *body;
    size_t len;
};

/* Returns a new broker for config (borrowed; must outlive it) on loop; nothing happens until
 * gw_broker_start. */
struct gw_broker *gw_broker_new(uv_loop_t *loop, const struct gw_config *config);

/* Adds a user (copied), which stays until the broker is freed. Returns its number, for
 * gw_broker_publish and gw_broker_bind. Users added after gw_broker_start take part from the next
 * connect on. */
int gw_broker_add_user(struct gw_broker *broker, const struct gw_broker_user *user);

/* Counts reconnects into metrics (borrowed; NULL = none). */
void gw_broker_set_metrics(struct gw_broker *broker, struct gw_metrics *metrics);

/* Starts the first connection attempt. */
void gw_broker_start(struct gw_broker *broker);

/* true while the connection is up. */
bool gw_broker_ready(const struct gw_broker *broker);

/* The node in use as "host:port" into buf (len bytes); false (buf empty) while not connected. */
bool gw_broker_node(const struct gw_broker *broker, char *buf, size_t len);

/* The most bytes of publishes waiting for the broker's socket: beyond, new calls are refused
 * (gw_broker_blocked) rather than queued without bound. */
#define GW_BROKER_MAX_BACKLOG (4u << 20)

/* true while the broker blocks publishers (connection.blocked: a memory or disk alarm), or while
 * more than GW_BROKER_MAX_BACKLOG bytes wait for its socket. */
bool gw_broker_blocked(const struct gw_broker *broker);

/* true while the first connection attempt is under way. enoki listens before it has reached the
 * broker, and a client that connects in those few milliseconds (a browser reconnecting after a
 * restart) should not see BrokerUnavailable: users let what is asked of them meanwhile wait for
 * up (or down) instead of failing it at once. */
bool gw_broker_starting(const struct gw_broker *broker);

/* true once gw_broker_close was called. */
bool gw_broker_closing(const struct gw_broker *broker);

/* Counts connections: 1 for the first. A delivery that needs an answer remembers it, since an
 * answer (an ack) for an older connection must not be sent on a newer one. */
uint64_t gw_broker_generation(const struct gw_broker *broker);

/* Publishes on the confirm channel (sent at the end of the loop pass). With key (not NULL, at most
 * GW_BROKER_KEY_MAX - 1 bytes: the message's message_id when it has one, else its correlation_id)
 * user (gw_broker_add_user's number) is told of its return and confirm. Returns GW_OK, GW_EBROKER
 * when not connected, or GW_EFRAME when the message cannot be framed (a name over 255 bytes,
 * properties over a frame): nothing is sent then, and the connection carries on. */
int gw_broker_publish(struct gw_broker *broker, const struct gw_broker_message *message, int user,
                      const char *key);

/* Acknowledges a delivery of a consumer with acks, after what was published before it. Nothing is
 * sent when the connection is no longer the one of generation. Returns GW_OK or GW_EBROKER (the
 * connection is then let go). */
int gw_broker_ack(struct gw_broker *broker, uint64_t generation, uint64_t delivery_tag);

/* Binds (or unbinds) queue to exchange by key on the topology channel without waiting, declaring
 * exchange (durable, of declare_type: "topic", "direct", "fanout") first unless declare_type is
 * NULL; queue NULL only declares. user is told by bound, once, with tag: the names alone cannot say
 * which of several operations on the same binding a report answers (a bind, its unbind, a bind
 * again). Returns GW_OK once sent; GW_EINVAL for a name AMQP cannot carry (nothing sent); or
 * GW_EBROKER (not connected, or the connection broke: it is being let go). user is never told
 * then. */
int gw_broker_bind(struct gw_broker *broker, int user, const char *queue, const char *exchange,
                   const char *key, const char *declare_type, bool unbind, uint64_t tag);

/* Tells every user down (GW_ESHUTDOWN), closes the connection and every handle; closed(arg) runs
 * on the loop once all is released, after which gw_broker_free may be called. */
void gw_broker_close(struct gw_broker *broker, void (*closed)(void *arg), void *arg);
void gw_broker_free(struct gw_broker *broker);

#endif
