/* rpc_ceiling.c - the broker's RPC ceiling: what one AMQP connection gets out of the broker and the
 * backend, with no HTTP in the way (bench/run.sh).
 *
 * It does what enoki's RPC client does (core/amqp_conn.c, core/rpc.c), and nothing else:
 *  - one connection, channel 1 in confirm mode (confirm.select);
 *  - declares `nameko-rpc` (topic, durable) and its own reply queue `rpc.reply-<name>-<uuid>`
 *    (durable, x-expires 300000) bound with key <uuid>, consumed with no_ack=1;
 *  - publishes with mandatory=1 and the same properties as enoki: content_type application/json,
 *    content_encoding utf-8, headers {"nameko.call_id_stack": ["enoki.http.<uuid4>"]} (a new id
 *    per call, as enoki's context for a request without headers), delivery_mode as
 *    GATEWAY.delivery_mode (1 by default, as enoki's default; 2 is nameko's own), priority 0, a
 *    uuid-sized correlation_id, reply_to = <uuid>, expiration "30000" (enoki's default
 *    rpc_timeout); body {"args": [], "kwargs": {"value": 42}} as enoki sends for GET /echo/42;
 *  - keeps N calls in flight: each reply's arrival publishes the next call.
 * With --context rest or ws its calls carry the context data enoki's own calls carry
 * (bench/run.sh's enoki: GATEWAY.name --name, trace context on), so the broker parses the same
 * headers:
 *  - rest (a REST call from a client without User-Agent, as wrk's):
 *    {"nameko.call_id_stack": ["<name>.http.<uuid4>"], "nameko.traceparent":
 * "00-<trace>-<span>-00"};
 *  - ws (a hub call): {"nameko.socket_id": "<uuid4 of the slot>", "nameko.gateway": "<name>",
 *    "nameko.call_id_stack": ["<name>.ws.<uuid4>"], "nameko.traceparent": ...}, one slot per
 * socket;
 *  - plain (the default): only the call_id_stack above, with the name "enoki".
 * Trace and span ids are new for each call, as enoki's are for a request without a traceparent.
 * Confirms are read and counted but never waited for, as enoki does. A basic.return (no queue
 * bound for the routing key) stops it with an error.
 *
 * Usage: rpc_ceiling [--uri URI] [--service NAME] [--method NAME] [--exchange NAME]
 *                    [--inflight N] [--duration S] [--warmup S]
 *                    [--delivery-mode 1|2 | --transient (= 1) | --persistent (= 2)]
 *                    [--context plain|rest|ws] [--name NAME]
 * Output: one line "RESULT rps=... p50_us=... p99_us=... calls=... seconds=... inflight=N
 * delivery_mode=D confirms=... context=C" on stdout.
 */
#include "bench/bench_common.h"

#include <stdbool.h>
#include <sys/random.h>
#include <sys/time.h>

#define TOOL "rpc_ceiling"

struct slot {
    uint64_t seq;       /* the call this slot waits for */
    uint64_t start_ns;  /* when it was published */
    char socket_id[37]; /* --context ws: the uuid of the socket this slot stands for */
};

enum context { CONTEXT_PLAIN, CONTEXT_REST, CONTEXT_WS };

struct client {
    amqp_connection_state_t state;
    amqp_bytes_t exchange, routing_key, reply_to;
    uint8_t delivery_mode;
    enum context context;
    const char *name; /* the gateway's name in the call ids and nameko.gateway */
    struct slot *slots;
    size_t inflight;
    uint64_t next_seq;
    uint64_t measure_from, measure_until; /* ns: replies in this window are counted */
    bool publishing;
    unsigned long measured, confirms, in_window_published;
    struct bench_samples lat;
    uint64_t rng;
};

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* A uuid4 in the same text form as enoki's gw_uuid4 (enoki reads getrandom per id; this tool
 * only needs ids that are unique, so it draws them from a seeded xorshift). */
static void uuid4(struct client *c, char out[37])
{
    uint64_t a = xorshift(&c->rng), b = xorshift(&c->rng);
    snprintf(out, 37, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32),
             (unsigned)((a >> 16) & 0xffff), (unsigned)(a & 0xfff),
             (unsigned)(0x8000 | ((b >> 48) & 0x3fff)),
             (unsigned long long)(b & 0xffffffffffffULL));
}

static amqp_table_entry_t text_header(const char *key, const char *value)
{
    return (amqp_table_entry_t){
        .key = amqp_cstring_bytes(key),
        .value = {.kind = AMQP_FIELD_KIND_UTF8, .value.bytes = amqp_cstring_bytes(value)}};
}

