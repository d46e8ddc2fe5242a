/* fuzz_sniff - libFuzzer harness for the sniffer's side of gateway/h1_parse (gw_h1_scan with a
 * hub, as gateway/sniff.c runs it on a connection's first bytes) and for gateway/h1_write, the
 * writer of the heads enoki answers with.
 *
 * The input is the bytes a connection could hold. Each is scanned from an exact-length heap copy
 * under the configuration's limits with a hub at "/ws" and at "/hub/socket", and without a hub:
 *   - a verdict on a complete head is WEBSOCKET exactly when the buffer starts with
 *     "GET <path>" followed by ' ' or '?', and a header line of the head is "Upgrade:" OWS
 *     "websocket" (any case, nothing after it), as a walk over the lines written here finds them;
 *     such a head is never FAST, and its refusals are 426 (with Sec-WebSocket-Version: 13, 8), a
 *     bad key, a handshake libwebsockets would drop (400) or a head it cannot hold (431);
 *   - REFUSE has 0 < head_len <= len; a NUL within head_len (or anywhere, while the head has not
 *     all come) is always refused, and so are a CR that ends no line and a request line that is
 *     not method SP target SP HTTP/x.y, once their lines are complete;
 *   - Origin and Host point inside the buffer; for an upgrade they are the first such line's value
 *     without OWS, or NULL when there is none;
 *   - without a hub the verdict is the same, but never WEBSOCKET nor an upgrade's refusal;
 *   - over a sample of prefixes: once the head is complete its kind and head_len stay.
 * Then response fields are built from the input (its lines split at ':', and raw slices with CR
 * and LF in names and values) and filtered by gw_h1_fields_add; the head gw_h1_write_head makes of
 * them must be a status line, field lines "name: value" with no CR or LF inside a line, the blank
 * line only at its end, one Date, one Content-Length unless the status has no body, at most one
 * Connection and Transfer-Encoding, and "Connection: close" when asked to close without one.
 */
#include "fuzz_util.h"

#include "core/strbuf.h"
#include "gateway/h1_parse.h"
#include "gateway/h1_write.h"
#include "gateway/http_fast.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The configuration's defaults (core/config.c): max_header 16 KiB, max_body 1 MiB. */
enum { DEFAULT_HEAD = 16 << 10, DEFAULT_BODY = 1 << 20 };

/* At most this many prefixes are scanned per input and limits. */
enum { PREFIX_SAMPLES = 16 };

static const char *moved(const char *p, const char *from, const char *to)
{
    return p ? to + (p - from) : NULL;
}

/* Scans an exact-length copy; the pointers checked here move back into data. */
static void scan_copy(const char *data, size_t len, bool full, const struct gw_h1_limits *limits,
                      struct gw_h1_head *out)
{
    char *copy = fuzz_copy(data, len);
    gw_h1_scan(copy, len, full, limits, out);
    /* Inside the copy, then moved. */
    if (out->origin)
        FUZZ_ASSERT(out->origin >= copy && out->origin_len <= (size_t)(copy + len - out->origin));
    if (out->host)
        FUZZ_ASSERT(out->host >= copy && out->host_len <= (size_t)(copy + len - out->host));
    if (out->authorization)
        FUZZ_ASSERT(out->authorization >= copy &&
                    out->authorization_len <= (size_t)(copy + len - out->authorization));
    if (out->cookie)
        FUZZ_ASSERT(out->cookie >= copy && out->cookie_len <= (size_t)(copy + len - out->cookie));
    if (out->target)
        FUZZ_ASSERT(out->target >= copy && out->target_len <= (size_t)(copy + len - out->target));
    out->origin = moved(out->origin, copy, data);
    out->host = moved(out->host, copy, data);
    out->authorization = moved(out->authorization, copy, data);
    out->cookie = moved(out->cookie, copy, data);
    out->method = moved(out->method, copy, data);
    out->target = moved(out->target, copy, data);
    free(copy);
}

