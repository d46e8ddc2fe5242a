/* config_routes.h - the `routes:` list of the config: one record per route, and the table of keys
 * that loads a route (rule, methods, rpc, timeout, mode, expected_exceptions, auth, scopes,
 * routing_key, collect, and the OpenAPI document's summary, description, tags, request_schema and
 * response_schema; unknown keys are errors).
 *
 * A schema key holds a JSON Schema written inline (a YAML mapping, read as JSON) or the name of a
 * JSON file, relative to the config file's folder; the file is read by gw_config_routes_finish, so
 * a missing or invalid one fails the load (and `enoki --check`, and a SIGHUP) like any config
 * error.
 */
#ifndef ENOKI_CONFIG_ROUTES_H
#define ENOKI_CONFIG_ROUTES_H

#include "core/config_auth.h"
#include "core/config_keys.h"
#include "core/config_services.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct gw_config;

/* routes[].request_schema or response_schema: documented only, never enforced (docs/openapi.md). */
struct gw_route_schema {
    json_t *schema; /* new reference: an object or a boolean; NULL = none (or not read yet) */
    char *file;     /* new: the file named, as written; NULL when written inline */
    int line;       /* of the key's value, for messages */
};

/* How a route turns a request into a call and a reply into a response. */
enum gw_route_mode {
    GW_MODE_JSON, /* enoki's own: kwargs from the path, a JSON body and the query (default) */
    GW_MODE_HTTP, /* nameko's @http (see routes/http_mode.h) */
};

/* routes[].collect: all: every reply before the deadline. */
#define GW_COLLECT_ALL (-1)

struct gw_route_conf {
    char *rule;    /* e.g. "/get/<int:value>" */
    char *methods; /* nameko's comma-separated list, default "GET", as written */
    char *service; /* from rpc "service.method" */
    char *method;
    double timeout; /* seconds; the GATEWAY.rpc_timeout when not given */
    enum gw_route_mode mode;
    struct gw_string_list expected_exceptions; /* http mode: exc_types answered as bad requests */
    enum gw_auth_mode auth;       /* GATEWAY.auth.default when not given (see core/config_auth.h) */
    bool auth_given;              /* routes[].auth is written */
    struct gw_string_list scopes; /* all required of the token (its scope or scp claim) */
    char *routing_key;         /* amphora: a template over the path and query values, "{user_id}" */
    int collect;               /* amphora fanout: 0 the first reply, GW_COLLECT_ALL, or that many */
    bool idempotency;          /* Idempotency-Key honoured (docs/idempotency.md), when given */
    bool idempotency_given;    /* routes[].idempotency is written; else GATEWAY.idempotency */
    enum gw_protocol protocol; /* its service's (GATEWAY.services), settled once the file is read */
    char *summary;             /* OpenAPI only; NULL = none */
    char *description;         /* OpenAPI only; NULL = none */
    struct gw_string_list tags; /* OpenAPI only; none = the service's name */
    struct gw_route_schema request_schema, response_schema;
    int line;      /* line of the route's mapping in the file, 1-based */
    int rule_line; /* line of its rule: where errors about the rule point */
    int rpc_line, routing_key_line, collect_line;
};

/* The mode's name as the config writes it: "json" or "http". */
const char *gw_route_mode_name(enum gw_route_mode mode);

/* The applier of the top-level `routes` key; base is the struct gw_config, whose routes it
 * replaces. Each route is checked alone here; gw_config_routes_finish checks them against GATEWAY.
 */
gw_key_apply_fn gw_config_apply_routes;

/* Once the whole file is applied: a route without a timeout takes GATEWAY.rpc_timeout (wherever
 * GATEWAY sits in the file), while GATEWAY.expose is on no rule may lie under GATEWAY.rpc_prefix
 * (the generic route owns that space), and the schema files are read. Returns GW_OK or GW_ECONFIG
 * with
 * "<path>:<line>: routes[i].rule: ..." in err. */
int gw_config_routes_finish(struct gw_config *c, char *err, size_t errlen);

/* Frees the routes of c and leaves none. */
void gw_config_routes_clear(struct gw_config *c);

#endif
