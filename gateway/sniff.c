#include "sniff.h"

#include "core/log.h"
#include "core/xalloc.h"
#include "gateway/http_metrics.h"
#include "gateway/mhd_loop.h"
#include "gateway/refuse.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

enum { RETRY_MS = 5 };

struct sniff {
    struct sniff *prev, *next;
    struct gw_sniff_set *set;
    uv_poll_t poll;
    uv_timer_t timer;
    int fd;
    struct sockaddr_storage addr;
    socklen_t len;
    struct gw_h1_limits limits;
    gw_sniff_fn done;
    void *arg;
    uint64_t deadline;
    int closing;
};

static void on_closed(uv_handle_t *handle)
{
    struct sniff *s = handle->data;
    if (++s->closing == 2)
        free(s);
}

/* Hands the connection over (head not NULL), or closes it. */
static void finish(struct sniff *s, const struct gw_h1_head *head, const char *buf, size_t len)
{
    uv_poll_stop(&s->poll);
    uv_timer_stop(&s->timer);
    if (s->prev)
        s->prev->next = s->next;
    else
        s->set->head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    if (!head) {
        close(s->fd);
    } else {
        /* The libraries wait for readability too: theirs must be the kernel's default. */
        gw_set_lowat(s->fd, 1);
        s->done(s->arg, s->fd, (struct sockaddr *)&s->addr, s->len, head, buf, len);
    }
    uv_close((uv_handle_t *)&s->poll, on_closed);
    uv_close((uv_handle_t *)&s->timer, on_closed);
}

static void on_linger_end(uv_timer_t *timer)
{
    finish(timer->data, NULL, NULL, 0);
}

/* Too slow: a slowloris gets nothing. */
static void time_out(struct sniff *s)
{
    gw_metrics_connection_killed(s->set->metrics, GW_KILL_HEADER_TIMEOUT);
    finish(s, NULL, NULL, 0);
}

static void on_deadline(uv_timer_t *timer)
{
    time_out(timer->data);
}

static void on_linger(uv_poll_t *poll, int status, int events)
{
    (void)events;
    struct sniff *s = poll->data;
    if (gw_refuse_linger(s->fd, status))
        finish(s, NULL, NULL, 0);
}

static const struct gw_config *set_config(const struct gw_sniff_set *set)
{
    return set->config ? *set->config : NULL;
}

/* Answers a request no library should see, then closes the connection. */
static void answer(struct sniff *s, const struct gw_h1_head *head)
{
    gw_refuse(s->fd, &head->refusal, head->head_len, set_config(s->set));
    uv_poll_start(&s->poll, UV_READABLE | UV_DISCONNECT, on_linger);
    uv_timer_start(&s->timer, on_linger_end, GW_REFUSE_LINGER_MS, 0);
}

size_t gw_sniff_peek_for(const struct gw_h1_limits *limits)
{
    size_t head =
        limits->max_head > limits->library_head_max ? limits->max_head : limits->library_head_max;
    return head + GW_MHD_POOL_SLACK + 1;
}

/* Looks at what has arrived; returns 1 when the connection was handed over, answered or closed,
 * 0 when the rest of the request head has not come yet (*seen: the bytes there so far). */
static int peek(struct sniff *s, size_t *seen)
{
    struct gw_sniff_set *set = s->set;
    size_t want = gw_sniff_peek_for(&s->limits);
    if (set->peek_cap < want) {
        set->peek = xrealloc(set->peek, want);
        set->peek_cap = want;
    }
    ssize_t n = recv(s->fd, set->peek, want, MSG_PEEK);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        finish(s, NULL, NULL, 0); /* gone before it said anything */
        return 1;
    }
    *seen = n > 0 ? (size_t)n : 0;
    if (n < 0)
        return 0;
    struct gw_h1_head head;
    gw_h1_scan(set->peek, (size_t)n, (size_t)n == want, &s->limits, &head);
    if (head.verdict == GW_H1_INCOMPLETE)
        return 0;
    if (head.verdict == GW_H1_REFUSE)
        answer(s, &head);
    else
        finish(s, &head, set->peek, (size_t)n);
    return 1;
}

static void on_retry(uv_timer_t *timer)
{
    struct sniff *s = timer->data;
    size_t seen;
    if (peek(s, &seen))
        return;
    if (uv_now(timer->loop) >= s->deadline)
        time_out(s);
    else
        uv_timer_start(&s->timer, on_retry, RETRY_MS, 0);
}

static void on_readable(uv_poll_t *poll, int status, int events)
{
    struct sniff *s = poll->data;
    size_t seen;
    if (status < 0) {
        finish(s, NULL, NULL, 0);
        return;
    }
    if (peek(s, &seen))
        return;
    if (events & UV_DISCONNECT) {
        /* The client left in the middle of a head: it cannot complete. */
        gw_metrics_connection_killed(s->set->metrics, GW_KILL_ABANDONED);
        finish(s, NULL, NULL, 0);
        return;
    }
    /* Part of the request is there, and those peeked bytes keep the socket readable: a
     * level-triggered poll would spin. With SO_RCVLOWAT the kernel wakes the loop only once more
     * bytes have come (or the client has gone), so half-open connections that trickle a byte now
     * and then (slowloris) cost nothing while they wait. */
    if (gw_set_lowat(s->fd, (int)seen + 1) == 0)
        return;
    /* Without it: look again a little later (the timer then also keeps the deadline). */
    uv_poll_stop(poll);
    uv_timer_start(&s->timer, on_retry, RETRY_MS, 0);
}

void gw_sniff_close_all(struct gw_sniff_set *set)
{
    while (set->head)
        finish(set->head, NULL, NULL, 0);
}

void gw_sniff_set_free(struct gw_sniff_set *set)
{
    free(set->peek);
    set->peek = NULL;
    set->peek_cap = 0;
}

void gw_sniff_start(struct gw_sniff_set *set, uv_loop_t *loop, int fd, const struct sockaddr *addr,
                    socklen_t len, const struct gw_h1_limits *limits, uint64_t deadline_ms,
                    gw_sniff_fn done, void *arg)
{
    struct sniff *s = xcalloc(1, sizeof(*s));
    s->set = set;
    s->next = set->head;
    if (set->head)
        set->head->prev = s;
    set->head = s;
    s->fd = fd;
    memcpy(&s->addr, addr, len < sizeof(s->addr) ? len : sizeof(s->addr));
    s->len = len;
    s->limits = *limits;
    s->done = done;
    s->arg = arg;
    uv_poll_init(loop, &s->poll, fd);
    uv_timer_init(loop, &s->timer);
    s->poll.data = s->timer.data = s;
    s->deadline = uv_now(loop) + deadline_ms;
    uv_poll_start(&s->poll, UV_READABLE | UV_DISCONNECT, on_readable);
    /* A client that connects and never writes is closed at the deadline. */
    uv_timer_start(&s->timer, on_deadline, deadline_ms, 0);
}
