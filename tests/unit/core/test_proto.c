/* Unit tests for core/proto_nameko (behind core/proto.h) and core/amqp_plan: what nameko's protocol
 * declares, how it encodes a request and its properties, and how it knows and reads a reply. No
 * broker: the protocol is pure. */
#include "core/amqp_plan.h"
#include "core/proto.h"
#include "core/rpc.h"
#include "core/status.h"
#include "core/wire.h"

#include "tests/unit/suites.h"

#include <stdlib.h>
#include <string.h>

static char rpc_exchange[] = "nameko-rpc", name[] = "gw";

static struct gw_config test_config(void)
{
    struct gw_config config = {0};
    config.rpc_exchange = rpc_exchange;
    config.name = name;
    config.delivery_mode = 1;
    return config;
}

static bool bytes_are(amqp_bytes_t b, const char *s)
{
    return b.len == strlen(s) && memcmp(b.bytes, s, b.len) == 0;
}

START_TEST(nameko_declares_its_reply_queue)
{
    struct gw_config config = test_config();
    struct gw_proto proto = gw_proto_nameko(&config);
    ck_assert_int_eq(proto.protocol, GW_PROTO_NAMEKO);
    struct gw_amqp_plan plan = {0};
    proto.declare(proto.state, &plan);
    ck_assert_uint_eq(plan.n, 5);
    ck_assert_uint_eq(plan.n_consumers, 1);

    const struct gw_amqp_step *s = plan.steps;
    ck_assert_int_eq(s[0].kind, GW_STEP_EXCHANGE);
    ck_assert_str_eq(s[0].name, "nameko-rpc");
    ck_assert_str_eq(s[0].arg, "topic");

    /* rpc.reply-<name>-<uuid>, looked for first, durable, x-expires 300000. */
    const char *queue = s[1].name;
    ck_assert_int_eq(s[1].kind, GW_STEP_LOOK);
    ck_assert_str_eq(s[1].role, "reply");
    ck_assert(strncmp(queue, "rpc.reply-gw-", 13) == 0);
    ck_assert_uint_eq(strlen(queue), 13 + GW_UUID_LEN);
    ck_assert_int_eq(s[2].kind, GW_STEP_QUEUE);
    ck_assert_str_eq(s[2].name, queue);
    ck_assert_uint_eq(s[2].flags, GW_QUEUE_DURABLE);
    ck_assert_int_eq(s[2].number, 300000);

    /* Bound to the RPC exchange by the uuid, which requests carry as reply_to. */
    ck_assert_int_eq(s[3].kind, GW_STEP_BIND);
    ck_assert_str_eq(s[3].name, queue);
    ck_assert_str_eq(s[3].exchange, "nameko-rpc");
    ck_assert_str_eq(s[3].arg, queue + 13);

    ck_assert_int_eq(s[4].kind, GW_STEP_CONSUME);
    ck_assert_str_eq(s[4].name, queue);
    ck_assert_str_eq(s[4].arg, "enoki-reply");
    ck_assert_uint_eq(s[4].flags, GW_CONSUME_NO_ACK);
    ck_assert_ptr_eq(gw_amqp_plan_consumer(&plan, 0), &s[4]);
    ck_assert_ptr_null(gw_amqp_plan_consumer(&plan, 1));

    gw_amqp_plan_clear(&plan);
    ck_assert_uint_eq(plan.n, 0);
    ck_assert_uint_eq(plan.n_consumers, 0);
    proto.free(proto.state);
}
END_TEST

START_TEST(nameko_encodes_a_request_as_nameko_does)
{
    struct gw_config config = test_config();
    config.delivery_mode = 2;
    struct gw_proto proto = gw_proto_nameko(&config);
    json_t *args = json_pack("[s]", "x");
    json_t *kwargs = json_pack("{s:i}", "y", 1);
    json_t *context = json_pack("{s:i, s:[s]}", "user_id", 42, "call_id_stack", "gw.http.1");
    struct gw_rpc_request request = {
        .service = "specwire",
        .method = "two",
        .args = args,
        .kwargs = kwargs,
        .context = context,
        .timeout_s = 1.5,
    };
    struct gw_proto_request out;
    proto.encode(proto.state, &request, &out);
    ck_assert_str_eq(out.exchange, "nameko-rpc");
    ck_assert_str_eq(out.routing_key, "specwire.two");
    ck_assert(out.mandatory);
    ck_assert_str_eq(out.body, "{\"args\": [\"x\"], \"kwargs\": {\"y\": 1}}");
    ck_assert_uint_eq(out.body_len, strlen(out.body));
    gw_proto_request_clear(&out);
    ck_assert_ptr_null(out.body);

    /* The properties of §1 (flags 0xFE00) and the deadline as the expiration. */
    static const char id[] = "27c4cffb-ea3b-41a1-a3b1-09dcb6e3c45e";
    struct gw_proto_call call = {.id = id, .context = context, .expiration_ms = 1500};
    amqp_pool_t pool;
    init_amqp_pool(&pool, 1024);
    amqp_basic_properties_t props;
    proto.properties(proto.state, &call, &pool, &props);
    ck_assert_uint_eq(props._flags, 0xFE00 | AMQP_BASIC_EXPIRATION_FLAG);
    ck_assert(bytes_are(props.content_type, "application/json"));
    ck_assert(bytes_are(props.content_encoding, "utf-8"));
    ck_assert_int_eq(props.delivery_mode, 2);
    ck_assert_int_eq(props.priority, 0);
    ck_assert(bytes_are(props.correlation_id, id));
    ck_assert(bytes_are(props.expiration, "1500"));
    ck_assert_uint_eq(props.reply_to.len, GW_UUID_LEN);
    ck_assert_int_eq(props.headers.num_entries, 2);

    /* Its replies are known by that correlation id. */
    amqp_bytes_t got;
    ck_assert(proto.reply_id(&props, &got));
    ck_assert(bytes_are(got, id));
    amqp_basic_properties_t bare = {0};
    ck_assert(!proto.reply_id(&bare, &got));

    empty_amqp_pool(&pool);
    json_decref(context);
    json_decref(kwargs);
    json_decref(args);
    proto.free(proto.state);
}
END_TEST

