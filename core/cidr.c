#include "core/cidr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The longest address text inet_pton reads, with its NUL. */
enum { ADDR_TEXT_MAX = 46 };

static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool gw_ip_parse(const char *text, size_t len, uint8_t addr[16])
{
    char buf[ADDR_TEXT_MAX];
    if (len == 0 || len >= sizeof(buf))
        return false;
    memcpy(buf, text, len);
    buf[len] = '\0';
    if (inet_pton(AF_INET, buf, addr + 12) == 1) {
        memcpy(addr, v4_mapped, sizeof(v4_mapped));
        return true;
    }
    return inet_pton(AF_INET6, buf, addr) == 1;
}

bool gw_ip_is_v4(const uint8_t addr[16])
{
    return memcmp(addr, v4_mapped, sizeof(v4_mapped)) == 0;
}

bool gw_cidr_parse(const char *text, struct gw_cidr *out, char *reason, size_t reason_len)
{
    const char *slash = strchr(text, '/');
    size_t len = slash ? (size_t)(slash - text) : strlen(text);
    memset(out, 0, sizeof(*out));
    if (!gw_ip_parse(text, len, out->addr)) {
        snprintf(reason, reason_len, "'%.*s' is not an IPv4 or IPv6 address",
                 len > 64 ? 64 : (int)len, text);
        return false;
    }
    bool v4 = gw_ip_is_v4(out->addr) && strchr(text, ':') == NULL;
    unsigned max = v4 ? 32 : 128;
    unsigned bits = max;
    if (slash) {
        const char *p = slash + 1;
        size_t digits = strspn(p, "0123456789");
        if (digits == 0 || digits > 3 || p[digits] != '\0' || (unsigned)atoi(p) > max) {
            snprintf(reason, reason_len, "expected a prefix length from 0 to %u after '/'", max);
            return false;
        }
        bits = (unsigned)atoi(p);
    }
    out->prefix = v4 ? bits + 96 : bits;
    for (unsigned i = out->prefix; i < 128; i++) {
        if (out->addr[i / 8] & (0x80u >> (i % 8))) {
            snprintf(reason, reason_len,
                     "host bits are set past the /%u prefix (write the block's first address)",
                     bits);
            return false;
        }
    }
    return true;
}

bool gw_cidr_contains(const struct gw_cidr *cidr, const uint8_t addr[16])
{
    unsigned full = cidr->prefix / 8, rest = cidr->prefix % 8;
    if (memcmp(cidr->addr, addr, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xffu << (8 - rest));
    return (cidr->addr[full] & mask) == (addr[full] & mask);
}

bool gw_cidr_list_contains(const struct gw_cidr_list *list, const uint8_t addr[16])
{
    for (size_t i = 0; i < list->n; i++)
        if (gw_cidr_contains(&list->items[i], addr))
            return true;
    return false;
}

void gw_cidr_list_clear(struct gw_cidr_list *list)
{
    free(list->items);
    list->items = NULL;
    list->n = 0;
}
