/* refuse.h - answering a request that no library may see, and closing its connection so that the
 * client reads the answer (docs/robustness.md).
 */
#ifndef ENOKI_REFUSE_H
#define ENOKI_REFUSE_H

#include "core/config.h"
#include "gateway/h1_parse.h"
#include "routes/http_mode.h"

#include <stdbool.h>
#include <stddef.h>

/* How long a refused connection is kept open, at most, for the client to read its answer. */
enum { GW_REFUSE_LINGER_MS = 2000 };

/* Answers refusal on the non-blocking socket fd: reads the head_len bytes of its head (peeked so
 * far), writes the JSON answer with "Connection: close", shuts down the writing side and logs it.
 * The caller then lingers: on each readable event, gw_refuse_linger(fd, status) reads and drops
 * what the client still sends, and returns true once fd should be closed (the client is done, or
 * the socket broke), up to GW_REFUSE_LINGER_MS. Closing with unread bytes would reset the
 * connection, and a reset can destroy the answer before the client has read it.
 * With config (borrowed, may be NULL: a websocket's refusal), the answer to a request's head also
 * carries what every answer of config's carries: its CORS headers and enoki's trace span (a browser
 * page must be able to read why its request was refused). */
void gw_refuse(int fd, const struct gw_h1_refusal *refusal, size_t head_len,
               const struct gw_config *config);
bool gw_refuse_linger(int fd, int status);

/* The same for a request whose head was read by a library (its header fields, borrowed): nothing is
 * read from fd first. */
void gw_refuse_request(int fd, const struct gw_h1_refusal *refusal, const struct gw_config *config,
                       const struct gw_header_field *fields, size_t n_fields);

/* SO_RCVLOWAT: the kernel reports fd readable once it holds at least bytes bytes (or has ended).
 * Returns 0, or -1 with errno. */
int gw_set_lowat(int fd, int bytes);

#endif
