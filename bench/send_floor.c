/* send_floor.c - the machine's floor under a broadcast (bench/run.sh; issue 20, point 3): what one
 * process spends to put one small frame on each of N loopback TCP sockets, with no websocket
 * library, no hub and no broker, against a reader like fanout_bench's.
 *
 * The process listens on 127.0.0.1 and forks: the child (the reader, on --reader-cpu if given)
 * connects N sockets and reads them over epoll, once per wake-up, as fanout_bench does; the parent
 * (the writer, on the CPU it was started on, enoki's in the harness) accepts them, then for each
 * round takes the time, sends the same 84-byte websocket text frame (a hub event's size) to every
 * socket with one send() each, and waits until the reader has every frame of the round. The
 * reader takes the time of the round's last byte and passes it back through a pipe; a round's time
 * is from before the first send to that. --warmup rounds (5) come first and are not counted but
 * the first's time, as in fanout_bench.
 *
 * Over loopback a send also does the receiving socket's TCP work, on the sender's CPU: that is the
 * part of a broadcast no gateway can avoid on one core, and what enoki's figure is set against.
 *
 * Usage: send_floor [--sockets N] [--rounds R] [--warmup W] [--reader-cpu C]
 * Output: "RESULT mode=floor sockets=N rounds=R p50_us=... p99_us=... max_us=... warmup=W
 *          first_us=..."; on stderr "rounds_us ..." (each counted round's time, in order).
 */
#define _GNU_SOURCE
#include "bench/bench_common.h"

#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define TOOL "send_floor"

/* A hub event as enoki sends it to a socket: FIN + text, a 7-bit length, no mask. */
static const char PAYLOAD[] = "{\"type\": \"event\", \"channel\": \"fanout\", \"event\": \"tick\", "
                              "\"data\": {\"seq\": 12345}}";
enum { FRAME_LEN = 2 + sizeof(PAYLOAD) - 1, EVENTS = 1024 };

static void pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0)
        bench_die(TOOL, "CPU %d: %s", cpu, strerror(errno));
}

static void write_all(int fd, const void *buf, size_t len)
{
    if (write(fd, buf, len) != (ssize_t)len)
        bench_die(TOOL, "pipe write: %s", strerror(errno));
}

static void read_all(int fd, void *buf, size_t len)
{
    for (size_t got = 0; got < len;) {
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n <= 0)
            bench_die(TOOL, "pipe read: %s", n == 0 ? "closed" : strerror(errno));
        got += (size_t)n;
    }
}

/* The child: N sockets connected and read; for each round, the time of its last byte. */
static void reader(int port, size_t n, int rounds, int to_writer, int reader_cpu)
{
    if (reader_cpu >= 0)
        pin(reader_cpu);
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons((uint16_t)port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    for (size_t i = 0; i < n; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            bench_die(TOOL, "socket %zu: %s", i, strerror(errno));
        if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 && errno != EINPROGRESS)
            bench_die(TOOL, "connect %zu: %s", i, strerror(errno));
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
        epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
    }
    write_all(to_writer, "r", 1);
    const uint64_t want = (uint64_t)n * FRAME_LEN;
    uint64_t got = 0;
    char buf[4096];
    struct epoll_event events[EVENTS];
    for (int round = 0; round < rounds;) {
        int k = epoll_wait(epfd, events, EVENTS, -1);
        if (k < 0 && errno != EINTR)
            bench_die(TOOL, "epoll_wait: %s", strerror(errno));
        for (int i = 0; i < k; i++) {
            ssize_t r = read(events[i].data.fd, buf, sizeof(buf));
            if (r <= 0)
                bench_die(TOOL, "read: %s", r == 0 ? "closed" : strerror(errno));
            got += (uint64_t)r;
        }
        if (got >= want) {
            if (got > want)
                bench_die(TOOL, "round %d: %llu bytes, %llu sent", round, (unsigned long long)got,
                          (unsigned long long)want);
            uint64_t end = bench_now_ns();
            write_all(to_writer, &end, sizeof(end));
            got = 0;
            round++;
        }
    }
    _exit(0);
}

int main(int argc, char **argv)
{
    size_t n = 10000;
    int rounds = 50, warmup = 5, reader_cpu = -1;
    for (int i = 1; i < argc; i++) {
        if (i + 1 == argc)
            bench_die(TOOL, "%s: unknown option, or its value missing", argv[i]);
        const char *a = argv[i], *v = argv[++i];
        if (strcmp(a, "--sockets") == 0)
            n = (size_t)strtoul(v, NULL, 10);
        else if (strcmp(a, "--rounds") == 0)
            rounds = atoi(v);
        else if (strcmp(a, "--warmup") == 0)
            warmup = atoi(v);
        else if (strcmp(a, "--reader-cpu") == 0)
            reader_cpu = atoi(v);
        else
            bench_die(TOOL, "unknown option %s", a);
    }
    if (n == 0 || rounds < 1 || warmup < 1)
        bench_die(TOOL, "usage: send_floor [--sockets N] [--rounds R] [--warmup W] "
                        "[--reader-cpu C] (N, R, W at least 1)");

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(addr);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
        getsockname(lfd, (struct sockaddr *)&addr, &alen) != 0 || listen(lfd, 4096) != 0)
        bench_die(TOOL, "listen: %s", strerror(errno));
    int pipefd[2];
    if (pipe(pipefd) != 0)
        bench_die(TOOL, "pipe: %s", strerror(errno));
    pid_t child = fork();
    if (child < 0)
        bench_die(TOOL, "fork: %s", strerror(errno));
    if (child == 0) {
        close(pipefd[0]);
        close(lfd);
        reader(ntohs(addr.sin_port), n, warmup + rounds, pipefd[1], reader_cpu);
    }
    close(pipefd[1]);
    int *fds = calloc(n, sizeof(*fds));
    if (!fds)
        abort();
    for (size_t i = 0; i < n; i++)
        if ((fds[i] = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
            bench_die(TOOL, "accept %zu: %s", i, strerror(errno));
    char ready;
    read_all(pipefd[0], &ready, 1);

    char frame[FRAME_LEN];
    frame[0] = (char)0x81;
    frame[1] = (char)(sizeof(PAYLOAD) - 1);
    memcpy(frame + 2, PAYLOAD, sizeof(PAYLOAD) - 1);
    struct bench_samples lat = {0};
    uint64_t first_ns = 0;
    for (int round = 0; round < warmup + rounds; round++) {
        uint64_t start = bench_now_ns(), end;
        for (size_t i = 0; i < n; i++)
            if (send(fds[i], frame, FRAME_LEN, MSG_DONTWAIT | MSG_NOSIGNAL) != FRAME_LEN)
                bench_die(TOOL, "send to socket %zu: %s", i, strerror(errno));
        read_all(pipefd[0], &end, sizeof(end));
        if (round == 0)
            first_ns = end - start;
        if (round >= warmup)
            bench_samples_add(&lat, end - start);
    }
    int status;
    waitpid(child, &status, 0);
    bench_samples_print(&lat);
    uint32_t p50 = bench_quantile(lat.v, lat.n, 0.50), p99 = bench_quantile(lat.v, lat.n, 0.99);
    uint32_t max = bench_quantile(lat.v, lat.n, 1.0);
    printf("RESULT mode=floor sockets=%zu rounds=%d p50_us=%u p99_us=%u max_us=%u warmup=%d "
           "first_us=%llu\n",
           n, rounds, p50, p99, max, warmup, (unsigned long long)(first_ns / 1000));
    return 0;
}