/* Publishes the next call of slot i. The correlation id names the slot and the call:
 * "<slot, 8 hex>-0000-4000-8000-<seq, 12 hex>", 36 characters like a uuid. */
static void publish(struct client *c, size_t i)
{
    char correlation_id[37], call_id[112], uuid[37];
    uint64_t seq = ++c->next_seq;
    snprintf(correlation_id, sizeof(correlation_id), "%08zx-0000-4000-8000-%012llx", i,
             (unsigned long long)(seq & 0xffffffffffffULL));
    uuid4(c, uuid);
    snprintf(call_id, sizeof(call_id), "%s.%s.%s", c->name,
             c->context == CONTEXT_WS ? "ws" : "http", uuid);

    amqp_field_value_t stack_entry;
    amqp_table_entry_t header;
    amqp_basic_properties_t props =
        bench_nameko_props(call_id, c->delivery_mode, &stack_entry, &header);
    /* --context rest|ws: the headers in the order enoki writes them (nameko-wire.md, section 3) */
    amqp_table_entry_t headers[4];
    char traceparent[56];
    size_t n = 0;
    if (c->context != CONTEXT_PLAIN) {
        uint64_t t1 = xorshift(&c->rng), t2 = xorshift(&c->rng), span = xorshift(&c->rng);
        snprintf(traceparent, sizeof(traceparent), "00-%016llx%016llx-%016llx-00",
                 (unsigned long long)t1, (unsigned long long)t2, (unsigned long long)span);
        if (c->context == CONTEXT_WS) {
            headers[n++] = text_header("nameko.socket_id", c->slots[i].socket_id);
            headers[n++] = text_header("nameko.gateway", c->name);
        }
        headers[n++] = header;
        headers[n++] = text_header("nameko.traceparent", traceparent);
        props.headers = (amqp_table_t){.num_entries = (int)n, .entries = headers};
    }
    props._flags |=
        AMQP_BASIC_CORRELATION_ID_FLAG | AMQP_BASIC_REPLY_TO_FLAG | AMQP_BASIC_EXPIRATION_FLAG;
    props.correlation_id = amqp_cstring_bytes(correlation_id);
    props.reply_to = c->reply_to;
    props.expiration = amqp_cstring_bytes("30000");
    static const char body[] = "{\"args\": [], \"kwargs\": {\"value\": 42}}";
    amqp_bytes_t bytes = {.len = sizeof(body) - 1, .bytes = (void *)(uintptr_t)body};
    int rc = amqp_basic_publish(c->state, 1, c->exchange, c->routing_key, 1, 0, &props, bytes);
    if (rc != AMQP_STATUS_OK)
        bench_die(TOOL, "publish: %s", amqp_error_string2(rc));
    c->slots[i].seq = seq & 0xffffffffffffULL;
    c->slots[i].start_ns = bench_now_ns();
}

static void handle_reply(struct client *c, const amqp_envelope_t *env)
{
    const amqp_basic_properties_t *p = &env->message.properties;
    if (!(p->_flags & AMQP_BASIC_CORRELATION_ID_FLAG) || p->correlation_id.len != 36)
        return;
    char id[37];
    memcpy(id, p->correlation_id.bytes, 36);
    id[36] = '\0';
    id[8] = '\0';
    size_t i = (size_t)strtoull(id, NULL, 16);
    uint64_t seq = strtoull(id + 24, NULL, 16);
    if (i >= c->inflight || c->slots[i].seq != seq)
        return; /* not ours, or a duplicate */
    const char *body = env->message.body.bytes;
    static const char tail[] = ", \"error\": null}";
    size_t len = env->message.body.len, tail_len = sizeof(tail) - 1;
    if (len < 11 + tail_len || memcmp(body, "{\"result\": ", 11) != 0 ||
        memcmp(body + len - tail_len, tail, tail_len) != 0)
        bench_die(TOOL, "unexpected reply: %.*s", (int)env->message.body.len, body);
    uint64_t now = bench_now_ns();
    if (now >= c->measure_from && now < c->measure_until) {
        c->measured++;
        bench_samples_add(&c->lat, now - c->slots[i].start_ns);
    }
    c->slots[i].seq = 0;
    if (c->publishing)
        publish(c, i);
}

