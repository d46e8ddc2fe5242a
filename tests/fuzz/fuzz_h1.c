/* fuzz_h1 - libFuzzer harness for core/h1: the strict HTTP/1.1 request-head parser of enoki's own
 * read path (gateway/http.c, fast_read), which must never call READY what libmicrohttpd should see.
 *
 * The input is the bytes a connection could hold, as they are. Each is parsed from an exact-length
 * heap copy (AddressSanitizer sees any read past it) under a few (max_head, max_body) limits: the
 * configuration's defaults, none, small ones, and ones derived from the input. For every status:
 *   - growing the buffer byte by byte gives INCOMPLETE, then READY for good, or never READY
 *     (checked on a sample of prefixes), and once PASS, PASS for every longer prefix;
 * and on READY:
 *   - head_len + content_length <= len, head_len <= max_head, content_length <= max_body;
 *   - the head is exactly "METHOD SP /target SP HTTP/1.1 CRLF", then each header as
 *     "name:" OWS value CRLF, then CRLF, with the method one of the five, every name a non-empty
 *     token, every value without OWS at either end nor a control byte, every pointer inside buf;
 *   - the first CRLF CRLF of the buffer ends the head: buf[head_len-4..head_len) is "\r\n\r\n";
 *   - framing: no Transfer-Encoding, Expect or Upgrade, at most one Content-Length whose value is
 *     the digits of content_length, Connection lists only close and keep-alive, close is set iff
 *     one is close;
 *   - the same buffer with bytes after it (a pipelined request) gives the same request;
 *   - the limits are exact: READY under (head_len, content_length), PASS under one byte less.
 */
#include "fuzz_util.h"

#include "core/h1.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The configuration's defaults (core/config.c): max_header 16 KiB, max_body 1 MiB. */
enum { DEFAULT_HEAD = 16 << 10, DEFAULT_BODY = 1 << 20 };

/* At most this many prefixes are parsed per input and limits (all of them for short inputs). */
enum { PREFIX_SAMPLES = 48 };

