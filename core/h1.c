#include "h1.h"

#include <string.h>
#include <strings.h>
#include <time.h>

/* RFC 9110 5.6.2 token characters. */
static bool is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c));
}

/* A field value's byte: visible, space, tab or obs-text; never a NUL or another control. */
static bool is_value_char(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static bool is_target_char(unsigned char c)
{
    return c > 0x20 && c != 0x7f;
}

bool gw_h1_token_is(const char *s, size_t len, const char *lit)
{
    return strlen(lit) == len && strncasecmp(s, lit, len) == 0;
}

/* Every method enoki routes in the common case; HEAD, OPTIONS and the rest go the long way. */
static bool plain_method(const char *m, size_t len)
{
    static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (strlen(methods[i]) == len && memcmp(m, methods[i], len) == 0)
            return true;
    return false;
}

/* "keep-alive" and "close" only: any other Connection option (Upgrade, TE, ...) is passed. */
static enum gw_h1_status read_connection(const char *v, size_t len, bool *close)
{
    size_t i = 0;
    while (i < len) {
        while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t start = i;
        while (i < len && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
            i++;
        if (i == start)
            break;
        if (gw_h1_token_is(v + start, i - start, "close"))
            *close = true;
        else if (!gw_h1_token_is(v + start, i - start, "keep-alive"))
            return GW_H1_PASS;
    }
    return GW_H1_READY;
}

/* Digits only, no sign, no spaces inside, no overflow: libmicrohttpd's path judges the rest. */
static enum gw_h1_status read_length(const char *v, size_t len, size_t *out)
{
    if (len == 0 || len > 15)
        return GW_H1_PASS;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return GW_H1_PASS;
        n = n * 10 + (size_t)(v[i] - '0');
    }
    *out = n;
    return GW_H1_READY;
}

/* One header line [p, eol) without its CRLF. */
static enum gw_h1_status read_field(const char *p, const char *eol, struct gw_h1_request *out,
                                    bool *has_length)
{
    const char *colon = p;
    while (colon < eol && is_tchar((unsigned char)*colon))
        colon++;
    /* No name, a name with anything else in it, or whitespace before the colon. */
    if (colon == p || colon == eol || *colon != ':')
        return GW_H1_PASS;
    const char *v = colon + 1;
    while (v < eol && (*v == ' ' || *v == '\t'))
        v++;
    for (const char *c = v; c < eol; c++)
        if (!is_value_char((unsigned char)*c))
            return GW_H1_PASS;
    /* Trailing whitespace: libmicrohttpd 0.9.75 keeps it and the RFC strips it; not guessed. */
    if (eol > v && (eol[-1] == ' ' || eol[-1] == '\t'))
        return GW_H1_PASS;
    if (out->n_headers == GW_H1_MAX_HEADERS)
        return GW_H1_PASS;
    struct gw_h1_field *f = &out->headers[out->n_headers++];
    f->name = p;
    f->name_len = (size_t)(colon - p);
    f->value = v;
    f->value_len = (size_t)(eol - v);
    if (gw_h1_token_is(f->name, f->name_len, "Content-Length")) {
        if (*has_length)
            return GW_H1_PASS; /* even equal ones: the long way refuses or accepts them */
        *has_length = true;
        return read_length(f->value, f->value_len, &out->content_length);
    }
    if (gw_h1_token_is(f->name, f->name_len, "Connection"))
        return read_connection(f->value, f->value_len, &out->close);
    if (gw_h1_token_is(f->name, f->name_len, "Transfer-Encoding") ||
        gw_h1_token_is(f->name, f->name_len, "Expect") ||
        gw_h1_token_is(f->name, f->name_len, "Upgrade"))
        return GW_H1_PASS;
    return GW_H1_READY;
}

enum gw_h1_status gw_h1_parse(const char *buf, size_t len, size_t max_head, size_t max_body,
                              struct gw_h1_request *out)
{
    memset(out, 0, sizeof(*out));
    const char *end = buf + len;
    const char *eol;
    /* The request line: METHOD SP origin-form SP HTTP/1.1 CRLF, single spaces. */
    const char *p = buf;
    while (p < end && *p >= 'A' && *p <= 'Z')
        p++;
    if (p == end)
        return len < 16 ? GW_H1_INCOMPLETE : GW_H1_PASS;
    if (*p != ' ' || !plain_method(buf, (size_t)(p - buf)))
        return GW_H1_PASS;
    out->method = buf;
    out->method_len = (size_t)(p - buf);
    const char *target = ++p;
    while (p < end && is_target_char((unsigned char)*p))
        p++;
    if (p == end)
        return (size_t)(p - buf) > max_head ? GW_H1_PASS : GW_H1_INCOMPLETE;
    if (*p != ' ' || *target != '/')
        return GW_H1_PASS;
    out->target = target;
    out->target_len = (size_t)(p - target);
    p++;
    static const char version[] = "HTTP/1.1\r\n";
    size_t have = (size_t)(end - p) < sizeof(version) - 1 ? (size_t)(end - p) : sizeof(version) - 1;
    if (memcmp(p, version, have) != 0)
        return GW_H1_PASS;
    if (have < sizeof(version) - 1)
        return (size_t)(end - buf) > max_head ? GW_H1_PASS : GW_H1_INCOMPLETE;
    p += have;
    bool has_length = false;
    for (;;) {
        eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            return (size_t)(end - buf) > max_head ? GW_H1_PASS : GW_H1_INCOMPLETE;
        /* Every line ends in CRLF; a bare LF or CR is the long way's to judge. */
        if (eol == p || eol[-1] != '\r' || memchr(p, '\r', (size_t)(eol - 1 - p)))
            return GW_H1_PASS;
        if (eol - 1 == p)
            break; /* the blank line */
        if (*p == ' ' || *p == '\t')
            return GW_H1_PASS; /* obs-fold */
        enum gw_h1_status status = read_field(p, eol - 1, out, &has_length);
        if (status != GW_H1_READY)
            return status;
        p = eol + 1;
    }
    out->head_len = (size_t)(eol + 1 - buf);
    if (out->head_len > max_head || out->content_length > max_body)
        return GW_H1_PASS;
    return out->head_len + out->content_length <= len ? GW_H1_READY : GW_H1_INCOMPLETE;
}

void gw_h1_date(int64_t t, char *buf, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, len, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}
