/* generation.h - one generation of the reloadable settings: a config, the route table compiled
 * from it and, once asked for, their OpenAPI document. SIGHUP makes a new one current; a request
 * keeps a reference to the generation it began under, so it finishes with the settings it started
 * with, and a generation is freed when the last reference goes (docs/architecture.md, "SIGHUP
 * reload"). Loop thread only.
 */
#ifndef ENOKI_GENERATION_H
#define ENOKI_GENERATION_H

#include "core/config.h"
#include "routes/rate_limit.h"
#include "routes/table.h"

#include <stdint.h>

struct gw_generation {
    struct gw_config *config;           /* owned */
    struct gw_route_table *table;       /* owned */
    struct gw_rate_limits *rate_limits; /* owned: GATEWAY.rate_limits compiled; NULL when none */
    unsigned refs;
    char *openapi; /* owned: the OpenAPI document, serialized on first use; NULL until then */
    size_t openapi_len;
    unsigned long number; /* 1 for the config enoki started with, one more for each reload */
    double loaded_at;     /* Unix time it was made */
    /* Each route's live series (core/live_stats), by its index in config->routes (owned; NULL
     * until the status page binds it), valid while the store's epoch is stats_epoch. */
    int *route_stats;
    uint64_t stats_epoch;
};

/* Takes config and table; the caller holds the one reference. Numbered one past the last one
 * made. */
struct gw_generation *gw_generation_new(struct gw_config *config, struct gw_route_table *table);

/* Returns gen, with one more reference. */
struct gw_generation *gw_generation_ref(struct gw_generation *gen);

/* Drops a reference; the last one frees the config and the table. NULL is a no-op. */
void gw_generation_unref(struct gw_generation *gen);

/* The OpenAPI document of the generation's config and routes (routes/openapi.h), JSON text of
 * *len bytes: built on the first request for it, so a config without GATEWAY.openapi_path never
 * pays for it, then kept until the generation goes (a SIGHUP's new generation builds its own).
 * Borrowed: valid while the caller holds its reference. */
const char *gw_generation_openapi(struct gw_generation *gen, size_t *len);

/* Generations alive, for the tests and the log. */
unsigned gw_generation_count(void);

#endif
