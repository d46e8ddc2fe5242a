/* route_setup.h - a config's routes compiled into a route table, checked against enoki's own paths,
 * and --check's account of the table and the rate limits. Used at start, at each SIGHUP (the single
 * process's and the supervisor's check of the file) and by --check. */
#ifndef ENOKI_ROUTE_SETUP_H
#define ENOKI_ROUTE_SETUP_H

#include "core/config.h"
#include "routes/table.h"

#include <stdio.h>

/* A new table of config's routes, compiled (the caller frees it); NULL after printing
 * "enoki: <file>:<line>: routes[i].rule: <reason>" on stderr, also for a route that one of enoki's
 * own paths (health, metrics, websocket, docs, status...) would hide. */
struct gw_route_table *gw_route_setup_build(const struct gw_config *config);

/* --check: the config's summary line, each route and its target, the generic route, and each rate
 * limit as it is understood. */
void gw_route_setup_print(const struct gw_config *config, const struct gw_route_table *table,
                          FILE *out);

#endif
