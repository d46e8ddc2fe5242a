/* fanout_bench.c - fan-out from enoki's hub (bench/run.sh; issue 20, point 3): N websockets
 * subscribed to one channel, and frames sent to that channel the way a Python service sends them.
 *
 * --mode broadcast: an RPC to enoki's nameko service, as nameko's client makes it (exchange
 *     nameko-rpc, routing key <name>.broadcast, reply_to an own queue, correlation_id,
 *     nameko.call_id_stack; body {"args": ["<channel>", "tick", {"seq": <n>}], "kwargs": {}});
 *     its replies are consumed.
 * --mode event: a nameko event, as nameko's event_dispatcher publishes it: exchange
 *     <service>.events (declared here, durable topic, as nameko declares it), routing key "tick",
 *     body {"seq": <n>}; the sockets subscribe to the channel "<service>.tick".
 *
 * The sockets: raw RFC 6455 clients, all on one thread over epoll, non-blocking; a frame is read
 * only as far as its "seq". Each socket must get seq 0, 1, 2... in order, every one: a gap, a
 * repeat or a closed socket stops the run.
 *
 * Then two measurements:
 * - latency: --warmup frames (5) whose times are not counted but the first's, then --rounds frames
 *   one after the other; for each, the time from just before its publish to its receipt by the
 *   last socket (p50, p99, max over the rounds);
 * - stream: frames published as fast as the sockets take them, with at most --window frames not
 *   yet received by every socket, for --seconds; the frames received per second in total (every
 *   socket's count), and every socket's count checked at the end.
 *
 * Usage: fanout_bench --port P --name GATEWAY.name [--uri amqp://...] [--host 127.0.0.1]
 *                     [--path /ws] [--sockets N] [--mode broadcast|event] [--service S]
 *                     [--channel C] [--rounds R] [--seconds S] [--window W] [--warmup N]
 * Output: "ready N opened_s=..." then
 *         "RESULT mode=... sockets=N rounds=R p50_us=... p99_us=... max_us=... frames=...
 *          seconds=... fps=... missing=0 warmup=N first_us=..." (first_us: the first warm-up
 *          frame's time, to fresh sockets); on stderr "rounds_us ..." (each counted round's
 *         time, in order).
 */
#include "bench/bench_common.h"
#include "bench/ws_client.h"

#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#define TOOL "fanout_bench"

enum { FIRST_BUF = 1024, MAX_FRAME = 1 << 20, MAX_PENDING_HANDSHAKES = 256, EVENTS = 1024 };
/* Frames not yet received by every socket are counted in a ring this long. */
enum { RING = 4096 };

enum state { CONNECTING, HANDSHAKE, WAIT_CONNECTED, WAIT_SUBSCRIBED, OPEN };

struct sock {
    int fd;
    enum state state;
    uint32_t len, cap;
    char *buf;
    uint64_t next_seq; /* the seq it must get next */
};

struct bench {
    const char *host, *path, *name, *channel, *service;
    int port, epfd;
    bool event_mode;
    struct sock *socks;
    size_t n, opened, pending, subscribed;
    amqp_connection_state_t amqp;
    char reply_to[40];
    uint64_t published;    /* frames published: seq 0..published-1 */
    uint64_t done;         /* frames every socket has received */
    uint32_t got[RING];    /* per seq modulo RING: the sockets that received it */
    uint64_t last_done_ns; /* when the last socket received frame done-1 */
    unsigned long long received;
};

/* --- the websocket side ----------------------------------------------------------------------- */

/* A masked client frame of at most 125 bytes (the key is fixed: the server unmasks any). */
static void send_small_frame(int fd, int opcode, const char *payload, size_t len)
{
    unsigned char frame[2 + 4 + 125];
    static const unsigned char key[4] = {0x5a, 0x17, 0xc3, 0x81};
    if (len > 125)
        bench_die(TOOL, "a frame too long to send");
    frame[0] = (unsigned char)(0x80 | opcode);
    frame[1] = (unsigned char)(0x80 | len);
    memcpy(frame + 2, key, 4);
    for (size_t i = 0; i < len; i++)
        frame[6 + i] = (unsigned char)(payload[i] ^ key[i % 4]);
    ws_write_all(TOOL, fd, frame, 6 + len);
}

