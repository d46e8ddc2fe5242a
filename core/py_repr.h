/* py_repr.h - Python's repr() of a decoded JSON value: True/False/None, single-quoted strings
 * escaped as str.__repr__ escapes them, floats as float.__repr__ writes them. What a Python service
 * would print for the value (routes/http_mode's texts, amphora's exception values). */
#ifndef ENOKI_PY_REPR_H
#define ENOKI_PY_REPR_H

#include <jansson.h>

/* A new string. */
char *gw_python_repr(const json_t *value);

/* The repr of a tuple of array's items: "(1, 'a')", "(1,)", "()". A new string. */
char *gw_python_repr_tuple(const json_t *array);

/* Appends v as float.__repr__ writes it (json.dumps writes finite floats the same way): the
 * shortest digits that read back, fixed notation for exponents -4..15 ("100.0"), else d.ddde+XX;
 * "nan", "inf", "-inf". */
struct gw_strbuf;
void gw_python_float(struct gw_strbuf *b, double v);

#endif
