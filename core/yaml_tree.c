/* yaml_tree.c - YAML nodes, shared by reference count, and the messages that point at them. */
#include "core/yaml_tree.h"

#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The first capacity of a collection's items; it doubles from there. */
#define FIRST_ITEMS 8
/* Longer values are cut in messages, so a line stays readable. */
#define DESCRIBE_MAX 60

struct gw_yaml_node *gw_yaml_node_new(enum gw_yaml_kind kind, const char *origin, int line,
                                      const char *text)
{
    struct gw_yaml_node *n = xcalloc(1, sizeof(*n));
    n->kind = kind;
    n->refs = 1;
    n->origin = origin;
    n->line = line;
    n->text = text != NULL ? xstrdup(text) : NULL;
    return n;
}

struct gw_yaml_node *gw_yaml_node_ref(struct gw_yaml_node *n)
{
    n->refs++;
    return n;
}

void gw_yaml_node_unref(struct gw_yaml_node *n)
{
    if (n == NULL || --n->refs > 0)
        return;
    for (size_t i = 0; i < n->n_items; i++)
        gw_yaml_node_unref(n->items[i]);
    free(n->items);
    free(n->tag);
    free(n->text);
    free(n);
}

void gw_yaml_node_push_take(struct gw_yaml_node *parent, struct gw_yaml_node *child)
{
    if (parent->n_items == parent->cap_items) {
        parent->cap_items = parent->cap_items ? parent->cap_items * 2 : FIRST_ITEMS;
        parent->items = xrealloc(parent->items, parent->cap_items * sizeof(*parent->items));
    }
    parent->items[parent->n_items++] = child;
}

size_t gw_yaml_map_pairs(const struct gw_yaml_node *map)
{
    return map->n_items / 2;
}

bool gw_yaml_is_key(const struct gw_yaml_node *key, const char *name)
{
    return key->kind == GW_YAML_STRING && strcmp(key->text, name) == 0;
}

bool gw_yaml_map_shadowed(const struct gw_yaml_node *map, size_t pair)
{
    const struct gw_yaml_node *key = map->items[2 * pair];
    if (key->kind != GW_YAML_STRING)
        return false;
    for (size_t j = pair + 1; j < gw_yaml_map_pairs(map); j++) {
        if (gw_yaml_is_key(map->items[2 * j], key->text))
            return true;
    }
    return false;
}

void gw_yaml_map_set_take(struct gw_yaml_node *map, struct gw_yaml_node *key,
                          struct gw_yaml_node *value)
{
    size_t kept = 0;
    for (size_t i = 0; i < gw_yaml_map_pairs(map); i++) {
        struct gw_yaml_node *k = map->items[2 * i];
        struct gw_yaml_node *v = map->items[2 * i + 1];
        if (gw_yaml_is_key(k, key->text)) {
            gw_yaml_node_unref(k);
            gw_yaml_node_unref(v);
            continue;
        }
        map->items[2 * kept] = k;
        map->items[2 * kept + 1] = v;
        kept++;
    }
    map->n_items = 2 * kept;
    gw_yaml_node_push_take(map, key);
    gw_yaml_node_push_take(map, value);
}

const char *gw_yaml_describe(const struct gw_yaml_node *n, char *buf, size_t len)
{
    switch (n->kind) {
    case GW_YAML_NULL:
        return "null";
    case GW_YAML_SEQ:
        return n->n_items == 0 ? "an empty list" : "a list";
    case GW_YAML_MAP:
        return "a mapping";
    default:
        break;
    }
    if (strlen(n->text) > DESCRIBE_MAX)
        gw_yaml_path_printf(buf, len, "'%.*s...'", DESCRIBE_MAX - 3, n->text);
    else
        gw_yaml_path_printf(buf, len, "'%s'", n->text);
    return buf;
}

void gw_yaml_path_printf(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

void gw_yaml_path_join(char *buf, size_t len, const char *parent, const char *key)
{
    if (parent[0] == '\0')
        gw_yaml_path_printf(buf, len, "%s", key);
    else
        gw_yaml_path_printf(buf, len, "%s.%s", parent, key);
}

void gw_yaml_vformat_error(char *err, size_t errlen, const char *origin, int line, const char *path,
                           const char *fmt, va_list ap)
{
    if (err == NULL || errlen == 0)
        return;
    int n = line > 0 ? snprintf(err, errlen, "%s:%d: ", origin, line)
                     : snprintf(err, errlen, "%s: ", origin);
    size_t used = n > 0 ? (size_t)n : 0;
    if (used >= errlen)
        return;
    if (path != NULL && path[0] != '\0') {
        n = snprintf(err + used, errlen - used, "%s: ", path);
        used += n > 0 ? (size_t)n : 0;
        if (used >= errlen)
            return;
    }
    vsnprintf(err + used, errlen - used, fmt, ap);
}
