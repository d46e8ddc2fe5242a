/* call.h - an HTTP request becomes a nameko call: arguments and context data. Pure: no sockets. */
#ifndef ENOKI_CALL_H
#define ENOKI_CALL_H

#include "core/config.h"

#include <jansson.h>
#include <stddef.h>

struct gw_query_param {
    const char *name;  /* borrowed, percent-decoded; ill-formed UTF-8 is repaired (U+FFFD) */
    const char *value; /* borrowed, percent-decoded; NULL for "?flag" (taken as ""); likewise */
};

/* A parsed query string; the strings belong to it. */
struct gw_query {
    struct gw_query_param *params;
    size_t n;
};

/* Parses a raw query string (without '?') as werkzeug's url_decode does: pairs split on '&', empty
 * pairs skipped, "name" alone has the value "", '+' is a space, %XX decoded (a malformed escape
 * kept), ill-formed UTF-8 replaced by U+FFFD. Fills out (free with gw_query_clear). */
void gw_query_parse(const char *raw, size_t len, struct gw_query *out);
void gw_query_clear(struct gw_query *query);

/* Percent-decodes the path of a request target (raw: as sent, up to but not including '?') as
 * werkzeug does: %XX decoded, a malformed escape kept as written, '+' kept, the bytes read as UTF-8
 * with each ill-formed part replaced by U+FFFD. An absolute-form target ("http://host/p") gives its
 * path. Returns GW_OK and a new string, or GW_EARGS when the path holds a NUL byte (%00), which the
 * route table cannot carry; err then says so. */
int gw_call_decode_path(const char *raw, size_t len, char **out, char *err, size_t errlen);

/* Builds json-mode arguments: kwargs = path values U members of a JSON-object body U query
 * parameters (strings; a repeated parameter becomes a list of strings); a JSON-array body becomes
 * the positional args. Returns GW_OK with new references in *args and *kwargs, or GW_EARGS  a name
 * given by two sources, or a body that is neither an object nor an array; GW_EJSON  a JSON
 * Content-Type (or none) with a body that is not valid JSON; GW_EMEDIA a non-empty body whose
 * Content-Type is not JSON; with a message for the client in err. path_values is borrowed (NULL =
 * none). */
int gw_call_build_args(const json_t *path_values, const struct gw_query_param *query,
                       size_t n_query, const char *content_type, const char *body, size_t body_len,
                       json_t **args, json_t **kwargs, char *err, size_t errlen);

/* The generic route, POST <prefix>/<service>/<method> (GATEWAY.expose, GATEWAY.rpc_prefix). */

/* true when path is prefix itself or lies below it ("/rpc", "/rpc/..."). */
int gw_call_under_prefix(const char *prefix, const char *path);

/* Reads "<prefix>/<service>/<method>": exactly two non-empty segments, the service's without '.'.
 * The method's may hold dots (an amphora function's name); a nameko method's must not (a dot would
 * change the routing key): gw_call_method_fits says. Returns GW_OK with new strings in *service
 * and *method, or GW_ENOMATCH. */
int gw_call_generic_target(const char *prefix, const char *path, char **service, char **method);

/* Whether method can be called on service by its protocol: a dotted name only on an amphora
 * service (GATEWAY.services), where dots mean nothing to routing. */
int gw_call_method_fits(const struct gw_config *config, const char *service, const char *method);

/* The first entry of config->expose whose glob (fnmatch) matches "service.method", or NULL when
 * none does (the target may not be called). Borrowed from config. */
const struct gw_policy_entry *gw_call_expose_find(const struct gw_config *config,
                                                  const char *service, const char *method);

/* Reads the generic route's body {"args": [...], "kwargs": {...}} (both optional; an empty body is
 * no arguments). Returns GW_OK with new references, or GW_EARGS (another member, or a member of the
 * wrong type), GW_EJSON or GW_EMEDIA (as gw_call_build_args) with a message in err. */
int gw_call_generic_args(const char *content_type, const char *body, size_t body_len, json_t **args,
                         json_t **kwargs, char *err, size_t errlen);

/* true for application/json, application/<x>+json, with or without parameters. */
int gw_call_is_json_type(const char *content_type);

/* Looks up a request header by name, case-insensitively; NULL when absent. */
typedef const char *(*gw_header_lookup_fn)(void *ctx, const char *name);

/* Returns new context data for a call from an HTTP request: auth_token (Authorization), language
 * (Accept-Language), user_agent (User-Agent), config->context_headers, and call_id_stack =
 * ["<name>.<kind>.<id>"] where id is a valid X-Request-Id (letters, digits, "._-", at most 64) or a
 * new uuid4. The call id is also written to call_id (NUL-terminated, truncated to call_id_len). */
json_t *gw_call_context_new(const struct gw_config *config, const char *kind,
                            gw_header_lookup_fn lookup, void *lookup_ctx, char *call_id,
                            size_t call_id_len);

/* true when id may stand in a call id: 1..64 of letters, digits, '.', '_', '-'. */
int gw_call_request_id_valid(const char *id);

#endif
