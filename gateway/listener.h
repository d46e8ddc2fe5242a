/* listener.h - the listening socket, accepted by enoki itself on the loop.
 *
 * Each accepted connection is handed to accept_fn, which owns the fd from then on. (The websocket
 * issue adds a peek here that routes upgrade requests to the hub instead of HTTP.)
 */
#ifndef ENOKI_LISTENER_H
#define ENOKI_LISTENER_H

#include <sys/socket.h>
#include <uv.h>

struct gw_listener;

typedef void (*gw_accept_fn)(void *arg, int fd, const struct sockaddr *addr, socklen_t len);

/* Binds host:port (port 0: the OS picks) and starts accepting. Returns NULL with a reason in err.
 */
struct gw_listener *gw_listener_new(uv_loop_t *loop, const char *host, int port,
                                    gw_accept_fn accept_fn, void *arg, char *err, size_t errlen);

/* The port actually bound. */
int gw_listener_port(const struct gw_listener *listener);

/* Stops accepting and closes the socket; the memory goes once the loop has released the handle.
 * NULL is a no-op. */
void gw_listener_close(struct gw_listener *listener);

#endif
