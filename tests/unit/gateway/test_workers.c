#include "gateway/workers.h"

#include "gateway/listener.h"

#include "tests/unit/suites.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The supervisor runs in the test's process; its workers are forked children that tell the test
 * what they saw through a pipe, one line each: "start <worker>", "<worker> reload", "<worker>
 * drain", "<worker> stop now". A worker that begins to drain exits 0. */

static int report_fd = -1;
static int gone;

static int check_config(void *arg)
{
    (void)arg;
    return 2;
}

static void worker_gone(void *arg, int index)
{
    (void)arg;
    (void)index;
    gone++;
}

static void report(const char *line)
{
    ssize_t n = write(report_fd, line, strlen(line));
    (void)n;
}

/* In a worker: waits (the GW_WORKER_ signals are blocked from the fork) for the supervisor's words,
 * at most 5 s for the first, then 0.3 s for each next one, three at most. */
static void worker_waits(int index)
{
    char line[64];
    snprintf(line, sizeof(line), "start %d\n", index + 1);
    report(line);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, GW_WORKER_DRAIN);
    sigaddset(&set, GW_WORKER_STOP_NOW);
    sigaddset(&set, GW_WORKER_RELOAD);
    struct timespec wait = {.tv_sec = 5};
    for (int got = 0; got < 3;) {
        int signum = sigtimedwait(&set, NULL, &wait);
        if (signum < 0 && errno == EINTR)
            continue;
        if (signum < 0)
            break;
        snprintf(line, sizeof(line), "%d %s\n", index + 1,
                 signum == GW_WORKER_DRAIN      ? "drain"
                 : signum == GW_WORKER_STOP_NOW ? "stop now"
                                                : "reload");
        report(line);
        got++;
        wait = (struct timespec){.tv_nsec = 300 * 1000 * 1000};
    }
    _exit(0);
}

/* n workers on 127.0.0.1:port (0: a port of the OS's); on_gone is told of each one reaped. */
static struct gw_workers_conf test_conf(int n, int port, void (*on_gone)(void *arg, int index))
{
    return (struct gw_workers_conf){.n = n,
                                    .host = "127.0.0.1",
                                    .port = port,
                                    .slot_bytes = 64,
                                    .check_config = check_config,
                                    .worker_gone = on_gone};
}

/* Runs a supervisor of two workers on a port of the OS's; each worker runs worker_fn. Returns the
 * supervisor's status, and what the workers reported in out. */
static int supervise(void (*worker_fn)(int index), char *out, size_t outlen)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    report_fd = fds[1];
    gone = 0;
    struct gw_workers_conf conf = test_conf(2, 0, worker_gone);
    char err[256];
    struct gw_workers *w = gw_workers_new(&conf, err, sizeof(err));
    ck_assert_msg(w != NULL, "%s", err);
    struct gw_worker_role role;
    int status = -1;
    if (gw_workers_supervise(w, &role, &status))
        worker_fn(role.index); /* never returns */
    gw_workers_free(w);
    close(fds[1]);
    size_t len = 0;
    ssize_t n;
    while (len + 1 < outlen && (n = read(fds[0], out + len, outlen - 1 - len)) > 0)
        len += (size_t)n;
    out[len] = '\0';
    close(fds[0]);
    return status;
}

static int count(const char *text, const char *what)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, what)) != NULL; p += strlen(what))
        n++;
    return n;
}

/* Two signals waiting before the supervisor looks: the first (whichever it takes first) is passed
 * on as the word to drain, the second as the word to stop at once; not as SIGTERM or SIGINT, which
 * a worker given the same signal by its sender (a signal to the whole process group) would count
 * as its second. A SIGHUP (taken before them: the lowest number) is passed on as the word to
 * reload, not as SIGHUP, which a worker would also get from the sender of a signal to the group. */
START_TEST(first_signal_drains_the_second_stops_at_once)
{
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, GW_WORKER_STOP_NOW);
    sigaddset(&set, GW_WORKER_RELOAD);
    sigprocmask(SIG_BLOCK, &set, &old);
    raise(SIGHUP);
    raise(SIGTERM);
    raise(SIGINT);
    /* The supervisor's words to its workers, sent to the supervisor: taken and ignored (left
     * pending, one would kill this process when the mask below is restored). */
    raise(GW_WORKER_STOP_NOW);
    raise(GW_WORKER_RELOAD);
    char out[512];
    int status = supervise(worker_waits, out, sizeof(out));
    sigprocmask(SIG_SETMASK, &old, NULL);
    ck_assert_int_eq(status, 0);
    ck_assert_int_eq(count(out, "start "), 2);
    ck_assert_msg(strstr(out, "1 drain\n") && strstr(out, "2 drain\n"), "%s", out);
    ck_assert_msg(strstr(out, "1 stop now\n") && strstr(out, "2 stop now\n"), "%s", out);
    ck_assert_msg(strstr(out, "1 reload\n") && strstr(out, "2 reload\n"), "%s", out);
    ck_assert_int_eq(gone, 2);
}
END_TEST

