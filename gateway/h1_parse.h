/* h1_parse.h - the one reader of HTTP/1.1 request heads: a single pass that says what a head is
 * and who reads the request (docs/architecture.md, "One port").
 *
 * Every request head that reaches enoki is peeked at once and scanned once, here, before any byte
 * of it is consumed: the first of a connection by the sniffer (gateway/sniff.c), the later ones of
 * a kept-alive connection by enoki's own reader (gateway/http_fast.c). The scan's verdict decides:
 *   - GW_H1_FAST: a complete, plain HTTP/1.1 GET/POST/PUT/PATCH/DELETE, body included, that enoki
 *     reads itself: its fields are in the result, pointing into the scanned bytes;
 *   - GW_H1_LIBRARY: a request libmicrohttpd reads (anything unusual: chunked bodies, HEAD,
 *     OPTIONS, HTTP/1.0, bodies still arriving, heads too big), or for kind GW_H1_WEBSOCKET an
 *     upgrade that libwebsockets reads;
 *   - GW_H1_REFUSE: a head that the libraries would get wrong (libmicrohttpd 0.9.75 reads heads as
 *     C strings, takes the first of several Content-Length values, answers a malformed one with its
 *     error head written twice; libwebsockets 4.1.6 accepts a malformed key): enoki answers it and
 *     closes the connection;
 *   - GW_H1_INCOMPLETE: the head has not all come yet.
 * So libmicrohttpd and libwebsockets only ever see heads that this scan has checked whole, and
 * nothing is checked twice. Pure: no I/O.
 */
#ifndef ENOKI_H1_PARSE_H
#define ENOKI_H1_PARSE_H

#include <stdbool.h>
#include <stddef.h>

enum {
    GW_H1_WEBSOCKET_LINES = 64, /* an upgrade head's most header lines (libwebsockets' table) */
    GW_H1_MAX_FIELDS = 64,      /* a plain request has at most this many header lines */
};

enum gw_h1_verdict {
    GW_H1_INCOMPLETE,
    GW_H1_FAST,
    GW_H1_LIBRARY,
    GW_H1_REFUSE,
};

enum gw_h1_kind {
    GW_H1_HTTP,
    GW_H1_WEBSOCKET, /* GET of the hub's path with Upgrade: websocket */
};

struct gw_h1_field {
    const char *name, *value; /* borrowed from the scanned bytes, not NUL-terminated */
    size_t name_len, value_len;
};

/* A request enoki answers itself, with "Connection: close". The strings are static or point into
 * the result's text. */
struct gw_h1_refusal {
    int status;        /* 400, 413, 426, 431 or 501 */
    const char *error; /* the stable error code of the JSON body */
    const char *message;
    const char *header_name, *header_value; /* one more response header, or NULL */
    bool head_method;                       /* the request is a HEAD: the answer has no body */
};

struct gw_h1_limits {
    size_t max_head;            /* GATEWAY.max_header: longer heads are libmicrohttpd's (431) */
    size_t max_body;            /* GATEWAY.max_body: a longer Content-Length is refused (413) */
    size_t fast_max;            /* the most bytes (head and body) enoki's reader holds */
    const char *websocket_path; /* the hub's path, or NULL when there is no hub */
    /* The longest upgrade head the hub holds (gw_hub_head_max): a longer one is refused (431),
     * where libwebsockets would close without a word. 0: no limit but max_head. */
    size_t websocket_head_max;
    /* The max_header libmicrohttpd was started with (its buffer is sized once): the peek covers
     * it too, so that a head it could read is scanned whole after a SIGHUP lowered max_head. */
    size_t library_head_max;
};

struct gw_h1_head {
    enum gw_h1_verdict verdict;
    enum gw_h1_kind kind;
    struct gw_h1_refusal refusal; /* GW_H1_REFUSE */
    /* The bytes that belong to this head: with its blank line (and any empty lines before it);
     * for a refusal of a head that has not all come, every byte scanned. 0 while incomplete. */
    size_t head_len;
    /* GW_H1_FAST: the request line, the fields in the order sent (values without OWS), the body's
     * length and whether the client asked to close. GW_H1_WEBSOCKET: the target (query included)
     * too, whatever the request line's version. */
    const char *method, *target;
    size_t method_len, target_len;
    struct gw_h1_field fields[GW_H1_MAX_FIELDS];
    size_t n_fields;
    size_t content_length;
    bool close;
    /* The head is plain enough for enoki's reader: a GW_H1_LIBRARY verdict then means that the
     * body has not all come, or is bigger than the reader holds. */
    bool plain;
    /* GW_H1_WEBSOCKET: the Origin and Host values, and the first Authorization and Cookie
     * values, where the socket's token may be (NULL when absent or empty). */
    const char *origin, *host, *authorization, *cookie;
    size_t origin_len, host_len, authorization_len, cookie_len;
    char text[192]; /* a refusal's formatted message */
};

/* Scans the request head at the start of buf[0..len). full says that buf holds all that could be
 * peeked (a head that has not ended by then is too big for enoki: libmicrohttpd answers it). */
void gw_h1_scan(const char *buf, size_t len, bool full, const struct gw_h1_limits *limits,
                struct gw_h1_head *out);

#endif
