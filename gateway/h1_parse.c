#include "h1_parse.h"

#include "core/text.h"
#include "core/util.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Whether s[0..len) is the literal lit, ignoring case (a header name or a value's token). Its
 * length is known when compiling, so the names of other lengths cost a comparison each (every
 * header line goes past a dozen of them). */
#define TOKEN_IS(s, len, lit) ((len) == sizeof(lit) - 1 && strncasecmp((s), (lit), (len)) == 0)

static bool is_target_char(unsigned char c)
{
    return c > 0x20 && c != 0x7f;
}

/* Every method enoki reads itself; HEAD, OPTIONS and the rest are libmicrohttpd's. */
static bool plain_method(const char *m, size_t len)
{
    static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
    for (size_t i = 0; i < ARRAY_LEN(methods); i++)
        if (strlen(methods[i]) == len && memcmp(m, methods[i], len) == 0)
            return true;
    return false;
}

/* The end of the head (after its blank line, which may be a bare LF), or NULL. */
static const char *head_end(const char *buf, size_t len)
{
    const char *p = buf, *stop = buf + len;
    while ((p = memchr(p, '\n', (size_t)(stop - p))) != NULL && stop - p > 1) {
        if (p[1] == '\n')
            return p + 2;
        if (p[1] == '\r' && stop - p > 2 && p[2] == '\n')
            return p + 3;
        p++;
    }
    return NULL;
}

/* A field value's byte: visible, space, tab or obs-text; never a NUL or another control. */
static bool value_bytes_ok(const unsigned char *c, const unsigned char *end)
{
    for (; c < end; c++)
        if ((*c < 0x20 && *c != '\t') || *c == 0x7f)
            return false;
    return true;
}

/* value_bytes_ok eight bytes at a time: a word with no byte below 0x20 and none equal to 0x7f is
 * passed whole (the usual bit tricks, which may only err towards a suspect); a suspect word is
 * looked at byte by byte. A traceparent is 55 bytes. */
static bool values_ok(const char *v, const char *end)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    const unsigned char *c = (const unsigned char *)v, *e = (const unsigned char *)end;
    for (; e - c >= 8; c += 8) {
        uint64_t w;
        memcpy(&w, c, sizeof(w));
        uint64_t del = w ^ (ones * 0x7f);
        uint64_t suspect = ((w - ones * 0x20) & ~w & highs) | ((del - ones) & ~del & highs);
        if (suspect && !value_bytes_ok(c, c + 8))
            return false;
    }
    return value_bytes_ok(c, e);
}

/* Sec-WebSocket-Key: 16 bytes in base64, that is 22 characters and "==" (RFC 6455 4.2.1). */
static bool websocket_key_ok(const char *v, size_t len)
{
    if (len != 24 || v[22] != '=' || v[23] != '=')
        return false;
    for (size_t i = 0; i < 22; i++)
        if (!((v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= 'a' && v[i] <= 'z') ||
              (v[i] >= '0' && v[i] <= '9') || v[i] == '+' || v[i] == '/'))
            return false;
    return true;
}

/* The final coding of a Transfer-Encoding list is chunked. */
static bool ends_chunked(const char *te, size_t n)
{
    while (n > 0 && (te[n - 1] == ' ' || te[n - 1] == '\t'))
        n--;
    return n >= 7 && strncasecmp(te + n - 7, "chunked", 7) == 0 &&
           (n == 7 || te[n - 8] == ',' || te[n - 8] == ' ' || te[n - 8] == '\t');
}

static void refuse(struct gw_h1_head *out, int status, const char *error, const char *message)
{
    out->verdict = GW_H1_REFUSE;
    out->refusal.status = status;
    out->refusal.error = error;
    out->refusal.message = message;
}

/* "keep-alive" and "close" only: any other Connection option (Upgrade, TE, ...) is
 * libmicrohttpd's. Returns false for those. */
static bool read_connection(const char *v, size_t len, bool *close)
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
        if (TOKEN_IS(v + start, i - start, "close"))
            *close = true;
        else if (!TOKEN_IS(v + start, i - start, "keep-alive"))
            return false;
    }
    return true;
}

