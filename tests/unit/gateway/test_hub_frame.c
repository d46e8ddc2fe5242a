/* Unit tests for gateway/hub_frame: a frame shared by many send queues lives exactly as long as its
 * last reference (gw_hub_frames_live counts the living ones; ASan and valgrind see the rest), and
 * a send queue keeps its frames in order, counts their bytes and gives its references back.
 */
#include "gateway/hub_frame.h"

#include "tests/unit/suites.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

START_TEST(shared_by_queues)
{
    size_t before = gw_hub_frames_live();
    struct gw_hub_frame *f = gw_hub_frame_new("{\"seq\": 1}", 10);
    ck_assert_uint_eq(gw_hub_frames_live(), before + 1);
    ck_assert_uint_eq(gw_hub_frame_len(f), 10);
    ck_assert(memcmp(gw_hub_frame_payload(f), "{\"seq\": 1}", 10) == 0);
    /* libwebsockets writes its header in the headroom: it is there, and the payload survives. */
    memset(gw_hub_frame_payload(f) - LWS_PRE, 0x81, LWS_PRE);
    ck_assert(memcmp(gw_hub_frame_payload(f), "{\"seq\": 1}", 10) == 0);

    struct gw_hub_sendq q[3] = {{0}, {0}, {0}};
    for (int i = 0; i < 3; i++)
        gw_hub_sendq_push(&q[i], f);
    ck_assert_uint_eq(gw_hub_frame_refs(f), 4);
    gw_hub_frame_unref(f); /* the broadcast's own reference: the queues keep it alive */
    ck_assert_uint_eq(gw_hub_frames_live(), before + 1);

    struct gw_hub_frame *got = gw_hub_sendq_pop(&q[0]);
    ck_assert_ptr_eq(got, f);
    ck_assert_uint_eq(gw_hub_frame_refs(f), 3); /* popped: the reference is the caller's now */
    gw_hub_frame_unref(got);
    ck_assert_uint_eq(gw_hub_frame_refs(f), 2);
    gw_hub_sendq_clear(&q[1]); /* a socket that closes drops its reference */
    ck_assert_uint_eq(gw_hub_frame_refs(f), 1);
    ck_assert_uint_eq(gw_hub_frames_live(), before + 1);
    got = gw_hub_sendq_pop(&q[2]);
    gw_hub_frame_unref(got); /* the last socket has written it */
    ck_assert_uint_eq(gw_hub_frames_live(), before);
    ck_assert_ptr_null(gw_hub_sendq_pop(&q[2]));
    for (int i = 0; i < 3; i++)
        gw_hub_sendq_clear(&q[i]); /* their small rings, kept for the next frame */
}
END_TEST

START_TEST(empty_frame)
{
    size_t before = gw_hub_frames_live();
    struct gw_hub_frame *f = gw_hub_frame_new(NULL, 0);
    ck_assert_uint_eq(gw_hub_frame_len(f), 0);
    ck_assert_ptr_nonnull(gw_hub_frame_payload(f));
    gw_hub_frame_unref(f);
    gw_hub_frame_unref(NULL);
    ck_assert_uint_eq(gw_hub_frames_live(), before);
}
END_TEST

/* Oldest first through the ring's growth and wrap-around; bytes follow what is queued. */
START_TEST(queue_in_order)
{
    size_t before = gw_hub_frames_live();
    enum { N = 100 };
    struct gw_hub_frame *frames[N];
    char text[16];
    for (int i = 0; i < N; i++) {
        int n = snprintf(text, sizeof(text), "%d", i);
        frames[i] = gw_hub_frame_new(text, (size_t)n);
    }
    struct gw_hub_sendq q = {0};
    ck_assert_ptr_null(q.ring); /* an idle socket's queue holds nothing */
    size_t bytes = 0;
    int next_out = 0;
    for (int i = 0; i < N; i++) {
        gw_hub_sendq_push(&q, frames[i]);
        bytes += gw_hub_frame_len(frames[i]);
        if (i % 3 == 2) { /* the writer drains one frame in three: the ring wraps as it grows */
            struct gw_hub_frame *f = gw_hub_sendq_pop(&q);
            ck_assert_ptr_eq(f, frames[next_out]);
            bytes -= gw_hub_frame_len(f);
            gw_hub_frame_unref(f);
            next_out++;
        }
        ck_assert_uint_eq(q.bytes, bytes);
    }
    for (int i = 0; i < N; i++)
        gw_hub_frame_unref(frames[i]);
    ck_assert_uint_eq(gw_hub_frames_live(), before + (size_t)(N - next_out));
    struct gw_hub_frame *f;
    while ((f = gw_hub_sendq_pop(&q)) != NULL) {
        ck_assert_ptr_eq(f, frames[next_out]);
        ck_assert_uint_eq(gw_hub_frame_refs(f), 1);
        gw_hub_frame_unref(f);
        next_out++;
    }
    ck_assert_int_eq(next_out, N);
    ck_assert_uint_eq(q.bytes, 0);
    ck_assert_ptr_null(q.ring); /* drained after a burst: the big ring is gone */
    ck_assert_uint_eq(gw_hub_frames_live(), before);
}
END_TEST

