/* amqp_conn.h - one AMQP 0-9-1 connection to the broker: the only module that calls rabbitmq-c.
 *
 * gw_amqp_conn_open blocks (TCP connect, login, declarations) and is meant to run off the loop, in
 * a worker thread; everything else is called from the loop thread and does not wait on the network,
 * except a publish into a full socket send buffer.
 *
 * Channel 1 is in publisher-confirm mode and carries the publishes, the declarations of the plan
 * made at connect time and its consumers; channel 2 carries the bindings made while running.
 */
#ifndef ENOKI_AMQP_CONN_H
#define ENOKI_AMQP_CONN_H

#include "amqp_plan.h"
#include "config.h"

#include <amqp.h>
#include <stdbool.h>
#include <stdint.h>

/* The longest exchange, queue or routing key AMQP can carry (a short string). */
#define GW_AMQP_NAME_MAX 255

struct gw_amqp_conn;

struct gw_amqp_setup {
    const struct gw_amqp_uri *uri; /* borrowed; uri->tls: TLS with tls's settings */
    const struct gw_amqp_tls *tls; /* borrowed, AMQP_SSL */
    enum gw_login_method login;    /* PLAIN (the URI's user and password) or EXTERNAL */
    int heartbeat;                 /* seconds, 0 = off */
    const char *product;           /* client property "product" */
    const char *version;           /* client property "version" */
    const char
        *connection_name; /* client property "connection_name" (management UI, rabbitmqctl) */
    /* Borrowed, carried out in order after login; its LOOK steps learn whether their queue was
     * there. Its consumers are those of the connection. */
    struct gw_amqp_plan *plan;
};

struct gw_amqp_delivery {
    size_t consumer; /* its number in the plan (gw_amqp_plan_consume); beyond them: none of ours */
    amqp_bytes_t exchange;
    amqp_bytes_t routing_key;
    uint64_t delivery_tag;
    const amqp_basic_properties_t *props;
    amqp_bytes_t body;
};

/* What a drain found. Properties and bodies are borrowed for the duration of the callback. */
struct gw_amqp_events {
    void (*delivery)(void *arg, const struct gw_amqp_delivery *delivery);
    void (*returned)(void *arg, const amqp_basic_properties_t *props, int reply_code);
    void (*confirmed)(void *arg, uint64_t delivery_tag, bool multiple, bool ack);
    /* The oldest topology operation sent (gw_amqp_conn_bind) succeeded, or failed: then the
     * topology channel was closed by the broker and every operation still pending failed with it;
     * the connection reopens the channel by itself. */
    void (*topology)(void *arg, bool ok, const char *why);
    /* connection.blocked (blocked, with the broker's reason) or connection.unblocked. */
    void (*blocked)(void *arg, bool blocked, const char *reason);
};

/* Connects and carries out setup's plan. Blocks for at most about connect_timeout_s per step.
 * Returns GW_OK and a new connection, or GW_EBROKER with a reason in err. */
int gw_amqp_conn_open(const struct gw_amqp_setup *setup, double connect_timeout_s,
                      struct gw_amqp_conn **out, char *err, size_t errlen);

/* The socket to watch for readability. */
int gw_amqp_conn_fd(const struct gw_amqp_conn *conn);

/* Seconds of the negotiated heartbeat (0 = none). */
int gw_amqp_conn_heartbeat(const struct gw_amqp_conn *conn);

/* Queues a heartbeat frame when nothing was queued for half the negotiated interval; the loop
 * calls it several times per interval. */
void gw_amqp_conn_beat(struct gw_amqp_conn *conn);

/* Processes every frame that can be read without waiting, calling events (a reply it owes the
 * broker, a close-ok say, is queued as publishes are). Returns GW_OK, or GW_EBROKER with a reason
 * in err when the connection or channel is gone (the connection is then dead: free it). */
int gw_amqp_conn_drain(struct gw_amqp_conn *conn, const struct gw_amqp_events *events, void *arg,
                       char *err, size_t errlen);

/* Publishes on the confirm channel; *delivery_tag receives the tag the broker's ack will carry.
 * The frames are only queued: gw_amqp_conn_flush_some sends everything queued in one write (the
 * loop does it once per pass, so the publishes of one pass share a syscall). Returns GW_OK, or
 * GW_EFRAME with the reason in err when the message cannot be framed (nothing is queued). */
int gw_amqp_conn_publish(struct gw_amqp_conn *conn, const char *exchange, const char *routing_key,
                         bool mandatory, const amqp_basic_properties_t *props, const void *body,
                         size_t len, uint64_t *delivery_tag, char *err, size_t errlen);

/* Whether frames (publishes, acks, bindings, heartbeats) wait in the buffer, and how many bytes. */
bool gw_amqp_conn_has_output(const struct gw_amqp_conn *conn);
size_t gw_amqp_conn_output_bytes(const struct gw_amqp_conn *conn);

/* Writes what the socket takes of the queued frames without waiting: GW_OK when all went,
 * GW_AGAIN when the rest waits for the socket to be writable (the loop watches it), GW_EBROKER
 * with a reason in err when the connection is dead. */
int gw_amqp_conn_flush_some(struct gw_amqp_conn *conn, char *err, size_t errlen);

/* Queues the acknowledgement of a delivery of a consumer with acks (channel 1), after what was
 * queued before it. Returns GW_OK or GW_EBROKER. */
int gw_amqp_conn_ack(struct gw_amqp_conn *conn, uint64_t delivery_tag);

/* Queues the declaration of exchange, durable, of declare_type ("topic", "direct", "fanout"; NULL:
 * none) and the binding (or unbinding) of queue to it by key (queue NULL: none), on the topology
 * channel. Each operation is reported once through events->topology, in the order sent: one report
 * for the pair. GW_EINVAL, with nothing sent, for a name over GW_AMQP_NAME_MAX bytes. */
int gw_amqp_conn_bind(struct gw_amqp_conn *conn, const char *queue, const char *exchange,
                      const char *key, const char *declare_type, bool unbind);

/* Closes the connection politely when it is still up (short blocking handshake) and frees it.
 * NULL is a no-op. */
void gw_amqp_conn_free(struct gw_amqp_conn *conn, bool polite);

#endif
