#define _GNU_SOURCE /* prctl's PR_SET_PDEATHSIG */
#include "workers.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "gateway/listener.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A worker that dies is forked again after BACKOFF_FIRST_MS, doubling at each death up to
 * BACKOFF_MAX_MS; one that ran STEADY_MS or longer starts the doubling again. */
enum { BACKOFF_FIRST_MS = 100, BACKOFF_MAX_MS = 10000, STEADY_MS = 10000 };
#define NS_PER_MS 1000000ull

struct slot {
    int fd;              /* the slot's listening socket; -1 once closed */
    pid_t pid;           /* 0: no worker */
    uint64_t started;    /* gw_now_ns of its fork */
    uint64_t restart_at; /* when the replacement is due; 0: none pending */
    unsigned backoff_ms; /* the next death's delay */
    unsigned forks;      /* workers forked in this slot */
};

struct gw_workers {
    struct gw_workers_conf conf;
    struct slot *slots;
    int port;
    void *shared;
    size_t shared_bytes;
    pid_t supervisor;
    sigset_t handled, old_mask;
    bool stopping, failed;
    bool masked; /* handled is blocked here, by gw_workers_new: old_mask is restored at the end */
    int alive;
    int stop_signals; /* SIGTERM and SIGINT taken */
};

/* Set in a worker from its fork: its loop takes the supervisor's words too. */
static bool worker_words;

/* The supervisor's words to its workers (workers.h). */
static void add_words(sigset_t *set)
{
    sigaddset(set, GW_WORKER_DRAIN);
    sigaddset(set, GW_WORKER_STOP_NOW);
    sigaddset(set, GW_WORKER_RELOAD);
}

