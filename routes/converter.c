/* converter.c - werkzeug's converters (see converter.h): their constructors, with the argument
 * checks Python would do (or should do: werkzeug accepts a string min= and then raises TypeError on
 * every request), and their to_python.
 */
#include "routes/converter.h"

#include "core/json.h"
#include "core/status.h"
#include "core/strbuf.h"
#include "core/text.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "routes/conv_args.h"
#include "routes/pytext.h"

#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Lengths beyond this are refused: Python's re rejects repeat counts past MAXREPEAT anyway, and no
 * path segment gets near it. */
#define MAX_LENGTH_ARG 1000000

struct gw_converter {
    const char *name;
    enum gw_conv_kind kind;
    int weight;
    const char *const params[4]; /* keyword parameters in positional order */
    size_t nparams;
};

/* "default" first: gw_converter_find gives it for a bare <name>. */
static const struct gw_converter converters[] = {
    {"default", GW_CONV_STRING, 100, {"minlength", "maxlength", "length"}, 3},
    {"string", GW_CONV_STRING, 100, {"minlength", "maxlength", "length"}, 3},
    {"any", GW_CONV_ANY, 100, {0}, 0},
    {"path", GW_CONV_PATH, 200, {0}, 0},
    {"int", GW_CONV_INT, 50, {"fixed_digits", "min", "max", "signed"}, 4},
    {"float", GW_CONV_FLOAT, 50, {"min", "max", "signed"}, 3},
    {"uuid", GW_CONV_UUID, 100, {0}, 0},
};

/* UUIDConverter's regex, for the part keys. */
static const char uuid_regex[] = "[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-"
                                 "[A-Fa-f0-9]{12}";

const struct gw_converter *gw_converter_find(const char *name, size_t n)
{
    if (n == 0)
        return &converters[0];
    for (size_t i = 0; i < ARRAY_LEN(converters); i++)
        if (strlen(converters[i].name) == n && memcmp(converters[i].name, name, n) == 0)
            return &converters[i];
    return NULL;
}

int gw_converter_weight(const struct gw_converter *converter)
{
    return converter->weight;
}

/* int(x) for a length argument of the string converter. */
static int length_arg(const struct gw_conv_arg *a, const char *what, size_t *out, char *err,
                      size_t errlen)
{
    long long v;
    if (a->type == GW_ARG_INT || a->type == GW_ARG_BOOL) {
        v = a->overflow ? LLONG_MAX : a->i;
    } else if (a->type == GW_ARG_FLOAT && isfinite(a->d)) {
        v = fabs(a->d) < 1e18 ? (long long)a->d : LLONG_MAX;
    } else if (a->type == GW_ARG_STR) {
        struct gw_conv_arg tmp = {0};
        if (!gw_py_int(a->s, strlen(a->s), &tmp)) {
            gw_set_err(err, errlen, "converter 'string': %s must be an integer", what);
            return GW_ERULE;
        }
        v = tmp.overflow ? LLONG_MAX : tmp.i;
    } else {
        gw_set_err(err, errlen, "converter 'string': %s must be an integer", what);
        return GW_ERULE;
    }
    if (v < 0 || v > MAX_LENGTH_ARG) {
        gw_set_err(err, errlen, "converter 'string': %s must be between 0 and %d", what,
                   MAX_LENGTH_ARG);
        return GW_ERULE;
    }
    *out = (size_t)v;
    return GW_OK;
}

static int bound_arg(const struct gw_conv_arg *a, const char *conv, const char *what,
                     struct gw_rule_bound *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (a == NULL || a->type == GW_ARG_NONE)
        return GW_OK;
    if ((a->type == GW_ARG_INT && !a->overflow) || a->type == GW_ARG_BOOL) {
        out->set = out->is_int = 1;
        out->i = a->i;
        return GW_OK;
    }
    if (a->type == GW_ARG_FLOAT) {
        out->set = 1;
        out->d = a->d;
        return GW_OK;
    }
    if (a->type == GW_ARG_INT)
        gw_set_err(err, errlen, "converter '%s': %s is out of range", conv, what);
    else
        gw_set_err(err, errlen, "converter '%s': %s must be a number", conv, what);
    return GW_ERULE;
}

