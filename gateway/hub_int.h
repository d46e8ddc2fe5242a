/* hub_int.h - what gateway/hub.c (the libwebsockets adapter: context, handshake, keepalive) and
 * gateway/hub_frames.c (a socket's frames: received, answered one at a time, sent) share. Internal
 * to the hub: nothing else includes it. */
#ifndef ENOKI_HUB_INT_H
#define ENOKI_HUB_INT_H

#include "hub.h"

#include "core/pool.h"
#include "core/rpc.h"
#include "core/strbuf.h"
#include "core/wire.h"
#include "gateway/generation.h"
#include "gateway/hub_frame.h"
#include "gateway/hub_service.h"

#include <jansson.h>
#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* A ping carries a payload: lws reports the pong of an empty ping to nobody. */
#define GW_HUB_PING_PAYLOAD "enoki"

struct in_msg {
    struct in_msg *next;
    size_t len;
    bool binary; /* a binary message, else text */
    char text[];
};

/* One socket; a record of the hub's client_pool from ESTABLISHED to CLOSED, which lws's
 * per-session memory points to meanwhile (gw_hub_client_of). */
struct client {
    /* What a broadcast reads of every socket (gw_hub_deliver, the send pass) comes first, up to
     * `closing`, in as few cache lines as can hold it (two: hub_frames.c's prefetch_hot fetches
     * them): with 10,000 sockets a line more is 10,000 misses. */
    struct gw_hub *hub;
    struct lws *wsi;
    int fd;                  /* the connection's, from lws at ESTABLISHED: frames go out on it */
    int close_code;          /* set: close with it (gw_hub_close_with) */
    struct gw_hub_sendq out; /* frames to send, shared with the other sockets they go to */
    /* Its place on the hub's list of sockets whose queue is sent at the end of the loop's pass. */
    uint32_t send_slot;
    uint32_t sent_pass; /* the hub's send_passes when a frame was last sent at once */
    bool send_listed;
    bool deflate; /* permessage-deflate was agreed on (gateway/hub_deflate.c) */
    /* libwebsockets is closing it (a protocol error, or the peer's close): nothing more may be
     * written, or a data frame would follow the close frame (RFC 6455 5.5.1). */
    bool closing;
    struct client *prev, *next;
    char socket_id[GW_UUID_LEN + 1];
    json_t *context;        /* handshake context data, with the claims' keys (gateway/hub_auth.c) */
    json_t *claims;         /* the verified token's claims; NULL for an anonymous socket */
    char *token;            /* that token (new), decided on again at a reload; NULL: anonymous */
    uint32_t checked_round; /* the hub's recheck_round it was last decided in */
    double expires_at;      /* Unix time at which the token closes the socket; 0: never */
    struct gw_strbuf rx;    /* the message being received */
    /* permessage-deflate (gateway/hub_deflate.c): the compressed bytes being inflated, and the
     * message being deflated, kept until libwebsockets has read them all. */
    struct gw_strbuf inflating;
    struct gw_hub_frame *deflating;
    struct in_msg *in_head, *in_tail;
    size_t in_count;
    struct gw_rpc_call *call; /* the call in flight, one at a time */
    json_t *call_correlation_id;
    char *call_target;          /* "service.method" of the last call (new), kept for its answer */
    struct gw_hub_socket *sock; /* the hub service's record of it: subscriptions, bindings */
    json_t *subscribe_correlation_id; /* of the subscribe waiting for its channel's binding */
    const char *close_reason;         /* static; NULL: the close frame carries none */
    bool processing; /* gw_hub_process is on the stack: a nested call leaves the work to it */
    bool rx_paused;  /* lws reads nothing more of it until its waiting frames are fewer */
    uint64_t frame_start_ns; /* when the frame being answered was taken up (the status page) */
    bool frame_failed;       /* its call could not even be published */
    bool frame_counted;      /* it has been counted */
    uint64_t last_seen;      /* loop time of the last frame or pong from the client */
    uint64_t ping_sent;      /* loop time of an unanswered ping, 0 when none */
    bool ping_due;           /* send a ping at the next writeable */
    /* Its rate-limit keys, from the handshake (gateway/hub.c): the client's address (trusted
     * proxies' X-Forwarded-For believed) and the headers the limits name, lower-case name ->
     * value (NULL when none). */
    uint8_t limit_ip[16];
    json_t *limit_headers;
};

