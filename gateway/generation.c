#include "generation.h"

#include "core/xalloc.h"
#include "routes/openapi.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static unsigned alive;
static unsigned long made;

struct gw_generation *gw_generation_new(struct gw_config *config, struct gw_route_table *table)
{
    struct gw_generation *gen = xcalloc(1, sizeof(*gen));
    gen->config = config;
    gen->table = table;
    gen->rate_limits = gw_rate_limits_compile(config);
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
    gw_rate_limits_free(gen->rate_limits);
    gw_route_table_free(gen->table);
    gw_config_free(gen->config);
    free(gen->openapi);
    free(gen->route_stats);
    free(gen);
    alive--;
}

const char *gw_generation_openapi(struct gw_generation *gen, size_t *len)
{
    if (gen->openapi == NULL) {
        json_t *doc = NULL;
        gw_openapi_build(gen->config, gen->table, &doc);
        /* Indented: the document is read by people as much as by tools. */
        char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (text == NULL)
            abort(); /* jansson fails only when out of memory: enoki aborts then (core/xalloc) */
        gen->openapi = text;
        gen->openapi_len = strlen(gen->openapi);
        json_decref(doc);
    }
    *len = gen->openapi_len;
    return gen->openapi;
}

unsigned gw_generation_count(void)
{
    return alive;
}
