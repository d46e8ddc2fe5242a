/* echo_backend.c - a nameko RPC service in C, for the benchmarks (bench/run.sh).
 *
 * It stands where a nameko service would, speaking the wire protocol of
 * docs/nameko-wire.md:
 *  - declares the `nameko-rpc` topic exchange (durable) and the queue `rpc-<service>` (durable, not
 *    auto-delete, no arguments) bound with `<service>.*` (§2);
 *  - consumes with no_ack=0 and a prefetch of 10, nameko's PREFETCH_COUNT (§2, §8);
 *  - answers `<service>.echo` with {"result": <the request's kwargs, or its args when kwargs is
 *    empty>, "error": null}; any other method gets nameko's MethodNotFound error, a body without
 *    args or kwargs MalformedRequest;
 *  - publishes the reply as nameko does: to `nameko-rpc` with routing key = the request's reply_to
 *    (the reply queue's binding key, §3), mandatory=0, on a channel in confirm mode, with
 *    content_type copied, content_encoding utf-8, empty headers, delivery_mode 2, priority 0 and
 * the correlation_id copied (flags 0xFC00);
 *  - acks a request only once the broker has confirmed its reply (nameko acks after the confirmed
 *    publish). Acks are sent with multiple=1 for all requests whose replies are confirmed.
 *
 * Single-threaded: it waits in poll(), then takes every frame rabbitmq-c holds
 * (amqp_consume_message with a zero timeout, no read that ends in EAGAIN), replies as it goes, and
 * sends one ack for the batch. The reply body is written into
 * one reused buffer; the only allocations per message are rabbitmq-c's own pools.
 *
 * With --protocol amphora it stands where an amphora 0.1.3 RPC server would instead
 * (/work/shared/amphora-wire.md, §1-3):
 *  - declares the exchanges `rpc_<service>_request` and `rpc_<service>_response` (both direct,
 *    durable, not auto-delete, no arguments) and the queue `rpc_<service>_request` (durable, not
 *    auto-delete, not exclusive, no arguments) bound to the request exchange with key "" (§1);
 *  - consumes it with manual acks and the same prefetch as the nameko mode (amphora itself sets
 *    no basic.qos; a bound keeps the two modes comparable);
 *  - parses each body with jansson: `echo` answers {"result": <kwargs, or args when kwargs is
 *    empty>} (so /amph/echo/42 answers the same {"value": 42} as the nameko echo); another
 *    function gets {"exception": {"type": "WrongRequest", "args": ["No function <f> defined"]}},
 *    a body that is not an object with func, args and kwargs the same with the raw body (§3);
 *  - publishes the reply to `rpc_<service>_response` with routing key = the request's reply_to,
 *    message_id copied and delivery_mode 2 (§3); a request without reply_to or message_id is
 *    acked without a reply (§4). The confirm channel and the ack after the confirm are the nameko
 *    mode's, so the two modes differ only in the wire protocol.
 *
 * Usage: echo_backend [--uri URI] [--protocol nameko|amphora] [--service NAME] [--exchange NAME]
 *                     [--prefetch N] [--no-confirm]
 * (--exchange is nameko's; amphora's exchanges are named after the service.)
 * Prints "ready" on stdout once it consumes; runs until SIGTERM or SIGINT, then prints its count.
 */
#include "bench/bench_common.h"

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/time.h>

#define TOOL "echo_backend"

/* Replies published and not yet confirmed are bounded by the prefetch (each holds a delivery). */
enum { WINDOW = 65536 };

struct pending_ack {
    uint64_t publish_seq;  /* the request may be acked once this publish is confirmed */
    uint64_t delivery_tag; /* the request's delivery */
};

struct backend {
    amqp_connection_state_t state;
    const char *exchange;      /* where replies go: nameko-rpc, or rpc_<service>_response */
    bool amphora;              /* amphora's wire protocol instead of nameko's */
    const char *method_prefix; /* "<service>." */
    size_t prefix_len;
    bool confirm;
    uint64_t next_seq;       /* the publish sequence number of the next reply */
    uint64_t confirmed_upto; /* every reply with a sequence number <= this one is confirmed */
    unsigned char confirmed_bits[WINDOW / 8]; /* single out-of-order confirms above it */
    struct pending_ack *acks; /* ring of requests waiting for their reply's confirm */
    size_t ack_head, ack_len;
    uint64_t last_acked;
    char *out;
    size_t out_cap;
    unsigned long handled;
};

