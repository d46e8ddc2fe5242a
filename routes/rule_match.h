/* rule_match.h - does a dynamic part of a werkzeug rule match one path segment, and what did each
 * of its variables capture?
 *
 * Pure and allocation-free for segments of ordinary length. werkzeug matches a part with its regex
 * (routes/rule.h keeps the regex text as the part's key); this module answers the same question
 * without a regex engine, with the preferences of Python's backtracking one, in time linear in the
 * segment's length times the part's tokens.
 */
#ifndef ENOKI_ROUTE_RULE_MATCH_H
#define ENOKI_ROUTE_RULE_MATCH_H

#include "routes/rule.h"

#include <stddef.h>

/* Matches a dynamic part against the whole of s (len bytes) with the preferences of Python's
 * backtracking regex engine (greedy counts longest first, path's lazy .*? shortest first, any's
 * items in order). convs are the converters of the rule that owns part. On a match returns 1 and
 * fills spans[0 .. part->ncaptures - 1] (borrowed slices of s); otherwise returns 0.
 *
 * Built with GW_RULE_SELFCHECK (the fuzzing build), a short segment is matched twice, guided and
 * blind, and a disagreement aborts. */
int gw_rule_part_match(const struct gw_rule_part *part, const struct gw_rule_conv *convs,
                       const char *s, size_t len, struct gw_rule_span *spans);

#endif