static int flag_arg(const struct gw_conv_arg *a, const char *conv, const char *what, long long *out,
                    char *err, size_t errlen)
{
    *out = 0;
    if (a == NULL || a->type == GW_ARG_NONE)
        return GW_OK;
    if ((a->type == GW_ARG_INT && !a->overflow) || a->type == GW_ARG_BOOL) {
        *out = a->i;
        return GW_OK;
    }
    gw_set_err(err, errlen, "converter '%s': %s must be an integer or a boolean", conv, what);
    return GW_ERULE;
}

int gw_converter_build(const struct gw_converter *converter, const struct gw_conv_arg *args,
                       size_t nargs, struct gw_rule_conv *conv, struct gw_strbuf *regex, char *err,
                       size_t errlen)
{
    const struct gw_conv_arg *slot[4] = {0};
    size_t npos = 0;
    conv->kind = converter->kind;

    if (converter->kind == GW_CONV_ANY) {
        conv->items = xcalloc(nargs ? nargs : 1, sizeof(char *));
        for (size_t i = 0; i < nargs; i++) {
            if (args[i].name != NULL) {
                gw_set_err(err, errlen, "converter 'any' takes no keyword argument '%s'",
                           args[i].name);
                return GW_ERULE;
            }
            if (args[i].type != GW_ARG_STR) {
                gw_set_err(err, errlen, "converter 'any': item %zu is not a string (quote it)",
                           i + 1);
                return GW_ERULE;
            }
            conv->items[conv->nitems++] = xstrdup(args[i].s);
        }
        /* AnyConverter: f"(?:{'|'.join(re.escape(x) for x in items)})" */
        gw_strbuf_adds(regex, "(?:");
        for (size_t i = 0; i < conv->nitems; i++) {
            if (i > 0)
                gw_strbuf_adds(regex, "|");
            gw_py_re_escape(regex, conv->items[i], strlen(conv->items[i]));
        }
        gw_strbuf_adds(regex, ")");
        return GW_OK;
    }

    /* werkzeug's path and uuid converters silently accept and ignore any arguments; a typo there
     * is more likely than intent, so enoki refuses them. */
    if (converter->nparams == 0 && nargs > 0) {
        gw_set_err(err, errlen, "converter '%s' takes no arguments", converter->name);
        return GW_ERULE;
    }
    for (size_t i = 0; i < nargs; i++) {
        size_t idx;
        if (args[i].name == NULL) {
            if (npos >= converter->nparams) {
                gw_set_err(err, errlen, "converter '%s' takes at most %zu arguments",
                           converter->name, converter->nparams);
                return GW_ERULE;
            }
            idx = npos++;
        } else {
            for (idx = 0; idx < converter->nparams; idx++)
                if (strcmp(converter->params[idx], args[i].name) == 0)
                    break;
            if (idx == converter->nparams) {
                gw_set_err(err, errlen, "converter '%s' has no argument '%s'", converter->name,
                           args[i].name);
                return GW_ERULE;
            }
        }
        if (slot[idx] != NULL) {
            gw_set_err(err, errlen, "converter '%s': argument '%s' given twice", converter->name,
                       converter->params[idx]);
            return GW_ERULE;
        }
        slot[idx] = &args[i];
    }

    switch (converter->kind) {
    case GW_CONV_STRING: {
        /* UnicodeConverter: [^/]{length} or [^/]{minlength,maxlength}. */
        char buf[64];
        if (slot[2] != NULL && slot[2]->type != GW_ARG_NONE) {
            if (length_arg(slot[2], "length", &conv->minlen, err, errlen) != GW_OK)
                return GW_ERULE;
            conv->maxlen = conv->minlen;
            conv->has_maxlen = 1;
            snprintf(buf, sizeof(buf), "[^/]{%zu}", conv->minlen);
        } else {
            conv->minlen = 1;
            if (slot[0] != NULL &&
                length_arg(slot[0], "minlength", &conv->minlen, err, errlen) != GW_OK)
                return GW_ERULE;
            if (slot[1] != NULL && slot[1]->type != GW_ARG_NONE) {
                if (length_arg(slot[1], "maxlength", &conv->maxlen, err, errlen) != GW_OK)
                    return GW_ERULE;
                conv->has_maxlen = 1;
                if (conv->maxlen < conv->minlen) {
                    gw_set_err(err, errlen, "converter 'string': minlength is above maxlength");
                    return GW_ERULE;
                }
                snprintf(buf, sizeof(buf), "[^/]{%zu,%zu}", conv->minlen, conv->maxlen);
            } else {
                snprintf(buf, sizeof(buf), "[^/]{%zu,}", conv->minlen);
            }
        }
        gw_strbuf_adds(regex, buf);
        return GW_OK;
    }
    case GW_CONV_INT:
    case GW_CONV_FLOAT: {
        /* FloatConverter has no fixed_digits: shift its slots onto NumberConverter's. */
        const struct gw_conv_arg *fixed = NULL, *min, *max, *sign;
        if (converter->kind == GW_CONV_INT) {
            fixed = slot[0];
            min = slot[1];
            max = slot[2];
            sign = slot[3];
        } else {
            min = slot[0];
            max = slot[1];
            sign = slot[2];
        }
        long long is_signed;
        if (flag_arg(fixed, converter->name, "fixed_digits", &conv->fixed_digits, err, errlen) ||
            bound_arg(min, converter->name, "min", &conv->min, err, errlen) ||
            bound_arg(max, converter->name, "max", &conv->max, err, errlen) ||
            flag_arg(sign, converter->name, "signed", &is_signed, err, errlen))
            return GW_ERULE;
        conv->is_signed = is_signed != 0;
        if (conv->is_signed)
            gw_strbuf_adds(regex, "-?");
        gw_strbuf_adds(regex, converter->kind == GW_CONV_INT ? "\\d+" : "\\d+\\.\\d+");
        return GW_OK;
    }
    case GW_CONV_PATH:
        gw_strbuf_adds(regex, "[^/].*?");
        return GW_OK;
    case GW_CONV_UUID:
        gw_strbuf_adds(regex, uuid_regex);
        return GW_OK;
    case GW_CONV_ANY:
        break;
    }
    return GW_OK;
}

