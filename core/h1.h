/* h1.h - the plain HTTP/1.1 requests enoki reads itself, and the response heads it writes.
 *
 * libmicrohttpd can only answer later by suspending a connection, which costs two epoll_ctl, an
 * extra read and an extra wakeup per request. The common request, a complete, well-formed
 * HTTP/1.1 GET/POST/PUT/PATCH/DELETE with at most a Content-Length body, is read by enoki on the
 * loop instead (gateway/http.c). Everything else, anything at all unusual, is left to
 * libmicrohttpd: gw_h1_parse says GW_H1_PASS and the connection is handed over before a byte of
 * that request is consumed. So the strict parser here never has to guess.
 */
#ifndef ENOKI_H1_H
#define ENOKI_H1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    GW_H1_MAX_HEADERS = 64,
};

enum gw_h1_status {
    GW_H1_READY = 0,       /* a whole request (head and body) is in the buffer */
    GW_H1_INCOMPLETE = -1, /* a prefix of a request that may still be served here */
    GW_H1_PASS = -2,       /* libmicrohttpd's: anything unusual, or too big for the buffer */
};

struct gw_h1_field {
    const char *name, *value; /* borrowed from the buffer, not NUL-terminated */
    size_t name_len, value_len;
};

struct gw_h1_request {
    const char *method, *target; /* borrowed, not NUL-terminated */
    size_t method_len, target_len;
    struct gw_h1_field headers[GW_H1_MAX_HEADERS]; /* in the order sent; values without OWS */
    size_t n_headers;
    size_t head_len;         /* request line, headers and the blank line */
    size_t content_length;   /* 0 without a Content-Length */
    bool close;              /* Connection: close */
};

/* Pure: reads the request at the start of buf[0..len). max_head and max_body are the limits
 * beyond which libmicrohttpd's path answers (431, 413): such requests are passed. A request is
 * GW_H1_READY only when all of it, body included, is in buf. */
enum gw_h1_status gw_h1_parse(const char *buf, size_t len, size_t max_head, size_t max_body,
                              struct gw_h1_request *out);

/* Whether s[0..len) is lit, ignoring case: a header name or a token of a value. */
bool gw_h1_token_is(const char *s, size_t len, const char *lit);

/* "Sun, 06 Nov 1994 08:49:37 GMT" for t into buf (at least 30 bytes). */
void gw_h1_date(int64_t t, char *buf, size_t len);

#endif
