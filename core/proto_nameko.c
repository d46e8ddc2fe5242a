/* nameko's RPC protocol (docs/nameko-wire.md §1-§4) behind core/proto.h. */
#include "proto.h"

#include "rpc.h"
#include "status.h"
#include "text.h"
#include "wire.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The reply queue outlives a lost connection by this much (x-expires, §3): replies to calls made
 * before a short broker outage are not lost with it. */
enum { REPLY_QUEUE_EXPIRES_MS = 300000 };

static const char reply_consumer_tag[] = "enoki-reply";

/* The reply queue is REPLY_QUEUE_PREFIX "<name>-<uuid>", as nameko names its own (§3). */
#define REPLY_QUEUE_PREFIX "rpc.reply-"

struct nameko {
    const struct gw_config *config;
    char reply_key[GW_UUID_LEN + 1]; /* requests' reply_to, the reply queue's binding key */
    char *reply_queue;
};

/* A reply queue of a new name (and binding key): the calls of the old one have all ended. */
static void new_reply_queue(struct nameko *n)
{
    free(n->reply_queue);
    gw_uuid4(n->reply_key);
    n->reply_queue = xasprintf(REPLY_QUEUE_PREFIX "%s-%s", n->config->name, n->reply_key);
}

static void declare(void *state, struct gw_amqp_plan *plan)
{
    struct nameko *n = state;
    /* The same declarations as nameko's own clients (§1, §3), once per connect. */
    gw_amqp_plan_exchange(plan, "", n->config->rpc_exchange, "topic");
    /* On another node of the cluster the old reply queue may be stuck where it lived. */
    if (plan->new_node)
        new_reply_queue(n);
    /* A reply queue that outlived its x-expires while we were away is gone (nameko's calls hang
     * there): looked for before it is declared, so that the broker can say so. */
    else
        gw_amqp_plan_look(plan, "reply", n->reply_queue);
    gw_amqp_plan_queue(plan, "reply", n->reply_queue, GW_QUEUE_DURABLE, REPLY_QUEUE_EXPIRES_MS);
    gw_amqp_plan_bind(plan, "reply", n->reply_queue, n->config->rpc_exchange, n->reply_key);
    /* no_ack: a reply nobody waits for any more is dropped either way (§3), and acking each one
     * would double the frames on the hot path. */
    gw_amqp_plan_consume(plan, "reply", n->reply_queue, reply_consumer_tag, GW_CONSUME_NO_ACK);
}

static void encode(void *state, const struct gw_rpc_request *request, struct gw_proto_request *out)
{
    struct nameko *n = state;
    out->service = xstrdup(request->service);
    out->exchange = xstrdup(n->config->rpc_exchange);
    out->routing_key = xstrjoin(request->service, ".", request->method, NULL);
    out->mandatory = true; /* a basic.return is how an unknown service shows (§1) */
    out->body = gw_wire_request_body(request->args, request->kwargs, &out->body_len);
}

static void properties(void *state, const struct gw_proto_call *call, amqp_pool_t *pool,
                       amqp_basic_properties_t *props)
{
    struct nameko *n = state;
    char expiration[GW_U64_DIGITS];
    gw_fmt_u64(expiration, call->expiration_ms);
    memset(props, 0, sizeof(*props));
    /* nameko's flags (0xFE00) and the deadline as the expiration, so that a request nobody waits
     * for any more is dropped by the broker instead of being run (§3). */
    props->_flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_CONTENT_ENCODING_FLAG |
                    AMQP_BASIC_HEADERS_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
                    AMQP_BASIC_PRIORITY_FLAG | AMQP_BASIC_CORRELATION_ID_FLAG |
                    AMQP_BASIC_REPLY_TO_FLAG | AMQP_BASIC_EXPIRATION_FLAG;
    props->content_type = amqp_cstring_bytes("application/json");
    props->content_encoding = amqp_cstring_bytes("utf-8");
    props->delivery_mode = (uint8_t)n->config->delivery_mode;
    props->priority = 0;
    props->correlation_id = gw_wire_pool_string(pool, call->id);
    props->reply_to = amqp_cstring_bytes(n->reply_key);
    props->expiration = gw_wire_pool_string(pool, expiration);
    gw_wire_context_headers(call->context, pool, &props->headers);
}

static bool reply_id(const amqp_basic_properties_t *props, amqp_bytes_t *id)
{
    if (!(props->_flags & AMQP_BASIC_CORRELATION_ID_FLAG))
        return false;
    *id = props->correlation_id;
    return true;
}

static void free_state(void *state)
{
    struct nameko *n = state;
    if (!n)
        return;
    free(n->reply_queue);
    free(n);
}

struct gw_proto gw_proto_nameko(const struct gw_config *config)
{
    struct nameko *n = xcalloc(1, sizeof(*n));
    n->config = config;
    new_reply_queue(n);
    return (struct gw_proto){
        .protocol = GW_PROTO_NAMEKO,
        .state = n,
        .declare = declare,
        .prepare = NULL,
        .encode = encode,
        .properties = properties,
        .reply_id = reply_id,
        .decode = gw_wire_reply_decode,
        .free = free_state,
    };
}

void gw_proto_request_clear(struct gw_proto_request *request)
{
    free(request->service);
    free(request->exchange);
    free(request->routing_key);
    free(request->body);
    memset(request, 0, sizeof(*request));
}
