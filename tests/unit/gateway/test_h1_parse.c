/* Unit tests for gateway/h1_parse: which requests enoki's own reader takes (the scan's verdict
 * GW_H1_FAST), and the Date header's text (gateway/h1_write).
 *
 * The cases speak of the reader's three answers: READY (the scan says GW_H1_FAST), INCOMPLETE
 * (more bytes are waited for: the head has not ended, or a plain head's body has not all come),
 * PASS (libmicrohttpd's, or refused: anything unusual). Every PASS case comes with a control: the
 * same request without the one unusual thing, which must be READY. So a PASS case cannot succeed by
 * being malformed somewhere else by mistake.
 */
#include "gateway/h1_parse.h"
#include "gateway/h1_write.h"
#include "gateway/mhd_loop.h"

#include "tests/unit/suites.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    MAX_HEAD = 16 << 10, /* the configuration's defaults (core/config.c) */
    MAX_BODY = 1 << 20,
};

/* A literal with its length: the inputs may hold NUL bytes. */
#define LIT(s) s, sizeof(s) - 1

enum reader_answer { READY, INCOMPLETE, PASS };

/* The reader's answer for the bytes buf[0..len) peeked so far: the peek is full once it holds as
 * much as libmicrohttpd would (max_head and its pool's slack) and one byte more. */
static enum reader_answer h1_parse(const char *buf, size_t len, size_t max_head, size_t max_body,
                                   struct gw_h1_head *r)
{
    struct gw_h1_limits limits = {.max_head = max_head, .max_body = max_body, .fast_max = SIZE_MAX};
    gw_h1_scan(buf, len, len >= max_head + GW_MHD_POOL_SLACK + 1, &limits, r);
    switch (r->verdict) {
    case GW_H1_FAST:
        return READY;
    case GW_H1_INCOMPLETE:
        return INCOMPLETE;
    case GW_H1_LIBRARY:
        return r->plain && r->content_length <= max_body && r->head_len + r->content_length > len
                   ? INCOMPLETE
                   : PASS;
    default:
        return PASS;
    }
}

/* Parses an exact-length heap copy of s[0..len), so that a read past len would be seen under
 * ASan or valgrind. The copy is freed before returning: callers only look at the answer. */
static enum reader_answer parse_limits(const char *s, size_t len, size_t max_head, size_t max_body)
{
    char *copy = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, s, len);
    struct gw_h1_head r;
    enum reader_answer answer = h1_parse(copy, len, max_head, max_body, &r);
    free(copy);
    return answer;
}

static enum reader_answer parse_status(const char *s, size_t len)
{
    return parse_limits(s, len, MAX_HEAD, MAX_BODY);
}

/* The buffer stays the caller's: r points into it. */
static enum reader_answer parse_str(const char *s, struct gw_h1_head *r)
{
    return h1_parse(s, strlen(s), MAX_HEAD, MAX_BODY, r);
}

static void assert_slice(const char *p, size_t len, const char *want)
{
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(len, strlen(want));
    ck_assert_mem_eq(p, want, len);
}

/* ---- READY ---------------------------------------------------------------------------------- */

START_TEST(get_without_headers)
{
    static const char req[] = "GET / HTTP/1.1\r\n\r\n";
    struct gw_h1_head r;
    ck_assert_int_eq(parse_str(req, &r), READY);
    assert_slice(r.method, r.method_len, "GET");
    assert_slice(r.target, r.target_len, "/");
    ck_assert_ptr_eq(r.method, req);
    ck_assert_ptr_eq(r.target, req + 4);
    ck_assert_uint_eq(r.n_fields, 0);
    ck_assert_uint_eq(r.head_len, strlen(req));
    ck_assert_uint_eq(r.content_length, 0);
    ck_assert(!r.close);
}
END_TEST

