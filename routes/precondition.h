/* precondition.h - a GET or HEAD's conditional request headers (RFC 9110 13), evaluated against a
 * representation's strong entity tag and modification time. Pure: the caller reads the fields
 * (every line of a list field joined with ", ") and parses their dates; the answer says what to
 * send.
 */
#ifndef ENOKI_PRECONDITION_H
#define ENOKI_PRECONDITION_H

#include <stdbool.h>
#include <stdint.h>

enum gw_precondition {
    GW_PRECONDITION_PROCEED,      /* 200: the representation */
    GW_PRECONDITION_NOT_MODIFIED, /* 304: the client's copy is current */
    GW_PRECONDITION_FAILED,       /* 412: If-Match or If-Unmodified-Since does not hold */
};

/* The request's condition fields. A list field is NULL when absent; a date is given (has_*) only
 * when the field holds one valid HTTP-date. */
struct gw_preconditions {
    const char *if_match;
    const char *if_none_match;
    bool has_if_unmodified_since, has_if_modified_since;
    int64_t if_unmodified_since, if_modified_since; /* seconds since the epoch */
};

/* RFC 9110 13.2.2's order for an existing representation: If-Match (strong comparison, "*" any),
 * else If-Unmodified-Since; then If-None-Match (weak comparison), else If-Modified-Since. etag is
 * the representation's strong tag with its quotes ("\"1f-65a0\""), modified its time, never later
 * than the answer's Date. */
enum gw_precondition gw_precondition_evaluate(const struct gw_preconditions *p, const char *etag,
                                              int64_t modified);

/* Whether list, an If-Match or If-None-Match value ("*" or entity tags, some W/), holds etag:
 * with weak comparison W/ is ignored on both sides, with strong comparison a weak tag matches
 * nothing. A list that does not parse holds nothing. */
bool gw_etag_list_matches(const char *list, const char *etag, bool weak);

#endif
