#include "broker.h"

#include "amqp_tls.h"

#include "confirms.h"
#include "log.h"
#include "metrics.h"
#include "node_round.h"
#include "status.h"
#include "strbuf.h"
#include "version.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Seconds each blocking step of a connection attempt (TCP connect, login, a declaration) may take.
 */
#define CONNECT_TIMEOUT_S 5.0

/* The client property "product" the broker shows for our connections. */
#define PRODUCT "enoki"

/* The heartbeat check runs this many times per negotiated interval, so a dead broker is noticed at
 * most 1/HEARTBEAT_CHECKS of an interval late. */
enum { HEARTBEAT_CHECKS = 8 };

/* Users of one broker: the call table, the native service, the hub bus. */
enum { MAX_USERS = 8 };

enum { NO_USER = GW_CONFIRMS_NO_USER };
_Static_assert(GW_CONFIRMS_KEY_MAX == GW_BROKER_KEY_MAX, "one key size for publishes");

enum conn_state { DISCONNECTED, CONNECTING, CONNECTED, CLOSING };

/* A binding sent on the topology channel and not yet answered (answers come in order). */
struct topology_op {
    int user;
    char *exchange;
    char *key;
    uint64_t tag;
};

struct connect_job {
    uv_work_t work;
    struct gw_broker *broker;
    struct gw_amqp_setup setup;
    struct gw_amqp_conn *conn;
    int status;
    char err[256];
};

struct gw_broker {
    uv_loop_t *loop;
    const struct gw_config *config;
    char connection_name[320]; /* the client property: <GATEWAY.name>@<hostname> */
    enum conn_state state;
    struct gw_amqp_conn *conn;
    uv_poll_t *poll; /* watches conn's socket; freed by its close callback */
    uv_timer_t heartbeat;
    int heartbeat_s;        /* negotiated, 0 = off */
    uint64_t last_heard_ms; /* uv_now when the broker's socket was last readable */
    uv_timer_t reconnect;
    uv_prepare_t flusher;
    bool draining;               /* inside gw_amqp_conn_drain: the connection must not be freed */
    char lost_why[256];          /* a loss found meanwhile, handled when the drain returns */
    struct gw_node_round *round; /* AMQP_URI's nodes, tried in turn */
    bool blocked; /* connection.blocked: the broker takes no publishes (a resource alarm) */
    bool watching_writable; /* publishes wait for room in the socket */
    bool starting;          /* the first connection attempt is under way */
    bool job_running;
    uint64_t generation;
    struct gw_metrics *metrics;
    struct gw_broker_user users[MAX_USERS];
    int n_users;
    struct gw_amqp_plan plan;     /* of the last connect */
    int *consumer_user;           /* by consumer number: whose it is */
    struct gw_confirms *confirms; /* publishes not confirmed yet */
    struct topology_op *ops;      /* FIFO */
    size_t n_ops, cap_ops;
    int handles_open;
    void (*closed)(void *arg);
    void *closed_arg;
};

static void start_connect(struct gw_broker *broker);
static void connection_lost(struct gw_broker *broker, const char *why);

/* Runs the close callback once nothing of the broker is left on the loop. */
static void maybe_closed(struct gw_broker *broker)
{
    if (broker->state == CLOSING && broker->handles_open == 0 && !broker->job_running &&
        broker->closed) {
        void (*closed)(void *) = broker->closed;
        broker->closed = NULL;
        closed(broker->closed_arg);
    }
}

static void tell_down(struct gw_broker *broker, int status, const char *detail)
{
    for (int i = 0; i < broker->n_users; i++)
        if (broker->users[i].down)
            broker->users[i].down(broker->users[i].arg, status, detail);
}

/* What waited on the connection that is gone: its confirms and bindings will never come. */
static void forget_pending(struct gw_broker *broker)
{
    gw_confirms_clear(broker->confirms);
    for (size_t i = 0; i < broker->n_ops; i++) {
        free(broker->ops[i].exchange);
        free(broker->ops[i].key);
    }
    broker->n_ops = 0;
}

/* --- events from the connection ------------------------------------------------------------- */

static void on_delivery(void *arg, const struct gw_amqp_delivery *d)
{
    struct gw_broker *broker = arg;
    if (d->consumer >= broker->plan.n_consumers)
        return; /* not a consumer of ours */
    const struct gw_broker_user *user = &broker->users[broker->consumer_user[d->consumer]];
    if (user->delivery)
        user->delivery(user->arg, d);
}