static void worker_fails_to_start(int index)
{
    if (index == 0) {
        report("start 1\n");
        _exit(GW_WORKER_START_FAILED);
    }
    worker_waits(index);
}

/* A worker that cannot start is not forked again: the supervisor drains the others and fails. */
START_TEST(a_worker_that_cannot_start_stops_them_all)
{
    char out[512];
    int status = supervise(worker_fails_to_start, out, sizeof(out));
    ck_assert_int_eq(status, 1);
    ck_assert_int_eq(count(out, "start 1"), 1);
    ck_assert_int_eq(count(out, "start 2"), 1);
    ck_assert_msg(strstr(out, "2 drain\n") != NULL, "%s", out);
    ck_assert_int_eq(gone, 2);
}
END_TEST

static char fork_log[64];

/* Worker 1's first fork dies, its second cannot start, its third stops the supervisor. */
static void replacement_fails_to_start(int index)
{
    if (index == 1)
        worker_waits(index);
    FILE *f = fopen(fork_log, "a");
    fputc('x', f);
    long forks = ftell(f);
    fclose(f);
    if (forks == 1) {
        report("start 1\n");
        _exit(1);
    }
    if (forks == 2) {
        report("start 1\n");
        _exit(GW_WORKER_START_FAILED);
    }
    kill(getppid(), SIGTERM);
    worker_waits(index);
}

/* Only a slot's first worker failing to start stops them all: a replacement that cannot start is
 * forked again (it may have met a passing shortage). */
START_TEST(a_replacement_that_cannot_start_is_forked_again)
{
    snprintf(fork_log, sizeof(fork_log), "/tmp/enoki-forks-%d", (int)getpid());
    unlink(fork_log);
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, &old);
    char out[512];
    int status = supervise(replacement_fails_to_start, out, sizeof(out));
    sigprocmask(SIG_SETMASK, &old, NULL);
    unlink(fork_log);
    ck_assert_int_eq(status, 0);
    ck_assert_int_eq(count(out, "start 1"), 3);
    ck_assert_msg(strstr(out, "1 drain\n") && strstr(out, "2 drain\n"), "%s", out);
}
END_TEST

/* With SO_REUSEPORT a second group would join a port another enoki's workers hold and share its
 * connections; the supervisor refuses a port taken either way. */
START_TEST(a_taken_port_is_refused)
{
    int port = 0;
    char err[256];
    int holder = gw_listen_open("127.0.0.1", 0, true, &port, err, sizeof(err));
    ck_assert_msg(holder >= 0, "%s", err);
    struct gw_workers_conf conf = test_conf(2, port, worker_gone);
    struct gw_workers *w = gw_workers_new(&conf, err, sizeof(err));
    ck_assert_ptr_null(w);
    ck_assert_msg(strstr(err, "Address already in use") != NULL, "%s", err);
    close(holder);
    /* Free again: the group opens. */
    w = gw_workers_new(&conf, err, sizeof(err));
    ck_assert_msg(w != NULL, "%s", err);
    gw_workers_free(w);
}
END_TEST

static void worker_cannot_start(int index)
{
    (void)index;
    _exit(GW_WORKER_START_FAILED);
}

/* Called by the supervisor as it reaps a worker: here the last one, so the word raised comes after
 * the last worker ended. */
static void word_after_the_last_worker(void *arg, int index)
{
    (void)arg;
    (void)index;
    raise(GW_WORKER_RELOAD);
}

/* The supervisor of the test below: reachable from here, valgrind's leak check in its worker (which
 * exits without freeing it) finds nothing lost, and the worker's status stays its own. */
static struct gw_workers *late_supervisor;

/* A signal that comes after the last worker ended is taken, not left to kill the supervisor when
 * its mask is restored: it exits with its status. The supervisor is a child of the test's process
 * here (killed, it would be the whole unit run under CK_FORK=no). */
START_TEST(a_late_signal_does_not_kill_the_supervisor)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct gw_workers_conf conf = test_conf(1, 0, word_after_the_last_worker);
        char err[256];
        late_supervisor = gw_workers_new(&conf, err, sizeof(err));
        if (!late_supervisor)
            _exit(2);
        struct gw_worker_role role;
        int status = -1;
        if (gw_workers_supervise(late_supervisor, &role, &status))
            worker_cannot_start(role.index); /* never returns */
        gw_workers_free(late_supervisor);
        sigset_t pending;
        sigpending(&pending);
        _exit(status == 1 && !sigismember(&pending, GW_WORKER_RELOAD) ? 0 : 3);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(!WIFSIGNALED(status), "the supervisor was killed by signal %d", WTERMSIG(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

Suite *workers_suite(void)
{
    Suite *s = suite_create("workers");
    TCase *tc = tcase_create("gateway");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, first_signal_drains_the_second_stops_at_once);
    tcase_add_test(tc, a_worker_that_cannot_start_stops_them_all);
    tcase_add_test(tc, a_replacement_that_cannot_start_is_forked_again);
    tcase_add_test(tc, a_late_signal_does_not_kill_the_supervisor);
    tcase_add_test(tc, a_taken_port_is_refused);
    suite_add_tcase(s, tc);
    return s;
}
