/* py_repr.c - Python's repr of a decoded JSON value. */
#include "core/py_repr.h"

#include "core/json.h"
#include "core/strbuf.h"
#include "core/utf8.h"
#include "core/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Code points Python's str.isprintable() refuses beyond ASCII: the C1 controls, the separators and
 * the format characters in common use, surrogates and private use. (Unassigned code points, which
 * Python also escapes, would need the whole Unicode table.) */
static int py_printable(unsigned long c)
{
    static const unsigned long ranges[][2] = {
        {0x80, 0xA0},     {0xAD, 0xAD},       {0x600, 0x605},     {0x61C, 0x61C},
        {0x6DD, 0x6DD},   {0x70F, 0x70F},     {0x180E, 0x180E},   {0x1680, 0x1680},
        {0x2000, 0x200F}, {0x2028, 0x202F},   {0x205F, 0x2064},   {0x2066, 0x206F},
        {0x3000, 0x3000}, {0xD800, 0xF8FF},   {0xFEFF, 0xFEFF},   {0xFFF9, 0xFFFB},
        {0xFFFE, 0xFFFF}, {0xE0001, 0xE0001}, {0xE0020, 0xE007F}, {0xF0000, 0x10FFFF},
    };
    for (size_t i = 0; i < ARRAY_LEN(ranges); i++)
        if (c >= ranges[i][0] && c <= ranges[i][1])
            return 0;
    return 1;
}

static void repr_string(struct gw_strbuf *b, const char *s, size_t n)
{
    /* Single quotes, unless the text has one and no double quote (unicode_repr). */
    char quote = memchr(s, '\'', n) && !memchr(s, '"', n) ? '"' : '\'';
    char esc[16];
    gw_strbuf_add(b, &quote, 1);
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            if (c == (unsigned char)quote || c == '\\') {
                esc[0] = '\\';
                esc[1] = (char)c;
                gw_strbuf_add(b, esc, 2);
            } else if (c == '\t' || c == '\n' || c == '\r') {
                gw_strbuf_adds(b, c == '\t' ? "\\t" : c == '\n' ? "\\n" : "\\r");
            } else if (c < 0x20 || c == 0x7f) {
                snprintf(esc, sizeof(esc), "\\x%02x", c);
                gw_strbuf_adds(b, esc);
            } else {
                gw_strbuf_add(b, s + i, 1);
            }
            i++;
            continue;
        }
        /* jansson strings are valid UTF-8; stay safe anyway. */
        unsigned long cp;
        size_t len = gw_utf8_decode(s + i, n - i, &cp);
        if (len == 0) {
            cp = 0xFFFD;
            len = 1;
        }
        if (py_printable(cp))
            gw_strbuf_add(b, s + i, len);
        else {
            snprintf(esc, sizeof(esc),
                     cp <= 0xFF     ? "\\x%02lx"
                     : cp <= 0xFFFF ? "\\u%04lx"
                                    : "\\U%08lx",
                     cp);
            gw_strbuf_adds(b, esc);
        }
        i += len;
    }
    gw_strbuf_add(b, &quote, 1);
}

void gw_python_float(struct gw_strbuf *b, double v)
{
    char text[48];
    if (isnan(v)) {
        gw_strbuf_adds(b, "nan");
        return;
    }
    if (isinf(v)) {
        gw_strbuf_adds(b, v < 0 ? "-inf" : "inf");
        return;
    }
    for (int precision = 0; precision < 17; precision++) {
        snprintf(text, sizeof(text), "%.*e", precision, v);
        if (strtod(text, NULL) == v)
            break;
    }
    /* text is [-]d[.ddd]e[+-]XX */
    const char *p = text;
    if (*p == '-') {
        gw_strbuf_add(b, "-", 1);
        p++;
    }
    char digits[24];
    size_t nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p != '.')
            digits[nd++] = *p;
    int exp = atoi(p + 1);
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    if (exp >= -4 && exp < 16) {
        if (exp >= 0) {
            for (int i = 0; i <= exp; i++)
                gw_strbuf_add(b, (size_t)i < nd ? &digits[i] : "0", 1);
            gw_strbuf_add(b, ".", 1);
            if ((size_t)exp + 1 < nd)
                gw_strbuf_add(b, digits + exp + 1, nd - (size_t)exp - 1);
            else
                gw_strbuf_add(b, "0", 1);
        } else {
            gw_strbuf_adds(b, "0.");
            for (int i = 0; i < -exp - 1; i++)
                gw_strbuf_add(b, "0", 1);
            gw_strbuf_add(b, digits, nd);
        }
        return;
    }
    gw_strbuf_add(b, digits, 1);
    if (nd > 1) {
        gw_strbuf_add(b, ".", 1);
        gw_strbuf_add(b, digits + 1, nd - 1);
    }
    snprintf(text, sizeof(text), "e%c%02d", exp < 0 ? '-' : '+', abs(exp));
    gw_strbuf_adds(b, text);
}

static void repr_string_in(struct gw_strbuf *b, const char *s, size_t n,
                           const struct gw_json_dialect *d)
{
    (void)d;
    repr_string(b, s, n);
}

/* Python's repr of the number json.loads made of it: an int's digits, nan, inf, -inf. */
static void repr_carried(struct gw_strbuf *b, const char *text, size_t n)
{
    if (!gw_json_carried_non_finite(text, n))
        gw_strbuf_add(b, text, n);
    else if (text[0] == 'N')
        gw_strbuf_adds(b, "nan");
    else
        gw_strbuf_adds(b, text[0] == '-' ? "-inf" : "inf");
}

static const struct gw_json_dialect python_repr = {
    ", ", ": ", "True", "False", "None", repr_string_in, gw_python_float, 0, repr_carried};

char *gw_python_repr(const json_t *value)
{
    struct gw_strbuf b = {0};
    gw_json_write(&b, value, &python_repr);
    return gw_strbuf_take(&b);
}

char *gw_python_repr_tuple(const json_t *array)
{
    struct gw_strbuf b = {0};
    size_t n = json_array_size(array);
    gw_strbuf_adds(&b, "(");
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            gw_strbuf_adds(&b, ", ");
        gw_json_write(&b, json_array_get(array, i), &python_repr);
    }
    gw_strbuf_adds(&b, n == 1 ? ",)" : ")");
    return gw_strbuf_take(&b);
}
