/* http_mhd.h - the requests libmicrohttpd reads: chunked bodies, HEAD, OPTIONS, HTTP/1.0, bodies
 * still arriving, heads too big for enoki's reader (docs/architecture.md, "libmicrohttpd in an
 * external loop"). libmicrohttpd is driven by the loop (gateway/mhd_loop.h), suspends a connection
 * while its call runs, and serves one request per connection: the one whose head the scan
 * (gateway/h1_parse.h) has checked, so every response says "Connection: close".
 */
#ifndef ENOKI_HTTP_MHD_H
#define ENOKI_HTTP_MHD_H

#include "gateway/request.h"

#include <stddef.h>
#include <sys/socket.h>

struct gw_http_mhd;

/* env is borrowed and must outlive the adapter. Returns NULL with err set. */
struct gw_http_mhd *gw_http_mhd_new(struct gw_http_env *env, char *err, size_t errlen);

/* libmicrohttpd takes fd (and closes it, also when it cannot take it). */
void gw_http_mhd_take(struct gw_http_mhd *mhd, int fd, const struct sockaddr *addr, socklen_t len);

/* The current generation's deadlines apply to requests from now on. */
void gw_http_mhd_reload(struct gw_http_mhd *mhd);

/* Stops libmicrohttpd (closing its connections); the memory goes once the loop has released its
 * handles. NULL is a no-op. */
void gw_http_mhd_close(struct gw_http_mhd *mhd);

#endif
