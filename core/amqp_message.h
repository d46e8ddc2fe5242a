/* amqp_message.h - one incoming message (a basic.deliver or a basic.return: its method frame, its
 * content header, its body frames) put together from its frames as they arrive, so that the loop
 * never waits for the rest of a message it has begun: a drain that finds only part of one returns,
 * and the next drain goes on from there (docs/architecture.md, "Reading the broker").
 *
 * The frames are rabbitmq-c's: their memory is the connection's channel pool, valid until
 * amqp_maybe_release_buffers(), which must not be called while a message is pending. A body that
 * comes in one frame (any reply under frame_max) is used where it lies; one of several frames is
 * joined in a buffer that grows as its frames come (never to more than arrived), freed at the
 * message's end. Not thread-safe. */
#ifndef ENOKI_AMQP_MESSAGE_H
#define ENOKI_AMQP_MESSAGE_H

#include <amqp.h>
#include <stdbool.h>
#include <stddef.h>

struct gw_amqp_message;

/* Ownership: the caller owns the reader; a complete message's parts are borrowed until
 * gw_amqp_message_end. */
struct gw_amqp_message *gw_amqp_message_new(void);
void gw_amqp_message_free(struct gw_amqp_message *m); /* NULL is a no-op */

/* Whether a message has begun and is not ended: its frames' memory must be kept. */
bool gw_amqp_message_pending(const struct gw_amqp_message *m);

/* Begins a message at its method frame (basic.deliver or basic.return), on the frame's channel.
 * A message still pending is dropped. */
void gw_amqp_message_begin(struct gw_amqp_message *m, const amqp_frame_t *method);

/* Takes the next frame of the message's channel: its content header, then its body frames.
 * Returns GW_OK once the message is complete, GW_AGAIN while more of its body is due, and
 * GW_EBROKER (the reason in err) for a frame that has no place there (a method frame, a body
 * before the header, more body than the header said) or a body that cannot be held. */
int gw_amqp_message_add(struct gw_amqp_message *m, const amqp_frame_t *frame, char *err,
                        size_t errlen);

/* The complete message's method (its id and decoded arguments), properties and body. */
const amqp_method_t *gw_amqp_message_method(const struct gw_amqp_message *m);
const amqp_basic_properties_t *gw_amqp_message_props(const struct gw_amqp_message *m);
amqp_bytes_t gw_amqp_message_body(const struct gw_amqp_message *m);

/* Ends the message (complete or not): frees a joined body; nothing is pending after. */
void gw_amqp_message_end(struct gw_amqp_message *m);

#endif
