#include "core/amqp_out.h"
#include "core/status.h"

#include "tests/unit/suites.h"

#include <amqp_framing.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* A connected pair of stream sockets: [0] written by the buffer (non-blocking), [1] read here. */
static void socket_pair(int fds[2])
{
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
}

/* Reads exactly len bytes (blocking). */
static void read_all(int fd, unsigned char *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        ck_assert_int_gt(n, 0);
        got += (size_t)n;
    }
}

/* Whether the len bytes at p hold text. */
static bool holds(const unsigned char *p, size_t len, const char *text)
{
    size_t n = strlen(text);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(p + i, text, n) == 0)
            return true;
    return false;
}

static unsigned get16(const unsigned char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static unsigned long get32(const unsigned char *p)
{
    return (unsigned long)get16(p) << 16 | get16(p + 2);
}

/* One frame read from fd: its type, channel and payload (malloc'd, *len bytes). */
static unsigned char *read_frame(int fd, int *type, unsigned *channel, size_t *len)
{
    unsigned char head[7];
    read_all(fd, head, sizeof(head));
    *type = head[0];
    *channel = get16(head + 1);
    *len = get32(head + 3);
    unsigned char *payload = malloc(*len + 1);
    read_all(fd, payload, *len + 1);
    ck_assert_uint_eq(payload[*len], 0xCE); /* frame-end */
    return payload;
}

START_TEST(a_publish_is_a_method_a_header_and_body_frames_of_frame_max)
{
    int fds[2];
    socket_pair(fds);
    struct gw_amqp_out *out = gw_amqp_out_new(fds[0], NULL);
    amqp_basic_publish_t method = {.exchange = amqp_cstring_bytes("nameko-rpc"),
                                   .routing_key = amqp_cstring_bytes("svc.echo")};
    amqp_basic_properties_t props = {._flags = AMQP_BASIC_CORRELATION_ID_FLAG,
                                     .correlation_id = amqp_cstring_bytes("c-1")};
    char body[300];
    memset(body, 'x', sizeof(body));
    char err[128];
    /* frame_max 136: 128 bytes of payload per frame, so the body takes three frames. */
    ck_assert_int_eq(
        gw_amqp_out_publish(out, 1, 136, &method, &props, body, sizeof(body), err, sizeof(err)),
        GW_OK);
    ck_assert_int_eq(gw_amqp_out_flush_some(out, err, sizeof(err)), GW_OK);
    ck_assert_uint_eq(gw_amqp_out_bytes(out), 0);

    int type;
    unsigned channel;
    size_t len;
    unsigned char *p = read_frame(fds[1], &type, &channel, &len);
    ck_assert_int_eq(type, AMQP_FRAME_METHOD);
    ck_assert_uint_eq(channel, 1);
    ck_assert_uint_eq(get32(p), AMQP_BASIC_PUBLISH_METHOD);
    ck_assert(holds(p, len, "svc.echo"));
    free(p);
    p = read_frame(fds[1], &type, &channel, &len);
    ck_assert_int_eq(type, AMQP_FRAME_HEADER);
    ck_assert_uint_eq(get16(p), AMQP_BASIC_CLASS);
    ck_assert_uint_eq(get32(p + 8), sizeof(body)); /* the low half of the 64-bit body size */
    ck_assert(holds(p, len, "c-1"));
    free(p);
    const size_t parts[] = {128, 128, 44};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        p = read_frame(fds[1], &type, &channel, &len);
        ck_assert_int_eq(type, AMQP_FRAME_BODY);
        ck_assert_uint_eq(channel, 1);
        ck_assert_uint_eq(len, parts[i]);
        ck_assert_int_eq(memcmp(p, body, len), 0);
        free(p);
    }
    gw_amqp_out_free(out);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

START_TEST(a_heartbeat_fills_only_a_silence)
{
    int fds[2];
    socket_pair(fds);
    struct gw_amqp_out *out = gw_amqp_out_new(fds[0], NULL);
    gw_amqp_out_beat(out, 60000); /* just made: not silent for a minute */
    ck_assert_uint_eq(gw_amqp_out_bytes(out), 0);
    gw_amqp_out_beat(out, 0);
    ck_assert_uint_eq(gw_amqp_out_bytes(out), 8);
    char err[128];
    ck_assert_int_eq(gw_amqp_out_flush(out, 1000, err, sizeof(err)), GW_OK);
    unsigned char frame[8];
    read_all(fds[1], frame, sizeof(frame));
    const unsigned char heartbeat[8] = {AMQP_FRAME_HEARTBEAT, 0, 0, 0, 0, 0, 0, 0xCE};
    ck_assert_int_eq(memcmp(frame, heartbeat, sizeof(frame)), 0);
    gw_amqp_out_free(out);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

/* A socket that takes only part: the rest waits (GW_AGAIN), in order, ahead of later frames. */
START_TEST(what_the_socket_does_not_take_waits_in_order)
{
    int fds[2];
    socket_pair(fds);
    int small = 4096;
    setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    struct gw_amqp_out *out = gw_amqp_out_new(fds[0], NULL);
    amqp_basic_publish_t method = {.exchange = amqp_cstring_bytes("x"),
                                   .routing_key = amqp_cstring_bytes("k")};
    amqp_basic_properties_t props = {0};
    enum { BODY = 1 << 20 };
    unsigned char *body = malloc(BODY);
    for (size_t i = 0; i < BODY; i++)
        body[i] = (unsigned char)(i * 7);
    char err[128];
    ck_assert_int_eq(
        gw_amqp_out_publish(out, 1, 131072, &method, &props, body, BODY, err, sizeof(err)), GW_OK);
    ck_assert_int_eq(gw_amqp_out_flush_some(out, err, sizeof(err)), GW_AGAIN);
    size_t waiting = gw_amqp_out_bytes(out);
    ck_assert_uint_gt(waiting, 0);
    amqp_basic_ack_t ack = {.delivery_tag = 7};
    ck_assert_int_eq(gw_amqp_out_method(out, 1, AMQP_BASIC_ACK_METHOD, &ack), GW_OK);
    ck_assert_uint_gt(gw_amqp_out_bytes(out), waiting);

    /* The reader takes every frame whole and in order while the writer goes on. */
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        close(fds[1]);
        int rc = gw_amqp_out_flush(out, 10000, err, sizeof(err)) == GW_OK ? 0 : 1;
        gw_amqp_out_free(out); /* valgrind follows the child too */
        free(body);
        _exit(rc);
    }
    int type;
    unsigned channel;
    size_t len;
    free(read_frame(fds[1], &type, &channel, &len));
    ck_assert_int_eq(type, AMQP_FRAME_METHOD);
    free(read_frame(fds[1], &type, &channel, &len));
    ck_assert_int_eq(type, AMQP_FRAME_HEADER);
    size_t got = 0;
    while (got < BODY) {
        unsigned char *p = read_frame(fds[1], &type, &channel, &len);
        ck_assert_int_eq(type, AMQP_FRAME_BODY);
        ck_assert_int_eq(memcmp(p, body + got, len), 0);
        got += len;
        free(p);
    }
    unsigned char *p = read_frame(fds[1], &type, &channel, &len);
    ck_assert_int_eq(type, AMQP_FRAME_METHOD);
    ck_assert_uint_eq(get32(p), AMQP_BASIC_ACK_METHOD);
    free(p);
    int code = -1;
    ck_assert_int_eq(waitpid(child, &code, 0), child);
    ck_assert(WIFEXITED(code) && WEXITSTATUS(code) == 0);
    free(body);
    gw_amqp_out_free(out);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

START_TEST(a_closed_peer_is_an_error_with_a_reason)
{
    int fds[2];
    socket_pair(fds);
    close(fds[1]);
    struct gw_amqp_out *out = gw_amqp_out_new(fds[0], NULL);
    amqp_basic_ack_t ack = {.delivery_tag = 1};
    ck_assert_int_eq(gw_amqp_out_method(out, 1, AMQP_BASIC_ACK_METHOD, &ack), GW_OK);
    char err[128] = "";
    ck_assert_int_eq(gw_amqp_out_flush_some(out, err, sizeof(err)), GW_EBROKER);
    ck_assert_ptr_nonnull(strstr(err, "send: "));
    ck_assert_uint_eq(gw_amqp_out_bytes(out), 0);
    gw_amqp_out_free(out);
    close(fds[0]);
}
END_TEST

/* A message that does not frame (a routing key over a short string's 255 bytes, properties over
 * a frame) is that message's error: nothing is queued, and what was queued before is intact. */
START_TEST(a_message_that_does_not_frame_queues_nothing)
{
    int fds[2];
    socket_pair(fds);
    struct gw_amqp_out *out = gw_amqp_out_new(fds[0], NULL);
    amqp_basic_ack_t ack = {.delivery_tag = 7};
    ck_assert_int_eq(gw_amqp_out_method(out, 1, AMQP_BASIC_ACK_METHOD, &ack), GW_OK);
    size_t before = gw_amqp_out_bytes(out);
    char key[257];
    memset(key, 'k', 256);
    key[256] = '\0';
    amqp_basic_publish_t method = {.exchange = amqp_cstring_bytes("nameko-rpc"),
                                   .routing_key = amqp_cstring_bytes(key)};
    amqp_basic_properties_t props = {._flags = AMQP_BASIC_CORRELATION_ID_FLAG,
                                     .correlation_id = amqp_cstring_bytes("c-1")};
    char err[128] = "";
    ck_assert_int_eq(gw_amqp_out_publish(out, 1, 4096, &method, &props, "{}", 2, err, sizeof(err)),
                     GW_EFRAME);
    ck_assert_ptr_nonnull(strstr(err, "publish: "));
    ck_assert_uint_eq(gw_amqp_out_bytes(out), before);
    /* Properties over the frame: a correlation id cannot be, headers can. */
    method.routing_key = amqp_cstring_bytes("svc.echo");
    char big[300];
    memset(big, 'v', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    amqp_table_entry_t header = {
        .key = amqp_cstring_bytes("nameko.big"),
        .value = {.kind = AMQP_FIELD_KIND_UTF8, .value.bytes = amqp_cstring_bytes(big)}};
    props._flags |= AMQP_BASIC_HEADERS_FLAG;
    props.headers = (amqp_table_t){.num_entries = 1, .entries = &header};
    ck_assert_int_eq(gw_amqp_out_publish(out, 1, 256, &method, &props, "{}", 2, err, sizeof(err)),
                     GW_EFRAME);
    ck_assert_uint_eq(gw_amqp_out_bytes(out), before);
    /* The ack queued before still goes out whole. */
    ck_assert_int_eq(gw_amqp_out_flush_some(out, err, sizeof(err)), GW_OK);
    int type;
    unsigned channel;
    size_t len;
    unsigned char *p = read_frame(fds[1], &type, &channel, &len);
    ck_assert_int_eq(type, AMQP_FRAME_METHOD);
    ck_assert_uint_eq(get32(p), AMQP_BASIC_ACK_METHOD);
    free(p);
    gw_amqp_out_free(out);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

Suite *amqp_out_suite(void)
{
    Suite *s = suite_create("amqp_out");
    TCase *tc = tcase_create("frames");
    tcase_add_test(tc, a_publish_is_a_method_a_header_and_body_frames_of_frame_max);
    tcase_add_test(tc, a_heartbeat_fills_only_a_silence);
    tcase_add_test(tc, what_the_socket_does_not_take_waits_in_order);
    tcase_add_test(tc, a_closed_peer_is_an_error_with_a_reason);
    tcase_add_test(tc, a_message_that_does_not_frame_queues_nothing);
    suite_add_tcase(s, tc);
    return s;
}