struct gw_workers *gw_workers_new(const struct gw_workers_conf *conf, char *err, size_t errlen)
{
    struct gw_workers *w = xcalloc(1, sizeof(*w));
    w->conf = *conf;
    w->slots = xcalloc((size_t)conf->n, sizeof(*w->slots));
    w->port = conf->port;
    for (int i = 0; i < conf->n; i++)
        w->slots[i].fd = -1;
    sigemptyset(&w->handled);
    sigaddset(&w->handled, SIGCHLD);
    sigaddset(&w->handled, SIGHUP);
    sigaddset(&w->handled, SIGTERM);
    sigaddset(&w->handled, SIGINT);
    /* The supervisor's words to its workers are taken too, and ignored, should anyone send them
     * to the supervisor: left pending, one would kill it when its mask is restored at the end. */
    add_words(&w->handled);
    /* Blocked before the first listen: from then on clients may take enoki for started, and a
     * SIGTERM must drain it, not kill it (as one process blocks them before it listens). Also
     * before the first fork: a signal that comes before sigtimedwait waits for it, and a worker
     * is born with its supervisor's words blocked (one sent before its loop handles them waits
     * for it). */
    sigprocmask(SIG_BLOCK, &w->handled, &w->old_mask);
    w->masked = true;
    if (w->port != 0 && !gw_listen_port_free(conf->host, w->port, err, errlen)) {
        gw_workers_free(w);
        return NULL;
    }
    for (int i = 0; i < conf->n; i++) {
        /* Port 0: the first socket gets one from the OS, the others join it. */
        w->slots[i].fd = gw_listen_open(conf->host, w->port, true, &w->port, err, errlen);
        if (w->slots[i].fd < 0) {
            gw_workers_free(w);
            return NULL;
        }
        w->slots[i].backoff_ms = BACKOFF_FIRST_MS;
    }
    w->shared_bytes = conf->slot_bytes * (size_t)conf->n;
    if (w->shared_bytes) {
        w->shared =
            mmap(NULL, w->shared_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (w->shared == MAP_FAILED) {
            snprintf(err, errlen, "the workers' shared memory (%zu bytes): %s", w->shared_bytes,
                     strerror(errno));
            w->shared = NULL;
            gw_workers_free(w);
            return NULL;
        }
    }
    return w;
}

void *gw_workers_shared(const struct gw_workers *w)
{
    return w->shared;
}

void gw_workers_free(struct gw_workers *w)
{
    if (!w)
        return;
    if (w->masked) /* never supervised (or the start failed): the mask as it was */
        sigprocmask(SIG_SETMASK, &w->old_mask, NULL);
    for (int i = 0; i < w->conf.n; i++)
        if (w->slots[i].fd >= 0)
            close(w->slots[i].fd);
    if (w->shared)
        munmap(w->shared, w->shared_bytes);
    free(w->slots);
    free(w);
}

/* In the new worker: only its own socket stays; the signals it handles wait for its loop. */
static void become_worker(struct gw_workers *w, int index, struct gw_worker_role *role)
{
    for (int i = 0; i < w->conf.n; i++)
        if (i != index && w->slots[i].fd >= 0)
            close(w->slots[i].fd);
    *role = (struct gw_worker_role){
        .index = index,
        .listen_fd = w->slots[index].fd,
        .port = w->port,
        .workers = w->conf.n,
        .shared = w->shared,
    };
    for (int i = 0; i < w->conf.n; i++)
        w->slots[i].fd = -1; /* closed, or the worker's now */
    /* SIGHUP, SIGTERM, SIGINT and the supervisor's words stay blocked until the worker's loop
     * handles them (gw_workers_signals_ready): one forwarded in between waits instead of killing
     * it. A worker whose supervisor is gone drains and stops rather than live on unsupervised; the
     * supervisor may have died before the prctl: then the signal is raised here, and waits
     * likewise. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    worker_words = true;
    sigset_t child = w->handled;
    sigdelset(&child, SIGCHLD);
    sigset_t mask = w->old_mask;
    for (int signum = 1; signum < NSIG; signum++)
        if (sigismember(&child, signum))
            sigaddset(&mask, signum);
    sigprocmask(SIG_SETMASK, &mask, NULL);
    w->masked = false; /* the worker's own mask from here */
    if (getppid() != w->supervisor)
        raise(SIGTERM);
}

/* Forks slot index's worker; returns true in the worker. */
static bool start_worker(struct gw_workers *w, int index, struct gw_worker_role *role)
{
    struct slot *s = &w->slots[index];
    s->restart_at = 0;
    gw_log_flush();
    pid_t pid = fork();
    if (pid == 0) {
        become_worker(w, index, role);
        return true;
    }
    if (pid < 0) {
        gw_error("workers", "fork of worker %d: %s; trying again in %u ms", index + 1,
                 strerror(errno), s->backoff_ms);
        s->restart_at = gw_now_ns() + s->backoff_ms * NS_PER_MS;
        return false;
    }
    s->pid = pid;
    s->forks++;
    s->started = gw_now_ns();
    w->alive++;
    gw_info("workers", "worker %d started (pid %d)", index + 1, (int)pid);
    return false;
}

static void describe_exit(int status, char *buf, size_t len)
{
    if (WIFSIGNALED(status))
        snprintf(buf, len, "was killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
}

static void begin_stop(struct gw_workers *w);

/* Collects every worker that has ended; schedules the replacements. */
static void reap(struct gw_workers *w)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        int index = 0;
        while (index < w->conf.n && w->slots[index].pid != pid)
            index++;
        if (index == w->conf.n)
            continue; /* not a worker's */
        struct slot *s = &w->slots[index];
        s->pid = 0;
        w->alive--;
        if (w->conf.worker_gone)
            w->conf.worker_gone(w->conf.arg, index);
        char how[96];
        describe_exit(status, how, sizeof(how));
        bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (w->stopping) {
            if (!clean)
                w->failed = true;
            gw_log(clean ? GW_LOG_INFO : GW_LOG_ERROR, "workers", "worker %d (pid %d) %s",
                   index + 1, (int)pid, how);
            continue;
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == GW_WORKER_START_FAILED && s->forks == 1) {
            /* The slot's first worker: it would fail the same way again (its reason is in its
             * lines above). A replacement that cannot start may have met a passing shortage, and
             * is forked again below. */
            gw_error("workers", "worker %d (pid %d) could not start; stopping the others",
                     index + 1, (int)pid);
            w->failed = true;
            begin_stop(w);
            continue;
        }
        uint64_t now = gw_now_ns();
        if (now - s->started >= STEADY_MS * NS_PER_MS)
            s->backoff_ms = BACKOFF_FIRST_MS;
        gw_error("workers", "worker %d (pid %d) %s; restarting it in %.1f s", index + 1, (int)pid,
                 how, s->backoff_ms / 1000.0);
        s->restart_at = now + s->backoff_ms * NS_PER_MS;
        s->backoff_ms = s->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : s->backoff_ms * 2;
    }
}

static void forward(struct gw_workers *w, int signum)
{
    for (int i = 0; i < w->conf.n; i++)
        if (w->slots[i].pid > 0)
            kill(w->slots[i].pid, signum);
}

