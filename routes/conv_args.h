/* conv_args.h - the arguments of a werkzeug converter, "<int(min=1, signed=True):x>", read as
 * werkzeug 2.2 reads them: its argument regex over the text between the parentheses, each value
 * through _pythonize (None, True, False, then Python's int(), then float(), else a string with one
 * pair of matching quotes removed).
 *
 * Pure. What werkzeug's re.finditer would silently skip (so that "min=-5" becomes the positional 5)
 * is refused here instead, except whitespace and one trailing comma.
 */
#ifndef ENOKI_ROUTE_CONV_ARGS_H
#define ENOKI_ROUTE_CONV_ARGS_H

#include <stddef.h>

enum gw_conv_arg_type {
    GW_ARG_NONE,  /* None */
    GW_ARG_BOOL,  /* True (i = 1) or False (i = 0) */
    GW_ARG_INT,   /* a Python int literal: i, or overflow */
    GW_ARG_FLOAT, /* a Python float literal (inf and nan included): d */
    GW_ARG_STR,   /* anything else: s */
};

struct gw_conv_arg {
    char *name; /* new; NULL for a positional argument */
    enum gw_conv_arg_type type;
    int overflow; /* GW_ARG_INT beyond long long (i is then 0) */
    long long i;
    double d;
    char *s; /* new, for GW_ARG_STR */
};

/* Reads the argument text text[0..n) (need not be NUL-terminated). On success returns GW_OK and
 * sets *out (new array, free with gw_conv_args_free; NULL when *nout is 0) and *nout. On failure
 * returns GW_ERULE, sets *out to NULL and *nout to 0 and writes a one-line reason to err (errlen
 * bytes). */
int gw_conv_args_parse(const char *text, size_t n, struct gw_conv_arg **out, size_t *nout,
                       char *err, size_t errlen);
void gw_conv_args_free(struct gw_conv_arg *args, size_t n);

/* Python's int(s[0..n)) in base 10: surrounding whitespace, a sign, Unicode decimal digits and
 * single underscores between digits. Returns 1 and sets arg->type GW_ARG_INT, arg->i and
 * arg->overflow when s is such a literal; returns 0 and leaves *arg alone otherwise. */
int gw_py_int(const char *s, size_t n, struct gw_conv_arg *arg);

/* Python's float(s[0..n)): returns 1 and sets arg->type GW_ARG_FLOAT and arg->d when s is a float
 * literal (int literals, "1.", ".5", "1e3", "inf", "nan", ... in any case); 0 otherwise. */
int gw_py_float(const char *s, size_t n, struct gw_conv_arg *arg);

#endif
