#include "mhd_loop.h"

#include "core/log.h"
#include "core/xalloc.h"
#include "gateway/sockstat.h"

#include <stdlib.h>
#include <sys/socket.h>

/* The guard looks at the connections after a run of passes in which libmicrohttpd asked to run at
 * once: at least this many passes, over at least this long. A healthy connection makes such a run
 * only while it works through bytes it has, so a look finds no connection without progress. */
enum { STALL_PASSES = 16, STALL_MS = 2 };
/* While a killed connection waits for libmicrohttpd to close it (within a second), "at once" means
 * this much later: the stuck connection keeps asking, and the loop must not spin meanwhile. */
enum { DYING_RUN_MS = 10 };
/* How often request deadlines are checked, and what is read and dropped from a killed connection's
 * socket per look. */
enum { SWEEP_MS = 1000, DRAIN_BYTES = 256 * 1024 };

struct gw_mhd_conn {
    struct gw_mhd_loop *loop;
    struct gw_mhd_conn *prev, *next;
    struct MHD_Connection *connection;
    int fd;
    void *request;     /* the one being read or served, else NULL */
    bool head;         /* the current request's head has arrived */
    bool received;     /* all of the current request has arrived */
    uint64_t phase_ms; /* when the current request's deadline began */
    uint64_t phase_rx; /* bytes read from the socket by then */
    bool killed;
    /* The last look of the stall guard: bytes waiting in the socket and bytes received so far. */
    bool looked;
    int inq;
    uint64_t rx;
};

struct gw_mhd_loop {
    uv_loop_t *loop;
    struct MHD_Daemon *daemon;
    uv_poll_t poll;   /* the daemon's epoll fd */
    uv_timer_t timer; /* the daemon's own timeouts */
    uv_timer_t sweep; /* request deadlines */
    /* "Run in this loop pass": the check phase runs the daemon after the pass's I/O callbacks,
     * and the idle handle, while started, keeps the pass from waiting before it gets there. */
    uv_check_t run_check;
    uv_idle_t run_soon;
    bool run_pending;
    bool closed;
    int handles_open;
    struct gw_mhd_deadlines deadlines;
    gw_mhd_kill_fn on_kill;
    void *arg;
    struct gw_mhd_conn *conns;
    size_t dying;        /* killed, not yet closed by the daemon */
    unsigned at_once;    /* consecutive runs after which the daemon asked to run at once */
    uint64_t at_once_ms; /* when that run of passes began, or the guard last looked */
};

static void run(struct gw_mhd_loop *d);

static void on_timer(uv_timer_t *timer)
{
    run(timer->data);
}

static void on_readable(uv_poll_t *poll, int status, int events)
{
    (void)status;
    (void)events;
    run(poll->data);
}

static void on_run_soon(uv_idle_t *idle)
{
    (void)idle; /* only there so that the loop does not wait: on_run_check does the work */
}

static void on_run_check(uv_check_t *check)
{
    struct gw_mhd_loop *d = check->data;
    if (!d->run_pending)
        return;
    d->run_pending = false;
    uv_idle_stop(&d->run_soon);
    run(d);
}

void gw_mhd_loop_run_soon(struct gw_mhd_loop *d)
{
    if (d->run_pending || d->closed)
        return;
    d->run_pending = true;
    uv_idle_start(&d->run_soon, on_run_soon);
}

/* --- the guard ----------------------------------------------------------------------------------
 */

static void drain(int fd)
{
    char sink[16384];
    for (size_t total = 0; total < DRAIN_BYTES;) {
        ssize_t n = recv(fd, sink, sizeof(sink), MSG_DONTWAIT);
        if (n <= 0)
            return;
        total += (size_t)n;
    }
}

static void kill_conn(struct gw_mhd_conn *c, enum gw_mhd_kill_reason reason)
{
    struct gw_mhd_loop *d = c->loop;
    c->killed = true;
    d->dying++;
    d->on_kill(d->arg, c->fd, c->request, reason);
    /* Both ways: a reader libmicrohttpd still serves sees the end and closes; one it no longer
     * reads (its buffer full) is closed by the timeout. */
    shutdown(c->fd, SHUT_RDWR);
    MHD_set_connection_option(c->connection, MHD_CONNECTION_OPTION_TIMEOUT, 1u);
    drain(c->fd);
}

/* After a run of passes in which the daemon asked to run at once: a connection that libmicrohttpd
 * neither suspends nor answers, with bytes in its socket, that has consumed none of them since the
 * previous look is the one keeping the daemon busy. */