static volatile sig_atomic_t stop;

static void on_signal(int signum)
{
    (void)signum;
    stop = 1;
}

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* p is at a '"': returns the position after the closing quote, or NULL. */
static const char *skip_string(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        if (*p == '\\')
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return NULL;
}

/* Returns the end of the JSON value starting at p (not validated beyond its brackets), or NULL. */
static const char *skip_value(const char *p, const char *end)
{
    if (p >= end)
        return NULL;
    if (*p == '"')
        return skip_string(p, end);
    if (*p != '{' && *p != '[') {
        while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n' &&
               *p != '\r' && *p != '\t')
            p++;
        return p;
    }
    int depth = 0;
    while (p < end) {
        if (*p == '"') {
            p = skip_string(p, end);
            if (!p)
                return NULL;
            continue;
        }
        if (*p == '{' || *p == '[')
            depth++;
        else if (*p == '}' || *p == ']') {
            if (--depth == 0)
                return p + 1;
        }
        p++;
    }
    return NULL;
}

struct span {
    const char *p;
    size_t len;
};

/* Finds the top-level "args" and "kwargs" of a request body. Returns false when the body is not an
 * object holding both. */
static bool parse_request(const char *p, size_t len, struct span *args, struct span *kwargs)
{
    const char *end = p + len;
    *args = *kwargs = (struct span){0};
    p = skip_ws(p, end);
    if (p >= end || *p != '{')
        return false;
    p = skip_ws(p + 1, end);
    while (p < end && *p == '"') {
        const char *key = p + 1;
        const char *key_end = skip_string(p, end);
        if (!key_end)
            return false;
        size_t key_len = (size_t)(key_end - 1 - key);
        p = skip_ws(key_end, end);
        if (p >= end || *p != ':')
            return false;
        p = skip_ws(p + 1, end);
        const char *value_end = skip_value(p, end);
        if (!value_end)
            return false;
        struct span value = {p, (size_t)(value_end - p)};
        if (key_len == 4 && memcmp(key, "args", 4) == 0)
            *args = value;
        else if (key_len == 6 && memcmp(key, "kwargs", 6) == 0)
            *kwargs = value;
        p = skip_ws(value_end, end);
        if (p < end && *p == ',')
            p = skip_ws(p + 1, end);
    }
    return args->p != NULL && kwargs->p != NULL;
}

static bool empty_object(struct span s)
{
    if (s.len < 2 || s.p[0] != '{')
        return false;
    const char *p = skip_ws(s.p + 1, s.p + s.len);
    return p < s.p + s.len && *p == '}';
}

/* Appends n bytes to the reply buffer at *used. */
static void out_put(struct backend *b, size_t *used, const char *s, size_t n)
{
    if (*used + n > b->out_cap) {
        while (*used + n > b->out_cap)
            b->out_cap *= 2;
        b->out = realloc(b->out, b->out_cap);
        if (!b->out)
            abort();
    }
    memcpy(b->out + *used, s, n);
    *used += n;
}

static void out_str(struct backend *b, size_t *used, const char *s)
{
    out_put(b, used, s, strlen(s));
}

/* nameko's error object; text holds no characters that need escaping (method names, fixed text). */
static void out_error(struct backend *b, size_t *used, const char *type, const char *text,
                      size_t text_len)
{
    out_str(b, used, "{\"result\": null, \"error\": {\"exc_type\": \"");
    out_str(b, used, type);
    out_str(b, used, "\", \"exc_path\": \"nameko.exceptions.");
    out_str(b, used, type);
    out_str(b, used, "\", \"exc_args\": [\"");
    out_put(b, used, text, text_len);
    out_str(b, used, "\"], \"value\": \"");
    out_put(b, used, text, text_len);
    out_str(b, used, "\"}}");
}

