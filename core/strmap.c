/* strmap.c - see strmap.h. Deletion shifts the entries after a removed one back (no tombstones),
 * so a map that sockets come and go through never fills with dead slots. */
#include "core/strmap.h"

#include "core/random.h"
#include "core/siphash.h"
#include "core/xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    const char *key; /* borrowed; NULL: the slot is empty */
    size_t len;
    uint64_t hash;
    void *value;
};

struct gw_strmap {
    struct entry *slots;
    size_t cap; /* a power of two, or 0 before the first put */
    size_t count;
    uint8_t key[16];
};

enum { FIRST_CAP = 16 };

struct gw_strmap *gw_strmap_new(void)
{
    struct gw_strmap *map = xcalloc(1, sizeof(*map));
    gw_random_fill(map->key, sizeof(map->key));
    return map;
}

void gw_strmap_free(struct gw_strmap *map)
{
    if (!map)
        return;
    free(map->slots);
    free(map);
}

/* The slot holding key, or the empty slot where it would go. */
static struct entry *probe(const struct gw_strmap *map, const char *key, size_t len, uint64_t hash)
{
    size_t mask = map->cap - 1;
    for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
        struct entry *e = &map->slots[i];
        if (!e->key || (e->hash == hash && e->len == len && memcmp(e->key, key, len) == 0))
            return e;
    }
}

void *gw_strmap_get(const struct gw_strmap *map, const char *key, size_t len)
{
    if (!map->count)
        return NULL;
    struct entry *e = probe(map, key, len, gw_siphash(map->key, key, len));
    return e->key ? e->value : NULL;
}

/* Doubles the table (at three quarters full: linear probing stays short below that). */
static void grow(struct gw_strmap *map)
{
    struct entry *old = map->slots;
    size_t old_cap = map->cap;
    map->cap = old_cap ? old_cap * 2 : FIRST_CAP;
    map->slots = xcalloc(map->cap, sizeof(*map->slots));
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].key)
            *probe(map, old[i].key, old[i].len, old[i].hash) = old[i];
    free(old);
}

void gw_strmap_put(struct gw_strmap *map, const char *key, size_t len, void *value)
{
    if ((map->count + 1) * 4 > map->cap * 3)
        grow(map);
    uint64_t hash = gw_siphash(map->key, key, len);
    struct entry *e = probe(map, key, len, hash);
    if (!e->key) {
        e->key = key;
        e->len = len;
        e->hash = hash;
        map->count++;
    }
    e->value = value;
}

void *gw_strmap_remove(struct gw_strmap *map, const char *key, size_t len)
{
    if (!map->count)
        return NULL;
    struct entry *e = probe(map, key, len, gw_siphash(map->key, key, len));
    if (!e->key)
        return NULL;
    void *value = e->value;
    map->count--;
    /* Shift back every later entry of the run that may sit in the freed slot: one whose home
     * slot is not cyclically between the hole and itself. */
    size_t mask = map->cap - 1, hole = (size_t)(e - map->slots);
    for (size_t i = (hole + 1) & mask; map->slots[i].key; i = (i + 1) & mask) {
        size_t home = (size_t)map->slots[i].hash & mask;
        if (((i - home) & mask) >= ((i - hole) & mask)) {
            map->slots[hole] = map->slots[i];
            hole = i;
        }
    }
    map->slots[hole] = (struct entry){0};
    return value;
}

size_t gw_strmap_count(const struct gw_strmap *map)
{
    return map->count;
}
