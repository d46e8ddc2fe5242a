#include "log.h"

#include "json.h"
#include "status.h"
#include "strbuf.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum gw_log_level gw_log_threshold = GW_LOG_INFO;
enum gw_log_format gw_log_format = GW_LOG_TEXT;
int gw_log_worker;

const char *const gw_log_level_names[] = {[GW_LOG_DEBUG] = "debug",
                                          [GW_LOG_INFO] = "info",
                                          [GW_LOG_WARN] = "warn",
                                          [GW_LOG_ERROR] = "error",
                                          NULL};
const char *const gw_log_format_names[] = {[GW_LOG_TEXT] = "text", [GW_LOG_JSON] = "json", NULL};

/* Lines wait here until gw_log_flush (once per loop pass) when batching is on: one write for
 * many access lines instead of one each. Only whole lines are written, so lines of concurrent
 * processes sharing a file still do not interleave. Warnings and errors go out at once. */
static char pending[64 * 1024];
static size_t pending_len;
static bool batching;
static pthread_mutex_t pending_lock = PTHREAD_MUTEX_INITIALIZER;

static void write_all(const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(STDERR_FILENO, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* nowhere to log to: nothing better to do */
        data += n;
        len -= (size_t)n;
    }
}

static void flush_locked(void)
{
    write_all(pending, pending_len);
    pending_len = 0;
}

static void emit(enum gw_log_level level, const char *line, size_t len)
{
    pthread_mutex_lock(&pending_lock);
    if (!batching || level >= GW_LOG_WARN || len > sizeof(pending)) {
        flush_locked();
        write_all(line, len);
    } else {
        if (pending_len + len > sizeof(pending))
            flush_locked();
        memcpy(pending + pending_len, line, len);
        pending_len += len;
    }
    pthread_mutex_unlock(&pending_lock);
}

/* A line snprintf formatted into a buffer of size bytes, n its result: cut lines are written as
 * far as they go. */
void gw_log_emit(enum gw_log_level level, const char *line, size_t len)
{
    emit(level, line, len);
}

void gw_log_batch(int on)
{
    pthread_mutex_lock(&pending_lock);
    batching = on != 0;
    if (!batching)
        flush_locked();
    pthread_mutex_unlock(&pending_lock);
}

void gw_log_flush(void)
{
    pthread_mutex_lock(&pending_lock);
    if (pending_len)
        flush_locked();
    pthread_mutex_unlock(&pending_lock);
}

int gw_log_timestamp(char *buf, size_t len)
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
        char message[1024], ts[96];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(message, sizeof(message), fmt, ap);
        va_end(ap);
        gw_log_timestamp(ts, sizeof(ts));
        struct gw_strbuf b = {0};
        gw_strbuf_adds(&b, "{\"ts\":\"");
        gw_strbuf_adds(&b, ts);
        gw_strbuf_adds(&b, "\",\"level\":\"");
        gw_strbuf_adds(&b, gw_log_level_names[level]);
        gw_strbuf_adds(&b, "\",\"component\":");
        gw_json_write_string(&b, component, strlen(component), GW_JSON_COMPACT);
        if (gw_log_worker) {
            char worker[32];
            snprintf(worker, sizeof(worker), ",\"worker\":%d", gw_log_worker);
            gw_strbuf_adds(&b, worker);
        }
        gw_strbuf_adds(&b, ",\"message\":");
        gw_json_write_string(&b, message, strlen(message), GW_JSON_COMPACT);
        gw_strbuf_adds(&b, "}\n");
        emit(level, b.data, b.len);
        free(b.data);
        return;
    }
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    char worker[24] = "";
    if (gw_log_worker)
        snprintf(worker, sizeof(worker), "worker=%d ", gw_log_worker);
    int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s [%s] %s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     now.tv_nsec / 1000000, gw_log_level_names[level], component, worker);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof(line))
        vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    size_t len = strnlen(line, sizeof(line) - 2);
    line[len++] = '\n';
    emit(level, line, len);
}