static enum gw_h1_status parse_copy(const char *data, size_t len, size_t max_head, size_t max_body,
                                    struct gw_h1_request *out)
{
    char *copy = fuzz_copy(data, len);
    enum gw_h1_status status = gw_h1_parse(copy, len, max_head, max_body, out);
    /* The copy is freed here: a READY request's pointers move to the same offsets in data. */
    if (status == GW_H1_READY) {
        out->method = data + (out->method - copy);
        out->target = data + (out->target - copy);
        for (size_t i = 0; i < out->n_headers; i++) {
            out->headers[i].name = data + (out->headers[i].name - copy);
            out->headers[i].value = data + (out->headers[i].value - copy);
        }
    }
    free(copy);
    return status;
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

/* Every property of a READY request r parsed from buf[0..len) under the limits. */
static void check_ready(const char *buf, size_t len, size_t max_head, size_t max_body,
                        const struct gw_h1_request *r)
{
    FUZZ_ASSERT(r->head_len <= len && r->content_length <= len - r->head_len);
    FUZZ_ASSERT(r->head_len <= max_head);
    FUZZ_ASSERT(r->content_length <= max_body);
    FUZZ_ASSERT(r->head_len >= 18); /* "GET / HTTP/1.1\r\n\r\n" */
    FUZZ_ASSERT(memcmp(buf + r->head_len - 4, "\r\n\r\n", 4) == 0);
    for (size_t i = 0; i + 4 < r->head_len; i++)
        FUZZ_ASSERT(memcmp(buf + i, "\r\n\r\n", 4) != 0);

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
    FUZZ_ASSERT(r->n_headers <= GW_H1_MAX_HEADERS);
    size_t lengths = 0;
    bool close = false;
    for (size_t i = 0; i < r->n_headers; i++) {
        const struct gw_h1_field *f = &r->headers[i];
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

static bool same_request(const struct gw_h1_request *a, const struct gw_h1_request *b)
{
    return a->method == b->method && a->method_len == b->method_len && a->target == b->target &&
           a->target_len == b->target_len && a->n_headers == b->n_headers &&
           a->head_len == b->head_len && a->content_length == b->content_length &&
           a->close == b->close &&
           memcmp(a->headers, b->headers, a->n_headers * sizeof(a->headers[0])) == 0;
}

/* A sample of buf's prefixes, against the status of all of buf (see the top of the file). */
static void check_prefixes(const char *buf, size_t len, size_t max_head, size_t max_body,
                           enum gw_h1_status status, const struct gw_h1_request *r)
{
    size_t total = status == GW_H1_READY ? r->head_len + r->content_length : len + 1;
    size_t step = len <= PREFIX_SAMPLES ? 1 : len / PREFIX_SAMPLES;
    bool passed = false;
    struct gw_h1_request p;
    for (size_t n = 0; n < len; n += step) {
        /* And, for a READY request, just around its end, where the status turns. */
        size_t cuts[] = {n, total - 1, total, total + 1};
        size_t n_cuts = n == 0 && status == GW_H1_READY ? 4 : 1;
        for (size_t c = 0; c < n_cuts; c++) {
            size_t m = cuts[c];
            if (m >= len)
                continue;
            enum gw_h1_status s = parse_copy(buf, m, max_head, max_body, &p);
            if (status == GW_H1_READY) {
                /* Shorter than the request: incomplete; with all of it: the same request. */
                FUZZ_ASSERT(s == (m < total ? GW_H1_INCOMPLETE : GW_H1_READY));
                if (s == GW_H1_READY)
                    FUZZ_ASSERT(same_request(&p, r));
            } else {
                /* A request READY in a prefix would be READY in the whole buffer. */
                FUZZ_ASSERT(s != GW_H1_READY);
                /* Once passed, passed. */
                FUZZ_ASSERT(status == GW_H1_PASS || s == GW_H1_INCOMPLETE);
                if (passed)
                    FUZZ_ASSERT(s == GW_H1_PASS);
                passed |= c == 0 && s == GW_H1_PASS;
            }
        }
    }
}

static void check(const char *data, size_t len, size_t max_head, size_t max_body)
{
    struct gw_h1_request r;
    enum gw_h1_status status = parse_copy(data, len, max_head, max_body, &r);
    FUZZ_ASSERT(status == GW_H1_READY || status == GW_H1_INCOMPLETE || status == GW_H1_PASS);
    check_prefixes(data, len, max_head, max_body, status, &r);
    if (status != GW_H1_READY)
        return;
    check_ready(data, len, max_head, max_body, &r);

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
        struct gw_h1_request longer;
        FUZZ_ASSERT(parse_copy(more, len + tail_len, max_head, max_body, &longer) == GW_H1_READY);
        /* Pointers into more, offsets as in data. */
        FUZZ_ASSERT(longer.head_len == r.head_len && longer.content_length == r.content_length);
        FUZZ_ASSERT(longer.n_headers == r.n_headers && longer.close == r.close);
        FUZZ_ASSERT(longer.target - more == r.target - data && longer.target_len == r.target_len);
        for (size_t k = 0; k < r.n_headers; k++) {
            FUZZ_ASSERT(longer.headers[k].name - more == r.headers[k].name - data);
            FUZZ_ASSERT(longer.headers[k].value - more == r.headers[k].value - data);
            FUZZ_ASSERT(longer.headers[k].value_len == r.headers[k].value_len);
        }
        free(more);
    }

    /* The limits are exact. */
    struct gw_h1_request again;
    FUZZ_ASSERT(parse_copy(data, len, r.head_len, r.content_length, &again) == GW_H1_READY);
    FUZZ_ASSERT(same_request(&again, &r));
    FUZZ_ASSERT(parse_copy(data, len, r.head_len - 1, max_body, &again) == GW_H1_PASS);
    if (r.content_length > 0)
        FUZZ_ASSERT(parse_copy(data, len, max_head, r.content_length - 1, &again) == GW_H1_PASS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    check(text, size, DEFAULT_HEAD, DEFAULT_BODY);
    check(text, size, SIZE_MAX, SIZE_MAX);
    check(text, size, 48, 4);
    check(text, size, size / 2, size / 8);
    return 0;
}
