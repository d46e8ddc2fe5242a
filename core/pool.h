/* pool.h - records of one size packed side by side in blocks, for records that a loop walks by the
 * thousand (the hub's sockets, on every broadcast). Scattered over the heap, one malloc each, every
 * record such a loop reads costs it a page-table walk; packed, a page holds several. The first
 * block is 256 KiB of ordinary pages, so that a pool of a few records costs only the pages they
 * touch; every later one is 2 MiB, one huge page where the kernel grants it (docs/architecture.md,
 * "Packed records"). Records are 64-byte aligned and come zeroed. A put record is used again before
 * a new one is carved; blocks are kept until the pool is freed. Not thread-safe. */
#ifndef ENOKI_POOL_H
#define ENOKI_POOL_H

#include <stdbool.h>
#include <stddef.h>

struct gw_pool;

/* Ownership: the pool owns its blocks; a record is the caller's from get to put. Records still out
 * when the pool is freed go with it. */
struct gw_pool *gw_pool_new(size_t record_size); /* record_size at least 1 */
void gw_pool_free(struct gw_pool *pool);         /* NULL is a no-op */

/* A zeroed record; never NULL (out of memory aborts, as xmalloc does). */
void *gw_pool_get(struct gw_pool *pool);
void gw_pool_put(struct gw_pool *pool, void *record); /* NULL is a no-op */

size_t gw_pool_count(const struct gw_pool *pool);       /* records out */
size_t gw_pool_record_size(const struct gw_pool *pool); /* as given to gw_pool_new */

/* Whether p points into one of the pool's blocks (a record of it, out or put back). */
bool gw_pool_owns(const struct gw_pool *pool, const void *p);

#endif
