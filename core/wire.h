/* wire.h - nameko's wire format (docs/nameko-wire.md), pure: no sockets.
 *
 * Request bodies, context headers as an AMQP field table, reply decoding and error objects. The
 * AMQP types come from rabbitmq-c's headers, but nothing here touches a connection.
 */
#ifndef ENOKI_WIRE_H
#define ENOKI_WIRE_H

#include <amqp.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define GW_UUID_LEN 36

/* Writes a random (version 4) UUID, lower-case with dashes, NUL-terminated, into out. */
void gw_uuid4(char out[GW_UUID_LEN + 1]);

/* Returns the request body {"args": [...], "kwargs": {...}} as Python's json.dumps writes it (new
 * string, free with free). args and kwargs are borrowed; NULL means empty. */
char *gw_wire_request_body(const json_t *args, const json_t *kwargs, size_t *len);

/* Returns a reply body {"result": ..., "error": ...} as a nameko service writes it (§2; new string,
 * free with free). result and error are borrowed; NULL means null. */
char *gw_wire_reply_body(const json_t *result, const json_t *error, size_t *len);

/* Encodes context data as nameko's headers: each member k of context becomes "nameko.k"; strings as
 * S, integers as I (int32) or l (int64), booleans as t, reals as d, arrays of those as A; null
 * members are skipped, as nameko skips None. Memory comes from pool (freed with the pool). */
void gw_wire_context_headers(const json_t *context, amqp_pool_t *pool, amqp_table_t *out);

/* Decodes a reply body {"result": ..., "error": ...}. On GW_OK sets *result (new reference; null
 * when absent beside an error) and *error (new reference, or NULL when the error member is null or
 * absent). Returns GW_EBADREPLY with a reason in why when the body is not a JSON object, its error
 * is not an object, or it has neither an error nor a result (nameko's client raises then too). */
int gw_wire_reply_decode(const char *body, size_t len, json_t **result, json_t **error, char *why,
                         size_t whylen);

/* Accessors for an error object {exc_type, exc_path, exc_args, value}; never NULL (""). */
const char *gw_wire_exc_type(const json_t *error);
const char *gw_wire_exc_path(const json_t *error);
const char *gw_wire_exc_value(const json_t *error);

/* s copied into pool (for a message's properties, which live until the pool is emptied). */
amqp_bytes_t gw_wire_pool_string(amqp_pool_t *pool, const char *s);

/* A nameko error object {exc_type, exc_path, exc_args, value}; args is stolen (NULL = []). Text
 * that is not UTF-8 (a message cut inside a character by a fixed-size buffer) is kept with each
 * ill-formed part replaced by U+FFFD, so every member is always there. */
json_t *gw_nameko_error(const char *exc_type, const char *exc_path, json_t *args,
                        const char *value);

#endif
