/* mhd_loop.h - libmicrohttpd driven by the libuv loop, and the guard that keeps one of its
 * connections from stalling that loop.
 *
 * libmicrohttpd runs without a thread of its own: its epoll fd sits in the loop's poll set, its
 * timeout is a loop timer, and MHD_run runs in the loop thread. When libmicrohttpd says "run me
 * again at once" (a connection it holds has data it has not processed), it runs again on the next
 * loop pass, after the loop has polled every other source: never from a zero-delay timer, which
 * libuv 1.44 would run again in the same pass, forever, if libmicrohttpd keeps saying so.
 *
 * libmicrohttpd 0.9.75 keeps saying so for a connection whose read buffer is full of bytes it
 * cannot use (a chunk-size line longer than the buffer): it reads nothing more, processes nothing,
 * and asks to run at once, forever. The guard notices a run of such passes, finds the connection
 * that neither reads its socket nor delivers anything, and kills it. It also gives every request
 * a deadline to arrive whole (head and body), which libmicrohttpd's idle timeout, reset by every
 * byte, does not: a client trickling a byte a second is killed too. See docs/robustness.md.
 *
 * Killing a connection: the owner's kill callback may write an answer on the socket (nothing else
 * is writing to it: libmicrohttpd is still reading the request), then the socket is shut down both
 * ways and libmicrohttpd is told to time the connection out; it closes it within a second, while
 * its runs are spaced so that the loop does not spin meanwhile. What the client sends in between is
 * read and dropped, so that the close does not reset the connection under the answer.
 */
#ifndef ENOKI_MHD_LOOP_H
#define ENOKI_MHD_LOOP_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct gw_mhd_loop;
struct gw_mhd_conn;

/* libmicrohttpd's memory pool per connection is GATEWAY.max_header and this much more: it holds a
 * request's head (a bigger one is answered 431 or 414) and the body bytes it reads at a time. */
enum { GW_MHD_POOL_SLACK = 8192 };

enum gw_mhd_kill_reason {
    GW_MHD_STALLED,       /* ready, but neither reading its socket nor delivering anything */
    GW_MHD_HEAD_TOO_SLOW, /* its request's head did not arrive within the deadline */
    GW_MHD_TOO_SLOW,      /* its request did not arrive whole within the deadline */
    GW_MHD_ABANDONED,     /* its client left in the middle of a request */
};

/* Called as the guard kills a connection, before its socket is shut down: request is what
 * gw_mhd_conn_request_started set (NULL between requests). */
typedef void (*gw_mhd_kill_fn)(void *arg, int fd, void *request, enum gw_mhd_kill_reason reason);

/* Deadlines, from the previous request's end (or the connection's start): its head must have
 * arrived by head_ms, all of it by request_ms. */
struct gw_mhd_deadlines {
    uint64_t head_ms, request_ms;
};

/* Drives daemon (stolen: stopped by gw_mhd_loop_close), started with MHD_USE_EPOLL and no thread.
 */
struct gw_mhd_loop *gw_mhd_loop_new(uv_loop_t *loop, struct MHD_Daemon *daemon,
                                    struct gw_mhd_deadlines deadlines, gw_mhd_kill_fn on_kill,
                                    void *arg);

/* Runs libmicrohttpd in this loop pass, after its other callbacks (a resumed connection, a new
 * one). */
void gw_mhd_loop_run_soon(struct gw_mhd_loop *loop);

void gw_mhd_loop_set_deadlines(struct gw_mhd_loop *loop, struct gw_mhd_deadlines deadlines);

/* From the MHD_OPTION_NOTIFY_CONNECTION callback: the record the guard keeps of a connection. */
struct gw_mhd_conn *gw_mhd_loop_conn_started(struct gw_mhd_loop *loop,
                                             struct MHD_Connection *connection);
/* Returns the request libmicrohttpd began on it and never completed (its completion callback does
 * not run for every request it has logged), or NULL: the caller ends it. */
void *gw_mhd_loop_conn_closed(struct gw_mhd_conn *conn);

/* The record of connection (from MHD_CONNECTION_INFO_SOCKET_CONTEXT), or NULL. */
struct gw_mhd_conn *gw_mhd_loop_conn_of(struct MHD_Connection *connection);

/* A request's life on its connection: its head has begun (request borrowed, handed to the kill
 * callback), its head has arrived, all of it has arrived (the deadlines stop), it has ended (the
 * next one's start). */
void *gw_mhd_conn_request_started(struct gw_mhd_conn *conn, void *request); /* as closed */
void gw_mhd_conn_head_received(struct gw_mhd_conn *conn);
void gw_mhd_conn_request_received(struct gw_mhd_conn *conn);
void gw_mhd_conn_request_ended(struct gw_mhd_conn *conn);

/* The guard has killed it: nothing more of it should be served. */
bool gw_mhd_conn_killed(const struct gw_mhd_conn *conn);

/* Stops the daemon (its connections close, their callbacks run) and releases the loop handles;
 * the memory goes once the loop has released them. NULL is a no-op. */
void gw_mhd_loop_close(struct gw_mhd_loop *loop);

#endif
