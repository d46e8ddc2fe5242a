/* ws_admit.h - whether a websocket upgrade may open a socket, pure: the hub's limits and the
 * Origin check browsers rely on (a page of another site must not reach the hub with the user's
 * cookies). */
#ifndef ENOKI_WS_ADMIT_H
#define ENOKI_WS_ADMIT_H

#include "core/config.h"

#include <stdbool.h>
#include <stddef.h>

/* Whether an upgrade may go on: 0, or the HTTP status to refuse it with: 503 while the hub is
 * stopping or websocket_max_sockets are open_sockets, 403 for an Origin that is not allowed. A
 * request without Origin is not from a browser and is allowed. With websocket_origins, Origin must
 * be one of them (compared without regard to case) or one of them is "*"; without, Origin must name
 * the host the request was sent to (its Host: same host and port, default ports 80 and 443 left
 * out, case ignored). config is borrowed; origin and host may be NULL. */
int gw_ws_admit(const struct gw_config *config, bool stopping, size_t open_sockets,
                const char *origin, const char *host);

/* "scheme://host[:port][/]" (or a bare "host[:port]") -> "host[:port]", without a trailing '/'
 * and without the default ports :80 and :443; written to out, truncated to len. */
void gw_ws_origin_host(const char *origin, char *out, size_t len);

/* nameko's hub ignores Sec-WebSocket-Protocol, where libwebsockets refuses an offer it cannot
 * match: removes every such header line (any case) from the len bytes of an upgrade request's head,
 * in place. Returns the new length. */
size_t gw_ws_drop_subprotocols(char *head, size_t len);

/* RFC 7692's choice among a client's permessage-deflate offers, made before libwebsockets 4.1.6
 * sees them (it takes any offer, and answers some parameters it does not name): every
 * Sec-WebSocket-Extensions line leaves the head (len bytes, in place; cap bytes of room), and the
 * first offer a server may take and lws can answer goes back alone, written as lws reads it; none
 * when no offer is such. Returns the new length. cap must leave room for a line of the longest
 * offer written again: len + GW_WS_SETTLE_SLACK. */
enum { GW_WS_SETTLE_SLACK = 160 };
size_t gw_ws_settle_extensions(char *head, size_t len, size_t cap);

/* How enoki may deflate its messages on a permessage-deflate socket (RFC 7692 §7.1), from the
 * client's Sec-WebSocket-Extensions value (NULL: none). */
struct gw_ws_deflate_terms {
    /* The window in bits (9-15): cap, lowered to the smallest server_max_window_bits any
     * permessage-deflate offer asks for (a client may offer several; the smallest is safe for
     * whichever was taken); 8 is read as 9, which zlib's raw deflate needs; a malformed value is
     * ignored (the handshake has already accepted or refused the offer). After
     * gw_ws_settle_extensions no offer lws sees has one: this is cap. */
    int window_bits;
    /* The first permessage-deflate offer (the one libwebsockets takes) asks for
     * server_no_context_takeover: each message from a fresh window. */
    bool fresh_window;
};
void gw_ws_deflate_terms(const char *offer, int cap, struct gw_ws_deflate_terms *terms);

#endif
