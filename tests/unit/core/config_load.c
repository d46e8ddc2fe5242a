/* config_load.c - the config tests' shared load and refusal checks. */
#include "tests/unit/core/config_load.h"

#include "core/status.h"

#include "tests/unit/suites.h"

#include <string.h>

int test_config_load(const char *yaml, struct gw_config **out, char *err, size_t errlen)
{
    return gw_config_load_string("a.yaml", yaml, strlen(yaml), NULL, 0, out, err, errlen);
}

struct gw_config *test_config_ok(const char *yaml)
{
    struct gw_config *c = NULL;
    char err[512] = "";
    int rc = test_config_load(yaml, &c, err, sizeof(err));
    ck_assert_msg(rc == GW_OK, "%s: %s", yaml, err);
    return c;
}

void test_config_refused(const char *yaml, const char *message)
{
    struct gw_config *c = NULL;
    char err[512] = "";
    int rc = test_config_load(yaml, &c, err, sizeof(err));
    ck_assert_msg(rc == GW_ECONFIG, "%s: rc %d (%s)", yaml, rc, err);
    ck_assert_ptr_null(c);
    ck_assert_str_eq(err, message);
}
