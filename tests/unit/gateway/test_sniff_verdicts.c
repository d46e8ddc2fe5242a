/* Unit tests for gateway/h1_parse as the sniffer (gateway/sniff.c) and enoki's own reader use it:
 * gw_h1_scan's verdicts on heads that are refused (exact status, error code, message, extra header
 * and the bytes that count as the head), websocket upgrades (detection, checks, Origin and Host,
 * the target, Authorization and Cookie where the socket's token may be),
 * heads with leading empty lines, heads still arriving, and a property over every prefix of a set
 * of inputs. The fast path's parse of plain requests is tests/unit/gateway/test_h1_parse.c.
 *
 * Every refusal comes with a control: the same head without the one wrong thing, which is not
 * refused. So a refusal case cannot pass by being malformed somewhere else by mistake.
 */
#include "gateway/h1_parse.h"
#include "gateway/http_fast.h"

#include "tests/unit/suites.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    MAX_HEAD = 16 << 10, /* the configuration's defaults (core/config.c) */
    MAX_BODY = 1 << 20,
};

/* The limits the sniffer scans a first head under (gateway/main.c, on_accept), with a hub. */
static const struct gw_h1_limits sniffer = {
    .max_head = MAX_HEAD, .max_body = MAX_BODY, .fast_max = GW_FAST_MAX, .websocket_path = "/ws"};

/* The same without a hub. */
static const struct gw_h1_limits no_hub = {
    .max_head = MAX_HEAD, .max_body = MAX_BODY, .fast_max = GW_FAST_MAX, .websocket_path = NULL};

/* A literal with its length: the inputs may hold NUL bytes. */
#define LIT(s) s, sizeof(s) - 1

/* Moves p from [copy, copy + len] to the same offset in s. */
static const char *moved(const char *p, const char *copy, const char *s)
{
    return p ? s + (p - copy) : NULL;
}

/* Scans an exact-length heap copy of s[0..len) (a read past len shows under ASan or valgrind); the
 * result's pointers are moved back into s. */
static void scan(const char *s, size_t len, bool full, const struct gw_h1_limits *limits,
                 struct gw_h1_head *out)
{
    char *copy = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(copy);
    if (len)
        memcpy(copy, s, len);
    gw_h1_scan(copy, len, full, limits, out);
    out->method = moved(out->method, copy, s);
    out->target = moved(out->target, copy, s);
    for (size_t i = 0; i < out->n_fields; i++) {
        out->fields[i].name = moved(out->fields[i].name, copy, s);
        out->fields[i].value = moved(out->fields[i].value, copy, s);
    }
    out->origin = moved(out->origin, copy, s);
    out->host = moved(out->host, copy, s);
    out->authorization = moved(out->authorization, copy, s);
    out->cookie = moved(out->cookie, copy, s);
    free(copy);
}

static void assert_slice(const char *p, size_t len, const char *want)
{
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(len, strlen(want));
    ck_assert_mem_eq(p, want, len);
}

/* ---- refusals ------------------------------------------------------------------------------- */

#define M_NUL "the request head holds a NUL byte"
#define M_BARE_CR "the request head holds a CR that does not end a line (RFC 9112 2.2)"
#define M_LINE "the request line is not METHOD SP target SP HTTP/x.y (RFC 9112 3)"
#define M_FOLD "a header line is folded onto the next one (obs-fold, RFC 9112 5.2)"
#define M_NO_NAME "a header line has no name"
#define M_COLON "whitespace between a header name and its colon (RFC 9112 5.1)"
#define M_CL_NUMBER "Content-Length must be a decimal number"
#define M_CL_AFTER "Content-Length must be a decimal number, with nothing after it"
#define M_CL_HUGE "the Content-Length is beyond any body enoki takes (GATEWAY.max_body)"
#define M_TE_CL "a request may not have both Transfer-Encoding and Content-Length"
#define M_TE_UNKNOWN                                                                               \
    "the body's length is unknown: send one Transfer-Encoding, and end it with chunked"
#define M_TE_CODING "enoki reads no transfer coding but chunked"
#define M_CL_DIFFER "the request has different Content-Length values"
#define M_BODY "the body is larger than 1048576 bytes (GATEWAY.max_body)"
#define LINES_8 "C: 1\r\nC: 2\r\nC: 3\r\nC: 4\r\nC: 5\r\nC: 6\r\nC: 7\r\nC: 8\r\n"
#define LINES_56 LINES_8 LINES_8 LINES_8 LINES_8 LINES_8 LINES_8 LINES_8
#define LINES_60 LINES_56 "C: a\r\nC: b\r\nC: c\r\nC: d\r\nC: e\r\n"
#define M_LINES "a websocket handshake may have at most 64 header lines and query parameters"
#define M_HTTP11 "a websocket handshake is an HTTP/1.1 request"
#define M_CONNECTION "a websocket handshake says Connection: Upgrade (RFC 6455 4.2.1)"
#define M_HOST "a websocket handshake needs a Host header"
#define M_TWO_HOSTS "a request has one Host header (RFC 9112 3.2)"
#define M_WS_TWO_HOSTS "a websocket handshake has one Host header"
#define M_VERSION "this hub speaks websocket version 13 (or 8): send Sec-WebSocket-Version: 13"
#define M_KEY "Sec-WebSocket-Key must be 16 bytes in base64 (RFC 6455 4.2.1)"

/* A GET and a POST with a Host, one more header line (or several), and the blank line. */
#define G(lines) "GET /p HTTP/1.1\r\nHost: h\r\n" lines "\r\n"
#define P(lines) "POST /p HTTP/1.1\r\nHost: h\r\n" lines "\r\n"
/* A websocket upgrade of path with more header lines. */
#define WS(path, lines)                                                                            \
    "GET " path                                                                                    \
    " HTTP/1.1\r\nHost: enoki:8000\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" lines "\r\n"
#define KEY "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
#define V13 "Sec-WebSocket-Version: 13\r\n"

struct refusal_case {
    const char *name;
    const char *input;
    size_t input_len;
    size_t after; /* bytes of the input after the head (a body); 0 for a head not all here */
    enum gw_h1_kind kind;
    int status;
    const char *error, *message;
    const char *control; /* the same without the one wrong thing */
    size_t control_len;
    enum gw_h1_verdict control_verdict;
    enum gw_h1_kind control_kind;
};

#define BAD(name, input, after, status, message, control, verdict)                                 \
    {                                                                                              \
        name, LIT(input), after, GW_H1_HTTP, status,                                               \
            status == 413   ? "body_too_large"                                                     \
            : status == 501 ? "not_implemented"                                                    \
                            : "bad_request",                                                       \
            message, LIT(control), verdict, GW_H1_HTTP                                             \
    }

