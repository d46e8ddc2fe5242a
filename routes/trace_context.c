#include "trace_context.h"

#include <string.h>
#include <strings.h>

enum {
    MAX_MEMBERS = 32,      /* list-members of a tracestate */
    MAX_VALUE = 256,       /* characters of a member's value */
    MAX_SIMPLE_KEY = 256,  /* lcalpha 0*255(keychar) */
    MAX_TENANT_ID = 241,   /* (lcalpha / DIGIT) 0*240(keychar) */
    MAX_SYSTEM_ID = 14,    /* lcalpha 0*13(keychar) */
    LONG_MEMBER = 128,     /* members over this are the first cut from a long tracestate */
    MAX_STATE_FIELDS = 32, /* tracestate fields of a request: more cannot all hold a member */
    VERSION_END = 2,       /* "vv" */
    TRACE_ID_AT = 3,       /* "vv-" */
    PARENT_ID_AT = 36,     /* "vv-" 32 "-" */
    FLAGS_AT = 53,         /* "vv-" 32 "-" 16 "-" */
};

static const char hex_digits[] = "0123456789abcdef";

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* SP and HTAB around a value are no part of it (RFC 9110's OWS; the spec's tests send both). */
static void trim(const char **p, size_t *len)
{
    while (*len > 0 && is_ows(**p)) {
        (*p)++;
        (*len)--;
    }
    while (*len > 0 && is_ows((*p)[*len - 1]))
        (*len)--;
}

/* Lowercase hex only: the spec's HEXDIGLC; "4BF9..." is not a trace id. */
static int lower_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Whether p[0..n) is lowercase hex and, for an id, not all zeros. */
static bool hex_id(const char *p, size_t n)
{
    bool nonzero = false;
    for (size_t i = 0; i < n; i++) {
        if (lower_hex_value(p[i]) < 0)
            return false;
        nonzero = nonzero || p[i] != '0';
    }
    return nonzero;
}

bool gw_traceparent_parse(const char *value, size_t len, struct gw_traceparent *out)
{
    const char *v = value;
    trim(&v, &len);
    if (len < GW_TRACEPARENT_LEN)
        return false;
    int hi = lower_hex_value(v[0]), lo = lower_hex_value(v[1]);
    if (hi < 0 || lo < 0 || v[VERSION_END] != '-')
        return false;
    int version = hi * 16 + lo;
    if (version == 0xff)
        return false;
    /* Version 00 is exactly its four fields; a later version may add fields after a '-'. */
    if (version == 0 ? len != GW_TRACEPARENT_LEN
                     : len > GW_TRACEPARENT_LEN && v[GW_TRACEPARENT_LEN] != '-')
        return false;
    if (v[PARENT_ID_AT - 1] != '-' || v[FLAGS_AT - 1] != '-')
        return false;
    if (!hex_id(v + TRACE_ID_AT, GW_TRACE_ID_HEX) || !hex_id(v + PARENT_ID_AT, GW_SPAN_ID_HEX))
        return false;
    hi = lower_hex_value(v[FLAGS_AT]);
    lo = lower_hex_value(v[FLAGS_AT + 1]);
    if (hi < 0 || lo < 0)
        return false;
    memcpy(out->trace_id, v + TRACE_ID_AT, GW_TRACE_ID_HEX);
    out->trace_id[GW_TRACE_ID_HEX] = '\0';
    memcpy(out->parent_id, v + PARENT_ID_AT, GW_SPAN_ID_HEX);
    out->parent_id[GW_SPAN_ID_HEX] = '\0';
    out->flags = (unsigned)(hi * 16 + lo);
    return true;
}

/* --- tracestate ------------------------------------------------------------------------------ */

struct member {
    const char *p;
    size_t len, key_len;
};

/* The members read so far, across every tracestate field of a request. */
struct tracestate {
    struct member members[MAX_MEMBERS];
    size_t n;
    bool ok;
};

