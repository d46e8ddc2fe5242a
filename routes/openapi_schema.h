/* openapi_schema.h - the JSON Schemas of the OpenAPI document (docs/openapi.md): what a path
 * converter's values are, and where a route's own request_schema or response_schema is put.
 *
 * Pure, as routes/openapi is.
 */
#ifndef ENOKI_ROUTES_OPENAPI_SCHEMA_H
#define ENOKI_ROUTES_OPENAPI_SCHEMA_H

#include "routes/rule.h"

#include <jansson.h>

/* The converter's name as a rule spells it ("int", "path", ...); never NULL. */
const char *gw_openapi_converter_name(enum gw_conv_kind kind);

/* The JSON Schema of the values a converter matches, as the service receives them (new
 * reference): int -> integer with its bounds, float -> number, uuid -> string/uuid, any -> enum,
 * string -> string with its lengths, path -> string. */
json_t *gw_openapi_converter_schema(const struct gw_rule_conv *conv);

/* A route's schema (borrowed) as an operation holds it (new reference): a copy, or, when it refers
 * to parts of itself ("$ref": "#/$defs/Item", as pydantic writes them), which inline would point
 * into the OpenAPI document instead, {"$ref": "#/components/schemas/<name>"} to a copy put in
 * schemas (the document's components/schemas) with its references made to point there. A name
 * taken by another schema gets ".2", ".3", ...; by the same one, it is shared. */
json_t *gw_openapi_place_schema(json_t *schemas, const json_t *schema, const char *name);

#endif