static void start_connect(struct bench *b, struct sock *s)
{
    s->fd = ws_connect_start(TOOL, b->host, b->port, b->epfd, EPOLLOUT, s);
    s->state = CONNECTING;
    b->opened++;
    b->pending++;
}

static void on_connected(struct bench *b, struct sock *s)
{
    ws_send_upgrade(TOOL, s->fd, b->host, b->port, b->path, "");
    s->state = HANDSHAKE;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
    epoll_ctl(b->epfd, EPOLL_CTL_MOD, s->fd, &ev);
}

static void on_frame_received(struct bench *b, struct sock *s, uint64_t seq)
{
    if (seq != s->next_seq)
        bench_die(TOOL, "socket %zu got seq %llu, expected %llu (a frame %s)",
                  (size_t)(s - b->socks), (unsigned long long)seq, (unsigned long long)s->next_seq,
                  seq > s->next_seq ? "missing" : "repeated");
    if (seq >= b->published || seq < b->done)
        bench_die(TOOL, "seq %llu was not in flight", (unsigned long long)seq);
    s->next_seq++;
    b->received++;
    if (++b->got[seq % RING] < b->n)
        return;
    /* The last socket has it: every frame before it too (each socket's frames come in order). */
    b->got[seq % RING] = 0;
    b->done = seq + 1;
    b->last_done_ns = bench_now_ns();
}

static void on_text(struct bench *b, struct sock *s, const char *text, size_t len)
{
    if (s->state == WAIT_CONNECTED) {
        if (!ws_contains(text, len, "\"connected\""))
            bench_die(TOOL, "expected the connected event, got: %.*s", (int)len, text);
        char sub[128];
        int n = snprintf(sub, sizeof(sub),
                         "{\"method\": \"subscribe\", \"data\": {\"channel\": \"%s\"}, "
                         "\"correlation_id\": 1}",
                         b->channel);
        if (n < 0 || n > 125)
            bench_die(TOOL, "--channel is too long");
        send_small_frame(s->fd, 0x1, sub, (size_t)n);
        s->state = WAIT_SUBSCRIBED;
        return;
    }
    if (s->state == WAIT_SUBSCRIBED) {
        if (!ws_contains(text, len, "\"success\": true"))
            bench_die(TOOL, "the subscribe failed: %.*s", (int)len, text);
        s->state = OPEN;
        b->subscribed++;
        return;
    }
    uint64_t seq;
    if (!ws_json_uint(text, len, "seq", &seq))
        bench_die(TOOL, "a frame without a seq: %.*s", (int)(len < 300 ? len : 300), text);
    on_frame_received(b, s, seq);
}

/* Takes whole frames out of s->buf. */
static void parse_frames(struct bench *b, struct sock *s)
{
    size_t off = 0;
    while (s->len - off >= 2) {
        const unsigned char *p = (const unsigned char *)s->buf + off;
        uint64_t plen;
        size_t h;
        if (!ws_frame_head(TOOL, p, s->len - off, MAX_FRAME, &plen, &h))
            break;
        if (p[0] & 0x70)
            bench_die(TOOL, "a frame with RSV bits (no extension was offered)");
        if (s->len - off < h + plen) {
            if (h + plen > s->cap) {
                memmove(s->buf, s->buf + off, s->len - off);
                s->len -= (uint32_t)off;
                off = 0;
                s->cap = (uint32_t)(h + plen);
                if (!(s->buf = realloc(s->buf, s->cap)))
                    abort();
            }
            break;
        }
        int opcode = p[0] & 0x0f;
        const char *payload = s->buf + off + h;
        if (!(p[0] & 0x80))
            bench_die(TOOL, "a fragmented message (not expected for these frames)");
        if (opcode == 0x9)
            send_small_frame(s->fd, 0xA, payload, (size_t)plen);
        else if (opcode == 0x8)
            bench_die(TOOL, "socket %zu was closed by the server (cut off as a slow reader?)",
                      (size_t)(s - b->socks));
        else if (opcode == 0x1)
            on_text(b, s, payload, (size_t)plen);
        off += h + (size_t)plen;
    }
    if (off > 0) {
        memmove(s->buf, s->buf + off, s->len - off);
        s->len -= (uint32_t)off;
    }
}

