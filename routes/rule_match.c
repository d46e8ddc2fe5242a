/* rule_match.c - matching one dynamic part of a werkzeug rule against one path segment (see
 * rule_match.h): a backtracking walk over the part's tokens that offers each converter's candidate
 * ends in the order Python's regex engine would try them, guided by a table of what can still
 * match.
 */
#include "routes/rule_match.h"

#include "core/xalloc.h"
#include "routes/converter.h"
#include "routes/pytext.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int match_tokens(const struct gw_rule_part *part, const struct gw_rule_conv *convs, size_t t,
                        const char *s, size_t pos, size_t len, struct gw_rule_span *spans, size_t k,
                        const unsigned char *ok);

/* Records a candidate end for capture k and tries the rest of the tokens after it. */
static int try_end(const struct gw_rule_part *part, const struct gw_rule_conv *convs, size_t t,
                   const char *s, size_t pos, size_t e, size_t len, struct gw_rule_span *spans,
                   size_t k, const unsigned char *ok)
{
    spans[k].ptr = s + pos;
    spans[k].len = e - pos;
    return match_tokens(part, convs, t + 1, s, e, len, spans, k + 1, ok);
}

/* ok, when not NULL, says for every token t and position pos whether the tokens from t on can match
 * s[pos..len) (part_dp_fill): candidates that cannot are skipped at once, so the walk never
 * backtracks out of a dead end it has entered and costs O(tokens x len). */
static int match_tokens(const struct gw_rule_part *part, const struct gw_rule_conv *convs, size_t t,
                        const char *s, size_t pos, size_t len, struct gw_rule_span *spans, size_t k,
                        const unsigned char *ok)
{
    if (ok != NULL && !ok[t * (len + 1) + pos])
        return 0;
    if (t == part->ntokens)
        return pos == len; /* every part regex ends in \Z */
    const struct gw_rule_token *tok = &part->tokens[t];
    if (tok->lit != NULL) {
        if (len - pos < tok->len || memcmp(s + pos, tok->lit, tok->len) != 0)
            return 0;
        return match_tokens(part, convs, t + 1, s, pos + tok->len, len, spans, k, ok);
    }
    const struct gw_rule_conv *conv = &convs[tok->conv];
    switch (conv->kind) {
    case GW_CONV_STRING: {
        /* [^/]{min,max}, greedy: the longest run first, then one code point less each time. */
        size_t e = pos, n = 0;
        while (e < len && s[e] != '/' && (!conv->has_maxlen || n < conv->maxlen)) {
            e = gw_cp_next(s, e, len);
            n++;
        }
        if (n < conv->minlen)
            return 0;
        for (;;) {
            if (try_end(part, convs, t, s, pos, e, len, spans, k, ok))
                return 1;
            if (n == conv->minlen)
                return 0;
            e = gw_cp_prev(s, pos, e);
            n--;
        }
    }
    case GW_CONV_PATH: {
        /* [^/].*? : one code point that is not '/', then lazily more, none of them a newline
         * ('.' does not match "\n" without re.DOTALL). */
        if (pos >= len || s[pos] == '/')
            return 0;
        size_t e = gw_cp_next(s, pos, len);
        for (;;) {
            if (try_end(part, convs, t, s, pos, e, len, spans, k, ok))
                return 1;
            if (e >= len || s[e] == '\n')
                return 0;
            e = gw_cp_next(s, e, len);
        }
    }
    case GW_CONV_INT:
    case GW_CONV_FLOAT: {
        /* -?\d+ and -?\d+\.\d+: the sign is taken when present (without it \d fails on '-');
         * the first \d+ must run up to the '.', only the last one backtracks. */
        size_t p = pos;
        if (conv->is_signed && p < len && s[p] == '-')
            p++;
        size_t d = gw_py_digits_end(s, p, len);
        if (d == p)
            return 0;
        if (conv->kind == GW_CONV_FLOAT) {
            if (d >= len || s[d] != '.')
                return 0;
            p = d + 1;
            d = gw_py_digits_end(s, p, len);
        }
        for (size_t e = d; e > p; e = gw_cp_prev(s, p, e))
            if (try_end(part, convs, t, s, pos, e, len, spans, k, ok))
                return 1;
        return 0;
    }
    case GW_CONV_UUID:
        return gw_converter_uuid_at(s, pos, len) &&
               try_end(part, convs, t, s, pos, pos + GW_CONV_UUID_LEN, len, spans, k, ok);
    case GW_CONV_ANY:
        /* (?:a|b|...) in rule order; any() with no items is (?:), which matches "". */
        if (conv->nitems == 0)
            return try_end(part, convs, t, s, pos, pos, len, spans, k, ok);
        for (size_t i = 0; i < conv->nitems; i++) {
            size_t n = strlen(conv->items[i]);
            if (len - pos >= n && memcmp(s + pos, conv->items[i], n) == 0 &&
                try_end(part, convs, t, s, pos, pos + n, len, spans, k, ok))
                return 1;
        }
        return 0;
    }
    return 0;
}