void gw_converter_clear(struct gw_rule_conv *conv)
{
    free(conv->name);
    for (size_t i = 0; i < conv->nitems; i++)
        free(conv->items[i]);
    free(conv->items);
}

/* UUIDConverter's regex needs no backtracking: a fixed length and a class per byte. */
int gw_converter_uuid_at(const char *s, size_t pos, size_t len)
{
    if (len - pos < GW_CONV_UUID_LEN)
        return 0;
    for (size_t i = 0; i < GW_CONV_UUID_LEN; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[pos + i] != '-' : gw_hex_value(s[pos + i]) < 0)
            return 0;
    }
    return 1;
}

/* ---------------------------------------------------------------------------------------------
 * to_python.
 */

/* Python compares an int and a float exactly; for an integer v, v < d is v < ceil(d). */
static int int_below(long long v, const struct gw_rule_bound *b)
{
    if (b->is_int)
        return v < b->i;
    if (isnan(b->d))
        return 0;
    double c = ceil(b->d);
    if (c > 9.2e18)
        return 1;
    if (c < -9.2e18)
        return 0;
    return v < (long long)c;
}

static int int_above(long long v, const struct gw_rule_bound *b)
{
    if (b->is_int)
        return v > b->i;
    if (isnan(b->d))
        return 0;
    double f = floor(b->d);
    if (f > 9.2e18)
        return 0;
    if (f < -9.2e18)
        return 1;
    return v > (long long)f;
}

/* The sign of a - b, both integers in decimal with an optional '-' and no leading zeros. */
static int decimal_cmp(const char *a, const char *b)
{
    bool an = *a == '-', bn = *b == '-';
    if (an != bn)
        return an ? -1 : 1;
    size_t la = strlen(a), lb = strlen(b);
    int magnitude = la != lb ? (la < lb ? -1 : 1) : strcmp(a, b);
    return an ? -magnitude : magnitude;
}

/* The sign of v - b for an integer v beyond 64 bits (decimal text) and a bound, exactly, as Python
 * compares an int and a float; 0 when they do not compare (NaN). For an integer v, v < d is
 * v < ceil(d) and v > d is v > floor(d): the side asks which. */
static int big_cmp(const char *v, const struct gw_rule_bound *b, bool for_min)
{
    bool negative = *v == '-';
    if (b->is_int) /* every long long lies between the big ones */
        return negative ? -1 : 1;
    if (isnan(b->d))
        return 0;
    if (isinf(b->d))
        return b->d > 0 ? -1 : 1;
    char bound[400]; /* a double's integer part in decimal: at most 309 digits */
    double whole = for_min ? ceil(b->d) : floor(b->d);
    snprintf(bound, sizeof(bound), "%.0f", whole == 0 ? 0.0 : whole);
    return decimal_cmp(v, bound);
}