/* Whether the comma-separated list v (len bytes) holds the token lit, in any case. */
static bool has_token(const char *v, size_t len, const char *lit)
{
    size_t lit_len = strlen(lit);
    size_t i = 0;
    while (i < len) {
        while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t start = i;
        while (i < len && v[i] != ',')
            i++;
        size_t end = i;
        while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
            end--;
        if (end - start == lit_len && strncasecmp(v + start, lit, lit_len) == 0)
            return true;
    }
    return false;
}

/* What the walk over the header lines gathers. */
struct scan {
    bool plain; /* still a request enoki may read itself */
    int content_lengths, transfer_encodings;
    const char *content_length, *transfer_encoding; /* the first CL (trimmed), the last TE */
    size_t content_length_len, transfer_encoding_len;
    bool length_conflict; /* Content-Length values that differ */
    uint64_t length;      /* the first Content-Length's value */
    bool upgrade_websocket, connection_upgrade, key_ok, version_ok;
    size_t lines; /* header lines */
    bool origin_seen, host_seen, authorization_seen, cookie_seen;
    int hosts; /* Host lines: more than one is refused (RFC 9112 3.2) */
};

/* Whether [p, e), a request line without its line end, is what RFC 9112 3 allows: method SP
 * request-target SP HTTP-version, one space each. libmicrohttpd closes on tabs or a blank before
 * the method without a word, and reads two spaces as one: refused here, every line gets its 400. */
static bool request_line_ok(const char *p, const char *e)
{
    const char *m = p;
    while (p < e && gw_is_tchar((unsigned char)*p))
        p++;
    if (p == m || p == e || *p++ != ' ')
        return false;
    const char *t = p;
    while (p < e && is_target_char((unsigned char)*p))
        p++;
    if (p == t || p == e || *p++ != ' ')
        return false;
    return e - p == 8 && memcmp(p, "HTTP/", 5) == 0 && p[5] >= '0' && p[5] <= '9' && p[6] == '.' &&
           p[7] >= '0' && p[7] <= '9';
}

/* The request line [p, eol): a plain one is METHOD SP origin-form SP HTTP/1.1 CRLF. */
static void request_line(const char *p, const char *eol, struct gw_h1_head *out, struct scan *s)
{
    const char *m = p;
    while (p < eol && *p >= 'A' && *p <= 'Z')
        p++;
    if (p == eol || *p != ' ' || !plain_method(m, (size_t)(p - m))) {
        s->plain = false;
        return;
    }
    const char *target = ++p;
    while (p < eol && is_target_char((unsigned char)*p))
        p++;
    static const char version[] = " HTTP/1.1\r";
    if (p == target || *target != '/' || (size_t)(eol - p) != sizeof(version) - 1 ||
        memcmp(p, version, sizeof(version) - 1) != 0) {
        s->plain = false;
        return;
    }
    out->method = m;
    out->method_len = (size_t)(target - 1 - m);
    out->target = target;
    out->target_len = (size_t)(p - target);
}

/* One header line [line, line + n) without its line end. Returns false when the head is refused.
 */
