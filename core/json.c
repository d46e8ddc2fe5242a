#include "json.h"

#include "py_repr.h"
#include "strbuf.h"
#include "text.h"
#include "utf8.h"
#include "util.h"
#include "xalloc.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void encode_string(struct gw_strbuf *b, const char *s, size_t n,
                          const struct gw_json_dialect *d)
{
    gw_json_write_string(b, s, n, d->ascii_only ? GW_JSON_PYTHON : GW_JSON_COMPACT);
}

void gw_json_write_string(struct gw_strbuf *b, const char *s, size_t n, enum gw_json_style style)
{
    char esc[32];
    gw_strbuf_add(b, "\"", 1);
    size_t i = 0;
    while (i < n) {
        /* The bytes that go out as they are, in one piece. */
        size_t run = i;
        while (run < n) {
            unsigned char r = (unsigned char)s[run];
            if (r == '"' || r == '\\' || r < 0x20 || (style == GW_JSON_PYTHON && r >= 0x7f))
                break;
            run++;
        }
        if (run > i) {
            gw_strbuf_add(b, s + i, run - i);
            i = run;
            continue;
        }
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            gw_strbuf_add(b, esc, 2);
            i++;
        } else if (c < 0x20 || (c == 0x7f && style == GW_JSON_PYTHON)) {
            const char *named = c == '\n'   ? "\\n"
                                : c == '\r' ? "\\r"
                                : c == '\t' ? "\\t"
                                : c == '\b' ? "\\b"
                                : c == '\f' ? "\\f"
                                            : 0;
            if (named) {
                gw_strbuf_adds(b, named);
            } else {
                snprintf(esc, sizeof(esc), "\\u%04x", c);
                gw_strbuf_adds(b, esc);
            }
            i++;
        } else {
            /* Python's ensure_ascii: every non-ASCII code point as \uXXXX, astral ones as a
             * surrogate pair. jansson strings are valid UTF-8, so decoding cannot fail; stay safe.
             */
            unsigned long cp;
            size_t len = gw_utf8_decode(s + i, n - i, &cp);
            if (len == 0) {
                cp = 0xFFFD;
                len = 1;
            }
            if (cp >= 0x10000) {
                unsigned long v = cp - 0x10000;
                snprintf(esc, sizeof(esc), "\\u%04lx\\u%04lx", 0xD800 + (v >> 10),
                         0xDC00 + (v & 0x3FF));
            } else {
                snprintf(esc, sizeof(esc), "\\u%04lx", cp);
            }
            gw_strbuf_adds(b, esc);
            i += len;
        }
    }
    gw_strbuf_add(b, "\"", 1);
}

/* As json.dumps writes a float (float.__repr__); not a number is null (the lenient reader's). */
static void encode_real(struct gw_strbuf *b, double v)
{
    if (isfinite(v))
        gw_python_float(b, v);
    else
        gw_strbuf_adds(b, "null");
}

void gw_json_write(struct gw_strbuf *b, const json_t *v, const struct gw_json_dialect *d)
{
    char text[32];
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *member;
        int first = 1;
        gw_strbuf_add(b, "{", 1);
        json_object_foreach((json_t *)(uintptr_t)v, key, member)
        {
            if (!first)
                gw_strbuf_adds(b, d->item_sep);
            first = 0;
            d->string(b, key, strlen(key), d);
            gw_strbuf_adds(b, d->key_sep);
            gw_json_write(b, member, d);
        }
        gw_strbuf_add(b, "}", 1);
        break;
    }
    case JSON_ARRAY:
        gw_strbuf_add(b, "[", 1);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                gw_strbuf_adds(b, d->item_sep);
            gw_json_write(b, json_array_get(v, i), d);
        }
        gw_strbuf_add(b, "]", 1);
        break;
    case JSON_STRING: {
        size_t n;
        const char *carried = gw_json_carried_text(v, &n);
        if (carried)
            d->carried(b, carried, n);
        else
            d->string(b, json_string_value(v), json_string_length(v), d);
        break;
    }
    case JSON_INTEGER:
        gw_strbuf_add(b, text, gw_fmt_i64(text, json_integer_value(v)));
        break;
    case JSON_REAL:
        d->real(b, json_real_value(v));
        break;
    case JSON_TRUE:
        gw_strbuf_adds(b, d->true_text);
        break;
    case JSON_FALSE:
        gw_strbuf_adds(b, d->false_text);
        break;
    case JSON_NULL:
        gw_strbuf_adds(b, d->null_text);
        break;
    }
}

/* As json.dumps writes the number (NaN, Infinity and -Infinity too). */
static void carried_as_python(struct gw_strbuf *b, const char *text, size_t n)
{
    gw_strbuf_add(b, text, n);
}

/* Strict JSON (RFC 8259) for HTTP clients: NaN and the infinities are null, as a real's are. */
static void carried_as_json(struct gw_strbuf *b, const char *text, size_t n)
{
    if (gw_json_carried_non_finite(text, n))
        gw_strbuf_adds(b, "null");
    else
        gw_strbuf_add(b, text, n);
}

static const struct gw_json_dialect json_python = {
    ", ", ": ", "true", "false", "null", encode_string, encode_real, 1, carried_as_python};
static const struct gw_json_dialect json_compact = {
    ",", ":", "true", "false", "null", encode_string, encode_real, 0, carried_as_json};

enum { CARRIED_MARK = 0xFF };

int gw_json_carried_non_finite(const char *text, size_t n)
{
    return n == 0 || text[n - 1] < '0' || text[n - 1] > '9';
}

json_t *gw_json_carried(const char *text, size_t n)
{
    static const char *const words[] = {"NaN", "Infinity", "-Infinity"};
    bool word = false;
    for (size_t i = 0; i < ARRAY_LEN(words); i++)
        word = word || (strlen(words[i]) == n && memcmp(text, words[i], n) == 0);
    size_t digits = n > 0 && text[0] == '-';
    if (!word) {
        if (digits == n)
            return NULL;
        for (size_t i = digits; i < n; i++)
            if (text[i] < '0' || text[i] > '9')
                return NULL;
    }
    char *s = xmalloc(n + 1);
    s[0] = (char)CARRIED_MARK;
    memcpy(s + 1, text, n);
    json_t *v = json_stringn_nocheck(s, n + 1);
    free(s);
    return v;
}

static bool marked(const char *s)
{
    return (unsigned char)s[0] == CARRIED_MARK;
}

const char *gw_json_text(const json_t *v)
{
    const char *s = json_string_value(v);
    return s && !marked(s) ? s : NULL;
}

const char *gw_json_carried_text(const json_t *v, size_t *n)
{
    const char *s = json_string_value(v);
    if (!s || !marked(s))
        return NULL;
    *n = json_string_length(v) - 1;
    return s + 1;
}

const struct gw_json_dialect *gw_json_dialect_of(enum gw_json_style style)
{
    return style == GW_JSON_PYTHON ? &json_python : &json_compact;
}

char *gw_json_encode(const json_t *value, enum gw_json_style style, size_t *len)
{
    struct gw_strbuf b = {0};
    gw_json_write(&b, value, gw_json_dialect_of(style));
    if (len)
        *len = b.len;
    return gw_strbuf_take(&b);
}