START_TEST(clear_gives_references_back)
{
    size_t before = gw_hub_frames_live();
    struct gw_hub_sendq q = {0};
    for (int i = 0; i < 10; i++) {
        struct gw_hub_frame *f = gw_hub_frame_new("x", 1);
        gw_hub_sendq_push(&q, f);
        gw_hub_sendq_push(&q, f);
        gw_hub_frame_unref(f);
    }
    ck_assert_uint_eq(q.count, 20);
    ck_assert_uint_eq(q.bytes, 20);
    ck_assert_uint_eq(gw_hub_frames_live(), before + 10);
    gw_hub_sendq_clear(&q);
    ck_assert_uint_eq(gw_hub_frames_live(), before);
    ck_assert_uint_eq(q.count, 0);
    ck_assert_uint_eq(q.bytes, 0);
    gw_hub_sendq_clear(&q); /* twice: nothing left */
}
END_TEST

/* The bytes a frame of len payload bytes goes out as: RFC 6455 5.2's header of a server's text
 * frame (FIN, opcode 1, unmasked; 7-bit, 16-bit or 64-bit length), then the payload. */
static void check_wire(size_t len, const unsigned char *header, size_t header_len)
{
    char *text = malloc(len + 1);
    for (size_t i = 0; i < len; i++)
        text[i] = (char)('a' + i % 26);
    struct gw_hub_frame *f = gw_hub_frame_new(text, len);
    size_t wire_len;
    const unsigned char *wire = gw_hub_frame_wire(f, &wire_len);
    ck_assert_uint_eq(wire_len, header_len + len);
    ck_assert_msg(memcmp(wire, header, header_len) == 0, "header of a %zu-byte frame", len);
    ck_assert(memcmp(wire + header_len, text, len) == 0);
    ck_assert_ptr_eq(wire + header_len, gw_hub_frame_payload(f));
    gw_hub_frame_unref(f);
    free(text);
}

START_TEST(wire_bytes)
{
    check_wire(0, (const unsigned char[]){0x81, 0}, 2);
    check_wire(5, (const unsigned char[]){0x81, 5}, 2);
    check_wire(125, (const unsigned char[]){0x81, 125}, 2);
    check_wire(126, (const unsigned char[]){0x81, 126, 0, 126}, 4);
    check_wire(4660, (const unsigned char[]){0x81, 126, 0x12, 0x34}, 4);
    check_wire(65535, (const unsigned char[]){0x81, 126, 0xff, 0xff}, 4);
    check_wire(65536, (const unsigned char[]){0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0}, 10);
    check_wire(0x123456, (const unsigned char[]){0x81, 127, 0, 0, 0, 0, 0, 0x12, 0x34, 0x56}, 10);
}
END_TEST

START_TEST(peek_leaves_the_queue_as_it_is)
{
    struct gw_hub_sendq q = {0};
    struct gw_hub_frame *f[4], *got[8];
    ck_assert_uint_eq(gw_hub_sendq_peek(&q, got, 8), 0);
    for (int i = 0; i < 4; i++) {
        f[i] = gw_hub_frame_new("abc", (size_t)i);
        gw_hub_sendq_push(&q, f[i]);
    }
    /* Round the ring's end (its first four places): the oldest two popped, two more pushed. */
    ck_assert_uint_eq(q.cap, 4);
    gw_hub_frame_unref(gw_hub_sendq_pop(&q));
    gw_hub_frame_unref(gw_hub_sendq_pop(&q));
    gw_hub_sendq_push(&q, f[0]);
    gw_hub_sendq_push(&q, f[1]);
    ck_assert_uint_eq(q.cap, 4);
    ck_assert_uint_eq(gw_hub_sendq_peek(&q, got, 3), 3);
    ck_assert_ptr_eq(got[0], f[2]);
    ck_assert_ptr_eq(got[1], f[3]);
    ck_assert_ptr_eq(got[2], f[0]);
    ck_assert_uint_eq(gw_hub_sendq_peek(&q, got, 8), 4);
    ck_assert_ptr_eq(got[3], f[1]);
    ck_assert_uint_eq(q.count, 4);
    ck_assert_uint_eq(gw_hub_frame_refs(f[2]), 2);
    gw_hub_sendq_clear(&q);
    for (int i = 0; i < 4; i++) {
        ck_assert_uint_eq(gw_hub_frame_refs(f[i]), 1);
        gw_hub_frame_unref(f[i]);
    }
}
END_TEST

Suite *hub_frame_suite(void)
{
    Suite *s = suite_create("hub_frame");
    TCase *tc = tcase_create("shared");
    tcase_add_test(tc, shared_by_queues);
    tcase_add_test(tc, empty_frame);
    tcase_add_test(tc, queue_in_order);
    tcase_add_test(tc, clear_gives_references_back);
    tcase_add_test(tc, wire_bytes);
    tcase_add_test(tc, peek_leaves_the_queue_as_it_is);
    suite_add_tcase(s, tc);
    return s;
}