static bool header_line(const char *line, size_t n, bool crlf, struct gw_h1_head *out,
                        struct scan *s)
{
    /* RFC 9112 5.2: a folded line (obs-fold) is refused, or replaced by a space; libmicrohttpd
     * joins it to the line before without one ("Content-Length: 5" + " 6" is 56). */
    if (n > 0 && (*line == ' ' || *line == '\t')) {
        refuse(out, 400, "bad_request",
               "a header line is folded onto the next one (obs-fold, RFC 9112 5.2)");
        return false;
    }
    const char *colon = memchr(line, ':', n);
    if (!colon) {
        s->plain = false; /* libmicrohttpd's own 400 */
        return true;
    }
    size_t name_len = (size_t)(colon - line);
    /* libmicrohttpd 0.9.75 takes a line that starts with ':' for the end of the head: what follows
     * would be read as another request. */
    if (name_len == 0) {
        refuse(out, 400, "bad_request", "a header line has no name");
        return false;
    }
    /* RFC 9112 5.1: "Content-Length : 5" is a name libmicrohttpd would not recognise, so the body
     * would be read as the next request. */
    if (line[name_len - 1] == ' ' || line[name_len - 1] == '\t') {
        refuse(out, 400, "bad_request",
               "whitespace between a header name and its colon (RFC 9112 5.1)");
        return false;
    }
    const char *v = colon + 1, *ve = line + n;
    while (v < ve && (*v == ' ' || *v == '\t'))
        v++;
    while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
        ve--;
    size_t vlen = (size_t)(ve - v);
    bool trailing_space = ve < line + n;
    if (!crlf || trailing_space || !gw_is_token(line, name_len))
        s->plain = false;
    if (s->plain)
        s->plain = values_ok(v, ve);
    if (TOKEN_IS(line, name_len, "Content-Length")) {
        /* libmicrohttpd 0.9.75 skips the whitespace before a value, not after it: "5 " is not a
         * number to it (and gets its doubled error head). */
        if (trailing_space) {
            refuse(out, 400, "bad_request",
                   "Content-Length must be a decimal number, with nothing after it");
            return false;
        }
        uint64_t value = 0;
        bool digits = vlen > 0, overflow = false;
        for (size_t i = 0; i < vlen && digits; i++) {
            digits = v[i] >= '0' && v[i] <= '9';
            unsigned d = (unsigned)(v[i] - '0');
            if (digits && value > (UINT64_MAX - d) / 10)
                overflow = true;
            else if (digits)
                value = value * 10 + d;
        }
        if (!digits) {
            refuse(out, 400, "bad_request", "Content-Length must be a decimal number");
            return false;
        }
        if (overflow) {
            refuse(out, 413, "body_too_large",
                   "the Content-Length is beyond any body enoki takes (GATEWAY.max_body)");
            return false;
        }
        if (s->content_lengths++ == 0) {
            s->content_length = v;
            s->content_length_len = vlen;
            s->length = value;
        } else {
            /* Even equal ones: libmicrohttpd accepts them, enoki's reader does not guess. */
            s->plain = false;
            s->length_conflict = s->length_conflict || vlen != s->content_length_len ||
                                 memcmp(v, s->content_length, vlen) != 0;
        }
        if (vlen > 15)
            s->plain = false;
    } else if (TOKEN_IS(line, name_len, "Transfer-Encoding")) {
        /* As libmicrohttpd hands the value on: whitespace after it is kept, so "chunked " is not
         * chunked to it. */
        s->transfer_encodings++;
        s->transfer_encoding = v;
        s->transfer_encoding_len = (size_t)(line + n - v);
        s->plain = false;
    } else if (TOKEN_IS(line, name_len, "Connection")) {
        if (!read_connection(v, vlen, &out->close))
            s->plain = false;
        s->connection_upgrade = s->connection_upgrade || has_token(v, vlen, "upgrade");
    } else if (TOKEN_IS(line, name_len, "Upgrade")) {
        /* Exactly websocket, as libwebsockets takes it (blanks after it included): a list, or
         * "websocket " goes the HTTP way (400), not to its HTML 403. */
        s->upgrade_websocket =
            s->upgrade_websocket || (TOKEN_IS(v, vlen, "websocket") && !trailing_space);
        s->plain = false;
    } else if (TOKEN_IS(line, name_len, "Expect")) {
        s->plain = false;
    } else if (TOKEN_IS(line, name_len, "Sec-WebSocket-Key")) {
        s->key_ok = websocket_key_ok(v, vlen);
    } else if (TOKEN_IS(line, name_len, "Sec-WebSocket-Version")) {
        /* 13 is RFC 6455; 8 (hybi-08) frames the same way, and nameko's eventlet hub takes both,
         * as libwebsockets does. */
        s->version_ok = (vlen == 2 && memcmp(v, "13", 2) == 0) || (vlen == 1 && *v == '8');
    } else if (!s->origin_seen && TOKEN_IS(line, name_len, "Origin")) {
        /* The first one counts; an empty one is none: not a browser's page. */
        s->origin_seen = true;
        out->origin = vlen ? v : NULL;
        out->origin_len = vlen;
    } else if (TOKEN_IS(line, name_len, "Host")) {
        if (!s->host_seen) {
            out->host = vlen ? v : NULL;
            out->host_len = vlen;
        }
        s->host_seen = true;
        s->hosts++;
    } else if (!s->authorization_seen && TOKEN_IS(line, name_len, "Authorization")) {
        s->authorization_seen = true;
        out->authorization = vlen ? v : NULL;
        out->authorization_len = vlen;
    } else if (!s->cookie_seen && TOKEN_IS(line, name_len, "Cookie")) {
        s->cookie_seen = true;
        out->cookie = vlen ? v : NULL;
        out->cookie_len = vlen;
    }
    if (s->plain) {
        if (out->n_fields == GW_H1_MAX_FIELDS) {
            s->plain = false;
        } else {
            out->fields[out->n_fields++] = (struct gw_h1_field){
                .name = line, .name_len = name_len, .value = v, .value_len = vlen};
        }
    }
    return true;
}

