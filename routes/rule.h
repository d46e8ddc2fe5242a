/* rule.h - one werkzeug 2.2 rule, parsed into the parts its StateMachineMatcher walks.
 *
 * Pure functions over bytes (no table, no I/O), so the parser can be fuzzed on its own. The route
 * table (table.c) owns the state machine; it asks this module what the parts of a rule are
 * (gw_rule_parse) and how two parts order and compare, routes/rule_match.h whether a dynamic part
 * matches one path segment, and routes/converter.h what typed value a converter makes of the text
 * it matched. The converters' arguments are read by routes/conv_args.h.
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

#include "routes/converter.h"

#include <stddef.h>

/* Variables per rule; werkzeug has no limit, but a fixed bound keeps matching allocation-free. */
#define GW_RULE_MAX_VARS 64

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

#endif
