/* ws_bench.c - websocket load for enoki's hub (bench/run.sh): a raw RFC 6455 client over epoll.
 *
 * calls mode: N sockets each open /ws, wait for the hub's "connected" event, then call in a loop,
 * one call in flight per socket (the hub answers a socket's frames in order):
 *     >> {"method": "<service>.<method>", "data": {"value": <n>}, "correlation_id": <k>}
 *     << {"type": "result", "success": true, "data": ..., "correlation_id": <k>}
 * With --payload BYTES the value is a string of that many characters instead (words picked at
 * random for each call), which the result must echo.
 * --deflate offers permessage-deflate (RFC 7692; bench/ws_deflate.h), which the 101 must accept:
 * each call goes out deflated (RSV1) by one deflater per socket, keeping its context from call to
 * call as browsers do unless the server asks otherwise, and each compressed message is inflated
 * by one inflater per socket before it is checked as a plain one is.
 * Client frames are masked text frames. A message the server sends in several frames (RFC 6455
 * §5.4) is put together before it is read. Reports round trips/s and p50/p99 over the measured
 * window. Every result is checked (success true, the correlation id sent); a wrong one stops the
 * run.
 *
 * idle mode: opens N sockets (at most 256 handshakes at a time, below the listen backlog), waits
 * until every one got its "connected" event, prints "ready N" and holds them, answering pings,
 * until SIGTERM/SIGINT or --hold seconds. The caller reads the server's RSS meanwhile.
 *
 * Usage: ws_bench --port P [--host 127.0.0.1] [--path /ws] [--mode calls|idle] [--sockets N]
 *                 [--duration S] [--warmup S] [--target service.method] [--hold S]
 *                 [--payload BYTES] [--deflate]
 * Output (calls): "RESULT rps=... p50_us=... p99_us=... calls=... seconds=... sockets=N".
 * With --deflate it adds deflate_out=... deflate_in=...: compressed / plain bytes, each way.
 */
#include "bench/bench_common.h"
#include "bench/ws_client.h"
#include "bench/ws_deflate.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define TOOL "ws_bench"

/* BUF is a socket's first input buffer; it grows to hold a bigger frame. A message (one frame
 * or several) may be at most MAX_MESSAGE bytes. */
enum { BUF = 4096, MAX_MESSAGE = 16 << 20, MAX_PENDING_HANDSHAKES = 256 };

/* --payload's bound: enoki's websocket_max_frame is 1 MiB by default. */
enum { MAX_PAYLOAD = 1000000 };

enum state { CONNECTING, HANDSHAKE, WAIT_CONNECTED, OPEN, CLOSED };

struct sock {
    int fd;
    enum state state;
    uint64_t expect;   /* the correlation id of the call in flight, 0 when none */
    uint64_t start_ns; /* when it was sent */
    size_t len, cap;   /* bytes in buf, and its size */
    char *buf;
    /* A fragmented message being put together: its opcode (0 when none is open) and its bytes. */
    int msg_opcode;
    size_t msg_len, msg_cap;
    char *msg;
    char *sent; /* with --payload: the string the call in flight sent, which its result echoes */
    bool deflate, msg_deflated; /* permessage-deflate agreed; the open message is compressed */
    struct ws_deflate z;
};

struct bench {
    const char *host, *path, *target;
    int port, epfd;
    bool idle;
    struct sock *socks;
    size_t n, opened, connected, pending, closed;
    uint64_t next_id, rng;
    uint64_t measure_from, measure_until;
    bool calling;
    unsigned long measured;
    struct bench_samples lat;
    unsigned char *frame; /* scratch for an outgoing frame, grown as needed */
    size_t frame_cap;
    size_t payload; /* --payload: the length of the string each call sends, 0 for a number */
    char *text;     /* scratch for a call's JSON */
    size_t text_cap;
    bool deflate;                /* --deflate: offered, and every socket must get it */
    struct ws_bytes zout, plain; /* scratch: a deflated call, an inflated message */
    /* Bytes deflated and inflated, before and after, for the ratios printed with --deflate. */
    unsigned long long out_plain, out_wire, in_wire, in_plain;
};