/* The key a returned message is matched by: as gw_broker_publish documents it. */
static bool returned_key(const amqp_basic_properties_t *props, char *key)
{
    amqp_bytes_t id;
    if (props->_flags & AMQP_BASIC_MESSAGE_ID_FLAG)
        id = props->message_id;
    else if (props->_flags & AMQP_BASIC_CORRELATION_ID_FLAG)
        id = props->correlation_id;
    else
        return false;
    if (id.len >= GW_BROKER_KEY_MAX)
        return false;
    memcpy(key, id.bytes, id.len);
    key[id.len] = '\0';
    return true;
}

static void on_returned(void *arg, const amqp_basic_properties_t *props, int reply_code)
{
    struct gw_broker *broker = arg;
    char key[GW_BROKER_KEY_MAX];
    if (!returned_key(props, key))
        return;
    int user = gw_confirms_returned(broker->confirms, key);
    if (user != NO_USER && broker->users[user].returned)
        broker->users[user].returned(broker->users[user].arg, key, reply_code);
}

static void on_confirmed(void *arg, uint64_t tag, bool multiple, bool ack)
{
    struct gw_broker *broker = arg;
    /* The confirmed ones are taken out before anyone is told: a user may publish meanwhile. */
    struct gw_confirm *done;
    size_t n_done = gw_confirms_settle(broker->confirms, tag, multiple, &done);
    for (size_t i = 0; i < n_done; i++) {
        const struct gw_broker_user *user = &broker->users[done[i].user];
        if (user->confirmed)
            user->confirmed(user->arg, done[i].key, ack);
    }
    free(done);
}

static void on_topology(void *arg, bool ok, const char *why)
{
    struct gw_broker *broker = arg;
    if (broker->n_ops == 0)
        return;
    struct topology_op op = broker->ops[0];
    memmove(broker->ops, broker->ops + 1, (broker->n_ops - 1) * sizeof(*broker->ops));
    broker->n_ops--;
    const struct gw_broker_user *user = &broker->users[op.user];
    if (user->bound)
        user->bound(user->arg, op.exchange, op.key, op.tag, ok, why);
    free(op.exchange);
    free(op.key);
}

static void on_blocked(void *arg, bool blocked, const char *reason)
{
    struct gw_broker *broker = arg;
    if (blocked == broker->blocked)
        return;
    broker->blocked = blocked;
    if (blocked)
        gw_warn("rpc", "the broker blocks publishers (%s): new calls get 503 until it unblocks",
                reason[0] ? reason : "a resource alarm");
    else
        gw_info("rpc", "the broker takes publishes again");
    if (broker->metrics)
        gw_metrics_set_blocked(broker->metrics, blocked);
}

static const struct gw_amqp_events events = {
    .delivery = on_delivery,
    .returned = on_returned,
    .confirmed = on_confirmed,
    .topology = on_topology,
    .blocked = on_blocked,
};

static void drain(struct gw_broker *broker)
{
    char err[256];
    if (broker->state != CONNECTED)
        return;
    broker->draining = true;
    int status = gw_amqp_conn_drain(broker->conn, &events, broker, err, sizeof(err));
    broker->draining = false;
    if (broker->lost_why[0]) {
        snprintf(err, sizeof(err), "%s", broker->lost_why);
        broker->lost_why[0] = '\0';
        status = GW_EBROKER;
    }
    if (status != GW_OK)
        connection_lost(broker, err);
}

static void on_readable(uv_poll_t *poll, int status, int revents);

/* Writes what the socket takes; what it does not take waits for writability, watched here, so the
 * loop never waits on a full socket (a slow or blocked broker). */
static void flush_some(struct gw_broker *broker)
{
    char err[256];
    if (broker->state != CONNECTED)
        return;
    int status = gw_amqp_conn_flush_some(broker->conn, err, sizeof(err));
    if (status == GW_EBROKER) {
        connection_lost(broker, err);
        return;
    }
    bool waiting = status == GW_AGAIN;
    if (waiting != broker->watching_writable) {
        broker->watching_writable = waiting;
        uv_poll_start(broker->poll, UV_READABLE | UV_DISCONNECT | (waiting ? UV_WRITABLE : 0),
                      on_readable);
    }
}

