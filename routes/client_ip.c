#include "routes/client_ip.h"

#include <string.h>

/* One X-Forwarded-For entry, spaces trimmed, without brackets or a port. */
static bool parse_entry(const char *s, size_t len, uint8_t out[16])
{
    while (len > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len > 0 && s[0] == '[') {
        const char *end = memchr(s, ']', len);
        return end && gw_ip_parse(s + 1, (size_t)(end - s - 1), out);
    }
    const char *colon = memchr(s, ':', len);
    if (colon && memchr(colon + 1, ':', len - (size_t)(colon + 1 - s)) == NULL)
        len = (size_t)(colon - s); /* "a.b.c.d:port" */
    return gw_ip_parse(s, len, out);
}

void gw_client_ip(const uint8_t peer[16], const char *const *xff, size_t n,
                  const struct gw_cidr_list *trusted, uint8_t out[16])
{
    memcpy(out, peer, 16);
    for (size_t f = n; f-- > 0;) {
        const char *field = xff[f];
        size_t end = strlen(field);
        while (gw_cidr_list_contains(trusted, out)) {
            if (end == 0)
                break;
            size_t start = end;
            while (start > 0 && field[start - 1] != ',')
                start--;
            uint8_t hop[16];
            bool empty = strspn(field + start, " \t") >= end - start;
            if (!empty) {
                if (!parse_entry(field + start, end - start, hop))
                    return;
                memcpy(out, hop, 16);
            }
            end = start > 0 ? start - 1 : 0;
            if (start == 0)
                break;
        }
        if (!gw_cidr_list_contains(trusted, out))
            return;
    }
}

void gw_client_ip_key(const uint8_t addr[16], uint8_t key[16])
{
    memcpy(key, addr, 16);
    if (!gw_ip_is_v4(addr))
        memset(key + 8, 0, 8);
}
