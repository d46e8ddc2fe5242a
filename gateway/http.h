/* http.h - the REST side, on the libuv loop. A request waiting for its reply holds no thread.
 *
 * A connection comes from the sniffer with its first head scanned (gateway/h1_parse.h). A plain
 * request is read by enoki itself (gateway/http_fast.h); any other goes to libmicrohttpd
 * (gateway/http_mhd.h), driven by the same loop. Either way the request goes through the same
 * dispatch (gateway/dispatch.h) and is answered alike (docs/architecture.md).
 */
#ifndef ENOKI_HTTP_H
#define ENOKI_HTTP_H

#include "core/rpc.h"
#include "gateway/generation.h"
#include "gateway/h1_parse.h"

#include <stddef.h>
#include <sys/socket.h>
#include <uv.h>

struct gw_http;
struct gw_http_metrics;

/* gen (a reference is taken) holds the settings; rpc is borrowed and must outlive the server.
 * Returns NULL with err set. */
struct gw_http *gw_http_new(uv_loop_t *loop, struct gw_generation *gen, struct gw_rpc *rpc,
                            char *err, size_t errlen);

/* Counts requests into metrics and serves them at GATEWAY.metrics_path (borrowed). */
void gw_http_set_metrics(struct gw_http *http, struct gw_http_metrics *metrics);

struct gw_status_page;
/* Counts requests into the status page's numbers and serves it at GATEWAY.status_path (borrowed).
 */
void gw_http_set_status_page(struct gw_http *http, struct gw_status_page *status);

struct gw_authn;
/* The verifier of bearer tokens (borrowed; outlives http). */
void gw_http_set_authn(struct gw_http *http, struct gw_authn *authn);

/* Takes an accepted, non-blocking socket (stolen: closed by the server) whose first head the
 * sniffer scanned: head (verdict GW_H1_FAST or GW_H1_LIBRARY) points into buf, the peeked bytes,
 * both borrowed for the call. */
void gw_http_add_connection(struct gw_http *http, int fd, const struct sockaddr *addr,
                            socklen_t len, const struct gw_h1_head *head, const char *buf);

/* Requests that start from now on run under gen (a reference is taken); those that began before
 * keep theirs until they finish. */
/* Rate limits decide with limiter's buckets (borrowed; gateway/limiter). */
struct gw_limiter;
void gw_http_set_limiter(struct gw_http *http, struct gw_limiter *limiter);

void gw_http_reload(struct gw_http *http, struct gw_generation *gen);

/* The limits a connection's first head is scanned under (gw_http_env_limits): the sniffer's, the
 * same as enoki's reader's for the later ones. */
struct gw_h1_limits gw_http_limits(const struct gw_http *http, const struct gw_config *config);

/* A later request of a kept-alive connection that is a websocket upgrade of path (borrowed: it must
 * outlive http) is handed to upgrade with its socket (stolen), the upgrade still unread in it, and
 * the scanned head pointing into buf (borrowed for the call), as the sniffer hands over a first
 * one; one whose head is longer than head_max is refused (431, gw_hub_head_max). Without it, such
 * a request is answered 400. */
void gw_http_set_upgrade(struct gw_http *http, const char *path, size_t head_max,
                         void (*upgrade)(void *arg, int fd, const struct sockaddr *addr,
                                         socklen_t len, const struct gw_h1_head *head,
                                         const char *buf, size_t buf_len),
                         void *arg);

/* From now on every response says "Connection: close". */
void gw_http_drain(struct gw_http *http);

/* Requests begun and not yet completed. */
size_t gw_http_in_flight(const struct gw_http *http);

/* Open HTTP connections (the status page's gauge). */
size_t gw_http_connections(const struct gw_http *http);

/* Stops libmicrohttpd and closes every connection; the memory goes once the loop has released its
 * handles. NULL is a no-op. */
void gw_http_close(struct gw_http *http);

#endif