static void on_readable(uv_poll_t *poll, int status, int revents)
{
    struct gw_broker *broker = poll->data;
    if (status < 0) {
        connection_lost(broker, uv_strerror(status));
        return;
    }
    if (revents & UV_WRITABLE)
        flush_some(broker);
    if (broker->state != CONNECTED || !(revents & (UV_READABLE | UV_DISCONNECT)))
        return;
    broker->last_heard_ms = uv_now(broker->loop);
    drain(broker);
}

static void on_flush(uv_prepare_t *prepare)
{
    struct gw_broker *broker = prepare->data;
    if (broker->state == CONNECTED && gw_amqp_conn_has_output(broker->conn))
        flush_some(broker);
}

static void on_heartbeat_tick(uv_timer_t *timer)
{
    struct gw_broker *broker = timer->data;
    /* The broker sends a heartbeat every half interval when it has nothing else to say: a whole
     * interval of silence is two missed, and the connection is dead even if TCP has not noticed
     * (a frozen broker, a cut cable). rabbitmq-c itself would wait two intervals. */
    uint64_t silent_ms = uv_now(broker->loop) - broker->last_heard_ms;
    if (broker->state == CONNECTED && silent_ms > (uint64_t)broker->heartbeat_s * 1000) {
        char why[96];
        snprintf(why, sizeof(why), "no heartbeat from the broker for %.1f s",
                 (double)silent_ms / 1000);
        connection_lost(broker, why);
        return;
    }
    /* Ours: queued here, written with the next flush. */
    if (broker->state == CONNECTED)
        gw_amqp_conn_beat(broker->conn);
}

/* --- connecting ----------------------------------------------------------------------------- */

static void free_poll(uv_handle_t *handle)
{
    struct gw_broker *broker = handle->data;
    free(handle);
    broker->handles_open--;
    maybe_closed(broker);
}

static void on_handle_closed(uv_handle_t *handle)
{
    struct gw_broker *broker = handle->data;
    broker->handles_open--;
    maybe_closed(broker);
}

static void stop_watching(struct gw_broker *broker)
{
    if (broker->poll) {
        uv_poll_stop(broker->poll);
        uv_close((uv_handle_t *)broker->poll, free_poll);
        broker->poll = NULL;
    }
    uv_timer_stop(&broker->heartbeat);
}

static void on_reconnect_timer(uv_timer_t *timer)
{
    start_connect(timer->data);
}

static void reconnect_after(struct gw_broker *broker, uint64_t delay_ms)
{
    uv_timer_start(&broker->reconnect, on_reconnect_timer, delay_ms, 0);
}

static double jitter(void)
{
    return (double)rand() / RAND_MAX;
}

/* The node in use or tried next. */
static const struct gw_amqp_uri *current_node(const struct gw_broker *broker)
{
    return &broker->config->amqp_nodes[gw_node_round_node(broker->round)];
}

static void connection_lost(struct gw_broker *broker, const char *why)
{
    if (broker->state != CONNECTED)
        return;
    if (broker->draining) {
        /* A callback of the drain found the connection broken (a failed ack, say): the drain still
         * holds it, so it is let go once the drain returns. */
        if (!broker->lost_why[0])
            snprintf(broker->lost_why, sizeof(broker->lost_why), "%s", why);
        return;
    }
    gw_warn("rpc", "lost the broker connection: %s", why);
    stop_watching(broker);
    gw_amqp_conn_free(broker->conn, false);
    broker->conn = NULL;
    broker->state = DISCONNECTED;
    forget_pending(broker);
    if (broker->metrics) {
        gw_metrics_set_connected_node(broker->metrics, -1);
        gw_metrics_set_blocked(broker->metrics, false);
    }
    broker->blocked = false;
    tell_down(broker, GW_EBROKER, "the broker connection was lost");
    reconnect_after(broker, gw_node_round_lost(broker->round, uv_now(broker->loop), jitter()));
}

static void connect_work(uv_work_t *work)
{
    struct connect_job *job = work->data;
    job->status =
        gw_amqp_conn_open(&job->setup, CONNECT_TIMEOUT_S, &job->conn, job->err, sizeof(job->err));
    /* Plain connections too: a failed attempt asks OpenSSL for a reason (gw_amqp_tls_reason). */
    gw_amqp_tls_thread_done();
}

