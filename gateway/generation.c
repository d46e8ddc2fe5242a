#include "generation.h"

#include "core/xalloc.h"

#include <stdlib.h>
#include <time.h>

static unsigned alive;
static unsigned long made;

struct gw_generation *gw_generation_new(struct gw_config *config, struct gw_route_table *table)
{
    struct gw_generation *gen = xcalloc(1, sizeof(*gen));
    gen->config = config;
    gen->table = table;
    gen->refs = 1;
    gen->number = ++made;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    gen->loaded_at = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
    alive++;
    return gen;
}

struct gw_generation *gw_generation_ref(struct gw_generation *gen)
{
    gen->refs++;
    return gen;
}

void gw_generation_unref(struct gw_generation *gen)
{
    if (!gen || --gen->refs > 0)
        return;
    gw_route_table_free(gen->table);
    gw_config_free(gen->config);
    free(gen->route_stats);
    free(gen);
    alive--;
}

unsigned gw_generation_count(void)
{
    return alive;
}