static void look_for_stalls(struct gw_mhd_loop *d)
{
    for (struct gw_mhd_conn *c = d->conns, *next; c; c = next) {
        next = c->next;
        if (c->killed)
            continue;
        const union MHD_ConnectionInfo *suspended =
            MHD_get_connection_info(c->connection, MHD_CONNECTION_INFO_CONNECTION_SUSPENDED);
        const union MHD_ConnectionInfo *status =
            MHD_get_connection_info(c->connection, MHD_CONNECTION_INFO_HTTP_STATUS);
        int inq;
        uint64_t rx;
        if ((suspended && suspended->suspended) || (status && status->http_status) ||
            !gw_sockstat_input(c->fd, &inq, &rx) || inq == 0) {
            c->looked = false;
            continue;
        }
        /* Consumed since the last look: what arrived, less what is still waiting. */
        bool stalled = c->looked && rx - c->rx == (uint64_t)((int64_t)inq - c->inq);
        c->looked = true;
        c->inq = inq;
        c->rx = rx;
        if (stalled) {
            gw_warn("http",
                    "killed a connection that makes no progress (%d bytes unread in its "
                    "socket, libmicrohttpd reads none of them)",
                    inq);
            kill_conn(c, GW_MHD_STALLED);
        }
    }
}

static void forget_looks(struct gw_mhd_loop *d)
{
    for (struct gw_mhd_conn *c = d->conns; c; c = c->next)
        c->looked = false;
}

static void run(struct gw_mhd_loop *d)
{
    if (d->closed)
        return;
    MHD_run(d->daemon);
    for (struct gw_mhd_conn *c = d->conns; c; c = c->next)
        if (c->killed)
            drain(c->fd);
    MHD_UNSIGNED_LONG_LONG timeout;
    bool has_timeout = MHD_get_timeout(d->daemon, &timeout) == MHD_YES;
    if (!has_timeout || timeout > 0) {
        if (d->at_once)
            forget_looks(d);
        d->at_once = 0;
        if (has_timeout)
            uv_timer_start(&d->timer, on_timer, (uint64_t)timeout, 0);
        else
            uv_timer_stop(&d->timer);
        return;
    }
    uint64_t now = uv_now(d->loop);
    if (d->at_once++ == 0)
        d->at_once_ms = now;
    if (d->at_once >= STALL_PASSES && now - d->at_once_ms >= STALL_MS) {
        look_for_stalls(d);
        d->at_once = 1;
        d->at_once_ms = now;
    }
    if (d->dying) {
        uv_timer_start(&d->timer, on_timer, DYING_RUN_MS, 0);
        return;
    }
    uv_timer_stop(&d->timer);
    gw_mhd_loop_run_soon(d);
}

static uint64_t received_bytes(int fd)
{
    int inq;
    uint64_t rx = 0;
    return gw_sockstat_input(fd, &inq, &rx) ? rx : 0;
}

/* Bytes the application has read from fd's socket: those received but still waiting are not. */
static uint64_t read_bytes(int fd)
{
    int inq;
    uint64_t rx = 0;
    return gw_sockstat_input(fd, &inq, &rx) && (uint64_t)inq <= rx ? rx - (uint64_t)inq : 0;
}

/* Requests that have not arrived whole by their deadline, or never can (the client has gone). An
 * idle connection (nothing received since the last request) is left to libmicrohttpd's idle
 * timeout. */
static void on_sweep(uv_timer_t *timer)
{
    struct gw_mhd_loop *d = timer->data;
    uint64_t now = uv_now(d->loop);
    for (struct gw_mhd_conn *c = d->conns, *next; c; c = next) {
        next = c->next;
        if (c->killed || c->received)
            continue;
        int inq;
        uint64_t rx;
        if (gw_sockstat_peer_closed(c->fd) && gw_sockstat_input(c->fd, &inq, &rx) && inq == 0) {
            /* libmicrohttpd has read all there is, and the rest will never come: it does not
             * always notice the end (a head in its buffer), and would hold it until a timeout. */
            gw_debug("http", "closed a connection whose client left in the middle of a request");
            kill_conn(c, GW_MHD_ABANDONED);
            continue;
        }
        uint64_t deadline = c->head ? d->deadlines.request_ms : d->deadlines.head_ms;
        if (now - c->phase_ms < deadline)
            continue;
        if (!c->request && received_bytes(c->fd) == c->phase_rx)
            continue;
        gw_warn("http", "killed a connection whose request %s did not arrive within %llu s",
                c->head ? "body" : "head", (unsigned long long)(deadline / 1000));
        kill_conn(c, c->head ? GW_MHD_TOO_SLOW : GW_MHD_HEAD_TOO_SLOW);
    }
    if (d->dying)
        run(d);
}

/* --- connections --------------------------------------------------------------------------------
 */

static void begin_phase(struct gw_mhd_conn *c)
{
    c->head = false;
    c->received = false;
    c->phase_ms = uv_now(c->loop->loop);
    c->phase_rx = read_bytes(c->fd);
}

