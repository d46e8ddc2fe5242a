#include "status_share.h"

#include "core/live_stats.h"
#include "core/xalloc.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The bytes of each store's export in a slot: about 300 routes, 80 websocket methods, 250 channels
 * and the two per-second totals. The series beyond are left out of the other workers' view. */
static const size_t store_bytes[GW_SHARE_STORES] = {512 << 10, 128 << 10, 128 << 10, 64 << 10};
enum { TRIES = 4 };

struct slot_head {
    _Atomic uint32_t seq; /* odd while written; 0: never written */
    uint32_t len[GW_SHARE_STORES];
    int64_t gauges[GW_SHARE_GAUGES];
};

struct gw_status_share {
    unsigned char *area;
    size_t stride;
    int n, self;
    size_t data_bytes;
    unsigned char *copy; /* a slot's data, copied out before it is read */
};

static size_t data_bytes(void)
{
    size_t n = 0;
    for (int i = 0; i < GW_SHARE_STORES; i++)
        n += store_bytes[i];
    return n;
}

size_t gw_status_share_slot_bytes(void)
{
    return sizeof(struct slot_head) + data_bytes();
}

struct gw_status_share *gw_status_share_new(void *area, size_t stride, int n, int self)
{
    struct gw_status_share *share = xcalloc(1, sizeof(*share));
    share->area = area;
    share->stride = stride;
    share->n = n;
    share->self = self;
    share->data_bytes = data_bytes();
    share->copy = xcalloc(1, share->data_bytes);
    return share;
}

void gw_status_share_free(struct gw_status_share *share)
{
    if (!share)
        return;
    free(share->copy);
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

void gw_status_share_publish(struct gw_status_share *share,
                             struct gw_live_stats *const stores[GW_SHARE_STORES],
                             const int64_t gauges[GW_SHARE_GAUGES])
{
    struct slot_head *head = head_of(share, share->self);
    uint32_t seq = atomic_load_explicit(&head->seq, memory_order_relaxed);
    atomic_store_explicit(&head->seq, seq | 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    unsigned char *data = (unsigned char *)(head + 1);
    for (int i = 0; i < GW_SHARE_STORES; i++) {
        head->len[i] = (uint32_t)gw_live_stats_export(stores[i], data, store_bytes[i]);
        data += store_bytes[i];
    }
    memcpy(head->gauges, gauges, sizeof(head->gauges));
    atomic_store_explicit(&head->seq, (seq | 1) + 1, memory_order_release);
}

void gw_status_share_clear_gauges(void *slot)
{
    struct slot_head *head = slot;
    uint32_t seq = atomic_load_explicit(&head->seq, memory_order_relaxed);
    if (seq == 0 || (seq & 1))
        return;
    atomic_store_explicit(&head->seq, seq | 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    memset(head->gauges, 0, sizeof(head->gauges));
    atomic_store_explicit(&head->seq, seq + 2, memory_order_release);
}

/* Copies slot i's head and data out while nobody writes it; false when it never settles or was
 * never written. */
static bool copy_slot(const struct gw_status_share *share, int i, struct slot_head *out)
{
    struct slot_head *head = head_of(share, i);
    for (int t = 0; t < TRIES; t++) {
        uint32_t before = atomic_load_explicit(&head->seq, memory_order_acquire);
        if (before == 0)
            return false;
        if (before & 1)
            continue;
        memcpy(out->len, head->len, sizeof(out->len));
        memcpy(out->gauges, head->gauges, sizeof(out->gauges));
        memcpy(share->copy, head + 1, share->data_bytes);
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
        struct slot_head head;
        if (!copy_slot(share, i, &head))
            continue;
        const unsigned char *data = share->copy;
        for (int s = 0; s < GW_SHARE_STORES; s++) {
            size_t len = head.len[s] <= store_bytes[s] ? head.len[s] : 0;
            gw_live_stats_merge(stores[s], data, len, !own);
            data += store_bytes[s];
        }
        for (int g = 0; g < GW_SHARE_GAUGES && !own; g++)
            gauges[g] += head.gauges[g];
    }
}
