#include "generation.h"

#include "core/xalloc.h"

#include <stdlib.h>

static unsigned alive;

struct gw_generation *gw_generation_new(struct gw_config *config, struct gw_route_table *table)
{
    struct gw_generation *gen = xcalloc(1, sizeof(*gen));
    gen->config = config;
    gen->table = table;
    gen->refs = 1;
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
    free(gen);
    alive--;
}

unsigned gw_generation_count(void)
{
    return alive;
}
