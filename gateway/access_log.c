#include "access_log.h"

#include "core/json.h"
#include "core/log.h"
#include "core/strbuf.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gw_log_access(const struct gw_access *a)
{
    if (GW_LOG_INFO < gw_log_threshold)
        return;
    bool traced = a->trace_id && a->span_id;
    if (gw_log_format == GW_LOG_TEXT) {
        gw_log_write(GW_LOG_INFO, "access", "%s \"%s %.*s\" %d %.3fms %s%s%s%s%s%s", a->remote,
                     a->method, (int)a->path_len, a->path, a->status, a->duration_ms,
                     a->call_id ? a->call_id : "-", traced ? " trace_id=" : "",
                     traced ? a->trace_id : "", traced ? " span_id=" : "", traced ? a->span_id : "",
                     a->client_gone ? " (client gone)" : "");
        return;
    }
    char ts[96], tail[256];
    gw_log_timestamp(ts, sizeof(ts));
    struct gw_strbuf b = {0};
    gw_strbuf_adds(&b, "{\"ts\":\"");
    gw_strbuf_adds(&b, ts);
    gw_strbuf_adds(&b, "\",\"level\":\"info\",\"component\":\"access\"");
    if (gw_log_worker) {
        snprintf(tail, sizeof(tail), ",\"worker\":%d", gw_log_worker);
        gw_strbuf_adds(&b, tail);
    }
    gw_strbuf_adds(&b, ",\"remote\":");
    gw_json_write_string(&b, a->remote, strlen(a->remote), GW_JSON_COMPACT);
    gw_strbuf_adds(&b, ",\"method\":");
    gw_json_write_string(&b, a->method, strlen(a->method), GW_JSON_COMPACT);
    gw_strbuf_adds(&b, ",\"path\":");
    gw_json_write_string(&b, a->path, a->path_len, GW_JSON_COMPACT);
    snprintf(tail, sizeof(tail), ",\"status\":%d,\"duration_ms\":%.3f,\"call_id\":", a->status,
             a->duration_ms);
    gw_strbuf_adds(&b, tail);
    if (a->call_id)
        gw_json_write_string(&b, a->call_id, strlen(a->call_id), GW_JSON_COMPACT);
    else
        gw_strbuf_adds(&b, "null");
    if (traced) {
        /* Hex digits only: no escaping needed. */
        gw_strbuf_adds(&b, ",\"trace_id\":\"");
        gw_strbuf_adds(&b, a->trace_id);
        gw_strbuf_adds(&b, "\",\"span_id\":\"");
        gw_strbuf_adds(&b, a->span_id);
        gw_strbuf_adds(&b, "\"");
    }
    gw_strbuf_adds(&b, a->client_gone ? ",\"client_gone\":true}\n" : ",\"client_gone\":false}\n");
    gw_log_emit(GW_LOG_INFO, b.data, b.len);
    free(b.data);
}
