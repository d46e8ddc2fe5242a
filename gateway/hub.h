/* hub.h - the websocket hub: nameko's frame protocol (docs/nameko-wire.md §7) on libwebsockets, run
 * on the libuv loop (docs/architecture.md, "The hub on libwebsockets": Debian's lws has no external
 * poll, but takes a foreign libuv loop).
 *
 * The listener hands upgrade requests over with gw_hub_adopt. Sockets call the hub's own methods
 * (subscribe, unsubscribe, get_subscriptions) and exposed service methods over RPC; the hub pushes
 * events to them. This is the libwebsockets adapter (here and gateway/hub_frames.c, sharing
 * gateway/hub_int.h): the sockets, their frames and keepalive. Subscriptions, the bindings behind
 * them and the hub as a nameko service are gateway/hub_service's; the frames and argument checks
 * routes/ws's and routes/hub_args's. A socket's identity (its bearer token checked at the upgrade,
 * its claims, expiry and refresh) is gateway/hub_auth.c's. Only these gateway files include
 * libwebsockets.h.
 */
#ifndef ENOKI_HUB_H
#define ENOKI_HUB_H

#include "core/config.h"
#include "core/rpc.h"
#include "gateway/authn.h"
#include "gateway/h1_parse.h"
#include "routes/auth.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

struct gw_hub;

/* config and rpc are borrowed; the hub's broker side joins rpc's broker, so call before
 * gw_rpc_start. Returns NULL with err set when lws cannot start. */
struct gw_hub *gw_hub_new(uv_loop_t *loop, const struct gw_config *config, struct gw_rpc *rpc,
                          char *err, size_t errlen);

/* The longest upgrade head the hub's libwebsockets holds: GATEWAY.max_header at start, at most
 * 32767 (lws's buffer, at most 65535, is twice it). The sniffer refuses a longer one
 * (gw_h1_limits.websocket_head_max). */
size_t gw_hub_head_max(const struct gw_hub *hub);

/* Whether an upgrade may go on: 0, or the HTTP status to refuse it with (403 for an Origin that is
 * not allowed, 503 when websocket_max_sockets are open). origin and host may be NULL. */
int gw_hub_admit(const struct gw_hub *hub, const char *origin, const char *host);

/* Whether the upgrade's bearer token lets it open a socket, under GATEWAY.auth.websocket (none:
 * always; optional: no token, or a valid one; required: a valid one). The token is the first found
 * of head's Authorization (Bearer), its target's access_token and its cookie GATEWAY.auth.cookie
 * (routes/ws_token), verified by the hub's authn. Returns true, or false with the 401 to answer in
 * *out (routes/auth's gw_auth_decide: code, message, WWW-Authenticate challenge). head is the
 * sniffer's scan (kind GW_H1_WEBSOCKET), borrowed. Call after gw_hub_admit, before gw_hub_adopt. */
bool gw_hub_authenticate(struct gw_hub *hub, const struct gw_h1_head *head,
                         struct gw_auth_decision *out);

/* Takes an accepted socket whose request is a websocket upgrade (stolen); its first head_len bytes
 * are the request head, still unread. */
void gw_hub_adopt(struct gw_hub *hub, int fd, size_t head_len);

/* The settings SIGHUP changes (a reference to gen is kept): expose, channels, auth,
 * context_headers, services, rpc_timeout and trace_context apply to the calls, subscriptions and
 * upgrades that start after it, on every socket, as they do to requests; the websocket settings
 * stay as at start. */
struct gw_generation;
void gw_hub_reload(struct gw_hub *hub, struct gw_generation *gen);

/* Verifies sockets' tokens with authn (borrowed; gateway/authn, the process's one). Without one,
 * every token is refused. */
void gw_hub_set_authn(struct gw_hub *hub, struct gw_authn *authn);

/* Counts open sockets into metrics (borrowed). */
struct gw_http_metrics;
void gw_hub_set_metrics(struct gw_hub *hub, struct gw_http_metrics *metrics);

/* Counts answered frames and channels into status (borrowed; gateway/status_page.h). */
struct gw_status_page;
void gw_hub_set_status_page(struct gw_hub *hub, struct gw_status_page *status);

/* Calls to the cluster are rate limited by limiter (borrowed; gateway/limiter), under its current
 * generation's GATEWAY.rate_limits. */
struct gw_limiter;
void gw_hub_set_limiter(struct gw_hub *hub, struct gw_limiter *limiter);

/* Open sockets. */
size_t gw_hub_sockets(const struct gw_hub *hub);

/* Starts closing every socket with 1001 (going away); new upgrades are refused from now on. */
void gw_hub_close_sockets(struct gw_hub *hub);

/* Stops lws (sockets still open are dropped); the loop ends once lws has released its handles. */
void gw_hub_close(struct gw_hub *hub);
void gw_hub_free(struct gw_hub *hub);

#endif