/* Writes the reply body for one request into b->out; returns its length. */
static size_t reply_body(struct backend *b, const amqp_envelope_t *env)
{
    size_t used = 0;
    const char *key = env->routing_key.bytes;
    size_t key_len = env->routing_key.len;
    const char *method = key + b->prefix_len;
    size_t method_len = key_len >= b->prefix_len ? key_len - b->prefix_len : 0;
    if (key_len < b->prefix_len || memcmp(key, b->method_prefix, b->prefix_len) != 0 ||
        method_len != 4 || memcmp(method, "echo", 4) != 0) {
        bool printable = true;
        for (size_t i = 0; i < method_len; i++)
            if (method[i] == '"' || method[i] == '\\' || (unsigned char)method[i] < 0x20)
                printable = false;
        out_error(b, &used, "MethodNotFound", printable ? method : "?", printable ? method_len : 1);
        return used;
    }
    struct span args = {0}, kwargs = {0};
    if (!parse_request(env->message.body.bytes, env->message.body.len, &args, &kwargs)) {
        static const char why[] = "Message missing `args` or `kwargs`";
        out_error(b, &used, "MalformedRequest", why, sizeof(why) - 1);
        return used;
    }
    struct span result = empty_object(kwargs) ? args : kwargs;
    out_str(b, &used, "{\"result\": ");
    out_put(b, &used, result.p, result.len);
    out_str(b, &used, ", \"error\": null}");
    return used;
}

/* Appends value as compact JSON (jansson) to the reply buffer at *used. */
static void out_json(struct backend *b, size_t *used, const json_t *value)
{
    for (;;) {
        size_t n =
            json_dumpb(value, b->out + *used, b->out_cap - *used, JSON_COMPACT | JSON_ENCODE_ANY);
        if (n == 0)
            bench_die(TOOL, "cannot encode a reply");
        if (*used + n <= b->out_cap) {
            *used += n;
            return;
        }
        while (*used + n > b->out_cap)
            b->out_cap *= 2;
        b->out = realloc(b->out, b->out_cap);
        if (!b->out)
            abort();
    }
}

/* amphora's WrongRequest reply (§3) with one string argument. */
static void out_wrong_request(struct backend *b, size_t *used, json_t *text)
{
    json_t *args = json_array();
    json_array_append_new(args, text ? text : json_string("?"));
    out_str(b, used, "{\"exception\": {\"type\": \"WrongRequest\", \"args\": ");
    out_json(b, used, args);
    out_str(b, used, "}}");
    json_decref(args);
}

/* Writes amphora's reply body for one request into b->out; returns its length. */
static size_t amphora_reply_body(struct backend *b, const amqp_envelope_t *env)
{
    size_t used = 0;
    const char *body = env->message.body.bytes;
    size_t body_len = env->message.body.len;
    json_t *request = json_loadb(body, body_len, 0, NULL);
    json_t *func = json_object_get(request, "func");
    json_t *args = json_object_get(request, "args");
    json_t *kwargs = json_object_get(request, "kwargs");
    if (!json_is_string(func) || !json_is_array(args) || !json_is_object(kwargs)) {
        /* The raw body as the argument; a body that is not UTF-8 gets "?". */
        out_wrong_request(b, &used, json_stringn(body, body_len));
    } else if (strcmp(json_string_value(func), "echo") != 0) {
        char text[300];
        snprintf(text, sizeof(text), "No function %s defined", json_string_value(func));
        out_wrong_request(b, &used, json_string(text));
    } else {
        out_str(b, &used, "{\"result\": ");
        out_json(b, &used, json_object_size(kwargs) ? kwargs : args);
        out_str(b, &used, "}");
    }
    json_decref(request);
    return used;
}

static void push_ack(struct backend *b, uint64_t publish_seq, uint64_t delivery_tag)
{
    if (b->ack_len == WINDOW)
        bench_die(TOOL, "more than %d requests wait for their reply's confirm", WINDOW);
    b->acks[(b->ack_head + b->ack_len) % WINDOW] =
        (struct pending_ack){.publish_seq = publish_seq, .delivery_tag = delivery_tag};
    b->ack_len++;
}

