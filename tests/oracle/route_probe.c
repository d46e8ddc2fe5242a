/* route_probe - enoki's route table behind a line protocol, for tests/oracle/werkzeug_oracle.py. */
#include "core/json.h"
#include "core/status.h"
#include "routes/table.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One JSON command per line: ["add", rule, methods], ["compile"], ["match", method, path]. */
int main(void)
{
    struct gw_route_table *t = gw_route_table_new();
    static char line[1 << 16];
    uintptr_t n = 0;
    while (fgets(line, sizeof line, stdin)) {
        json_t *cmd = json_loads(line, 0, NULL);
        const char *op = json_string_value(json_array_get(cmd, 0));
        json_t *ans;
        if (strcmp(op, "add") == 0) {
            char err[256] = "";
            int rc = gw_route_table_add(t, json_string_value(json_array_get(cmd, 1)),
                                        json_string_value(json_array_get(cmd, 2)), (void *)(n + 1),
                                        err, sizeof err);
            if (rc == GW_OK)
                n++;
            ans = json_pack("[is]", rc, err);
        } else if (strcmp(op, "compile") == 0) {
            ans = json_pack("[i]", gw_route_table_compile(t));
        } else {
            struct gw_route_match m;
            int rc = gw_route_table_match(t, json_string_value(json_array_get(cmd, 1)),
                                          json_string_value(json_array_get(cmd, 2)), &m);
            if (rc == GW_OK)
                ans = json_pack("[iIO]", 200, (json_int_t)((uintptr_t)m.target - 1), m.values);
            else if (rc == GW_EMETHOD)
                ans = json_pack("[is]", 405, m.allow);
            else if (rc == GW_EREDIRECT)
                ans = json_pack("[is]", 308, m.redirect);
            else
                ans = json_pack("[i]", rc == GW_ENOMATCH ? 404 : rc);
            gw_route_match_clear(&m);
        }
        /* As json.dumps writes it: an int beyond 64 bits as its digits, inf as Infinity. */
        char *s = gw_json_encode(ans, GW_JSON_PYTHON, NULL);
        printf("%s\n", s);
        free(s);
        json_decref(ans);
        json_decref(cmd);
    }
    gw_route_table_free(t);
    return 0;
}
