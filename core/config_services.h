/* config_services.h - GATEWAY.services: which RPC protocol each service speaks.
 *
 *   GATEWAY:
 *     services:
 *       simplemath: {protocol: amphora}
 *       alerts: {protocol: amphora, fanout: true}
 *
 * A service not listed speaks nameko's protocol. fanout (amphora only) says its request exchange is
 * a fanout one, as amphora's Fanout classes declare it (docs/amphora.md). */
#ifndef ENOKI_CONFIG_SERVICES_H
#define ENOKI_CONFIG_SERVICES_H

#include "core/config_keys.h"

#include <stdbool.h>
#include <stddef.h>

struct gw_config;

enum gw_protocol { GW_PROTO_NAMEKO, GW_PROTO_AMPHORA };

struct gw_service_conf {
    char *name;
    enum gw_protocol protocol;
    bool fanout;
    int line;
};

struct gw_service_list {
    struct gw_service_conf *items;
    size_t n;
};

/* "nameko" or "amphora". */
const char *gw_protocol_name(enum gw_protocol protocol);

/* What service speaks by list (NULL when not listed: nameko). */
const struct gw_service_conf *gw_service_find(const struct gw_service_list *list,
                                              const char *service);

/* The applier of GATEWAY.services (base: the struct gw_config). */
gw_key_apply_fn gw_config_apply_services;

void gw_service_list_clear(struct gw_service_list *list);

#endif
