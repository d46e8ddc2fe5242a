/* config_keys.h - tables of keys that check a YAML mapping (core/yaml_tree) into a C struct.
 *
 * Each mapping enoki reads has one table: per key, the function that checks and stores its value
 * and where in the struct the value goes. gw_keys_apply_map walks the mapping against it. A null
 * value
 * (`key:`, `key: ~`, or a ${VAR} that is unset or empty) means "not given": the applier is not
 * called, so the field keeps its default. Messages are "<origin>:<line>: <key path>: <reason>".
 *
 * The generic appliers below serve most keys; a table may hold its own for a key with rules of its
 * own (see core/config_schema.c).
 */
#ifndef ENOKI_CONFIG_KEYS_H
#define ENOKI_CONFIG_KEYS_H

#include <stdbool.h>
#include <stddef.h>

struct gw_yaml_node;

/* A list of non-empty strings (the items and the array are owned by the struct holding it). */
struct gw_string_list {
    char **items;
    size_t n;
};

/* Frees the items and empties the list. */
void gw_string_list_clear(struct gw_string_list *list);

/* Where an applier writes its one message. */
struct gw_key_err {
    char *err; /* may be NULL */
    size_t errlen;
};

struct gw_key_spec;

/* Checks value (never null) at key path `path` and stores it into base (the struct the table
 * describes). Returns GW_OK, or a negative status with the message written. */
typedef int gw_key_apply_fn(const struct gw_key_err *e, const struct gw_yaml_node *value,
                            const char *path, void *base, const struct gw_key_spec *spec);

struct gw_key_spec {
    const char *name;
    gw_key_apply_fn *apply;
    size_t offset;         /* of the field in the base struct, for the generic appliers */
    long long min, max;    /* bounds, for gw_key_apply_int */
    const char *list_what; /* gw_key_apply_string_list: "a list of <list_what>" */
    const char *item_what; /* gw_key_apply_string_list: "expected <item_what>" for one item */
};

/* Applies every pair of map (skipping those a later duplicate key shadows) with the spec of its
 * key. An unknown key is an error when strict ("unknown key (expected one of: ...)"), else ignored:
 * the top level is shared with nameko services, so only enoki's own mappings are strict. */
int gw_keys_apply_map(const struct gw_key_err *e, const struct gw_yaml_node *map, const char *path,
                      const struct gw_key_spec *specs, size_t n_specs, void *base, bool strict);

/* Whether key is a merge key (a plain "<<"): PyYAML merges it into its mapping, enoki refuses it
 * (docs/decisions.md), with gw_key_merge_refused. */
bool gw_key_is_merge(const struct gw_yaml_node *key);

/* The refusal of the merge key key at path (its own path, "<<" last): GW_ECONFIG. */
int gw_key_merge_refused(const struct gw_key_err *e, const struct gw_yaml_node *key,
                         const char *path);

/* Writes "<at's origin>:<at's line>: <path>: <reason>" and returns status. */
int gw_key_fail(const struct gw_key_err *e, const struct gw_yaml_node *at, const char *path,
                int status, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The field of base at spec->offset. */
void *gw_key_field(void *base, const struct gw_key_spec *spec);

/* Frees *dst and sets it to a copy of value. */
void gw_key_replace_string(char **dst, const char *value);

/* Finds a string value among names (NULL-terminated); its index in *index. Otherwise fails with
 * "expected one of <names, comma separated>, got ...". */
int gw_key_choose(const struct gw_key_err *e, const struct gw_yaml_node *v, const char *path,
                  const char *const *names, size_t *index);

/* The generic appliers, each into the field at spec->offset: */
/* char *: a non-empty string. */
gw_key_apply_fn gw_key_apply_nonempty_string;
/* The same for a secret (auth.jwt.secret, admin_token): a refusal names the value's kind, never
 * the value. */
gw_key_apply_fn gw_key_apply_secret_string;
/* int: an integer from spec->min to spec->max. */
gw_key_apply_fn gw_key_apply_int;
/* double: a finite number > 0. */
gw_key_apply_fn gw_key_apply_positive_number;
/* bool: true or false. */
gw_key_apply_fn gw_key_apply_bool;
/* char *: a URL path such as "/rpc": a leading '/', no trailing '/', no '<', '>', '?' or '#'. */
gw_key_apply_fn gw_key_apply_url_path;
/* struct gw_string_list: a list of non-empty strings, or one string (a list of one); the spec's
 * list_what and item_what name them in messages. */
gw_key_apply_fn gw_key_apply_string_list;

#endif