/* Where the request line starts: after the empty lines (CRLF or a bare LF; a CR alone is none). */
static size_t line_start(const char *buf, size_t len)
{
    size_t i = 0;
    for (;;) {
        if (i < len && buf[i] == '\n')
            i++;
        else if (i + 1 < len && buf[i] == '\r' && buf[i + 1] == '\n')
            i += 2;
        else
            return i;
    }
}

/* The end of the head (after its blank line, CRLF or bare LF) once the empty lines before it are
 * skipped, or 0 when it has not all come: written apart from gateway/h1_parse.c. */
static size_t head_end(const char *buf, size_t len)
{
    for (size_t i = line_start(buf, len); i < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (i + 1 < len && buf[i + 1] == '\n')
            return i + 2;
        if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* The value of header line [line, eol) if its name is name (any case): one CR before the LF is
 * the line end, OWS is not the value's. */
static bool line_value(const char *line, const char *eol, const char *name, const char **v,
                       size_t *vlen)
{
    if (eol > line && eol[-1] == '\r')
        eol--;
    size_t n = strlen(name);
    if ((size_t)(eol - line) <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
        return false;
    const char *s = line + n + 1, *e = eol;
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *v = s;
    *vlen = (size_t)(e - s);
    return true;
}

/* What the head buf[0..end) holds, found by a walk over its lines. */
struct seen {
    bool upgrade; /* "GET <path>[ ?]" with an Upgrade: websocket line */
    const char *origin, *host, *authorization, *cookie; /* the first of each; NULL when empty */
    size_t origin_len, host_len, authorization_len, cookie_len;
    bool origin_seen, host_seen, authorization_seen, cookie_seen;
    const char *target; /* after "GET ", up to a space or the line's end */
    size_t target_len;
};

/* The first line named name: its value (NULL when empty) into *v, *vlen; *seen once found. */
static void first_value(const char *line, const char *next, const char *name, bool *seen,
                        const char **v, size_t *vlen)
{
    const char *value;
    size_t n;
    if (*seen || !line_value(line, next, name, &value, &n))
        return;
    *seen = true;
    *v = n ? value : NULL;
    *vlen = n;
}

static void walk(const char *buf, size_t end, const char *path, struct seen *s)
{
    memset(s, 0, sizeof(*s));
    const char *eol = memchr(buf, '\n', end);
    size_t plen = path ? strlen(path) : 0;
    bool target = path && eol && (size_t)(eol - buf) > 4 + plen && memcmp(buf, "GET ", 4) == 0 &&
                  memcmp(buf + 4, path, plen) == 0 &&
                  (buf[4 + plen] == ' ' || buf[4 + plen] == '?');
    bool upgrade_line = false;
    for (const char *line = eol ? eol + 1 : buf + end; line < buf + end;) {
        const char *next = memchr(line, '\n', (size_t)(buf + end - line));
        const char *v;
        size_t vlen;
        /* Exactly websocket, blanks after it not allowed (libwebsockets compares it as sent). */
        const char *line_end = next > line && next[-1] == '\r' ? next - 1 : next;
        if (line_value(line, next, "Upgrade", &v, &vlen) && vlen == 9 &&
            strncasecmp(v, "websocket", 9) == 0 && v + vlen == line_end)
            upgrade_line = true;
        first_value(line, next, "Origin", &s->origin_seen, &s->origin, &s->origin_len);
        first_value(line, next, "Host", &s->host_seen, &s->host, &s->host_len);
        first_value(line, next, "Authorization", &s->authorization_seen, &s->authorization,
                    &s->authorization_len);
        first_value(line, next, "Cookie", &s->cookie_seen, &s->cookie, &s->cookie_len);
        line = next + 1;
    }
    s->upgrade = target && upgrade_line;
    if (target) {
        s->target = buf + 4;
        while (s->target + s->target_len < eol && s->target[s->target_len] != ' ' &&
               s->target[s->target_len] != '\r')
            s->target_len++;
    }
}

static bool is_upgrade_refusal(const struct gw_h1_head *h)
{
    /* The version, the key, and what libwebsockets would close on without a word: an HTTP/1.0
     * handshake, no Connection: Upgrade, no Host or two (400), a head it cannot hold (431). */
    return h->refusal.status == 426 ||
           (h->refusal.status == 400 &&
            (strstr(h->refusal.message, "Sec-WebSocket-Key") != NULL ||
             strstr(h->refusal.message, "websocket handshake") != NULL)) ||
           (h->refusal.status == 431 && strstr(h->refusal.message, "websocket handshake") != NULL);
}

static bool tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* What a head that is not refused holds in its complete lines (up to the last LF of buf[0..n)):
 * no CR but one right before an LF, and a request line of one token, one space, visible bytes,
 * one space and HTTP/<digit>.<digit>. */
static void check_lines(const char *buf, size_t n)
{
    const char *last = NULL;
    for (size_t i = 0; i < n; i++)
        if (buf[i] == '\n')
            last = buf + i;
    if (!last)
        return;
    for (const char *p = buf; p < last; p++)
        if (*p == '\r')
            FUZZ_ASSERT(p[1] == '\n');
    const char *line = buf + line_start(buf, n);
    const char *eol = memchr(line, '\n', (size_t)(buf + n - line));
    if (!eol)
        return;
    if (eol > line && eol[-1] == '\r')
        eol--;
    const char *p = line;
    while (p < eol && tchar(*p))
        p++;
    FUZZ_ASSERT(p > line && p < eol && *p == ' ');
    const char *target = ++p;
    while (p < eol && (unsigned char)*p > ' ' && *p != 0x7f)
        p++;
    FUZZ_ASSERT(p > target && eol - p == 9 && memcmp(p, " HTTP/", 6) == 0);
    FUZZ_ASSERT(p[6] >= '0' && p[6] <= '9' && p[7] == '.' && p[8] >= '0' && p[8] <= '9');
}

static void check_scan(const char *buf, size_t len, const struct gw_h1_limits *limits)
{
    struct gw_h1_head h;
    scan_copy(buf, len, false, limits, &h);
    FUZZ_ASSERT(h.head_len <= len);
    size_t end = head_end(buf, len);

    if (h.verdict == GW_H1_REFUSE) {
        FUZZ_ASSERT(h.head_len > 0);
        FUZZ_ASSERT(h.refusal.status == 400 || h.refusal.status == 413 || h.refusal.status == 426 ||
                    h.refusal.status == 431 || h.refusal.status == 501);
        FUZZ_ASSERT(h.refusal.error && h.refusal.message);
        FUZZ_ASSERT(h.head_len == (end ? end : len));
        if (h.refusal.status == 426)
            FUZZ_ASSERT(strcmp(h.refusal.header_name, "Sec-WebSocket-Version") == 0 &&
                        strcmp(h.refusal.header_value, "13, 8") == 0);
        else
            FUZZ_ASSERT(!h.refusal.header_name);
    } else {
        /* A NUL in the head, or in what has come of it, is refused. */
        FUZZ_ASSERT(!memchr(buf, '\0', end ? end : len));
        check_lines(buf, end ? end : len);
        FUZZ_ASSERT(h.head_len == (h.verdict == GW_H1_INCOMPLETE ? 0 : end));
        FUZZ_ASSERT((h.verdict == GW_H1_INCOMPLETE) == !end);
    }

    /* Upgrades, against the walk over the lines. */
    struct seen seen;
    if (end) {
        walk(buf, end, limits->websocket_path, &seen);
        bool upgrade_refused = h.verdict == GW_H1_REFUSE && is_upgrade_refusal(&h);
        if (h.kind == GW_H1_WEBSOCKET) {
            FUZZ_ASSERT(seen.upgrade);
            FUZZ_ASSERT(h.verdict == GW_H1_LIBRARY || upgrade_refused);
            FUZZ_ASSERT(!h.plain);
            FUZZ_ASSERT(h.origin == seen.origin && h.origin_len == seen.origin_len);
            FUZZ_ASSERT(h.host == seen.host && h.host_len == seen.host_len);
            FUZZ_ASSERT(h.authorization == seen.authorization &&
                        h.authorization_len == seen.authorization_len);
            FUZZ_ASSERT(h.cookie == seen.cookie && h.cookie_len == seen.cookie_len);
            FUZZ_ASSERT(h.target == seen.target && h.target_len == seen.target_len);
        } else {
            FUZZ_ASSERT(!upgrade_refused);
            if (h.verdict != GW_H1_REFUSE)
                FUZZ_ASSERT(!seen.upgrade);
            if (h.verdict != GW_H1_REFUSE)
                FUZZ_ASSERT(!h.origin && !h.host && !h.authorization && !h.cookie);
        }
    } else {
        FUZZ_ASSERT(h.kind == GW_H1_HTTP);
    }

    /* Without a hub: the same, but no upgrade. */
    struct gw_h1_limits no_hub = *limits;
    no_hub.websocket_path = NULL;
    struct gw_h1_head plain;
    scan_copy(buf, len, false, &no_hub, &plain);
    FUZZ_ASSERT(plain.kind == GW_H1_HTTP);
    FUZZ_ASSERT(!(plain.verdict == GW_H1_REFUSE && is_upgrade_refusal(&plain)));
    if (h.kind == GW_H1_HTTP) {
        FUZZ_ASSERT(plain.verdict == h.verdict && plain.head_len == h.head_len);
        FUZZ_ASSERT(plain.refusal.status == h.refusal.status);
    } else {
        FUZZ_ASSERT(plain.verdict != GW_H1_INCOMPLETE && plain.head_len == h.head_len);
    }

    /* Prefixes: once the head is complete, its kind and head_len stay. */
    if (!end)
        return;
    size_t step = len <= PREFIX_SAMPLES ? 1 : len / PREFIX_SAMPLES;
    for (size_t m = end; m < len; m += step) {
        struct gw_h1_head p;
        scan_copy(buf, m, false, limits, &p);
        FUZZ_ASSERT(p.kind == h.kind && p.head_len == h.head_len);
        FUZZ_ASSERT(p.verdict == h.verdict ||
                    (p.verdict == GW_H1_LIBRARY && p.plain && h.verdict == GW_H1_FAST));
    }
}

/* ---- the writer ----------------------------------------------------------------------------- */

/* The fields some slices of the input make: its lines split at ':' as a handler would give them,
 * and raw slices with whatever CR, LF and spaces they hold. */
static void build_fields(const char *data, size_t size, struct gw_h1_fields *f)
{
    struct fuzz_slice rest = {data, size}, line;
    int lines = 0;
    while (fuzz_next_line(&rest, &line) && lines++ < 32) {
        const char *colon = memchr(line.p, ':', line.n);
        if (!colon)
            continue;
        char *name = fuzz_cstr(line.p, (size_t)(colon - line.p));
        const char *v = colon + 1, *e = line.p + line.n;
        while (v < e && *v == ' ')
            v++;
        if (e > v && e[-1] == '\r')
            e--;
        char *value = fuzz_cstr(v, (size_t)(e - v));
        gw_h1_fields_add(f, name, value);
        free(name);
        free(value);
    }
    if (size < 2)
        return;
    /* Raw: a name and a value cut out of the input where its first bytes say. */
    size_t cut = 1 + (unsigned char)data[0] % (size - 1);
    char *name = fuzz_cstr(data + 1, cut - 1 < 24 ? cut - 1 : 24);
    char *value = fuzz_cstr(data + cut, size - cut);
    gw_h1_fields_add(f, name, value);
    gw_h1_fields_add(f, "Connection", value);
    gw_h1_fields_add(f, "X-Raw", value);
    free(name);
    free(value);
}

static size_t count_lines(const char *head, const char *prefix)
{
    size_t n = 0, plen = strlen(prefix);
    for (const char *p = head; p; p = strstr(p, "\r\n")) {
        if (p != head)
            p += 2;
        if (strncasecmp(p, prefix, plen) == 0)
            n++;
    }
    return n;
}

static void check_write(const char *data, size_t size)
{
    static const int statuses[] = {200, 204, 304, 101, 400, 413, 426, 299, 503, 999};
    int status = statuses[size ? (unsigned char)data[size - 1] % 10 : 0];
    bool close = size > 1 && (data[size - 2] & 1);
    uint64_t length = size * 977;
    struct gw_h1_fields f = {0};
    build_fields(data, size, &f);

    struct gw_strbuf out = {0};
    gw_h1_write_head(&out, status, &f, close, length);
    const char *head = out.data;
    FUZZ_ASSERT(head && strlen(head) == out.len); /* no NUL inside */

    /* The status line. */
    char line[96];
    int n = snprintf(line, sizeof(line), "HTTP/1.1 %d %s\r\n", status, gw_h1_reason(status));
    FUZZ_ASSERT(strncmp(head, line, (size_t)n) == 0);
    /* CR and LF only as line ends; the blank line only at the end. */
    for (size_t i = 0; i < out.len; i++) {
        if (head[i] == '\r')
            FUZZ_ASSERT(i + 1 < out.len && head[i + 1] == '\n');
        if (head[i] == '\n')
            FUZZ_ASSERT(i > 0 && head[i - 1] == '\r');
    }
    const char *blank = strstr(head, "\r\n\r\n");
    FUZZ_ASSERT(blank && blank + 4 == head + out.len);
    /* Every field line is "name: value", the name without whitespace, the value not empty. */
    size_t lines = 0;
    for (const char *p = head + n; p < blank + 2; lines++) {
        const char *eol = strstr(p, "\r\n");
        const char *sep = strstr(p, ": ");
        FUZZ_ASSERT(sep && sep > p && sep + 2 < eol);
        for (const char *c = p; c < sep; c++)
            FUZZ_ASSERT(*c != ' ' && *c != '\t');
        p = eol + 2;
    }
    FUZZ_ASSERT(count_lines(head, "Date: ") == 1);
    bool bodyless = status < 200 || status == 204;
    FUZZ_ASSERT(count_lines(head, "Content-Length: ") == (bodyless ? 0 : 1));
    if (!bodyless) {
        snprintf(line, sizeof(line), "\r\nContent-Length: %llu\r\n\r\n",
                 (unsigned long long)length);
        FUZZ_ASSERT(strstr(head, line) == blank - strlen(line) + 4);
    }
    FUZZ_ASSERT(count_lines(head, "Connection: ") <= 1);
    FUZZ_ASSERT(count_lines(head, "Transfer-Encoding: ") <= 1);
    if (close && !f.has_connection)
        FUZZ_ASSERT(strstr(head, "\r\nConnection: close\r\n"));
    if (f.says_close)
        FUZZ_ASSERT(strstr(head, "\r\nConnection: close"));
    /* One line per field and per line the writer adds. */
    size_t added = (f.has_date ? 0 : 1) + (close && !f.has_connection ? 1 : 0) + (bodyless ? 0 : 1);
    FUZZ_ASSERT(lines == f.n + added);
    free(out.data);
    gw_h1_fields_clear(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const struct gw_h1_limits limits[] = {
        {.max_head = DEFAULT_HEAD,
         .max_body = DEFAULT_BODY,
         .fast_max = GW_FAST_MAX,
         .websocket_path = "/ws"},
        {.max_head = 64, .max_body = 8, .fast_max = 96, .websocket_path = "/hub/socket"},
    };
    for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
        check_scan(text, size, &limits[i]);
    check_write(text, size);
    return 0;
}