/* amphora (§3, §4): a request without reply_to or message_id is acked without a reply. */
static void handle_amphora_delivery(struct backend *b, const amqp_envelope_t *env)
{
    const amqp_basic_properties_t *req = &env->message.properties;
    b->handled++;
    if (!(req->_flags & AMQP_BASIC_REPLY_TO_FLAG) || !(req->_flags & AMQP_BASIC_MESSAGE_ID_FLAG)) {
        push_ack(b, b->next_seq - 1, env->delivery_tag);
        return;
    }
    size_t len = amphora_reply_body(b, env);
    amqp_basic_properties_t props;
    props._flags = AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG;
    props.message_id = req->message_id;
    props.delivery_mode = 2;
    amqp_bytes_t body = {.len = len, .bytes = b->out};
    int rc = amqp_basic_publish(b->state, 1, amqp_cstring_bytes(b->exchange), req->reply_to, 0, 0,
                                &props, body);
    if (rc != AMQP_STATUS_OK)
        bench_die(TOOL, "publish: %s", amqp_error_string2(rc));
    push_ack(b, b->next_seq++, env->delivery_tag);
}

static void handle_delivery(struct backend *b, const amqp_envelope_t *env)
{
    if (b->amphora) {
        handle_amphora_delivery(b, env);
        return;
    }
    const amqp_basic_properties_t *req = &env->message.properties;
    b->handled++;
    if (!(req->_flags & AMQP_BASIC_REPLY_TO_FLAG)) {
        /* nameko would crash on this one (§2); here it is only acked and dropped. */
        push_ack(b, b->next_seq - 1, env->delivery_tag);
        return;
    }
    size_t len = reply_body(b, env);
    amqp_basic_properties_t props;
    props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_CONTENT_ENCODING_FLAG |
                   AMQP_BASIC_HEADERS_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
                   AMQP_BASIC_PRIORITY_FLAG;
    props.content_type = (req->_flags & AMQP_BASIC_CONTENT_TYPE_FLAG)
                             ? req->content_type
                             : amqp_cstring_bytes("application/json");
    props.content_encoding = amqp_cstring_bytes("utf-8");
    props.headers = amqp_empty_table;
    props.delivery_mode = 2;
    props.priority = 0;
    if (req->_flags & AMQP_BASIC_CORRELATION_ID_FLAG) {
        props._flags |= AMQP_BASIC_CORRELATION_ID_FLAG;
        props.correlation_id = req->correlation_id;
    }
    amqp_bytes_t body = {.len = len, .bytes = b->out};
    int rc = amqp_basic_publish(b->state, 1, amqp_cstring_bytes(b->exchange), req->reply_to, 0, 0,
                                &props, body);
    if (rc != AMQP_STATUS_OK)
        bench_die(TOOL, "publish: %s", amqp_error_string2(rc));
    push_ack(b, b->next_seq++, env->delivery_tag);
}

static bool seq_confirmed(const struct backend *b, uint64_t seq)
{
    if (seq <= b->confirmed_upto)
        return true;
    if (seq - b->confirmed_upto >= WINDOW)
        return false;
    return b->confirmed_bits[(seq % WINDOW) / 8] & (1u << (seq % 8));
}

static void set_confirmed(struct backend *b, uint64_t tag, bool multiple)
{
    if (multiple) {
        while (b->confirmed_upto < tag) {
            b->confirmed_upto++;
            b->confirmed_bits[(b->confirmed_upto % WINDOW) / 8] &=
                (unsigned char)~(1u << (b->confirmed_upto % 8));
        }
    } else if (tag > b->confirmed_upto && tag - b->confirmed_upto < WINDOW) {
        b->confirmed_bits[(tag % WINDOW) / 8] |= (unsigned char)(1u << (tag % 8));
    }
    /* Fold single confirms that now continue the confirmed prefix into it. */
    while (b->confirmed_bits[((b->confirmed_upto + 1) % WINDOW) / 8] &
           (1u << ((b->confirmed_upto + 1) % 8))) {
        b->confirmed_upto++;
        b->confirmed_bits[(b->confirmed_upto % WINDOW) / 8] &=
            (unsigned char)~(1u << (b->confirmed_upto % 8));
    }
}

/* Acks, with one multiple=1 ack, every request whose reply (and every earlier one) is confirmed. */
static void flush_acks(struct backend *b)
{
    uint64_t tag = 0;
    while (b->ack_len > 0) {
        const struct pending_ack *a = &b->acks[b->ack_head];
        if (a->publish_seq != 0 && !seq_confirmed(b, a->publish_seq))
            break;
        tag = a->delivery_tag;
        b->ack_head = (b->ack_head + 1) % WINDOW;
        b->ack_len--;
    }
    if (tag > b->last_acked) {
        int rc = amqp_basic_ack(b->state, 1, tag, 1);
        if (rc != AMQP_STATUS_OK)
            bench_die(TOOL, "ack: %s", amqp_error_string2(rc));
        b->last_acked = tag;
    }
}

