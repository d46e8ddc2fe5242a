/* hub_frame.h - the hub's outgoing frames, shared: a frame is encoded once, whatever the number of
 * sockets it goes to (a broadcast, a nameko event), and each socket's send queue holds a reference
 * to it (docs/architecture.md, "The hub on libwebsockets"). A frame lives until the last socket has
 * written it or dropped it. Not thread-safe: a frame belongs to one process's loop.
 *
 * A frame's payload is preceded by LWS_PRE bytes of headroom, which end with the frame's header
 * (a server's text frame of that length, unmasked): the same for every socket, so the hub sends
 * header and payload from the one buffer (gw_hub_frame_wire), and libwebsockets, where it writes a
 * frame itself, writes the same header bytes there. The payload is never written.
 */
#ifndef ENOKI_HUB_FRAME_H
#define ENOKI_HUB_FRAME_H

#include <stddef.h>
#include <stdint.h>

struct gw_hub_frame;

/* A frame holding a copy of len bytes of text (new: one reference, the caller's). */
struct gw_hub_frame *gw_hub_frame_new(const char *text, size_t len);

/* Takes one more reference to f (returned). */
struct gw_hub_frame *gw_hub_frame_ref(struct gw_hub_frame *f);

/* Gives one reference back; the last one frees the frame. NULL is a no-op. */
void gw_hub_frame_unref(struct gw_hub_frame *f);

/* The payload (borrowed; the LWS_PRE bytes before it are libwebsockets' to write), its length,
 * and the references held. */
unsigned char *gw_hub_frame_payload(struct gw_hub_frame *f);
size_t gw_hub_frame_len(const struct gw_hub_frame *f);
size_t gw_hub_frame_refs(const struct gw_hub_frame *f);

/* The frame as it goes on the wire: header and payload, *len bytes (borrowed). */
const unsigned char *gw_hub_frame_wire(const struct gw_hub_frame *f, size_t *len);

/* Frames alive in the process (for the tests: a frame outlives no reference and no reference its
 * frame). */
size_t gw_hub_frames_live(void);

/* A socket's queue of frames to send, oldest first: each entry holds a reference. Zero-initialise
 * ({0}) to start empty; an empty queue holds no memory until its first frame. */
struct gw_hub_sendq {
    struct gw_hub_frame **ring;
    uint32_t head, count, cap;
    size_t bytes; /* the payload bytes queued (each frame counted once per queue holding it) */
};

/* Queues f at the end, taking a reference of its own. */
void gw_hub_sendq_push(struct gw_hub_sendq *q, struct gw_hub_frame *f);

/* The oldest frame, taken off the queue with its reference (stolen by the caller: unref it), or
 * NULL when the queue is empty. */
struct gw_hub_frame *gw_hub_sendq_pop(struct gw_hub_sendq *q);

/* Up to max of the oldest frames, oldest first, into frames (borrowed: still queued); their
 * number. */
uint32_t gw_hub_sendq_peek(const struct gw_hub_sendq *q, struct gw_hub_frame **frames,
                           uint32_t max);

/* Drops every frame queued (their references given back) and the queue's memory. */
void gw_hub_sendq_clear(struct gw_hub_sendq *q);

#endif
