#include "text.h"

#include "status.h"
#include "strbuf.h"
#include "xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

size_t gw_fmt_u64(char *buf, uint64_t v)
{
    char digits[GW_U64_DIGITS];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        buf[i] = digits[n - 1 - i];
    buf[n] = '\0';
    return n;
}

size_t gw_fmt_i64(char *buf, int64_t v)
{
    if (v >= 0)
        return gw_fmt_u64(buf, (uint64_t)v);
    buf[0] = '-';
    /* -(v + 1) + 1: INT64_MIN has no positive int64_t. */
    return 1 + gw_fmt_u64(buf + 1, (uint64_t)(-(v + 1)) + 1);
}

void gw_strbuf_add_u64(struct gw_strbuf *b, uint64_t v)
{
    char digits[GW_U64_DIGITS];
    gw_strbuf_add(b, digits, gw_fmt_u64(digits, v));
}

int gw_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool gw_is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

bool gw_is_token(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!gw_is_tchar((unsigned char)s[i]))
            return false;
    return true;
}

bool gw_url_always_safe(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("-._~$!'()*+,;", c) != NULL);
}

void gw_percent_encode(struct gw_strbuf *b, unsigned char c)
{
    static const char hex[] = "0123456789ABCDEF";
    char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
    gw_strbuf_add(b, esc, 3);
}

char *gw_url_quote(const char *s, const char *safe)
{
    struct gw_strbuf b = {0};
    gw_strbuf_add(&b, "", 0);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (gw_url_always_safe(*p) || strchr(safe, *p))
            gw_strbuf_add(&b, (const char *)p, 1);
        else
            gw_percent_encode(&b, *p);
    }
    return gw_strbuf_take(&b);
}

/* The value of one base64url character, or -1. */
static int base64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

int gw_base64url_decode(const char *in, size_t n, unsigned char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (n % 4 == 1)
        return GW_EINVAL;
    unsigned char *buf = xmalloc(n / 4 * 3 + 3);
    size_t len = 0;
    uint32_t acc = 0;
    unsigned bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = base64url_value((unsigned char)in[i]);
        if (v < 0) {
            free(buf);
            return GW_EINVAL;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[len++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) { /* the last character's unused low bits must be zero */
        free(buf);
        return GW_EINVAL;
    }
    buf[len] = 0;
    *out = buf;
    *out_len = len;
    return GW_OK;
}
