/* Unit tests for gateway/h1_write: the reason phrases (libmicrohttpd's own words), the filtering of
 * response fields as libmicrohttpd 0.9.75's MHD_add_response_header does it, the exact bytes of
 * the heads enoki writes itself, and the HTTP date parser.
 */
#include "gateway/h1_write.h"

#include "tests/unit/suites.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- reason phrases ------------------------------------------------------------------------- */

static const struct {
    int status;
    const char *reason;
} reasons[] = {
    {100, "Continue"},
    {101, "Switching Protocols"},
    {200, "OK"},
    {201, "Created"},
    {204, "No Content"},
    {206, "Partial Content"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {304, "Not Modified"},
    {307, "Temporary Redirect"},
    {308, "Permanent Redirect"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {408, "Request Timeout"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {415, "Unsupported Media Type"},
    {422, "Unprocessable Content"},
    {426, "Upgrade Required"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {511, "Network Authentication Required"},
    /* Codes libmicrohttpd has no words for. */
    {418, "Non-Standard Status"},
    {299, "Non-Standard Status"},
    {199, "Non-Standard Status"},
    {420, "Non-Standard Status"},
    {599, "Non-Standard Status"},
    {600, "Non-Standard Status"},
    {99, "Non-Standard Status"},
    {0, "Non-Standard Status"},
    {-1, "Non-Standard Status"},
    {1000, "Non-Standard Status"},
};

START_TEST(reason_phrases)
{
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
        ck_assert_msg(strcmp(gw_h1_reason(reasons[i].status), reasons[i].reason) == 0, "%d: '%s'",
                      reasons[i].status, gw_h1_reason(reasons[i].status));
}
END_TEST

START_TEST(reason_phrases_are_libmicrohttpds)
{
    /* Every code a response could have, against the library linked in: so a client cannot tell
     * which one answered. */
    for (int status = 100; status < 1000; status++) {
        const char *want = MHD_get_reason_phrase_len_for((unsigned)status) > 0
                               ? MHD_get_reason_phrase_for((unsigned)status)
                               : "Non-Standard Status";
        ck_assert_msg(strcmp(gw_h1_reason(status), want) == 0, "%d: '%s', libmicrohttpd '%s'",
                      status, gw_h1_reason(status), want);
    }
}
END_TEST

/* ---- fields --------------------------------------------------------------------------------- */

/* The field i as "name: value" (the Connection field with its merged value) into buf. */
static const char *field(const struct gw_h1_fields *f, size_t i, char *buf, size_t len)
{
    ck_assert_uint_lt(i, f->n);
    const char *value = f->items[i].value ? f->items[i].value : f->connection.data;
    snprintf(buf, len, "%s: %s", f->items[i].name, value);
    return buf;
}

START_TEST(fields_refused)
{
    struct gw_h1_fields f = {0};
    ck_assert(!gw_h1_fields_add(&f, "", "v"));
    ck_assert(!gw_h1_fields_add(&f, "X-A", ""));
    ck_assert(!gw_h1_fields_add(&f, "X A", "v"));
    ck_assert(!gw_h1_fields_add(&f, "X\tA", "v"));
    ck_assert(!gw_h1_fields_add(&f, " X-A", "v"));
    ck_assert(!gw_h1_fields_add(&f, "X-A ", "v"));
    ck_assert(!gw_h1_fields_add(&f, "X\rA", "v"));
    ck_assert(!gw_h1_fields_add(&f, "X\nA", "v"));
    ck_assert(!gw_h1_fields_add(&f, "X-A", "a\rb"));
    ck_assert(!gw_h1_fields_add(&f, "X-A", "a\nb"));
    ck_assert(!gw_h1_fields_add(&f, "X-A", "a\r\nX-Injected: 1"));
    ck_assert(!gw_h1_fields_add(&f, "X-A", "\n"));
    ck_assert(!gw_h1_fields_add(&f, NULL, "v"));
    ck_assert(!gw_h1_fields_add(&f, "X-A", NULL));
    /* The writer sets the length. */
    ck_assert(!gw_h1_fields_add(&f, "Content-Length", "5"));
    ck_assert(!gw_h1_fields_add(&f, "content-length", "5"));
    /* Only chunked. */
    ck_assert(!gw_h1_fields_add(&f, "Transfer-Encoding", "gzip"));
    ck_assert(!gw_h1_fields_add(&f, "Transfer-Encoding", "gzip, chunked"));
    ck_assert(!gw_h1_fields_add(&f, "Transfer-Encoding", ""));
    /* Connection with no token left, or with CR or LF. */
    ck_assert(!gw_h1_fields_add(&f, "Connection", ""));
    ck_assert(!gw_h1_fields_add(&f, "Connection", " , ,"));
    ck_assert(!gw_h1_fields_add(&f, "Connection", "keep-alive"));
    ck_assert(!gw_h1_fields_add(&f, "Connection", "Keep-Alive, keep-alive"));
    ck_assert(!gw_h1_fields_add(&f, "Connection", "close\r\n"));
    ck_assert(!gw_h1_fields_add(&f, "connection", "Upgrade\nX: y"));
    ck_assert_uint_eq(f.n, 0);
    ck_assert(!f.has_date && !f.has_connection && !f.says_close);
    gw_h1_fields_clear(&f);
}
END_TEST

START_TEST(fields_kept_in_order)
{
    struct gw_h1_fields f = {0};
    char buf[256];
    ck_assert(gw_h1_fields_add(&f, "Content-Type", "application/json"));
    ck_assert(gw_h1_fields_add(&f, "X-Call-Id", "svc.m.1"));
    ck_assert(gw_h1_fields_add(&f, "X-Call-Id", "again")); /* repeated names are kept */
    ck_assert(gw_h1_fields_add(&f, "x:odd", "v:w"));
    ck_assert(gw_h1_fields_add(&f, "X-Space", " inner  space "));
    ck_assert_uint_eq(f.n, 5);
    ck_assert_str_eq(field(&f, 0, buf, sizeof(buf)), "Content-Type: application/json");
    ck_assert_str_eq(field(&f, 1, buf, sizeof(buf)), "X-Call-Id: svc.m.1");
    ck_assert_str_eq(field(&f, 2, buf, sizeof(buf)), "X-Call-Id: again");
    ck_assert_str_eq(field(&f, 3, buf, sizeof(buf)), "x:odd: v:w");
    ck_assert_str_eq(field(&f, 4, buf, sizeof(buf)), "X-Space:  inner  space ");
    gw_h1_fields_clear(&f);
    ck_assert_uint_eq(f.n, 0);
    ck_assert_ptr_null(f.items);
    /* Cleared fields take more. */
    ck_assert(gw_h1_fields_add(&f, "X-A", "1"));
    gw_h1_fields_clear(&f);
}
END_TEST

START_TEST(transfer_encoding_chunked_once)
{
    struct gw_h1_fields f = {0};
    char buf[256];
    ck_assert(gw_h1_fields_add(&f, "Transfer-Encoding", "chunked"));
    ck_assert(gw_h1_fields_add(&f, "X-A", "1"));
    /* Accepted, and not added again. */
    ck_assert(gw_h1_fields_add(&f, "transfer-encoding", "Chunked"));
    ck_assert(gw_h1_fields_add(&f, "Transfer-Encoding", "CHUNKED"));
    ck_assert_uint_eq(f.n, 2);
    ck_assert_str_eq(field(&f, 0, buf, sizeof(buf)), "Transfer-Encoding: chunked");
    ck_assert_str_eq(field(&f, 1, buf, sizeof(buf)), "X-A: 1");
    gw_h1_fields_clear(&f);
}
END_TEST

START_TEST(date_replaced)
{
    struct gw_h1_fields f = {0};
    char buf[256];
    ck_assert(gw_h1_fields_add(&f, "Date", "Sun, 06 Nov 1994 08:49:37 GMT"));
    ck_assert(f.has_date);
    ck_assert(gw_h1_fields_add(&f, "X-A", "1"));
    ck_assert(gw_h1_fields_add(&f, "date", "Mon, 07 Nov 1994 08:49:37 GMT"));
    /* The second replaces the first, where the second was added. */
    ck_assert_uint_eq(f.n, 2);
    ck_assert_str_eq(field(&f, 0, buf, sizeof(buf)), "X-A: 1");
    ck_assert_str_eq(field(&f, 1, buf, sizeof(buf)), "date: Mon, 07 Nov 1994 08:49:37 GMT");
    ck_assert(f.has_date);
    gw_h1_fields_clear(&f);
}
END_TEST

START_TEST(connection_merged)
{
    struct gw_h1_fields f = {0};
    char buf[256];
    ck_assert(gw_h1_fields_add(&f, "X-A", "1"));
    ck_assert(gw_h1_fields_add(&f, "Connection", " Upgrade "));
    ck_assert(f.has_connection && !f.says_close);
    ck_assert_uint_eq(f.n, 2);
    ck_assert_str_eq(field(&f, 1, buf, sizeof(buf)), "Connection: Upgrade");
    /* "close" goes first, "keep-alive" is dropped, tokens are trimmed. */
    ck_assert(gw_h1_fields_add(&f, "connection", " keep-alive ,\tfoo\t, CLOSE , bar  baz "));
    ck_assert(f.says_close);
    ck_assert_uint_eq(f.n, 2);
    ck_assert_str_eq(field(&f, 1, buf, sizeof(buf)), "Connection: close, Upgrade, foo, bar baz");
    /* A second close adds nothing; a field of keep-alive alone is refused. */
    ck_assert(gw_h1_fields_add(&f, "Connection", "close"));
    ck_assert(!gw_h1_fields_add(&f, "Connection", "keep-alive"));
    ck_assert(gw_h1_fields_add(&f, "CONNECTION", "x-more"));
    ck_assert_uint_eq(f.n, 2);
    ck_assert_str_eq(field(&f, 1, buf, sizeof(buf)),
                     "Connection: close, Upgrade, foo, bar baz, x-more");
    gw_h1_fields_clear(&f);

    /* close alone, and close after keep-alive. */
    ck_assert(gw_h1_fields_add(&f, "Connection", "Keep-Alive, close"));
    ck_assert(f.says_close);
    ck_assert_uint_eq(f.n, 1);
    ck_assert_str_eq(field(&f, 0, buf, sizeof(buf)), "Connection: close");
    gw_h1_fields_clear(&f);
    ck_assert(!f.has_connection && !f.says_close);

    /* close arriving later moves to the front of what was there. */
    ck_assert(gw_h1_fields_add(&f, "Connection", "a,b"));
    ck_assert(gw_h1_fields_add(&f, "Connection", "c, close"));
    ck_assert_str_eq(field(&f, 0, buf, sizeof(buf)), "Connection: close, a, b, c");
    gw_h1_fields_clear(&f);
}
END_TEST

/* ---- heads ---------------------------------------------------------------------------------- */

#define DATE "Sun, 06 Nov 1994 08:49:37 GMT"

/* The head for status and fields, as a new string. */
static char *head(int status, const struct gw_h1_fields *fields, bool close, uint64_t length)
{
    struct gw_strbuf out = {0};
    gw_h1_write_head(&out, status, fields, close, length);
    return gw_strbuf_take(&out);
}

START_TEST(head_200_with_fields)
{
    struct gw_h1_fields f = {0};
    gw_h1_fields_add(&f, "Date", DATE);
    gw_h1_fields_add(&f, "Content-Type", "application/json");
    gw_h1_fields_add(&f, "X-Call-Id", "svc.m.1");
    char *h = head(200, &f, false, 13);
    ck_assert_str_eq(h, "HTTP/1.1 200 OK\r\n"
                        "Date: " DATE "\r\n"
                        "Content-Type: application/json\r\n"
                        "X-Call-Id: svc.m.1\r\n"
                        "Content-Length: 13\r\n"
                        "\r\n");
    free(h);
    /* Appended to what the buffer holds. */
    struct gw_strbuf out = {0};
    gw_strbuf_adds(&out, "before|");
    gw_h1_write_head(&out, 404, &f, false, 0);
    ck_assert_str_eq(out.data, "before|HTTP/1.1 404 Not Found\r\n"
                               "Date: " DATE "\r\n"
                               "Content-Type: application/json\r\n"
                               "X-Call-Id: svc.m.1\r\n"
                               "Content-Length: 0\r\n"
                               "\r\n");
    free(out.data);
    gw_h1_fields_clear(&f);
}
END_TEST

START_TEST(head_without_a_body)
{
    struct gw_h1_fields f = {0};
    gw_h1_fields_add(&f, "Date", DATE);
    /* 204 and 1xx have no Content-Length, whatever the length says. */
    char *h = head(204, &f, false, 5);
    ck_assert_str_eq(h, "HTTP/1.1 204 No Content\r\nDate: " DATE "\r\n\r\n");
    free(h);
    h = head(101, &f, false, 0);
    ck_assert_str_eq(h, "HTTP/1.1 101 Switching Protocols\r\nDate: " DATE "\r\n\r\n");
    free(h);
    /* 304 has the length of the body it does not send. */
    h = head(304, &f, false, 42);
    ck_assert_str_eq(h,
                     "HTTP/1.1 304 Not Modified\r\nDate: " DATE "\r\nContent-Length: 42\r\n\r\n");
    free(h);
    /* A 304 whose 200's length is not known (a handler's) says none (RFC 9110 8.6). */
    h = head(304, &f, false, GW_H1_NO_LENGTH);
    ck_assert_str_eq(h, "HTTP/1.1 304 Not Modified\r\nDate: " DATE "\r\n\r\n");
    free(h);
    h = head(299, &f, false, UINT64_MAX - 1);
    ck_assert_str_eq(h, "HTTP/1.1 299 Non-Standard Status\r\nDate: " DATE
                        "\r\nContent-Length: 18446744073709551614\r\n\r\n");
    free(h);
    gw_h1_fields_clear(&f);
}
END_TEST

START_TEST(head_that_closes)
{
    struct gw_h1_fields f = {0};
    gw_h1_fields_add(&f, "Date", DATE);
    gw_h1_fields_add(&f, "Content-Type", "text/plain");
    /* No Connection field: the writer says close, before the fields. */
    char *h = head(400, &f, true, 2);
    ck_assert_str_eq(h, "HTTP/1.1 400 Bad Request\r\n"
                        "Connection: close\r\n"
                        "Date: " DATE "\r\n"
                        "Content-Type: text/plain\r\n"
                        "Content-Length: 2\r\n"
                        "\r\n");
    free(h);
    gw_h1_fields_clear(&f);

    /* A Connection field that says close: said once, whether or not the writer was told. */
    gw_h1_fields_add(&f, "Connection", "close");
    gw_h1_fields_add(&f, "Date", DATE);
    gw_h1_fields_add(&f, "Content-Type", "text/plain");
    static const char want[] = "HTTP/1.1 400 Bad Request\r\n"
                               "Connection: close\r\n"
                               "Date: " DATE "\r\n"
                               "Content-Type: text/plain\r\n"
                               "Content-Length: 2\r\n"
                               "\r\n";
    h = head(400, &f, true, 2);
    ck_assert_str_eq(h, want);
    free(h);
    h = head(400, &f, false, 2);
    ck_assert_str_eq(h, want);
    free(h);
    gw_h1_fields_clear(&f);
}
END_TEST

START_TEST(head_with_the_current_date)
{
    struct gw_h1_fields f = {0};
    gw_h1_fields_add(&f, "X-A", "1");
    time_t before = time(NULL);
    char *h = head(200, &f, false, 1);
    time_t after = time(NULL);
    /* "HTTP/1.1 200 OK\r\nDate: <29 bytes>\r\nX-A: 1\r\nContent-Length: 1\r\n\r\n" */
    static const char start[] = "HTTP/1.1 200 OK\r\nDate: ";
    ck_assert_mem_eq(h, start, sizeof(start) - 1);
    const char *date = h + sizeof(start) - 1;
    const char *end = strstr(date, "\r\n");
    ck_assert_ptr_nonnull(end);
    ck_assert_int_eq(end - date, 29);
    ck_assert_str_eq(end, "\r\nX-A: 1\r\nContent-Length: 1\r\n\r\n");
    char text[30];
    memcpy(text, date, 29);
    text[29] = '\0';
    int64_t t;
    ck_assert(gw_h1_parse_date(text, &t));
    ck_assert(t >= (int64_t)before && t <= (int64_t)after);
    free(h);
    /* No fields at all. */
    struct gw_h1_fields none = {0};
    h = head(503, &none, true, 0);
    ck_assert_mem_eq(h, "HTTP/1.1 503 Service Unavailable\r\nDate: ", 40);
    ck_assert_str_eq(h + 40 + 29, "\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    free(h);
    gw_h1_fields_clear(&f);
}
END_TEST

/* ---- dates ---------------------------------------------------------------------------------- */

START_TEST(date_round_trip)
{
    static const int64_t times[] = {0,          1,          784111777,  951782400,   1709251199,
                                    2147483647, 2147483648, 4102444800, 253402300799};
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        char text[40];
        gw_h1_date(times[i], text, sizeof(text));
        ck_assert_uint_eq(strlen(text), 29);
        int64_t back = -1;
        ck_assert_msg(gw_h1_parse_date(text, &back), "%s", text);
        ck_assert_msg(back == times[i], "%s: %lld", text, (long long)back);
    }
    int64_t t;
    ck_assert(gw_h1_parse_date("Sun, 06 Nov 1994 08:49:37 GMT", &t));
    ck_assert_int_eq(t, 784111777);
    ck_assert(gw_h1_parse_date("Thu, 29 Feb 2024 23:59:59 GMT", &t));
    ck_assert_int_eq(t, 1709251199);
    /* RFC 9110 5.6.7: a recipient takes the two obsolete forms too. */
    ck_assert(gw_h1_parse_date("Sunday, 06-Nov-94 08:49:37 GMT", &t));
    ck_assert_int_eq(t, 784111777);
    ck_assert(gw_h1_parse_date("Sun Nov  6 08:49:37 1994", &t));
    ck_assert_int_eq(t, 784111777);
    /* RFC 850's two digits: the latest year not more than 50 years ahead of now (2026 and on:
     * "24" is 2024, and a year 60 or more ahead is last century's). */
    ck_assert(gw_h1_parse_date("Thursday, 29-Feb-24 23:59:59 GMT", &t));
    ck_assert_int_eq(t, 1709251199);
    time_t now = time(NULL);
    struct tm today;
    gmtime_r(&now, &today);
    char text[64];
    int ahead = (today.tm_year + 1900 + 60) % 100;
    snprintf(text, sizeof(text), "Monday, 01-Jan-%02d 00:00:00 GMT", ahead);
    ck_assert(gw_h1_parse_date(text, &t));
    ck_assert_int_lt(t, (int64_t)now);
    /* The whitespace around a field's value is not part of it (libmicrohttpd keeps it). */
    ck_assert(gw_h1_parse_date(" Sun, 06 Nov 1994 08:49:37 GMT \t", &t));
    ck_assert_int_eq(t, 784111777);
}
END_TEST

START_TEST(date_rejects)
{
    static const char *const bad[] = {
        "",
        "garbage",
        "Sun, 06 Nov 1994 08:49:37",       /* no zone */
        "Sun, 06 Nov 1994 08:49:37 GMTx",  /* something after it */
        "Sun, 06 Nov 1994 08:49:37 UTC",   /* another zone */
        "Sun, 06 Nov 1994 08:49:37 +0000", /* another zone */
        "Sunday, 06-Nov-94 08:49:37",      /* RFC 850 without its zone */
        "Sun Nov  6 08:49:37 1994 GMT",    /* asctime has none */
        "Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT", /* two */
        "Sun, 06 Foo 1994 08:49:37 GMT",                                /* no such month */
        "Sun, 32 Nov 1994 08:49:37 GMT",                                /* no such day */
        "Sun, 06 Nov 1994 24:49:37 GMT",                                /* no such hour */
        "Sun, 06 Nov 1994 08:60:37 GMT",                                /* no such minute */
        "Sun, 06 Nov 1994 08:49 GMT",                                   /* no seconds */
        "Xyz, 06 Nov 1994 08:49:37 GMT", /* no such day of the week */
        "06 Nov 1994 08:49:37 GMT",      /* no day of the week */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t t = 12345;
        ck_assert_msg(!gw_h1_parse_date(bad[i], &t), "'%s' parsed", bad[i]);
        ck_assert_int_eq(t, 12345); /* untouched */
    }
}
END_TEST

Suite *h1_write_suite(void)
{
    Suite *s = suite_create("h1_write");
    TCase *reason = tcase_create("reason");
    tcase_add_test(reason, reason_phrases);
    tcase_add_test(reason, reason_phrases_are_libmicrohttpds);
    suite_add_tcase(s, reason);

    TCase *fields = tcase_create("fields");
    tcase_add_test(fields, fields_refused);
    tcase_add_test(fields, fields_kept_in_order);
    tcase_add_test(fields, transfer_encoding_chunked_once);
    tcase_add_test(fields, date_replaced);
    tcase_add_test(fields, connection_merged);
    suite_add_tcase(s, fields);

    TCase *heads = tcase_create("head");
    tcase_add_test(heads, head_200_with_fields);
    tcase_add_test(heads, head_without_a_body);
    tcase_add_test(heads, head_that_closes);
    tcase_add_test(heads, head_with_the_current_date);
    suite_add_tcase(s, heads);

    TCase *dates = tcase_create("date");
    tcase_add_test(dates, date_round_trip);
    tcase_add_test(dates, date_rejects);
    suite_add_tcase(s, dates);
    return s;
}
