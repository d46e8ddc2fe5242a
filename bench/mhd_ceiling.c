/* mhd_ceiling.c - the HTTP ceiling: a bare libmicrohttpd server answering a constant
 * (bench/run.sh).
 *
 * It answers every request with 200 and the body enoki sends for GET /echo/42 ({"value":42},
 * Content-Type: application/json), from one response object built at start. The access handler is
 * called twice per request, as MHD's usual pattern (and enoki) has it: once for the head, once to
 * answer. So it measures what libmicrohttpd itself costs on this machine, and nothing of enoki's.
 *
 * One thread, one epoll loop, two ways to run it:
 *  - default: as enoki drives MHD (gateway/http_mhd.c): MHD_USE_EPOLL without a thread of its own; this
 *    loop waits on MHD's epoll fd for at most MHD_get_timeout(), then calls MHD_run();
 *  - --internal-thread: MHD_USE_EPOLL_INTERNAL_THREAD, MHD's own epoll thread.
 * The second stalls in libmicrohttpd 0.9.75 once 128 or more connections are ready at once (≥ 128
 * connections under load): MHD_epoll() drains events with `while (MAX_EVENTS == num_events)
 * epoll_wait(..., timeout_ms)`, and after a full batch of 128 it blocks in epoll_wait with its idle
 * timeout while every client waits for a response still unsent. Through MHD_run() the timeout is
 * 0, so the default mode (enoki's) does not stall. bench/README.md has the measurements.
 *
 * Usage: mhd_ceiling --port N [--internal-thread]
 * Prints "ready: port N" on stdout once it listens; runs until SIGTERM or SIGINT.
 */
#include <errno.h>
#include <limits.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOOL "mhd_ceiling"

static const char body[] = "{\"value\":42}";
static volatile sig_atomic_t stop;

static void on_signal(int signum)
{
    (void)signum;
    stop = 1;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *connection, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    (void)url;
    (void)method;
    (void)version;
    (void)upload_data;
    static int seen;
    if (*con_cls == NULL) {
        *con_cls = &seen;
        return MHD_YES;
    }
    *upload_data_size = 0;
    return MHD_queue_response(connection, MHD_HTTP_OK, cls);
}

int main(int argc, char **argv)
{
    int port = 0;
    bool internal = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (strcmp(argv[i], "--internal-thread") == 0)
            internal = true;
        else
            port = -1;
    }
    if (port <= 0 || port > 65535) {
        fprintf(stderr, "usage: " TOOL " --port N [--internal-thread]\n");
        return 2;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    if (internal) {
        /* Blocked before MHD starts its thread, so the thread inherits the mask and sigwait gets
         * them. */
        pthread_sigmask(SIG_BLOCK, &signals, NULL);
    }

    struct MHD_Response *response = MHD_create_response_from_buffer(
        sizeof(body) - 1, (void *)(uintptr_t)body, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    unsigned flags = MHD_USE_ERROR_LOG | (internal ? MHD_USE_EPOLL_INTERNAL_THREAD : MHD_USE_EPOLL);
    struct MHD_Daemon *daemon = MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, on_access, response, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)20000, MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60, MHD_OPTION_END);
    if (!daemon) {
        fprintf(stderr, TOOL ": cannot start libmicrohttpd on port %d\n", port);
        return 1;
    }
    printf("ready: port %d (%s)\n", port,
           internal ? "MHD_USE_EPOLL_INTERNAL_THREAD" : "MHD_USE_EPOLL + MHD_run");
    fflush(stdout);
    if (internal) {
        int signum;
        sigwait(&signals, &signum);
    } else {
        const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_EPOLL_FD);
        struct pollfd pfd = {.fd = info->epoll_fd, .events = POLLIN};
        while (!stop) {
            MHD_UNSIGNED_LONG_LONG next;
            int timeout = 1000;
            if (MHD_get_timeout(daemon, &next) == MHD_YES && next < (MHD_UNSIGNED_LONG_LONG)timeout)
                timeout = (int)next;
            if (poll(&pfd, 1, timeout) < 0 && errno != EINTR) {
                perror(TOOL ": poll");
                break;
            }
            MHD_run(daemon);
        }
    }
    MHD_stop_daemon(daemon);
    MHD_destroy_response(response);
    return 0;
}
