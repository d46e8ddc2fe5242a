/* sniff.h - which library gets a new connection: a peek at its request (DESIGN.md, "One port").
 *
 * The request line and headers are read with MSG_PEEK, so nothing is consumed: libwebsockets reads
 * the upgrade request itself, libmicrohttpd everything else. A connection that sends nothing useful
 * within the deadline is closed. A head that neither library should see (gw_sniff_check) is
 * answered here, and the connection closed.
 */
#ifndef ENOKI_SNIFF_H
#define ENOKI_SNIFF_H

#include <stdbool.h>
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

struct gw_metrics;

/* The connections still being looked at; zero-initialise. A connection closed at its deadline is
 * counted in metrics (borrowed; NULL: not counted). */
struct gw_sniff_set {
    struct sniff *head;
    struct gw_metrics *metrics;
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

/* A request the sniffer answers itself; the strings are static. */
struct gw_sniff_refusal {
    int status;        /* 400, 413 or 426 */
    const char *error; /* the stable error code of the JSON body */
    const char *message;
    const char *header; /* one more response header line (without CRLF), or NULL */
    size_t head_len;    /* bytes of the request head, blank line included */
};

/* Pure: checks the first request head of a connection, all of it in buf (a head longer than buf is
 * not checked: libmicrohttpd refuses it), for what the libraries would get wrong: a NUL byte
 * anywhere (libmicrohttpd 0.9.75 cuts the target or a value short at it), a Content-Length that is
 * not a number or overflows (libmicrohttpd answers those with its error head written twice),
 * whitespace before a header's colon, a folded header line; for a websocket upgrade, a
 * Sec-WebSocket-Version other than 13 or 8 (426) and a Sec-WebSocket-Key that is not 16 bytes in
 * base64 (400), which libwebsockets 4.1.6 accepts. Returns 1 and fills out when the request must
 * be refused, else 0. */
int gw_sniff_check(const char *buf, size_t len, enum gw_sniff_kind kind,
                   struct gw_sniff_refusal *out);

/* How long a refused connection is kept open, at most, for the client to read its answer. */
enum { GW_SNIFF_LINGER_MS = 2000 };

/* Answers a refused request on the non-blocking socket fd: reads its head (refusal->head_len bytes,
 * peeked so far), writes the answer with "Connection: close", shuts down the writing side and logs
 * it. The caller then lingers: on each readable event, gw_sniff_linger(fd, status) reads and drops
 * what the client still sends, and returns true once fd should be closed (the client is done, or
 * the socket broke), up to GW_SNIFF_LINGER_MS. Closing with unread bytes would reset the
 * connection, and a reset can destroy the answer before the client has read it. */
void gw_sniff_refuse(int fd, const struct gw_sniff_refusal *refusal);
bool gw_sniff_linger(int fd, int status);

/* SO_RCVLOWAT: the kernel reports fd readable once it holds at least bytes bytes (or has ended).
 * Returns 0, or -1 with errno. */
int gw_sniff_set_lowat(int fd, int bytes);

#endif
