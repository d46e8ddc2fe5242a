/* amqp_plan.h - the declarations made after every connect, as data: exchanges, queues, bindings,
 * prefetch and consumers, carried out in the order given by gw_amqp_conn_open. Each user of the
 * broker adds its own (an RPC protocol its reply queue, the native service its request queue, the
 * hub its own queue), so that none of them is written into the connection. Pure: no sockets.
 */
#ifndef ENOKI_AMQP_PLAN_H
#define ENOKI_AMQP_PLAN_H

#include <stdbool.h>
#include <stddef.h>

enum gw_amqp_step_kind {
    GW_STEP_EXCHANGE, /* exchange.declare, durable, of a type ("topic", "direct", "fanout") */
    GW_STEP_LOOK,     /* queue.declare passive: whether the queue is there (found) */
    GW_STEP_QUEUE,    /* queue.declare */
    GW_STEP_BIND,     /* queue.bind */
    GW_STEP_QOS,      /* basic.qos: unacknowledged deliveries at once, for the consumers after it */
    GW_STEP_CONSUME,  /* basic.consume */
};

/* Flags of a queue and of a consumer. */
enum {
    GW_QUEUE_DURABLE = 1 << 0,
    GW_QUEUE_EXCLUSIVE = 1 << 1, /* this connection's own, gone with it */
    GW_QUEUE_AUTO_DELETE = 1 << 2,
    GW_CONSUME_NO_ACK = 1 << 3,    /* the broker forgets a delivery once it is sent */
    GW_CONSUME_EXCLUSIVE = 1 << 4, /* no other consumer on the queue */
    /* A shared durable queue whose home node may be down in a cluster (404 on declare): the
     * connection goes on without it and its other steps (the step's missing is set). */
    GW_QUEUE_OPTIONAL = 1 << 5,
};

struct gw_amqp_step {
    enum gw_amqp_step_kind kind;
    char *role;     /* whose it is, named in error messages ("reply", "service", "hub"), or "" */
    char *name;     /* EXCHANGE: the exchange; every other kind but QOS: the queue */
    char *exchange; /* BIND: the exchange the queue is bound to */
    char *arg;      /* EXCHANGE: its type; BIND: the binding key; CONSUME: the consumer tag */
    unsigned flags; /* QUEUE, CONSUME: the flags above */
    int number;     /* QUEUE: its x-expires in ms (0 = none); QOS: the prefetch count */
    bool found;     /* LOOK: whether the queue was there; written by gw_amqp_conn_open */
    bool missing;   /* QUEUE (optional): it could not be declared; written by gw_amqp_conn_open */
};

/* Zero-initialise ({0}) to start empty. Every string is copied. */
struct gw_amqp_plan {
    struct gw_amqp_step *steps;
    size_t n, cap;
    size_t n_consumers;
    /* Set by the broker before the users declare: this connect goes to another node of the
     * cluster than the last one. A durable queue of enoki's own may be stuck on the node that is
     * gone (a classic queue lives on one node), so a user gives such queues new names. */
    bool new_node;
};

void gw_amqp_plan_exchange(struct gw_amqp_plan *plan, const char *role, const char *exchange,
                           const char *type);
void gw_amqp_plan_look(struct gw_amqp_plan *plan, const char *role, const char *queue);
void gw_amqp_plan_queue(struct gw_amqp_plan *plan, const char *role, const char *queue,
                        unsigned flags, int expires_ms);
void gw_amqp_plan_bind(struct gw_amqp_plan *plan, const char *role, const char *queue,
                       const char *exchange, const char *key);
void gw_amqp_plan_qos(struct gw_amqp_plan *plan, const char *role, int prefetch);

/* Returns the consumer's number, counted from 0 in the plan's order: deliveries to it carry it
 * (gw_amqp_delivery.consumer). */
size_t gw_amqp_plan_consume(struct gw_amqp_plan *plan, const char *role, const char *queue,
                            const char *tag, unsigned flags);

/* The step of consumer number consumer, or NULL. */
const struct gw_amqp_step *gw_amqp_plan_consumer(const struct gw_amqp_plan *plan, size_t consumer);

/* Forgets every step (the plan may be filled again). */
void gw_amqp_plan_clear(struct gw_amqp_plan *plan);

#endif