/* The fields read for upgrades only. */
static void clear_upgrade_fields(struct gw_h1_head *out)
{
    out->origin = out->host = out->authorization = out->cookie = NULL;
    out->origin_len = out->host_len = out->authorization_len = out->cookie_len = 0;
}

/* GET of the hub's path (exactly, or with a query) asking for a websocket. */
/* The parameters of target's query: 0 without one, else one more than its '&'s. */
static size_t query_params(const char *target, size_t len)
{
    const char *q = memchr(target, '?', len);
    size_t n = q ? 1 : 0;
    for (const char *p = q; p && p < target + len; p++)
        n += *p == '&';
    return n;
}

/* Whether the request line from buf to eol (its '\n') ends with HTTP/1.1. */
static bool http11(const char *buf, const char *eol)
{
    if (eol > buf && eol[-1] == '\r')
        eol--;
    return eol - buf > 9 && memcmp(eol - 9, " HTTP/1.1", 9) == 0;
}

static bool is_upgrade(const char *buf, const char *eol, const char *path, const struct scan *s)
{
    if (!path || !s->upgrade_websocket || eol - buf < 4 || memcmp(buf, "GET ", 4) != 0)
        return false;
    size_t plen = strlen(path);
    const char *target = buf + 4;
    return (size_t)(eol - target) > plen && memcmp(target, path, plen) == 0 &&
           (target[plen] == ' ' || target[plen] == '?');
}

/* A complete head of kind HTTP: framing libmicrohttpd 0.9.75 would get wrong is refused before
 * any body is read, and the connection is closed after the answer (RFC 9112 6.1 and 6.3: after
 * such a request nothing on the connection can be trusted). It would take the first Content-Length
 * of several, read a body of unknown length until the client closes, and keep the connection open
 * after both Transfer-Encoding and Content-Length. */
/* Two Host lines that a proxy and enoki could each read their own way (the redirects' Location is
 * built from it). */
#define TWO_HOSTS "a request has one Host header (RFC 9112 3.2)"

static void check_framing(const struct scan *s, const struct gw_h1_limits *limits,
                          struct gw_h1_head *out)
{
    if (s->hosts > 1)
        refuse(out, 400, "bad_request", TWO_HOSTS);
    else if (s->transfer_encodings && s->content_lengths)
        refuse(out, 400, "bad_request",
               "a request may not have both Transfer-Encoding and Content-Length");
    else if (s->transfer_encodings > 1 ||
             (s->transfer_encodings &&
              !ends_chunked(s->transfer_encoding, s->transfer_encoding_len)))
        refuse(out, 400, "bad_request",
               "the body's length is unknown: send one Transfer-Encoding, and end it with "
               "chunked");
    else if (s->transfer_encodings &&
             !TOKEN_IS(s->transfer_encoding, s->transfer_encoding_len, "chunked"))
        refuse(out, 501, "not_implemented", "enoki reads no transfer coding but chunked");
    else if (s->length_conflict)
        refuse(out, 400, "bad_request", "the request has different Content-Length values");
    else if (s->content_lengths && s->length > limits->max_body) {
        snprintf(out->text, sizeof(out->text),
                 "the body is larger than %zu bytes (GATEWAY.max_body)", limits->max_body);
        refuse(out, 413, "body_too_large", out->text);
    }
}

