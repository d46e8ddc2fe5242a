#define _GNU_SOURCE /* accept4 */
#include "listener.h"

#include "core/log.h"
#include "core/xalloc.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { PAUSE_MS = 100 };

struct gw_listener {
    uv_poll_t poll;
    uv_timer_t pause; /* accepting again, after running out of descriptors */
    int handles_open;
    bool starved; /* accept has failed for want of descriptors since the last success */
    int fd;
    int port;
    gw_accept_fn accept_fn;
    void *arg;
};

static void on_acceptable(uv_poll_t *poll, int status, int events);

static void on_resume(uv_timer_t *timer)
{
    struct gw_listener *listener = timer->data;
    uv_poll_start(&listener->poll, UV_READABLE, on_acceptable);
}

static void on_acceptable(uv_poll_t *poll, int status, int events)
{
    (void)events;
    struct gw_listener *listener = poll->data;
    if (status < 0)
        return;
    /* Accept everything that is waiting: the socket is level-triggered but each wake-up costs a
     * loop pass. */
    for (int i = 0; i < 64; i++) {
        struct sockaddr_storage addr;
        socklen_t len = sizeof(addr);
        int fd =
            accept4(listener->fd, (struct sockaddr *)&addr, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)) {
            /* Out of descriptors: the connection stays in the backlog, so the listening socket
             * stays readable and a level-triggered poll would spin (and log) at full speed until
             * one is freed. Look again a little later; connections that end free them. */
            if (!listener->starved)
                gw_warn("listener", "accept: %s: new connections wait until some close",
                        strerror(errno));
            listener->starved = true;
            uv_poll_stop(&listener->poll);
            uv_timer_start(&listener->pause, on_resume, PAUSE_MS, 0);
            return;
        }
        if (fd < 0)
            return;
        if (listener->starved)
            gw_info("listener", "accepting connections again");
        listener->starved = false;
        listener->accept_fn(listener->arg, fd, (struct sockaddr *)&addr, len);
    }
}

/* A socket bound to host:port, not yet listening; -1 with a reason in err. */
static int bound_socket(const char *host, int port, bool reuseport, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    char service[16];
    snprintf(service, sizeof(service), "%d", port);
    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        freeaddrinfo(res);
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) {
        snprintf(err, errlen, "SO_REUSEPORT: %s", strerror(errno));
        close(fd);
        freeaddrinfo(res);
        return -1;
    }
    if (bind(fd, res->ai_addr, res->ai_addrlen) < 0) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", host, port, strerror(errno));
        close(fd);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    return fd;
}

int gw_listen_open(const char *host, int port, bool reuseport, int *bound_port, char *err,
                   size_t errlen)
{
    int fd = bound_socket(host, port, reuseport, err, errlen);
    if (fd < 0)
        return -1;
    if (listen(fd, 1024) < 0) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", host, port, strerror(errno));
        close(fd);
        return -1;
    }
    struct sockaddr_storage bound;
    socklen_t len = sizeof(bound);
    getsockname(fd, (struct sockaddr *)&bound, &len);
    *bound_port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                    : ((struct sockaddr_in *)&bound)->sin_port);
    return fd;
}

bool gw_listen_port_free(const char *host, int port, char *err, size_t errlen)
{
    int fd = bound_socket(host, port, false, err, errlen);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

struct gw_listener *gw_listener_adopt(uv_loop_t *loop, int fd, int port, gw_accept_fn accept_fn,
                                      void *arg)
{
    struct gw_listener *listener = xcalloc(1, sizeof(*listener));
    listener->fd = fd;
    listener->port = port;
    listener->accept_fn = accept_fn;
    listener->arg = arg;
    uv_poll_init(loop, &listener->poll, fd);
    uv_timer_init(loop, &listener->pause);
    listener->poll.data = listener->pause.data = listener;
    listener->handles_open = 2;
    uv_poll_start(&listener->poll, UV_READABLE, on_acceptable);
    return listener;
}

struct gw_listener *gw_listener_new(uv_loop_t *loop, const char *host, int port,
                                    gw_accept_fn accept_fn, void *arg, char *err, size_t errlen)
{
    int bound = 0;
    int fd = gw_listen_open(host, port, false, &bound, err, errlen);
    return fd < 0 ? NULL : gw_listener_adopt(loop, fd, bound, accept_fn, arg);
}

int gw_listener_port(const struct gw_listener *listener)
{
    return listener->port;
}

static void on_closed(uv_handle_t *handle)
{
    struct gw_listener *listener = handle->data;
    if (--listener->handles_open > 0)
        return;
    close(listener->fd);
    free(listener);
}

void gw_listener_close(struct gw_listener *listener)
{
    if (!listener)
        return;
    uv_poll_stop(&listener->poll);
    uv_timer_stop(&listener->pause);
    uv_close((uv_handle_t *)&listener->poll, on_closed);
    uv_close((uv_handle_t *)&listener->pause, on_closed);
}