static void handle_frame(struct client *c, const amqp_frame_t *frame)
{
    if (frame->frame_type != AMQP_FRAME_METHOD)
        return;
    switch (frame->payload.method.id) {
    case AMQP_BASIC_ACK_METHOD:
        c->confirms++;
        break;
    case AMQP_BASIC_NACK_METHOD:
        bench_die(TOOL, "the broker nacked a call");
    case AMQP_BASIC_RETURN_METHOD: {
        const amqp_basic_return_t *r = frame->payload.method.decoded;
        bench_die(TOOL, "call returned by the broker: %d %.*s (is the backend running?)",
                  r->reply_code, (int)r->reply_text.len, (const char *)r->reply_text.bytes);
    }
    case AMQP_CHANNEL_CLOSE_METHOD: {
        const amqp_channel_close_t *cl = frame->payload.method.decoded;
        bench_die(TOOL, "channel closed by the broker: %d %.*s", cl->reply_code,
                  (int)cl->reply_text.len, (const char *)cl->reply_text.bytes);
    }
    case AMQP_CONNECTION_CLOSE_METHOD:
        bench_die(TOOL, "connection closed by the broker");
    default:
        break;
    }
}

/* Waits at most timeout_ms for input, then handles everything already buffered. */
static void pump(struct client *c, int timeout_ms)
{
    struct timeval zero = {0, 0};
    if (!bench_amqp_wait(c->state, timeout_ms))
        return;
    do {
        amqp_maybe_release_buffers(c->state);
        amqp_envelope_t env;
        amqp_rpc_reply_t reply = amqp_consume_message(c->state, &env, &zero, 0);
        if (reply.reply_type == AMQP_RESPONSE_NORMAL) {
            handle_reply(c, &env);
            amqp_destroy_envelope(&env);
            continue;
        }
        if (reply.reply_type != AMQP_RESPONSE_LIBRARY_EXCEPTION)
            bench_amqp_check(TOOL, reply, "consume");
        if (reply.library_error == AMQP_STATUS_TIMEOUT)
            return;
        if (reply.library_error != AMQP_STATUS_UNEXPECTED_STATE)
            bench_amqp_check(TOOL, reply, "consume");
        amqp_frame_t frame;
        int rc = amqp_simple_wait_frame_noblock(c->state, &frame, &zero);
        if (rc == AMQP_STATUS_TIMEOUT)
            return;
        if (rc != AMQP_STATUS_OK)
            bench_die(TOOL, "read: %s", amqp_error_string2(rc));
        handle_frame(c, &frame);
    } while (bench_amqp_buffered(c->state));
}

