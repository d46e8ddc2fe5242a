/* http_mode.h - routes in `mode: http`: the same answers nameko's own @http gives (nameko-wire §6).
 *
 * The RPC method is called with the typed path values plus `request`, a JSON object mirroring what a
 * handler reads from werkzeug's Request; its result is read as nameko's @http reads a handler's
 * (nameko/web/handlers.py response_from_result), and errors become nameko's text answers. Pure.
 */
#ifndef ENOKI_HTTP_MODE_H
#define ENOKI_HTTP_MODE_H

#include "core/config.h"
#include "routes/call.h"
#include "routes/respond.h"

#include <jansson.h>
#include <stddef.h>

struct gw_header_field {
    const char *name;  /* borrowed, as sent */
    const char *value; /* borrowed, as sent */
};

/* What the request object is built from; everything borrowed. */
struct gw_http_request_view {
    const char *method;
    const char *target; /* the request target as sent: path, then '?' and the query */
    const char *path;   /* the percent-decoded path */
    const char *remote_addr;
    const struct gw_header_field *headers;
    size_t n_headers;
    const struct gw_query_param *query;
    size_t n_query;
    const struct gw_header_field *cookies;
    size_t n_cookies;
    const char *body;
    size_t body_len;
};

/* Returns the new `request` object: method, url, path, query_string, args, headers (names as
 * werkzeug spells them, repeated ones joined with ", "), data or data_base64, content_type,
 * remote_addr, cookies. */
json_t *gw_http_request_object(const struct gw_http_request_view *view);

/* Reads a handler's result (borrowed) as nameko does: "body" -> 200 text/plain; [status, body];
 * [status, {headers} or [[name, value], ...], body]; a non-string payload -> 500
 * "Error: TypeError: Payload must be a string. Got `<repr>`\n". */
void gw_http_respond_result(const json_t *result, struct gw_response *out);

/* An error as nameko's @http sends it: text/plain, "Error: <exc_type>: <value>\n"; 400 for the
 * BadRequest family (by exc_path) or an exc_type in expected, else 500. Broker-side outcomes
 * (status not GW_EREMOTE) keep json mode's statuses with the same text format. */
void gw_http_respond_error(int status, const json_t *error, const char *detail, const char *target,
                           double timeout_s, const struct gw_string_list *expected,
                           struct gw_response *out);

/* Python's repr() of a decoded JSON value ({'a': 1}, [1, 2], None, True, 'x', 1.5), new string. */
char *gw_python_repr(const json_t *value);

/* A header name as werkzeug's EnvironHeaders spells it: Python's str.title() ("x-api-key" ->
 * "X-Api-Key"). Returns a new string. */
char *gw_http_header_title(const char *name);

#endif