START_TEST(post_with_body)
{
    static const char head[] = "POST /svc/method?x=1 HTTP/1.1\r\n"
                               "Host: example.com\r\n"
                               "Content-Type: application/json\r\n"
                               "Content-Length: 13\r\n"
                               "\r\n";
    static const char req[] = "POST /svc/method?x=1 HTTP/1.1\r\n"
                              "Host: example.com\r\n"
                              "Content-Type: application/json\r\n"
                              "Content-Length: 13\r\n"
                              "\r\n"
                              "{\"a\": [1, 2]}";
    struct gw_h1_head r;
    ck_assert_int_eq(parse_str(req, &r), READY);
    assert_slice(r.method, r.method_len, "POST");
    assert_slice(r.target, r.target_len, "/svc/method?x=1");
    ck_assert_uint_eq(r.head_len, strlen(head));
    ck_assert_uint_eq(r.content_length, 13);
    ck_assert_uint_eq(r.head_len + r.content_length, strlen(req));
    ck_assert_mem_eq(req + r.head_len, "{\"a\": [1, 2]}", 13);
    ck_assert_uint_eq(r.n_fields, 3);
    assert_slice(r.fields[2].name, r.fields[2].name_len, "Content-Length");
    assert_slice(r.fields[2].value, r.fields[2].value_len, "13");
    ck_assert(!r.close);
}
END_TEST

START_TEST(fields_in_order_without_leading_ows)
{
    static const char req[] = "PUT /a/b%20c HTTP/1.1\r\n"
                              "Host:example.com\r\n"
                              "X-Spaces:    many spaces inside  kept\r\n"
                              "X-Tab:\t\t tabbed\r\n"
                              "x-lower-Case: V\r\n"
                              "Accept: */*\r\n"
                              "\r\n";
    struct gw_h1_head r;
    ck_assert_int_eq(parse_str(req, &r), READY);
    assert_slice(r.method, r.method_len, "PUT");
    assert_slice(r.target, r.target_len, "/a/b%20c");
    ck_assert_uint_eq(r.n_fields, 5);
    static const char *const want[][2] = {
        {"Host", "example.com"}, {"X-Spaces", "many spaces inside  kept"},
        {"X-Tab", "tabbed"},     {"x-lower-Case", "V"},
        {"Accept", "*/*"},
    };
    for (size_t i = 0; i < 5; i++) {
        assert_slice(r.fields[i].name, r.fields[i].name_len, want[i][0]);
        assert_slice(r.fields[i].value, r.fields[i].value_len, want[i][1]);
        /* Borrowed from the buffer, not copied. */
        ck_assert(r.fields[i].name > req && r.fields[i].name < req + sizeof(req));
        ck_assert(r.fields[i].value > req && r.fields[i].value < req + sizeof(req));
    }
    ck_assert_uint_eq(r.head_len, strlen(req));
    ck_assert_uint_eq(r.content_length, 0);
}
END_TEST

static const struct {
    const char *connection; /* the header line, or NULL for none */
    bool close;
} close_cases[] = {
    {NULL, false},
    {"Connection: close\r\n", true},
    {"Connection: keep-alive, close\r\n", true},
    {"Connection: keep-alive\r\n", false},
    {"Connection: Keep-Alive\r\n", false},
    {"connection: CLOSE\r\n", true},
    {"Connection: close, keep-alive\r\n", true},
    {"Connection: keep-alive,close\r\n", true},
};

START_TEST(connection_close_flag)
{
    char req[256];
    snprintf(req, sizeof(req), "GET /x HTTP/1.1\r\nHost: h\r\n%s\r\n",
             close_cases[_i].connection ? close_cases[_i].connection : "");
    struct gw_h1_head r;
    ck_assert_int_eq(parse_str(req, &r), READY);
    ck_assert_int_eq(r.close, close_cases[_i].close);
    ck_assert_uint_eq(r.n_fields, close_cases[_i].connection ? 2 : 1);
}
END_TEST

START_TEST(pipelined_requests_give_the_first)
{
    static const char first[] = "POST /one HTTP/1.1\r\nContent-Length: 3\r\n\r\n";
    static const char buf[] = "POST /one HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
                              "POST /two HTTP/1.1\r\nContent-Length: 5\r\nConnection: close\r\n"
                              "\r\nhello"
                              "GET /three HTTP/1.1\r\n\r\n";
    struct gw_h1_head r;
    ck_assert_int_eq(parse_str(buf, &r), READY);
    assert_slice(r.target, r.target_len, "/one");
    ck_assert_uint_eq(r.head_len, strlen(first));
    ck_assert_uint_eq(r.content_length, 3);
    ck_assert_uint_eq(r.n_fields, 1);
    ck_assert(!r.close);

    /* The second starts where the first ends. Lengths are counted from the buffer's end, not
     * with strlen: GCC 12.2 at -O1 and above miscompiles strlen(array + a + b) when b was
     * loaded from memory a call has changed since (it reloads a's part of the offset). */
    const char *end = buf + sizeof(buf) - 1;
    const char *second = buf + r.head_len + r.content_length;
    ck_assert_int_eq(h1_parse(second, (size_t)(end - second), MAX_HEAD, MAX_BODY, &r), READY);
    assert_slice(r.target, r.target_len, "/two");
    ck_assert_uint_eq(r.content_length, 5);
    ck_assert(r.close);
    ck_assert_mem_eq(second + r.head_len, "hello", 5);
    const char *third = second + r.head_len + r.content_length;
    ck_assert_int_eq(h1_parse(third, (size_t)(end - third), MAX_HEAD, MAX_BODY, &r), READY);
    assert_slice(r.target, r.target_len, "/three");
    ck_assert_uint_eq(r.head_len, (size_t)(end - third));

    /* A pipelined request that is itself incomplete (or passed) does not change the first. */
    static const char half[] = "GET /a HTTP/1.1\r\n\r\nHEAD /b HTTP/1.1\r\nHo";
    ck_assert_int_eq(parse_str(half, &r), READY);
    ck_assert_uint_eq(r.head_len, strlen("GET /a HTTP/1.1\r\n\r\n"));
}
END_TEST

