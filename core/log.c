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

/* "YYYY-MM-DDTHH:MM:SS" of the current second, formatted once per second and thread (the access
 * line of every request needs it); returns the millisecond. */
static const char *second_text(int *ms)
{
    static __thread time_t formatted_at = -1;
    static __thread char text[24];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (now.tv_sec != formatted_at) {
        struct tm tm;
        gmtime_r(&now.tv_sec, &tm);
        strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &tm);
        formatted_at = now.tv_sec;
    }
    *ms = (int)(now.tv_nsec / 1000000);
    return text;
}

int gw_log_timestamp(char *buf, size_t len)
{
    int ms;
    const char *second = second_text(&ms);
    size_t n = strlen(second);
    if (len < n + 6) {
        if (len > 0)
            buf[0] = '\0';
        return (int)(n + 5);
    }
    memcpy(buf, second, n);
    buf[n] = '.';
    buf[n + 1] = (char)('0' + ms / 100);
    buf[n + 2] = (char)('0' + ms / 10 % 10);
    buf[n + 3] = (char)('0' + ms % 10);
    buf[n + 4] = 'Z';
    buf[n + 5] = '\0';
    return (int)(n + 5);
}

size_t gw_log_prefix(char *buf, size_t len, enum gw_log_level level, const char *component)
{
    char ts[32];
    size_t n = (size_t)gw_log_timestamp(ts, sizeof(ts));
    const char *name = gw_log_level_names[level];
    size_t name_len = strlen(name), component_len = strlen(component);
    /* "worker=<n> " takes at most 16 more. */
    size_t need = n + 1 + (name_len < 5 ? 5 : name_len) + 2 + component_len + 2 + 16;
    if (need >= len) {
        buf[0] = '\0';
        return 0;
    }
    char *at = buf;
    memcpy(at, ts, n);
    at += n;
    *at++ = ' ';
    memcpy(at, name, name_len);
    at += name_len;
    for (size_t i = name_len; i < 5; i++)
        *at++ = ' ';
    *at++ = ' ';
    *at++ = '[';
    memcpy(at, component, component_len);
    at += component_len;
    *at++ = ']';
    *at++ = ' ';
    *at = '\0';
    if (gw_log_worker) /* rare: GATEWAY.workers; the process's number is fixed at its start */
        at += snprintf(at, len - (size_t)(at - buf), "worker=%d ", gw_log_worker);
    return (size_t)(at - buf);
}

void gw_log_write(enum gw_log_level level, const char *component, const char *fmt, ...)
{
    char line[GW_LOG_LINE_MAX];
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
    size_t n = gw_log_prefix(line, sizeof(line), level, component);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    va_end(ap);
    size_t len = strnlen(line, sizeof(line) - 2);
    line[len++] = '\n';
    emit(level, line, len);
}
