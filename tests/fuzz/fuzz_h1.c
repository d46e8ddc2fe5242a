/* fuzz_h1 - libFuzzer harness for gateway/h1_parse: gw_h1_scan, the one pass over a request head
 * that says who reads the request (enoki's own reader: FAST; libmicrohttpd: LIBRARY; nobody, enoki
 * answers: REFUSE), and which must never call FAST what libmicrohttpd should see.
 *
 * The input is the bytes a connection could hold, as they are. Each is scanned from an exact-length
 * heap copy (AddressSanitizer sees any read past it) under a few limits (max_head, max_body,
 * fast_max): the configuration's defaults with the reader's buffer, none, small ones, and ones
 * derived from the input; without a hub (the websocket side is fuzz_sniff's). For every verdict:
 *   - the kind is HTTP; REFUSE has 0 < head_len <= len and a status, error and message;
 *     INCOMPLETE has head_len 0 and no NUL anywhere; a complete head has no NUL in it;
 *   - a full peek changes only INCOMPLETE, into LIBRARY;
 *   - over the prefixes of the buffer (a sample of them): INCOMPLETE until a final verdict and
 * never after it, once REFUSE always REFUSE, FAST only when head_len + content_length <= len and
 * then FAST for good with the same request; a FAST buffer's prefixes are INCOMPLETE until the head
 *     ends, LIBRARY (plain, the same head) while the body arrives;
 * and on FAST:
 *   - head_len + content_length <= len, head_len <= max_head, content_length <= max_body, both
 *     together <= fast_max;
 *   - the head is exactly "METHOD SP /target SP HTTP/1.1 CRLF", then each header as
 *     "name:" OWS value CRLF, then CRLF, with the method one of the five, every name a non-empty
 *     token, every value without OWS at either end nor a control byte, every pointer inside buf;
 *   - the first CRLF CRLF of the buffer ends the head, and every LF in it follows a CR;
 *   - framing: no Transfer-Encoding, Expect or Upgrade, at most one Content-Length whose value is
 *     the digits of content_length, Connection lists only close and keep-alive, close is set iff
 *     one is close;
 *   - the same buffer with bytes after it (a pipelined request) gives the same request;
 *   - the limits are exact: FAST under the request's own sizes; LIBRARY under one byte less of
 *     head or of fast_max, REFUSE (413) under one byte less of body.
 */
#include "fuzz_util.h"

#include "gateway/h1_parse.h"
#include "gateway/http_fast.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The configuration's defaults (core/config.c): max_header 16 KiB, max_body 1 MiB. */
enum { DEFAULT_HEAD = 16 << 10, DEFAULT_BODY = 1 << 20 };

/* At most this many prefixes are scanned per input and limits (all of them for short inputs). */
enum { PREFIX_SAMPLES = 48 };

static const char *moved(const char *p, const char *from, const char *to)
{
    return p ? to + (p - from) : NULL;
}

static void scan_copy(const char *data, size_t len, bool full, const struct gw_h1_limits *limits,
                      struct gw_h1_head *out)
{
    char *copy = fuzz_copy(data, len);
    gw_h1_scan(copy, len, full, limits, out);
    /* The copy is freed here: the result's pointers move to the same offsets in data. */
    out->method = moved(out->method, copy, data);
    out->target = moved(out->target, copy, data);
    for (size_t i = 0; i < out->n_fields; i++) {
        out->fields[i].name = moved(out->fields[i].name, copy, data);
        out->fields[i].value = moved(out->fields[i].value, copy, data);
    }
    out->origin = moved(out->origin, copy, data);
    out->host = moved(out->host, copy, data);
    free(copy);
}

static bool is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool named(const struct gw_h1_field *f, const char *name)
{
    return f->name_len == strlen(name) && strncasecmp(f->name, name, f->name_len) == 0;
}

static bool inside(const char *p, size_t n, const char *buf, size_t len)
{
    return p >= buf && p <= buf + len && n <= (size_t)(buf + len - p);
}