/* A frame that is not a delivery: a confirm, or the broker closing something. */
static void handle_frame(struct backend *b, const amqp_frame_t *frame)
{
    if (frame->frame_type != AMQP_FRAME_METHOD)
        return;
    switch (frame->payload.method.id) {
    case AMQP_BASIC_ACK_METHOD: {
        const amqp_basic_ack_t *ack = frame->payload.method.decoded;
        set_confirmed(b, ack->delivery_tag, ack->multiple);
        break;
    }
    case AMQP_BASIC_NACK_METHOD: {
        const amqp_basic_nack_t *nack = frame->payload.method.decoded;
        fprintf(stderr, TOOL ": the broker nacked reply %llu\n",
                (unsigned long long)nack->delivery_tag);
        set_confirmed(b, nack->delivery_tag, nack->multiple);
        break;
    }
    case AMQP_CHANNEL_CLOSE_METHOD: {
        const amqp_channel_close_t *c = frame->payload.method.decoded;
        bench_die(TOOL, "channel closed by the broker: %d %.*s", c->reply_code,
                  (int)c->reply_text.len, (const char *)c->reply_text.bytes);
    }
    case AMQP_CONNECTION_CLOSE_METHOD: {
        const amqp_connection_close_t *c = frame->payload.method.decoded;
        bench_die(TOOL, "connection closed by the broker: %d %.*s", c->reply_code,
                  (int)c->reply_text.len, (const char *)c->reply_text.bytes);
    }
    default:
        break;
    }
}

/* Waits at most timeout_ms for input, handles everything already buffered, then acks. */
static void drain(struct backend *b, int timeout_ms)
{
    struct timeval zero = {0, 0};
    if (!bench_amqp_wait(b->state, timeout_ms))
        return;
    do {
        amqp_maybe_release_buffers(b->state);
        amqp_envelope_t env;
        amqp_rpc_reply_t reply = amqp_consume_message(b->state, &env, &zero, 0);
        if (reply.reply_type == AMQP_RESPONSE_NORMAL) {
            handle_delivery(b, &env);
            amqp_destroy_envelope(&env);
            continue;
        }
        if (reply.reply_type != AMQP_RESPONSE_LIBRARY_EXCEPTION)
            bench_amqp_check(TOOL, reply, "consume");
        if (reply.library_error == AMQP_STATUS_TIMEOUT)
            break;
        if (reply.library_error != AMQP_STATUS_UNEXPECTED_STATE)
            bench_amqp_check(TOOL, reply, "consume");
        amqp_frame_t frame;
        int rc = amqp_simple_wait_frame_noblock(b->state, &frame, &zero);
        if (rc == AMQP_STATUS_TIMEOUT)
            break;
        if (rc != AMQP_STATUS_OK)
            bench_die(TOOL, "read: %s", amqp_error_string2(rc));
        handle_frame(b, &frame);
    } while (bench_amqp_buffered(b->state));
    if (!b->confirm)
        b->confirmed_upto = b->next_seq - 1;
    flush_acks(b);
}