static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};

START_TEST(every_plain_method)
{
    char req[128];
    snprintf(req, sizeof(req), "%s /m HTTP/1.1\r\nHost: h\r\n\r\n", methods[_i]);
    struct gw_h1_head r;
    ck_assert_int_eq(parse_str(req, &r), READY);
    assert_slice(r.method, r.method_len, methods[_i]);
    assert_slice(r.target, r.target_len, "/m");
}
END_TEST

START_TEST(empty_header_value)
{
    static const char req[] = "GET / HTTP/1.1\r\nX-Empty:\r\nX-Blank:   \r\nHost: h\r\n\r\n";
    struct gw_h1_head r;
    ck_assert_int_eq(parse_str(req, &r), READY);
    ck_assert_uint_eq(r.n_fields, 3);
    assert_slice(r.fields[0].name, r.fields[0].name_len, "X-Empty");
    ck_assert_uint_eq(r.fields[0].value_len, 0);
    assert_slice(r.fields[1].name, r.fields[1].name_len, "X-Blank");
    ck_assert_uint_eq(r.fields[1].value_len, 0);
    assert_slice(r.fields[2].value, r.fields[2].value_len, "h");
}
END_TEST

START_TEST(obs_text_in_value)
{
    static const char req[] = "GET / HTTP/1.1\r\nX-Name: caf\xc3\xa9 \x80\xff\r\n\r\n";
    struct gw_h1_head r;
    ck_assert_int_eq(parse_str(req, &r), READY);
    ck_assert_uint_eq(r.n_fields, 1);
    assert_slice(r.fields[0].value, r.fields[0].value_len, "caf\xc3\xa9 \x80\xff");
}
END_TEST

START_TEST(target_bytes_kept_as_sent)
{
    /* Anything visible, obs-text included, goes through as it is: the router decodes it. */
    static const char req[] = "GET /a/%2F/\xc3\xa9?q=\"x\"&r=<>#frag HTTP/1.1\r\n\r\n";
    struct gw_h1_head r;
    ck_assert_int_eq(parse_str(req, &r), READY);
    assert_slice(r.target, r.target_len, "/a/%2F/\xc3\xa9?q=\"x\"&r=<>#frag");
}
END_TEST

/* ---- INCOMPLETE ----------------------------------------------------------------------------- */

START_TEST(every_prefix_is_incomplete)
{
    static const char req[] = "PATCH /svc/m HTTP/1.1\r\n"
                              "Host: localhost:8000\r\n"
                              "Connection: keep-alive\r\n"
                              "Content-Length: 11\r\n"
                              "X-Empty:\r\n"
                              "\r\n"
                              "{\"k\": true}";
    size_t len = sizeof(req) - 1;
    for (size_t n = 0; n < len; n++) {
        enum reader_answer status = parse_status(req, n);
        ck_assert_msg(status == INCOMPLETE, "prefix of %zu bytes: %d", n, status);
    }
    ck_assert_int_eq(parse_status(req, len), READY);
    /* And with limits exactly the request's own. */
    size_t body = 11, head = len - body;
    for (size_t n = 0; n < len; n++)
        ck_assert_int_eq(parse_limits(req, n, head, body), INCOMPLETE);
    ck_assert_int_eq(parse_limits(req, len, head, body), READY);
}
END_TEST

