/* startup_time.c - start-up time of a server (bench/run.sh): from exec to its first 200.
 *
 * Runs COMMAND, then polls two URLs on 127.0.0.1 every 0.5 ms (a fresh connection and a
 * "GET <path> HTTP/1.0" each time) until each answers 200: the liveness path first (/healthz),
 * then the readiness path (/readyz, which in enoki also needs the broker connection and the reply
 * consumer). The clock starts just before fork(). Then it sends SIGTERM, waits for the exit, and
 * starts over: --runs times in all.
 *
 * Usage: startup_time --port P [--health /healthz] [--ready /readyz] [--runs N] [--log FILE]
 *                     -- COMMAND [ARG]...
 * Output: one line per run, then "RESULT healthz_ms=<median> readyz_ms=<median> runs=N".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TOOL "startup_time"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Returns the HTTP status of GET path on 127.0.0.1:port, or -1 when nothing answered. */
static int get_status(int port, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int status = -1;
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
        char req[512], resp[64];
        int len = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
        if (write(fd, req, (size_t)len) == len) {
            size_t got = 0;
            while (got < 12) {
                ssize_t n = read(fd, resp + got, sizeof(resp) - 1 - got);
                if (n <= 0)
                    break;
                got += (size_t)n;
            }
            resp[got] = '\0';
            if (got >= 12 && strncmp(resp, "HTTP/1.", 7) == 0)
                status = atoi(resp + 9);
        }
    }
    close(fd);
    return status;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    int port = 0, runs = 3, cmd = 0;
    const char *health = "/healthz", *ready = "/readyz", *log = "/dev/null";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            cmd = i + 1;
            break;
        }
        if (i + 1 >= argc)
            break;
        if (strcmp(argv[i], "--port") == 0)
            port = atoi(argv[++i]);
        else if (strcmp(argv[i], "--health") == 0)
            health = argv[++i];
        else if (strcmp(argv[i], "--ready") == 0)
            ready = argv[++i];
        else if (strcmp(argv[i], "--runs") == 0)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--log") == 0)
            log = argv[++i];
    }
    if (port <= 0 || runs < 1 || runs > 100 || cmd == 0 || cmd >= argc) {
        fprintf(stderr, "usage: " TOOL " --port P [--health PATH] [--ready PATH] [--runs N] "
                        "[--log FILE] -- COMMAND [ARG]...\n");
        return 2;
    }
    if (get_status(port, health) != -1) {
        fprintf(stderr, TOOL ": something already answers on port %d\n", port);
        return 1;
    }
    double health_ms[100], ready_ms[100];
    for (int r = 0; r < runs; r++) {
        uint64_t t0 = now_ns();
        pid_t pid = fork();
        if (pid < 0) {
            perror(TOOL ": fork");
            return 1;
        }
        if (pid == 0) {
            int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
            if (fd >= 0) {
                dup2(fd, 1);
                dup2(fd, 2);
                close(fd);
            }
            execvp(argv[cmd], &argv[cmd]);
            _exit(127);
        }
        health_ms[r] = ready_ms[r] = -1;
        uint64_t give_up = t0 + 30ULL * 1000000000ULL;
        const struct timespec pause = {0, 500000};
        while (now_ns() < give_up && ready_ms[r] < 0) {
            int status;
            if (waitpid(pid, &status, WNOHANG) == pid) {
                fprintf(stderr, TOOL ": the server exited before it was ready (see %s)\n", log);
                return 1;
            }
            if (health_ms[r] < 0 && get_status(port, health) == 200)
                health_ms[r] = (double)(now_ns() - t0) / 1e6;
            if (health_ms[r] >= 0 && get_status(port, ready) == 200)
                ready_ms[r] = (double)(now_ns() - t0) / 1e6;
            if (ready_ms[r] < 0)
                nanosleep(&pause, NULL);
        }
        kill(pid, SIGTERM);
        int status;
        uint64_t kill_at = now_ns() + 10ULL * 1000000000ULL;
        while (waitpid(pid, &status, WNOHANG) == 0) {
            if (now_ns() > kill_at) {
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
                break;
            }
            nanosleep(&pause, NULL);
        }
        if (ready_ms[r] < 0) {
            fprintf(stderr, TOOL ": not ready within 30 s (see %s)\n", log);
            return 1;
        }
        printf("run %d: %s 200 after %.1f ms, %s 200 after %.1f ms\n", r + 1, health, health_ms[r],
               ready, ready_ms[r]);
    }
    printf("RESULT healthz_ms=%.1f readyz_ms=%.1f runs=%d\n", median(health_ms, runs),
           median(ready_ms, runs), runs);
    return 0;
}
