/* Unit tests for routes/trace_context: W3C Trace Context Level 1's traceparent and tracestate rules
 * one by one, enoki's span as a child of the caller's or the root of a new trace, the cut of a long
 * tracestate, and round trips. */
#include "routes/trace_context.h"

#include "tests/unit/suites.h"

#include <stdio.h>
#include <string.h>

#define TRACE "4bf92f3577b34da6a3ce929d0e0e4736"
#define PARENT "00f067aa0ba902b7"
#define VALID "00-" TRACE "-" PARENT "-01"

static bool parses(const char *value, struct gw_traceparent *out)
{
    return gw_traceparent_parse(value, strlen(value), out);
}

START_TEST(traceparent_valid)
{
    static const struct {
        const char *value;
        unsigned flags;
    } cases[] = {
        {VALID, 0x01},
        {"00-" TRACE "-" PARENT "-00", 0x00},
        {"00-" TRACE "-" PARENT "-09", 0x09}, /* read as sent; enoki sends the sampled bit only */
        {"00-" TRACE "-" PARENT "-ff", 0xff},
        {" " VALID, 0x01}, /* OWS around the value */
        {"\t" VALID, 0x01},
        {VALID " ", 0x01},
        {VALID "\t", 0x01},
        {"01-" TRACE "-" PARENT "-01", 0x01}, /* a later version: its four fields */
        {"cc-" TRACE "-" PARENT "-01-what-the-future-will-be-like", 0x01},
        {"fe-" TRACE "-" PARENT "-00-", 0x00},
        {"00-00000000000000000000000000000001-0000000000000001-00", 0x00},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct gw_traceparent tp;
        ck_assert_msg(parses(cases[i].value, &tp), "'%s'", cases[i].value);
        ck_assert_uint_eq(tp.flags, cases[i].flags);
        if (strstr(cases[i].value, TRACE)) {
            ck_assert_str_eq(tp.trace_id, TRACE);
            ck_assert_str_eq(tp.parent_id, PARENT);
        }
    }
}
END_TEST

START_TEST(traceparent_invalid)
{
    static const char *const cases[] = {
        "",
        " ",
        "00",
        "00-" TRACE "-" PARENT "-1",                               /* flags too short */
        "00-" TRACE "-" PARENT "-001",                             /* flags too long */
        "00-" TRACE "-" PARENT "-01-extra",                        /* fields after version 00 */
        "00-" TRACE "-" PARENT "-01 x",                            /* anything after version 00 */
        "ff-" TRACE "-" PARENT "-01",                              /* version ff is forbidden */
        "0A-" TRACE "-" PARENT "-01",                              /* uppercase version */
        "0-" TRACE "-" PARENT "-01x",                              /* version of one digit */
        "000-" TRACE "-" PARENT "-1",                              /* version of three */
        "0g-" TRACE "-" PARENT "-01",                              /* not hex */
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-" PARENT "-01",       /* uppercase trace id */
        "00-" TRACE "-00F067AA0BA902B7-01",                        /* uppercase parent id */
        "00-" TRACE "-" PARENT "-0A",                              /* uppercase flags */
        "00-" TRACE "-" PARENT "-0x",                              /* flags not hex */
        "00-00000000000000000000000000000000-" PARENT "-01",       /* all-zero trace id */
        "00-" TRACE "-0000000000000000-01",                        /* all-zero parent id */
        "00-4bf92f3577b34da6a3ce929d0e0e473-" PARENT "0-01",       /* trace id of 31 */
        "00-4bf92f3577b34da6a3ce929d0e0e47360-0f067aa0ba902b7-01", /* trace id of 33 */
        "00-4bf92f3577b34da6a3ce929d0e0e473g-" PARENT "-01",       /* not hex */
        "00-" TRACE "-00f067aa0ba902bz-01",                        /* not hex */
        "00_" TRACE "-" PARENT "-01",                              /* separators */
        "00-" TRACE "_" PARENT "-01",
        "00-" TRACE "-" PARENT "_01",
        "00 -" TRACE "-" PARENT "-01",
        "00-" TRACE " " PARENT "-01",
        "cc-" TRACE "-" PARENT "-01.what", /* later version: '-' or end */
        "cc-" TRACE "-" PARENT "-0",       /* later version, too short */
        "cc-" TRACE "-" PARENT,
        "00-" TRACE "-" PARENT "-01\r",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct gw_traceparent tp;
        ck_assert_msg(!parses(cases[i], &tp), "'%s'", cases[i]);
    }
    /* A NUL inside the value. */
    char nul[] = VALID;
    nul[10] = '\0';
    struct gw_traceparent tp;
    ck_assert(!gw_traceparent_parse(nul, sizeof(nul) - 1, &tp));
}
END_TEST

