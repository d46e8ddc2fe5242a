/* trace_context.h - W3C Trace Context Level 1 (https://www.w3.org/TR/trace-context/): a request's
 * traceparent and tracestate read, and enoki's span made a child of the caller's
 * (docs/trace-context.md). Pure: no randomness (the caller passes random bytes in), no allocation
 * but the context data's strings.
 *
 * enoki's span: a new span id for every request. It continues the caller's trace when the request
 * carries exactly one valid traceparent (same trace id, the sampled flag as received, the
 * tracestate passed on); otherwise it starts a new trace (new trace id, flags 00, no tracestate),
 * as the spec asks for a traceparent that cannot be parsed.
 */
#ifndef ENOKI_TRACE_CONTEXT_H
#define ENOKI_TRACE_CONTEXT_H

#include "routes/http_mode.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum {
    GW_TRACE_ID_HEX = 32,     /* hex digits of a trace id (16 bytes) */
    GW_SPAN_ID_HEX = 16,      /* hex digits of a span id (8 bytes) */
    GW_TRACEPARENT_LEN = 55,  /* "00-" trace-id "-" span-id "-" flags */
    GW_TRACESTATE_MAX = 512,  /* the longest tracestate passed on: the spec's SHOULD, no more */
    GW_TRACE_RANDOM_LEN = 24, /* random bytes gw_trace_begin takes: 8 for a span, 16 for a trace */
};

/* A traceparent as read: its ids in lowercase hex, NUL-terminated, and the flags byte. */
struct gw_traceparent {
    char trace_id[GW_TRACE_ID_HEX + 1];
    char parent_id[GW_SPAN_ID_HEX + 1];
    unsigned flags;
};

/* Reads one traceparent value (value[0..len), SP and HTAB around it ignored): version 2 lowercase
 * hex digits other than "ff"; for 00 exactly trace-id "-" parent-id "-" flags; for a higher version
 * the same four fields and then either the end or "-" and anything (the spec's rule for versions it
 * does not know). Ids are lowercase hex and not all zero. Returns true and fills *out when valid.
 */
bool gw_traceparent_parse(const char *value, size_t len, struct gw_traceparent *out);

/* Whether a tracestate is well-formed: members separated by ',' (SP and HTAB around each ignored,
 * empty ones allowed), at most 32 non-empty ones, each key "=" value with Level 1's key syntax
 * (simple-key, or tenant-id "@" system-id) and a value of 1 to 256 printable ASCII characters
 * without ',' and '=', not ending in a space, no key twice. */
bool gw_tracestate_valid(const char *value, size_t len);

/* enoki's span of one request or call. */
struct gw_trace {
    char trace_id[GW_TRACE_ID_HEX + 1];
    char span_id[GW_SPAN_ID_HEX + 1];       /* enoki's own */
    char parent_id[GW_SPAN_ID_HEX + 1];     /* the caller's span, "" for a trace enoki started */
    unsigned flags;                         /* the sampled bit only: version 00 defines no other */
    char tracestate[GW_TRACESTATE_MAX + 1]; /* passed on; "" for none */
};

/* enoki's span for a request with these header fields (borrowed; names in any case): every
 * traceparent and tracestate field is looked at, several tracestate fields joined with ',' as RFC
 * 9110 combines them (more than 32 fields: dropped, as they could not all hold a member), several
 * traceparent fields make it invalid. A valid tracestate longer than
 * GW_TRACESTATE_MAX is cut by whole members as the spec says (those over 128 characters first, then
 * from the end). entropy: GW_TRACE_RANDOM_LEN bytes from a CSPRNG; the span id is made of the first
 * 8, a new trace id of the next 16 (an all-zero id, 2^-64 likely, gets a last byte of 1). */
void gw_trace_begin(const struct gw_header_field *fields, size_t n_fields,
                    const unsigned char entropy[GW_TRACE_RANDOM_LEN], struct gw_trace *out);

/* Writes enoki's traceparent, "00-<trace id>-<span id>-<flags>", into out (NUL-terminated). */
void gw_trace_format(const struct gw_trace *trace, char out[GW_TRACEPARENT_LEN + 1]);

/* Sets context data's "traceparent" to enoki's span and "tracestate" to what is passed on, or
 * removes "tracestate" when nothing is: these keys are enoki's alone, whatever a header mapped
 * by GATEWAY.context_headers or a claim put there before. */
void gw_trace_to_context(const struct gw_trace *trace, json_t *context);

#endif
