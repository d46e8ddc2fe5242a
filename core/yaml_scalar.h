/* yaml_scalar.h - YAML 1.1 implicit types, as PyYAML's SafeLoader resolves and constructs them.
 *
 * A plain (unquoted, untagged) scalar is null ("", "~", "null"...), a bool ("yes", "off"...), an
 * int (0b, 0x, leading-0 octal, '_' separators, sexagesimal "1:30"), a float (".5", "1.5e+1",
 * ".inf",
 * ".nan", "1:30.5") or else a string. Timestamps are left as strings: no key enoki reads can hold
 * one. Pure functions.
 */
#ifndef ENOKI_YAML_SCALAR_H
#define ENOKI_YAML_SCALAR_H

#include "core/yaml_tree.h"

#include <stdbool.h>

/* Whether text is one of YAML 1.1's null words. */
bool gw_yaml_is_null(const char *text);

/* Whether text is one of YAML 1.1's bool words; its value in *out. */
bool gw_yaml_resolve_bool(const char *text, bool *out);

/* Whether text is a YAML 1.1 int; its value in *out, clamped to the long long range (Python's ints
 * are unbounded, and any value that large fails every range check anyway). */
bool gw_yaml_resolve_int(const char *text, long long *out);

/* Whether text is a YAML 1.1 float; its value in *out. */
bool gw_yaml_resolve_float(const char *text, double *out);

/* Returns a new node for a plain, untagged scalar, of the first type above that matches. */
struct gw_yaml_node *gw_yaml_typed_scalar(const char *text, const char *origin, int line);

#endif