/* An int beyond 64 bits: Python's is unbounded, so werkzeug passes it on; it is carried as its
 * digits (core/json.h). Python's int() refuses more than 4,300 digits (werkzeug then fails the
 * request); that gets 404. */
static int big_int(const struct gw_rule_conv *conv, const char *s, size_t len, int neg,
                   json_t **out)
{
    enum { MAX_DIGITS = 4300 };
    struct gw_strbuf digits = {0};
    if (neg)
        gw_strbuf_add(&digits, "-", 1);
    size_t count = 0;
    for (size_t p = neg ? 1 : 0; p < len; count++) {
        unsigned long cp;
        p = gw_cp_decode(s, p, len, &cp);
        char c = (char)('0' + gw_py_decimal_value(cp));
        if (c != '0' || digits.len > (size_t)neg) /* int("007") is 7 */
            gw_strbuf_add(&digits, &c, 1);
    }
    bool in_bounds = count <= MAX_DIGITS &&
                     !(conv->min.set && big_cmp(digits.data, &conv->min, true) < 0) &&
                     !(conv->max.set && big_cmp(digits.data, &conv->max, false) > 0);
    *out = in_bounds ? gw_json_carried(digits.data, digits.len) : NULL;
    free(digits.data);
    return *out ? GW_OK : GW_ENOMATCH;
}

static double bound_double(const struct gw_rule_bound *b)
{
    return b->is_int ? (double)b->i : b->d;
}

int gw_converter_value(const struct gw_rule_conv *conv, const char *s, size_t len, json_t **out)
{
    *out = NULL;
    switch (conv->kind) {
    case GW_CONV_STRING:
    case GW_CONV_PATH:
    case GW_CONV_ANY:
        *out = json_stringn(s, len);
        break;
    case GW_CONV_UUID: {
        /* uuid.UUID(value) prints as lower-case 8-4-4-4-12, which the regex already ensures. */
        char buf[GW_CONV_UUID_LEN + 1];
        for (size_t i = 0; i < GW_CONV_UUID_LEN && i < len; i++)
            buf[i] = (s[i] >= 'A' && s[i] <= 'F') ? (char)(s[i] - 'A' + 'a') : s[i];
        *out = json_stringn(buf, len < GW_CONV_UUID_LEN ? len : GW_CONV_UUID_LEN);
        break;
    }
    case GW_CONV_INT: {
        /* NumberConverter.to_python: fixed_digits counts the sign too (len(value)). */
        if (conv->fixed_digits != 0 && (long long)gw_cp_count(s, len) != conv->fixed_digits)
            return GW_ENOMATCH;
        int neg = len > 0 && s[0] == '-';
        unsigned long long v = 0;
        bool big = false;
        for (size_t p = neg ? 1 : 0; p < len;) {
            unsigned long cp;
            p = gw_cp_decode(s, p, len, &cp);
            unsigned d = (unsigned)gw_py_decimal_value(cp);
            if (v > (ULLONG_MAX - d) / 10)
                big = true;
            else
                v = v * 10 + d;
        }
        if (big || v > (unsigned long long)LLONG_MAX + (neg ? 1u : 0u))
            return big_int(conv, s, len, neg, out);
        long long value = neg ? (long long)(0 - v) : (long long)v;
        if ((conv->min.set && int_below(value, &conv->min)) ||
            (conv->max.set && int_above(value, &conv->max)))
            return GW_ENOMATCH;
        *out = json_integer(value);
        break;
    }
    case GW_CONV_FLOAT: {
        struct gw_strbuf ascii = {0};
        for (size_t p = 0; p < len;) {
            unsigned long cp;
            p = gw_cp_decode(s, p, len, &cp);
            int d = gw_py_decimal_value(cp);
            char c = d >= 0 ? (char)('0' + d) : (char)cp; /* '-' and '.' */
            gw_strbuf_add(&ascii, &c, 1);
        }
        double value = ascii.data ? strtod(ascii.data, NULL) : 0.0;
        free(ascii.data);
        if ((conv->min.set && value < bound_double(&conv->min)) ||
            (conv->max.set && value > bound_double(&conv->max)))
            return GW_ENOMATCH;
        /* float("1" * 400 + ".0") is inf in Python: carried, as json.dumps writes it. */
        *out = isfinite(value)
                   ? json_real(value)
                   : gw_json_carried(value < 0 ? "-Infinity" : "Infinity", value < 0 ? 9 : 8);
        break;
    }
    }
    return *out != NULL ? GW_OK : GW_ENOMATCH;
}