struct gw_hub {
    uv_loop_t *loop;
    /* The start-up config: the websocket settings (websocket_*, the path, the name), which change
     * at restart. What SIGHUP changes (expose, channels, auth, context_headers, services,
     * rpc_timeout, trace_context) is read from current's, through gw_hub_policy. */
    const struct gw_config *config;
    size_t head_max; /* the longest upgrade head libwebsockets holds (gw_hub_head_max) */
    struct gw_generation *current; /* a reference; NULL until gw_hub_reload */
    struct gw_rpc *rpc;
    struct gw_hub_service *service; /* the broker side: subscriptions, the hub's methods */
    struct lws_context *context;
    struct lws_vhost *vhost;
    struct lws_protocols protocols[2];
    /* The sockets' records (lws's per-session data holds a pointer to one: gw_hub_client_of),
     * packed so that a broadcast's walk over them costs no page walk per socket. */
    struct gw_pool *client_pool;
    struct client *clients;
    size_t n_clients;
    bool stopping;
    struct lws_context *destroying;
    struct gw_http_metrics *metrics; /* destroyed once more after the loop ends (foreign loop) */
    struct gw_authn *authn;          /* verifies sockets' tokens (borrowed); NULL: none can */
    struct gw_status_page *status;   /* counts answered frames (borrowed); NULL: not counted */
    struct gw_limiter *limiter;      /* rate limits calls (borrowed); NULL: none */
    uv_timer_t keepalive; /* pings idle sockets, hangs up on those that stopped answering */
    bool handles_open;
    /* Sockets with frames queued to send (gateway/hub_frames.c; one dropped meanwhile leaves NULL
     * in its place), and the handles that send them: both started only while any socket is
     * listed, the check handle also after a frame sent at once (it ends the pass). */
    struct client **to_send;
    uint32_t n_to_send, to_send_cap;
    uint32_t send_passes; /* counts the passes (gateway/hub_frames.c, send_frame) */
    uv_check_t send_check;
    uv_idle_t send_idle;
    /* After a reload the open sockets are decided on again, a slice of the loop's time per pass
     * (gateway/hub.c, on_recheck); one last decided in another round is due. */
    uv_idle_t recheck;
    uint32_t recheck_round;
};

/* --- gateway/hub.c -------------------------------------------------------------------------------
 */

/* The socket's record from lws's per-session data (user): NULL before ESTABLISHED, after CLOSED,
 * and for a socket refused at ESTABLISHED: a record a callback gets is an open socket's. */
static inline struct client *gw_hub_client_of(void *user)
{
    return user ? *(struct client **)user : NULL;
}

/* Has lws look at its timers soon. lws (4.1.6, libuv) re-arms the loop timer behind its own timers
 * only after it has served a socket: a timer or timeout set from outside its callbacks (a broker
 * message, enoki's keepalive or signals) would wait for the next socket event. */
void gw_hub_wake(struct gw_hub *hub);

/* --- gateway/hub_deflate.c ----------------------------------------------------------------------
 */

/* The extensions the hub offers: permessage-deflate (RFC 7692), through libwebsockets' own with
 * the buffers it reads kept alive (docs/decisions.md, "Compression is bounded"). */
extern const struct lws_extension gw_hub_extensions[];

/* At ESTABLISHED: bounds the socket's zlib state and keeps to the terms its client asked for. */
void gw_hub_deflate_bound(struct client *c);

/* The frame just given to lws_write, with its reference (stolen): on a socket that deflates, kept
 * until the next writeable (lws may still be deflating it), else given back at once; NULL gives
 * back the one kept. */
