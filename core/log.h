/* log.h - leveled logging to stderr with [component] prefixes.
 *
 * The level check happens before the arguments are evaluated. Each line is written whole (one write
 * holds whole lines only), from any thread.
 */
#ifndef ENOKI_LOG_H
#define ENOKI_LOG_H

#include <stddef.h>

enum gw_log_level { GW_LOG_DEBUG = 0, GW_LOG_INFO, GW_LOG_WARN, GW_LOG_ERROR, GW_LOG_OFF };

extern enum gw_log_level gw_log_threshold;

/* Text lines ("2026-...Z info  [access] ...") or one JSON object per line (GATEWAY.log_format). */
enum gw_log_format { GW_LOG_TEXT, GW_LOG_JSON };
extern enum gw_log_format gw_log_format;

/* The worker this process is (GATEWAY.workers, from 1), written on each of its lines ("worker=2",
 * or "worker":2 in JSON); 0 (one process, or the supervisor): nothing is written. */
extern int gw_log_worker;

void gw_log_write(enum gw_log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Batching on: debug and info lines (the access log) wait in a buffer until gw_log_flush, which
 * the loop calls once per pass before it waits; warnings and errors are written at once, after
 * what waits. Off (the default, and at exit): every line at once. */
void gw_log_batch(int on);
void gw_log_flush(void);

/* For modules that write their own kinds of lines (gateway/access_log.c): writes line[0..len),
 * whole lines ending in '\n', batched like every other line of level. */
void gw_log_emit(enum gw_log_level level, const char *line, size_t len);

/* "2026-12-03T06:37:41.123Z" (UTC, milliseconds) into buf; returns its length (as snprintf
 * would: buf holds "" when it is too small). */
int gw_log_timestamp(char *buf, size_t len);

/* A text line's start, "<timestamp> <level padded to 5> [<component>] ", into buf; returns its
 * length (0, and "", when buf is too small). */
size_t gw_log_prefix(char *buf, size_t len, enum gw_log_level level, const char *component);

/* The length a text line is cut to, '\n' included. */
enum { GW_LOG_LINE_MAX = 2048 };

/* The names of the levels a line is written with and of the formats, indexed by their enums and
 * NULL-terminated: the values GATEWAY.log_level and log_format take ("off" is a threshold only). */
extern const char *const gw_log_level_names[];
extern const char *const gw_log_format_names[];

#define gw_log(level, component, ...)                                                              \
    do {                                                                                           \
        if ((level) >= gw_log_threshold)                                                           \
            gw_log_write((level), (component), __VA_ARGS__);                                       \
    } while (0)

#define gw_debug(component, ...) gw_log(GW_LOG_DEBUG, component, __VA_ARGS__)
#define gw_info(component, ...) gw_log(GW_LOG_INFO, component, __VA_ARGS__)
#define gw_warn(component, ...) gw_log(GW_LOG_WARN, component, __VA_ARGS__)
#define gw_error(component, ...) gw_log(GW_LOG_ERROR, component, __VA_ARGS__)

#endif
