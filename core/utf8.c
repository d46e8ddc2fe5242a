#include "utf8.h"

#include "strbuf.h"
#include "text.h"

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
