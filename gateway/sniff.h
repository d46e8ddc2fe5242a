/* sniff.h - which library gets a new connection: one peek at its first request head
 * (docs/architecture.md, "One port").
 *
 * The head is read with MSG_PEEK, so nothing is consumed, and scanned once (gateway/h1_parse.h):
 * the verdict and the scanned bytes are handed on with the connection, so nobody peeks or checks
 * them again. A head that no library should see is answered here, and the connection closed. A
 * connection that sends no complete head within the deadline is closed.
 */
#ifndef ENOKI_SNIFF_H
#define ENOKI_SNIFF_H

#include "gateway/h1_parse.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

/* Called once per connection, on the loop, after the poll on fd has stopped; the callee owns fd.
 * head (verdict GW_H1_FAST or GW_H1_LIBRARY) and the peeked bytes it points into, buf[0..len),
 * are borrowed for the call's duration. */
typedef void (*gw_sniff_fn)(void *arg, int fd, const struct sockaddr *addr, socklen_t addr_len,
                            const struct gw_h1_head *head, const char *buf, size_t len);

struct gw_http_metrics;

/* The connections still being looked at; zero-initialise, gw_sniff_set_free at the end. A
 * connection closed at its deadline is counted in metrics (borrowed; NULL: not counted). The peek
 * buffer is shared by every connection of the set (the loop looks at one at a time). */
struct gw_sniff_set {
    struct sniff *head;
    struct gw_http_metrics *metrics;
    char *peek;
    size_t peek_cap;
    /* The current config, for what a refusal's answer carries (gateway/refuse.h): borrowed, read
     * at the moment of each refusal (a SIGHUP replaces *config). NULL: none. */
    const struct gw_config *const *config;
};

/* Starts watching an accepted, non-blocking socket, as a member of set. limits (its
 * websocket_path too) is copied; the path string is borrowed and must outlive the connection's
 * sniffing. */
void gw_sniff_start(struct gw_sniff_set *set, uv_loop_t *loop, int fd, const struct sockaddr *addr,
                    socklen_t len, const struct gw_h1_limits *limits, uint64_t deadline_ms,
                    gw_sniff_fn done, void *arg);

/* Closes every connection of set that has not said what it is yet (stopping: they would keep the
 * loop alive until their deadline). */
void gw_sniff_close_all(struct gw_sniff_set *set);

/* Frees the peek buffer (after gw_sniff_close_all). */
void gw_sniff_set_free(struct gw_sniff_set *set);

/* How many bytes to peek at for a head under limits: as many as libmicrohttpd would hold (the
 * larger of max_head and library_head_max, and GW_MHD_POOL_SLACK), and one more, so that a head
 * it would refuse as too big is seen to be too big. */
size_t gw_sniff_peek_for(const struct gw_h1_limits *limits);

#endif
