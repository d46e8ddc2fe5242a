/* http_mode.h - routes in `mode: http`: the same answers nameko's own @http gives
 * (docs/nameko-wire.md §6).
 *
 * The RPC method is called with the typed path values plus `request`, a JSON object mirroring what
 * a handler reads from werkzeug's Request; its result is read as nameko's @http reads a handler's
 * (nameko/web/handlers.py response_from_result), and errors become nameko's text answers. Pure.
 */
#ifndef ENOKI_HTTP_MODE_H
#define ENOKI_HTTP_MODE_H

#include "core/config.h"
#include "core/py_repr.h" /* gw_python_repr, which this module's texts use */
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
    const char *server; /* "host:port" of the local socket: the host when the client sent no Host */
    const struct gw_header_field *headers; /* in the order sent; cookies come from Cookie */
    size_t n_headers;
    const struct gw_query_param *query;
    size_t n_query;
    const char *body;
    size_t body_len;
};

/* Returns the new `request` object: method (upper-case), url (werkzeug's request.url: an IRI),
 * path, query_string, args, headers (names as werkzeug spells them, values without surrounding
 * whitespace, repeated ones joined with ", "), data or data_base64, content_type, remote_addr, and
 * cookies parsed as werkzeug's parse_cookie does (the first value of a name wins). */
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

/* A request enoki refuses itself (401, 403) in @http's text format: "Error: <exc_type>:
 * <message>\n" with the status given; code is the error table's, for the log. */
void gw_http_respond_refusal(int http, const char *code, const char *exc_type, const char *message,
                             struct gw_response *out);

/* Parses a Cookie header as werkzeug's parse_cookie does into cookies (an object, first value of a
 * name wins): "a=1; b=\"q v\"; c" -> {"a": "1", "b": "q v", "c": ""}. */
void gw_http_parse_cookies(const char *header, json_t *cookies);

/* werkzeug's request.url: uri_to_iri("http://" + host + "/" + url_quote(path.lstrip("/")) + "?" +
 * url_quote(query)). host drops a default ":80". Returns a new string. */
char *gw_http_werkzeug_url(const char *host, const char *path, const char *raw_query);

/* A header name as werkzeug's EnvironHeaders spells it: '_' becomes '-' (the WSGI environ cannot
 * tell them apart), then Python's str.title() ("x-api-key" -> "X-Api-Key"). Returns a new string.
 */
char *gw_http_header_title(const char *name);

#endif
