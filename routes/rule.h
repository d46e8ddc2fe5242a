/* rule.h - one werkzeug 2.2 rule, parsed into the parts its StateMachineMatcher walks.
 *
 * Pure functions over bytes (no table, no I/O), so the parser can be fuzzed on its own. The route
 * table (table.c) owns the state machine; this module answers three questions for it: what are the
 * parts of a rule (gw_rule_parse), does a dynamic part match one path segment (gw_rule_part_match),
 * and what typed value does a converter make of the text it matched (gw_rule_conv_value).
 *
 * werkzeug splits a rule on "/" into parts. A part without variables is static: its key is the
 * text itself. A part with variables is dynamic: its key is the regex werkzeug builds for it
 * (re.escape'd text, "(<converter regex>)", "\Z"), byte for byte, because werkzeug merges two
 * rules' transitions exactly when their parts compare equal (key, final, weight). A "final" part
 * holds a path converter: it and everything after it, slashes included, is one part that consumes
 * the rest of the path.
 */
#ifndef ENOKI_ROUTE_RULE_H
#define ENOKI_ROUTE_RULE_H

#include <jansson.h>
#include <stddef.h>

/* Variables per rule; werkzeug has no limit, but a fixed bound keeps matching allocation-free. */
#define GW_RULE_MAX_VARS 64

enum gw_conv_kind {
    GW_CONV_STRING, /* "default" and "string": [^/]{min,max}, counted in code points */
    GW_CONV_ANY,    /* any(a, b, ...): one of the items, tried in rule order */
    GW_CONV_PATH,   /* [^/].*? over the rest of the path, slashes included */
    GW_CONV_INT,    /* -?\d+ (Unicode decimal digits, like Python's \d) */
    GW_CONV_FLOAT,  /* -?\d+\.\d+ */
    GW_CONV_UUID,   /* 8-4-4-4-12 hex digits, either case */
};

/* A min/max bound as werkzeug stores it: None, a Python int (or bool) or a float. */
struct gw_rule_bound {
    int set;
    int is_int;
    long long i;
    double d;
};

struct gw_rule_conv {
    enum gw_conv_kind kind;
    char *name;    /* new: the variable name */
    size_t minlen; /* string: minimum length in code points */
    size_t maxlen; /* string: maximum length, if has_maxlen */
    int has_maxlen;
    char **items; /* any: new strings, in rule order (duplicates kept, as in werkzeug's regex) */
    size_t nitems;
    int is_signed;          /* int, float: accept a leading '-' */
    long long fixed_digits; /* int: 0, or the exact length of the matched text (sign included) */
    struct gw_rule_bound min, max; /* int, float */
};

/* A dynamic part is a sequence of tokens: literal text, or a capture by one of the rule's
 * converters. Literal text is raw (not regex-escaped). */
struct gw_rule_token {
    char *lit; /* new; NULL for a capture */
    size_t len;
    size_t conv; /* for a capture: index into the rule's convs */
};

/* werkzeug's Weighting(-len(static_weights), static_weights, -len(argument_weights),
 * argument_weights) where static_weights is [(index, -length)]. Stored without the minus signs;
 * gw_rule_weight_cmp puts them back. */
struct gw_rule_weight {
    size_t nstatic;
    size_t *static_len; /* new: length in code points of each static chunk, in order */
    size_t nargs;
    int *arg_weight; /* new: converter weights (int/float 50, string/any/uuid 100, path 200) */
};

struct gw_rule_part {
    int is_static;
    int final;
    char *key; /* new: static text, or werkzeug's regex text for a dynamic part */
    size_t key_len;
    struct gw_rule_token *tokens; /* new; empty for a static part */
    size_t ntokens;
    size_t ncaptures; /* how many values this part adds */
    struct gw_rule_weight weight;
};

struct gw_rule {
    struct gw_rule_part *parts; /* new: the parts after splitting on "/"; parts[0] is always "" */
    size_t nparts;
    struct gw_rule_conv *convs; /* new: one per variable, in rule order */
    size_t nconvs;
};

/* Text matched by one capture: a borrowed slice of the matched path. */
struct gw_rule_span {
    const char *ptr;
    size_t len;
};

/* Parses werkzeug rule text (len bytes, need not be NUL-terminated). On success returns GW_OK and
 * sets *out (new, free with gw_rule_free). On failure returns GW_ERULE, sets *out to NULL and
 * writes a one-line reason to err (errlen bytes, always NUL-terminated if errlen > 0). */
int gw_rule_parse(const char *text, size_t len, struct gw_rule **out, char *err, size_t errlen);
void gw_rule_free(struct gw_rule *rule);

/* Orders two weights as Python orders werkzeug's Weighting tuples: <0, 0 or >0. */
int gw_rule_weight_cmp(const struct gw_rule_weight *a, const struct gw_rule_weight *b);

/* Non-zero if werkzeug's RulePart.__eq__ holds: same kind, key, finality and weight. */
int gw_rule_part_equal(const struct gw_rule_part *a, const struct gw_rule_part *b);

/* Matches a dynamic part against the whole of s (len bytes) with the preferences of Python's
 * backtracking regex engine (greedy counts longest first, path's lazy .*? shortest first, any's
 * items in order). convs are the converters of the rule that owns part. On a match returns 1 and
 * fills spans[0 .. part->ncaptures - 1]; otherwise returns 0. */
int gw_rule_part_match(const struct gw_rule_part *part, const struct gw_rule_conv *convs,
                       const char *s, size_t len, struct gw_rule_span *spans);

/* werkzeug's to_python: makes the typed value of text a converter matched. Returns GW_OK and a new
 * reference in *out, or GW_ENOMATCH when werkzeug would raise ValidationError (fixed_digits, min,
 * max) or the value has no JSON form (an int beyond 64 bits, a float that overflows, text that is
 * not UTF-8). */
int gw_rule_conv_value(const struct gw_rule_conv *conv, const char *s, size_t len, json_t **out);

#endif
