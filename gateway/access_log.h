/* access_log.h - one line per HTTP request answered (component "access"), in the log's format. */
#ifndef ENOKI_ACCESS_LOG_H
#define ENOKI_ACCESS_LOG_H

#include <stddef.h>

/* One HTTP request answered. Never carries secrets: no headers, no query string. */
struct gw_access {
    const char *remote;
    const char *method;
    const char *path; /* without the query string */
    size_t path_len;
    int status;
    double duration_ms;
    const char *call_id;  /* NULL when no call was made */
    const char *trace_id; /* enoki's span (GATEWAY.trace_context); both NULL when off */
    const char *span_id;
    int client_gone;
};

void gw_log_access(const struct gw_access *access);

#endif