/* Whether a Connection value names "close"; every option must be close or keep-alive. */
static bool connection_says_close(const char *v, size_t len)
{
    bool close = false;
    size_t i = 0;
    while (i < len) {
        if (v[i] == ',' || v[i] == ' ' || v[i] == '\t') {
            i++;
            continue;
        }
        size_t start = i;
        while (i < len && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
            i++;
        size_t n = i - start;
        if (n == 5 && strncasecmp(v + start, "close", 5) == 0)
            close = true;
        else
            FUZZ_ASSERT(n == 10 && strncasecmp(v + start, "keep-alive", 10) == 0);
    }
    return close;
}

/* What holds for every verdict on buf[0..len). */
static void check_any(const char *buf, size_t len, const struct gw_h1_head *h)
{
    FUZZ_ASSERT(h->kind == GW_H1_HTTP); /* no hub */
    FUZZ_ASSERT(h->head_len <= len);
    switch (h->verdict) {
    case GW_H1_REFUSE:
        FUZZ_ASSERT(h->head_len > 0);
        FUZZ_ASSERT(h->refusal.status == 400 || h->refusal.status == 413 ||
                    h->refusal.status == 501);
        FUZZ_ASSERT(h->refusal.error && h->refusal.message && *h->refusal.message);
        FUZZ_ASSERT(!h->refusal.header_name);
        FUZZ_ASSERT(!h->plain);
        break;
    case GW_H1_INCOMPLETE:
        FUZZ_ASSERT(h->head_len == 0 && !h->plain);
        FUZZ_ASSERT(!memchr(buf, '\0', len));
        break;
    case GW_H1_LIBRARY:
    case GW_H1_FAST:
        /* head_len 0: a full peek without a whole head, and then nothing in it is refused. */
        FUZZ_ASSERT(!memchr(buf, '\0', h->head_len ? h->head_len : len));
        FUZZ_ASSERT(h->head_len > 0 || (h->verdict == GW_H1_LIBRARY && !h->plain));
        FUZZ_ASSERT(h->verdict == GW_H1_LIBRARY || h->plain);
        if (h->head_len > 0) {
            FUZZ_ASSERT(buf[h->head_len - 1] == '\n');
            FUZZ_ASSERT(!h->origin && !h->host);
        }
        break;
    default:
        FUZZ_ASSERT(h->verdict == GW_H1_INCOMPLETE); /* no other verdict */
    }
}

/* Every property of a FAST request r scanned from buf[0..len) under limits. */
static void check_fast(const char *buf, size_t len, const struct gw_h1_limits *limits,
                       const struct gw_h1_head *r)
{
    FUZZ_ASSERT(r->plain);
    FUZZ_ASSERT(r->head_len <= len && r->content_length <= len - r->head_len);
    FUZZ_ASSERT(r->head_len <= limits->max_head);
    FUZZ_ASSERT(r->content_length <= limits->max_body);
    FUZZ_ASSERT(r->head_len + r->content_length <= limits->fast_max);
    FUZZ_ASSERT(r->head_len >= 18); /* "GET / HTTP/1.1\r\n\r\n" */
    FUZZ_ASSERT(memcmp(buf + r->head_len - 4, "\r\n\r\n", 4) == 0);
    for (size_t i = 0; i + 4 < r->head_len; i++)
        FUZZ_ASSERT(memcmp(buf + i, "\r\n\r\n", 4) != 0);
    for (size_t i = 0; i < r->head_len; i++) {
        if (buf[i] == '\n')
            FUZZ_ASSERT(i > 0 && buf[i - 1] == '\r');
        if (buf[i] == '\r')
            FUZZ_ASSERT(i + 1 < r->head_len && buf[i + 1] == '\n');
    }

    /* The request line. */
    static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
    bool plain = false;
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        plain |= r->method_len == strlen(methods[i]) &&
                 memcmp(r->method, methods[i], r->method_len) == 0;
    FUZZ_ASSERT(plain);
    FUZZ_ASSERT(r->method == buf && buf[r->method_len] == ' ');
    FUZZ_ASSERT(r->target == buf + r->method_len + 1);
    FUZZ_ASSERT(r->target_len > 0 && r->target[0] == '/');
    for (size_t i = 0; i < r->target_len; i++)
        FUZZ_ASSERT((unsigned char)r->target[i] > 0x20 && r->target[i] != 0x7f);
    size_t at = r->method_len + 1 + r->target_len;
    FUZZ_ASSERT(at + 11 <= r->head_len && memcmp(buf + at, " HTTP/1.1\r\n", 11) == 0);
    at += 11;

    /* The header lines, in order, covering the head up to the blank line. */
    FUZZ_ASSERT(r->n_fields <= GW_H1_MAX_FIELDS);
    size_t lengths = 0;
    bool close = false;
    for (size_t i = 0; i < r->n_fields; i++) {
        const struct gw_h1_field *f = &r->fields[i];
        FUZZ_ASSERT(f->name_len > 0);
        FUZZ_ASSERT(inside(f->name, f->name_len, buf, r->head_len));
        FUZZ_ASSERT(inside(f->value, f->value_len, buf, r->head_len));
        FUZZ_ASSERT(f->name == buf + at);
        for (size_t k = 0; k < f->name_len; k++)
            FUZZ_ASSERT(is_tchar((unsigned char)f->name[k]));
        FUZZ_ASSERT(f->name[f->name_len] == ':');
        for (const char *ows = f->name + f->name_len + 1; ows < f->value; ows++)
            FUZZ_ASSERT(*ows == ' ' || *ows == '\t');
        FUZZ_ASSERT(f->value >= f->name + f->name_len + 1);
        for (size_t k = 0; k < f->value_len; k++) {
            unsigned char c = (unsigned char)f->value[k];
            FUZZ_ASSERT(c == '\t' || (c >= 0x20 && c != 0x7f));
        }
        if (f->value_len > 0) {
            FUZZ_ASSERT(f->value[0] != ' ' && f->value[0] != '\t');
            FUZZ_ASSERT(f->value[f->value_len - 1] != ' ' && f->value[f->value_len - 1] != '\t');
        }
        FUZZ_ASSERT(memcmp(f->value + f->value_len, "\r\n", 2) == 0);
        at = (size_t)(f->value + f->value_len + 2 - buf);

        FUZZ_ASSERT(!named(f, "Transfer-Encoding") && !named(f, "Expect") && !named(f, "Upgrade"));
        if (named(f, "Content-Length")) {
            FUZZ_ASSERT(++lengths == 1);
            FUZZ_ASSERT(f->value_len >= 1 && f->value_len <= 15);
            size_t n = 0;
            for (size_t k = 0; k < f->value_len; k++) {
                FUZZ_ASSERT(f->value[k] >= '0' && f->value[k] <= '9');
                n = n * 10 + (size_t)(f->value[k] - '0');
            }
            FUZZ_ASSERT(n == r->content_length);
        }
        if (named(f, "Connection"))
            close |= connection_says_close(f->value, f->value_len);
    }
    FUZZ_ASSERT(at + 2 == r->head_len);
    if (lengths == 0)
        FUZZ_ASSERT(r->content_length == 0);
    FUZZ_ASSERT(r->close == close);
}

static bool same_request(const struct gw_h1_head *a, const struct gw_h1_head *b)
{
    return a->method == b->method && a->method_len == b->method_len && a->target == b->target &&
           a->target_len == b->target_len && a->n_fields == b->n_fields &&
           a->head_len == b->head_len && a->content_length == b->content_length &&
           a->close == b->close &&
           memcmp(a->fields, b->fields, a->n_fields * sizeof(a->fields[0])) == 0;
}

/* A sample of buf's prefixes, against the verdict r on all of buf (see the top of the file). */
static void check_prefixes(const char *buf, size_t len, const struct gw_h1_limits *limits,
                           const struct gw_h1_head *r)
{
    bool fast = r->verdict == GW_H1_FAST;
    size_t total = fast ? r->head_len + r->content_length : len + 1;
    size_t step = len <= PREFIX_SAMPLES ? 1 : len / PREFIX_SAMPLES;
    bool final = false, refused = false;
    struct gw_h1_head p;
    for (size_t n = 0; n < len; n += step) {
        /* And, for a FAST request, just around the ends of its head and of its body. */
        size_t cuts[] = {n, r->head_len - 1, r->head_len, total - 1, total, total + 1};
        size_t n_cuts = n == 0 && fast ? 6 : 1;
        for (size_t c = 0; c < n_cuts; c++) {
            size_t m = cuts[c];
            if (m >= len)
                continue;
            scan_copy(buf, m, false, limits, &p);
            check_any(buf, m, &p);
            if (fast) {
                if (m < r->head_len) {
                    FUZZ_ASSERT(p.verdict == GW_H1_INCOMPLETE);
                } else if (m < total) {
                    /* The head is all here, the body is arriving. */
                    FUZZ_ASSERT(p.verdict == GW_H1_LIBRARY && p.plain);
                    FUZZ_ASSERT(p.head_len == r->head_len);
                    FUZZ_ASSERT(p.content_length == r->content_length);
                } else {
                    FUZZ_ASSERT(p.verdict == GW_H1_FAST && same_request(&p, r));
                }
                continue;
            }
            /* A request FAST in a prefix would be FAST in the whole buffer. */
            FUZZ_ASSERT(p.verdict != GW_H1_FAST);
            if (c != 0)
                continue;
            /* In order: INCOMPLETE until a final verdict, and once refused, refused. */
            if (final)
                FUZZ_ASSERT(p.verdict != GW_H1_INCOMPLETE);
            if (refused)
                FUZZ_ASSERT(p.verdict == GW_H1_REFUSE);
            final |= p.verdict != GW_H1_INCOMPLETE;
            refused |= p.verdict == GW_H1_REFUSE;
        }
    }
    if (final)
        FUZZ_ASSERT(r->verdict != GW_H1_INCOMPLETE);
    if (refused)
        FUZZ_ASSERT(r->verdict == GW_H1_REFUSE);
}

static void check(const char *data, size_t len, const struct gw_h1_limits *limits)
{
    struct gw_h1_head r;
    scan_copy(data, len, false, limits, &r);
    check_any(data, len, &r);

    /* A full peek only turns INCOMPLETE into LIBRARY. */
    struct gw_h1_head full;
    scan_copy(data, len, true, limits, &full);
    check_any(data, len, &full);
    if (r.verdict == GW_H1_INCOMPLETE) {
        FUZZ_ASSERT(full.verdict == GW_H1_LIBRARY && full.head_len == 0);
    } else {
        FUZZ_ASSERT(full.verdict == r.verdict && full.head_len == r.head_len);
        FUZZ_ASSERT(full.refusal.status == r.refusal.status);
    }

    check_prefixes(data, len, limits, &r);
    if (r.verdict != GW_H1_FAST)
        return;
    check_fast(data, len, limits, &r);

    /* Pipelining: what follows the request changes nothing about it. */
    const struct fuzz_slice tails[] = {
        {"\0", 1}, {"\r\n", 2}, {"\n\n\r", 3}, {"GET /", 5}, {data, len}, /* itself again */
    };
    for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
        const char *tail = tails[i].p;
        size_t tail_len = tails[i].n;
        char *more = malloc(len + tail_len);
        if (!more)
            abort();
        memcpy(more, data, len);
        memcpy(more + len, tail, tail_len);
        struct gw_h1_head longer;
        scan_copy(more, len + tail_len, false, limits, &longer);
        FUZZ_ASSERT(longer.verdict == GW_H1_FAST);
        /* Pointers into more, offsets as in data. */
        FUZZ_ASSERT(longer.head_len == r.head_len && longer.content_length == r.content_length);
        FUZZ_ASSERT(longer.n_fields == r.n_fields && longer.close == r.close);
        FUZZ_ASSERT(longer.target - more == r.target - data && longer.target_len == r.target_len);
        for (size_t k = 0; k < r.n_fields; k++) {
            FUZZ_ASSERT(longer.fields[k].name - more == r.fields[k].name - data);
            FUZZ_ASSERT(longer.fields[k].value - more == r.fields[k].value - data);
            FUZZ_ASSERT(longer.fields[k].value_len == r.fields[k].value_len);
        }
        free(more);
    }

    /* The limits are exact. */
    struct gw_h1_head again;
    struct gw_h1_limits exact = {.max_head = r.head_len,
                                 .max_body = r.content_length,
                                 .fast_max = r.head_len + r.content_length};
    scan_copy(data, len, false, &exact, &again);
    FUZZ_ASSERT(again.verdict == GW_H1_FAST && same_request(&again, &r));
    struct gw_h1_limits less = exact;
    less.max_head--;
    scan_copy(data, len, false, &less, &again);
    FUZZ_ASSERT(again.verdict == GW_H1_LIBRARY && !again.plain);
    less = exact;
    less.fast_max--;
    scan_copy(data, len, false, &less, &again);
    FUZZ_ASSERT(again.verdict == GW_H1_LIBRARY && again.plain);
    if (r.content_length > 0) {
        less = exact;
        less.max_body--;
        scan_copy(data, len, false, &less, &again);
        FUZZ_ASSERT(again.verdict == GW_H1_REFUSE && again.refusal.status == 413);
        FUZZ_ASSERT(again.head_len == r.head_len);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const struct gw_h1_limits limits[] = {
        {.max_head = DEFAULT_HEAD, .max_body = DEFAULT_BODY, .fast_max = GW_FAST_MAX},
        {.max_head = SIZE_MAX, .max_body = SIZE_MAX, .fast_max = SIZE_MAX},
        {.max_head = 48, .max_body = 4, .fast_max = 64},
        {.max_head = size / 2, .max_body = size / 8, .fast_max = size - size / 4},
    };
    for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
        check(text, size, &limits[i]);
    return 0;
}
