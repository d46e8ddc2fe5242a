/* pool.c - records of one size packed in 2 MiB blocks (pool.h). */
#include "core/pool.h"

#include "core/xalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/lsan_interface.h>
/* A record put back, and the part of a block not yet carved, are out of bounds for ASan: a use
 * after put is reported as malloc's use after free would be. LeakSanitizer does not look into
 * mmap's memory by itself: a block is a root region, so that what only a record points to (a
 * socket's JSON, lws's buffers) is not taken for a leak. Valgrind sees the blocks as plain mapped
 * memory: a use after put is ASan's to find. */
#define POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#define ROOT(p, n) __lsan_register_root_region(p, n)
#define UNROOT(p, n) __lsan_unregister_root_region(p, n)
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#define ROOT(p, n) ((void)(p), (void)(n))
#define UNROOT(p, n) ((void)(p), (void)(n))
#endif

/* A block is one transparent huge page (x86-64, arm64 with 4 KiB pages), aligned to it. */
enum { BLOCK = 2 << 20, RECORD_ALIGN = 64 };

struct gw_pool {
    size_t asked; /* a record's size as given */
    size_t size;  /* rounded up to RECORD_ALIGN */
    char **blocks;
    size_t n_blocks, blocks_cap;
    char *carve, *carve_end; /* the newest block's records not handed out yet */
    void *free_list;         /* put records, each holding the next in its first bytes */
    size_t out;
};

struct gw_pool *gw_pool_new(size_t record_size)
{
    struct gw_pool *pool = xcalloc(1, sizeof(*pool));
    size_t size = record_size ? record_size : 1;
    pool->asked = size;
    pool->size = (size + RECORD_ALIGN - 1) / RECORD_ALIGN * RECORD_ALIGN;
    return pool;
}

/* A BLOCK-aligned block from mmap: THP backs only aligned 2 MiB ranges, and a plain mmap of 2 MiB
 * is page-aligned only, so twice that is mapped and the ends trimmed. */
static char *map_block(void)
{
    size_t span = 2 * (size_t)BLOCK;
    char *raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) {
        fprintf(stderr, "enoki: out of memory mapping a %d-byte pool block\n", BLOCK);
        abort();
    }
    uintptr_t start = ((uintptr_t)raw + BLOCK - 1) & ~(uintptr_t)(BLOCK - 1);
    char *block = (char *)start;
    size_t head = (size_t)(block - raw), tail = span - head - BLOCK;
    if (head)
        munmap(raw, head);
    if (tail)
        munmap(block + BLOCK, tail);
#ifdef MADV_HUGEPAGE
    madvise(block, BLOCK, MADV_HUGEPAGE); /* a hint: where THP is off, 4 KiB pages it is */
#endif
    POISON(block, BLOCK);
    ROOT(block, BLOCK);
    return block;
}

void *gw_pool_get(struct gw_pool *pool)
{
    char *record = pool->free_list;
    if (record) {
        UNPOISON(record, pool->size);
        memcpy(&pool->free_list, record, sizeof(void *));
        memset(record, 0, pool->size);
    } else {
        if (pool->carve == NULL || (size_t)(pool->carve_end - pool->carve) < pool->size) {
            if (pool->size > BLOCK) {
                fprintf(stderr, "enoki: a pool record of %zu bytes is larger than a block\n",
                        pool->size);
                abort();
            }
            if (pool->n_blocks == pool->blocks_cap) {
                pool->blocks_cap = pool->blocks_cap ? pool->blocks_cap * 2 : 4;
                pool->blocks = xrealloc(pool->blocks, pool->blocks_cap * sizeof(*pool->blocks));
            }
            char *block = map_block();
            pool->blocks[pool->n_blocks++] = block;
            pool->carve = block;
            pool->carve_end = block + BLOCK;
        }
        record = pool->carve;
        pool->carve += pool->size;
        UNPOISON(record, pool->size); /* fresh from mmap: zero already */
    }
    pool->out++;
    return record;
}

void gw_pool_put(struct gw_pool *pool, void *record)
{
    if (!record)
        return;
    memcpy(record, &pool->free_list, sizeof(void *));
    pool->free_list = record;
    POISON(record, pool->size);
    pool->out--;
}

size_t gw_pool_count(const struct gw_pool *pool)
{
    return pool->out;
}

size_t gw_pool_record_size(const struct gw_pool *pool)
{
    return pool->asked;
}

bool gw_pool_owns(const struct gw_pool *pool, const void *p)
{
    uintptr_t at = (uintptr_t)p;
    for (size_t i = 0; i < pool->n_blocks; i++) {
        uintptr_t start = (uintptr_t)pool->blocks[i];
        if (at >= start && at < start + BLOCK)
            return true;
    }
    return false;
}

void gw_pool_free(struct gw_pool *pool)
{
    if (!pool)
        return;
    for (size_t i = 0; i < pool->n_blocks; i++) {
        UNROOT(pool->blocks[i], BLOCK);
        UNPOISON(pool->blocks[i], BLOCK); /* the range may be mapped again, by anyone */
        munmap(pool->blocks[i], BLOCK);
    }
    free(pool->blocks);
    free(pool);
}
