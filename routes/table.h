/* table.h - the route table: werkzeug 2.2 rules compiled into a matcher.
 *
 * Pure: no sockets, no MHD. Rules use werkzeug's language ("/get/<int:value>", "/f/<path:rest>",
 * converters with arguments such as <int(signed=True):n>), and matching answers exactly as a werkzeug
 * 2.2 Map with strict_slashes=True and merge_slashes=False would (the one nameko builds).
 *
 * Typical use: gw_route_table_new, gw_route_table_add for every route, gw_route_table_compile once,
 * then gw_route_table_match per request from any number of threads (the compiled table is read-only).
 */
#ifndef ENOKI_ROUTE_TABLE_H
#define ENOKI_ROUTE_TABLE_H

#include <jansson.h>
#include <stddef.h>

struct gw_route_table;

struct gw_route_match {
    void *target;     /* borrowed: the target given to gw_route_table_add */
    json_t *values;   /* new reference: object of typed path values (int -> integer, float -> real,
                       * uuid -> lower-case string, others -> string); NULL unless GW_OK */
    char *redirect;   /* new: for GW_EREDIRECT, the path to redirect to (no query string) */
    char allow[256];  /* for GW_EMETHOD: the "Allow" header value, e.g. "GET, HEAD, POST" */
};

struct gw_route_table *gw_route_table_new(void);
void gw_route_table_free(struct gw_route_table *table);

/* Adds a route. rule is werkzeug rule text; methods is nameko's comma-separated list (names are
 * trimmed and upper-cased; "GET" implies "HEAD"); target is borrowed and handed back by match.
 * Returns GW_OK, GW_ERULE (bad rule: err says why, e.g. "unknown converter 'foo'"), or GW_EDUPLICATE
 * (same rule as an earlier route with an overlapping method). */
int gw_route_table_add(struct gw_route_table *table, const char *rule, const char *methods,
                       void *target, char *err, size_t errlen);

/* Compiles the table for matching; call once after the last add. Returns GW_OK. */
int gw_route_table_compile(struct gw_route_table *table);

/* Matches a request. path is the percent-decoded path (UTF-8), without the query string.
 * Returns GW_OK (out->target and out->values set), GW_ENOMATCH (404), GW_EMETHOD (405, out->allow set)
 * or GW_EREDIRECT (308, out->redirect set). Always call gw_route_match_clear on out afterwards. */
int gw_route_table_match(const struct gw_route_table *table, const char *method, const char *path,
                         struct gw_route_match *out);
void gw_route_match_clear(struct gw_route_match *match);

/* Writes the compiled table, one route per line, for `enoki --check`. describe is called for each
 * target to append its own columns (may be NULL). */
typedef void (*gw_route_describe_fn)(void *target, char *buf, size_t len);
void gw_route_table_dump(const struct gw_route_table *table, gw_route_describe_fn describe,
                         void *stream /* FILE * */);

#endif
