#include "service.h"

#include "broker.h"
#include "json.h"
#include "log.h"
#include "status.h"
#include "wire.h"
#include "xalloc.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Requests delivered and not yet acknowledged at once, as nameko's PREFETCH_COUNT (§2). */
enum { SERVICE_PREFETCH = 10 };

static const char consumer_tag[] = "enoki-service";

/* nameko's names (§2): the queue SERVICE_QUEUE_PREFIX "<name>", bound by "<name>" METHODS_KEY. */
#define SERVICE_QUEUE_PREFIX "rpc-"
#define METHODS_KEY ".*"

struct gw_service {
    struct gw_broker *broker;
    const struct gw_config *config;
    gw_service_request_fn handler;
    void *arg;
    char *queue; /* "rpc-<name>" */
    char *key;   /* "<name>.*" */
};

static char *bytes_dup(amqp_bytes_t b)
{
    return xstrndup(b.bytes ? b.bytes : "", b.len);
}

void gw_service_request_free(struct gw_service_request *in)
{
    if (!in)
        return;
    free(in->method);
    json_decref(in->args);
    json_decref(in->kwargs);
    json_decref(in->body);
    free(in->reply_to);
    free(in->correlation_id);
    free(in->content_type);
    free(in);
}

/* A request as nameko reads one (§2), or NULL (acked and dropped when acked) for what nameko would
 * drop, or die on: no content_type, no reply_to. A body enoki cannot read (not JSON, or JSON
 * holding what it cannot carry: a NUL, an integer beyond 64 bits, a lone surrogate) makes a
 * request without args and kwargs, with the reason in *unreadable (when not NULL): its caller
 * gets an error, not silence (nameko's own caller, without a timeout, would wait for ever). */
static struct gw_service_request *request_new(struct gw_service *service,
                                              const struct gw_amqp_delivery *d, const char *method,
                                              bool acked, char *unreadable, size_t unreadable_len)
{
    const amqp_basic_properties_t *props = d->props;
    json_error_t jerr;
    json_t *body = gw_json_decode_lenient(d->body.bytes, d->body.len, &jerr);
    bool usable = (body || unreadable) && (props->_flags & AMQP_BASIC_CONTENT_TYPE_FLAG) &&
                  (props->_flags & AMQP_BASIC_REPLY_TO_FLAG);
    if (!usable) {
        gw_warn("rpc", "dropped a request to %s without content_type, reply_to or a JSON body",
                method);
        json_decref(body);
        if (acked)
            gw_broker_ack(service->broker, gw_broker_generation(service->broker), d->delivery_tag);
        return NULL;
    }
    if (!body)
        snprintf(unreadable, unreadable_len, "%s", jerr.text);
    struct gw_service_request *in = xcalloc(1, sizeof(*in));
    in->method = xstrdup(method);
    in->body = body;
    json_t *args = json_object_get(body, "args");
    json_t *kwargs = json_object_get(body, "kwargs");
    in->args = json_is_array(args) ? json_incref(args) : NULL;
    in->kwargs = json_is_object(kwargs) ? json_incref(kwargs) : NULL;
    in->reply_to = bytes_dup(props->reply_to);
    if (props->_flags & AMQP_BASIC_CORRELATION_ID_FLAG)
        in->correlation_id = bytes_dup(props->correlation_id);
    in->content_type = bytes_dup(props->content_type);
    in->delivery_tag = acked ? d->delivery_tag : 0;
    in->generation = gw_broker_generation(service->broker);
    return in;
}

struct gw_service_request *gw_service_request_passed_on(struct gw_service *service,
                                                        const struct gw_amqp_delivery *delivery,
                                                        const char *method)
{
    return request_new(service, delivery, method, false, NULL, 0);
}

static void on_declare(void *arg, struct gw_amqp_plan *plan)
{
    struct gw_service *service = arg;
    /* GATEWAY.workers: worker 1 alone consumes the service's queue, so that its requests are
     * handled in the order they came, as by one process. Broadcasts sent one after the other
     * without waiting for replies would otherwise reach the hub in either order when two workers
     * take one each (docs/workers.md). While worker 1 is being replaced they wait in the queue. */
    if (gw_log_worker > 1)
        return;
    /* As a nameko service declares itself (§2): rpc-<name>, durable, bound <name>.*. */
    /* Shared by every instance of the gateway: when its home node in a cluster is down the
     * connection goes on without it (core/broker.c logs it). */
    gw_amqp_plan_queue(plan, "service", service->queue, GW_QUEUE_DURABLE | GW_QUEUE_OPTIONAL, 0);
    gw_amqp_plan_bind(plan, "service", service->queue, service->config->rpc_exchange, service->key);
    gw_amqp_plan_qos(plan, "service", SERVICE_PREFETCH);
    gw_amqp_plan_consume(plan, "service", service->queue, consumer_tag, 0);
}

