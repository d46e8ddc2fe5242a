/* table.h - the route table: werkzeug 2.2 rules compiled into a matcher.
 *
 * Pure: no sockets, no MHD. Rules use werkzeug's language ("/get/<int:value>", "/f/<path:rest>",
 * converters with arguments such as <int(signed=True):n>), and matching answers exactly as a
 * werkzeug 2.2 Map() would: strict_slashes and merge_slashes on, as nameko builds it.
 *
 * Typical use: gw_route_table_new, gw_route_table_add for every route, gw_route_table_compile once,
 * then gw_route_table_match per request from any number of threads (the compiled table is
 * read-only).
 *
 * Where enoki deliberately differs from werkzeug (startup errors instead of silent surprises):
 *  - converter arguments werkzeug's regex would silently skip ("min=-5", "min=1 max=2") are
 * refused, as are arguments to path/uuid (werkzeug ignores them), wrong argument types, and a
 * variable used twice;
 *  - a route that could never be reached (same parts as an earlier route, overlapping method) is
 *    refused with GW_EDUPLICATE;
 *  - an int of more than 4,300 digits gives 404 (werkzeug fails the request on Python's int());
 *  - method names are trimmed (nameko does not trim "GET, POST", so its " POST" never matches);
 *  - the Allow list is sorted (werkzeug joins a Python set, in hash-seed order).
 */
#ifndef ENOKI_ROUTE_TABLE_H
#define ENOKI_ROUTE_TABLE_H

#include <jansson.h>
#include <stddef.h>

struct gw_route_table;
struct gw_rule;

struct gw_route_match {
    void *target;    /* borrowed: the target given to gw_route_table_add */
    json_t *values;  /* new reference: object of typed path values (int -> integer, float -> real,
                      * uuid -> lower-case string, others -> string); NULL unless GW_OK */
    char *redirect;  /* new: for GW_EREDIRECT, the path to redirect to (no query string) */
    char allow[256]; /* for GW_EMETHOD: the "Allow" header value, e.g. "GET, HEAD, POST" */
};

struct gw_route_table *gw_route_table_new(void);
void gw_route_table_free(struct gw_route_table *table);

/* Adds a route. rule is werkzeug rule text; methods is nameko's comma-separated list (names are
 * trimmed and upper-cased; "GET" implies "HEAD"); target is borrowed and handed back by match.
 * Returns GW_OK, GW_ERULE (bad rule or method list: err says why, e.g. "unknown converter 'foo'"),
 * GW_EDUPLICATE (same parts as an earlier route with an overlapping method, so werkzeug would never
 * reach it: "/a/<int:x>" duplicates "/a/<int(max=3):y>"), or GW_EINVAL (NULL argument, or the
 * table is already compiled). err (errlen bytes) gets a one-line reason; it does not repeat rule.
 */
int gw_route_table_add(struct gw_route_table *table, const char *rule, const char *methods,
                       void *target, char *err, size_t errlen);

/* Compiles the table for matching (sorts each state's dynamic transitions by werkzeug's weights);
 * call once after the last add. Returns GW_OK. */
int gw_route_table_compile(struct gw_route_table *table);

/* Matches a request. method is upper-cased here, as werkzeug does; path is the percent-decoded path
 * (UTF-8), without the query string; leading slashes are collapsed to one, as werkzeug does.
 * Returns GW_OK (out->target and out->values set), GW_ENOMATCH (404), GW_EMETHOD (405, out->allow
 * set, sorted, ", "-joined, whole names only if 255 bytes are not enough), GW_EREDIRECT (308,
 * out->redirect set: the decoded path with its slash; the caller percent-encodes it as werkzeug's
 * url_quote(safe="/:|+") and appends the query string), or GW_EINVAL (NULL argument or table not
 * compiled). A converter that rejects its value (int(max=...) etc.) ends the match as werkzeug
 * does: no other rule is tried, and the answer is 405 if a rule for another method was already
 * seen on the way, else 404. Always call gw_route_match_clear on out afterwards. */
int gw_route_table_match(const struct gw_route_table *table, const char *method, const char *path,
                         struct gw_route_match *out);
void gw_route_match_clear(struct gw_route_match *match);

/* Describes the compiled table, one route per line in the order added, for `enoki --check`: each
 * line "rule<TAB>METHODS<TAB>columns\n" (methods sorted and ","-joined, HEAD included) goes to
 * line(ctx, text); the caller writes it where it wants. describe is called for each target to fill
 * its columns (may be NULL: then the line ends after the methods). */
typedef void (*gw_route_describe_fn)(void *target, char *buf, size_t len);
typedef void (*gw_route_line_fn)(void *ctx, const char *line);
void gw_route_table_dump(const struct gw_route_table *table, gw_route_describe_fn describe,
                         gw_route_line_fn line, void *ctx);

/* One route of the table, as added: what the OpenAPI document is made of (routes/openapi.h). */
struct gw_route_info {
    const char *text;           /* borrowed: the rule as given */
    const struct gw_rule *rule; /* borrowed: its parts and converters, slashes merged */
    char methods[256];          /* sorted, ","-joined, HEAD included when GET is there */
    void *target;               /* borrowed: the target given to gw_route_table_add */
};

/* How many routes the table holds. */
size_t gw_route_table_count(const struct gw_route_table *table);

/* Fills out with route i in the order added (what it borrows lives as long as the table). Returns
 * GW_OK, or GW_EINVAL for a NULL argument or i out of range. */
int gw_route_table_get(const struct gw_route_table *table, size_t i, struct gw_route_info *out);

#endif