START_TEST(body_shorter_than_content_length)
{
    static const char req[] = "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789";
    size_t len = sizeof(req) - 1;
    struct gw_h1_head r;
    ck_assert_int_eq(h1_parse(req, len - 1, MAX_HEAD, MAX_BODY, &r), INCOMPLETE);
    ck_assert_int_eq(h1_parse(req, len - 10, MAX_HEAD, MAX_BODY, &r), INCOMPLETE);
    ck_assert_int_eq(h1_parse(req, len, MAX_HEAD, MAX_BODY, &r), READY);
    ck_assert_uint_eq(r.content_length, 10);
}
END_TEST

/* ---- PASS ----------------------------------------------------------------------------------- */

#define CASE(name, pass, ready)                                                                    \
    {                                                                                              \
        name, LIT(pass), LIT(ready)                                                                \
    }
#define H(line) "GET /p HTTP/1.1\r\nHost: h\r\n" line "\r\n"

static const struct {
    const char *name;
    const char *pass;
    size_t pass_len;
    const char *ready; /* the control: as pass, without what makes it unusual */
    size_t ready_len;
} pass_cases[] = {
    /* The request line. */
    CASE("HEAD", "HEAD / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\n\r\n"),
    CASE("OPTIONS", "OPTIONS / HTTP/1.1\r\n\r\n", "DELETE / HTTP/1.1\r\n\r\n"),
    CASE("OPTIONS *", "OPTIONS * HTTP/1.1\r\n\r\n", "DELETE / HTTP/1.1\r\n\r\n"),
    CASE("lowercase get", "get / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\n\r\n"),
    CASE("mixed case Get", "Get / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\n\r\n"),
    CASE("unknown method", "BREW / HTTP/1.1\r\n\r\n", "POST / HTTP/1.1\r\n\r\n"),
    CASE("method with a suffix", "GETS / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\n\r\n"),
    CASE("method prefix", "PATC / HTTP/1.1\r\n\r\n", "PATCH / HTTP/1.1\r\n\r\n"),
    CASE("CONNECT", "CONNECT x:443 HTTP/1.1\r\n\r\n", "PUT / HTTP/1.1\r\n\r\n"),
    CASE("leading CRLF", "\r\nGET / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\n\r\n"),
    CASE("HTTP/1.0", "GET / HTTP/1.0\r\n\r\n", "GET / HTTP/1.1\r\n\r\n"),
    CASE("HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", "GET / HTTP/1.1\r\n\r\n"),
    CASE("lowercase version", "GET / http/1.1\r\n\r\n", "GET / HTTP/1.1\r\n\r\n"),
    CASE("no version", "GET /\r\n\r\n", "GET / HTTP/1.1\r\n\r\n"),
    CASE("two spaces before target", "GET  / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\n\r\n"),
    CASE("two spaces before version", "GET /  HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\n\r\n"),
    CASE("space after version", "GET / HTTP/1.1 \r\n\r\n", "GET / HTTP/1.1\r\n\r\n"),
    CASE("tab between method and target", "GET\t/ HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\n\r\n"),
    CASE("absolute-form", "GET http://x/ HTTP/1.1\r\n\r\n", "GET /x/ HTTP/1.1\r\n\r\n"),
    CASE("asterisk", "GET * HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\n\r\n"),
    CASE("empty target", "GET  HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\n\r\n"),
    CASE("space in target", "GET /a b HTTP/1.1\r\n\r\n", "GET /a%20b HTTP/1.1\r\n\r\n"),
    CASE("control in target", "GET /a\x01z HTTP/1.1\r\n\r\n", "GET /a%01z HTTP/1.1\r\n\r\n"),
    CASE("tab in target", "GET /a\tz HTTP/1.1\r\n\r\n", "GET /a%09z HTTP/1.1\r\n\r\n"),
    CASE("DEL in target", "GET /a\x7fz HTTP/1.1\r\n\r\n", "GET /a%7Fz HTTP/1.1\r\n\r\n"),
    CASE("NUL in target", "GET /a\0z HTTP/1.1\r\n\r\n", "GET /a%00z HTTP/1.1\r\n\r\n"),
    /* Line endings. */
    CASE("bare LF everywhere", "GET / HTTP/1.1\nHost: h\n\n", "GET / HTTP/1.1\r\nHost: h\r\n\r\n"),
    CASE("bare LF after the request line", "GET / HTTP/1.1\nHost: h\r\n\r\n",
         "GET / HTTP/1.1\r\nHost: h\r\n\r\n"),
    CASE("bare LF after a field", "GET / HTTP/1.1\r\nHost: h\n\r\n",
         "GET / HTTP/1.1\r\nHost: h\r\n\r\n"),
    CASE("bare LF as the blank line", "GET / HTTP/1.1\r\nHost: h\r\n\n",
         "GET / HTTP/1.1\r\nHost: h\r\n\r\n"),
    CASE("bare CR in a value", H("X-A: a\rb\r\n"), H("X-A: a b\r\n")),
    CASE("bare CR in a name", H("X\r-A: b\r\n"), H("X-A: b\r\n")),
    CASE("bare CR ending a value", H("X-A: b\r\r\n"), H("X-A: b\r\n")),
    CASE("bare CR in the target", "GET /a\rb HTTP/1.1\r\n\r\n", "GET /ab HTTP/1.1\r\n\r\n"),
    CASE("CR CR LF after the version", "GET / HTTP/1.1\r\r\n\r\n", "GET / HTTP/1.1\r\n\r\n"),
    /* Field lines. */
    CASE("obs-fold with a space", H("X-A: a\r\n b\r\n"), H("X-A: a\r\nX-B: b\r\n")),
    CASE("obs-fold with a tab", H("X-A: a\r\n\tb\r\n"), H("X-A: a\r\nX-B: b\r\n")),
    CASE("first field folded", "GET / HTTP/1.1\r\n Host: h\r\n\r\n",
         "GET / HTTP/1.1\r\nHost: h\r\n\r\n"),
    CASE("space before colon", H("X-A : b\r\n"), H("X-A: b\r\n")),
    CASE("tab before colon", H("X-A\t: b\r\n"), H("X-A: b\r\n")),
    CASE("empty name", H(": b\r\n"), H("X: b\r\n")),
    CASE("no colon", H("X-A b\r\n"), H("X-A: b\r\n")),
    CASE("space in name", H("X A: b\r\n"), H("X-A: b\r\n")),
    CASE("separator in name", H("X(A): b\r\n"), H("X-A: b\r\n")),
    CASE("slash in name", H("X/A: b\r\n"), H("X-A: b\r\n")),
    CASE("obs-text in name", H("X\xc3\xa9: b\r\n"), H("Xe: b\r\n")),
    CASE("NUL in name", H("X\0A: b\r\n"), H("X-A: b\r\n")),
    CASE("NUL in value", H("X-A: a\0b\r\n"), H("X-A: a b\r\n")),
    CASE("control in value", H("X-A: a\001b\r\n"), H("X-A: a b\r\n")),
    CASE("ESC in value", H("X-A: a\033b\r\n"), H("X-A: a b\r\n")),
    CASE("DEL in value", H("X-A: a\177b\r\n"), H("X-A: a b\r\n")),
    CASE("trailing space in value", H("X-A: b \r\n"), H("X-A: b\r\n")),
    CASE("trailing tab in value", H("X-A: b\t\r\n"), H("X-A: b\r\n")),
    /* Framing and protocol switches: the long way's. */
    CASE("Transfer-Encoding", H("Transfer-Encoding: chunked\r\n"), H("X-Encoding: chunked\r\n")),
    CASE("transfer-encoding", H("transfer-encoding: chunked\r\n"), H("X-Encoding: chunked\r\n")),
    CASE("TRANSFER-ENCODING identity", H("TRANSFER-ENCODING: identity\r\n"),
         H("X-Encoding: identity\r\n")),
    CASE("Transfer-Encoding empty", H("Transfer-Encoding:\r\n"), H("X-Encoding:\r\n")),
    CASE("Expect", H("Expect: 100-continue\r\n"), H("X-Expect: 100-continue\r\n")),
    CASE("expect", H("expect: 100-continue\r\n"), H("X-Expect: 100-continue\r\n")),
    CASE("Upgrade", H("Upgrade: websocket\r\n"), H("X-Upgrade: websocket\r\n")),
    CASE("UPGRADE", H("UPGRADE: h2c\r\n"), H("X-Upgrade: h2c\r\n")),
    CASE("Connection: Upgrade", H("Connection: Upgrade\r\n"), H("Connection: keep-alive\r\n")),
    CASE("Connection: keep-alive, Upgrade", H("Connection: keep-alive, Upgrade\r\n"),
         H("Connection: keep-alive, close\r\n")),
    CASE("Connection: TE", H("Connection: TE\r\n"), H("Connection: close\r\n")),
    CASE("Connection: closed", H("Connection: closed\r\n"), H("Connection: close\r\n")),
    /* Content-Length. */
    CASE("two equal Content-Length", H("Content-Length: 0\r\nContent-Length: 0\r\n"),
         H("Content-Length: 0\r\nX-Length: 0\r\n")),
    CASE("two Content-Length, cases apart", H("Content-Length: 1\r\ncontent-length: 1\r\n") "x",
         H("Content-Length: 1\r\nX-Length: 1\r\n") "x"),
    CASE("two different Content-Length", H("Content-Length: 1\r\nContent-Length: 2\r\n") "xy",
         H("Content-Length: 2\r\n") "xy"),
    CASE("Content-Length a word", H("Content-Length: abc\r\n"), H("Content-Length: 0\r\n")),
    CASE("Content-Length hex", H("Content-Length: 0x1\r\n") "x", H("Content-Length: 1\r\n") "x"),
    CASE("Content-Length plus", H("Content-Length: +1\r\n") "x", H("Content-Length: 1\r\n") "x"),
    CASE("Content-Length minus", H("Content-Length: -1\r\n") "x", H("Content-Length: 1\r\n") "x"),
    CASE("Content-Length empty", H("Content-Length:\r\n"), H("Content-Length: 0\r\n")),
    CASE("Content-Length blank", H("Content-Length:   \r\n"), H("Content-Length: 0\r\n")),
    CASE("Content-Length decimal", H("Content-Length: 1.5\r\n") "x",
         H("Content-Length: 1\r\n") "x"),
    CASE("Content-Length list", H("Content-Length: 1, 1\r\n") "x", H("Content-Length: 1\r\n") "x"),
    CASE("Content-Length with a space inside", H("Content-Length: 1 2\r\n"),
         H("Content-Length: 12\r\n") "0123456789ab"),
    CASE("Content-Length of 16 digits", H("Content-Length: 0000000000000001\r\n") "x",
         H("Content-Length: 000000000000001\r\n") "x"),
    CASE("Content-Length of 20 digits", H("Content-Length: 18446744073709551617\r\n") "x",
         H("Content-Length: 1\r\n") "x"),
};