/* libmicrohttpd 0.9.75 ends a line at a CR alone, so a field after one ("X-A: a\rTransfer-Encoding:
 * chunked") would be read by it and not by this scan. RFC 9112 2.2: invalid. */
#define BARE_CR "the request head holds a CR that does not end a line (RFC 9112 2.2)"

static void scan_head(const char *buf, size_t len, bool full, const struct gw_h1_limits *limits,
                      struct gw_h1_head *out, const char **line_start);

void gw_h1_scan(const char *buf, size_t len, bool full, const struct gw_h1_limits *limits,
                struct gw_h1_head *out)
{
    const char *start;
    scan_head(buf, len, full, limits, out, &start);
    /* A HEAD's answer has no content (RFC 9110 9.3.2), a refusal's neither. */
    if (out->verdict == GW_H1_REFUSE)
        out->refusal.head_method = buf + len - start >= 5 && memcmp(start, "HEAD ", 5) == 0;
}

/* gw_h1_scan; *line_start is where the request line starts (after any empty lines). */
static void scan_head(const char *buf, size_t len, bool full, const struct gw_h1_limits *limits,
                      struct gw_h1_head *out, const char **line_start)
{
    memset(out, 0, offsetof(struct gw_h1_head, fields));
    out->n_fields = 0;
    out->content_length = 0;
    out->close = out->plain = false;
    clear_upgrade_fields(out);
    /* Empty lines before the request line are ignored (RFC 9112 2.2), as libmicrohttpd does; they
     * do not make a head, or "\r\n\r\n" would buy a slowloris a ticket past header_timeout. A CR
     * alone is no empty line: it starts the request line, and is refused there. */
    const char *start = buf, *stop = buf + len;
    for (;;) {
        if (start < stop && *start == '\n')
            start++;
        else if (stop - start >= 2 && start[0] == '\r' && start[1] == '\n')
            start += 2;
        else
            break;
    }
    *line_start = start;
    const char *end = head_end(start, (size_t)(stop - start));
    /* A head not all here yet is checked as far as its complete lines go: what is wrong in them
     * stays wrong whatever follows. Refused, all of it that is here counts as the head. */
    bool partial = !end;
    if (partial) {
        end = start;
        for (const char *p = start; p < stop; p++)
            if (*p == '\n')
                end = p + 1;
    }
    out->head_len = partial ? len : (size_t)(end - buf);
    /* libmicrohttpd 0.9.75 reads the head as C strings: a NUL cuts the target or a value short
     * ("/a\0/b" would be routed as "/a"), and a line that starts with one ends the head there.
     * RFC 9110 5.5: reject the message. */
    if (memchr(buf, '\0', out->head_len)) {
        refuse(out, 400, "bad_request", "the request head holds a NUL byte");
        return;
    }
    struct scan s = {.plain = start == buf};
    const char *line = start;
    if (end > start) {
        const char *eol = memchr(start, '\n', (size_t)(end - start));
        request_line(start, eol, out, &s);
        if (!out->method) { /* not plain: looked at closer */
            const char *e = eol > start && eol[-1] == '\r' ? eol - 1 : eol;
            if (memchr(start, '\r', (size_t)(e - start))) {
                refuse(out, 400, "bad_request", BARE_CR);
                return;
            }
            if (!request_line_ok(start, e)) {
                refuse(out, 400, "bad_request",
                       "the request line is not METHOD SP target SP HTTP/x.y (RFC 9112 3)");
                return;
            }
        }
        line = eol + 1;
    }
    while (line < end) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        size_t n = (size_t)(eol - line);
        bool crlf = n > 0 && line[n - 1] == '\r';
        if (crlf)
            n--;
        if (memchr(line, '\r', n)) {
            refuse(out, 400, "bad_request", BARE_CR);
            return;
        }
        s.lines += n > 0;
        if (n > 0 && !header_line(line, n, crlf, out, &s)) {
            out->head_len = partial ? len : out->head_len;
            return;
        }
        if (n == 0 && !crlf && eol + 1 == end)
            s.plain = false; /* the blank line is a bare LF */
        line = eol + 1;
    }
    if (partial) {
        /* Nothing wrong so far. A head that fills all that could be peeked is too big for enoki:
         * libmicrohttpd reads it, and answers 431 or 414. */
        out->verdict = full ? GW_H1_LIBRARY : GW_H1_INCOMPLETE;
        out->head_len = 0;
        clear_upgrade_fields(out);
        return;
    }
    const char *first_eol = memchr(buf, '\n', out->head_len);
    if (is_upgrade(buf, first_eol, limits->websocket_path, &s)) {
        out->kind = GW_H1_WEBSOCKET;
        /* "GET " then the target, up to the space before the version (or the line's end). */
        out->target = buf + 4;
        const char *target_end = out->target;
        while (target_end < first_eol && *target_end != ' ' && *target_end != '\r')
            target_end++;
        out->target_len = (size_t)(target_end - out->target);
        /* What libwebsockets would refuse by closing without a word (RFC 6455 4.2.1 wants an
         * answer): the sniffer answers it. */
        if (limits->websocket_head_max && out->head_len > limits->websocket_head_max) {
            snprintf(out->text, sizeof(out->text),
                     "a websocket handshake's head may be at most %zu bytes (GATEWAY.max_header "
                     "when enoki started)",
                     limits->websocket_head_max);
            refuse(out, 431, "header_too_large", out->text);
        } else if (s.lines + query_params(out->target, out->target_len) > GW_H1_WEBSOCKET_LINES) {
            /* lws keeps a header line and a query parameter in one table of about a hundred. */
            snprintf(out->text, sizeof(out->text),
                     "a websocket handshake may have at most %d header lines and query parameters",
                     GW_H1_WEBSOCKET_LINES);
            refuse(out, 431, "header_too_large", out->text);
        } else if (!http11(buf, first_eol)) {
            refuse(out, 400, "bad_request", "a websocket handshake is an HTTP/1.1 request");
        } else if (!s.connection_upgrade) {
            refuse(out, 400, "bad_request",
                   "a websocket handshake says Connection: Upgrade (RFC 6455 4.2.1)");
        } else if (!s.host_seen) {
            refuse(out, 400, "bad_request", "a websocket handshake needs a Host header");
        } else if (s.hosts > 1) {
            refuse(out, 400, "bad_request", "a websocket handshake has one Host header");
        } else if (!s.version_ok) {
            out->refusal.header_name = "Sec-WebSocket-Version";
            out->refusal.header_value = "13, 8";
            refuse(out, 426, "upgrade_required",
                   "this hub speaks websocket version 13 (or 8): send Sec-WebSocket-Version: 13");
        } else if (!s.key_ok) {
            refuse(out, 400, "bad_request",
                   "Sec-WebSocket-Key must be 16 bytes in base64 (RFC 6455 4.2.1)");
        } else {
            out->verdict = GW_H1_LIBRARY;
        }
        return;
    }
    clear_upgrade_fields(out);
    check_framing(&s, limits, out);
    if (out->verdict == GW_H1_REFUSE)
        return;
    out->content_length = s.content_lengths ? (size_t)s.length : 0;
    out->plain = s.plain && out->method && out->head_len <= limits->max_head;
    bool fast = out->plain && out->head_len + out->content_length <= limits->fast_max &&
                out->head_len + out->content_length <= len;
    out->verdict = fast ? GW_H1_FAST : GW_H1_LIBRARY;
}
