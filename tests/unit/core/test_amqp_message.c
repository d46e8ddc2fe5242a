#include "core/amqp_message.h"
#include "core/status.h"

#include "tests/unit/suites.h"

#include <amqp_framing.h>
#include <stdint.h>
#include <string.h>

/* Frames as rabbitmq-c decodes them, on channel 1. */
static amqp_basic_deliver_t deliver_args = {.delivery_tag = 7};
static amqp_basic_properties_t props = {._flags = AMQP_BASIC_CORRELATION_ID_FLAG};

static amqp_frame_t method_frame(amqp_method_number_t id)
{
    amqp_frame_t f = {.frame_type = AMQP_FRAME_METHOD, .channel = 1};
    f.payload.method.id = id;
    f.payload.method.decoded = &deliver_args;
    return f;
}

static amqp_frame_t header_frame(uint64_t body_size)
{
    amqp_frame_t f = {.frame_type = AMQP_FRAME_HEADER, .channel = 1};
    f.payload.properties.class_id = AMQP_BASIC_CLASS;
    f.payload.properties.body_size = body_size;
    f.payload.properties.decoded = &props;
    return f;
}

static amqp_frame_t body_frame(const char *bytes, size_t len)
{
    amqp_frame_t f = {.frame_type = AMQP_FRAME_BODY, .channel = 1};
    f.payload.body_fragment.bytes = (void *)(uintptr_t)bytes;
    f.payload.body_fragment.len = len;
    return f;
}

static char err[256];

START_TEST(a_body_in_one_frame_is_used_where_it_lies)
{
    struct gw_amqp_message *m = gw_amqp_message_new();
    ck_assert(!gw_amqp_message_pending(m));
    amqp_frame_t f = method_frame(AMQP_BASIC_DELIVER_METHOD);
    gw_amqp_message_begin(m, &f);
    ck_assert(gw_amqp_message_pending(m));
    f = header_frame(5);
    ck_assert_int_eq(gw_amqp_message_add(m, &f, err, sizeof(err)), GW_AGAIN);
    static const char body[] = "hello";
    f = body_frame(body, 5);
    ck_assert_int_eq(gw_amqp_message_add(m, &f, err, sizeof(err)), GW_OK);
    ck_assert_uint_eq(gw_amqp_message_method(m)->id, AMQP_BASIC_DELIVER_METHOD);
    ck_assert_ptr_eq(gw_amqp_message_method(m)->decoded, &deliver_args);
    ck_assert_ptr_eq(gw_amqp_message_props(m), &props);
    amqp_bytes_t got = gw_amqp_message_body(m);
    ck_assert_ptr_eq(got.bytes, body); /* not copied */
    ck_assert_uint_eq(got.len, 5);
    ck_assert(gw_amqp_message_pending(m)); /* until ended: its frames' memory is still in use */
    gw_amqp_message_end(m);
    ck_assert(!gw_amqp_message_pending(m));
    gw_amqp_message_free(m);
    gw_amqp_message_free(NULL);
}
END_TEST

START_TEST(a_body_of_several_frames_is_joined)
{
    struct gw_amqp_message *m = gw_amqp_message_new();
    static const char body[] = "0123456789abcdefghij";
    for (int round = 0; round < 2; round++) { /* a second message after the first's end */
        amqp_frame_t f = method_frame(AMQP_BASIC_DELIVER_METHOD);
        gw_amqp_message_begin(m, &f);
        f = header_frame(20);
        ck_assert_int_eq(gw_amqp_message_add(m, &f, err, sizeof(err)), GW_AGAIN);
        f = body_frame(body, 3);
        ck_assert_int_eq(gw_amqp_message_add(m, &f, err, sizeof(err)), GW_AGAIN);
        f = body_frame(body + 3, 0); /* an empty body frame: nothing, not an error */
        ck_assert_int_eq(gw_amqp_message_add(m, &f, err, sizeof(err)), GW_AGAIN);
        f = body_frame(body + 3, 10);
        ck_assert_int_eq(gw_amqp_message_add(m, &f, err, sizeof(err)), GW_AGAIN);
        f = body_frame(body + 13, 7);
        ck_assert_int_eq(gw_amqp_message_add(m, &f, err, sizeof(err)), GW_OK);
        amqp_bytes_t got = gw_amqp_message_body(m);
        ck_assert_uint_eq(got.len, 20);
        ck_assert_ptr_ne(got.bytes, body);
        ck_assert_int_eq(memcmp(got.bytes, body, 20), 0);
        gw_amqp_message_end(m);
    }
    gw_amqp_message_free(m);
}
END_TEST

