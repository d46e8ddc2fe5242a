/* bench_common.h - helpers shared by the benchmark tools in bench/ (header only: each tool is one
 * .c file built by `make bench`). Not part of enoki: nothing under core/, routes/ or gateway/
 * includes this. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

__attribute__((format(printf, 2, 3), noreturn)) static inline void bench_die(const char *tool,
                                                                             const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", tool);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* Exits with a message naming what failed unless reply is a normal one. */
static inline void bench_amqp_check(const char *tool, amqp_rpc_reply_t reply, const char *what)
{
    switch (reply.reply_type) {
    case AMQP_RESPONSE_NORMAL:
        return;
    case AMQP_RESPONSE_NONE:
        bench_die(tool, "%s: no reply from the broker", what);
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        bench_die(tool, "%s: %s", what, amqp_error_string2(reply.library_error));
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
            const amqp_connection_close_t *c = reply.reply.decoded;
            bench_die(tool, "%s: connection closed: %d %.*s", what, c->reply_code,
                      (int)c->reply_text.len, (const char *)c->reply_text.bytes);
        }
        if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
            const amqp_channel_close_t *c = reply.reply.decoded;
            bench_die(tool, "%s: channel closed: %d %.*s", what, c->reply_code,
                      (int)c->reply_text.len, (const char *)c->reply_text.bytes);
        }
        bench_die(tool, "%s: unexpected method 0x%08x", what, (unsigned)reply.reply.id);
    }
    bench_die(tool, "%s: unknown reply type", what);
}

/* Opens a connection to uri (amqp://user:pass@host:port/vhost) with no heartbeat and channel 1
 * open. Returns the new connection state; exits on failure. */
static inline amqp_connection_state_t bench_amqp_open(const char *tool, const char *uri)
{
    char *copy = strdup(uri);
    struct amqp_connection_info info;
    if (!copy || amqp_parse_url(copy, &info) != AMQP_STATUS_OK)
        bench_die(tool, "cannot parse AMQP URI '%s'", uri);
    amqp_connection_state_t state = amqp_new_connection();
    amqp_socket_t *socket = amqp_tcp_socket_new(state);
    if (!socket)
        bench_die(tool, "cannot create a socket");
    int rc = amqp_socket_open(socket, info.host, info.port);
    if (rc != AMQP_STATUS_OK)
        bench_die(tool, "cannot connect to %s:%d: %s", info.host, info.port,
                  amqp_error_string2(rc));
    bench_amqp_check(tool,
                     amqp_login(state, info.vhost, 0, AMQP_DEFAULT_FRAME_SIZE, 0,
                                AMQP_SASL_METHOD_PLAIN, info.user, info.password),
                     "login");
    amqp_channel_open(state, 1);
    bench_amqp_check(tool, amqp_get_rpc_reply(state), "channel.open");
    free(copy);
    return state;
}

/* Waits up to timeout_ms for input. Frames or bytes rabbitmq-c already holds count at once, so a
 * caller that takes what is buffered and then comes back here makes one poll and one read per
 * wakeup, not the extra read that ends in EAGAIN and the poll(0) that amqp_consume_message makes
 * when its buffer is empty. */
static inline bool bench_amqp_wait(amqp_connection_state_t state, int timeout_ms)
{
    if (amqp_frames_enqueued(state) || amqp_data_in_buffer(state))
        return true;
    struct pollfd p = {.fd = amqp_get_sockfd(state), .events = POLLIN};
    return poll(&p, 1, timeout_ms) > 0;
}

/* Whether rabbitmq-c holds input not yet handed out. */
static inline bool bench_amqp_buffered(amqp_connection_state_t state)
{
    return amqp_frames_enqueued(state) || amqp_data_in_buffer(state);
}

/* The properties nameko gives a request (/work/shared/nameko-wire.md §2): JSON in utf-8, headers
 * {"nameko.call_id_stack": [call_id]}, delivery_mode, priority 0; a caller adds its
 * correlation_id and reply_to. The headers point into *entry and *header and at call_id, which
 * must outlive the publish. */
static inline amqp_basic_properties_t bench_nameko_props(const char *call_id, uint8_t delivery_mode,
                                                         amqp_field_value_t *entry,
                                                         amqp_table_entry_t *header)
{
    *entry = (amqp_field_value_t){.kind = AMQP_FIELD_KIND_UTF8,
                                  .value.bytes = amqp_cstring_bytes(call_id)};
    *header = (amqp_table_entry_t){.key = amqp_cstring_bytes("nameko.call_id_stack"),
                                   .value = {.kind = AMQP_FIELD_KIND_ARRAY,
                                             .value.array = {.num_entries = 1, .entries = entry}}};
    amqp_basic_properties_t props = {0};
    props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_CONTENT_ENCODING_FLAG |
                   AMQP_BASIC_HEADERS_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
                   AMQP_BASIC_PRIORITY_FLAG;
    props.content_type = amqp_cstring_bytes("application/json");
    props.content_encoding = amqp_cstring_bytes("utf-8");
    props.headers = (amqp_table_t){.num_entries = 1, .entries = header};
    props.delivery_mode = delivery_mode;
    props.priority = 0;
    return props;
}

static inline int bench_u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The q-quantile (0..1) of n samples, sorting them in place; 0 when there are none. */
static inline uint32_t bench_quantile(uint32_t *samples, size_t n, double q)
{
    if (n == 0)
        return 0;
    qsort(samples, n, sizeof(*samples), bench_u32_cmp);
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return samples[i < n ? i : n - 1];
}

/* A growing array of latency samples in microseconds. */
struct bench_samples {
    uint32_t *v;
    size_t n, cap;
};

static inline void bench_samples_add(struct bench_samples *s, uint64_t ns)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 65536;
        s->v = realloc(s->v, s->cap * sizeof(*s->v));
        if (!s->v)
            abort();
    }
    uint64_t us = ns / 1000;
    s->v[s->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/* The samples in the order taken, as "rounds_us 1 2 3" on stderr: when the slow ones came. Before
 * bench_quantile, which sorts them. */
static inline void bench_samples_print(const struct bench_samples *s)
{
    fprintf(stderr, "rounds_us");
    for (size_t i = 0; i < s->n; i++)
        fprintf(stderr, " %u", s->v[i]);
    fprintf(stderr, "\n");
}

#endif