static void on_request(void *arg, const struct gw_amqp_delivery *d)
{
    struct gw_service *service = arg;
    char *key = bytes_dup(d->routing_key);
    const char *dot = strchr(key, '.');
    char unreadable[JSON_ERROR_TEXT_LENGTH] = "";
    struct gw_service_request *in =
        request_new(service, d, dot ? dot + 1 : "", true, unreadable, sizeof(unreadable));
    free(key);
    if (!in)
        return;
    if (!in->args || !in->kwargs) {
        char message[JSON_ERROR_TEXT_LENGTH + 64];
        if (unreadable[0])
            snprintf(message, sizeof(message), "enoki cannot read the request's JSON: %s",
                     unreadable);
        else
            snprintf(message, sizeof(message), "Message missing `args` or `kwargs`");
        json_t *error = gw_nameko_error("MalformedRequest", "nameko.exceptions.MalformedRequest",
                                        json_pack("[s]", message), message);
        gw_service_reply(service, in, NULL, error);
        json_decref(error);
        return;
    }
    service->handler(service->arg, in);
}

struct gw_service *gw_service_new(struct gw_broker *broker, const struct gw_config *config,
                                  gw_service_request_fn handler, void *arg)
{
    struct gw_service *service = xcalloc(1, sizeof(*service));
    service->broker = broker;
    service->config = config;
    service->handler = handler;
    service->arg = arg;
    service->queue = xasprintf(SERVICE_QUEUE_PREFIX "%s", config->name);
    service->key = xasprintf("%s" METHODS_KEY, config->name);
    struct gw_broker_user user = {
        .declare = on_declare,
        .delivery = on_request,
        .arg = service,
    };
    gw_broker_add_user(broker, &user);
    return service;
}

void gw_service_free(struct gw_service *service)
{
    if (!service)
        return;
    free(service->queue);
    free(service->key);
    free(service);
}

void gw_service_reply(struct gw_service *service, struct gw_service_request *in,
                      const json_t *result, const json_t *error)
{
    /* A request of a connection that is gone has been requeued by the broker: it is answered
     * again when it comes back, not now. */
    if (!gw_broker_ready(service->broker) ||
        in->generation != gw_broker_generation(service->broker)) {
        gw_service_request_free(in);
        return;
    }
    size_t len;
    char *body = gw_wire_reply_body(result, error, &len);
    /* nameko's reply properties (§2): flags 0xFC00, correlation_id only when the request had one.
     */
    amqp_basic_properties_t props = {0};
    props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_CONTENT_ENCODING_FLAG |
                   AMQP_BASIC_HEADERS_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
                   AMQP_BASIC_PRIORITY_FLAG;
    props.content_type = amqp_cstring_bytes(in->content_type);
    props.content_encoding = amqp_cstring_bytes("utf-8");
    props.headers = amqp_empty_table;
    props.delivery_mode = 2;
    props.priority = 0;
    if (in->correlation_id) {
        props._flags |= AMQP_BASIC_CORRELATION_ID_FLAG;
        props.correlation_id = amqp_cstring_bytes(in->correlation_id);
    }
    struct gw_broker_message message = {
        .exchange = service->config->rpc_exchange,
        .routing_key = in->reply_to,
        .mandatory = false, /* as nameko: a reply to a queue that is gone is lost */
        .props = &props,
        .body = body,
        .len = len,
    };
    /* Acked after the reply is out, as nameko does. */
    if (gw_broker_publish(service->broker, &message, 0, NULL) == GW_OK && in->delivery_tag)
        gw_broker_ack(service->broker, in->generation, in->delivery_tag);
    free(body);
    gw_service_request_free(in);
}

void gw_service_ack_only(struct gw_service *service, struct gw_service_request *in)
{
    if (in->delivery_tag)
        gw_broker_ack(service->broker, in->generation, in->delivery_tag);
    gw_service_request_free(in);
}
