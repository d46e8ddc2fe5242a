/* yaml_tree.h - the tree of YAML nodes that core/yaml_parse builds and the config schema reads, and
 * the key paths and messages that point into it ("<origin>:<line>: <key path>: <reason>").
 *
 * Nodes are reference counted so that aliases share them: a "billion laughs" document costs no
 * memory. A tree has no cycles (an anchor is registered only once its node is complete). Readers
 * treat a tree as read-only; only its builder and gw_yaml_map_set_take change one.
 */
#ifndef ENOKI_YAML_TREE_H
#define ENOKI_YAML_TREE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* Key paths are for messages only: a longer one is cut. */
#define GW_YAML_PATH_LEN 256
/* The buffer gw_yaml_describe needs: a value is quoted up to 57 bytes, then cut with "...". */
#define GW_YAML_DESCRIBE_LEN 80

enum gw_yaml_kind {
    GW_YAML_NULL,
    GW_YAML_BOOL,
    GW_YAML_INT,
    GW_YAML_FLOAT,
    GW_YAML_STRING,
    GW_YAML_SEQ,
    GW_YAML_MAP
};

struct gw_yaml_node {
    enum gw_yaml_kind kind;
    unsigned refs;      /* aliases share nodes */
    const char *origin; /* borrowed: the file name or "--define KEY"; outlives the tree's use */
    int line;           /* 1-based; 0 when the origin has no lines (a --define) */
    bool plain;         /* a scalar written without quotes */
    char *tag;          /* the explicit tag as libyaml resolved it, or NULL */
    char *text;     /* scalars: the text after substitution, used in messages and as the string */
    long long ival; /* GW_YAML_INT, clamped to the long long range */
    double fval;    /* GW_YAML_FLOAT */
    bool bval;      /* GW_YAML_BOOL */
    struct gw_yaml_node *
        *items; /* GW_YAML_SEQ: the items; GW_YAML_MAP: key, value, key, value... */
    size_t n_items, cap_items;
};

/* Returns a new node with one reference; text (copied) may be NULL for a collection. */
struct gw_yaml_node *gw_yaml_node_new(enum gw_yaml_kind kind, const char *origin, int line,
                                      const char *text);
/* Adds a reference and returns n. */
struct gw_yaml_node *gw_yaml_node_ref(struct gw_yaml_node *n);
/* Drops a reference; the last one frees the node and drops its items'. NULL is a no-op. */
void gw_yaml_node_unref(struct gw_yaml_node *n);
/* Appends child to a sequence or mapping, stealing the reference. */
void gw_yaml_node_push_take(struct gw_yaml_node *parent, struct gw_yaml_node *child);

/* The number of key/value pairs of a mapping: items[2 * i] is a key, items[2 * i + 1] its value. */
size_t gw_yaml_map_pairs(const struct gw_yaml_node *map);
/* Whether key is the string name. */
bool gw_yaml_is_key(const struct gw_yaml_node *key, const char *name);
/* Whether a later pair of map has the same string key as pair i: PyYAML keeps the last of duplicate
 * keys, so readers skip such a pair. */
bool gw_yaml_map_shadowed(const struct gw_yaml_node *map, size_t pair);
/* Sets a string key of map to value, as nameko's --define does: every earlier pair with that key
 * goes, and the new pair comes last. Steals both references. */
void gw_yaml_map_set_take(struct gw_yaml_node *map, struct gw_yaml_node *key,
                          struct gw_yaml_node *value);

/* Describes a value for "got ..." in messages: the text in quotes (cut beyond 60 bytes), or what
 * kind of thing it is ("null", "a list", "an empty list", "a mapping"). Returns buf or a constant.
 */
const char *gw_yaml_describe(const struct gw_yaml_node *n, char *buf, size_t len);

/* snprintf for key paths: a long path is simply cut (this also keeps gcc's -Wformat-truncation
 * quiet about it). */
void gw_yaml_path_printf(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes "parent.key", or "key" under the root's empty path. */
void gw_yaml_path_join(char *buf, size_t len, const char *parent, const char *key);

/* Writes "<origin>:<line>: <path>: <reason>" into err (cut to errlen; NULL or 0 writes nothing);
 * line 0 (a --define) and an empty or NULL path are left out. */
void gw_yaml_vformat_error(char *err, size_t errlen, const char *origin, int line, const char *path,
                           const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));

#endif
