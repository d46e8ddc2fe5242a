/* pool.c - records of one size packed in blocks: a small first one on ordinary pages, 2 MiB huge
 * ones after it (pool.h; docs/architecture.md, "Packed records"). */
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

/* The first block is FIRST_BLOCK of ordinary pages: a pool of a few records (a small instance's
 * sockets) costs only the pages it touches, where a huge page costs 2 MiB of RSS at its first
 * record, and its 64 pages are few enough for the TLB to hold. Every later block is BLOCK, one
 * transparent huge page (x86-64, arm64 with 4 KiB pages), aligned to it: thousands of records on a
 * few pages. A record larger than FIRST_BLOCK (none of the callers' comes near) simply starts the
 * pool with a BLOCK, rather than with a first block sized to it. */
enum { FIRST_BLOCK = 256 << 10, BLOCK = 2 << 20, RECORD_ALIGN = 64 };

struct block {
    char *start;
    size_t size; /* FIRST_BLOCK or BLOCK */
};

struct gw_pool {
    size_t asked; /* a record's size as given */
    size_t size;  /* rounded up to RECORD_ALIGN */
    struct block *blocks;
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

static _Noreturn void map_failed(size_t size)
{
    fprintf(stderr, "enoki: out of memory mapping a %zu-byte pool block\n", size);
    abort();
}

/* The first block: page-aligned, as mmap gives it. MADV_NOHUGEPAGE keeps it on ordinary pages
 * where THP is "always" too (the kernel could otherwise merge it with a neighbouring mapping into a
 * range a huge page fits). */
static char *map_first_block(void)
{
    char *block =
        mmap(NULL, FIRST_BLOCK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (block == MAP_FAILED)
        map_failed(FIRST_BLOCK);
#ifdef MADV_NOHUGEPAGE
    madvise(block, FIRST_BLOCK, MADV_NOHUGEPAGE);
#endif
    return block;
}

/* A later block, BLOCK-aligned: THP backs only aligned 2 MiB ranges, and a plain mmap of 2 MiB is
 * page-aligned only, so twice that is mapped and the ends trimmed. */
static char *map_huge_block(void)
{
    size_t span = 2 * (size_t)BLOCK;
    char *raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED)
        map_failed(BLOCK);
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
    return block;
}

/* A new block to carve, of FIRST_BLOCK when it is the first and a record fits, else of BLOCK. */
static void add_block(struct gw_pool *pool)
{
    size_t size = pool->n_blocks == 0 && pool->size <= FIRST_BLOCK ? FIRST_BLOCK : BLOCK;
    if (pool->size > size) {
        fprintf(stderr, "enoki: a pool record of %zu bytes is larger than a block\n", pool->size);
        abort();
    }
    if (pool->n_blocks == pool->blocks_cap) {
        pool->blocks_cap = pool->blocks_cap ? pool->blocks_cap * 2 : 4;
        pool->blocks = xrealloc(pool->blocks, pool->blocks_cap * sizeof(*pool->blocks));
    }
    char *block = size == FIRST_BLOCK ? map_first_block() : map_huge_block();
    POISON(block, size);
    ROOT(block, size);
    pool->blocks[pool->n_blocks++] = (struct block){block, size};
    pool->carve = block;
    pool->carve_end = block + size;
}

void *gw_pool_get(struct gw_pool *pool)
{
    char *record = pool->free_list;
    if (record) {
        UNPOISON(record, pool->size);
        memcpy(&pool->free_list, record, sizeof(void *));
        memset(record, 0, pool->size);
    } else {
        if (pool->carve == NULL || (size_t)(pool->carve_end - pool->carve) < pool->size)
            add_block(pool);
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
        uintptr_t start = (uintptr_t)pool->blocks[i].start;
        if (at >= start && at < start + pool->blocks[i].size)
            return true;
    }
    return false;
}

void gw_pool_free(struct gw_pool *pool)
{
    if (!pool)
        return;
    for (size_t i = 0; i < pool->n_blocks; i++) {
        struct block b = pool->blocks[i];
        UNROOT(b.start, b.size);
        UNPOISON(b.start, b.size); /* the range may be mapped again, by anyone */
        munmap(b.start, b.size);
    }
    free(pool->blocks);
    free(pool);
}