static void on_reload(struct gw_workers *w)
{
    int workers = w->conf.check_config(w->conf.arg);
    if (workers < 0)
        return; /* logged; the workers keep their config */
    if (workers != w->conf.n)
        gw_warn("workers",
                "GATEWAY.workers is now %d: the number of workers changes at restart (%d run)",
                workers, w->conf.n);
    gw_info("workers", "SIGHUP: passed on to %d worker(s)", w->alive);
    forward(w, GW_WORKER_RELOAD);
}

/* No new connections: the supervisor's copies of the sockets go, no worker is forked again, and
 * each worker closes its own socket as it begins to drain. */
static void begin_stop(struct gw_workers *w)
{
    for (int i = 0; i < w->conf.n; i++) {
        if (w->slots[i].fd >= 0)
            close(w->slots[i].fd);
        w->slots[i].fd = -1;
        w->slots[i].restart_at = 0;
    }
    w->stopping = true;
    forward(w, GW_WORKER_DRAIN);
}

/* The first SIGTERM or SIGINT drains the workers, a later one stops them at once (workers.h). */
static void on_stop(struct gw_workers *w, int signum)
{
    if (++w->stop_signals > 1) {
        gw_warn("workers", "signal %d again: the workers stop at once", signum);
        forward(w, GW_WORKER_STOP_NOW);
        return;
    }
    gw_info("workers", "signal %d: passed on to %d worker(s); waiting for them to drain", signum,
            w->alive);
    if (!w->stopping)
        begin_stop(w);
}

/* How long to wait for a signal: until the next restart is due, at most a second. */
static struct timespec next_wait(const struct gw_workers *w)
{
    uint64_t now = gw_now_ns(), wait = 1000 * NS_PER_MS;
    for (int i = 0; i < w->conf.n; i++) {
        uint64_t at = w->slots[i].restart_at;
        if (at && !w->stopping)
            wait = at <= now ? 0 : (at - now < wait ? at - now : wait);
    }
    return (struct timespec){.tv_sec = (time_t)(wait / 1000000000ull),
                             .tv_nsec = (long)(wait % 1000000000ull)};
}

static void loop_signals(int how)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (worker_words)
        add_words(&set);
    sigprocmask(how, &set, NULL);
}

void gw_workers_signals_hold(void)
{
    loop_signals(SIG_BLOCK);
}

void gw_workers_signals_ready(void)
{
    loop_signals(SIG_UNBLOCK);
}

static bool restart_pending(const struct gw_workers *w)
{
    for (int i = 0; i < w->conf.n && !w->stopping; i++)
        if (w->slots[i].restart_at)
            return true;
    return false;
}

/* Takes what came after the last worker ended: left pending, a SIGHUP or one of the words would
 * kill the supervisor as its mask is restored, instead of letting it exit with its status. */
static void take_late_signals(const sigset_t *set)
{
    const struct timespec now = {0};
    int signum;
    while ((signum = sigtimedwait(set, NULL, &now)) > 0 || (signum < 0 && errno == EINTR))
        if (signum > 0 && signum != SIGCHLD)
            gw_info("workers", "signal %d after the last worker stopped: ignored", signum);
}

bool gw_workers_supervise(struct gw_workers *w, struct gw_worker_role *role, int *status)
{
    w->supervisor = getpid();
    sigset_t words;
    sigemptyset(&words);
    add_words(&words);
    gw_info("workers", "supervising %d workers on port %d", w->conf.n, w->port);
    for (int i = 0; i < w->conf.n; i++)
        if (start_worker(w, i, role))
            return true;
    while (w->alive > 0 || restart_pending(w)) {
        struct timespec wait = next_wait(w);
        siginfo_t info;
        int signum = sigtimedwait(&w->handled, &info, &wait);
        if (signum == SIGHUP && !w->stopping)
            on_reload(w);
        else if (signum == SIGTERM || signum == SIGINT)
            on_stop(w, signum);
        else if (signum > 0 && sigismember(&words, signum))
            gw_warn("workers", "signal %d is the supervisor's word to its workers; ignored",
                    signum);
        reap(w);
        uint64_t now = gw_now_ns();
        for (int i = 0; i < w->conf.n && !w->stopping; i++)
            if (w->slots[i].restart_at && w->slots[i].restart_at <= now && start_worker(w, i, role))
                return true;
    }
    take_late_signals(&w->handled);
    sigprocmask(SIG_SETMASK, &w->old_mask, NULL);
    w->masked = false;
    gw_log(w->failed ? GW_LOG_ERROR : GW_LOG_INFO, "workers", "every worker has stopped%s",
           w->failed ? "; some did not stop cleanly" : "");
    *status = w->failed ? 1 : 0;
    return false;
}
