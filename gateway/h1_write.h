/* h1_write.h - the one writer of HTTP/1.1 response heads enoki writes itself: the fast path's
 * responses (gateway/http_fast.c), the refusals of heads no library may see (gateway/sniff.c) and
 * of websocket upgrades (gateway/main.c). libmicrohttpd writes the heads of the requests it reads;
 * this writer makes the same head from the same fields (the same reason phrases, Date, Connection
 * and Content-Length rules, and the same header filtering), so a client cannot tell which one
 * answered.
 */
#ifndef ENOKI_H1_WRITE_H
#define ENOKI_H1_WRITE_H

#include "core/strbuf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The header fields of one response, in order (copies). Zero-initialise; gw_h1_fields_clear. */
struct gw_h1_fields {
    struct gw_h1_out_field {
        char *name, *value; /* value NULL: the Connection field, whose value is .connection */
    } * items;
    size_t n, cap;
    struct gw_strbuf connection; /* the Connection value, normalised */
    bool has_date, has_connection, says_close;
};

/* Adds a field as libmicrohttpd 0.9.75's MHD_add_response_header takes it: false (and nothing
 * added) for an empty name or value, a name with whitespace, CR or LF, a value with CR or LF, a
 * Content-Length (the writer sets it), a Transfer-Encoding other than chunked. A second Date
 * replaces the first; Connection values are merged into one field, "close" first, "keep-alive"
 * dropped. */
bool gw_h1_fields_add(struct gw_h1_fields *fields, const char *name, const char *value);
void gw_h1_fields_clear(struct gw_h1_fields *fields);

/* Appends the head to out: the status line, Date (unless a field gives it), the Connection field
 * (or "Connection: close" when close and none is given), the other fields in order,
 * Content-Length (content_length; none for 1xx and 204), and the blank line. */
void gw_h1_write_head(struct gw_strbuf *out, int status, const struct gw_h1_fields *fields,
                      bool close, uint64_t content_length);

/* content_length for a 304 whose 200's length is not known: no Content-Length at all (RFC 9110
 * 8.6 allows one only if it is the 200's). */
#define GW_H1_NO_LENGTH UINT64_MAX

/* The reason phrase libmicrohttpd writes for status: "Non-Standard Status" for a code it has no
 * words for. Never NULL. */
const char *gw_h1_reason(int status);

/* "Sun, 06 Nov 1994 08:49:37 GMT" for t into buf (at least 30 bytes): the one HTTP date format. */
void gw_h1_date(int64_t t, char *buf, size_t len);

/* Parses an HTTP date in any of RFC 9110 5.6.7's three forms: IMF-fixdate (as gw_h1_date writes
 * it), RFC 850's ("Sunday, 06-Nov-94 08:49:37 GMT", its year taken as the latest not more than 50
 * years ahead of now) and asctime's ("Sun Nov  6 08:49:37 1994"), blanks around it allowed. false
 * for anything else. */
bool gw_h1_parse_date(const char *text, int64_t *out);

#endif
