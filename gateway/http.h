/* http.h - the REST side, on the libuv loop. A request waiting for its reply holds no thread.
 *
 * A complete, well-formed HTTP/1.1 request (core/h1.h) is read by enoki itself, and its connection
 * stays in the loop's poll set while the call runs. Any other request goes to libmicrohttpd, driven
 * by the same loop (DESIGN.md, "libmicrohttpd in an external loop"), which keeps that connection
 * and suspends it until the call's end (reply, deadline, broker loss). Both answer alike.
 */
#ifndef ENOKI_HTTP_H
#define ENOKI_HTTP_H

#include "core/config.h"
#include "core/rpc.h"
#include "routes/table.h"

#include <stddef.h>
#include <sys/socket.h>
#include <uv.h>

struct gw_http;

/* config, table and rpc are borrowed and must outlive the server. Returns NULL with err set. */
struct gw_http *gw_http_new(uv_loop_t *loop, const struct gw_config *config,
                            const struct gw_route_table *table, struct gw_rpc *rpc, char *err,
                            size_t errlen);

/* Counts requests into metrics and serves them at GATEWAY.metrics_path (borrowed). */
struct gw_metrics;
void gw_http_set_metrics(struct gw_http *http, struct gw_metrics *metrics);

/* Takes an accepted, non-blocking socket (stolen: closed by the server). */
void gw_http_add_connection(struct gw_http *http, int fd, const struct sockaddr *addr,
                            socklen_t len);

/* Swaps in a reloaded config and route table for the requests that start from now on (borrowed;
 * the old ones must stay alive while requests that began before still run). */
void gw_http_reload(struct gw_http *http, const struct gw_config *config,
                    const struct gw_route_table *table);

/* From now on every response says "Connection: close". */
void gw_http_drain(struct gw_http *http);

/* Requests begun and not yet completed. */
size_t gw_http_in_flight(const struct gw_http *http);

/* Stops MHD (closing idle connections) and releases the loop handles; the memory goes once the
 * loop has released them. NULL is a no-op. */
void gw_http_close(struct gw_http *http);

#endif
