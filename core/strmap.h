/* strmap.h - a hash map from strings to pointers, for the hub's lookups by name (a channel's
 * subscribers, a socket by its id, a binding by exchange and key), which ten thousand sockets
 * made too slow as lists. Open addressing with linear probing; the hash is SipHash with a random
 * key of the map's own, so names a client chooses cannot be made to collide. Pure. */
#ifndef ENOKI_STRMAP_H
#define ENOKI_STRMAP_H

#include <stddef.h>

struct gw_strmap;

/* Ownership: keys and values are the caller's. A key's bytes must stay where they are, unchanged,
 * while it is in the map (the hub keys its records by strings inside them). */
struct gw_strmap *gw_strmap_new(void);
void gw_strmap_free(struct gw_strmap *map); /* NULL is a no-op; keys and values are left alone */

/* The value of key (len bytes, which may hold NULs), or NULL when it is not in the map. */
void *gw_strmap_get(const struct gw_strmap *map, const char *key, size_t len);

/* Sets key's value (not NULL), replacing any; a replaced key keeps its first bytes' address. */
void gw_strmap_put(struct gw_strmap *map, const char *key, size_t len, void *value);

/* Takes key out; returns its value, or NULL when it was not in the map. */
void *gw_strmap_remove(struct gw_strmap *map, const char *key, size_t len);

size_t gw_strmap_count(const struct gw_strmap *map);

#endif
