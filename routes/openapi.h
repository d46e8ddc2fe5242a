/* openapi.h - the OpenAPI 3.1 document of a compiled route table (docs/openapi.md).
 *
 * Pure: the document is made from the table (each route's parsed rule, methods and target, a
 * struct gw_route_conf) and the config it was compiled from (GATEWAY.expose, GATEWAY.errors,
 * GATEWAY.auth, GATEWAY.name); nothing is read from files or the network here. The same table and
 * config always give the same document, member for member in the same order, so that a client or
 * a test may diff two of them.
 *
 * What is documented, in short (docs/openapi.md has the reasons): every route's werkzeug rule as a
 * templated path ("/items/<int:item_id>" -> "/items/{item_id}") with each converter's schema; its
 * methods but HEAD beside GET and OPTIONS the rule does not list; a request body for POST, PUT and
 * PATCH; the statuses the route can answer, errors with the one shared `Error` schema (or text, for
 * `mode: http`); an operationId from the RPC target, unique in the document; the generic route
 * while GATEWAY.expose is set; the bearer scheme and each operation's requirement when
 * GATEWAY.auth.jwt is set.
 */
#ifndef ENOKI_ROUTES_OPENAPI_H
#define ENOKI_ROUTES_OPENAPI_H

#include "core/config.h"
#include "routes/openapi_schema.h"
#include "routes/rule.h"
#include "routes/table.h"

#include <jansson.h>

/* The document for table, whose targets are routes of config (both borrowed, as compiled by
 * gateway/main.c). Returns GW_OK and a new reference in *out, or GW_EINVAL (*out NULL) for a NULL
 * argument. */
int gw_openapi_build(const struct gw_config *config, const struct gw_route_table *table,
                     json_t **out);

/* The OpenAPI path template of a parsed rule: "/items/{item_id}", "/files/{rest}" (new). */
char *gw_openapi_path(const struct gw_rule *rule);

#endif
