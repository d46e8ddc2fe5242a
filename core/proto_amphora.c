/* amphora's RPC protocol (docs/amphora.md) behind core/proto.h. */
#include "proto.h"

#include "amphora_wire.h"
#include "broker.h"
#include "clock.h"
#include "rpc.h"
#include "status.h"
#include "wire.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char reply_consumer_tag[] = "enoki-amphora-reply";

/* After a failed declaration, the calls to that service fail at once for this long; the next call
 * after it tries again (an operator may have fixed the exchange meanwhile). */
enum { FAILED_HOLD_MS = 1000 };

enum service_state { UNBOUND, DECLARING, READY, FAILED };

/* A service called at least once, with the type of its request exchange. */
struct service {
    char *name;
    bool fanout;
    enum service_state state;
    int reports_due; /* DECLARING: the declarations not reported yet */
    uint64_t failed_ns;
    char why[256];
};

struct amphora {
    const struct gw_config *config;
    char reply_key[GW_UUID_LEN + 1]; /* requests' reply_to, the reply queue's binding key */
    char *reply_queue;
    struct service *services;
    size_t n_services, cap_services;
};

static char *request_exchange(const char *service)
{
    return xasprintf("rpc_%s_request", service);
}

static char *response_exchange(const char *service)
{
    return xasprintf("rpc_%s_response", service);
}

static struct service *find_service(struct amphora *a, const char *name, bool fanout)
{
    for (size_t i = 0; i < a->n_services; i++)
        if (a->services[i].fanout == fanout && strcmp(a->services[i].name, name) == 0)
            return &a->services[i];
    return NULL;
}

/* The exclusive reply queue, again after every connect. The services' exchanges are not part of
 * the connection's plan: one declared otherwise since (its owner made it a fanout one, say) would
 * fail the whole connection, every time, for every call. Each is declared again on its next call
 * instead (prepare), where a refusal fails that service's calls alone. */
static void declare(void *state, struct gw_amqp_plan *plan)
{
    struct amphora *a = state;
    /* A name of its own for each connection: the broker may still hold the last one's exclusive
     * queue (a connection given up as silent, whose close it has not seen), and would refuse its
     * name (405 RESOURCE_LOCKED) until it notices. The routing key in reply_to stays. */
    char uuid[GW_UUID_LEN + 1];
    gw_uuid4(uuid);
    free(a->reply_queue);
    a->reply_queue = xasprintf("rpc_%s_%s_response", a->config->name, uuid);
    gw_amqp_plan_queue(plan, "amphora reply", a->reply_queue,
                       GW_QUEUE_EXCLUSIVE | GW_QUEUE_AUTO_DELETE, 0);
    gw_amqp_plan_consume(plan, "amphora reply", a->reply_queue, reply_consumer_tag,
                         GW_CONSUME_NO_ACK);
}

static int prepare(void *state, struct gw_broker *broker, int user,
                   const struct gw_proto_request *request, char *why, size_t whylen)
{
    struct amphora *a = state;
    struct service *s = find_service(a, request->service, request->fanout);
    if (!s) {
        if (a->n_services == a->cap_services) {
            a->cap_services = a->cap_services ? a->cap_services * 2 : 8;
            a->services = xrealloc(a->services, a->cap_services * sizeof(*a->services));
        }
        s = &a->services[a->n_services++];
        memset(s, 0, sizeof(*s));
        s->name = xstrdup(request->service);
        s->fanout = request->fanout;
    }
    if (s->state == READY)
        return GW_OK;
    if (s->state == DECLARING)
        return GW_AGAIN;
    if (s->state == FAILED && gw_now_ns() - s->failed_ns < (uint64_t)FAILED_HOLD_MS * 1000000u) {
        snprintf(why, whylen, "%s", s->why);
        return GW_EBROKER;
    }
    /* First use (or a retry): the request exchange, then the response exchange with the binding
     * of enoki's reply queue to it; both reported in order. */
    char *exchange = request_exchange(s->name), *response = response_exchange(s->name);
    int status = GW_EINVAL;
    if (strlen(response) <= GW_AMQP_NAME_MAX) /* the longer of the two: neither is sent if over */
        status = gw_broker_bind(broker, user, NULL, exchange, "", s->fanout ? "fanout" : "direct",
                                false, 0);
    if (status == GW_OK)
        status = gw_broker_bind(broker, user, a->reply_queue, response, a->reply_key, "direct",
                                false, 0);
    if (status == GW_EINVAL)
        snprintf(why, whylen,
                 "the service's name is too long: its AMQP exchange would be %zu bytes, over "
                 "AMQP's %d",
                 strlen(response), GW_AMQP_NAME_MAX);
    else if (status != GW_OK)
        snprintf(why, whylen, "the broker connection was lost");
    free(exchange);
    free(response);
    if (status != GW_OK)
        return status == GW_EINVAL ? GW_EFRAME : GW_EBROKER;
    s->state = DECLARING;
    s->reports_due = 2;
    return GW_AGAIN;
}

