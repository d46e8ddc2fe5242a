/* config_load.h - what the config tests share: a YAML text loaded as the file "a.yaml", expected to
 * load or to be refused with an exact message. */
#ifndef ENOKI_TEST_CONFIG_LOAD_H
#define ENOKI_TEST_CONFIG_LOAD_H

#include "core/config.h"

/* Loads yaml as "a.yaml" (no defines). */
int test_config_load(const char *yaml, struct gw_config **out, char *err, size_t errlen);

/* The config yaml loads to (free it with gw_config_free); fails the test otherwise. */
struct gw_config *test_config_ok(const char *yaml);

/* yaml is refused with GW_ECONFIG, nothing is returned, and the message is exactly message. */
void test_config_refused(const char *yaml, const char *message);

#endif
