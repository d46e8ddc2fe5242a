#include "log.h"

#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum gw_log_level gw_log_threshold = GW_LOG_INFO;
enum gw_log_format gw_log_format = GW_LOG_TEXT;

static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};

static void json_text(char *out, size_t outlen, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 7 < outlen; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20) {
            o += (size_t)snprintf(out + o, outlen - o, "\\u%04x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
}

static int timestamp(char *buf, size_t len)
{
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    return snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
                    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                    now.tv_nsec / 1000000);
}

void gw_log_write(enum gw_log_level level, const char *component, const char *fmt, ...)
{
    char line[2048];
    if (gw_log_format == GW_LOG_JSON) {
        char message[1024], escaped[1600], ts[96];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(message, sizeof(message), fmt, ap);
        va_end(ap);
        json_text(escaped, sizeof(escaped), message, strlen(message));
        timestamp(ts, sizeof(ts));
        int n = snprintf(line, sizeof(line),
                         "{\"ts\":\"%s\",\"level\":\"%s\",\"component\":\"%s\",\"message\":\"%s\"}\n",
                         ts, level_names[level], component, escaped);
        fwrite(line, 1, n > 0 && (size_t)n < sizeof(line) ? (size_t)n : strlen(line), stderr);
        return;
    }
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s [%s] ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     now.tv_nsec / 1000000, level_names[level], component);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof(line))
        vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    /* One write per line so that lines from concurrent processes do not interleave. */
    size_t len = strnlen(line, sizeof(line) - 2);
    line[len++] = '\n';
    fwrite(line, 1, len, stderr);
}

int gw_log_parse_level(const char *name, enum gw_log_level *out)
{
    for (int i = 0; i <= GW_LOG_OFF; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (enum gw_log_level)i;
            return GW_OK;
        }
    }
    return GW_EINVAL;
}

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
    json_text(path, sizeof(path), a->path, a->path_len);
    timestamp(ts, sizeof(ts));
    int n = snprintf(line, sizeof(line),
                     "{\"ts\":\"%s\",\"level\":\"info\",\"component\":\"access\",\"remote\":"
                     "\"%s\",\"method\":\"%s\",\"path\":\"%s\",\"status\":%d,\"duration_ms\":%.3f,"
                     "\"call_id\":%s%s%s,\"client_gone\":%s}\n",
                     ts, a->remote, a->method, path, a->status, a->duration_ms,
                     a->call_id ? "\"" : "", a->call_id ? a->call_id : "null",
                     a->call_id ? "\"" : "", a->client_gone ? "true" : "false");
    fwrite(line, 1, n > 0 && (size_t)n < sizeof(line) ? (size_t)n : strlen(line), stderr);
}
