/* converter.h - werkzeug 2.2's URL converters (default/string, any, path, int, float, uuid): built
 * from their arguments as werkzeug's constructors build them, and their to_python.
 *
 * Pure. A rule's variables each get one struct gw_rule_conv (routes/rule.h keeps them in rule
 * order); part matching (routes/rule_match.h) reads its fields to match the converter's regex.
 */
#ifndef ENOKI_ROUTE_CONVERTER_H
#define ENOKI_ROUTE_CONVERTER_H

#include <jansson.h>
#include <stddef.h>

struct gw_conv_arg;
struct gw_strbuf;

enum gw_conv_kind {
    GW_CONV_STRING, /* "default" and "string": [^/]{min,max}, counted in code points */
    GW_CONV_ANY,    /* any(a, b, ...): one of the items, tried in rule order */
    GW_CONV_PATH,   /* [^/].*? over the rest of the path, slashes included */
    GW_CONV_INT,    /* -?\d+ (Unicode decimal digits, like Python's \d) */
    GW_CONV_FLOAT,  /* -?\d+\.\d+ */
    GW_CONV_UUID,   /* 8-4-4-4-12 hex digits, either case */
};

/* The length of the text a uuid converter matches. */
#define GW_CONV_UUID_LEN 36

/* A min/max bound as werkzeug stores it: None, a Python int (or bool) or a float. */
struct gw_rule_bound {
    int set;
    int is_int;
    long long i;
    double d;
};

struct gw_rule_conv {
    enum gw_conv_kind kind;
    char *name;    /* new: the variable name (set by the rule parser) */
    size_t minlen; /* string: minimum length in code points */
    size_t maxlen; /* string: maximum length, if has_maxlen */
    int has_maxlen;
    char **items; /* any: new strings, in rule order (duplicates kept, as in werkzeug's regex) */
    size_t nitems;
    int is_signed;          /* int, float: accept a leading '-' */
    long long fixed_digits; /* int: 0, or the exact length of the matched text (sign included) */
    struct gw_rule_bound min, max; /* int, float */
};

/* One of werkzeug's converter classes (opaque; static, never freed). */
struct gw_converter;

/* The converter named name[0..n) ("int", "uuid", ...); n == 0 gives "default", the converter of a
 * bare <name>. Returns NULL for an unknown name (the lookup is case-sensitive, as werkzeug's). */
const struct gw_converter *gw_converter_find(const char *name, size_t n);

/* The converter's weight in werkzeug's rule ordering: int/float 50, string/any/uuid 100, path 200.
 */
int gw_converter_weight(const struct gw_converter *converter);

/* Fills conv (zeroed by the caller; its name is left alone) from the arguments args[0..nargs)
 * (borrowed, as gw_conv_args_parse read them) and appends werkzeug's regex for the converter to
 * regex. Returns GW_OK, or GW_ERULE with a one-line reason in err (errlen bytes) when the arguments
 * do not fit the converter; conv may then hold allocations: gw_converter_clear frees them either
 * way. */
int gw_converter_build(const struct gw_converter *converter, const struct gw_conv_arg *args,
                       size_t nargs, struct gw_rule_conv *conv, struct gw_strbuf *regex, char *err,
                       size_t errlen);

/* Frees what conv owns (name, items); conv itself is the caller's. */
void gw_converter_clear(struct gw_rule_conv *conv);

/* Whether s[pos..len) starts with what the uuid regex matches: 8-4-4-4-12 hex digits, either case
 * (GW_CONV_UUID_LEN bytes). Returns 1 or 0. */
int gw_converter_uuid_at(const char *s, size_t pos, size_t len);

/* werkzeug's to_python: makes the typed value of text a converter matched. Returns GW_OK and a new
 * reference in *out, or GW_ENOMATCH (*out NULL) when werkzeug would raise ValidationError
 * (fixed_digits, min, max) or the value has no JSON form (an int of more than 4,300 digits, text
 * that is not UTF-8). An int beyond 64 bits or a float that overflows is a carried number
 * (core/json.h). */
int gw_converter_value(const struct gw_rule_conv *conv, const char *s, size_t len, json_t **out);

#endif
