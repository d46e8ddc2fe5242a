/* hub.h - the websocket hub: nameko's frame protocol (docs/nameko-wire.md §7) on libwebsockets, run
 * on the libuv loop (docs/architecture.md, "The hub on libwebsockets": Debian's lws has no external
 * poll, but takes a foreign libuv loop).
 *
 * The listener hands upgrade requests over with gw_hub_adopt. Sockets call the hub's own methods
 * (subscribe, unsubscribe, get_subscriptions) and exposed service methods over RPC; the hub pushes
 * events to them. This is the libwebsockets adapter (here and gateway/hub_frames.c, sharing
 * gateway/hub_int.h): the sockets, their frames and keepalive. Subscriptions, the bindings behind
 * them and the hub as a nameko service are gateway/hub_service's; the frames and argument checks
 * routes/ws's and routes/hub_args's. Only these gateway files include libwebsockets.h.
 */
#ifndef ENOKI_HUB_H
#define ENOKI_HUB_H

#include "core/config.h"
#include "core/rpc.h"

#include <jansson.h>
#include <stddef.h>
#include <uv.h>

struct gw_hub;

/* config and rpc are borrowed; the hub's broker side joins rpc's broker, so call before
 * gw_rpc_start. Returns NULL with err set when lws cannot start. */
struct gw_hub *gw_hub_new(uv_loop_t *loop, const struct gw_config *config, struct gw_rpc *rpc,
                          char *err, size_t errlen);

/* Whether an upgrade may go on: 0, or the HTTP status to refuse it with (403 for an Origin that is
 * not allowed, 503 when websocket_max_sockets are open). origin and host may be NULL. */
int gw_hub_admit(const struct gw_hub *hub, const char *origin, const char *host);

/* Takes an accepted socket whose request is a websocket upgrade (stolen); its first head_len bytes
 * are the request head, still unread. */
void gw_hub_adopt(struct gw_hub *hub, int fd, size_t head_len);

/* Counts open sockets into metrics (borrowed). */
struct gw_http_metrics;
void gw_hub_set_metrics(struct gw_hub *hub, struct gw_http_metrics *metrics);

/* Open sockets. */
size_t gw_hub_sockets(const struct gw_hub *hub);

/* Starts closing every socket with 1001 (going away); new upgrades are refused from now on. */
void gw_hub_close_sockets(struct gw_hub *hub);

/* Stops lws (sockets still open are dropped); the loop ends once lws has released its handles. */
void gw_hub_close(struct gw_hub *hub);
void gw_hub_free(struct gw_hub *hub);

#endif
