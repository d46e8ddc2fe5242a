#define _XOPEN_SOURCE 700 /* strptime */
#include "h1_write.h"

#include "core/text.h"
#include "core/util.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* The registered codes libmicrohttpd 0.9.75 has words for (RFC 9110 section 15 and the IANA
 * registry); any other code is "Non-Standard Status". */
static const struct {
    short code;
    const char *text;
} reasons[] = {
    {100, "Continue"},
    {101, "Switching Protocols"},
    {102, "Processing"},
    {103, "Early Hints"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {203, "Non-Authoritative Information"},
    {204, "No Content"},
    {205, "Reset Content"},
    {206, "Partial Content"},
    {207, "Multi-Status"},
    {208, "Already Reported"},
    {226, "IM Used"},
    {300, "Multiple Choices"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {303, "See Other"},
    {304, "Not Modified"},
    {305, "Use Proxy"},
    {306, "Switch Proxy"},
    {307, "Temporary Redirect"},
    {308, "Permanent Redirect"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {402, "Payment Required"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {407, "Proxy Authentication Required"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {410, "Gone"},
    {411, "Length Required"},
    {412, "Precondition Failed"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {415, "Unsupported Media Type"},
    {416, "Range Not Satisfiable"},
    {417, "Expectation Failed"},
    {421, "Misdirected Request"},
    {422, "Unprocessable Content"},
    {423, "Locked"},
    {424, "Failed Dependency"},
    {425, "Too Early"},
    {426, "Upgrade Required"},
    {428, "Precondition Required"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {449, "Reply With"},
    {450, "Blocked by Windows Parental Controls"},
    {451, "Unavailable For Legal Reasons"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
    {506, "Variant Also Negotiates"},
    {507, "Insufficient Storage"},
    {508, "Loop Detected"},
    {509, "Bandwidth Limit Exceeded"},
    {510, "Not Extended"},
    {511, "Network Authentication Required"},
};

const char *gw_h1_reason(int status)
{
    size_t lo = 0, hi = ARRAY_LEN(reasons);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (reasons[mid].code == status)
            return reasons[mid].text;
        if (reasons[mid].code < status)
            lo = mid + 1;
        else
            hi = mid;
    }
    return "Non-Standard Status";
}

void gw_h1_date(int64_t t, char *buf, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, len, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* The whitespace around a field value is not part of it (RFC 9110 5.5); libmicrohttpd keeps what
 * follows it. */
static bool parse_date_as(const char *text, const char *format, struct tm *tm)
{
    memset(tm, 0, sizeof(*tm));
    const char *end = strptime(text + strspn(text, " \t"), format, tm);
    return end && end[strspn(end, " \t")] == '\0';
}

bool gw_h1_parse_date(const char *text, int64_t *out)
{
    struct tm tm;
    if (!parse_date_as(text, "%a, %d %b %Y %H:%M:%S GMT", &tm) &&
        !parse_date_as(text, "%a %b %d %H:%M:%S %Y", &tm)) {
        if (!parse_date_as(text, "%A, %d-%b-%y %H:%M:%S GMT", &tm))
            return false;
        /* Two digits: the latest such year not more than 50 years ahead (RFC 9110 5.6.7). */
        time_t now = time(NULL);
        struct tm today;
        gmtime_r(&now, &today);
        int year = today.tm_year + 1900;
        int candidate = year - year % 100 + (tm.tm_year + 1900) % 100;
        if (candidate > year + 50)
            candidate -= 100;
        else if (candidate + 100 <= year + 50)
            candidate += 100;
        tm.tm_year = candidate - 1900;
    }
    *out = (int64_t)timegm(&tm);
    return true;
}

/* One allocation holds the name and the value after it (value NULL: the Connection field). */
static void push(struct gw_h1_fields *f, const char *name, const char *value)
{
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 16;
        f->items = xrealloc(f->items, f->cap * sizeof(*f->items));
    }
    size_t name_size = strlen(name) + 1, value_size = value ? strlen(value) + 1 : 0;
    char *block = xmalloc(name_size + value_size);
    memcpy(block, name, name_size);
    if (value)
        memcpy(block + name_size, value, value_size);
    f->items[f->n++] = (struct gw_h1_out_field){block, value ? block + name_size : NULL};
}

/* Appends value's comma-separated tokens to b, trimmed, whitespace runs as one space, without
 * "close" (reported in *close) and "keep-alive". */
static void add_connection_tokens(struct gw_strbuf *b, const char *value, bool *close)
{
    const char *p = value;
    while (*p) {
        size_t n = strcspn(p, ",");
        const char *s = p, *e = p + n;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        size_t len = (size_t)(e - s);
        if (len == 5 && strncasecmp(s, "close", 5) == 0) {
            *close = true;
        } else if (len > 0 && !(len == 10 && strncasecmp(s, "keep-alive", 10) == 0)) {
            if (b->len)
                gw_strbuf_add(b, ", ", 2);
            for (const char *c = s; c < e; c++) {
                if (*c == ' ' || *c == '\t') {
                    if (c[-1] != ' ' && c[-1] != '\t')
                        gw_strbuf_add(b, " ", 1);
                } else {
                    gw_strbuf_add(b, c, 1);
                }
            }
        }
        p += n;
        if (*p == ',')
            p++;
    }
}

static bool add_connection(struct gw_h1_fields *f, const char *value)
{
    bool close = false;
    struct gw_strbuf tokens = {0};
    add_connection_tokens(&tokens, value, &close);
    if (!tokens.len && !close) {
        free(tokens.data);
        return false;
    }
    /* "close" goes first, then what was there, then the new tokens. */
    struct gw_strbuf merged = {0};
    if (close && !f->says_close)
        gw_strbuf_adds(&merged, "close");
    if (f->connection.len) {
        gw_strbuf_adds(&merged, merged.len ? ", " : "");
        gw_strbuf_add(&merged, f->connection.data, f->connection.len);
    }
    if (tokens.len) {
        gw_strbuf_adds(&merged, merged.len ? ", " : "");
        gw_strbuf_add(&merged, tokens.data, tokens.len);
    }
    free(tokens.data);
    free(f->connection.data);
    f->connection = merged;
    f->says_close = f->says_close || close;
    if (!f->has_connection)
        push(f, "Connection", NULL); /* its value is f->connection, whatever it becomes */
    f->has_connection = true;
    return true;
}

/* A second Date replaces the first. */
static void drop_date(struct gw_h1_fields *f)
{
    for (size_t i = 0; i < f->n; i++) {
        if (strcasecmp(f->items[i].name, "Date") == 0) {
            free(f->items[i].name);
            memmove(&f->items[i], &f->items[i + 1], (f->n - i - 1) * sizeof(*f->items));
            f->n--;
            return;
        }
    }
}

bool gw_h1_fields_add(struct gw_h1_fields *f, const char *name, const char *value)
{
    if (!name || !value || !*name || !*value || strpbrk(value, "\r\n"))
        return false;
    /* Most fields are none of the four with rules of their own: told apart by the first letter. */
    switch (*name | 0x20) {
    case 'c':
        if (strcasecmp(name, "Connection") == 0)
            return add_connection(f, value);
        if (strcasecmp(name, "Content-Length") == 0)
            return false;
        break;
    case 't':
        if (strcasecmp(name, "Transfer-Encoding") == 0) {
            if (strcasecmp(value, "chunked") != 0)
                return false;
            for (size_t i = 0; i < f->n; i++)
                if (strcasecmp(f->items[i].name, "Transfer-Encoding") == 0)
                    return true;
        }
        break;
    case 'd':
        if (strcasecmp(name, "Date") == 0) {
            drop_date(f);
            f->has_date = true;
        }
        break;
    default:
        break;
    }
    if (strpbrk(name, "\t \r\n"))
        return false;
    push(f, name, value);
    return true;
}

void gw_h1_fields_clear(struct gw_h1_fields *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->items[i].name); /* the value is in the same block */
    }
    free(f->items);
    free(f->connection.data);
    memset(f, 0, sizeof(*f));
}

static void add_field(struct gw_strbuf *out, const char *name, const char *value, size_t len)
{
    gw_strbuf_adds(out, name);
    gw_strbuf_add(out, ": ", 2);
    gw_strbuf_add(out, value, len);
    gw_strbuf_add(out, "\r\n", 2);
}

void gw_h1_write_head(struct gw_strbuf *out, int status, const struct gw_h1_fields *fields,
                      bool close, uint64_t content_length)
{
    /* The Date of the current second, formatted once per second (the loop thread only). */
    static time_t date_at;
    static char date[40];
    gw_strbuf_add(out, "HTTP/1.1 ", 9);
    gw_strbuf_add_u64(out, status >= 0 ? (uint64_t)status : 0);
    gw_strbuf_add(out, " ", 1);
    gw_strbuf_adds(out, gw_h1_reason(status));
    gw_strbuf_add(out, "\r\n", 2);
    if (!fields->has_date) {
        time_t now = time(NULL);
        if (now != date_at) {
            date_at = now;
            gw_h1_date((int64_t)now, date, sizeof(date));
        }
        add_field(out, "Date", date, strlen(date));
    }
    /* Connection comes first of the fields, as libmicrohttpd 0.9.75 puts it. */
    if (fields->has_connection)
        add_field(out, "Connection", fields->connection.data, fields->connection.len);
    else if (close)
        gw_strbuf_adds(out, "Connection: close\r\n");
    for (size_t i = 0; i < fields->n; i++) {
        const struct gw_h1_out_field *f = &fields->items[i];
        if (f->value)
            add_field(out, f->name, f->value, strlen(f->value));
    }
    /* As libmicrohttpd 0.9.75 does: 1xx and 204 have neither a Content-Length nor a body; 304 has
     * the length of the body it does not send. */
    if (status >= 200 && status != 204 && content_length != GW_H1_NO_LENGTH) {
        gw_strbuf_add(out, "Content-Length: ", 16);
        gw_strbuf_add_u64(out, content_length);
        gw_strbuf_add(out, "\r\n", 2);
    }
    gw_strbuf_add(out, "\r\n", 2);
}