/* Python's regex engine backtracks blindly: "/<a>-<b>-<c>.json" against a segment of n dashes
 * tries every split, O(n^3) steps, and one request of a few KiB held the loop for minutes. The walk
 * above keeps werkzeug's order of preference; this table lets it skip every candidate that cannot
 * lead to a match. ok[t][pos] (row t, len + 1 columns) is 1 when tokens t.. match s[pos..len),
 * filled from the last token back. Each converter's candidate ends, as match_tokens generates them,
 * are the code point boundaries (bytes that are not UTF-8 continuation bytes, and len) in one range
 * (plus pos itself for a string of minlength 0), so "does any candidate lead on" is one lookup in a
 * running count of the boundaries e where ok[t + 1][e] holds. O(tokens x len) time and memory. */
struct part_dp {
    const char *s;
    size_t len;
    size_t *cum;       /* cum[x]: boundaries in (0, x] */
    size_t *bpos;      /* bpos[i]: the (i + 1)-th boundary after 0 */
    size_t *stop_next; /* the first y >= x with y == len or s[y] == '/' */
    size_t *nl_next;   /* the first y >= x with y == len or s[y] == '\n' */
    size_t *digit_end; /* gw_py_digits_end(s, x, len) */
    size_t *good; /* good[x]: boundaries e in (0, x] with ok[t + 1][e], for the row being filled */
};

static int is_boundary(const char *s, size_t len, size_t x)
{
    return x == len || !gw_cp_is_cont((unsigned char)s[x]);
}

/* The k-th boundary after x (k >= 1), or SIZE_MAX when there are fewer. */
static size_t boundary_after(const struct part_dp *d, size_t x, size_t k)
{
    size_t i = d->cum[x] + k - 1;
    return i < d->cum[d->len] ? d->bpos[i] : SIZE_MAX;
}

/* Whether a boundary e in [lo, hi] has ok[t + 1][e] (lo >= 1). */
static int good_in(const struct part_dp *d, size_t lo, size_t hi)
{
    return lo <= hi && d->good[hi] - d->good[lo - 1] > 0;
}

/* ok[t][x] for a capture by conv: mirrors the candidate ends match_tokens tries. */
static int capture_ok(const struct part_dp *d, const struct gw_rule_conv *conv,
                      const unsigned char *next, size_t x)
{
    const char *s = d->s;
    size_t len = d->len;
    switch (conv->kind) {
    case GW_CONV_STRING: {
        /* [^/]{min,max}: boundaries up to the run's end (a '/', len, or maxlen code points). */
        size_t end = x < len && s[x] != '/' ? d->stop_next[x + 1] : x;
        size_t n = d->cum[end] - d->cum[x];
        if (conv->has_maxlen && n > conv->maxlen) {
            end = conv->maxlen == 0 ? x : boundary_after(d, x, conv->maxlen);
            n = conv->maxlen;
        }
        if (n < conv->minlen)
            return 0;
        if (conv->minlen == 0 && next[x])
            return 1;
        size_t lo = conv->minlen == 0 ? x + 1 : boundary_after(d, x, conv->minlen);
        return good_in(d, lo, end);
    }
    case GW_CONV_PATH: {
        /* [^/].*?: from the first boundary after x up to a newline or len, both included. */
        if (x >= len || s[x] == '/')
            return 0;
        size_t first = boundary_after(d, x, 1);
        return good_in(d, first, d->nl_next[first]);
    }
    case GW_CONV_INT:
    case GW_CONV_FLOAT: {
        size_t p = x;
        if (conv->is_signed && p < len && s[p] == '-')
            p++;
        size_t e = d->digit_end[p];
        if (e == p)
            return 0;
        if (conv->kind == GW_CONV_FLOAT) {
            if (e >= len || s[e] != '.')
                return 0;
            p = e + 1;
            e = d->digit_end[p];
        }
        return good_in(d, p + 1, e);
    }
    case GW_CONV_UUID:
        return gw_converter_uuid_at(s, x, len) && next[x + GW_CONV_UUID_LEN];
    case GW_CONV_ANY:
        if (conv->nitems == 0)
            return next[x];
        for (size_t i = 0; i < conv->nitems; i++) {
            size_t n = strlen(conv->items[i]);
            if (len - x >= n && memcmp(s + x, conv->items[i], n) == 0 && next[x + n])
                return 1;
        }
        return 0;
    }
    return 0;
}