START_TEST(passed_to_libmicrohttpd)
{
    ck_assert_msg(parse_status(pass_cases[_i].ready, pass_cases[_i].ready_len) == READY,
                  "%s: the control is not READY", pass_cases[_i].name);
    ck_assert_msg(parse_status(pass_cases[_i].pass, pass_cases[_i].pass_len) == PASS,
                  "%s: not passed", pass_cases[_i].name);
}
END_TEST

/* Every byte at every place of a value long enough for the word-at-a-time check (several words
 * and a tail): only tab, visible ASCII, space and obs-text keep the request on enoki's reader.
 * CR, LF and NUL have rules of their own (above). */
START_TEST(every_value_byte_at_every_place)
{
    static const char head[] = "GET /p HTTP/1.1\r\nHost: h\r\nX-A: ";
    enum { VALUE = 27 };
    char req[sizeof(head) - 1 + VALUE + 4];
    for (int byte = 1; byte < 256; byte++) {
        if (byte == '\r' || byte == '\n')
            continue;
        bool allowed = byte == '\t' || (byte >= 0x20 && byte != 0x7f);
        /* A tab or space ending a value is trimmed, and trailing whitespace is libmicrohttpd's. */
        for (size_t at = 0; at < VALUE - 1; at++) {
            memcpy(req, head, sizeof(head) - 1);
            memset(req + sizeof(head) - 1, 'v', VALUE);
            req[sizeof(head) - 1 + at] = (char)byte;
            memcpy(req + sizeof(head) - 1 + VALUE, "\r\n\r\n", 4);
            enum reader_answer got = parse_status(req, sizeof(req));
            ck_assert_msg(got == (allowed ? READY : PASS), "byte 0x%02x at %zu: %d", byte, at, got);
        }
    }
}
END_TEST

