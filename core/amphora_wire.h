/* amphora_wire.h - amphora's request and reply bodies (docs/amphora.md §2-§3). Pure. */
#ifndef ENOKI_AMPHORA_WIRE_H
#define ENOKI_AMPHORA_WIRE_H

#include <jansson.h>
#include <stddef.h>

/* {"func": func, "args": args, "kwargs": kwargs} as UTF-8 JSON (args NULL: [], kwargs NULL: {}).
 * A new string, its length in *len. */
char *gw_amphora_request_body(const char *func, const json_t *args, const json_t *kwargs,
                              size_t *len);

/* A reply body: {"result": x} gives *result x; {"exception": {"type": T, "args": [...]}} gives
 * *error shaped as nameko's {exc_type T, exc_path null, exc_args args, value} with value what
 * Python prints for T(*args). GW_OK with new references, or GW_EBADREPLY with why for anything
 * else (not JSON, not an object, neither member, an exception without a string type or an args
 * list). */
int gw_amphora_reply_decode(const char *body, size_t len, json_t **result, json_t **error,
                            char *why, size_t whylen);

/* What str(E(*args)) prints: "" for no argument, str(arg) for one, the tuple's repr for more.
 * A new string. */
char *gw_amphora_exception_value(const json_t *args);

#endif