static void on_readable(struct bench *b, struct sock *s)
{
    for (;;) {
        if (s->len == s->cap) {
            s->cap *= 2;
            if (!(s->buf = realloc(s->buf, s->cap)))
                abort();
        }
        size_t room = s->cap - s->len;
        ssize_t n = read(s->fd, s->buf + s->len, room);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0)
            bench_die(TOOL, "socket %zu: %s", (size_t)(s - b->socks),
                      n == 0 ? "closed by the server" : strerror(errno));
        s->len += (uint32_t)n;
        if (s->state == HANDSHAKE) {
            char *end = ws_101_end(TOOL, s->buf, s->len);
            if (!end)
                continue;
            s->len -= (uint32_t)(end - s->buf);
            memmove(s->buf, end, s->len);
            s->state = WAIT_CONNECTED;
            b->pending--;
        }
        parse_frames(b, s);
        /* A short read emptied the socket: the next bytes come with the next epoll event
         * (level-triggered), so a read that would find nothing is not made. */
        if ((size_t)n < room)
            return;
    }
}

/* --- the broker side ------------------------------------------------------------------------- */

static void amqp_drain(struct bench *b)
{
    struct timeval zero = {0, 0};
    do {
        amqp_maybe_release_buffers(b->amqp);
        amqp_envelope_t env;
        amqp_rpc_reply_t reply = amqp_consume_message(b->amqp, &env, &zero, 0);
        if (reply.reply_type == AMQP_RESPONSE_NORMAL) {
            if (!ws_contains(env.message.body.bytes, env.message.body.len, "\"error\": null"))
                bench_die(TOOL, "the broadcast failed: %.*s", (int)env.message.body.len,
                          (const char *)env.message.body.bytes);
            amqp_destroy_envelope(&env);
            continue;
        }
        if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
            reply.library_error == AMQP_STATUS_TIMEOUT)
            return;
        bench_amqp_check(TOOL, reply, "consume");
    } while (bench_amqp_buffered(b->amqp));
}

static void publish(struct bench *b)
{
    uint64_t seq = b->published++;
    char body[256], cid[40], call_id[96];
    int len;
    snprintf(call_id, sizeof(call_id), "fanout_bench.tick.%08llx-0000-4000-8000-000000000000",
             (unsigned long long)seq);
    amqp_field_value_t stack_entry;
    amqp_table_entry_t header;
    amqp_basic_properties_t props = bench_nameko_props(call_id, 2, &stack_entry, &header);
    char exchange[160], key[160];
    if (b->event_mode) {
        len = snprintf(body, sizeof(body), "{\"seq\": %llu}", (unsigned long long)seq);
        snprintf(exchange, sizeof(exchange), "%s.events", b->service);
        snprintf(key, sizeof(key), "tick");
    } else {
        len = snprintf(body, sizeof(body),
                       "{\"args\": [\"%s\", \"tick\", {\"seq\": %llu}], \"kwargs\": {}}",
                       b->channel, (unsigned long long)seq);
        snprintf(exchange, sizeof(exchange), "nameko-rpc");
        snprintf(key, sizeof(key), "%s.broadcast", b->name);
        snprintf(cid, sizeof(cid), "%08llx-0000-4000-8000-%012llx", (unsigned long long)seq,
                 (unsigned long long)seq);
        props._flags |= AMQP_BASIC_CORRELATION_ID_FLAG | AMQP_BASIC_REPLY_TO_FLAG;
        props.correlation_id = amqp_cstring_bytes(cid);
        props.reply_to = amqp_cstring_bytes(b->reply_to);
    }
    amqp_bytes_t bytes = {.len = (size_t)len, .bytes = body};
    int rc = amqp_basic_publish(b->amqp, 1, amqp_cstring_bytes(exchange), amqp_cstring_bytes(key),
                                0, 0, &props, bytes);
    if (rc != AMQP_STATUS_OK)
        bench_die(TOOL, "publish: %s", amqp_error_string2(rc));
}