START_TEST(head_longer_than_max_head)
{
    static const char req[] = "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nab";
    size_t len = sizeof(req) - 1, head = len - 2;
    ck_assert_int_eq(parse_limits(req, len, head, MAX_BODY), READY);
    ck_assert_int_eq(parse_limits(req, len, head - 1, MAX_BODY), PASS);
    ck_assert_int_eq(parse_limits(req, len, 10, MAX_BODY), PASS);
    /* A head that has not ended is waited for, however long, until the peek is full: only then
     * is it libmicrohttpd's (which answers 431). */
    ck_assert_int_eq(parse_limits(req, head - 2, head - 3, MAX_BODY), INCOMPLETE);
    ck_assert_int_eq(parse_limits(req, head - 2, head - 2, MAX_BODY), INCOMPLETE);
    enum { SMALL = 16 };
    size_t peek = SMALL + GW_MHD_POOL_SLACK + 1;
    char *big = malloc(peek);
    ck_assert_ptr_nonnull(big);
    static const char start[] = "GET /x HTTP/1.1\r\nX-Long: ";
    memcpy(big, start, sizeof(start) - 1);
    memset(big + sizeof(start) - 1, 'a', peek - (sizeof(start) - 1));
    ck_assert_int_eq(parse_limits(big, peek - 1, SMALL, MAX_BODY), INCOMPLETE);
    ck_assert_int_eq(parse_limits(big, peek, SMALL, MAX_BODY), PASS);
    free(big);
}
END_TEST