/* A string of n times c. */
static char *repeat(char *buf, char c, size_t n)
{
    memset(buf, c, n);
    buf[n] = '\0';
    return buf;
}

START_TEST(tracestate_rules)
{
    static const struct {
        const char *value;
        bool valid;
    } cases[] = {
        {"congo=t61rcWkgMzE", true},
        {"rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", true},
        {"", true}, /* empty headers and members are allowed */
        {" , ,\t", true},
        {"a=1 , b=2", true},
        {",a=1,,b=2,", true},
        {"a= b", true}, /* a value may begin with spaces */
        {"a=!\"#$%&'()*+-./:;<>?@[\\]^_`{|}~", true},
        {"a_-*/b=1", true},
        {"tenant@system=1", true},
        {"0tenant@sys=1", true}, /* a tenant id may begin with a digit */
        {"t_-*/@s0_-*/=1", true},
        {"Congo=1", false}, /* keys are lowercase */
        {"1abc=1", false},  /* a simple key begins with a letter */
        {"=1", false},
        {"a=", false},
        {"a", false},
        {"a=1,b", false},
        {"a=b=c", false},
        {"a=1,a=2", false}, /* one entry per key */
        {"a=1, b=2 ,a=3", false},
        {"a b=1", false},
        {"a=1\tb", false},
        {"a=\x7f", false},
        {"a=\x01", false},
        {"a=\xc3\xa9", false},
        {"@sys=1", false},
        {"t@=1", false},
        {"t@1sys=1", false},
        {"t@s@x=1", false},
        {"t@abcdefghijklmno=1", false}, /* system id of 15 */
        {"t.x=1", false},
        {"a=1;b", true}, /* ";" is a value character */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        ck_assert_msg(gw_tracestate_valid(cases[i].value, strlen(cases[i].value)) == cases[i].valid,
                      "'%s'", cases[i].value);
    /* t@abcdefghijklmn: a system id of 14 is the longest. */
    ck_assert(gw_tracestate_valid("t@abcdefghijklmn=1", 18));
}
END_TEST

START_TEST(tracestate_limits)
{
    char buf[2048], part[400];
    /* Keys up to 256, tenant ids up to 241, values up to 256 characters. */
    snprintf(buf, sizeof(buf), "%s=1", repeat(part, 'k', 256));
    ck_assert(gw_tracestate_valid(buf, strlen(buf)));
    snprintf(buf, sizeof(buf), "%s=1", repeat(part, 'k', 257));
    ck_assert(!gw_tracestate_valid(buf, strlen(buf)));
    snprintf(buf, sizeof(buf), "%s@s=1", repeat(part, 't', 241));
    ck_assert(gw_tracestate_valid(buf, strlen(buf)));
    snprintf(buf, sizeof(buf), "%s@s=1", repeat(part, 't', 242));
    ck_assert(!gw_tracestate_valid(buf, strlen(buf)));
    snprintf(buf, sizeof(buf), "k=%s", repeat(part, 'v', 256));
    ck_assert(gw_tracestate_valid(buf, strlen(buf)));
    snprintf(buf, sizeof(buf), "k=%s", repeat(part, 'v', 257));
    ck_assert(!gw_tracestate_valid(buf, strlen(buf)));
    snprintf(buf, sizeof(buf), "k=%s ", repeat(part, 'v', 256)); /* OWS is no part of it */
    ck_assert(gw_tracestate_valid(buf, strlen(buf)));
    /* 32 members at most. */
    size_t len = 0;
    for (int i = 0; i < 32; i++)
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%sk%d=%d", i ? "," : "", i, i);
    ck_assert(gw_tracestate_valid(buf, len));
    len += (size_t)snprintf(buf + len, sizeof(buf) - len, ",k32=32");
    ck_assert(!gw_tracestate_valid(buf, len));
}
END_TEST

/* ---- enoki's span --------------------------------------------------------------------------- */

static const unsigned char RANDOM[GW_TRACE_RANDOM_LEN] = {
    0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, /* the span id */
    0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10, /* a new trace id */
    0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78,
};
#define SPAN "0123456789abcdef"
#define NEW_TRACE "fedcba98765432100f1e2d3c4b5a6978"

struct fields {
    struct gw_header_field f[8];
    size_t n;
};

static void begin(struct gw_trace *t, const char *const *pairs)
{
    struct fields h = {0};
    for (size_t i = 0; pairs[i]; i += 2)
        h.f[h.n++] = (struct gw_header_field){.name = pairs[i], .value = pairs[i + 1]};
    memset(t, 'X', sizeof(*t));
    gw_trace_begin(h.f, h.n, RANDOM, t);
}

static void assert_new_trace(const struct gw_trace *t)
{
    ck_assert_str_eq(t->trace_id, NEW_TRACE);
    ck_assert_str_eq(t->span_id, SPAN);
    ck_assert_str_eq(t->parent_id, "");
    ck_assert_uint_eq(t->flags, 0);
    ck_assert_str_eq(t->tracestate, "");
}

START_TEST(span_continues_the_callers_trace)
{
    struct gw_trace t;
    begin(&t, (const char *[]){"Host", "x", "traceparent", VALID, "tracestate",
                               "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", NULL});
    ck_assert_str_eq(t.trace_id, TRACE);
    ck_assert_str_eq(t.parent_id, PARENT);
    ck_assert_str_eq(t.span_id, SPAN);
    ck_assert_uint_eq(t.flags, 1);
    ck_assert_str_eq(t.tracestate, "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
    char out[GW_TRACEPARENT_LEN + 1];
    gw_trace_format(&t, out);
    ck_assert_str_eq(out, "00-" TRACE "-" SPAN "-01");

    /* Names in any case; the sampled flag as received, the other bits zero. */
    begin(&t, (const char *[]){"TRACEPARENT", "00-" TRACE "-" PARENT "-fe", NULL});
    ck_assert_str_eq(t.trace_id, TRACE);
    ck_assert_uint_eq(t.flags, 0);
    ck_assert_str_eq(t.tracestate, "");
    begin(&t, (const char *[]){"TraceParent", "00-" TRACE "-" PARENT "-ff", NULL});
    ck_assert_uint_eq(t.flags, 1);
    gw_trace_format(&t, out);
    ck_assert_str_eq(out, "00-" TRACE "-" SPAN "-01");

    /* A later version is sent on as version 00. */
    begin(&t, (const char *[]){"traceparent", "cc-" TRACE "-" PARENT "-01-more", NULL});
    gw_trace_format(&t, out);
    ck_assert_str_eq(out, "00-" TRACE "-" SPAN "-01");
}
END_TEST

START_TEST(span_starts_a_new_trace)
{
    struct gw_trace t;
    begin(&t, (const char *[]){"Host", "x", NULL});
    assert_new_trace(&t);
    /* Invalid: the tracestate goes too, however good. */
    begin(&t,
          (const char *[]){"traceparent", "00-" TRACE "-" PARENT "-1", "tracestate", "a=1", NULL});
    assert_new_trace(&t);
    begin(&t, (const char *[]){"traceparent", "ff-" TRACE "-" PARENT "-01", NULL});
    assert_new_trace(&t);
    begin(&t, (const char *[]){"traceparent", "", "tracestate", "a=1", NULL});
    assert_new_trace(&t);
    /* Two traceparent fields, even the same twice. */
    begin(&t,
          (const char *[]){"traceparent", VALID, "traceparent", VALID, "tracestate", "a=1", NULL});
    assert_new_trace(&t);
    /* A tracestate alone starts nothing. */
    begin(&t, (const char *[]){"tracestate", "a=1", NULL});
    assert_new_trace(&t);
    char out[GW_TRACEPARENT_LEN + 1];
    gw_trace_format(&t, out);
    ck_assert_str_eq(out, "00-" NEW_TRACE "-" SPAN "-00");
}
END_TEST

START_TEST(span_ids_never_zero)
{
    static const unsigned char zeros[GW_TRACE_RANDOM_LEN] = {0};
    struct gw_trace t;
    gw_trace_begin(NULL, 0, zeros, &t);
    ck_assert_str_eq(t.span_id, "0000000000000001");
    ck_assert_str_eq(t.trace_id, "00000000000000000000000000000001");
    char out[GW_TRACEPARENT_LEN + 1];
    gw_trace_format(&t, out);
    struct gw_traceparent tp;
    ck_assert(parses(out, &tp));
}
END_TEST

START_TEST(tracestate_passed_on)
{
    struct gw_trace t;
    /* Several fields joined, empty ones skipped, OWS around each field dropped. */
    begin(&t, (const char *[]){"traceparent", VALID, "tracestate", " a=1 ", "TraceState", "",
                               "tracestate", "b=2,,c=3", NULL});
    ck_assert_str_eq(t.tracestate, "a=1,b=2,,c=3");
    /* Malformed: dropped, the trace goes on. */
    begin(&t,
          (const char *[]){"traceparent", VALID, "tracestate", "a=1", "tracestate", "a=2", NULL});
    ck_assert_str_eq(t.trace_id, TRACE);
    ck_assert_str_eq(t.tracestate, "");
    begin(&t, (const char *[]){"traceparent", VALID, "tracestate", "garbage", NULL});
    ck_assert_str_eq(t.trace_id, TRACE);
    ck_assert_str_eq(t.parent_id, PARENT);
    ck_assert_str_eq(t.tracestate, "");
    begin(&t, (const char *[]){"traceparent", VALID, "tracestate", " , ", NULL});
    ck_assert_str_eq(t.tracestate, "");
}
END_TEST

START_TEST(tracestate_fields_at_most_32)
{
    struct gw_header_field f[40];
    char values[40][16];
    size_t n = 0;
    f[n++] = (struct gw_header_field){.name = "traceparent", .value = VALID};
    for (int i = 0; i < 32; i++) {
        snprintf(values[i], sizeof(values[i]), "k%d=1", i);
        f[n++] = (struct gw_header_field){.name = "tracestate", .value = values[i]};
    }
    struct gw_trace t;
    gw_trace_begin(f, n, RANDOM, &t);
    ck_assert_uint_eq(strlen(t.tracestate), 10 * 4 + 22 * 5 + 31);
    ck_assert(strncmp(t.tracestate, "k0=1,k1=1,", 10) == 0);
    f[n++] = (struct gw_header_field){.name = "Tracestate", .value = ""};
    gw_trace_begin(f, n, RANDOM, &t);
    ck_assert_str_eq(t.trace_id, TRACE);
    ck_assert_str_eq(t.tracestate, "");
}
END_TEST

START_TEST(tracestate_cut_by_whole_members)
{
    char state[2048], part[400], expected[600];
    /* 512 exactly: passed on as received. */
    snprintf(state, sizeof(state), "a=%s,b=%s", repeat(part, 'x', 250), part);
    ck_assert_uint_eq(strlen(state), 505);
    snprintf(state + 505, sizeof(state) - 505, ", c=1");
    ck_assert_uint_eq(strlen(state), 510);
    snprintf(state + 510, sizeof(state) - 510, ",,");
    struct gw_trace t;
    begin(&t, (const char *[]){"traceparent", VALID, "tracestate", state, NULL});
    ck_assert_str_eq(t.tracestate, state);

    /* Longer: members over 128 characters go first, then members from the end. */
    size_t len = (size_t)snprintf(state, sizeof(state), "big=%s", repeat(part, 'x', 196));
    size_t elen = 0;
    for (int i = 0; i < 20; i++) {
        char member[420];
        snprintf(member, sizeof(member), "k%02d=%s", i, repeat(part, 'v', 30));
        len += (size_t)snprintf(state + len, sizeof(state) - len, ",%s", member);
        if (i < 14) /* 14 members of 34 and 13 commas: 489; a 15th would make 524 */
            elen += (size_t)snprintf(expected + elen, sizeof(expected) - elen, "%s%s", i ? "," : "",
                                     member);
    }
    begin(&t, (const char *[]){"traceparent", VALID, "tracestate", state, NULL});
    ck_assert_str_eq(t.tracestate, expected);
    ck_assert_uint_le(strlen(t.tracestate), GW_TRACESTATE_MAX);

    /* Cut to nothing: no tracestate. */
    snprintf(state, sizeof(state), "a=%s,b=%s,c=%s", repeat(part, 'x', 200), part, part);
    begin(&t, (const char *[]){"traceparent", VALID, "tracestate", state, NULL});
    ck_assert_str_eq(t.tracestate, "");
}
END_TEST

START_TEST(round_trip)
{
    static const unsigned char seeds[][GW_TRACE_RANDOM_LEN] = {
        {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
        {0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01},
    };
    for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
        struct gw_trace t, again;
        gw_trace_begin(NULL, 0, seeds[i], &t);
        char out[GW_TRACEPARENT_LEN + 1];
        gw_trace_format(&t, out);
        ck_assert_uint_eq(strlen(out), GW_TRACEPARENT_LEN);
        struct gw_traceparent tp;
        ck_assert_msg(parses(out, &tp), "%s", out);
        ck_assert_str_eq(tp.trace_id, t.trace_id);
        ck_assert_str_eq(tp.parent_id, t.span_id);
        ck_assert_uint_eq(tp.flags, t.flags);
        /* enoki's span as the parent of the next hop: the same trace, a new span. */
        struct gw_header_field f = {.name = "traceparent", .value = out};
        gw_trace_begin(&f, 1, RANDOM, &again);
        ck_assert_str_eq(again.trace_id, t.trace_id);
        ck_assert_str_eq(again.parent_id, t.span_id);
    }
}
END_TEST

START_TEST(context_keys_are_enokis)
{
    struct gw_trace t;
    begin(&t, (const char *[]){"traceparent", VALID, "tracestate", "a=1", NULL});
    /* What a GATEWAY.context_headers mapping may have put there first. */
    json_t *context = json_pack("{s:s, s:s, s:s}", "traceparent", "spoofed", "tracestate",
                                "spoofed", "tenant", "t1");
    gw_trace_to_context(&t, context);
    ck_assert_str_eq(json_string_value(json_object_get(context, "traceparent")),
                     "00-" TRACE "-" SPAN "-01");
    ck_assert_str_eq(json_string_value(json_object_get(context, "tracestate")), "a=1");
    ck_assert_str_eq(json_string_value(json_object_get(context, "tenant")), "t1");
    /* No tracestate to pass on: the key goes. */
    begin(&t, (const char *[]){NULL});
    gw_trace_to_context(&t, context);
    ck_assert_str_eq(json_string_value(json_object_get(context, "traceparent")),
                     "00-" NEW_TRACE "-" SPAN "-00");
    ck_assert_ptr_null(json_object_get(context, "tracestate"));
    json_decref(context);
}
END_TEST

Suite *trace_context_suite(void)
{
    Suite *s = suite_create("trace_context");
    TCase *parse = tcase_create("parse");
    tcase_add_test(parse, traceparent_valid);
    tcase_add_test(parse, traceparent_invalid);
    tcase_add_test(parse, tracestate_rules);
    tcase_add_test(parse, tracestate_limits);
    suite_add_tcase(s, parse);

    TCase *span = tcase_create("span");
    tcase_add_test(span, span_continues_the_callers_trace);
    tcase_add_test(span, span_starts_a_new_trace);
    tcase_add_test(span, span_ids_never_zero);
    tcase_add_test(span, tracestate_passed_on);
    tcase_add_test(span, tracestate_fields_at_most_32);
    tcase_add_test(span, tracestate_cut_by_whole_members);
    tcase_add_test(span, round_trip);
    tcase_add_test(span, context_keys_are_enokis);
    suite_add_tcase(s, span);
    return s;
}