struct gw_mhd_conn *gw_mhd_loop_conn_started(struct gw_mhd_loop *d,
                                             struct MHD_Connection *connection)
{
    struct gw_mhd_conn *c = xcalloc(1, sizeof(*c));
    c->loop = d;
    c->connection = connection;
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    c->fd = info ? info->connect_fd : -1;
    begin_phase(c);
    c->next = d->conns;
    if (c->next)
        c->next->prev = c;
    d->conns = c;
    if (!d->closed && !uv_is_active((uv_handle_t *)&d->sweep))
        uv_timer_start(&d->sweep, on_sweep, SWEEP_MS, SWEEP_MS);
    return c;
}

void *gw_mhd_loop_conn_closed(struct gw_mhd_conn *c)
{
    if (!c)
        return NULL;
    struct gw_mhd_loop *d = c->loop;
    void *orphan = c->request;
    if (c->prev)
        c->prev->next = c->next;
    else
        d->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (c->killed)
        d->dying--;
    if (!d->conns)
        uv_timer_stop(&d->sweep);
    free(c);
    return orphan;
}

struct gw_mhd_conn *gw_mhd_loop_conn_of(struct MHD_Connection *connection)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

void *gw_mhd_conn_request_started(struct gw_mhd_conn *c, void *request)
{
    if (!c)
        return NULL;
    void *orphan = c->request;
    c->request = request;
    return orphan;
}

void gw_mhd_conn_head_received(struct gw_mhd_conn *c)
{
    if (c)
        c->head = true;
}

void gw_mhd_conn_request_received(struct gw_mhd_conn *c)
{
    if (c)
        c->received = true;
}

void gw_mhd_conn_request_ended(struct gw_mhd_conn *c)
{
    if (!c)
        return;
    c->request = NULL;
    begin_phase(c);
}

bool gw_mhd_conn_killed(const struct gw_mhd_conn *c)
{
    return c && c->killed;
}

/* --- the loop -----------------------------------------------------------------------------------
 */

struct gw_mhd_loop *gw_mhd_loop_new(uv_loop_t *loop, struct MHD_Daemon *daemon,
                                    struct gw_mhd_deadlines deadlines, gw_mhd_kill_fn on_kill,
                                    void *arg)
{
    struct gw_mhd_loop *d = xcalloc(1, sizeof(*d));
    d->loop = loop;
    d->daemon = daemon;
    d->deadlines = deadlines;
    d->on_kill = on_kill;
    d->arg = arg;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_EPOLL_FD);
    uv_poll_init(loop, &d->poll, info->epoll_fd);
    uv_poll_start(&d->poll, UV_READABLE, on_readable);
    uv_timer_init(loop, &d->timer);
    uv_timer_init(loop, &d->sweep);
    uv_unref((uv_handle_t *)&d->sweep);
    uv_idle_init(loop, &d->run_soon);
    uv_check_init(loop, &d->run_check);
    uv_check_start(&d->run_check, on_run_check);
    uv_unref((uv_handle_t *)&d->run_check);
    d->poll.data = d->timer.data = d->sweep.data = d->run_soon.data = d->run_check.data = d;
    d->handles_open = 5;
    return d;
}

void gw_mhd_loop_set_deadlines(struct gw_mhd_loop *d, struct gw_mhd_deadlines deadlines)
{
    d->deadlines = deadlines;
}

static void on_closed(uv_handle_t *handle)
{
    struct gw_mhd_loop *d = handle->data;
    if (--d->handles_open == 0)
        free(d);
}

void gw_mhd_loop_close(struct gw_mhd_loop *d)
{
    if (!d)
        return;
    d->closed = true;
    uv_poll_stop(&d->poll);
    uv_timer_stop(&d->timer);
    uv_timer_stop(&d->sweep);
    /* libmicrohttpd 0.9.75 aborts the process when it is stopped with a connection still
     * suspended (a request waiting for its call, at a second SIGTERM or a drain's last deadline).
     * Resumed, each is closed with the others: its request ends as its client's going would. */
    for (struct gw_mhd_conn *c = d->conns; c; c = c->next) {
        const union MHD_ConnectionInfo *suspended =
            MHD_get_connection_info(c->connection, MHD_CONNECTION_INFO_CONNECTION_SUSPENDED);
        if (suspended && suspended->suspended)
            MHD_resume_connection(c->connection);
    }
    MHD_stop_daemon(d->daemon); /* closes the connections: their records go with them */
    uv_close((uv_handle_t *)&d->poll, on_closed);
    uv_close((uv_handle_t *)&d->timer, on_closed);
    uv_close((uv_handle_t *)&d->sweep, on_closed);
    uv_close((uv_handle_t *)&d->run_soon, on_closed);
    uv_close((uv_handle_t *)&d->run_check, on_closed);
}
