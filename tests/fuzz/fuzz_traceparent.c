/* fuzz_traceparent - libFuzzer harness for routes/trace_context: the traceparent parser, the
 * tracestate checker and enoki's span made from a request's fields.
 *
 * The input is read three ways:
 *   - whole, as one traceparent value (an exact-length heap copy): when it parses, its ids are
 *     lowercase hex, not all zero, and the traceparent written from them parses back to the same
 *     ids and flags;
 *   - whole, as one tracestate: the verdict does not change when the value is checked again, and a
 *     valid one holds printable ASCII and tabs only, and at most 32 '=' (one per member);
 *   - as lines: the first a traceparent field, the others tracestate fields (cut at a NUL, as a
 *     header's C string is), plus a repeated traceparent field when the input starts with '2'.
 *     enoki's span always formats as a valid version-00 traceparent with the given span id; it
 *     continues the trace exactly when there is one traceparent field and it parses (same trace
 *     id, the caller's span as parent, the sampled bit only); a tracestate passed on is at most 512
 *     characters and valid itself; none is passed on a new trace.
 * Properties: never a crash, a leak or a read past the input.
 */
#include "fuzz_util.h"

#include "routes/trace_context.h"

enum { MAX_FIELDS = 40 };

static const unsigned char random_bytes[GW_TRACE_RANDOM_LEN] = {
    0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07, 0x18, 0x29, 0x3a, 0x4b, 0x5c,
    0x6d, 0x7e, 0x8f, 0x90, 0x01, 0x12, 0x23, 0x34, 0x45, 0x56, 0x67, 0x78,
};

static bool lower_hex_id(const char *s, size_t n)
{
    bool nonzero = false;
    if (strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
        nonzero = nonzero || s[i] != '0';
    }
    return nonzero;
}

static void check_parse(const uint8_t *data, size_t size)
{
    char *copy = fuzz_copy((const char *)data, size);
    struct gw_traceparent tp;
    if (gw_traceparent_parse(copy, size, &tp)) {
        FUZZ_ASSERT(size >= GW_TRACEPARENT_LEN);
        FUZZ_ASSERT(lower_hex_id(tp.trace_id, GW_TRACE_ID_HEX));
        FUZZ_ASSERT(lower_hex_id(tp.parent_id, GW_SPAN_ID_HEX));
        FUZZ_ASSERT(tp.flags <= 0xff);
        char again[GW_TRACEPARENT_LEN + 1];
        snprintf(again, sizeof(again), "00-%s-%s-%02x", tp.trace_id, tp.parent_id, tp.flags);
        struct gw_traceparent back;
        FUZZ_ASSERT(gw_traceparent_parse(again, GW_TRACEPARENT_LEN, &back));
        FUZZ_ASSERT(strcmp(back.trace_id, tp.trace_id) == 0);
        FUZZ_ASSERT(strcmp(back.parent_id, tp.parent_id) == 0);
        FUZZ_ASSERT(back.flags == tp.flags);
    }
    bool valid = gw_tracestate_valid(copy, size);
    FUZZ_ASSERT(valid == gw_tracestate_valid(copy, size));
    if (valid) {
        /* Printable ASCII and tabs only, one '=' per member, 32 members at most. */
        size_t equals = 0;
        for (size_t i = 0; i < size; i++) {
            FUZZ_ASSERT(copy[i] == '\t' || (copy[i] >= 0x20 && copy[i] <= 0x7e));
            equals += copy[i] == '=';
        }
        FUZZ_ASSERT(equals <= 32);
    }
    free(copy);
}

static void check_span(const uint8_t *data, size_t size)
{
    struct gw_header_field fields[MAX_FIELDS];
    char *owned[MAX_FIELDS];
    size_t n = 0;
    struct fuzz_slice rest = {(const char *)data, size}, line;
    while (n < MAX_FIELDS - 1 && fuzz_next_line(&rest, &line)) {
        owned[n] = fuzz_cstr(line.p, line.n);
        fields[n].name = n == 0 ? "traceparent" : "tracestate";
        fields[n].value = owned[n];
        n++;
    }
    size_t n_fields = n;
    bool twice = size > 0 && data[0] == '2' && n > 0;
    if (twice)
        fields[n_fields++] = (struct gw_header_field){.name = "TRACEPARENT", .value = owned[0]};

    struct gw_trace t;
    gw_trace_begin(fields, n_fields, random_bytes, &t);
    char out[GW_TRACEPARENT_LEN + 1];
    gw_trace_format(&t, out);
    FUZZ_ASSERT(strlen(out) == GW_TRACEPARENT_LEN && memcmp(out, "00-", 3) == 0);
    struct gw_traceparent mine;
    FUZZ_ASSERT(gw_traceparent_parse(out, GW_TRACEPARENT_LEN, &mine));
    FUZZ_ASSERT(strcmp(mine.parent_id, "a1b2c3d4e5f60718") == 0);
    FUZZ_ASSERT(mine.flags <= 1);

    struct gw_traceparent theirs;
    bool continued = n > 0 && !twice && gw_traceparent_parse(owned[0], strlen(owned[0]), &theirs);
    if (continued) {
        FUZZ_ASSERT(strcmp(t.trace_id, theirs.trace_id) == 0);
        FUZZ_ASSERT(strcmp(t.parent_id, theirs.parent_id) == 0);
        FUZZ_ASSERT(t.flags == (theirs.flags & 1));
    } else {
        FUZZ_ASSERT(strcmp(t.trace_id, "293a4b5c6d7e8f900112233445566778") == 0);
        FUZZ_ASSERT(t.parent_id[0] == '\0' && t.flags == 0 && t.tracestate[0] == '\0');
    }
    size_t state_len = strlen(t.tracestate);
    FUZZ_ASSERT(state_len <= GW_TRACESTATE_MAX);
    FUZZ_ASSERT(gw_tracestate_valid(t.tracestate, state_len));

    json_t *context = json_pack("{s:s}", "tracestate", "x");
    gw_trace_to_context(&t, context);
    FUZZ_ASSERT(strcmp(json_string_value(json_object_get(context, "traceparent")), out) == 0);
    FUZZ_ASSERT((json_object_get(context, "tracestate") != NULL) == (state_len > 0));
    json_decref(context);
    for (size_t i = 0; i < n; i++)
        free(owned[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_parse(data, size);
    check_span(data, size);
    return 0;
}