START_TEST(an_empty_body_is_complete_at_its_header)
{
    struct gw_amqp_message *m = gw_amqp_message_new();
    amqp_frame_t f = method_frame(AMQP_BASIC_RETURN_METHOD);
    gw_amqp_message_begin(m, &f);
    f = header_frame(0);
    ck_assert_int_eq(gw_amqp_message_add(m, &f, err, sizeof(err)), GW_OK);
    ck_assert_uint_eq(gw_amqp_message_method(m)->id, AMQP_BASIC_RETURN_METHOD);
    ck_assert_uint_eq(gw_amqp_message_body(m).len, 0);
    gw_amqp_message_end(m);
    gw_amqp_message_free(m);
}
END_TEST

/* Each frame that has no place where it comes is refused with a reason, and leaves nothing
 * behind once the message is ended. */
START_TEST(frames_out_of_place_are_refused)
{
    struct gw_amqp_message *m = gw_amqp_message_new();
    static const char body[] = "abcdef";
    amqp_frame_t f;

    f = method_frame(AMQP_BASIC_DELIVER_METHOD);
    gw_amqp_message_begin(m, &f);
    f = body_frame(body, 3); /* a body before the header */
    ck_assert_int_eq(gw_amqp_message_add(m, &f, err, sizeof(err)), GW_EBROKER);
    ck_assert_str_eq(err, "a body frame where a message's content header was due");
    gw_amqp_message_end(m);

    f = method_frame(AMQP_BASIC_DELIVER_METHOD);
    gw_amqp_message_begin(m, &f);
    f = header_frame(6);
    ck_assert_int_eq(gw_amqp_message_add(m, &f, err, sizeof(err)), GW_AGAIN);
    f = body_frame(body, 2);
    ck_assert_int_eq(gw_amqp_message_add(m, &f, err, sizeof(err)), GW_AGAIN);
    f = method_frame(AMQP_BASIC_DELIVER_METHOD); /* a method inside the body */
    ck_assert_int_eq(gw_amqp_message_add(m, &f, err, sizeof(err)), GW_EBROKER);
    ck_assert_str_eq(err, "a method frame inside a message's body");
    gw_amqp_message_end(m);

    f = method_frame(AMQP_BASIC_DELIVER_METHOD);
    gw_amqp_message_begin(m, &f);
    f = header_frame(4);
    gw_amqp_message_add(m, &f, err, sizeof(err));
    f = body_frame(body, 3);
    ck_assert_int_eq(gw_amqp_message_add(m, &f, err, sizeof(err)), GW_AGAIN);
    f = body_frame(body + 3, 3); /* past the size the header gave */
    ck_assert_int_eq(gw_amqp_message_add(m, &f, err, sizeof(err)), GW_EBROKER);
    ck_assert_str_eq(err, "a message's body is longer than the 4 bytes its header said");
    gw_amqp_message_end(m);

    f = header_frame(4); /* no message begun */
    ck_assert_int_eq(gw_amqp_message_add(m, &f, err, sizeof(err)), GW_EBROKER);
    ck_assert_str_eq(err, "a content header frame outside a message");
    gw_amqp_message_free(m);
}
END_TEST

/* A header that claims a body far larger than ever comes: what is held is what came (a terabyte
 * is not allocated up front), and a new message drops the unfinished one. */
START_TEST(a_huge_claimed_body_costs_only_what_came)
{
    struct gw_amqp_message *m = gw_amqp_message_new();
    static const char body[] = "abcdef";
    amqp_frame_t f = method_frame(AMQP_BASIC_DELIVER_METHOD);
    gw_amqp_message_begin(m, &f);
    f = header_frame((uint64_t)1 << 40);
    ck_assert_int_eq(gw_amqp_message_add(m, &f, err, sizeof(err)), GW_AGAIN);
    for (int i = 0; i < 1000; i++) {
        f = body_frame(body, 6);
        ck_assert_int_eq(gw_amqp_message_add(m, &f, err, sizeof(err)), GW_AGAIN);
    }
    f = method_frame(AMQP_BASIC_DELIVER_METHOD);
    gw_amqp_message_begin(m, &f); /* drops the unfinished one (its buffer freed: ASan, valgrind) */
    f = header_frame(2);
    gw_amqp_message_add(m, &f, err, sizeof(err));
    f = body_frame(body, 2);
    ck_assert_int_eq(gw_amqp_message_add(m, &f, err, sizeof(err)), GW_OK);
    ck_assert_int_eq(memcmp(gw_amqp_message_body(m).bytes, "ab", 2), 0);
    gw_amqp_message_free(m); /* ended or not */
}
END_TEST

Suite *amqp_message_suite(void)
{
    Suite *s = suite_create("amqp_message");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, a_body_in_one_frame_is_used_where_it_lies);
    tcase_add_test(tc, a_body_of_several_frames_is_joined);
    tcase_add_test(tc, an_empty_body_is_complete_at_its_header);
    tcase_add_test(tc, frames_out_of_place_are_refused);
    tcase_add_test(tc, a_huge_claimed_body_costs_only_what_came);
    suite_add_tcase(s, tc);
    return s;
}