static volatile sig_atomic_t stop;

static void on_signal(int signum)
{
    (void)signum;
    stop = 1;
}

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* Returns buf (of *cap bytes) grown to hold at least need bytes, and sets *cap. */
static void *grow(void *buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return buf;
    size_t n = *cap ? *cap : BUF;
    while (n < need)
        n *= 2;
    buf = realloc(buf, n);
    if (!buf)
        abort();
    *cap = n;
    return buf;
}

/* Sends one masked client frame; opcode may carry RSV1 (0x40). */
static void send_frame(struct bench *b, struct sock *s, int opcode, const char *payload, size_t len)
{
    b->frame = grow(b->frame, &b->frame_cap, len + 14);
    unsigned char *frame = b->frame;
    size_t h = 0;
    frame[h++] = (unsigned char)(0x80 | opcode);
    if (len < 126) {
        frame[h++] = (unsigned char)(0x80 | len);
    } else if (len < 65536) {
        frame[h++] = 0x80 | 126;
        frame[h++] = (unsigned char)(len >> 8);
        frame[h++] = (unsigned char)(len & 0xff);
    } else {
        frame[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            frame[h++] = (unsigned char)((uint64_t)len >> (8 * i));
    }
    uint32_t mask = (uint32_t)xorshift(&b->rng);
    unsigned char key[4] = {(unsigned char)(mask >> 24), (unsigned char)(mask >> 16),
                            (unsigned char)(mask >> 8), (unsigned char)mask};
    memcpy(frame + h, key, 4);
    h += 4;
    for (size_t i = 0; i < len; i++)
        frame[h + i] = (unsigned char)(payload[i] ^ key[i % 4]);
    ws_write_all(TOOL, s->fd, frame, h + len);
}

/* The words a --payload string is made of, picked at random for each call: the string changes
 * from call to call (no message repeats the last one) but compresses about as real JSON does. */
static const char *const words[] = {
    "order", "customer", "status", "shipped", "pending", "total",   "price",      "EUR",
    "item",  "quantity", "name",   "id",      "created", "updated", "true",       "false",
    "null",  "address",  "street", "city",    "Berlin",  "Lyon",    "note",       "express",
    "gift",  "A7",       "B12",    "42",      "1999",    "0.5",     "2026-12-03", "warehouse"};

static void fill_payload(struct bench *b, char *out, size_t n)
{
    size_t i = 0;
    while (i < n) {
        const char *w = words[xorshift(&b->rng) % (sizeof(words) / sizeof(words[0]))];
        while (*w && i < n)
            out[i++] = *w++;
        if (i < n)
            out[i++] = ' ';
    }
}

static void send_call(struct bench *b, struct sock *s)
{
    uint64_t id = ++b->next_id;
    size_t cap = b->payload + strlen(b->target) + 128;
    b->text = grow(b->text, &b->text_cap, cap);
    int len;
    if (b->payload == 0) {
        len =
            snprintf(b->text, cap,
                     "{\"method\": \"%s\", \"data\": {\"value\": %llu}, \"correlation_id\": %llu}",
                     b->target, (unsigned long long)(id % 1000000), (unsigned long long)id);
    } else {
        if (!s->sent && !(s->sent = malloc(b->payload)))
            abort();
        fill_payload(b, s->sent, b->payload);
        len = snprintf(b->text, cap,
                       "{\"method\": \"%s\", \"data\": {\"value\": \"%.*s\"}, "
                       "\"correlation_id\": %llu}",
                       b->target, (int)b->payload, s->sent, (unsigned long long)id);
    }
    if (len < 0 || (size_t)len >= cap)
        bench_die(TOOL, "the call does not fit its buffer");
    s->expect = id;
    s->start_ns = bench_now_ns(); /* deflating is part of a call, as in a browser */
    if (s->deflate) {
        ws_deflate_message(TOOL, &s->z, b->text, (size_t)len, &b->zout);
        b->out_plain += (size_t)len;
        b->out_wire += b->zout.len;
        send_frame(b, s, 0x40 | 0x1, (const char *)b->zout.p, b->zout.len); /* RSV1: compressed */
    } else {
        send_frame(b, s, 0x1, b->text, (size_t)len);
    }
}

static void close_sock(struct bench *b, struct sock *s, const char *why)
{
    if (s->state == CLOSED)
        return;
    if (!b->idle || !stop)
        fprintf(stderr, TOOL ": socket %zu closed: %s\n", (size_t)(s - b->socks), why);
    if (s->state == CONNECTING || s->state == HANDSHAKE)
        b->pending--;
    close(s->fd);
    s->state = CLOSED;
    b->closed++;
}

static void start_connect(struct bench *b, struct sock *s)
{
    s->fd = ws_connect_start(TOOL, b->host, b->port, b->epfd, EPOLLIN | EPOLLOUT, s);
    s->state = CONNECTING;
    b->opened++;
    b->pending++;
}

static void send_handshake(struct bench *b, struct sock *s)
{
    ws_send_upgrade(TOOL, s->fd, b->host, b->port, b->path,
                    b->deflate ? "Sec-WebSocket-Extensions: permessage-deflate; "
                                 "client_max_window_bits\r\n"
                               : "");
    s->state = HANDSHAKE;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
    epoll_ctl(b->epfd, EPOLL_CTL_MOD, s->fd, &ev);
}

static void on_text(struct bench *b, struct sock *s, const char *text, size_t len)
{
    if (s->state == WAIT_CONNECTED) {
        if (!ws_contains(text, len, "\"connected\""))
            bench_die(TOOL, "expected the connected event, got: %.*s", (int)len, text);
        s->state = OPEN;
        b->connected++;
        if (!b->idle && b->calling)
            send_call(b, s);
        return;
    }
    if (b->idle)
        return; /* an event pushed to an idle socket */
    uint64_t id;
    if (!ws_contains(text, len, "\"type\": \"result\""))
        return; /* an event */
    if (!ws_contains(text, len, "\"success\": true") ||
        !ws_json_uint(text, len, "correlation_id", &id) || id != s->expect ||
        (b->payload && !ws_contains_n(text, len, s->sent, b->payload)))
        bench_die(TOOL, "unexpected result (wanted correlation_id %llu%s): %.*s",
                  (unsigned long long)s->expect, b->payload ? " and the string sent" : "",
                  (int)(len < 600 ? len : 600), text);
    uint64_t now = bench_now_ns();
    if (now >= b->measure_from && now < b->measure_until) {
        b->measured++;
        bench_samples_add(&b->lat, now - s->start_ns);
    }
    s->expect = 0;
    if (b->calling)
        send_call(b, s);
}

/* A whole message: text or binary is checked, other data opcodes are reserved. */
static void on_message(struct bench *b, struct sock *s, int opcode, const char *data, size_t len)
{
    if (opcode != 0x1 && opcode != 0x2)
        bench_die(TOOL, "a message with the reserved opcode 0x%x", opcode);
    on_text(b, s, data, len);
}

/* A whole compressed message. */
static void on_deflated(struct bench *b, struct sock *s, int opcode, const char *data, size_t len)
{
    ws_inflate_message(TOOL, &s->z, data, len, &b->plain, MAX_MESSAGE);
    b->in_wire += len;
    b->in_plain += b->plain.len;
    on_message(b, s, opcode, (const char *)b->plain.p, b->plain.len);
}

/* One frame. A message may come in several (RFC 6455 §5.4): the first has its opcode, the others
 * are continuations (opcode 0), the last has FIN; control frames may come between them. RSV1 on
 * the first frame says the message is compressed (RFC 7692 §6). */
static void on_frame(struct bench *b, struct sock *s, unsigned char b0, const char *payload,
                     size_t len)
{
    int opcode = b0 & 0x0f;
    bool fin = b0 & 0x80, rsv1 = b0 & 0x40;
    if (b0 & 0x30)
        bench_die(TOOL, "a frame with RSV2 or RSV3 set (0x%x)", b0);
    if (rsv1 && (!s->deflate || opcode == 0 || opcode >= 0x8))
        bench_die(TOOL, "RSV1 on a %s",
                  !s->deflate   ? "socket without permessage-deflate"
                  : opcode == 0 ? "continuation frame"
                                : "control frame");
    if (opcode >= 0x8) {
        if (!fin || len > 125)
            bench_die(TOOL, "a fragmented or oversized control frame (opcode 0x%x)", opcode);
        if (opcode == 0x9)
            send_frame(b, s, 0xA, payload, len);
        else if (opcode == 0x8)
            close_sock(b, s, "close frame from the server");
        return;
    }
    if (opcode == 0 && s->msg_opcode == 0)
        bench_die(TOOL, "a continuation frame with no message open");
    if (opcode != 0 && s->msg_opcode != 0)
        bench_die(TOOL, "a new message (opcode 0x%x) before the previous one ended", opcode);
    if (opcode != 0 && fin) { /* the usual case: no copy */
        if (rsv1)
            on_deflated(b, s, opcode, payload, len);
        else
            on_message(b, s, opcode, payload, len);
        return;
    }
    if (opcode != 0) {
        s->msg_opcode = opcode;
        s->msg_deflated = rsv1;
        s->msg_len = 0;
    }
    if (s->msg_len + len > MAX_MESSAGE)
        bench_die(TOOL, "a message of over %d bytes", MAX_MESSAGE);
    s->msg = grow(s->msg, &s->msg_cap, s->msg_len + len);
    memcpy(s->msg + s->msg_len, payload, len);
    s->msg_len += len;
    if (fin) {
        opcode = s->msg_opcode;
        s->msg_opcode = 0;
        if (s->msg_deflated)
            on_deflated(b, s, opcode, s->msg, s->msg_len);
        else
            on_message(b, s, opcode, s->msg, s->msg_len);
    }
}

/* Takes whole frames out of s->buf, and grows it when a frame is bigger. */
static void parse_frames(struct bench *b, struct sock *s)
{
    size_t off = 0;
    while (s->state != CLOSED && s->len - off >= 2) {
        const unsigned char *p = (const unsigned char *)s->buf + off;
        uint64_t plen;
        size_t h;
        if (!ws_frame_head(TOOL, p, s->len - off, MAX_MESSAGE, &plen, &h))
            break;
        if (s->len - off < h + plen) {
            if (h + plen > s->cap) {
                memmove(s->buf, s->buf + off, s->len - off);
                s->len -= off;
                off = 0;
                s->buf = grow(s->buf, &s->cap, h + plen);
            }
            break;
        }
        on_frame(b, s, p[0], s->buf + off + h, (size_t)plen);
        off += h + (size_t)plen;
    }
    if (s->state != CLOSED && off > 0) {
        memmove(s->buf, s->buf + off, s->len - off);
        s->len -= off;
    }
}

/* Reads the 101's Sec-WebSocket-Extensions: permessage-deflate with --deflate, none without. */
static void accept_extensions(struct bench *b, struct sock *s, const char *head, size_t len)
{
    static const char name[] = "\r\nSec-WebSocket-Extensions:";
    char value[256] = "";
    for (size_t i = 0; i + sizeof(name) - 1 < len; i++) {
        if (strncasecmp(head + i, name, sizeof(name) - 1) != 0)
            continue;
        const char *v = head + i + sizeof(name) - 1;
        size_t n = 0;
        while (v + n < head + len && v[n] != '\r' && n + 1 < sizeof(value)) {
            value[n] = (char)(v[n] >= 'A' && v[n] <= 'Z' ? v[n] - 'A' + 'a' : v[n]);
            n++;
        }
        value[n] = '\0';
        break;
    }
    const char *v = value + strspn(value, " \t");
    if (!b->deflate) {
        if (*v)
            bench_die(TOOL, "the server answered an extension not offered: %s", v);
        return;
    }
    if (!ws_deflate_accept(&s->z, v))
        bench_die(TOOL,
                  "the server did not accept permessage-deflate (websocket_deflate off?): %.*s",
                  (int)len, head);
    s->deflate = true;
    if (s == b->socks)
        fprintf(stderr, TOOL ": negotiated %s\n", v);
}

static void on_readable(struct bench *b, struct sock *s)
{
    for (;;) {
        if (s->len == s->cap)
            s->buf = grow(s->buf, &s->cap, s->cap + 1); /* a handshake answer longer than BUF */
        ssize_t n = read(s->fd, s->buf + s->len, s->cap - s->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            close_sock(b, s, n == 0 ? "closed by the server" : strerror(errno));
            return;
        }
        s->len += (size_t)n;
        if (s->state == HANDSHAKE) {
            char *end = ws_101_end(TOOL, s->buf, s->len);
            if (!end)
                continue;
            accept_extensions(b, s, s->buf, (size_t)(end - s->buf));
            size_t rest = s->len - (size_t)(end - s->buf);
            memmove(s->buf, end, rest);
            s->len = rest;
            s->state = WAIT_CONNECTED;
            b->pending--;
        }
        parse_frames(b, s);
        if (s->state == CLOSED)
            return;
    }
}

static void on_event(struct bench *b, struct sock *s, uint32_t events)
{
    if (s->state == CLOSED)
        return;
    if (s->state == CONNECTING) {
        ws_connect_check(TOOL, s->fd);
        if (events & EPOLLOUT)
            send_handshake(b, s);
        return;
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        on_readable(b, s);
}

static void loop_once(struct bench *b, int timeout_ms)
{
    struct epoll_event events[256];
    int n = epoll_wait(b->epfd, events, 256, timeout_ms);
    if (n < 0 && errno != EINTR)
        bench_die(TOOL, "epoll_wait: %s", strerror(errno));
    for (int i = 0; i < n; i++)
        on_event(b, events[i].data.ptr, events[i].events);
}

int main(int argc, char **argv)
{
    struct bench b = {.host = "127.0.0.1", .path = "/ws", .target = "bench_echo.echo", .n = 64};
    double duration = 5, warmup = 1, hold = 0;
    const char *mode = "calls";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--deflate") == 0) { /* the one option without a value */
            b.deflate = true;
            continue;
        }
        if (i + 1 == argc)
            bench_die(TOOL, "%s: unknown option, or its value missing", a);
        const char *v = argv[++i];
        if (strcmp(a, "--port") == 0)
            b.port = atoi(v);
        else if (strcmp(a, "--host") == 0)
            b.host = v;
        else if (strcmp(a, "--path") == 0)
            b.path = v;
        else if (strcmp(a, "--mode") == 0)
            mode = v;
        else if (strcmp(a, "--sockets") == 0)
            b.n = (size_t)strtoul(v, NULL, 10);
        else if (strcmp(a, "--duration") == 0)
            duration = strtod(v, NULL);
        else if (strcmp(a, "--warmup") == 0)
            warmup = strtod(v, NULL);
        else if (strcmp(a, "--target") == 0)
            b.target = v;
        else if (strcmp(a, "--hold") == 0)
            hold = strtod(v, NULL);
        else if (strcmp(a, "--payload") == 0)
            b.payload = (size_t)strtoul(v, NULL, 10);
        else
            bench_die(TOOL, "unknown option %s", a);
    }
    if (b.port <= 0 || b.n == 0 || b.payload > MAX_PAYLOAD ||
        (strcmp(mode, "calls") != 0 && strcmp(mode, "idle") != 0))
        bench_die(TOOL, "usage: ws_bench --port P [--host H] [--path /ws] [--mode calls|idle] "
                        "[--sockets N] [--duration S] [--warmup S] [--target svc.method] "
                        "[--hold S] [--payload BYTES] [--deflate]");
    b.idle = strcmp(mode, "idle") == 0;
    b.rng = bench_now_ns() | 1;
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    b.epfd = epoll_create1(EPOLL_CLOEXEC);
    b.socks = calloc(b.n, sizeof(*b.socks));
    if (!b.socks)
        abort();
    for (size_t i = 0; i < b.n; i++)
        b.socks[i].buf = grow(NULL, &b.socks[i].cap, BUF);

    /* Open every socket, a bounded number of handshakes at a time. */
    uint64_t open_start = bench_now_ns();
    uint64_t give_up = open_start + 120ULL * 1000000000ULL;
    while (!stop && b.connected + b.closed < b.n) {
        while (b.opened < b.n && b.pending < MAX_PENDING_HANDSHAKES)
            start_connect(&b, &b.socks[b.opened]);
        loop_once(&b, 100);
        if (bench_now_ns() > give_up)
            bench_die(TOOL, "only %zu of %zu sockets connected within 120 s", b.connected, b.n);
    }
    double open_s = (double)(bench_now_ns() - open_start) / 1e9;
    if (b.closed > 0)
        bench_die(TOOL, "%zu socket(s) closed while opening", b.closed);

    if (b.idle) {
        printf("ready %zu sockets (opened in %.2f s)\n", b.connected, open_s);
        fflush(stdout);
        uint64_t until = hold > 0 ? bench_now_ns() + (uint64_t)(hold * 1e9) : UINT64_MAX;
        while (!stop && bench_now_ns() < until)
            loop_once(&b, 200);
        printf("held %zu sockets; %zu closed meanwhile\n", b.connected - b.closed, b.closed);
        return 0;
    }

    uint64_t start = bench_now_ns();
    b.measure_from = start + (uint64_t)(warmup * 1e9);
    b.measure_until = b.measure_from + (uint64_t)(duration * 1e9);
    b.calling = true;
    for (size_t i = 0; i < b.n; i++)
        send_call(&b, &b.socks[i]);
    while (!stop && bench_now_ns() < b.measure_until) {
        loop_once(&b, 100);
        if (b.closed > 0)
            bench_die(TOOL, "%zu socket(s) closed during the run", b.closed);
    }
    /* Let the calls in flight finish, so nothing is left queued for the next run. */
    b.calling = false;
    uint64_t drain_until = bench_now_ns() + 5000000000ULL;
    for (;;) {
        size_t open = 0;
        for (size_t i = 0; i < b.n; i++)
            open += b.socks[i].expect != 0;
        if (open == 0 || bench_now_ns() > drain_until)
            break;
        loop_once(&b, 100);
    }
    uint32_t p50 = bench_quantile(b.lat.v, b.lat.n, 0.50);
    uint32_t p99 = bench_quantile(b.lat.v, b.lat.n, 0.99);
    printf("RESULT rps=%.1f p50_us=%u p99_us=%u calls=%lu seconds=%.2f sockets=%zu",
           (double)b.measured / duration, p50, p99, b.measured, duration, b.n);
    if (b.deflate && b.out_plain && b.in_plain) /* compressed / plain bytes, each way */
        printf(" deflate_out=%.3f deflate_in=%.3f", (double)b.out_wire / (double)b.out_plain,
               (double)b.in_wire / (double)b.in_plain);
    printf("\n");
    return 0;
}
