/* lws_alloc.h - where libwebsockets' memory comes from: its record of each connection (a wsi, read
 * on every send of a broadcast) from a pool, packed as the hub's records of the sockets are
 * (core/pool.h); everything else from malloc, as lws's own allocator does. lws has one allocator
 * per process, so this is process-wide: the hub installs it before it creates its context, and
 * lets the pool go once its context is destroyed for the last time. */
#ifndef ENOKI_LWS_ALLOC_H
#define ENOKI_LWS_ALLOC_H

#include <stddef.h>

/* Has lws allocate through the pool from now on; a second call changes nothing. */
void gw_lws_alloc_install(void);

/* Frees the pool's blocks when no wsi is left in them (after lws_context_destroy); lws keeps
 * allocating through this module, from malloc until a new wsi makes a new pool. */
void gw_lws_alloc_release(void);

size_t gw_lws_alloc_pooled(void); /* wsis in the pool now, for the tests */

#endif
