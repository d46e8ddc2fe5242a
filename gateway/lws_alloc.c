/* lws_alloc.c - libwebsockets' wsis from a pool (lws_alloc.h). */
#include "gateway/lws_alloc.h"

#include "core/pool.h"

#include <libwebsockets.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* What lws 4.1 says it allocates for a server connection (lws_create_new_server_wsi). A version
 * that names it otherwise gets malloc's memory for it: the pool is a matter of speed only. */
#define WSI_REASON "new server wsi"

static struct gw_pool *wsi_pool; /* made at the first wsi; its size is that wsi's */
static bool installed;

/* lws's allocator: realloc's contract, size 0 freeing. */
static void *lws_realloc_pooled(void *ptr, size_t size, const char *reason)
{
    if (ptr && wsi_pool && gw_pool_owns(wsi_pool, ptr)) {
        if (size == 0) {
            gw_pool_put(wsi_pool, ptr);
            return NULL;
        }
        /* lws does not resize a wsi; were it to, the wsi would move to malloc's memory. */
        void *moved = malloc(size);
        if (!moved)
            return NULL;
        size_t had = gw_pool_record_size(wsi_pool);
        memcpy(moved, ptr, size < had ? size : had);
        gw_pool_put(wsi_pool, ptr);
        return moved;
    }
    if (!ptr && size && reason && strcmp(reason, WSI_REASON) == 0) {
        if (!wsi_pool)
            wsi_pool = gw_pool_new(size);
        if (gw_pool_record_size(wsi_pool) == size)
            return gw_pool_get(wsi_pool);
    }
    if (size)
        return realloc(ptr, size);
    free(ptr);
    return NULL;
}

void gw_lws_alloc_install(void)
{
    if (installed)
        return;
    lws_set_allocator(lws_realloc_pooled);
    installed = true;
}

void gw_lws_alloc_release(void)
{
    if (wsi_pool && gw_pool_count(wsi_pool) == 0) {
        gw_pool_free(wsi_pool);
        wsi_pool = NULL;
    }
}

size_t gw_lws_alloc_pooled(void)
{
    return wsi_pool ? gw_pool_count(wsi_pool) : 0;
}