/* The log line of a new connection names the queues it consumes. */
static void log_connected(const struct gw_broker *broker)
{
    struct gw_strbuf queues = {0};
    for (size_t i = 0; i < broker->plan.n; i++) {
        const struct gw_amqp_step *step = &broker->plan.steps[i];
        if (step->kind != GW_STEP_CONSUME)
            continue;
        gw_strbuf_adds(&queues, queues.len ? ", " : "");
        gw_strbuf_adds(&queues, step->name);
    }
    char *list = gw_strbuf_take(&queues);
    const struct gw_amqp_uri *node = current_node(broker);
    char which[48] = "";
    if (broker->config->n_amqp_nodes > 1)
        snprintf(which, sizeof(which), " (node %zu of %zu)", gw_node_round_node(broker->round) + 1,
                 broker->config->n_amqp_nodes);
    gw_info("rpc", "connected to %s:%d vhost %s%s, consuming %s", node->host, node->port,
            node->vhost, which, list);
    free(list);
    for (size_t i = 0; i < broker->plan.n; i++) {
        const struct gw_amqp_step *step = &broker->plan.steps[i];
        if (step->kind == GW_STEP_QUEUE && step->missing)
            gw_warn("rpc",
                    "%s queue %s is unavailable (its home node in the cluster is down): not "
                    "consumed on this connection",
                    step->role, step->name);
    }
    /* A queue that outlived its x-expires while we were away was declared again, empty. */
    for (size_t i = 0; i < broker->plan.n; i++) {
        const struct gw_amqp_step *step = &broker->plan.steps[i];
        if (step->kind == GW_STEP_LOOK && !step->found && broker->generation > 1)
            gw_warn("rpc", "%s queue %s had expired while disconnected; declared it again",
                    step->role, step->name);
    }
}

static void connect_done(uv_work_t *work, int status)
{
    struct connect_job *job = work->data;
    struct gw_broker *broker = job->broker;
    broker->job_running = false;
    if (broker->state == CLOSING) {
        gw_amqp_conn_free(job->conn, true);
        free(job);
        maybe_closed(broker);
        return;
    }
    if (status < 0 || job->status != GW_OK) {
        const struct gw_amqp_uri *node = current_node(broker);
        gw_warn("rpc", "cannot reach the broker at %s:%d: %s", node->host, node->port,
                status < 0 ? uv_strerror(status) : job->err);
        broker->state = DISCONNECTED;
        free(job);
        bool round_over;
        uint64_t delay_ms = gw_node_round_failed(broker->round, jitter(), &round_over);
        /* Calls made while enoki starts wait until every node has been tried once. */
        if (round_over) {
            broker->starting = false;
            tell_down(broker, GW_EBROKER, "cannot reach the broker");
        }
        reconnect_after(broker, delay_ms);
        return;
    }
    broker->conn = job->conn;
    free(job);
    broker->poll = xcalloc(1, sizeof(*broker->poll));
    broker->poll->data = broker;
    uv_poll_init(broker->loop, broker->poll, gw_amqp_conn_fd(broker->conn));
    broker->handles_open++;
    broker->watching_writable = false;
    uv_poll_start(broker->poll, UV_READABLE | UV_DISCONNECT, on_readable);
    broker->heartbeat_s = gw_amqp_conn_heartbeat(broker->conn);
    broker->last_heard_ms = uv_now(broker->loop);
    if (broker->heartbeat_s > 0) {
        uint64_t every = (uint64_t)broker->heartbeat_s * 1000 / HEARTBEAT_CHECKS;
        uv_timer_start(&broker->heartbeat, on_heartbeat_tick, every, every);
    }
    broker->state = CONNECTED;
    gw_node_round_connected(broker->round, uv_now(broker->loop));
    broker->blocked = false;
    if (broker->metrics)
        gw_metrics_set_blocked(broker->metrics, false);
    if (broker->metrics)
        gw_metrics_set_connected_node(broker->metrics, (int)gw_node_round_node(broker->round));
    if (broker->generation > 0 && broker->metrics)
        gw_metrics_reconnect(broker->metrics);
    broker->generation++;
    log_connected(broker);
    broker->starting = false;
    for (int i = 0; i < broker->n_users && broker->state == CONNECTED; i++)
        if (broker->users[i].up)
            broker->users[i].up(broker->users[i].arg);
    /* Frames that arrived with the last synchronous reply are already buffered. */
    drain(broker);
}

