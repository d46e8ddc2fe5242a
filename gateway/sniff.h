/* sniff.h - which library gets a new connection: a peek at its request (DESIGN.md, "One port").
 *
 * The request line and headers are read with MSG_PEEK, so nothing is consumed: libwebsockets reads
 * the upgrade request itself, libmicrohttpd everything else. A connection that sends nothing useful
 * within the deadline is closed.
 */
#ifndef ENOKI_SNIFF_H
#define ENOKI_SNIFF_H

#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

enum gw_sniff_kind { GW_SNIFF_HTTP, GW_SNIFF_WEBSOCKET };

/* What the peek saw of a websocket upgrade: borrowed for the callback's duration. */
struct gw_sniff_info {
    const char *origin; /* NULL when absent */
    const char *host;   /* NULL when absent */
    size_t head_len;    /* bytes of the request head, blank line included (websocket only) */
};

/* Called once per connection, on the loop, after the poll on fd has stopped; the callee owns fd. */
typedef void (*gw_sniff_fn)(void *arg, int fd, const struct sockaddr *addr, socklen_t len,
                            enum gw_sniff_kind kind, const struct gw_sniff_info *info);

/* The connections still being looked at; zero-initialise. */
struct gw_sniff_set {
    struct sniff *head;
};

/* Starts watching an accepted, non-blocking socket, as a member of set. websocket_path is borrowed
 * and must outlive it. */
void gw_sniff_start(struct gw_sniff_set *set, uv_loop_t *loop, int fd, const struct sockaddr *addr,
                    socklen_t len, const char *websocket_path, uint64_t deadline_ms,
                    gw_sniff_fn done, void *arg);

/* Closes every connection of set that has not said what it is yet (stopping: they would keep the
 * loop alive until their deadline). */
void gw_sniff_close_all(struct gw_sniff_set *set);

/* Pure: decides from the bytes seen so far. Returns GW_SNIFF_HTTP or GW_SNIFF_WEBSOCKET, or -1 when
 * more bytes are needed. On GW_SNIFF_WEBSOCKET, Origin and Host are copied into the buffers. */
int gw_sniff_decide(const char *buf, size_t len, int full, const char *websocket_path,
                    char *origin, size_t origin_len, char *host, size_t host_len, size_t *head_len);

#endif
