/* listener.h - the listening socket, accepted by enoki itself on the loop.
 *
 * Each accepted connection is handed to accept_fn, which owns the fd from then on. With
 * GATEWAY.workers, the supervisor opens one socket per worker (gw_listen_open) and each worker
 * adopts its own (gw_listener_adopt).
 */
#ifndef ENOKI_LISTENER_H
#define ENOKI_LISTENER_H

#include <stdbool.h>
#include <sys/socket.h>
#include <uv.h>

struct gw_listener;

typedef void (*gw_accept_fn)(void *arg, int fd, const struct sockaddr *addr, socklen_t len);

/* Binds host:port (port 0: the OS picks) and starts accepting. Returns NULL with a reason in err.
 */
struct gw_listener *gw_listener_new(uv_loop_t *loop, const char *host, int port,
                                    gw_accept_fn accept_fn, void *arg, char *err, size_t errlen);

/* A listening socket bound to host:port (port 0: the OS picks; *bound_port says which), with
 * SO_REUSEPORT when reuseport (the workers' sockets, docs/workers.md). Returns the fd, or -1 with a
 * reason in err. */
int gw_listen_open(const char *host, int port, bool reuseport, int *bound_port, char *err,
                   size_t errlen);

/* Whether host:port can be bound by a socket without SO_REUSEPORT (the socket is closed at once).
 * SO_REUSEPORT lets any socket of the same user with the option join a port: the workers' sockets
 * would join another enoki's group on the port and share its connections, where the single
 * process's bind fails. Checked first, a port that is taken fails the same way. false with a reason
 * in err. */
bool gw_listen_port_free(const char *host, int port, char *err, size_t errlen);

/* Starts accepting on fd, a listening socket bound to port; the listener owns fd from then on. */
struct gw_listener *gw_listener_adopt(uv_loop_t *loop, int fd, int port, gw_accept_fn accept_fn,
                                      void *arg);

/* The port actually bound. */
int gw_listener_port(const struct gw_listener *listener);

/* Stops accepting and closes the socket; the memory goes once the loop has released the handle.
 * NULL is a no-op. */
void gw_listener_close(struct gw_listener *listener);

#endif