void gw_hub_deflate_hold(struct client *c, struct gw_hub_frame *f);

/* --- gateway/hub_frames.c -----------------------------------------------------------------------
 */

/* A piece of a message from the client (lws's RECEIVE): queued once whole, then answered in
 * order. A message over websocket_max_frame (1009) or too many unanswered (1008) close the socket
 * through gw_hub_close_with; a socket being closed takes no more. */
void gw_hub_receive(struct client *c, const void *in, size_t len);

/* Answers the queued frames in order, one at a time: a call in flight, or a binding the socket
 * waits for, holds back the ones after it. */
void gw_hub_process(struct client *c);

/* lws's SERVER_WRITEABLE: the close, a ping or the next queued frame(s). Returns -1 to close. */
int gw_hub_writeable(struct client *c);

/* Closes the socket with code (the first code asked for wins), its close frame carrying reason
 * (static, at most 123 bytes; NULL for none), from lws's timer callback at once; frames still
 * queued are dropped. */
void gw_hub_close_with(struct client *c, int code, const char *reason);

/* lws's TIMER: a close asked for (gw_hub_close_with), or the token's expiry. Returns -1 when the
 * socket closes now (lws sends the close frame). */
int gw_hub_on_timer(struct client *c);

/* Frees the frames still queued either way. */
void gw_hub_drop_frames(struct client *c);

/* What the hub service asks of the sockets (struct gw_hub_socket_ops). */
void gw_hub_deliver(void *arg, void *const *sockets, size_t n, const json_t *event,
                    const json_t *data, const char *channel);
void gw_hub_on_ready(void *socket);
void gw_hub_on_subscribed(void *socket, const json_t *subscriptions, json_t *error);

/* --- gateway/hub_auth.c
 * ---------------------------------------------------------------------------
 */

/* At ESTABLISHED, once c->context holds the handshake's headers: the token found again in lws's
 * headers (a cache hit for the one admitted), verified and decided on as at admission; its claims
 * into c->claims and c->context, its expiry scheduled. Returns false when the socket may not open
 * (its close reason is set: return -1 to lws); c then holds nothing to free. */
bool gw_hub_identify(struct client *c);

/* From gw_hub_on_timer: closes the socket (gw_hub_close_with 1008 "token expired") when its
 * token has expired, unless a refresh moved the time on. */
void gw_hub_on_expiry(struct client *c);

/* The hub method refresh with the token given: the new result data ({"exp": <exp or null>}), or
 * NULL with a new Unauthorized or Forbidden error in *error (the socket keeps its old token). */
json_t *gw_hub_refresh(struct client *c, const char *token, json_t **error);

/* Whether the socket may call a target that the expose entry allows (its auth and scopes against
 * the socket's claims): NULL when it may, else a new Unauthorized or Forbidden error. */
json_t *gw_hub_may_call(const struct client *c, const struct gw_policy_entry *entry);

/* Whether the client may subscribe the socket to channel (GATEWAY.channels): NULL when it may,
 * else a new Forbidden error that says nothing of which channels exist. */
json_t *gw_hub_may_subscribe(const struct client *c, const char *channel);

/* After a reload, once per socket (when its checked_round is not the hub's recheck_round): the
 * socket's token (or its lack of one) decided on again under the new keys and policy, as at its
 * opening; one that no longer passes (a key removed, another issuer or audience, tokens now
 * required) closes the socket with 1008. Returns whether it was due. */
bool gw_hub_recheck(struct client *c);

/* At CLOSED: frees the claims and the token. */
void gw_hub_forget(struct client *c);

/* The config of the settings SIGHUP changes: the current generation's (the start-up one before any
 * gw_hub_reload). A socket's next call or subscription is judged by it, as a request is. */
static inline const struct gw_config *gw_hub_policy(const struct gw_hub *hub)
{
    return hub->current ? hub->current->config : hub->config;
}

#endif
