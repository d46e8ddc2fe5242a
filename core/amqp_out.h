/* amqp_out.h - the frames enoki writes to the broker once a connection is open: publishes, acks,
 * bindings, close-oks and heartbeats, encoded into one buffer and written as the socket takes them.
 * rabbitmq-c would make one blocking send per frame; here nothing else writes to the socket, so a
 * frame the socket took only in part is never cut by another, and the loop never waits on it. */
#ifndef ENOKI_AMQP_OUT_H
#define ENOKI_AMQP_OUT_H

#include <amqp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gw_amqp_out;
struct ssl_st;

/* An empty buffer writing to fd, or through ssl when not NULL (a TLS session on fd, borrowed: it
 * must outlive the buffer). Never NULL. */
struct gw_amqp_out *gw_amqp_out_new(int fd, struct ssl_st *ssl);

/* Queues a method frame on channel. GW_OK, or GW_EBROKER when it does not encode. */
int gw_amqp_out_method(struct gw_amqp_out *out, amqp_channel_t channel, amqp_method_number_t id,
                       void *decoded);

/* Queues basic.publish with its content header and body frames of at most frame_max bytes.
 * GW_OK, or GW_EFRAME with the reason in err when it cannot be framed (a name over 255 bytes,
 * properties over a frame): nothing is queued then, and the connection is unharmed. */
int gw_amqp_out_publish(struct gw_amqp_out *out, amqp_channel_t channel, size_t frame_max,
                        const amqp_basic_publish_t *method, const amqp_basic_properties_t *props,
                        const void *body, size_t len, char *err, size_t errlen);

/* Queues a heartbeat frame when nothing was queued for the last interval_ms. */
void gw_amqp_out_beat(struct gw_amqp_out *out, uint64_t interval_ms);

/* Bytes waiting to be written. */
size_t gw_amqp_out_bytes(const struct gw_amqp_out *out);

/* Writes what the socket takes without waiting: GW_OK when all went, GW_AGAIN when the rest waits
 * for the socket to be writable, GW_EBROKER with the reason in err (the rest is dropped). */
int gw_amqp_out_flush_some(struct gw_amqp_out *out, char *err, size_t errlen);

/* Writes it all, waiting while the socket is full, but never more than stall_ms for any progress.
 * GW_OK or GW_EBROKER with the reason in err. */
int gw_amqp_out_flush(struct gw_amqp_out *out, int stall_ms, char *err, size_t errlen);

/* NULL is a no-op. */
void gw_amqp_out_free(struct gw_amqp_out *out);

#endif