START_TEST(body_longer_than_max_body)
{
    static const char req[] = "PUT /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
    size_t len = sizeof(req) - 1;
    ck_assert_int_eq(parse_limits(req, len, MAX_HEAD, 5), READY);
    ck_assert_int_eq(parse_limits(req, len, MAX_HEAD, 4), PASS);
    ck_assert_int_eq(parse_limits(req, len, MAX_HEAD, 0), PASS);
    /* Before the body is there, too: it would not fit. */
    ck_assert_int_eq(parse_limits(req, len - 5, MAX_HEAD, 4), PASS);
    ck_assert_int_eq(parse_limits(req, len - 5, MAX_HEAD, 5), INCOMPLETE);
    /* The largest Content-Length read (15 digits) against the default limit. */
    static const char big[] = "POST / HTTP/1.1\r\nContent-Length: 999999999999999\r\n\r\n";
    ck_assert_int_eq(parse_status(LIT(big)), PASS);
}
END_TEST

/* "GET / HTTP/1.1\r\n" and n fields "X-<i>: v\r\n", then the blank line. */
static char *with_fields(size_t n, size_t *len)
{
    size_t cap = 64 + n * 32;
    char *req = malloc(cap);
    ck_assert_ptr_nonnull(req);
    size_t at = (size_t)snprintf(req, cap, "GET / HTTP/1.1\r\n");
    for (size_t i = 0; i < n; i++)
        at += (size_t)snprintf(req + at, cap - at, "X-%zu: v%zu\r\n", i, i);
    at += (size_t)snprintf(req + at, cap - at, "\r\n");
    *len = at;
    return req;
}

START_TEST(too_many_headers)
{
    size_t len;
    char *req = with_fields(GW_H1_MAX_FIELDS, &len);
    struct gw_h1_head r;
    ck_assert_int_eq(h1_parse(req, len, MAX_HEAD, MAX_BODY, &r), READY);
    ck_assert_uint_eq(r.n_fields, GW_H1_MAX_FIELDS);
    assert_slice(r.fields[GW_H1_MAX_FIELDS - 1].name, r.fields[GW_H1_MAX_FIELDS - 1].name_len,
                 "X-63");
    free(req);
    req = with_fields(GW_H1_MAX_FIELDS + 1, &len);
    ck_assert_int_eq(h1_parse(req, len, MAX_HEAD, MAX_BODY, &r), PASS);
    free(req);
    req = with_fields(1000, &len);
    ck_assert_int_eq(h1_parse(req, len, MAX_HEAD, MAX_BODY, &r), PASS);
    free(req);
}
END_TEST