static bool is_lcalpha(char c)
{
    return c >= 'a' && c <= 'z';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_keychar(char c)
{
    return is_lcalpha(c) || is_digit(c) || c == '_' || c == '-' || c == '*' || c == '/';
}

/* Level 1's key: simple-key = lcalpha 0*255(keychar), or multi-tenant-key = tenant-id "@"
 * system-id with tenant-id = (lcalpha / DIGIT) 0*240(keychar), system-id = lcalpha 0*13(keychar).
 */
static bool key_valid(const char *k, size_t n)
{
    const char *at = memchr(k, '@', n);
    if (!at) {
        if (n == 0 || n > MAX_SIMPLE_KEY || !is_lcalpha(k[0]))
            return false;
        for (size_t i = 1; i < n; i++)
            if (!is_keychar(k[i]))
                return false;
        return true;
    }
    size_t tenant = (size_t)(at - k), system_len = n - tenant - 1;
    if (tenant == 0 || tenant > MAX_TENANT_ID || system_len == 0 || system_len > MAX_SYSTEM_ID)
        return false;
    if (!is_lcalpha(k[0]) && !is_digit(k[0]))
        return false;
    for (size_t i = 1; i < tenant; i++)
        if (!is_keychar(k[i]))
            return false;
    if (!is_lcalpha(at[1]))
        return false;
    for (size_t i = 2; i <= system_len; i++)
        if (!is_keychar(at[i]))
            return false;
    return true;
}

/* value = 0*255(chr) nblk-chr: printable ASCII but ',' and '=', not ending in a space. */
static bool value_valid(const char *v, size_t n)
{
    if (n == 0 || n > MAX_VALUE || v[n - 1] == ' ')
        return false;
    for (size_t i = 0; i < n; i++)
        if (v[i] < 0x20 || v[i] > 0x7e || v[i] == ',' || v[i] == '=')
            return false;
    return true;
}

/* One list-member (empty or OWS only: skipped). */
static void add_member(struct tracestate *ts, const char *p, size_t len)
{
    trim(&p, &len);
    if (len == 0)
        return;
    const char *eq = memchr(p, '=', len);
    if (!eq || ts->n == MAX_MEMBERS) {
        ts->ok = false;
        return;
    }
    size_t key_len = (size_t)(eq - p);
    if (!key_valid(p, key_len) || !value_valid(eq + 1, len - key_len - 1)) {
        ts->ok = false;
        return;
    }
    /* One entry per key: the spec's last position of each tracing system. */
    for (size_t i = 0; i < ts->n; i++)
        if (ts->members[i].key_len == key_len && memcmp(ts->members[i].p, p, key_len) == 0) {
            ts->ok = false;
            return;
        }
    ts->members[ts->n++] = (struct member){.p = p, .len = len, .key_len = key_len};
}

static void add_field(struct tracestate *ts, const char *value, size_t len)
{
    size_t start = 0;
    for (size_t i = 0; i <= len && ts->ok; i++)
        if (i == len || value[i] == ',') {
            add_member(ts, value + start, i - start);
            start = i + 1;
        }
}

bool gw_tracestate_valid(const char *value, size_t len)
{
    struct tracestate ts;
    ts.n = 0;
    ts.ok = true;
    add_field(&ts, value, len);
    return ts.ok;
}

/* A tracestate over GW_TRACESTATE_MAX cut as the spec says: whole members, those over 128
 * characters first, then from the end. */
static void write_cut(const struct tracestate *ts, char *out)
{
    size_t used = 0;
    for (size_t i = 0; i < ts->n; i++) {
        const struct member *m = &ts->members[i];
        if (m->len > LONG_MEMBER)
            continue;
        size_t need = m->len + (used ? 1 : 0);
        if (used + need > GW_TRACESTATE_MAX)
            break;
        if (used)
            out[used++] = ',';
        memcpy(out + used, m->p, m->len);
        used += m->len;
    }
    out[used] = '\0';
}

/* The tracestate passed on, into out: the fields (values borrowed) as received, trimmed and joined
 * with ',', when they fit; else cut; "" when there is none or it is malformed. */
static void pass_tracestate(const char *const *values, size_t n_values, char *out)
{
    struct tracestate ts; /* members are written before they are read: no need to clear them */
    const char *trimmed[MAX_STATE_FIELDS];
    size_t lens[MAX_STATE_FIELDS];
    size_t total = 0;
    ts.n = 0;
    ts.ok = true;
    out[0] = '\0';
    for (size_t i = 0; i < n_values && ts.ok; i++) {
        trimmed[i] = values[i];
        lens[i] = strlen(values[i]);
        trim(&trimmed[i], &lens[i]);
        add_field(&ts, trimmed[i], lens[i]);
        if (lens[i] > 0)
            total += lens[i] + (total ? 1 : 0);
    }
    if (!ts.ok || ts.n == 0)
        return;
    if (total > GW_TRACESTATE_MAX) {
        write_cut(&ts, out);
        return;
    }
    size_t used = 0;
    for (size_t i = 0; i < n_values; i++) {
        if (lens[i] == 0)
            continue;
        if (used)
            out[used++] = ',';
        memcpy(out + used, trimmed[i], lens[i]);
        used += lens[i];
    }
    out[used] = '\0';
}

/* --- enoki's span ---------------------------------------------------------------------------- */

/* n random bytes as 2n hex digits; never all zeros (an invalid id). */
static void hex_id_of(const unsigned char *bytes, size_t n, char *out)
{
    unsigned char any = 0;
    for (size_t i = 0; i < n; i++)
        any |= bytes[i];
    for (size_t i = 0; i < n; i++) {
        unsigned b = bytes[i];
        if (!any && i == n - 1)
            b = 1;
        out[2 * i] = hex_digits[b >> 4];
        out[2 * i + 1] = hex_digits[b & 0x0f];
    }
    out[2 * n] = '\0';
}

void gw_trace_begin(const struct gw_header_field *fields, size_t n_fields,
                    const unsigned char entropy[GW_TRACE_RANDOM_LEN], struct gw_trace *out)
{
    /* One pass over the fields, most of them passed over by their first letter. */
    const char *parent = NULL;
    size_t n_parents = 0;
    const char *states[MAX_STATE_FIELDS];
    size_t n_states = 0;
    bool states_ok = true;
    for (size_t i = 0; i < n_fields; i++) {
        const char *name = fields[i].name;
        if ((name[0] | 0x20) != 't')
            continue;
        if (strcasecmp(name, "traceparent") == 0) {
            parent = fields[i].value;
            n_parents++;
        } else if (strcasecmp(name, "tracestate") == 0) {
            if (n_states < MAX_STATE_FIELDS)
                states[n_states++] = fields[i].value;
            else
                states_ok = false;
        }
    }
    struct gw_traceparent tp;
    hex_id_of(entropy, GW_SPAN_ID_HEX / 2, out->span_id);
    /* Two traceparent fields cannot be told apart: the spec's "cannot be parsed", a new trace. */
    if (n_parents == 1 && gw_traceparent_parse(parent, strlen(parent), &tp)) {
        memcpy(out->trace_id, tp.trace_id, sizeof(out->trace_id));
        memcpy(out->parent_id, tp.parent_id, sizeof(out->parent_id));
        /* Version 00 defines the sampled bit only and says to send the others as zero. */
        out->flags = tp.flags & 0x01;
        out->tracestate[0] = '\0';
        if (states_ok)
            pass_tracestate(states, n_states, out->tracestate);
        return;
    }
    /* A trace enoki starts is not sampled: the spec's default for a trace a component begins,
     * and what "the sampled flag as received" gives when nothing was received. */
    hex_id_of(entropy + GW_SPAN_ID_HEX / 2, GW_TRACE_ID_HEX / 2, out->trace_id);
    out->parent_id[0] = '\0';
    out->flags = 0;
    out->tracestate[0] = '\0';
}

void gw_trace_format(const struct gw_trace *trace, char out[GW_TRACEPARENT_LEN + 1])
{
    char *p = out;
    memcpy(p, "00-", 3);
    p += 3;
    memcpy(p, trace->trace_id, GW_TRACE_ID_HEX);
    p += GW_TRACE_ID_HEX;
    *p++ = '-';
    memcpy(p, trace->span_id, GW_SPAN_ID_HEX);
    p += GW_SPAN_ID_HEX;
    *p++ = '-';
    *p++ = hex_digits[(trace->flags >> 4) & 0x0f];
    *p++ = hex_digits[trace->flags & 0x0f];
    *p = '\0';
}

void gw_trace_to_context(const struct gw_trace *trace, json_t *context)
{
    char traceparent[GW_TRACEPARENT_LEN + 1];
    gw_trace_format(trace, traceparent);
    /* ASCII by construction (hex digits; a tracestate of printable ASCII): no UTF-8 check. */
    json_object_set_new(context, "traceparent", json_string_nocheck(traceparent));
    if (trace->tracestate[0])
        json_object_set_new(context, "tracestate", json_string_nocheck(trace->tracestate));
    else
        json_object_del(context, "tracestate");
}
