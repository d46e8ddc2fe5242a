#include "utf8.h"

#include "strbuf.h"
#include "text.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

/* The length of the well-formed sequence at s (1..4), or 0 when it is ill-formed; *consumed gets
 * the length of the maximal ill-formed subpart then (at least 1). */
static size_t sequence_length(const unsigned char *s, size_t n, size_t *consumed)
{
    unsigned char c = s[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF; /* the range of the first continuation byte */
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0)
            lo = 0xA0; /* no overlong forms */
        else if (c == 0xED)
            hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F; /* nothing above U+10FFFF */
    } else {
        *consumed = 1;
        return 0;
    }
    size_t i = 1;
    for (; i <= need; i++) {
        unsigned char min = i == 1 ? lo : 0x80, max = i == 1 ? hi : 0xBF;
        if (i >= n || s[i] < min || s[i] > max) {
            *consumed = i;
            return 0;
        }
    }
    return need + 1;
}

size_t gw_utf8_encode(unsigned long cp, unsigned char out[4])
{
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | (cp >> 6));
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | (cp >> 12));
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | (cp >> 18));
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t gw_utf8_decode(const char *s, size_t n, unsigned long *cp)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t consumed;
    size_t len = sequence_length(p, n, &consumed);
    static const unsigned char lead_bits[] = {0, 0x7F, 0x1F, 0x0F, 0x07};
    if (len == 0)
        return 0;
    unsigned long c = p[0] & lead_bits[len];
    for (size_t i = 1; i < len; i++)
        c = (c << 6) | (p[i] & 0x3Fu);
    *cp = c;
    return len;
}

int gw_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t consumed;
    for (size_t i = 0; i < n;) {
        size_t len = sequence_length(p + i, n - i, &consumed);
        if (len == 0)
            return 0;
        i += len;
    }
    return 1;
}

static char *repair(const char *s, size_t n, size_t *out_len, int quoting)
{
    const unsigned char *p = (const unsigned char *)s;
    struct gw_strbuf b = {0};
    size_t i = 0;
    while (i < n) {
        /* Valid sequences, ASCII or not, are copied in one piece. */
        size_t run = i, consumed = 0;
        for (size_t len; run < n; run += len) {
            if (p[run] < 0x80)
                len = 1;
            else if ((len = sequence_length(p + run, n - run, &consumed)) == 0)
                break;
        }
        if (run > i) {
            gw_strbuf_add(&b, s + i, run - i);
            i = run;
            continue;
        }
        if (!quoting) {
            gw_strbuf_add(&b, "\xEF\xBF\xBD", 3);
            i += consumed;
        } else {
            for (size_t k = 0; k < consumed; k++, i++)
                gw_percent_encode(&b, p[i]);
        }
    }
    if (out_len)
        *out_len = b.len;
    return gw_strbuf_take(&b);
}

char *gw_utf8_repair(const char *s, size_t n, size_t *out_len)
{
    return repair(s, n, out_len, 0);
}

char *gw_utf8_repair_quoting(const char *s, size_t n, size_t *out_len)
{
    return repair(s, n, out_len, 1);
}

enum wide_encoding { UTF16_BE, UTF16_LE, UTF32_BE, UTF32_LE };

static unsigned long wide_unit(const unsigned char *p, enum wide_encoding e)
{
    switch (e) {
    case UTF16_BE:
        return (unsigned long)p[0] << 8 | p[1];
    case UTF16_LE:
        return (unsigned long)p[1] << 8 | p[0];
    case UTF32_BE:
        return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 |
               p[3];
    default:
        return (unsigned long)p[3] << 24 | (unsigned long)p[2] << 16 | (unsigned long)p[1] << 8 |
               p[0];
    }
}

/* UTF-16 or UTF-32 to UTF-8: NULL when cut short, beyond U+10FFFF or a lone surrogate. */
static char *from_wide(const unsigned char *p, size_t n, enum wide_encoding e, size_t *out_len)
{
    size_t unit = e == UTF16_BE || e == UTF16_LE ? 2 : 4;
    struct gw_strbuf b = {0};
    if (n % unit != 0)
        goto bad;
    for (size_t i = 0; i < n; i += unit) {
        unsigned long cp = wide_unit(p + i, e);
        /* A pair of surrogates is one character, also in UTF-32 (Python keeps the two, and its
         * json.dumps writes them as the pair's escapes, which a service reads as one). */
        if (cp >= 0xD800 && cp <= 0xDBFF && i + unit < n) {
            unsigned long low = wide_unit(p + i + unit, e);
            if (low >= 0xDC00 && low <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                i += unit;
            }
        }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            goto bad;
        unsigned char out[4];
        gw_strbuf_add(&b, (const char *)out, gw_utf8_encode(cp, out));
    }
    if (out_len)
        *out_len = b.len;
    return gw_strbuf_take(&b);
bad:
    free(b.data);
    return NULL;
}

char *gw_utf8_from_json_bytes(const char *s, size_t n, size_t *out_len)
{
    const unsigned char *p = (const unsigned char *)s;
    if (n >= 4 && ((p[0] == 0 && p[1] == 0 && p[2] == 0xFE && p[3] == 0xFF) ||
                   (p[0] == 0xFF && p[1] == 0xFE && p[2] == 0 && p[3] == 0)))
        return from_wide(p + 4, n - 4, p[0] == 0 ? UTF32_BE : UTF32_LE, out_len);
    if (n >= 2 && ((p[0] == 0xFE && p[1] == 0xFF) || (p[0] == 0xFF && p[1] == 0xFE)))
        return from_wide(p + 2, n - 2, p[0] == 0xFE ? UTF16_BE : UTF16_LE, out_len);
    if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
        p += 3;
        n -= 3;
    } else if (n >= 4 && p[0] == 0) {
        return from_wide(p, n, p[1] ? UTF16_BE : UTF32_BE, out_len);
    } else if (n >= 4 && p[1] == 0) {
        return from_wide(p, n, p[2] || p[3] ? UTF16_LE : UTF32_LE, out_len);
    } else if (n == 2 && (p[0] == 0 || p[1] == 0)) {
        return from_wide(p, n, p[0] == 0 ? UTF16_BE : UTF16_LE, out_len);
    }
    if (!gw_utf8_valid((const char *)p, n))
        return NULL;
    char *copy = xmalloc(n + 1);
    memcpy(copy, p, n);
    copy[n] = '\0';
    if (out_len)
        *out_len = n;
    return copy;
}
