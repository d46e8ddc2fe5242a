/* client_ip.h - who the client is, for the rate limits' client_ip key (docs/rate_limits.md), pure.
 *
 * Without trusted proxies the client is the peer. With GATEWAY.trusted_proxies, X-Forwarded-For is
 * walked from the right while the hop is trusted: starting at the peer, as long as the address in
 * hand is in a trusted block, the next one to its left in X-Forwarded-For (the fields in order, as
 * one comma-separated list) is taken; the first untrusted address is the client. When every entry
 * is trusted, the left-most is; an entry that is not an IP address ends the walk at the trusted
 * hop to its right (which then stands for the client). Entries may carry a port ("1.2.3.4:80",
 * "[2001:db8::1]:80"). So a client can write what it likes into the header: only what trusted
 * proxies appended is believed.
 */
#ifndef ENOKI_CLIENT_IP_H
#define ENOKI_CLIENT_IP_H

#include "core/cidr.h"

#include <stddef.h>
#include <stdint.h>

/* The client's address (16 bytes, core/cidr's form) from the peer's and the X-Forwarded-For
 * fields of the request, in the order sent (n may be 0). */
void gw_client_ip(const uint8_t peer[16], const char *const *xff, size_t n,
                  const struct gw_cidr_list *trusted, uint8_t out[16]);

/* The bytes a client is limited by: an IPv4 address whole, an IPv6 one by its /64 (one host gets a
 * whole /64; by its full address it could change buckets at will). */
void gw_client_ip_key(const uint8_t addr[16], uint8_t key[16]);

#endif
