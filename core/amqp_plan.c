#include "amqp_plan.h"

#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

static struct gw_amqp_step *add(struct gw_amqp_plan *plan, enum gw_amqp_step_kind kind,
                                const char *role, const char *name)
{
    if (plan->n == plan->cap) {
        plan->cap = plan->cap ? plan->cap * 2 : 16;
        plan->steps = xrealloc(plan->steps, plan->cap * sizeof(*plan->steps));
    }
    struct gw_amqp_step *step = &plan->steps[plan->n++];
    memset(step, 0, sizeof(*step));
    step->kind = kind;
    step->role = xstrdup(role ? role : "");
    step->name = name ? xstrdup(name) : NULL;
    return step;
}

void gw_amqp_plan_exchange(struct gw_amqp_plan *plan, const char *role, const char *exchange,
                           const char *type)
{
    add(plan, GW_STEP_EXCHANGE, role, exchange)->arg = xstrdup(type);
}

void gw_amqp_plan_look(struct gw_amqp_plan *plan, const char *role, const char *queue)
{
    add(plan, GW_STEP_LOOK, role, queue);
}

void gw_amqp_plan_queue(struct gw_amqp_plan *plan, const char *role, const char *queue,
                        unsigned flags, int expires_ms)
{
    struct gw_amqp_step *step = add(plan, GW_STEP_QUEUE, role, queue);
    step->flags = flags;
    step->number = expires_ms;
}

void gw_amqp_plan_bind(struct gw_amqp_plan *plan, const char *role, const char *queue,
                       const char *exchange, const char *key)
{
    struct gw_amqp_step *step = add(plan, GW_STEP_BIND, role, queue);
    step->exchange = xstrdup(exchange);
    step->arg = xstrdup(key);
}

void gw_amqp_plan_qos(struct gw_amqp_plan *plan, const char *role, int prefetch)
{
    add(plan, GW_STEP_QOS, role, NULL)->number = prefetch;
}

size_t gw_amqp_plan_consume(struct gw_amqp_plan *plan, const char *role, const char *queue,
                            const char *tag, unsigned flags)
{
    struct gw_amqp_step *step = add(plan, GW_STEP_CONSUME, role, queue);
    step->arg = xstrdup(tag);
    step->flags = flags;
    return plan->n_consumers++;
}

const struct gw_amqp_step *gw_amqp_plan_consumer(const struct gw_amqp_plan *plan, size_t consumer)
{
    size_t seen = 0;
    for (size_t i = 0; i < plan->n; i++)
        if (plan->steps[i].kind == GW_STEP_CONSUME && seen++ == consumer)
            return &plan->steps[i];
    return NULL;
}

void gw_amqp_plan_clear(struct gw_amqp_plan *plan)
{
    for (size_t i = 0; i < plan->n; i++) {
        free(plan->steps[i].role);
        free(plan->steps[i].name);
        free(plan->steps[i].exchange);
        free(plan->steps[i].arg);
    }
    free(plan->steps);
    memset(plan, 0, sizeof(*plan));
}
