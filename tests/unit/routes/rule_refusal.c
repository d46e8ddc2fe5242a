#include "tests/unit/routes/rule_refusal.h"

#include "core/status.h"
#include "routes/table.h"

#include "tests/unit/suites.h"

#include <string.h>

void assert_rule_refused(const struct refusal *c)
{
    struct gw_route_table *table = gw_route_table_new();
    char err[256] = "untouched";
    int rc = gw_route_table_add(table, c->rule, "GET", NULL, err, sizeof(err));
    ck_assert_msg(rc == GW_ERULE, "%s: status %d, expected %d (%s)", c->rule, rc, GW_ERULE, err);
    ck_assert_msg(strncmp(err, c->message, strlen(c->message)) == 0, "%s: err '%s', expected '%s'",
                  c->rule, err, c->message);
    /* A refused route leaves nothing behind. */
    ck_assert_int_eq(gw_route_table_compile(table), GW_OK);
    struct gw_route_match m;
    ck_assert_int_eq(gw_route_table_match(table, "GET", "/a", &m), GW_ENOMATCH);
    gw_route_match_clear(&m);
    gw_route_table_free(table);
}