/* Which service's declaration exchange is about: rpc_<svc>_request or rpc_<svc>_response. */
static struct service *service_of_exchange(struct amphora *a, const char *exchange)
{
    for (size_t i = 0; i < a->n_services; i++) {
        struct service *s = &a->services[i];
        if (s->state != DECLARING)
            continue;
        char *request = request_exchange(s->name), *response = response_exchange(s->name);
        bool match = strcmp(exchange, request) == 0 || strcmp(exchange, response) == 0;
        free(request);
        free(response);
        if (match)
            return s;
    }
    return NULL;
}

static void bound(void *state, const char *exchange, const char *key, bool ok, const char *why)
{
    (void)key;
    struct amphora *a = state;
    struct service *s = service_of_exchange(a, exchange);
    if (!s)
        return;
    if (!ok) {
        s->state = FAILED;
        s->failed_ns = gw_now_ns();
        snprintf(s->why, sizeof(s->why), "declaring %s as amphora does failed: %s", exchange, why);
        return;
    }
    if (--s->reports_due == 0)
        s->state = READY;
}

/* The reply queue's bindings went with the connection: every service is declared and bound again
 * on its next call. */
static void down(void *state)
{
    struct amphora *a = state;
    for (size_t i = 0; i < a->n_services; i++)
        if (a->services[i].state != FAILED)
            a->services[i].state = UNBOUND;
}

static void encode(void *state, const struct gw_rpc_request *request, struct gw_proto_request *out)
{
    (void)state;
    out->service = xstrdup(request->service);
    out->fanout = request->fanout;
    out->exchange = request_exchange(request->service);
    out->routing_key = xstrdup(request->routing_key ? request->routing_key : "");
    /* amphora's client publishes without mandatory; enoki asks for the return, so that a request
     * no queue is bound for is an unknown service at once instead of a silent loss (§2, §5). */
    out->mandatory = true;
    out->body =
        gw_amphora_request_body(request->method, request->args, request->kwargs, &out->body_len);
}

static void properties(void *state, const struct gw_proto_call *call, amqp_pool_t *pool,
                       amqp_basic_properties_t *props)
{
    struct amphora *a = state;
    char expiration[32];
    snprintf(expiration, sizeof(expiration), "%llu", (unsigned long long)call->expiration_ms);
    memset(props, 0, sizeof(*props));
    /* amphora's three (§2), and the deadline as the expiration: a request nobody waits for any
     * more is dropped by the broker instead of run (amphora's servers ignore the property). No
     * headers: amphora has no context. delivery_mode is GATEWAY.delivery_mode's, as for nameko:
     * transient by default (a request lives only until its deadline; persisting it would cost the
     * broker a disk write per call), 2 as amphora's own client sends it. */
    props->_flags = AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_REPLY_TO_FLAG |
                    AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_EXPIRATION_FLAG;
    props->message_id = gw_wire_pool_string(pool, call->id);
    props->reply_to = amqp_cstring_bytes(a->reply_key);
    props->delivery_mode = (uint8_t)a->config->delivery_mode;
    props->expiration = gw_wire_pool_string(pool, expiration);
}

static bool reply_id(const amqp_basic_properties_t *props, amqp_bytes_t *id)
{
    if (!(props->_flags & AMQP_BASIC_MESSAGE_ID_FLAG))
        return false;
    *id = props->message_id;
    return true;
}

static void free_state(void *state)
{
    struct amphora *a = state;
    if (!a)
        return;
    for (size_t i = 0; i < a->n_services; i++)
        free(a->services[i].name);
    free(a->services);
    free(a->reply_queue);
    free(a);
}

struct gw_proto gw_proto_amphora(const struct gw_config *config)
{
    struct amphora *a = xcalloc(1, sizeof(*a));
    a->config = config;
    gw_uuid4(a->reply_key);
    /* amphora's clients name theirs rpc_<svc>_<uuid>_response; enoki's serves every service. */
    a->reply_queue = xasprintf("rpc_%s_%s_response", config->name, a->reply_key);
    return (struct gw_proto){
        .protocol = GW_PROTO_AMPHORA,
        .state = a,
        .declare = declare,
        .prepare = prepare,
        .bound = bound,
        .down = down,
        .encode = encode,
        .properties = properties,
        .reply_id = reply_id,
        .decode = gw_amphora_reply_decode,
        .free = free_state,
    };
}
