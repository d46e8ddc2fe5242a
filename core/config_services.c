/* config_services.c - GATEWAY.services, service by service. */
#include "core/config_services.h"

#include "core/config.h"
#include "core/status.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "core/yaml_tree.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Indexed by enum gw_protocol; also the order of the "expected one of" message. */
static const char *const protocol_names[] = {
    [GW_PROTO_NAMEKO] = "nameko", [GW_PROTO_AMPHORA] = "amphora", NULL};

/* The characters of a service's name: it becomes part of exchange and queue names. */
#define SERVICE_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"

const char *gw_protocol_name(enum gw_protocol protocol)
{
    return (size_t)protocol < ARRAY_LEN(protocol_names) - 1 ? protocol_names[protocol] : "?";
}

const struct gw_service_conf *gw_service_find(const struct gw_service_list *list,
                                              const char *service)
{
    for (size_t i = 0; i < list->n; i++)
        if (strcmp(list->items[i].name, service) == 0)
            return &list->items[i];
    return NULL;
}

void gw_service_list_clear(struct gw_service_list *list)
{
    for (size_t i = 0; i < list->n; i++)
        free(list->items[i].name);
    free(list->items);
    list->items = NULL;
    list->n = 0;
}

static int apply_protocol(const struct gw_key_err *e, const struct gw_yaml_node *v,
                          const char *path, void *base, const struct gw_key_spec *spec)
{
    size_t index = 0;
    (void)spec;
    int rc = gw_key_choose(e, v, path, protocol_names, &index);
    if (rc == GW_OK)
        ((struct gw_service_conf *)base)->protocol = (enum gw_protocol)index;
    return rc;
}

static const struct gw_key_spec service_keys[] = {
    {.name = "protocol", .apply = apply_protocol},
    {.name = "fanout",
     .apply = gw_key_apply_bool,
     .offset = offsetof(struct gw_service_conf, fanout)},
};

int gw_config_apply_services(const struct gw_key_err *e, const struct gw_yaml_node *v,
                             const char *path, void *base, const struct gw_key_spec *spec)
{
    struct gw_service_list *list = &((struct gw_config *)base)->services;
    char got[GW_YAML_DESCRIBE_LEN];
    char child[GW_YAML_PATH_LEN];
    (void)spec;
    if (v->kind != GW_YAML_MAP)
        return gw_key_fail(e, v, path, GW_ECONFIG,
                           "expected a mapping of service names to {protocol, fanout}, got %s",
                           gw_yaml_describe(v, got, sizeof(got)));
    gw_service_list_clear(list);
    list->items = xcalloc(v->n_items / 2 + 1, sizeof(*list->items));
    for (size_t i = 0; i + 1 < v->n_items; i += 2) {
        const struct gw_yaml_node *key = v->items[i], *value = v->items[i + 1];
        const char *name = key->kind == GW_YAML_STRING ? key->text : "";
        gw_yaml_path_join(child, sizeof(child), path, name);
        if (name[0] == '\0' || strspn(name, SERVICE_CHARS) != strlen(name))
            return gw_key_fail(e, key, child, GW_ECONFIG,
                               "expected a service name of letters, digits, '_' and '-', got %s",
                               gw_yaml_describe(key, got, sizeof(got)));
        if (value->kind != GW_YAML_MAP)
            return gw_key_fail(e, value, child, GW_ECONFIG,
                               "expected {protocol: nameko|amphora, fanout: true|false}, got %s",
                               gw_yaml_describe(value, got, sizeof(got)));
        struct gw_service_conf *s = NULL;
        for (size_t j = 0; j < list->n && !s; j++)
            if (strcmp(list->items[j].name, name) == 0)
                s = &list->items[j]; /* a duplicate key: the last wins, as in PyYAML */
        if (!s) {
            s = &list->items[list->n++];
            s->name = xstrdup(name);
        }
        s->protocol = GW_PROTO_NAMEKO;
        s->fanout = false;
        s->line = key->line;
        bool has_protocol = false;
        for (size_t k = 0; k + 1 < value->n_items; k += 2)
            has_protocol = has_protocol || (value->items[k]->kind == GW_YAML_STRING &&
                                            strcmp(value->items[k]->text, "protocol") == 0);
        int rc = gw_keys_apply_map(e, value, child, service_keys, ARRAY_LEN(service_keys), s, true);
        if (rc != GW_OK)
            return rc;
        if (!has_protocol) {
            char at[GW_YAML_PATH_LEN];
            gw_yaml_path_join(at, sizeof(at), child, "protocol");
            return gw_key_fail(e, value, at, GW_ECONFIG, "required key is missing");
        }
        if (s->fanout && s->protocol != GW_PROTO_AMPHORA) {
            char at[GW_YAML_PATH_LEN];
            gw_yaml_path_join(at, sizeof(at), child, "fanout");
            return gw_key_fail(
                e, value, at, GW_ECONFIG,
                "fanout is amphora's (its Fanout classes); nameko has no fanout RPC");
        }
    }
    return GW_OK;
}