int main(int argc, char **argv)
{
    const char *uri = "amqp://guest:guest@127.0.0.1:5672/";
    const char *service = "bench_echo", *method = "echo", *exchange = "nameko-rpc";
    long inflight = 64;
    double duration = 5, warmup = 1;
    long delivery_mode = 1;
    const char *context = "plain", *name = "enoki";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--transient") == 0 || strcmp(a, "--persistent") == 0) {
            delivery_mode = a[2] == 't' ? 1 : 2;
            continue;
        }
        if (!v)
            bench_die(TOOL, "usage: rpc_ceiling [--uri URI] [--service NAME] [--method NAME] "
                            "[--exchange NAME] [--inflight N] [--duration S] [--warmup S] "
                            "[--delivery-mode 1|2 | --transient | --persistent] "
                            "[--context plain|rest|ws] [--name NAME]");
        if (strcmp(a, "--uri") == 0)
            uri = v;
        else if (strcmp(a, "--service") == 0)
            service = v;
        else if (strcmp(a, "--method") == 0)
            method = v;
        else if (strcmp(a, "--exchange") == 0)
            exchange = v;
        else if (strcmp(a, "--inflight") == 0)
            inflight = strtol(v, NULL, 10);
        else if (strcmp(a, "--duration") == 0)
            duration = strtod(v, NULL);
        else if (strcmp(a, "--warmup") == 0)
            warmup = strtod(v, NULL);
        else if (strcmp(a, "--delivery-mode") == 0)
            delivery_mode = strtol(v, NULL, 10);
        else if (strcmp(a, "--context") == 0)
            context = v;
        else if (strcmp(a, "--name") == 0)
            name = v;
        else
            bench_die(TOOL, "unknown option %s", a);
        i++;
    }
    if (inflight < 1 || inflight > 100000 || duration <= 0 || warmup < 0 || delivery_mode < 1 ||
        delivery_mode > 2)
        bench_die(TOOL, "bad --inflight, --duration, --warmup or --delivery-mode");
    if (strcmp(context, "plain") != 0 && strcmp(context, "rest") != 0 && strcmp(context, "ws") != 0)
        bench_die(TOOL, "--context takes plain, rest or ws");
    if (strlen(name) > 64)
        bench_die(TOOL, "--name is at most 64 characters");

    struct client c = {.delivery_mode = (uint8_t)delivery_mode,
                       .inflight = (size_t)inflight,
                       .context = context[0] == 'p'   ? CONTEXT_PLAIN
                                  : context[0] == 'r' ? CONTEXT_REST
                                                      : CONTEXT_WS,
                       .name = name};
    if (getrandom(&c.rng, sizeof(c.rng), 0) != sizeof(c.rng) || c.rng == 0)
        c.rng = 0x9e3779b97f4a7c15ULL;
    c.slots = calloc(c.inflight, sizeof(*c.slots));
    if (!c.slots)
        abort();
    for (size_t i = 0; i < c.inflight; i++)
        uuid4(&c, c.slots[i].socket_id);
    char key[300], reply_key[37], reply_queue[128];
    snprintf(key, sizeof(key), "%s.%s", service, method);
    uuid4(&c, reply_key);
    snprintf(reply_queue, sizeof(reply_queue), "rpc.reply-bench_ceiling-%s", reply_key);
    c.exchange = amqp_cstring_bytes(exchange);
    c.routing_key = amqp_cstring_bytes(key);
    c.reply_to = amqp_cstring_bytes(reply_key);

    c.state = bench_amqp_open(TOOL, uri);
    amqp_confirm_select(c.state, 1);
    bench_amqp_check(TOOL, amqp_get_rpc_reply(c.state), "confirm.select");
    amqp_exchange_declare(c.state, 1, c.exchange, amqp_cstring_bytes("topic"), 0, 1, 0, 0,
                          amqp_empty_table);
    bench_amqp_check(TOOL, amqp_get_rpc_reply(c.state), "exchange.declare");
    amqp_table_entry_t qargs[] = {{.key = amqp_cstring_bytes("x-expires"),
                                   .value = {.kind = AMQP_FIELD_KIND_I32, .value.i32 = 300000}}};
    amqp_queue_declare(c.state, 1, amqp_cstring_bytes(reply_queue), 0, 1, 0, 0,
                       (amqp_table_t){.num_entries = 1, .entries = qargs});
    bench_amqp_check(TOOL, amqp_get_rpc_reply(c.state), "queue.declare");
    amqp_queue_bind(c.state, 1, amqp_cstring_bytes(reply_queue), c.exchange, c.reply_to,
                    amqp_empty_table);
    bench_amqp_check(TOOL, amqp_get_rpc_reply(c.state), "queue.bind");
    amqp_basic_consume(c.state, 1, amqp_cstring_bytes(reply_queue), amqp_empty_bytes, 0, 1, 0,
                       amqp_empty_table);
    bench_amqp_check(TOOL, amqp_get_rpc_reply(c.state), "basic.consume");

    uint64_t start = bench_now_ns();
    c.measure_from = start + (uint64_t)(warmup * 1e9);
    c.measure_until = c.measure_from + (uint64_t)(duration * 1e9);
    c.publishing = true;
    for (size_t i = 0; i < c.inflight; i++)
        publish(&c, i);
    while (bench_now_ns() < c.measure_until)
        pump(&c, 100);
    /* Let the calls still in flight come back, so the backend's queue is empty for the next run. */
    c.publishing = false;
    uint64_t drain_until = bench_now_ns() + 5000000000ULL;
    for (;;) {
        size_t open = 0;
        for (size_t i = 0; i < c.inflight; i++)
            open += c.slots[i].seq != 0;
        if (open == 0 || bench_now_ns() > drain_until)
            break;
        pump(&c, 100);
    }

    size_t n = c.lat.n;
    uint32_t p50 = bench_quantile(c.lat.v, n, 0.50);
    uint32_t p99 = bench_quantile(c.lat.v, n, 0.99);
    printf("RESULT rps=%.1f p50_us=%u p99_us=%u calls=%lu seconds=%.2f inflight=%zu "
           "delivery_mode=%u confirms=%lu context=%s\n",
           (double)c.measured / duration, p50, p99, c.measured, duration, c.inflight,
           c.delivery_mode, c.confirms, context);
    amqp_queue_delete(c.state, 1, amqp_cstring_bytes(reply_queue), 0, 0);
    amqp_get_rpc_reply(c.state);
    amqp_channel_close(c.state, 1, AMQP_REPLY_SUCCESS);
    amqp_connection_close(c.state, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(c.state);
    free(c.slots);
    free(c.lat.v);
    return 0;
}
