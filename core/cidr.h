/* cidr.h - IP addresses and CIDR blocks (GATEWAY.trusted_proxies), pure.
 *
 * Every address is held as 16 bytes: IPv6 as it is, IPv4 as its IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d), so that one comparison serves both and "10.0.0.0/8" is the block
 * ::ffff:10.0.0.0/104. */
#ifndef ENOKI_CIDR_H
#define ENOKI_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gw_cidr {
    uint8_t addr[16]; /* the block's address, its bits past prefix cleared */
    unsigned prefix;  /* 0..128, over the 16 bytes */
};

struct gw_cidr_list {
    struct gw_cidr *items; /* owned by the struct holding it */
    size_t n;
};

/* Reads an IPv4 (dotted quad) or IPv6 address of len bytes (no brackets, no port, no zone) into
 * addr. Returns false for anything else. */
bool gw_ip_parse(const char *text, size_t len, uint8_t addr[16]);

/* Whether addr is an IPv4-mapped address (an IPv4 client). */
bool gw_ip_is_v4(const uint8_t addr[16]);

/* Reads "a.b.c.d/n" (n 0..32), "v6/n" (n 0..128), or an address alone (a block of one).
 * Host bits set past the prefix are refused ("10.0.0.1/8" is a mistake for "10.0.0.0/8"). On
 * false, reason says why. */
bool gw_cidr_parse(const char *text, struct gw_cidr *out, char *reason, size_t reason_len);

bool gw_cidr_contains(const struct gw_cidr *cidr, const uint8_t addr[16]);

/* Whether any block of list holds addr. */
bool gw_cidr_list_contains(const struct gw_cidr_list *list, const uint8_t addr[16]);

void gw_cidr_list_clear(struct gw_cidr_list *list);

#endif
