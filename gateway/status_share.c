#include "status_share.h"

#include "core/live_stats.h"
#include "core/xalloc.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The bytes of each store's export in a copy: about 300 routes, 80 websocket methods, 250
 * channels and the two per-second totals. The series beyond are left out of the other workers'
 * view. */
static const size_t store_bytes[GW_SHARE_STORES] = {512 << 10, 128 << 10, 128 << 10, 64 << 10};
enum { TRIES = 4 };

/* A slot holds its worker's numbers twice. seq counts the publishes that finished (0: none yet)
 * and names the copy that is whole, seq & 1; a publish writes the other copy, then moves seq on.
 * So a worker killed while it publishes leaves the slot as its last publish left it. */
struct slot_head {
    _Atomic uint32_t seq;
};

struct copy_head {
    uint32_t len[GW_SHARE_STORES];
    int64_t gauges[GW_SHARE_GAUGES];
};

struct gw_status_share {
    unsigned char *area;
    size_t stride;
    int n, self;
    unsigned char *data; /* a copy's data, copied out before it is read */
};

static size_t head_bytes(void)
{
    return (sizeof(struct slot_head) + 63) & ~(size_t)63;
}

static size_t copy_bytes(void)
{
    size_t n = sizeof(struct copy_head);
    for (int i = 0; i < GW_SHARE_STORES; i++)
        n += store_bytes[i];
    return (n + 63) & ~(size_t)63;
}

size_t gw_status_share_slot_bytes(void)
{
    return head_bytes() + 2 * copy_bytes();
}

struct gw_status_share *gw_status_share_new(void *area, size_t stride, int n, int self)
{
    struct gw_status_share *share = xcalloc(1, sizeof(*share));
    share->area = area;
    share->stride = stride;
    share->n = n;
    share->self = self;
    share->data = xcalloc(1, copy_bytes() - sizeof(struct copy_head));
    return share;
}

void gw_status_share_free(struct gw_status_share *share)
{
    if (!share)
        return;
    free(share->data);
    free(share);
}

int gw_status_share_workers(const struct gw_status_share *share)
{
    return share->n;
}

static struct slot_head *head_of(const struct gw_status_share *share, int i)
{
    return (struct slot_head *)(void *)(share->area + (size_t)i * share->stride);
}

static struct copy_head *copy_of(struct slot_head *head, uint32_t seq)
{
    return (struct copy_head *)(void *)((unsigned char *)head + head_bytes() +
                                        (seq & 1) * copy_bytes());
}

/* The publish after seq: never 0, which means "never written"; the copy alternates. */
static uint32_t next_seq(uint32_t seq)
{
    return seq + 1 != 0 ? seq + 1 : 2;
}

/* Starts writing the copy that is not whole; its writes come after the store that made the other
 * copy whole (a reader of that one must see that seq moved before it sees them). */
static struct copy_head *begin_publish(struct slot_head *head, uint32_t *next)
{
    *next = next_seq(atomic_load_explicit(&head->seq, memory_order_relaxed));
    atomic_thread_fence(memory_order_release);
    return copy_of(head, *next);
}

void gw_status_share_publish(struct gw_status_share *share,
                             struct gw_live_stats *const stores[GW_SHARE_STORES],
                             const int64_t gauges[GW_SHARE_GAUGES])
{
    struct slot_head *head = head_of(share, share->self);
    uint32_t next;
    struct copy_head *copy = begin_publish(head, &next);
    unsigned char *data = (unsigned char *)(copy + 1);
    for (int i = 0; i < GW_SHARE_STORES; i++) {
        copy->len[i] = (uint32_t)gw_live_stats_export(stores[i], data, store_bytes[i]);
        data += store_bytes[i];
    }
    memcpy(copy->gauges, gauges, sizeof(copy->gauges));
    atomic_store_explicit(&head->seq, next, memory_order_release);
}

/* The stores' exports of copy from into to, each at its place; their lengths into len, checked (a
 * copy read while it is written may say anything: that read is then thrown away). */
static void copy_exports(unsigned char *to, const struct copy_head *from,
                         uint32_t len[GW_SHARE_STORES])
{
    const unsigned char *data = (const unsigned char *)(from + 1);
    for (int i = 0; i < GW_SHARE_STORES; i++) {
        len[i] = from->len[i] <= store_bytes[i] ? from->len[i] : 0;
        memcpy(to, data, len[i]);
        data += store_bytes[i];
        to += store_bytes[i];
    }
}

void gw_status_share_clear_gauges(void *slot)
{
    struct slot_head *head = slot;
    uint32_t seq = atomic_load_explicit(&head->seq, memory_order_relaxed);
    if (seq == 0)
        return;
    const struct copy_head *whole = copy_of(head, seq);
    uint32_t next;
    struct copy_head *copy = begin_publish(head, &next);
    copy_exports((unsigned char *)(copy + 1), whole, copy->len);
    memset(copy->gauges, 0, sizeof(copy->gauges));
    atomic_store_explicit(&head->seq, next, memory_order_release);
}

/* Copies slot i's whole copy out (its lengths and gauges into out, its data into share->data);
 * false when it was never written, or was written again each time it was read. */
static bool copy_slot(const struct gw_status_share *share, int i, struct copy_head *out)
{
    struct slot_head *head = head_of(share, i);
    for (int t = 0; t < TRIES; t++) {
        uint32_t before = atomic_load_explicit(&head->seq, memory_order_acquire);
        if (before == 0)
            return false;
        const struct copy_head *copy = copy_of(head, before);
        memcpy(out->gauges, copy->gauges, sizeof(out->gauges));
        copy_exports(share->data, copy, out->len);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&head->seq, memory_order_relaxed) == before)
            return true;
    }
    return false;
}

void gw_status_share_collect(const struct gw_status_share *share, int own,
                             struct gw_live_stats *const stores[GW_SHARE_STORES],
                             int64_t gauges[GW_SHARE_GAUGES])
{
    for (int i = 0; i < share->n; i++) {
        if (own ? i != share->self : i == share->self)
            continue;
        struct copy_head head;
        if (!copy_slot(share, i, &head))
            continue;
        const unsigned char *data = share->data;
        for (int s = 0; s < GW_SHARE_STORES; s++) {
            gw_live_stats_merge(stores[s], data, head.len[s], !own);
            data += store_bytes[s];
        }
        for (int g = 0; g < GW_SHARE_GAUGES && !own; g++)
            gauges[g] += head.gauges[g];
    }
}
