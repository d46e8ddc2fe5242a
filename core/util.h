/* util.h - the small helpers every module may use. */
#ifndef ENOKI_UTIL_H
#define ENOKI_UTIL_H

/* The number of elements of an array (not of a pointer). */
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