/* Fills ok, the table for matching part against s[0..len), in mem: part_dp_size(part, len) bytes,
 * zeroed. */
static size_t part_dp_size(const struct gw_rule_part *part, size_t len)
{
    return 6 * (len + 2) * sizeof(size_t) + (part->ntokens + 1) * (len + 1);
}

static unsigned char *part_dp_fill(const struct gw_rule_part *part,
                                   const struct gw_rule_conv *convs, const char *s, size_t len,
                                   void *mem)
{
    size_t w = len + 1;
    struct part_dp d = {.s = s, .len = len};
    size_t *arrays = mem;
    d.cum = arrays;
    d.bpos = arrays + (w + 1);
    d.stop_next = arrays + 2 * (w + 1);
    d.nl_next = arrays + 3 * (w + 1);
    d.digit_end = arrays + 4 * (w + 1);
    d.good = arrays + 5 * (w + 1);
    unsigned char *ok = (unsigned char *)(arrays + 6 * (w + 1));
    d.cum[0] = 0;
    for (size_t x = 1; x <= len; x++) {
        int b = is_boundary(s, len, x);
        if (b)
            d.bpos[d.cum[x - 1]] = x;
        d.cum[x] = d.cum[x - 1] + (size_t)b;
    }
    /* Digit runs cost a decode per byte: only for parts with an int or a float. */
    int digits = 0;
    for (size_t t = 0; t < part->ntokens; t++) {
        const struct gw_rule_token *tok = &part->tokens[t];
        digits = digits || (tok->lit == NULL && (convs[tok->conv].kind == GW_CONV_INT ||
                                                 convs[tok->conv].kind == GW_CONV_FLOAT));
    }
    d.stop_next[w] = d.nl_next[w] = len; /* x == len + 1: asked for only past the end */
    for (size_t x = w; x-- > 0;) {
        d.stop_next[x] = x == len || s[x] == '/' ? x : d.stop_next[x + 1];
        d.nl_next[x] = x == len || s[x] == '\n' ? x : d.nl_next[x + 1];
        size_t after = digits ? gw_py_digit_at(s, x, len) : x;
        d.digit_end[x] = after > x ? d.digit_end[after] : x;
    }

    ok[part->ntokens * w + len] = 1; /* \Z */
    for (size_t t = part->ntokens; t-- > 0;) {
        const struct gw_rule_token *tok = &part->tokens[t];
        const unsigned char *next = ok + (t + 1) * w;
        unsigned char *row = ok + t * w;
        d.good[0] = 0;
        for (size_t x = 1; x <= len; x++)
            d.good[x] = d.good[x - 1] + (next[x] && is_boundary(s, len, x));
        for (size_t x = 0; x <= len; x++) {
            if (tok->lit != NULL)
                row[x] = len - x >= tok->len && memcmp(s + x, tok->lit, tok->len) == 0 &&
                         next[x + tok->len];
            else
                row[x] = (unsigned char)capture_ok(&d, &convs[tok->conv], next, x);
        }
    }
    return ok;
}

int gw_rule_part_match(const struct gw_rule_part *part, const struct gw_rule_conv *convs,
                       const char *s, size_t len, struct gw_rule_span *spans)
{
    /* With one capture the blind walk is linear already; the table pays off from two. */
    if (part->ncaptures < 2)
        return match_tokens(part, convs, 0, s, 0, len, spans, 0, NULL);
    /* Segments are short: their table fits on the stack; a long one gets one allocation. */
    size_t stack[512];
    size_t size = part_dp_size(part, len);
    void *mem = size <= sizeof(stack) ? stack : xmalloc(size);
    memset(mem, 0, size);
    const unsigned char *ok = part_dp_fill(part, convs, s, len, mem);
    int matched = match_tokens(part, convs, 0, s, 0, len, spans, 0, ok);
#ifdef GW_RULE_SELFCHECK
    /* Fuzzing builds compare the guided walk with the blind one where the blind one is cheap. */
    if (len <= 24 && part->ncaptures <= 4) {
        struct gw_rule_span blind[GW_RULE_MAX_VARS];
        int blind_matched = match_tokens(part, convs, 0, s, 0, len, blind, 0, NULL);
        if (blind_matched != matched ||
            (matched && memcmp(blind, spans, part->ncaptures * sizeof(*spans)) != 0))
            abort();
    }
#endif
    if (mem != stack)
        free(mem);
    return matched;
}
