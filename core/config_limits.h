/* config_limits.h - GATEWAY.rate_limits, GATEWAY.trusted_proxies and GATEWAY.rate_limit_keys
 * (docs/rate_limits.md).
 *
 *   GATEWAY:
 *     trusted_proxies: [10.0.0.0/8, "fd00::/8"]   # whose X-Forwarded-For is believed
 *     rate_limit_keys: 100000                      # buckets kept, least recently used dropped
 *     rate_limits:
 *       - {name: per-ip, key: client_ip, rate: 100/s, burst: 200}
 *       - {key: "claim:sub", rate: 6000/min, match: ["/orders/<id>", "orders.*"]}
 *
 * An entry: key (required) client_ip, claim:<name> or header:<Name>; rate (required)
 * "<count>/<unit>", unit s|sec|second, m|min|minute, h|hour, d|day, count 1..10^9; burst, the
 * bucket's size, 1..10^9 (default: the rate's count per second rounded up, at least 1); match,
 * globs (fnmatch): one starting with '/' is matched against route rules as written, any other
 * against RPC targets "service.method" (a route's rpc, the generic route's and websocket calls'
 * targets); without match, the limit covers all of them; name, the policy's name in the RateLimit
 * headers: letters, digits, '_', '-', '.', at most 32 (default "limit<i>", i its 0-based index).
 * Unknown keys are errors, as are two entries with the same name, two alike in key, rate, burst and
 * match, and more than GW_RATE_LIMITS_MAX entries.
 */
#ifndef ENOKI_CONFIG_LIMITS_H
#define ENOKI_CONFIG_LIMITS_H

#include "core/cidr.h"
#include "core/config_keys.h"

#include <stddef.h>

/* Entries of GATEWAY.rate_limits at most: a request's matching limits are a 64-bit mask. */
#define GW_RATE_LIMITS_MAX 64
/* The longest policy name. */
#define GW_RATE_NAME_MAX 32

enum gw_rate_key_kind { GW_RATE_KEY_CLIENT_IP, GW_RATE_KEY_CLAIM, GW_RATE_KEY_HEADER };

struct gw_rate_limit_conf {
    char *name;                  /* the policy's name (owned) */
    enum gw_rate_key_kind kind;  /* what the key is */
    char *key_name;              /* the claim's or the header's name; NULL for client_ip */
    char *key;                   /* as written: "client_ip", "claim:sub", ... */
    long long count, period_s;   /* the rate: count tokens per period_s seconds */
    char *rate;                  /* as written, "100/s" */
    int burst;                   /* the bucket's size, >= 1 (0 until settled) */
    struct gw_string_list match; /* none: everything */
    int line;
};

struct gw_rate_limit_list {
    struct gw_rate_limit_conf *items;
    size_t n;
};

/* The appliers (base: the struct gw_config). */
gw_key_apply_fn gw_config_apply_rate_limits;
gw_key_apply_fn gw_config_apply_trusted_proxies;

void gw_rate_limit_list_clear(struct gw_rate_limit_list *list);

#endif