START_TEST(long_request_line_without_a_space)
{
    /* A target still arriving is waited for until the peek is full (max_head, libmicrohttpd's
     * slack and one byte): then libmicrohttpd takes it, and answers 414 or 431. */
    enum { MAX = 100 };
    size_t peek = MAX + GW_MHD_POOL_SLACK + 1;
    char *line = malloc(peek);
    ck_assert_ptr_nonnull(line);
    memcpy(line, "GET /", 5);
    memset(line + 5, 'a', peek - 5);
    ck_assert_int_eq(parse_limits(line, MAX, MAX, MAX_BODY), INCOMPLETE);
    ck_assert_int_eq(parse_limits(line, MAX + 1, MAX, MAX_BODY), INCOMPLETE);
    ck_assert_int_eq(parse_limits(line, peek - 1, MAX, MAX_BODY), INCOMPLETE);
    ck_assert_int_eq(parse_limits(line, peek, MAX, MAX_BODY), PASS);
    ck_assert_int_eq(parse_limits(line, 300, MAX_HEAD, MAX_BODY), INCOMPLETE);
    free(line);
    /* A target past max_head: waited for while its version arrives, passed once the head ends. */
    static const char full[] =
        "GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n"
        "Host: h\r\n\r\n";
    for (size_t n = 65; n < sizeof(full) - 1; n++)
        ck_assert_int_eq(parse_limits(full, n, 48, MAX_BODY), INCOMPLETE);
    ck_assert_int_eq(parse_limits(full, sizeof(full) - 1, 48, MAX_BODY), PASS);
    /* A method still arriving: waited for; once a line ends it is no method enoki reads. */
    char method[40];
    memset(method, 'G', sizeof(method));
    ck_assert_int_eq(parse_status(method, 15), INCOMPLETE);
    ck_assert_int_eq(parse_status(method, sizeof(method)), INCOMPLETE);
    static const char long_method[] = "GGGGGGGGGGGGGGGGGGGG / HTTP/1.1\r\n\r\n";
    ck_assert_int_eq(parse_status(long_method, sizeof(long_method) - 1), PASS);
    /* Fields still arriving, no blank line yet. */
    size_t len;
    char *req = with_fields(20, &len);
    size_t partial = len - 2; /* without the blank line */
    ck_assert_int_eq(parse_limits(req, partial, partial, MAX_BODY), INCOMPLETE);
    ck_assert_int_eq(parse_limits(req, partial, partial - 1, MAX_BODY), INCOMPLETE);
    ck_assert_int_eq(parse_limits(req, len, partial - 1, MAX_BODY), PASS);
    free(req);
}
END_TEST

/* ---- gw_h1_date ----------------------------------------------------------------------------- */

START_TEST(date_is_imf_fixdate)
{
    char buf[64];
    memset(buf, 'z', sizeof(buf));
    gw_h1_date(784111777, buf, sizeof(buf));
    ck_assert_str_eq(buf, "Sun, 06 Nov 1994 08:49:37 GMT");
    gw_h1_date(0, buf, sizeof(buf));
    ck_assert_str_eq(buf, "Thu, 01 Jan 1970 00:00:00 GMT");
    char exact[30];
    gw_h1_date(1709251199, exact, sizeof(exact)); /* 2024 is a leap year */
    ck_assert_str_eq(exact, "Thu, 29 Feb 2024 23:59:59 GMT");
}
END_TEST

Suite *h1_parse_suite(void)
{
    Suite *s = suite_create("h1_parse");
    TCase *ready = tcase_create("ready");
    tcase_add_test(ready, get_without_headers);
    tcase_add_test(ready, post_with_body);
    tcase_add_test(ready, fields_in_order_without_leading_ows);
    tcase_add_loop_test(ready, connection_close_flag, 0,
                        (int)(sizeof(close_cases) / sizeof(close_cases[0])));
    tcase_add_test(ready, pipelined_requests_give_the_first);
    tcase_add_loop_test(ready, every_plain_method, 0, (int)(sizeof(methods) / sizeof(methods[0])));
    tcase_add_test(ready, empty_header_value);
    tcase_add_test(ready, obs_text_in_value);
    tcase_add_test(ready, target_bytes_kept_as_sent);
    suite_add_tcase(s, ready);

    TCase *incomplete = tcase_create("incomplete");
    tcase_add_test(incomplete, every_prefix_is_incomplete);
    tcase_add_test(incomplete, body_shorter_than_content_length);
    suite_add_tcase(s, incomplete);

    TCase *pass = tcase_create("pass");
    tcase_add_loop_test(pass, passed_to_libmicrohttpd, 0,
                        (int)(sizeof(pass_cases) / sizeof(pass_cases[0])));
    tcase_add_test(pass, every_value_byte_at_every_place);
    tcase_add_test(pass, head_longer_than_max_head);
    tcase_add_test(pass, body_longer_than_max_body);
    tcase_add_test(pass, too_many_headers);
    tcase_add_test(pass, long_request_line_without_a_space);
    suite_add_tcase(s, pass);

    TCase *date = tcase_create("date");
    tcase_add_test(date, date_is_imf_fixdate);
    suite_add_tcase(s, date);
    return s;
}
