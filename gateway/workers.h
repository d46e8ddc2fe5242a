/* workers.h - GATEWAY.workers above 1: the supervisor (docs/workers.md).
 *
 * The supervisor opens one listening socket per worker slot (SO_REUSEPORT, all on the same port)
 * and maps one area of memory shared by every worker (MAP_SHARED | MAP_ANONYMOUS) before it forks,
 * then forks one worker per slot. Each worker adopts its slot's socket and runs enoki's loop as one
 * process would; the supervisor keeps every socket open, so a worker that dies leaves its slot's
 * waiting connections in the kernel's queue for its replacement, which is forked with backoff.
 * SIGHUP is checked by the supervisor (a config that does not load is not passed on) and passed on
 * as GW_WORKER_RELOAD. A first SIGTERM or SIGINT is passed on as GW_WORKER_DRAIN, a later one as
 * GW_WORKER_STOP_NOW: a signal sent to the whole process group (systemd's stop, Ctrl-C,
 * `systemctl kill`) reaches each worker twice, once from the sender and once from the supervisor,
 * and the two must not count as two. The supervisor returns once every worker has stopped.
 *
 * The supervisor itself runs no loop: it waits for signals with sigtimedwait. Single-threaded.
 */
#ifndef ENOKI_WORKERS_H
#define ENOKI_WORKERS_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

/* The supervisor's signals to its workers: begin to drain (a worker already draining goes on), stop
 * at once, and reload. A SIGTERM or SIGINT a worker gets from anyone else counts as one does in the
 * single process: the first drains, the second stops at once. A SIGHUP it gets from anyone else is
 * logged and left to the supervisor, so that every worker serves the config the supervisor checked
 * and a SIGHUP to the process group reloads each worker once. */
#define GW_WORKER_DRAIN SIGUSR2
#define GW_WORKER_STOP_NOW SIGUSR1
#define GW_WORKER_RELOAD (SIGRTMIN + 1)

/* A worker that cannot start (what the single process would exit 1 for, after its config loaded)
 * exits with this status: the supervisor does not fork it again (it would fail the same way) but
 * stops the other workers and exits 1, as the single process would. */
enum { GW_WORKER_START_FAILED = 3 };

struct gw_workers;

struct gw_workers_conf {
    int n;             /* workers, >= 1 */
    const char *host;  /* the listening address, as WEB_SERVER_ADDRESS gives it */
    int port;          /* 0: the OS picks one, then every slot binds it */
    size_t slot_bytes; /* the shared area per worker (zeroed at the start) */
    /* SIGHUP in the supervisor: loads and checks the config file again (and keeps it, for the
     * workers forked after: they start from it, never from the file); returns its
     * GATEWAY.workers, or -1 (the reason logged) when the file is refused. */
    int (*check_config)(void *arg);
    /* A worker is gone (exited or killed): its gauges in the shared area go back to zero (its
     * counters stay in the totals). */
    void (*worker_gone)(void *arg, int index);
    void *arg;
};

/* What a worker is told when it returns from gw_workers_supervise. */
struct gw_worker_role {
    int index;     /* 0 .. n-1; logs say worker=index+1 */
    int listen_fd; /* its slot's listening socket: the worker owns it */
    int port;      /* the port bound */
    int workers;   /* how many there are */
    void *shared;  /* the shared area (gw_workers_shared) */
};

/* Opens the sockets and maps the shared area. Returns NULL with a reason in err (a port that is
 * taken, whether by a socket of SO_REUSEPORT or not: a port of its own is checked first). */
struct gw_workers *gw_workers_new(const struct gw_workers_conf *conf, char *err, size_t errlen);

/* The shared area: slot_bytes per worker, worker i's at i * slot_bytes. */
void *gw_workers_shared(const struct gw_workers *w);

/* Forks the workers and supervises them. In the supervisor it returns false once every worker has
 * stopped after SIGTERM or SIGINT, or after a worker could not start, with *status 0 when every one
 * stopped cleanly, else 1. In a worker it returns true with *role filled: the other slots' sockets
 * are closed, SIGHUP, SIGTERM, SIGINT and the three GW_WORKER_ signals blocked until
 * gw_workers_signals_ready, the others as they were; the worker gets SIGTERM when the supervisor
 * dies. */
bool gw_workers_supervise(struct gw_workers *w, struct gw_worker_role *role, int *status);

/* In the single process, before it listens: blocks SIGHUP, SIGTERM and SIGINT until
 * gw_workers_signals_ready, as a worker has them from its fork on, so one that comes while the
 * process starts (it accepts connections from its listen on) waits instead of killing it. In a
 * worker whose loop is closing (its signal handles gone), the same and its supervisor's words. */
void gw_workers_signals_hold(void);

/* In a worker or the single process, once its loop handles SIGHUP, SIGTERM and SIGINT (and a
 * worker the GW_WORKER_ signals): lets them in (one that came meanwhile is handled now). */
void gw_workers_signals_ready(void);

/* Unmaps the shared area and closes the sockets the caller still holds. NULL is a no-op. */
void gw_workers_free(struct gw_workers *w);

#endif
