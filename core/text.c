#include "text.h"

#include "strbuf.h"

#include <string.h>

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
