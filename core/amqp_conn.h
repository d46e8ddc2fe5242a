/* amqp_conn.h - one AMQP 0-9-1 connection to the broker: the only module that calls rabbitmq-c.
 *
 * gw_amqp_conn_open blocks (TCP connect, login, declarations) and is meant to run off the loop, in a
 * worker thread; everything else is called from the loop thread and does not wait on the network,
 * except a publish into a full socket send buffer.
 *
 * Channel 1 is in publisher-confirm mode and carries both the publishes and the reply consumer.
 */
#ifndef ENOKI_AMQP_CONN_H
#define ENOKI_AMQP_CONN_H

#include "config.h"

#include <amqp.h>
#include <stdbool.h>
#include <stdint.h>

struct gw_amqp_conn;

struct gw_amqp_setup {
    const struct gw_amqp_uri *uri; /* borrowed */
    int heartbeat;                 /* seconds, 0 = off */
    const char *exchange;          /* declared topic, durable */
    const char *reply_queue;       /* declared durable with x-expires, bound by reply_key, consumed */
    const char *reply_key;
    int reply_queue_expires_ms;
    const char *product;           /* client property "product" */
};

/* What a drain found. Properties and bodies are borrowed for the duration of the callback. */
struct gw_amqp_events {
    void (*delivery)(void *arg, const amqp_basic_properties_t *props, amqp_bytes_t body);
    void (*returned)(void *arg, const amqp_basic_properties_t *props, int reply_code);
    void (*confirmed)(void *arg, uint64_t delivery_tag, bool multiple, bool ack);
};

/* Connects and declares everything in setup. Blocks for at most about connect_timeout_s per step.
 * Returns GW_OK and a new connection, or GW_EBROKER with a reason in err. */
int gw_amqp_conn_open(const struct gw_amqp_setup *setup, double connect_timeout_s,
                      struct gw_amqp_conn **out, char *err, size_t errlen);

/* The socket to watch for readability. */
int gw_amqp_conn_fd(const struct gw_amqp_conn *conn);

/* Seconds of the negotiated heartbeat (0 = none). */
int gw_amqp_conn_heartbeat(const struct gw_amqp_conn *conn);

/* Processes every frame that can be read without waiting, calling events; also sends heartbeats when
 * due. Returns GW_OK, or GW_EBROKER with a reason in err when the connection or channel is gone (the
 * connection is then dead: free it). */
int gw_amqp_conn_drain(struct gw_amqp_conn *conn, const struct gw_amqp_events *events, void *arg,
                       char *err, size_t errlen);

/* Publishes on the confirm channel; *delivery_tag receives the tag the broker's ack will carry.
 * Returns GW_OK or GW_EBROKER. */
int gw_amqp_conn_publish(struct gw_amqp_conn *conn, const char *exchange, const char *routing_key,
                         bool mandatory, const amqp_basic_properties_t *props, const void *body,
                         size_t len, uint64_t *delivery_tag, char *err, size_t errlen);

/* Closes the connection politely when it is still up (short blocking handshake) and frees it.
 * NULL is a no-op. */
void gw_amqp_conn_free(struct gw_amqp_conn *conn, bool polite);

#endif