static void amqp_setup(struct bench *b, const char *uri)
{
    b->amqp = bench_amqp_open(TOOL, uri);
    if (b->event_mode) {
        char exchange[160];
        snprintf(exchange, sizeof(exchange), "%s.events", b->service);
        amqp_exchange_declare(b->amqp, 1, amqp_cstring_bytes(exchange), amqp_cstring_bytes("topic"),
                              0, 1, 0, 0, amqp_empty_table);
        bench_amqp_check(TOOL, amqp_get_rpc_reply(b->amqp), "exchange.declare");
    } else {
        snprintf(b->reply_to, sizeof(b->reply_to), "fanout-bench-%d-%llx", (int)getpid(),
                 (unsigned long long)bench_now_ns());
        amqp_queue_declare_ok_t *q =
            amqp_queue_declare(b->amqp, 1, amqp_empty_bytes, 0, 0, 1, 1, amqp_empty_table);
        bench_amqp_check(TOOL, amqp_get_rpc_reply(b->amqp), "queue.declare");
        amqp_bytes_t queue = amqp_bytes_malloc_dup(q->queue);
        amqp_queue_bind(b->amqp, 1, queue, amqp_cstring_bytes("nameko-rpc"),
                        amqp_cstring_bytes(b->reply_to), amqp_empty_table);
        bench_amqp_check(TOOL, amqp_get_rpc_reply(b->amqp), "queue.bind");
        amqp_basic_consume(b->amqp, 1, queue, amqp_empty_bytes, 0, 1, 1, amqp_empty_table);
        bench_amqp_check(TOOL, amqp_get_rpc_reply(b->amqp), "basic.consume");
        amqp_bytes_free(queue);
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, amqp_get_sockfd(b->amqp), &ev) < 0)
        bench_die(TOOL, "epoll_ctl: %s", strerror(errno));
}

/* --- the loop ----------------------------------------------------------------------------------
 */

/* Serves the sockets and the broker for at most timeout_ms. */
static void serve(struct bench *b, int timeout_ms)
{
    struct epoll_event events[EVENTS];
    if (!b->event_mode && bench_amqp_buffered(b->amqp))
        amqp_drain(b);
    int n = epoll_wait(b->epfd, events, EVENTS, timeout_ms);
    if (n < 0 && errno != EINTR)
        bench_die(TOOL, "epoll_wait: %s", strerror(errno));
    for (int i = 0; i < n; i++) {
        struct sock *s = events[i].data.ptr;
        if (!s) {
            if (!b->event_mode)
                amqp_drain(b);
            continue;
        }
        if (s->state == CONNECTING) {
            ws_connect_check(TOOL, s->fd);
            on_connected(b, s);
        } else {
            on_readable(b, s);
        }
    }
}

static void open_all(struct bench *b)
{
    uint64_t start = bench_now_ns(), deadline = start + 300ull * 1000000000u;
    while (b->subscribed < b->n) {
        while (b->opened < b->n && b->pending < MAX_PENDING_HANDSHAKES)
            start_connect(b, &b->socks[b->opened]);
        serve(b, 100);
        if (bench_now_ns() > deadline)
            bench_die(TOOL, "only %zu of %zu sockets subscribed after 300 s", b->subscribed, b->n);
    }
    printf("ready %zu opened_s=%.2f\n", b->n, (double)(bench_now_ns() - start) / 1e9);
    fflush(stdout);
}

/* Waits until every socket has every frame published; dies after 30 s. */
static void wait_all(struct bench *b)
{
    uint64_t deadline = bench_now_ns() + 30ull * 1000000000u;
    while (b->done < b->published) {
        serve(b, 10);
        if (bench_now_ns() > deadline) {
            size_t behind = 0;
            for (size_t i = 0; i < b->n; i++)
                behind += b->socks[i].next_seq < b->published;
            bench_die(TOOL, "%zu sockets still miss frames 30 s after the last publish", behind);
        }
    }
}

static void raise_nofile(size_t need)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need)
        bench_die(TOOL, "%zu sockets need %zu descriptors; the hard limit is %llu", need - 64, need,
                  (unsigned long long)rl.rlim_max);
}

