#include "json.h"

#include "py_repr.h"
#include "strbuf.h"
#include "text.h"
#include "utf8.h"
#include "util.h"
#include "xalloc.h"

#include <math.h>
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
    case JSON_STRING:
        d->string(b, json_string_value(v), json_string_length(v), d);
        break;
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

static const struct gw_json_dialect json_python = {", ",   ": ",          "true",      "false",
                                                   "null", encode_string, encode_real, 1};
static const struct gw_json_dialect json_compact = {",",    ":",           "true",      "false",
                                                    "null", encode_string, encode_real, 0};

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

/* Replaces the non-JSON tokens NaN, Infinity and -Infinity found outside strings by null. Returns a
 * new buffer, or NULL when there is nothing to replace (the common case). */
static char *replace_non_finite(const char *text, size_t len, size_t *out_len)
{
    static const char *const tokens[] = {"-Infinity", "Infinity", "NaN"};
    /* Each token holds an 'N' or an 'I': a text with neither (nearly every one) is left as it is
     * without the scan. */
    if (!memchr(text, 'N', len) && !memchr(text, 'I', len))
        return NULL;
    struct gw_strbuf b = {0};
    int in_string = 0;
    size_t copied = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = 0;
            continue;
        }
        if (c == '"') {
            in_string = 1;
            continue;
        }
        for (size_t t = 0; t < ARRAY_LEN(tokens); t++) {
            size_t n = strlen(tokens[t]);
            if (len - i >= n && memcmp(text + i, tokens[t], n) == 0) {
                gw_strbuf_add(&b, text + copied, i - copied);
                gw_strbuf_adds(&b, "null");
                i += n - 1;
                copied = i + 1;
                break;
            }
        }
    }
    if (!b.data)
        return NULL;
    gw_strbuf_add(&b, text + copied, len - copied);
    *out_len = b.len;
    return b.data;
}

json_t *gw_json_decode_lenient(const char *text, size_t len, json_error_t *error)
{
    json_error_t local;
    size_t fixed_len = 0;
    char *fixed = replace_non_finite(text, len, &fixed_len);
    json_t *v =
        gw_json_decode(fixed ? fixed : text, fixed ? fixed_len : len, error ? error : &local);
    free(fixed);
    return v;
}