/* The plan of this connect: every user's declarations, and whose each consumer is. */
static void make_plan(struct gw_broker *broker)
{
    gw_amqp_plan_clear(&broker->plan);
    broker->plan.new_node = gw_node_round_moved(broker->round);
    free(broker->consumer_user);
    broker->consumer_user = NULL;
    for (int i = 0; i < broker->n_users; i++) {
        size_t first = broker->plan.n_consumers;
        if (broker->users[i].declare)
            broker->users[i].declare(broker->users[i].arg, &broker->plan);
        size_t n = broker->plan.n_consumers;
        broker->consumer_user =
            xrealloc(broker->consumer_user, (n ? n : 1) * sizeof(*broker->consumer_user));
        for (size_t c = first; c < n; c++)
            broker->consumer_user[c] = i;
    }
}

static void start_connect(struct gw_broker *broker)
{
    if (broker->state != DISCONNECTED || broker->job_running)
        return;
    make_plan(broker);
    struct connect_job *job = xcalloc(1, sizeof(*job));
    job->broker = broker;
    job->work.data = job;
    job->setup = (struct gw_amqp_setup){
        .uri = current_node(broker),
        .tls = &broker->config->amqp_tls,
        .login = broker->config->login_method,
        .heartbeat = gw_amqp_uri_heartbeat(current_node(broker), broker->config->heartbeat),
        .product = PRODUCT,
        .version = GW_VERSION,
        .connection_name = broker->connection_name,
        .plan = &broker->plan,
    };
    broker->state = CONNECTING;
    broker->job_running = true;
    uv_queue_work(broker->loop, &job->work, connect_work, connect_done);
}

/* --- the public face -------------------------------------------------------------------------- */

struct gw_broker *gw_broker_new(uv_loop_t *loop, const struct gw_config *config)
{
    struct gw_broker *broker = xcalloc(1, sizeof(*broker));
    broker->loop = loop;
    broker->config = config;
    broker->state = DISCONNECTED;
    /* <GATEWAY.name>@<hostname>: which gateway, on which machine (a container's hostname). */
    char host[256] = "";
    if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
        snprintf(host, sizeof(host), "unknown");
    snprintf(broker->connection_name, sizeof(broker->connection_name), "%s@%s", config->name, host);
    if (gw_log_worker) { /* GATEWAY.workers: which of the machine's workers, as its log lines say */
        size_t used = strlen(broker->connection_name);
        snprintf(broker->connection_name + used, sizeof(broker->connection_name) - used,
                 " worker=%d", gw_log_worker);
    }
    broker->starting = true;
    broker->round = gw_node_round_new(config->n_amqp_nodes);
    broker->confirms = gw_confirms_new();
    uv_timer_init(loop, &broker->heartbeat);
    broker->heartbeat.data = broker;
    uv_timer_init(loop, &broker->reconnect);
    broker->reconnect.data = broker;
    /* Once per loop pass, before it waits: everything published during the pass goes out in one
     * write. Unreferenced, so that it does not keep the loop alive. */
    uv_prepare_init(loop, &broker->flusher);
    broker->flusher.data = broker;
    uv_prepare_start(&broker->flusher, on_flush);
    uv_unref((uv_handle_t *)&broker->flusher);
    broker->handles_open = 3;
    return broker;
}

int gw_broker_add_user(struct gw_broker *broker, const struct gw_broker_user *user)
{
    if (broker->n_users == MAX_USERS)
        abort(); /* a fixed set of modules, not a runtime quantity */
    broker->users[broker->n_users] = *user;
    return broker->n_users++;
}

void gw_broker_set_metrics(struct gw_broker *broker, struct gw_metrics *metrics)
{
    broker->metrics = metrics;
    if (!metrics)
        return;
    size_t n = broker->config->n_amqp_nodes;
    char **names = xcalloc(n, sizeof(*names));
    for (size_t i = 0; i < n; i++)
        names[i] = xasprintf("%s:%d", broker->config->amqp_nodes[i].host,
                             broker->config->amqp_nodes[i].port);
    gw_metrics_set_nodes(metrics, (const char *const *)names, n);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    gw_metrics_set_connected_node(
        metrics, broker->state == CONNECTED ? (int)gw_node_round_node(broker->round) : -1);
}

void gw_broker_start(struct gw_broker *broker)
{
    start_connect(broker);
}