static const struct refusal_case refusals[] = {
    /* A NUL anywhere in the head, complete or not (libmicrohttpd reads heads as C strings). */
    BAD("NUL in the target", "GET /a\0b HTTP/1.1\r\nHost: h\r\n\r\n", 0, 400, M_NUL,
        "GET /a%00b HTTP/1.1\r\nHost: h\r\n\r\n", GW_H1_FAST),
    BAD("NUL in a value", G("X-A: a\0b\r\n"), 0, 400, M_NUL, G("X-A: a b\r\n"), GW_H1_FAST),
    BAD("NUL in a name", G("X\0A: b\r\n"), 0, 400, M_NUL, G("X-A: b\r\n"), GW_H1_FAST),
    BAD("NUL starting a line", G("\0X-A: b\r\n"), 0, 400, M_NUL, G("X-A: b\r\n"), GW_H1_FAST),
    BAD("NUL as the first byte", "\0GET /p HTTP/1.1\r\n\r\n", 0, 400, M_NUL,
        "GET /p HTTP/1.1\r\n\r\n", GW_H1_FAST),
    BAD("NUL in the method", "G\0T /p HTTP/1.1\r\n\r\n", 0, 400, M_NUL, "GET /p HTTP/1.1\r\n\r\n",
        GW_H1_FAST),
    BAD("NUL with a body", P("Content-Length: 2\r\nX-A: \0\r\n") "ab", 2, 400, M_NUL,
        P("Content-Length: 2\r\nX-A: 0\r\n") "ab", GW_H1_FAST),
    BAD("NUL in a partial head", "GET /p HTTP/1.1\r\nX-A: a\0", 0, 400, M_NUL,
        "GET /p HTTP/1.1\r\nX-A: a", GW_H1_INCOMPLETE),
    BAD("NUL in a partial request line", "GET /\0", 0, 400, M_NUL, "GET /", GW_H1_INCOMPLETE),
    BAD("NUL alone", "\0", 0, 400, M_NUL, "G", GW_H1_INCOMPLETE),
    BAD("NUL after leading empty lines", "\r\n\0", 0, 400, M_NUL, "\r\n", GW_H1_INCOMPLETE),

    /* A CR alone, which libmicrohttpd takes for a line's end: a field after it would be its and
     * not the scan's. */
    BAD("bare CR hiding a Transfer-Encoding", P("X-A: a\rTransfer-Encoding: chunked\r\n"), 0, 400,
        M_BARE_CR, P("X-A: a\r\nTransfer-Encoding: chunked\r\n"), GW_H1_LIBRARY),
    BAD("bare CR in a value", G("X-A: a\rb\r\n"), 0, 400, M_BARE_CR, G("X-A: a b\r\n"), GW_H1_FAST),
    BAD("bare CR ending a value", G("X-A: a\r\r\n"), 0, 400, M_BARE_CR, G("X-A: a\r\n"),
        GW_H1_FAST),
    BAD("bare CR in a partial head", "GET /p HTTP/1.1\r\nX-A: a\rb\r\n", 0, 400, M_BARE_CR,
        "GET /p HTTP/1.1\r\nX-A: ab\r\n", GW_H1_INCOMPLETE),
    BAD("bare CR as the blank line", "GET /p HTTP/1.1\r\nHost: h\r\n\r\r\n", 0, 400, M_BARE_CR,
        "GET /p HTTP/1.1\r\nHost: h\r\n\r\n", GW_H1_FAST),
    BAD("bare CR in the request line", "GET /p\rHTTP/1.1\r\n\r\n", 0, 400, M_BARE_CR,
        "GET /p HTTP/1.1\r\n\r\n", GW_H1_FAST),
    BAD("bare CR before the request line", "\rGET /p HTTP/1.1\r\n\r\n", 0, 400, M_BARE_CR,
        "\r\nGET /p HTTP/1.1\r\n\r\n", GW_H1_LIBRARY),
    BAD("bare CRs as empty lines", "\r\r\r\n", 0, 400, M_BARE_CR, "\r\n\r\n", GW_H1_INCOMPLETE),

    /* A request line that is not method SP target SP HTTP/x.y: libmicrohttpd closes on some
     * without a word and reads others its own way. */
    BAD("tabs between the parts", "GET\t/p\tHTTP/1.1\r\n\r\n", 0, 400, M_LINE,
        "GET /p HTTP/1.1\r\n\r\n", GW_H1_FAST),
    BAD("a tab before the version", "DELETE /p\tHTTP/1.1\r\n\r\n", 0, 400, M_LINE,
        "DELETE /p HTTP/1.1\r\n\r\n", GW_H1_FAST),
    BAD("two spaces", "GET  /p HTTP/1.1\r\n\r\n", 0, 400, M_LINE, "GET /p HTTP/1.1\r\n\r\n",
        GW_H1_FAST),
    BAD("a space before the method", " GET /p HTTP/1.1\r\n\r\n", 0, 400, M_LINE,
        "GET /p HTTP/1.1\r\n\r\n", GW_H1_FAST),
    BAD("a space after the version", "GET /p HTTP/1.1 \r\n\r\n", 0, 400, M_LINE,
        "GET /p HTTP/1.1\r\n\r\n", GW_H1_FAST),
    BAD("no version", "GET /p\r\n\r\n", 0, 400, M_LINE, "GET /p HTTP/1.0\r\n\r\n", GW_H1_LIBRARY),
    BAD("a method alone", "GET\r\nHost: h\r\n\r\n", 0, 400, M_LINE,
        "GET / HTTP/1.1\r\nHost: h\r\n\r\n", GW_H1_FAST),
    BAD("a word after the version", "GET /p HTTP/1.1 x\r\n\r\n", 0, 400, M_LINE,
        "GET /p?x HTTP/1.1\r\n\r\n", GW_H1_FAST),
    BAD("a version in lower case", "GET /p http/1.1\r\n\r\n", 0, 400, M_LINE,
        "GET /p HTTP/2.0\r\n\r\n", GW_H1_LIBRARY),
    BAD("a version of three digits", "GET /p HTTP/1.10\r\n\r\n", 0, 400, M_LINE,
        "GET /p HTTP/1.0\r\n\r\n", GW_H1_LIBRARY),
    BAD("a method that is no token", "G(T /p HTTP/1.1\r\n\r\n", 0, 400, M_LINE,
        "G-T /p HTTP/1.1\r\n\r\n", GW_H1_LIBRARY),
    BAD("a control in the target", "GET /a\vb HTTP/1.1\r\n\r\n", 0, 400, M_LINE,
        "GET /a%0Bb HTTP/1.1\r\n\r\n", GW_H1_FAST),
    BAD("a malformed line, partial head", "GET\t/p HTTP/1.1\r\nHost: h\r\n", 0, 400, M_LINE,
        "GET /p HTTP/1.1\r\nHost: h\r\n", GW_H1_INCOMPLETE),
    BAD("NUL in the blank line's place", "GET /p HTTP/1.1\r\n\r\0", 0, 400, M_NUL,
        "GET /p HTTP/1.1\r\n\r", GW_H1_INCOMPLETE),
    {"NUL in an upgrade's Origin", LIT(WS("/ws", KEY V13 "Origin: http://a\0\r\n")), 0, GW_H1_HTTP,
     400, "bad_request", M_NUL, LIT(WS("/ws", KEY V13 "Origin: http://a\r\n")), GW_H1_LIBRARY,
     GW_H1_WEBSOCKET},

    /* obs-fold: libmicrohttpd joins the lines without a space. */
    BAD("obs-fold with a space", G("X-A: a\r\n b\r\n"), 0, 400, M_FOLD, G("X-A: a\r\nX-B: b\r\n"),
        GW_H1_FAST),
    BAD("obs-fold with a tab", G("X-A: a\r\n\tb\r\n"), 0, 400, M_FOLD, G("X-A: a\r\nX-B: b\r\n"),
        GW_H1_FAST),
    BAD("first field folded", "GET /p HTTP/1.1\r\n Host: h\r\n\r\n", 0, 400, M_FOLD,
        "GET /p HTTP/1.1\r\nHost: h\r\n\r\n", GW_H1_FAST),
    BAD("a line of whitespace", G("X-A: a\r\n \r\n"), 0, 400, M_FOLD, G("X-A: a\r\n"), GW_H1_FAST),
    BAD("Content-Length folded", P("Content-Length: 1\r\n 2\r\n") "x", 1, 400, M_FOLD,
        P("Content-Length: 1\r\n") "x", GW_H1_FAST),
    BAD("obs-fold in a partial head", "GET /p HTTP/1.1\r\nX-A: a\r\n b\r\n", 0, 400, M_FOLD,
        "GET /p HTTP/1.1\r\nX-A: a\r\nX-B: b\r\n", GW_H1_INCOMPLETE),
    BAD("obs-fold with bare LFs", "GET /p HTTP/1.1\nX-A: a\n b\n\n", 0, 400, M_FOLD,
        "GET /p HTTP/1.1\nX-A: a\nX-B: b\n\n", GW_H1_LIBRARY),

    /* A line that starts with ':' ends the head for libmicrohttpd. */
    BAD("line starting with ':'", G(": b\r\n"), 0, 400, M_NO_NAME, G("X: b\r\n"), GW_H1_FAST),
    BAD("':' alone", G(":\r\n"), 0, 400, M_NO_NAME, G("X:\r\n"), GW_H1_FAST),
    BAD("':' in a partial head", "GET /p HTTP/1.1\r\n:x\r\n", 0, 400, M_NO_NAME,
        "GET /p HTTP/1.1\r\nX:x\r\n", GW_H1_INCOMPLETE),
    BAD("':' after leading empty lines", "\r\n" G(":b\r\n"), 0, 400, M_NO_NAME, "\r\n" G("X:b\r\n"),
        GW_H1_LIBRARY),

    /* Whitespace before the colon: a name libmicrohttpd would not recognise. */
    BAD("space before colon", P("Content-Length : 5\r\n") "hello", 5, 400, M_COLON,
        P("Content-Length: 5\r\n") "hello", GW_H1_FAST),
    BAD("tab before colon", G("X-A\t: b\r\n"), 0, 400, M_COLON, G("X-A: b\r\n"), GW_H1_FAST),
    BAD("spaces before colon", G("Host  : h\r\n"), 0, 400, M_COLON, G("X-Host: h\r\n"), GW_H1_FAST),
    BAD("space before colon, partial head", "GET /p HTTP/1.1\r\nHost : h\r\n", 0, 400, M_COLON,
        "GET /p HTTP/1.1\r\nHost: h\r\n", GW_H1_INCOMPLETE),

    /* Content-Length not a number. */
    BAD("Content-Length a word", P("Content-Length: abc\r\n"), 0, 400, M_CL_NUMBER,
        P("Content-Length: 0\r\n"), GW_H1_FAST),
    BAD("Content-Length plus", P("Content-Length: +1\r\n") "x", 1, 400, M_CL_NUMBER,
        P("Content-Length: 1\r\n") "x", GW_H1_FAST),
    BAD("Content-Length minus", P("Content-Length: -1\r\n") "x", 1, 400, M_CL_NUMBER,
        P("Content-Length: 1\r\n") "x", GW_H1_FAST),
    BAD("Content-Length hex", P("Content-Length: 0x1\r\n") "x", 1, 400, M_CL_NUMBER,
        P("Content-Length: 1\r\n") "x", GW_H1_FAST),
    BAD("Content-Length empty", P("Content-Length:\r\n"), 0, 400, M_CL_NUMBER,
        P("Content-Length:0\r\n"), GW_H1_FAST),
    BAD("Content-Length blank", P("Content-Length:   \r\n"), 0, 400, M_CL_NUMBER,
        P("Content-Length:   0\r\n"), GW_H1_FAST),
    BAD("Content-Length with a space inside", P("Content-Length: 1 2\r\n"), 0, 400, M_CL_NUMBER,
        P("Content-Length: 12\r\n"), GW_H1_LIBRARY),
    BAD("Content-Length a list", P("Content-Length: 1, 1\r\n") "x", 1, 400, M_CL_NUMBER,
        P("Content-Length: 1\r\n") "x", GW_H1_FAST),
    BAD("Content-Length decimal", P("Content-Length: 1.0\r\n") "x", 1, 400, M_CL_NUMBER,
        P("Content-Length: 1\r\n") "x", GW_H1_FAST),
    BAD("Content-Length ending in a bare CR", P("Content-Length: 1\r\r\n") "x", 1, 400, M_BARE_CR,
        P("Content-Length: 1\r\n") "x", GW_H1_FAST),
    BAD("Content-Length a word, partial head", "POST /p HTTP/1.1\r\nContent-Length: x\r\n", 0, 400,
        M_CL_NUMBER, "POST /p HTTP/1.1\r\nContent-Length: 1\r\n", GW_H1_INCOMPLETE),
    BAD("second Content-Length a word", P("Content-Length: 1\r\nContent-Length: one\r\n") "x", 1,
        400, M_CL_NUMBER, P("Content-Length: 1\r\nContent-Length: 1\r\n") "x", GW_H1_LIBRARY),

    /* Content-Length with whitespace after it: not a number to libmicrohttpd. */
    BAD("Content-Length with a trailing space", P("Content-Length: 5 \r\n") "hello", 5, 400,
        M_CL_AFTER, P("Content-Length: 5\r\n") "hello", GW_H1_FAST),
    BAD("Content-Length with a trailing tab", P("Content-Length: 5\t\r\n") "hello", 5, 400,
        M_CL_AFTER, P("Content-Length:\t5\r\n") "hello", GW_H1_FAST),
    BAD("Content-Length with a trailing space, bare LF", "POST /p HTTP/1.1\nContent-Length: 5 \n\n",
        0, 400, M_CL_AFTER, "POST /p HTTP/1.1\nContent-Length: 5\n\n", GW_H1_LIBRARY),
    BAD("Content-Length with a trailing space, partial head",
        "POST /p HTTP/1.1\r\nContent-Length: 5 \r\n", 0, 400, M_CL_AFTER,
        "POST /p HTTP/1.1\r\nContent-Length: 5\r\n", GW_H1_INCOMPLETE),

    /* Content-Length beyond 64 bits. */
    BAD("Content-Length of 2^64", P("Content-Length: 18446744073709551616\r\n"), 0, 413, M_CL_HUGE,
        P("Content-Length: 1\r\n") "x", GW_H1_FAST),
    BAD("Content-Length of 30 digits", P("Content-Length: 999999999999999999999999999999\r\n"), 0,
        413, M_CL_HUGE, P("Content-Length: 9\r\n") "123456789", GW_H1_FAST),
    BAD("Content-Length of 2^64, partial head",
        "POST /p HTTP/1.1\r\nContent-Length: 18446744073709551616\r\n", 0, 413, M_CL_HUGE,
        "POST /p HTTP/1.1\r\nContent-Length: 1844674407370955\r\n", GW_H1_INCOMPLETE),

    /* Framing libmicrohttpd would get wrong. */
    BAD("Transfer-Encoding and Content-Length",
        P("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"), 0, 400, M_TE_CL,
        P("Transfer-Encoding: chunked\r\n"), GW_H1_LIBRARY),
    BAD("Content-Length and Transfer-Encoding",
        P("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), 0, 400, M_TE_CL,
        P("Content-Length: 5\r\n") "hello", GW_H1_FAST),
    BAD("Content-Length and an unknown Transfer-Encoding",
        P("Content-Length: 5\r\nTransfer-Encoding: gzip\r\n"), 0, 400, M_TE_CL,
        P("Content-Length: 5\r\n") "hello", GW_H1_FAST),
    BAD("two Transfer-Encoding", P("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"),
        0, 400, M_TE_UNKNOWN, P("Transfer-Encoding: chunked\r\n"), GW_H1_LIBRARY),
    BAD("two Transfer-Encoding, the last chunked",
        P("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"), 0, 400, M_TE_UNKNOWN,
        P("Transfer-Encoding: chunked\r\n"), GW_H1_LIBRARY),
    BAD("Transfer-Encoding gzip", P("Transfer-Encoding: gzip\r\n"), 0, 400, M_TE_UNKNOWN,
        P("Transfer-Encoding: chunked\r\n"), GW_H1_LIBRARY),
    BAD("Transfer-Encoding chunked, gzip", P("Transfer-Encoding: chunked, gzip\r\n"), 0, 400,
        M_TE_UNKNOWN, P("Transfer-Encoding: chunked\r\n"), GW_H1_LIBRARY),
    BAD("Transfer-Encoding xchunked", P("Transfer-Encoding: xchunked\r\n"), 0, 400, M_TE_UNKNOWN,
        P("Transfer-Encoding: chunked\r\n"), GW_H1_LIBRARY),
    BAD("Transfer-Encoding identity", P("Transfer-Encoding: identity\r\n"), 0, 400, M_TE_UNKNOWN,
        P("Transfer-Encoding: Chunked\r\n"), GW_H1_LIBRARY),
    BAD("Transfer-Encoding empty", P("Transfer-Encoding:\r\n"), 0, 400, M_TE_UNKNOWN,
        P("Transfer-Encoding:chunked\r\n"), GW_H1_LIBRARY),
    BAD("Transfer-Encoding gzip, chunked", P("Transfer-Encoding: gzip, chunked\r\n"), 0, 501,
        M_TE_CODING, P("Transfer-Encoding: chunked\r\n"), GW_H1_LIBRARY),
    BAD("Transfer-Encoding gzip,chunked", P("Transfer-Encoding: gzip,chunked\r\n"), 0, 501,
        M_TE_CODING, P("Transfer-Encoding: CHUNKED\r\n"), GW_H1_LIBRARY),
    BAD("Transfer-Encoding chunked and a space", P("Transfer-Encoding: chunked \r\n"), 0, 501,
        M_TE_CODING, P("Transfer-Encoding:  chunked\r\n"), GW_H1_LIBRARY),
    BAD("Transfer-Encoding chunked, chunked", P("Transfer-Encoding: chunked, chunked\r\n"), 0, 501,
        M_TE_CODING, P("Transfer-Encoding: chunked\r\n"), GW_H1_LIBRARY),
    BAD("different Content-Length", P("Content-Length: 1\r\nContent-Length: 2\r\n") "xy", 2, 400,
        M_CL_DIFFER, P("Content-Length: 1\r\nContent-Length: 1\r\n") "x", GW_H1_LIBRARY),
    BAD("the third Content-Length different",
        P("Content-Length: 1\r\nContent-Length: 1\r\ncontent-length: 2\r\n") "x", 1, 400,
        M_CL_DIFFER, P("Content-Length: 1\r\nContent-Length: 1\r\ncontent-length: 1\r\n") "x",
        GW_H1_LIBRARY),
    /* RFC 9112 3.2: a proxy and enoki could each take another (redirects are built from it). */
    BAD("two Host lines", G("Host: h2\r\n"), 0, 400, M_TWO_HOSTS, G("X-Host: h2\r\n"), GW_H1_FAST),
    BAD("two equal Host lines", P("host: h\r\nContent-Length: 1\r\n") "x", 1, 400, M_TWO_HOSTS,
        P("Content-Length: 1\r\n") "x", GW_H1_FAST),
    BAD("Content-Length over max_body", P("Content-Length: 1048577\r\n"), 0, 413, M_BODY,
        P("Content-Length: 1048576\r\n"), GW_H1_LIBRARY),
    BAD("Content-Length of 2^64 - 1", P("Content-Length: 18446744073709551615\r\n"), 0, 413, M_BODY,
        P("Content-Length: 1048576\r\n"), GW_H1_LIBRARY),
    BAD("equal Content-Length over max_body",
        P("Content-Length: 2000000\r\nContent-Length: 2000000\r\n"), 0, 413, M_BODY,
        P("Content-Length: 2000\r\nContent-Length: 2000\r\n"), GW_H1_LIBRARY),

    /* The checks of a websocket upgrade: libwebsockets 4.1.6 accepts a malformed key, and closes
     * without an answer on the handshakes below (RFC 6455 4.2.1 wants a 400). */
    {"upgrade over HTTP/1.0",
     LIT("GET /ws HTTP/1.0\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" KEY V13
         "\r\n"),
     0, GW_H1_WEBSOCKET, 400, "bad_request", M_HTTP11,
     LIT("GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" KEY V13
         "\r\n"),
     GW_H1_LIBRARY, GW_H1_WEBSOCKET},
    {"upgrade without Connection: Upgrade",
     LIT("GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n" KEY V13
         "\r\n"),
     0, GW_H1_WEBSOCKET, 400, "bad_request", M_CONNECTION,
     LIT("GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: keep-alive, "
         "upgrade\r\n" KEY V13 "\r\n"),
     GW_H1_LIBRARY, GW_H1_WEBSOCKET},
    {"upgrade with more header lines than libwebsockets holds",
     LIT("GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" KEY V13
             LINES_60 "\r\n"),
     0, GW_H1_WEBSOCKET, 431, "header_too_large", M_LINES,
     LIT("GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" KEY V13
             LINES_56 "\r\n"),
     GW_H1_LIBRARY, GW_H1_WEBSOCKET},
    {"upgrade without a Host",
     LIT("GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" KEY V13 "\r\n"), 0,
     GW_H1_WEBSOCKET, 400, "bad_request", M_HOST,
     LIT("GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" KEY V13
         "\r\n"),
     GW_H1_LIBRARY, GW_H1_WEBSOCKET},
    {"upgrade with two Host lines",
     LIT("GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" KEY V13
         "Host: h2\r\n\r\n"),
     0, GW_H1_WEBSOCKET, 400, "bad_request", M_WS_TWO_HOSTS,
     LIT("GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" KEY V13
         "X-Host: h2\r\n\r\n"),
     GW_H1_LIBRARY, GW_H1_WEBSOCKET},
    {"upgrade without a version", LIT(WS("/ws", KEY)), 0, GW_H1_WEBSOCKET, 426, "upgrade_required",
     M_VERSION, LIT(WS("/ws", KEY V13)), GW_H1_LIBRARY, GW_H1_WEBSOCKET},
    {"upgrade of version 12", LIT(WS("/ws", KEY "Sec-WebSocket-Version: 12\r\n")), 0,
     GW_H1_WEBSOCKET, 426, "upgrade_required", M_VERSION,
     LIT(WS("/ws", KEY "Sec-WebSocket-Version: 8\r\n")), GW_H1_LIBRARY, GW_H1_WEBSOCKET},
    {"upgrade of versions 13, 8", LIT(WS("/ws", KEY "Sec-WebSocket-Version: 13, 8\r\n")), 0,
     GW_H1_WEBSOCKET, 426, "upgrade_required", M_VERSION,
     LIT(WS("/ws", KEY "sec-websocket-version:  13 \r\n")), GW_H1_LIBRARY, GW_H1_WEBSOCKET},
    {"upgrade of version 013", LIT(WS("/ws?x=1", KEY "Sec-WebSocket-Version: 013\r\n")), 0,
     GW_H1_WEBSOCKET, 426, "upgrade_required", M_VERSION, LIT(WS("/ws?x=1", KEY V13)),
     GW_H1_LIBRARY, GW_H1_WEBSOCKET},
    {"upgrade without a key", LIT(WS("/ws", V13)), 0, GW_H1_WEBSOCKET, 400, "bad_request", M_KEY,
     LIT(WS("/ws", V13 KEY)), GW_H1_LIBRARY, GW_H1_WEBSOCKET},
    {"upgrade with a key of 23 characters",
     LIT(WS("/ws", V13 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZ==\r\n")), 0, GW_H1_WEBSOCKET, 400,
     "bad_request", M_KEY, LIT(WS("/ws", V13 KEY)), GW_H1_LIBRARY, GW_H1_WEBSOCKET},
    {"upgrade with a key without padding",
     LIT(WS("/ws", V13 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQAA\r\n")), 0, GW_H1_WEBSOCKET, 400,
     "bad_request", M_KEY, LIT(WS("/ws", V13 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")),
     GW_H1_LIBRARY, GW_H1_WEBSOCKET},
    {"upgrade with a key not in base64",
     LIT(WS("/ws", V13 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j-Q==\r\n")), 0, GW_H1_WEBSOCKET, 400,
     "bad_request", M_KEY, LIT(WS("/ws", V13 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j+Q==\r\n")),
     GW_H1_LIBRARY, GW_H1_WEBSOCKET},
    {"upgrade with a key of 18 bytes",
     LIT(WS("/ws", V13 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZSEh\r\n")), 0, GW_H1_WEBSOCKET, 400,
     "bad_request", M_KEY, LIT(WS("/ws", V13 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")),
     GW_H1_LIBRARY, GW_H1_WEBSOCKET},
    {"upgrade whose last key is bad", LIT(WS("/ws", V13 KEY "Sec-WebSocket-Key: x\r\n")), 0,
     GW_H1_WEBSOCKET, 400, "bad_request", M_KEY, LIT(WS("/ws", V13 "Sec-WebSocket-Key: x\r\n" KEY)),
     GW_H1_LIBRARY, GW_H1_WEBSOCKET},
    {"upgrade without a version nor a key", LIT(WS("/ws", "")), 0, GW_H1_WEBSOCKET, 426,
     "upgrade_required", M_VERSION, LIT(WS("/ws", KEY V13)), GW_H1_LIBRARY, GW_H1_WEBSOCKET},
    {"upgrade with a folded line", LIT(WS("/ws", KEY V13 "X-A: a\r\n b\r\n")), 0, GW_H1_HTTP, 400,
     "bad_request", M_FOLD, LIT(WS("/ws", KEY V13 "X-A: a b\r\n")), GW_H1_LIBRARY, GW_H1_WEBSOCKET},
};

#define CHECK(cond) ck_assert_msg(cond, "%s: %s", c->name, #cond)

START_TEST(refusal_and_its_control)
{
    const struct refusal_case *c = &refusals[_i];
    struct gw_h1_head h;
    for (int full = 0; full <= 1; full++) {
        /* A head to refuse is refused whether or not the peek is full. */
        scan(c->input, c->input_len, full, &sniffer, &h);
        ck_assert_msg(h.verdict == GW_H1_REFUSE, "%s: verdict %d", c->name, h.verdict);
        CHECK(h.kind == c->kind);
        ck_assert_msg(h.refusal.status == c->status, "%s: status %d", c->name, h.refusal.status);
        CHECK(strcmp(h.refusal.error, c->error) == 0);
        ck_assert_msg(strcmp(h.refusal.message, c->message) == 0, "%s: message '%s'", c->name,
                      h.refusal.message);
        ck_assert_msg(h.head_len == c->input_len - c->after, "%s: head_len %zu", c->name,
                      h.head_len);
        if (c->status == 426) {
            CHECK(strcmp(h.refusal.header_name, "Sec-WebSocket-Version") == 0);
            CHECK(strcmp(h.refusal.header_value, "13, 8") == 0);
        } else {
            CHECK(h.refusal.header_name == NULL && h.refusal.header_value == NULL);
        }
        CHECK(!h.plain);
        CHECK(!h.refusal.head_method);
    }
    scan(c->control, c->control_len, false, &sniffer, &h);
    ck_assert_msg(h.verdict == c->control_verdict, "%s: the control's verdict is %d", c->name,
                  h.verdict);
    CHECK(h.kind == c->control_kind);
    if (h.verdict == GW_H1_FAST)
        CHECK(h.head_len + h.content_length == c->control_len);
    else if (h.verdict == GW_H1_LIBRARY)
        CHECK(h.head_len > 0 && h.head_len <= c->control_len);
    else
        CHECK(h.head_len == 0);
}
END_TEST

START_TEST(refusal_of_the_body_size_names_the_limit)
{
    static const char req[] = P("Content-Length: 5\r\n") "hello";
    struct gw_h1_limits limits = sniffer;
    limits.max_body = 4;
    struct gw_h1_head h;
    scan(LIT(req), false, &limits, &h);
    ck_assert_int_eq(h.verdict, GW_H1_REFUSE);
    ck_assert_int_eq(h.kind, GW_H1_HTTP);
    ck_assert_int_eq(h.refusal.status, 413);
    ck_assert_str_eq(h.refusal.error, "body_too_large");
    ck_assert_str_eq(h.refusal.message, "the body is larger than 4 bytes (GATEWAY.max_body)");
    ck_assert_uint_eq(h.head_len, sizeof(req) - 1 - 5);
    /* Before the body is there too: it would not be taken. */
    scan(req, sizeof(req) - 1 - 5, false, &limits, &h);
    ck_assert_int_eq(h.verdict, GW_H1_REFUSE);
    ck_assert_int_eq(h.refusal.status, 413);
    /* The message is the result's own: a second scan into another result does not change it. */
    struct gw_h1_head other;
    limits.max_body = 3;
    scan(LIT(req), false, &limits, &other);
    ck_assert_str_eq(other.refusal.message, "the body is larger than 3 bytes (GATEWAY.max_body)");
    ck_assert_str_eq(h.refusal.message, "the body is larger than 4 bytes (GATEWAY.max_body)");
    /* The control: exactly the limit. */
    limits.max_body = 5;
    scan(LIT(req), false, &limits, &h);
    ck_assert_int_eq(h.verdict, GW_H1_FAST);
    ck_assert_uint_eq(h.content_length, 5);
    /* max_body 0 refuses any body, but not an empty one. */
    limits.max_body = 0;
    scan(LIT(req), false, &limits, &h);
    ck_assert_str_eq(h.refusal.message, "the body is larger than 0 bytes (GATEWAY.max_body)");
    static const char empty[] = P("Content-Length: 0\r\n");
    scan(LIT(empty), false, &limits, &h);
    ck_assert_int_eq(h.verdict, GW_H1_FAST);
}
END_TEST

START_TEST(refusal_of_a_head_request)
{
    /* A HEAD's answer has no content (RFC 9110 9.3.2), whichever refusal it is; a request line
     * that is not one has no method to tell. */
    static const struct {
        const char *request;
        size_t len;
        int status;
        bool head_method;
    } cases[] = {
        {LIT("HEAD /p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n"), 400, true},
        {LIT("HEAD /p HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), 501, true},
        {LIT("HEAD /p HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n"), 413, true},
        {LIT("HEAD /p HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"), 400, true},
        {LIT("\r\nHEAD /p HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"), 400, true},
        {LIT("HEAD /p HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n"), 400, true},
        {LIT("HEAD /p HTTP/1.1\r\nContent-Length: x\r\n\r\n"), 400, true},
        {LIT("HEAD /p\0 HTTP/1.1\r\n\r\n"), 400, true},
        {LIT("HEAD /p HTTP/1.1\r\nX-A: a\rb\r\n\r\n"), 400, true},
        {LIT("HEAD  /p HTTP/1.1\r\n\r\n"), 400, true},
        {LIT("HEAD\t/p HTTP/1.1\r\n\r\n"), 400, false},
        {LIT("GET /p HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"), 400, false},
        {LIT("head /p HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"), 400, false},
        {LIT("HEADER /p HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"), 400, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *req = cases[i].request;
        struct gw_h1_head h;
        scan(req, cases[i].len, false, &sniffer, &h);
        ck_assert_msg(h.verdict == GW_H1_REFUSE, "%s", req);
        ck_assert_int_eq(h.refusal.status, cases[i].status);
        ck_assert_msg(h.refusal.head_method == cases[i].head_method, "%s", req);
    }
}
END_TEST

START_TEST(equal_content_lengths_go_to_libmicrohttpd)
{
    static const char req[] = P("Content-Length: 3\r\ncontent-length: 3\r\n") "abc";
    struct gw_h1_head h;
    scan(LIT(req), false, &sniffer, &h);
    ck_assert_int_eq(h.verdict, GW_H1_LIBRARY);
    ck_assert_int_eq(h.kind, GW_H1_HTTP);
    ck_assert(!h.plain); /* enoki's reader does not guess which one counts */
    ck_assert_uint_eq(h.content_length, 3);
    ck_assert_uint_eq(h.head_len, sizeof(req) - 1 - 3);
}
END_TEST

START_TEST(chunked_goes_to_libmicrohttpd)
{
    static const char req[] = P("Transfer-Encoding: chunked\r\n") "5\r\nhello\r\n0\r\n\r\n";
    struct gw_h1_head h;
    scan(LIT(req), false, &sniffer, &h);
    ck_assert_int_eq(h.verdict, GW_H1_LIBRARY);
    ck_assert_int_eq(h.kind, GW_H1_HTTP);
    ck_assert(!h.plain);
    ck_assert_uint_eq(h.content_length, 0);
    ck_assert_uint_eq(h.head_len, strlen(P("Transfer-Encoding: chunked\r\n")));
}
END_TEST

/* ---- websocket upgrades --------------------------------------------------------------------- */

START_TEST(upgrade_of_the_hub_path)
{
    static const char req[] = WS("/ws", KEY V13);
    struct gw_h1_head h;
    scan(LIT(req), false, &sniffer, &h);
    ck_assert_int_eq(h.verdict, GW_H1_LIBRARY);
    ck_assert_int_eq(h.kind, GW_H1_WEBSOCKET);
    ck_assert_uint_eq(h.head_len, sizeof(req) - 1);
    ck_assert(!h.plain);
    ck_assert_ptr_null(h.origin);
    ck_assert_uint_eq(h.origin_len, 0);
    assert_slice(h.host, h.host_len, "enoki:8000");
    /* Frames after the head are not the head's. */
    static const char more[] = WS("/ws", KEY V13) "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";
    scan(LIT(more), false, &sniffer, &h);
    ck_assert_int_eq(h.verdict, GW_H1_LIBRARY);
    ck_assert_int_eq(h.kind, GW_H1_WEBSOCKET);
    ck_assert_uint_eq(h.head_len, sizeof(req) - 1);
}
END_TEST

static const struct {
    const char *path; /* the hub's */
    const char *request;
    bool websocket;
} upgrade_cases[] = {
    {"/ws", WS("/ws", KEY V13), true},
    {"/ws", WS("/ws?token=abc", KEY V13), true},
    {"/ws", WS("/ws?", KEY V13), true},
    {"/ws", WS("/wsx", KEY V13), false},
    {"/ws", WS("/ws/", KEY V13), false},
    {"/ws", WS("/w", KEY V13), false},
    {"/ws", WS("/WS", KEY V13), false},
    {"/ws", WS("/ws#f", KEY V13), false},
    {"/ws", WS("/x/ws", KEY V13), false},
    {"/ws", WS("/", KEY V13), false},
    {"/hub/socket", WS("/hub/socket", KEY V13), true},
    {"/hub/socket", WS("/hub/socket?a=b", KEY V13), true},
    {"/hub/socket", WS("/hub", KEY V13), false},
    {"/hub/socket", WS("/ws", KEY V13), false},
    {"/ws", "POST /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n" KEY V13 "\r\n", false},
    {"/ws", "HEAD /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n" KEY V13 "\r\n", false},
    {"/ws", "get /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n" KEY V13 "\r\n", false},
    {"/ws",
     "GET /ws HTTP/1.1\r\nHost: h\r\nupgrade: WebSocket\r\nconnection: upgrade\r\n" KEY V13 "\r\n",
     true},
    {"/ws",
     "GET /ws HTTP/1.1\r\nHost: h\r\nUPGRADE:WEBSOCKET\r\nCONNECTION:UPGRADE\r\n" KEY V13 "\r\n",
     true},
    {"/ws",
     "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade:  websocket\r\nConnection: keep-alive, "
     "Upgrade \r\n" KEY V13 "\r\n",
     true},
    /* Blanks after the value: libwebsockets compares it as sent (its HTML 403), so HTTP's 400. */
    {"/ws",
     "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket \r\nConnection: Upgrade\r\n" KEY V13 "\r\n",
     false},
    /* Exactly websocket, as libwebsockets takes it (a list gets its HTML 403): the HTTP way. */
    {"/ws",
     "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: h2c, websocket\r\nConnection: Upgrade\r\n" KEY V13
     "\r\n",
     false},
    {"/ws", "GET /ws HTTP/1.1\nHost: h\nUpgrade: websocket\nConnection: Upgrade\n" KEY V13 "\n",
     true},
    {"/ws", "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\n" KEY V13 "\r\n", false},
    {"/ws", "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websockets\r\n" KEY V13 "\r\n", false},
    {"/ws", "GET /ws HTTP/1.1\r\nHost: h\r\nX-Upgrade: websocket\r\n" KEY V13 "\r\n", false},
    {"/ws", "GET /ws HTTP/1.1\r\nHost: h\r\n" KEY V13 "\r\n", false},
};

START_TEST(upgrade_detection)
{
    const char *req = upgrade_cases[_i].request;
    struct gw_h1_limits limits = sniffer;
    limits.websocket_path = upgrade_cases[_i].path;
    struct gw_h1_head h;
    scan(req, strlen(req), false, &limits, &h);
    ck_assert_msg(h.kind == (upgrade_cases[_i].websocket ? GW_H1_WEBSOCKET : GW_H1_HTTP),
                  "%s: kind %d", req, h.kind);
    /* Not refused either way: a plain GET of the hub's path is libmicrohttpd's, or enoki's. */
    ck_assert_msg(h.verdict == GW_H1_LIBRARY || h.verdict == GW_H1_FAST, "%s: verdict %d", req,
                  h.verdict);
    ck_assert_uint_eq(h.head_len, strlen(req));
    if (h.kind == GW_H1_HTTP) {
        ck_assert_ptr_null(h.origin);
        ck_assert_ptr_null(h.host);
    }
    /* Without a hub, nothing is an upgrade. */
    scan(req, strlen(req), false, &no_hub, &h);
    ck_assert_int_eq(h.kind, GW_H1_HTTP);
    ck_assert_int_ne(h.verdict, GW_H1_REFUSE);
}
END_TEST

/* A head longer than the hub holds is answered here (libwebsockets would close without a word);
 * a plain request of the same size is not the hub's limit's business. */
START_TEST(upgrade_longer_than_the_hub_holds)
{
    static const char req[] = WS("/ws", KEY V13 "Cookie: a=0123456789012345678901234567890123\r\n");
    struct gw_h1_limits limits = sniffer;
    limits.websocket_head_max = sizeof(req) - 2;
    struct gw_h1_head h;
    scan(LIT(req), false, &limits, &h);
    ck_assert_int_eq(h.verdict, GW_H1_REFUSE);
    ck_assert_int_eq(h.refusal.status, 431);
    ck_assert_str_eq(h.refusal.error, "header_too_large");
    char message[160];
    snprintf(message, sizeof(message),
             "a websocket handshake's head may be at most %zu bytes (GATEWAY.max_header when "
             "enoki started)",
             sizeof(req) - 2);
    ck_assert_str_eq(h.refusal.message, message);
    limits.websocket_head_max = sizeof(req) - 1;
    scan(LIT(req), false, &limits, &h);
    ck_assert_int_eq(h.verdict, GW_H1_LIBRARY);
    static const char plain[] =
        "GET /p HTTP/1.1\r\nHost: h\r\nCookie: "
        "a=0123456789012345678901234567890123456789012345678901234567890123456789\r\n\r\n";
    limits.websocket_head_max = 20;
    scan(LIT(plain), false, &limits, &h);
    ck_assert_int_eq(h.verdict, GW_H1_FAST);
}
END_TEST

/* Header lines and query parameters share one bound: libwebsockets keeps both in one table. */
START_TEST(upgrade_lines_and_query_parameters_share_a_bound)
{
    char req[2048];
    for (int params = 55; params <= 60; params += 5) {
        int n = snprintf(req, sizeof(req), "GET /ws?p0=0");
        for (int i = 1; i < params; i++)
            n += snprintf(req + n, sizeof(req) - (size_t)n, "&p%d=%d", i, i);
        snprintf(req + n, sizeof(req) - (size_t)n,
                 " HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" KEY V13
                 "\r\n");
        struct gw_h1_head h;
        scan(req, strlen(req), false, &sniffer, &h);
        ck_assert_int_eq(h.kind, GW_H1_WEBSOCKET);
        /* 5 lines: 59 parameters fit, 60 do not. */
        ck_assert_int_eq(h.verdict,
                         params + 5 > GW_H1_WEBSOCKET_LINES ? GW_H1_REFUSE : GW_H1_LIBRARY);
    }
}
END_TEST

START_TEST(plain_get_of_the_hub_path)
{
    static const char req[] = "GET /ws HTTP/1.1\r\nHost: h\r\n\r\n";
    struct gw_h1_head h;
    scan(LIT(req), false, &sniffer, &h);
    ck_assert_int_eq(h.verdict, GW_H1_FAST);
    ck_assert_int_eq(h.kind, GW_H1_HTTP);
}
END_TEST

START_TEST(no_hub_no_upgrade_checks)
{
    /* Without a hub, a malformed upgrade is an HTTP request like any other: libmicrohttpd's. */
    static const char *const reqs[] = {WS("/ws", ""), WS("/ws", KEY), WS("/ws", V13),
                                       WS("/ws", KEY "Sec-WebSocket-Version: 7\r\n")};
    for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
        struct gw_h1_head h;
        scan(reqs[i], strlen(reqs[i]), false, &no_hub, &h);
        ck_assert_int_eq(h.verdict, GW_H1_LIBRARY);
        ck_assert_int_eq(h.kind, GW_H1_HTTP);
        ck_assert_ptr_null(h.origin);
        ck_assert_ptr_null(h.host);
        /* With one, each is refused. */
        scan(reqs[i], strlen(reqs[i]), false, &sniffer, &h);
        ck_assert_int_eq(h.verdict, GW_H1_REFUSE);
        ck_assert_int_eq(h.kind, GW_H1_WEBSOCKET);
    }
}
END_TEST

START_TEST(upgrade_accepts_versions_13_and_8)
{
    static const char *const reqs[] = {
        WS("/ws", KEY "Sec-WebSocket-Version: 13\r\n"),
        WS("/ws", KEY "Sec-WebSocket-Version: 8\r\n"),
        WS("/ws", KEY "Sec-WebSocket-Version:\t8\t\r\n"),
        WS("/ws", "sec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n"),
        /* The last version counts. */
        WS("/ws", KEY "Sec-WebSocket-Version: 7\r\nSec-WebSocket-Version: 13\r\n"),
        /* Any 16 bytes in base64. */
        WS("/ws", V13 "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n"),
        WS("/ws", V13 "Sec-WebSocket-Key: ++++++++++++++++++++//==\r\n"),
        WS("/ws", V13 "Sec-WebSocket-Key:   zZ09zZ09zZ09zZ09zZ09zQ==  \r\n"),
    };
    for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
        struct gw_h1_head h;
        scan(reqs[i], strlen(reqs[i]), false, &sniffer, &h);
        ck_assert_msg(h.verdict == GW_H1_LIBRARY, "%s: verdict %d", reqs[i], h.verdict);
        ck_assert_int_eq(h.kind, GW_H1_WEBSOCKET);
    }
}
END_TEST

START_TEST(upgrade_origin_and_host)
{
    static const char req[] = WS("/ws", KEY V13 "Origin:   https://app.example  \r\n"
                                                "Origin: https://evil.example\r\n"
                                                "X-Forwarded-Host: proxy\r\n");
    struct gw_h1_head h;
    scan(LIT(req), false, &sniffer, &h);
    ck_assert_int_eq(h.verdict, GW_H1_LIBRARY);
    ck_assert_int_eq(h.kind, GW_H1_WEBSOCKET);
    assert_slice(h.origin, h.origin_len, "https://app.example");
    assert_slice(h.host, h.host_len, "enoki:8000");
    /* Borrowed from the scanned bytes. */
    ck_assert(h.origin > req && h.origin + h.origin_len < req + sizeof(req));
    ck_assert(h.host > req && h.host + h.host_len < req + sizeof(req));

    static const char hosts[] = "GET /ws?a HTTP/1.1\r\nupgrade: websocket\r\n"
                                "host:\t h1.example:80 \t\r\nHost: h2.example\r\n"
                                "ORIGIN: http://h1.example\r\n" KEY V13 "\r\n";
    scan(LIT(hosts), false, &sniffer, &h);
    ck_assert_int_eq(h.kind, GW_H1_WEBSOCKET);
    assert_slice(h.host, h.host_len, "h1.example:80");
    assert_slice(h.origin, h.origin_len, "http://h1.example");

    static const char none[] = "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n" KEY V13 "\r\n";
    scan(LIT(none), false, &sniffer, &h);
    ck_assert_int_eq(h.kind, GW_H1_WEBSOCKET);
    ck_assert_ptr_null(h.origin);
    ck_assert_ptr_null(h.host);
    ck_assert_uint_eq(h.origin_len, 0);
    ck_assert_uint_eq(h.host_len, 0);

    /* The first Origin counts, and an empty one is none: the upgrade is not a browser page's
     * (the hub admits it). */
    static const char empty[] = WS("/ws", KEY V13 "Origin:\r\nOrigin: https://late.example\r\n");
    scan(LIT(empty), false, &sniffer, &h);
    ck_assert_int_eq(h.kind, GW_H1_WEBSOCKET);
    ck_assert_ptr_null(h.origin);
    static const char only_empty[] = WS("/ws", KEY V13 "Origin: \r\n");
    scan(LIT(only_empty), false, &sniffer, &h);
    ck_assert_int_eq(h.kind, GW_H1_WEBSOCKET);
    ck_assert_ptr_null(h.origin);

    /* Read for upgrades only. */
    static const char plain[] = "GET /p HTTP/1.1\r\nHost: h\r\nOrigin: https://app.example\r\n\r\n";
    scan(LIT(plain), false, &sniffer, &h);
    ck_assert_int_eq(h.verdict, GW_H1_FAST);
    ck_assert_ptr_null(h.origin);
    ck_assert_ptr_null(h.host);
}
END_TEST

START_TEST(upgrade_token_sources)
{
    static const char req[] = "GET /ws?a=1&access_token=t.k.n HTTP/1.1\r\nHost: h\r\n"
                              "authorization:  Bearer abc  \r\nAuthorization: Bearer late\r\n"
                              "Cookie: sid=1; jwt=x.y.z\r\nCookie: jwt=late\r\n"
                              "Upgrade: websocket\r\nConnection: Upgrade\r\n" KEY V13 "\r\n";
    struct gw_h1_head h;
    scan(LIT(req), false, &sniffer, &h);
    ck_assert_int_eq(h.verdict, GW_H1_LIBRARY);
    ck_assert_int_eq(h.kind, GW_H1_WEBSOCKET);
    /* The first of each counts, without its surrounding whitespace. */
    assert_slice(h.target, h.target_len, "/ws?a=1&access_token=t.k.n");
    assert_slice(h.authorization, h.authorization_len, "Bearer abc");
    assert_slice(h.cookie, h.cookie_len, "sid=1; jwt=x.y.z");

    /* The target whatever the version, and with a bare LF. */
    static const char old[] = "GET /ws?x HTTP/1.0\nUpgrade: websocket\n" KEY V13 "\n";
    scan(LIT(old), false, &sniffer, &h);
    ck_assert_int_eq(h.kind, GW_H1_WEBSOCKET);
    assert_slice(h.target, h.target_len, "/ws?x");
    ck_assert_ptr_null(h.authorization);
    ck_assert_ptr_null(h.cookie);

    /* Empty values are none; a refused upgrade still has its target. */
    static const char empty[] = WS("/ws", KEY "Authorization:\r\nCookie: \r\n");
    scan(LIT(empty), false, &sniffer, &h);
    ck_assert_int_eq(h.verdict, GW_H1_REFUSE);
    ck_assert_int_eq(h.kind, GW_H1_WEBSOCKET);
    assert_slice(h.target, h.target_len, "/ws");
    ck_assert_ptr_null(h.authorization);
    ck_assert_uint_eq(h.authorization_len, 0);
    ck_assert_ptr_null(h.cookie);
    ck_assert_uint_eq(h.cookie_len, 0);

    /* Read for upgrades only, and not while the head is still arriving. */
    static const char plain[] = "GET /ws?access_token=t HTTP/1.1\r\nHost: h\r\n"
                                "Authorization: Bearer abc\r\nCookie: jwt=x\r\n\r\n";
    scan(LIT(plain), false, &sniffer, &h);
    ck_assert_int_eq(h.kind, GW_H1_HTTP);
    ck_assert_ptr_null(h.authorization);
    ck_assert_ptr_null(h.cookie);
    static const char partial[] = "GET /ws HTTP/1.1\r\nAuthorization: Bearer abc\r\n";
    scan(LIT(partial), false, &sniffer, &h);
    ck_assert_int_eq(h.verdict, GW_H1_INCOMPLETE);
    ck_assert_ptr_null(h.authorization);
}
END_TEST

/* ---- leading empty lines, partial heads, bare LF -------------------------------------------- */

START_TEST(leading_empty_lines_are_skipped_never_fast)
{
    static const char *const reqs[] = {
        "\r\nGET /p HTTP/1.1\r\nHost: h\r\n\r\n",
        "\r\n\r\n\r\nGET /p HTTP/1.1\r\nHost: h\r\n\r\n",
        "\nGET /p HTTP/1.1\r\nHost: h\r\n\r\n",
        "\n\r\n\nGET /p HTTP/1.1\r\n\r\n",
        "\r\nPOST /p HTTP/1.1\r\nContent-Length: 2\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
        struct gw_h1_head h;
        scan(reqs[i], strlen(reqs[i]), false, &sniffer, &h);
        ck_assert_msg(h.verdict == GW_H1_LIBRARY, "%zu: verdict %d", i, h.verdict);
        ck_assert_int_eq(h.kind, GW_H1_HTTP);
        ck_assert(!h.plain);
        /* The empty lines belong to the head. */
        ck_assert_uint_eq(h.head_len, strlen(reqs[i]));
        /* Without them: enoki's. */
        const char *bare = reqs[i] + strspn(reqs[i], "\r\n");
        scan(bare, strlen(bare), false, &sniffer, &h);
        ck_assert_int_eq(h.plain, true);
    }
    /* Empty lines alone make no head: a slowloris gets no ticket past header_timeout. */
    static const char *const empty[] = {"\r\n", "\r\n\r\n", "\n\n\n\n", "\r\n\n", "\r"};
    for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
        struct gw_h1_head h;
        scan(empty[i], strlen(empty[i]), false, &sniffer, &h);
        ck_assert_int_eq(h.verdict, GW_H1_INCOMPLETE);
        ck_assert_uint_eq(h.head_len, 0);
        scan(empty[i], strlen(empty[i]), true, &sniffer, &h);
        ck_assert_int_eq(h.verdict, GW_H1_LIBRARY);
        ck_assert_uint_eq(h.head_len, 0);
    }
}
END_TEST

START_TEST(partial_heads)
{
    static const char *const reqs[] = {
        "",
        "G",
        "GET /p HTTP/1.1",
        "GET /p HTTP/1.1\r",
        "GET /p HTTP/1.1\r\n",
        "GET /p HTTP/1.1\r\nHost: h\r\n",
        "GET /p HTTP/1.1\r\nHost: h\r\n\r",
        "POST /p HTTP/1.1\r\nContent-Length: 5\r\n",
        "GET /p HTTP/1.1\r\nOrigin: x\r\n",
        "\r\nGET /p HTTP/1.1\r\n",
        "GET /ws HTTP/1.1\r\nHost: enoki:8000\r\nUpgrade: websocket\r\n" KEY V13,
    };
    for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
        size_t len = strlen(reqs[i]);
        struct gw_h1_head h;
        scan(reqs[i], len, false, &sniffer, &h);
        ck_assert_msg(h.verdict == GW_H1_INCOMPLETE, "%zu: verdict %d", i, h.verdict);
        ck_assert_int_eq(h.kind, GW_H1_HTTP);
        ck_assert_uint_eq(h.head_len, 0);
        ck_assert(!h.plain);
        /* A peek that is full and holds no whole head: libmicrohttpd's (it answers 431). */
        scan(reqs[i], len, true, &sniffer, &h);
        ck_assert_msg(h.verdict == GW_H1_LIBRARY, "%zu: verdict %d", i, h.verdict);
        ck_assert_int_eq(h.kind, GW_H1_HTTP);
        ck_assert_uint_eq(h.head_len, 0);
        ck_assert(!h.plain);
    }
    /* A complete head is judged the same, full or not. */
    static const char whole[] = WS("/ws", KEY V13);
    struct gw_h1_head h;
    scan(LIT(whole), true, &sniffer, &h);
    ck_assert_int_eq(h.verdict, GW_H1_LIBRARY);
    ck_assert_int_eq(h.kind, GW_H1_WEBSOCKET);
    static const char get[] = G("");
    scan(LIT(get), true, &sniffer, &h);
    ck_assert_int_eq(h.verdict, GW_H1_FAST);
}
END_TEST

START_TEST(body_still_arriving)
{
    static const char req[] = P("Content-Length: 5\r\n") "hel";
    struct gw_h1_head h;
    scan(LIT(req), false, &sniffer, &h);
    ck_assert_int_eq(h.verdict, GW_H1_LIBRARY);
    ck_assert(h.plain); /* enoki's reader waits for the rest */
    ck_assert_uint_eq(h.content_length, 5);
    ck_assert_uint_eq(h.head_len, sizeof(req) - 1 - 3);
    /* Bigger than the reader holds: libmicrohttpd's. */
    struct gw_h1_limits small = sniffer;
    small.fast_max = h.head_len + 4;
    static const char all[] = P("Content-Length: 5\r\n") "hello";
    scan(LIT(all), false, &small, &h);
    ck_assert_int_eq(h.verdict, GW_H1_LIBRARY);
    ck_assert(h.plain);
    small.fast_max++;
    scan(LIT(all), false, &small, &h);
    ck_assert_int_eq(h.verdict, GW_H1_FAST);
}
END_TEST

START_TEST(bare_lf_heads_go_to_libmicrohttpd)
{
    static const char *const reqs[] = {
        "GET /p HTTP/1.1\nHost: h\n\n",
        "GET /p HTTP/1.1\r\nHost: h\r\n\n",
        "GET /p HTTP/1.1\r\nHost: h\n\r\n",
        "GET /p HTTP/1.1\nHost: h\r\n\r\n",
        "GET /p HTTP/1.1\n\n",
        "POST /p HTTP/1.1\nContent-Length: 2\n\nab",
    };
    for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
        struct gw_h1_head h;
        scan(reqs[i], strlen(reqs[i]), false, &sniffer, &h);
        ck_assert_msg(h.verdict == GW_H1_LIBRARY, "%zu: verdict %d", i, h.verdict);
        ck_assert_int_eq(h.kind, GW_H1_HTTP);
        ck_assert(!h.plain);
        size_t body = i == 5 ? 2 : 0;
        ck_assert_uint_eq(h.head_len, strlen(reqs[i]) - body);
    }
}
END_TEST

/* ---- every prefix --------------------------------------------------------------------------- */

static const struct {
    const char *p;
    size_t n;
} more_inputs[] = {
    {LIT(P("Content-Length: 11\r\nConnection: keep-alive\r\n") "{\"k\": true}")},
    {LIT(P("Content-Length: 3\r\n") "abc" G(""))},
    {LIT(WS("/ws", KEY V13 "Origin: https://a\r\n") "\x81\x80")},
    {LIT(P("Transfer-Encoding: chunked\r\n") "3\r\nabc\r\n0\r\n\r\n")},
    {LIT("\r\n\r\nDELETE /x HTTP/1.1\r\n\r\n")},
    {LIT("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n")},
    {LIT(G("Connection: close\r\n") G(""))},
};

/* The property over every prefix buf[0..n) of one input under limits. */
static void check_prefixes(const char *name, const char *buf, size_t len,
                           const struct gw_h1_limits *limits)
{
    struct gw_h1_head h, whole;
    bool final = false, refused = false, fast = false;
    int status = 0;
    const char *error = NULL;
    size_t head_len = 0, content_length = 0;
    for (size_t n = 0; n <= len; n++) {
        scan(buf, n, false, limits, &h);
        /* INCOMPLETE until a final verdict, and never again after it. */
        if (final)
            ck_assert_msg(h.verdict != GW_H1_INCOMPLETE, "%s: incomplete again at %zu", name, n);
        final = final || h.verdict != GW_H1_INCOMPLETE;
        /* Once refused, refused alike. */
        if (refused) {
            ck_assert_msg(h.verdict == GW_H1_REFUSE, "%s: refused, then %d at %zu", name, h.verdict,
                          n);
            ck_assert_msg(h.refusal.status == status && strcmp(h.refusal.error, error) == 0,
                          "%s: refused %d, then %d at %zu", name, status, h.refusal.status, n);
        } else if (h.verdict == GW_H1_REFUSE) {
            refused = true;
            status = h.refusal.status;
            error = h.refusal.error;
            ck_assert_msg(h.head_len > 0 && h.head_len <= n, "%s: head_len %zu of %zu", name,
                          h.head_len, n);
        }
        /* FAST only once the body is all there, and then for good with the same request. */
        if (h.verdict == GW_H1_FAST) {
            ck_assert_msg(h.head_len + h.content_length <= n, "%s: fast at %zu", name, n);
            if (fast)
                ck_assert(h.head_len == head_len && h.content_length == content_length);
            fast = true;
            head_len = h.head_len;
            content_length = h.content_length;
        } else {
            ck_assert_msg(!fast, "%s: fast, then %d at %zu", name, h.verdict, n);
        }
        /* A full peek changes only what would be INCOMPLETE. */
        scan(buf, n, true, limits, &whole);
        if (h.verdict == GW_H1_INCOMPLETE) {
            ck_assert_int_eq(whole.verdict, GW_H1_LIBRARY);
            ck_assert_uint_eq(whole.head_len, 0);
        } else {
            ck_assert_int_eq(whole.verdict, h.verdict);
            ck_assert_uint_eq(whole.head_len, h.head_len);
            ck_assert_int_eq(whole.kind, h.kind);
        }
    }
}

START_TEST(monotonic_over_prefixes)
{
    struct gw_h1_limits small = sniffer;
    small.max_body = 4;
    small.max_head = 40;
    for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
        const struct refusal_case *c = &refusals[i];
        check_prefixes(c->name, c->input, c->input_len, &sniffer);
        check_prefixes(c->name, c->control, c->control_len, &sniffer);
        check_prefixes(c->name, c->control, c->control_len, &small);
        check_prefixes(c->name, c->control, c->control_len, &no_hub);
    }
    for (size_t i = 0; i < sizeof(more_inputs) / sizeof(more_inputs[0]); i++) {
        check_prefixes("more", more_inputs[i].p, more_inputs[i].n, &sniffer);
        check_prefixes("more", more_inputs[i].p, more_inputs[i].n, &small);
    }
}
END_TEST

Suite *sniff_verdicts_suite(void)
{
    Suite *s = suite_create("sniff_verdicts");
    TCase *refuse = tcase_create("refuse");
    tcase_add_loop_test(refuse, refusal_and_its_control, 0,
                        (int)(sizeof(refusals) / sizeof(refusals[0])));
    tcase_add_test(refuse, refusal_of_the_body_size_names_the_limit);
    tcase_add_test(refuse, refusal_of_a_head_request);
    tcase_add_test(refuse, equal_content_lengths_go_to_libmicrohttpd);
    tcase_add_test(refuse, chunked_goes_to_libmicrohttpd);
    suite_add_tcase(s, refuse);

    TCase *websocket = tcase_create("websocket");
    tcase_add_test(websocket, upgrade_of_the_hub_path);
    tcase_add_loop_test(websocket, upgrade_detection, 0,
                        (int)(sizeof(upgrade_cases) / sizeof(upgrade_cases[0])));
    tcase_add_test(websocket, upgrade_longer_than_the_hub_holds);
    tcase_add_test(websocket, upgrade_lines_and_query_parameters_share_a_bound);
    tcase_add_test(websocket, plain_get_of_the_hub_path);
    tcase_add_test(websocket, no_hub_no_upgrade_checks);
    tcase_add_test(websocket, upgrade_accepts_versions_13_and_8);
    tcase_add_test(websocket, upgrade_origin_and_host);
    tcase_add_test(websocket, upgrade_token_sources);
    suite_add_tcase(s, websocket);

    TCase *heads = tcase_create("heads");
    tcase_add_test(heads, leading_empty_lines_are_skipped_never_fast);
    tcase_add_test(heads, partial_heads);
    tcase_add_test(heads, body_still_arriving);
    tcase_add_test(heads, bare_lf_heads_go_to_libmicrohttpd);
    suite_add_tcase(s, heads);

    TCase *prefixes = tcase_create("prefixes");
    tcase_set_timeout(prefixes, 60);
    tcase_add_test(prefixes, monotonic_over_prefixes);
    suite_add_tcase(s, prefixes);
    return s;
}
