/* http_fast.h - the common request, read by enoki itself (docs/architecture.md, "The common
 * request, read by enoki").
 *
 * libmicrohttpd answers later only by suspending a connection: two epoll_ctl, a read that finds
 * nothing and a spurious wakeup per request, about a third of enoki's system calls under load. A
 * complete, plain HTTP/1.1 request (the scan's GW_H1_FAST, gateway/h1_parse.h) is read here
 * instead, on a connection that stays in the loop's poll set while its call runs. The first request
 * that is anything else hands the connection to libmicrohttpd before a byte of it is read: requests
 * are only peeked at until they are known to be enoki's. Each head is peeked at once and scanned
 * once (the first by the sniffer), then read with one recv.
 */
#ifndef ENOKI_HTTP_FAST_H
#define ENOKI_HTTP_FAST_H

#include "gateway/h1_parse.h"
#include "gateway/http_mhd.h"
#include "gateway/request.h"

#include <stddef.h>
#include <sys/socket.h>

struct gw_http_fast;

/* The biggest request, head and body, that enoki reads itself. */
enum { GW_FAST_MAX = 16384 };

/* env and mhd (which takes the connections handed over) are borrowed and must outlive it. */
struct gw_http_fast *gw_http_fast_new(struct gw_http_env *env, struct gw_http_mhd *mhd);

/* Serves the connection fd (stolen) whose first request the sniffer scanned: head (verdict
 * GW_H1_FAST) points into buf, the peeked bytes. */
void gw_http_fast_start(struct gw_http_fast *fast, int fd, const struct sockaddr *addr,
                        socklen_t len, const struct gw_h1_head *head, const char *buf);

/* Closes every connection (a request still being served ends as "client gone") and frees fast.
 * NULL is a no-op. */
void gw_http_fast_close(struct gw_http_fast *fast);

#endif
