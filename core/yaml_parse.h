/* yaml_parse.h - one YAML document into a tree of core/yaml_tree nodes, resolved as PyYAML's
 * SafeLoader resolves it once nameko has registered its !env_var resolver (docs/nameko-wire.md §8).
 *
 * Every scalar is resolved as it arrives:
 *   - a plain scalar holding "${...}" (core/config_subst) is substituted and the result re-parsed
 * as a new document at the scalar's line; if nothing was replaced, it stays the string as written;
 *   - !env_var "..." substitutes and re-parses, !raw_env_var "..." substitutes and keeps a string;
 *   - other plain scalars get their YAML 1.1 implicit type (core/yaml_scalar);
 *   - !!str, !!null, !!int, !!float and !!bool are honoured; any other tag is an error.
 * Aliases share the anchored node; an anchor is registered once its node is complete, so an alias
 * to an enclosing collection is "undefined" and no tree has a cycle. Duplicate keys are all kept
 * (readers skip the shadowed ones, gw_yaml_map_shadowed). A second document is an error.
 *
 * Errors are "<origin>:<line>: [<key path>: ]<reason>" with GW_EYAML (syntax, tags, aliases, NUL,
 * nesting deeper than GW_YAML_MAX_NESTING) or GW_ESUBST (a nested reference, or substitution more
 * than GW_YAML_MAX_SUBST_DEPTH levels deep).
 */
#ifndef ENOKI_YAML_PARSE_H
#define ENOKI_YAML_PARSE_H

#include "core/yaml_tree.h"

#include <stddef.h>

/* Deeper nesting than this is surely not a configuration, and the tree code is recursive. */
#define GW_YAML_MAX_NESTING 64
/* A variable whose value refers to itself would otherwise re-parse forever (Python hits its
 * recursion limit). Eight levels of variables referring to variables is plenty. */
#define GW_YAML_MAX_SUBST_DEPTH 8

struct gw_yaml_parse_opts {
    const char *origin; /* borrowed, and borrowed by every node: must outlive the tree */
    int line;           /* < 0: lines from the text; else every node gets this line (0: none) */
    const char *prefix; /* key path of the text being parsed: "" for a file */
    int depth;          /* how many substitutions produced this text: 0 for a file */
    char *err;          /* the message on failure; may be NULL */
    size_t errlen;
};

/* Parses text[0..len) (a NUL in a scalar is an error) into a new tree in *out: NULL for an empty
 * stream, else one reference for the caller to drop with gw_yaml_node_unref. Returns GW_OK, or a
 * status with the message in o->err and *out NULL. */
int gw_yaml_parse(const struct gw_yaml_parse_opts *o, const char *text, size_t len,
                  struct gw_yaml_node **out);

#endif
