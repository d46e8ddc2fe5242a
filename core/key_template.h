/* key_template.h - routes[].routing_key: a routing key made per call from the request's values,
 * as amphora's tune_function makes one (docs/amphora.md). Text with {name} fields, name a Python
 * identifier; {{ and }} are literal braces. Pure. */
#ifndef ENOKI_KEY_TEMPLATE_H
#define ENOKI_KEY_TEMPLATE_H

#include <stddef.h>

/* GW_OK, or GW_ECONFIG with why (an unclosed or empty field, a bad name, a stray '}'). */
int gw_key_template_check(const char *text, char *why, size_t whylen);

/* The text of field name (len bytes, not NUL-terminated) for this call, or NULL when it has none.
 */
typedef char *(*gw_key_lookup_fn)(void *arg, const char *name, size_t len);

/* The key for one call: a new string, each field replaced by lookup's text (a new string it
 * returns, freed here); NULL with why when a field has no value or the key is over 255 bytes.
 * text must have passed gw_key_template_check. */
char *gw_key_template_render(const char *text, gw_key_lookup_fn lookup, void *arg, char *why,
                             size_t whylen);

#endif
