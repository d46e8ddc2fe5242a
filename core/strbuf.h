/* strbuf.h - a growing, always NUL-terminated byte string, and formatted error text. */
#ifndef ENOKI_STRBUF_H
#define ENOKI_STRBUF_H

#include <stddef.h>

/* Zero-initialise ({0}) to start empty; data is NULL until something is added. */
struct gw_strbuf {
    char *data;
    size_t len;
    size_t cap;
};

/* Appends n bytes of s (which may hold NULs); allocation failure aborts. */
void gw_strbuf_add(struct gw_strbuf *b, const char *s, size_t n);
void gw_strbuf_adds(struct gw_strbuf *b, const char *s);

/* Returns the string (new; "" when nothing was added) and leaves the buffer empty. */
char *gw_strbuf_take(struct gw_strbuf *b);

/* Writes printf-formatted text into err (truncated to errlen); a NULL err or errlen 0 is a no-op.
 */
void gw_set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