int main(int argc, char **argv)
{
    struct bench b = {.host = "127.0.0.1", .path = "/ws", .channel = NULL, .service = "fanout_svc"};
    const char *uri = "amqp://guest:guest@127.0.0.1:5672/";
    long sockets = 10000, rounds = 50, window = 32, warmup = 5;
    double seconds = 5;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            bench_die(TOOL, "%s needs a value", a);
        i++;
        if (!strcmp(a, "--port"))
            b.port = atoi(v);
        else if (!strcmp(a, "--host"))
            b.host = v;
        else if (!strcmp(a, "--path"))
            b.path = v;
        else if (!strcmp(a, "--uri"))
            uri = v;
        else if (!strcmp(a, "--name"))
            b.name = v;
        else if (!strcmp(a, "--sockets"))
            sockets = atol(v);
        else if (!strcmp(a, "--mode"))
            b.event_mode = !strcmp(v, "event");
        else if (!strcmp(a, "--service"))
            b.service = v;
        else if (!strcmp(a, "--channel"))
            b.channel = v;
        else if (!strcmp(a, "--rounds"))
            rounds = atol(v);
        else if (!strcmp(a, "--seconds"))
            seconds = atof(v);
        else if (!strcmp(a, "--window"))
            window = atol(v);
        else if (!strcmp(a, "--warmup"))
            warmup = atol(v);
        else
            bench_die(TOOL, "unknown option %s", a);
    }
    if (!b.port || (!b.name && !b.event_mode) || sockets < 1 || rounds < 1 || warmup < 0 ||
        window < 1 || window >= RING)
        bench_die(TOOL, "usage: fanout_bench --port P --name GATEWAY.name [--uri U] [--sockets N] "
                        "[--mode broadcast|event] [--service S] [--channel C] [--rounds R] "
                        "[--seconds S] [--window W] [--warmup N]");
    char event_channel[160];
    if (b.event_mode) {
        snprintf(event_channel, sizeof(event_channel), "%s.tick", b.service);
        b.channel = event_channel;
    } else if (!b.channel) {
        b.channel = "fanout";
    }
    b.n = (size_t)sockets;
    raise_nofile(b.n + 64);
    b.epfd = epoll_create1(EPOLL_CLOEXEC);
    b.socks = calloc(b.n, sizeof(*b.socks));
    if (!b.socks)
        abort();
    for (size_t i = 0; i < b.n; i++) {
        b.socks[i].cap = FIRST_BUF;
        if (!(b.socks[i].buf = malloc(FIRST_BUF)))
            abort();
    }
    amqp_setup(&b, uri);
    open_all(&b);

    /* Latency: one frame at a time, from its publish to the last socket's receipt. The first
     * --warmup frames to fresh sockets take longer (the kernel's first buffers of each socket,
     * first-touched pages): they are not counted, as the other rows discard a warm-up, but the
     * first one's time is reported. */
    struct bench_samples lat = {0};
    uint64_t first_us = 0;
    for (long r = 0; r < warmup + rounds; r++) {
        uint64_t t0 = bench_now_ns();
        publish(&b);
        wait_all(&b);
        if (r == 0)
            first_us = (b.last_done_ns - t0) / 1000;
        if (r >= warmup)
            bench_samples_add(&lat, b.last_done_ns - t0);
    }
    bench_samples_print(&lat);
    uint32_t p50 = bench_quantile(lat.v, lat.n, 0.5), p99 = bench_quantile(lat.v, lat.n, 0.99);
    uint32_t max = bench_quantile(lat.v, lat.n, 1.0);

    /* Stream: as fast as the sockets take them, at most window frames short of the slowest. */
    unsigned long long received0 = b.received;
    uint64_t start = bench_now_ns(), until = start + (uint64_t)(seconds * 1e9);
    while (bench_now_ns() < until) {
        while (b.published - b.done < (uint64_t)window)
            publish(&b);
        serve(&b, 1);
    }
    wait_all(&b);
    double took = (double)(b.last_done_ns - start) / 1e9;
    unsigned long long frames = b.received - received0;
    size_t missing = 0;
    for (size_t i = 0; i < b.n; i++)
        missing += b.socks[i].next_seq != b.published;
    printf("RESULT mode=%s sockets=%zu rounds=%zu p50_us=%u p99_us=%u max_us=%u frames=%llu "
           "seconds=%.3f fps=%.0f missing=%zu warmup=%ld first_us=%llu\n",
           b.event_mode ? "event" : "broadcast", b.n, lat.n, p50, p99, max, frames, took,
           (double)frames / took, missing, warmup, (unsigned long long)first_us);
    for (size_t i = 0; i < b.n; i++) {
        close(b.socks[i].fd);
        free(b.socks[i].buf);
    }
    free(b.socks);
    free(lat.v);
    amqp_connection_close(b.amqp, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(b.amqp);
    return missing ? 1 : 0;
}