bool gw_broker_blocked(const struct gw_broker *broker)
{
    return broker->state == CONNECTED &&
           (broker->blocked || gw_amqp_conn_output_bytes(broker->conn) > GW_BROKER_MAX_BACKLOG);
}

bool gw_broker_ready(const struct gw_broker *broker)
{
    return broker->state == CONNECTED;
}

bool gw_broker_node(const struct gw_broker *broker, char *buf, size_t len)
{
    if (len)
        buf[0] = '\0';
    if (broker->state != CONNECTED)
        return false;
    const struct gw_amqp_uri *node = current_node(broker);
    snprintf(buf, len, "%s:%d", node->host, node->port);
    return true;
}

bool gw_broker_starting(const struct gw_broker *broker)
{
    /* Between two nodes of the first round too. */
    return broker->starting && (broker->state == CONNECTING || broker->state == DISCONNECTED);
}

bool gw_broker_closing(const struct gw_broker *broker)
{
    return broker->state == CLOSING;
}

uint64_t gw_broker_generation(const struct gw_broker *broker)
{
    return broker->generation;
}

int gw_broker_publish(struct gw_broker *broker, const struct gw_broker_message *message, int user,
                      const char *key)
{
    if (broker->state != CONNECTED)
        return GW_EBROKER;
    uint64_t tag;
    char err[256];
    int status = gw_amqp_conn_publish(broker->conn, message->exchange, message->routing_key,
                                      message->mandatory, message->props, message->body,
                                      message->len, &tag, err, sizeof(err));
    if (status == GW_EFRAME)
        return GW_EFRAME; /* one message's fault, found before anything was queued */
    if (status != GW_OK) {
        connection_lost(broker, err);
        return GW_EBROKER;
    }
    gw_confirms_add(broker->confirms, tag, user, key);
    return GW_OK;
}

int gw_broker_ack(struct gw_broker *broker, uint64_t generation, uint64_t delivery_tag)
{
    if (broker->state != CONNECTED || generation != broker->generation)
        return GW_OK; /* the broker requeued it with the connection it came on */
    if (gw_amqp_conn_ack(broker->conn, delivery_tag) == GW_OK)
        return GW_OK;
    connection_lost(broker, "ack failed");
    return GW_EBROKER;
}

int gw_broker_bind(struct gw_broker *broker, int user, const char *queue, const char *exchange,
                   const char *key, const char *declare_type, bool unbind, uint64_t tag)
{
    if (broker->state != CONNECTED)
        return GW_EBROKER;
    int status = gw_amqp_conn_bind(broker->conn, queue, exchange, key, declare_type, unbind);
    if (status == GW_EINVAL)
        return status; /* nothing was sent */
    if (status != GW_OK)
        return GW_EBROKER; /* the drain will find the connection broken */
    if (broker->n_ops == broker->cap_ops) {
        broker->cap_ops = broker->cap_ops ? broker->cap_ops * 2 : 16;
        broker->ops = xrealloc(broker->ops, broker->cap_ops * sizeof(*broker->ops));
    }
    broker->ops[broker->n_ops++] = (struct topology_op){
        .user = user,
        .exchange = xstrdup(exchange),
        .key = xstrdup(key),
        .tag = tag,
    };
    return GW_OK;
}

void gw_broker_close(struct gw_broker *broker, void (*closed)(void *arg), void *arg)
{
    broker->closed = closed;
    broker->closed_arg = arg;
    tell_down(broker, GW_ESHUTDOWN, "the gateway is shutting down");
    forget_pending(broker);
    stop_watching(broker);
    if (broker->conn) {
        gw_amqp_conn_free(broker->conn, true);
        broker->conn = NULL;
    }
    broker->state = CLOSING;
    uv_timer_stop(&broker->reconnect);
    uv_close((uv_handle_t *)&broker->heartbeat, on_handle_closed);
    uv_close((uv_handle_t *)&broker->reconnect, on_handle_closed);
    uv_close((uv_handle_t *)&broker->flusher, on_handle_closed);
}

void gw_broker_free(struct gw_broker *broker)
{
    if (!broker)
        return;
    forget_pending(broker);
    free(broker->ops);
    gw_confirms_free(broker->confirms);
    free(broker->consumer_user);
    gw_amqp_plan_clear(&broker->plan);
    gw_node_round_free(broker->round);
    free(broker);
}