int main(int argc, char **argv)
{
    const char *uri = "amqp://guest:guest@127.0.0.1:5672/";
    const char *service = "bench_echo";
    const char *exchange = "nameko-rpc";
    const char *protocol = "nameko";
    int prefetch = 10;
    bool confirm = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--no-confirm") == 0) {
            confirm = false;
            continue;
        }
        if (!v)
            bench_die(TOOL, "usage: echo_backend [--uri URI] [--protocol nameko|amphora] "
                            "[--service NAME] [--exchange NAME] [--prefetch N] [--no-confirm]");
        if (strcmp(a, "--uri") == 0)
            uri = v;
        else if (strcmp(a, "--protocol") == 0)
            protocol = v;
        else if (strcmp(a, "--service") == 0)
            service = v;
        else if (strcmp(a, "--exchange") == 0)
            exchange = v;
        else if (strcmp(a, "--prefetch") == 0)
            prefetch = atoi(v);
        else
            bench_die(TOOL, "unknown option %s", a);
        i++;
    }
    if (prefetch < 1 || prefetch > 65535)
        bench_die(TOOL, "--prefetch must be 1..65535");
    bool amphora = strcmp(protocol, "amphora") == 0;
    if (!amphora && strcmp(protocol, "nameko") != 0)
        bench_die(TOOL, "--protocol is nameko or amphora");
    if (strlen(service) > 200)
        bench_die(TOOL, "--service is too long");

    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    char request_exchange[256], response_exchange[256];
    snprintf(request_exchange, sizeof(request_exchange), "rpc_%s_request", service);
    snprintf(response_exchange, sizeof(response_exchange), "rpc_%s_response", service);
    struct backend b = {.exchange = amphora ? response_exchange : exchange,
                        .amphora = amphora,
                        .confirm = confirm,
                        .next_seq = 1};
    char prefix[256];
    snprintf(prefix, sizeof(prefix), "%s.", service);
    b.method_prefix = prefix;
    b.prefix_len = strlen(prefix);
    b.acks = calloc(WINDOW, sizeof(*b.acks));
    b.out_cap = 4096;
    b.out = malloc(b.out_cap);
    if (!b.acks || !b.out)
        abort();

    b.state = bench_amqp_open(TOOL, uri);
    if (confirm) {
        amqp_confirm_select(b.state, 1);
        bench_amqp_check(TOOL, amqp_get_rpc_reply(b.state), "confirm.select");
    }
    char queue[300], key[300];
    const char *bind_exchange;
    if (amphora) {
        /* As an amphora server declares itself (amphora-wire.md §1): both exchanges direct and
         * durable, the request queue durable and bound with "". */
        amqp_exchange_declare(b.state, 1, amqp_cstring_bytes(request_exchange),
                              amqp_cstring_bytes("direct"), 0, 1, 0, 0, amqp_empty_table);
        bench_amqp_check(TOOL, amqp_get_rpc_reply(b.state), "exchange.declare (request)");
        amqp_exchange_declare(b.state, 1, amqp_cstring_bytes(response_exchange),
                              amqp_cstring_bytes("direct"), 0, 1, 0, 0, amqp_empty_table);
        bench_amqp_check(TOOL, amqp_get_rpc_reply(b.state), "exchange.declare (response)");
        snprintf(queue, sizeof(queue), "rpc_%s_request", service);
        key[0] = '\0';
        bind_exchange = request_exchange;
    } else {
        /* As a nameko service declares itself (§2). */
        amqp_exchange_declare(b.state, 1, amqp_cstring_bytes(exchange), amqp_cstring_bytes("topic"),
                              0, 1, 0, 0, amqp_empty_table);
        bench_amqp_check(TOOL, amqp_get_rpc_reply(b.state), "exchange.declare");
        snprintf(queue, sizeof(queue), "rpc-%s", service);
        snprintf(key, sizeof(key), "%s.*", service);
        bind_exchange = exchange;
    }
    amqp_queue_declare(b.state, 1, amqp_cstring_bytes(queue), 0, 1, 0, 0, amqp_empty_table);
    bench_amqp_check(TOOL, amqp_get_rpc_reply(b.state), "queue.declare");
    amqp_queue_bind(b.state, 1, amqp_cstring_bytes(queue), amqp_cstring_bytes(bind_exchange),
                    amqp_cstring_bytes(key), amqp_empty_table);
    bench_amqp_check(TOOL, amqp_get_rpc_reply(b.state), "queue.bind");
    amqp_basic_qos(b.state, 1, 0, (uint16_t)prefetch, 0);
    bench_amqp_check(TOOL, amqp_get_rpc_reply(b.state), "basic.qos");
    amqp_basic_consume(b.state, 1, amqp_cstring_bytes(queue), amqp_empty_bytes, 0, 0, 0,
                       amqp_empty_table);
    bench_amqp_check(TOOL, amqp_get_rpc_reply(b.state), "basic.consume");
    printf("ready: consuming %s (%s, prefetch %d, confirms %s)\n", queue, protocol, prefetch,
           confirm ? "on" : "off");
    fflush(stdout);

    while (!stop)
        drain(&b, 200);
    printf("handled %lu request(s)\n", b.handled);
    amqp_channel_close(b.state, 1, AMQP_REPLY_SUCCESS);
    amqp_connection_close(b.state, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(b.state);
    free(b.acks);
    free(b.out);
    return 0;
}
