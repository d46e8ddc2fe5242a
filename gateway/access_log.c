#include "access_log.h"

#include "core/log.h"

#include <stdio.h>

void gw_log_access(const struct gw_access *a)
{
    if (GW_LOG_INFO < gw_log_threshold)
        return;
    if (gw_log_format == GW_LOG_TEXT) {
        gw_log_write(GW_LOG_INFO, "access", "%s \"%s %.*s\" %d %.3fms %s%s", a->remote, a->method,
                     (int)a->path_len, a->path, a->status, a->duration_ms,
                     a->call_id ? a->call_id : "-", a->client_gone ? " (client gone)" : "");
        return;
    }
    char line[2048], path[1200], ts[96];
    gw_log_json_text(path, sizeof(path), a->path, a->path_len);
    gw_log_timestamp(ts, sizeof(ts));
    int n = snprintf(line, sizeof(line),
                     "{\"ts\":\"%s\",\"level\":\"info\",\"component\":\"access\",\"remote\":"
                     "\"%s\",\"method\":\"%s\",\"path\":\"%s\",\"status\":%d,\"duration_ms\":%.3f,"
                     "\"call_id\":%s%s%s,\"client_gone\":%s}\n",
                     ts, a->remote, a->method, path, a->status, a->duration_ms,
                     a->call_id ? "\"" : "", a->call_id ? a->call_id : "null",
                     a->call_id ? "\"" : "", a->client_gone ? "true" : "false");
    gw_log_emit(GW_LOG_INFO, line, n, sizeof(line));
}