START_TEST(nameko_reads_its_replies)
{
    struct gw_config config = test_config();
    struct gw_proto proto = gw_proto_nameko(&config);
    json_t *result, *error;
    char why[128];
    const char *ok = "{\"result\": [\"x\", 1], \"error\": null}";
    ck_assert_int_eq(proto.decode(ok, strlen(ok), &result, &error, why, sizeof(why)), GW_OK);
    ck_assert_ptr_null(error);
    ck_assert_uint_eq(json_array_size(result), 2);
    json_decref(result);

    const char *failed = "{\"result\": null, \"error\": {\"exc_type\": \"ValueError\", "
                         "\"exc_path\": \"builtins.ValueError\", \"exc_args\": [\"bad\"], "
                         "\"value\": \"bad\"}}";
    ck_assert_int_eq(proto.decode(failed, strlen(failed), &result, &error, why, sizeof(why)),
                     GW_OK);
    ck_assert_str_eq(gw_wire_exc_type(error), "ValueError");
    json_decref(result);
    json_decref(error);

    const char *garbage = "not json";
    ck_assert_int_eq(proto.decode(garbage, strlen(garbage), &result, &error, why, sizeof(why)),
                     GW_EBADREPLY);
    ck_assert_ptr_null(result);
    ck_assert_ptr_null(error);
    proto.free(proto.state);
}
END_TEST

START_TEST(plans_number_consumers_in_order)
{
    struct gw_amqp_plan plan = {0};
    gw_amqp_plan_exchange(&plan, "", "x", "topic");
    ck_assert_uint_eq(gw_amqp_plan_consume(&plan, "reply", "q1", "t1", GW_CONSUME_NO_ACK), 0);
    gw_amqp_plan_qos(&plan, "service", 10);
    ck_assert_uint_eq(gw_amqp_plan_consume(&plan, "service", "q2", "t2", 0), 1);
    gw_amqp_plan_bind(&plan, "hub", "q3", "x", "k");
    ck_assert_uint_eq(gw_amqp_plan_consume(&plan, "hub", "q3", "t3", GW_CONSUME_EXCLUSIVE), 2);
    ck_assert_uint_eq(plan.n, 6);
    ck_assert_str_eq(gw_amqp_plan_consumer(&plan, 1)->arg, "t2");
    ck_assert_str_eq(gw_amqp_plan_consumer(&plan, 2)->role, "hub");
    ck_assert_int_eq(plan.steps[2].kind, GW_STEP_QOS);
    ck_assert_int_eq(plan.steps[2].number, 10);
    ck_assert_str_eq(plan.steps[4].exchange, "x");
    ck_assert_str_eq(plan.steps[4].arg, "k");
    gw_amqp_plan_clear(&plan);
    /* Cleared, it fills again from consumer 0. */
    ck_assert_uint_eq(gw_amqp_plan_consume(&plan, NULL, "q", "t", 0), 0);
    ck_assert_str_eq(plan.steps[0].role, "");
    gw_amqp_plan_clear(&plan);
}
END_TEST

Suite *proto_suite(void)
{
    Suite *s = suite_create("proto");
    TCase *tc = tcase_create("nameko");
    tcase_add_test(tc, nameko_declares_its_reply_queue);
    tcase_add_test(tc, nameko_encodes_a_request_as_nameko_does);
    tcase_add_test(tc, nameko_reads_its_replies);
    suite_add_tcase(s, tc);
    tc = tcase_create("plan");
    tcase_add_test(tc, plans_number_consumers_in_order);
    suite_add_tcase(s, tc);
    return s;
}
