/* conv_args.c - werkzeug's converter arguments (see conv_args.h).
 *
 * werkzeug reads them with a regex and re.finditer, then _pythonize:
 *
 *     ((?P<name>\w+)\s*=\s*)?
 *     (?P<value> True|False | \d+.\d+ | \d+. | \d+ | [\w\d_.]+ |
 *                [urUR]?(?P<stringval>"[^"]*?"|'[^']*') ) \s*,
 *
 * applied to the argument text plus ",". finditer silently skips whatever does not match, so
 * werkzeug reads "min=-5" as the positional argument 5 and "min=1 max=2" as max=2 alone. enoki
 * replays the same regex, with the same backtracking order, but refuses anything it would skip
 * except whitespace and one trailing comma.
 */
#include "routes/conv_args.h"

#include "core/status.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "routes/pytext.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static int is_argword_cp(unsigned long cp)
{
    return gw_py_is_word(cp) || cp == '.';
}

/* `\s*,` after a value: returns the position after the comma, or 0 if there is none. */
static size_t arg_follow(const char *b, size_t pos, size_t m)
{
    pos = gw_py_run_end(b, pos, m, gw_py_is_space);
    return pos < m && b[pos] == ',' ? pos + 1 : 0;
}

/* One `value` alternative after another, each in its backtracking order; the first whose end is
 * followed by `\s*,` wins. Sets [*vs, *ve) to the value text (the quoted text for stringval). */
static size_t arg_value(const char *b, size_t p, size_t m, size_t *vs, size_t *ve)
{
    size_t next;
    *vs = p;
    /* True|False */
    static const char *const consts[] = {"True", "False"};
    for (size_t c = 0; c < 2; c++) {
        size_t n = strlen(consts[c]);
        if (m - p >= n && memcmp(b + p, consts[c], n) == 0 && (next = arg_follow(b, p + n, m))) {
            *ve = p + n;
            return next;
        }
    }
    size_t d1 = gw_py_run_end(b, p, m, gw_py_is_digit);
    /* \d+.\d+ : greedy \d+, any one character but a newline, greedy \d+ */
    for (size_t e1 = d1; e1 > p; e1 = gw_cp_prev(b, p, e1)) {
        if (e1 >= m || b[e1] == '\n')
            continue;
        size_t q = gw_cp_next(b, e1, m);
        for (size_t e2 = gw_py_run_end(b, q, m, gw_py_is_digit); e2 > q;
             e2 = gw_cp_prev(b, q, e2)) {
            if ((next = arg_follow(b, e2, m))) {
                *ve = e2;
                return next;
            }
        }
    }
    /* \d+. */
    for (size_t e1 = d1; e1 > p; e1 = gw_cp_prev(b, p, e1)) {
        if (e1 >= m || b[e1] == '\n')
            continue;
        size_t e = gw_cp_next(b, e1, m);
        if ((next = arg_follow(b, e, m))) {
            *ve = e;
            return next;
        }
    }
    /* \d+ */
    for (size_t e = d1; e > p; e = gw_cp_prev(b, p, e)) {
        if ((next = arg_follow(b, e, m))) {
            *ve = e;
            return next;
        }
    }
    /* [\w\d_.]+ */
    for (size_t e = gw_py_run_end(b, p, m, is_argword_cp); e > p; e = gw_cp_prev(b, p, e)) {
        if ((next = arg_follow(b, e, m))) {
            *ve = e;
            return next;
        }
    }
    /* [urUR]?("[^"]*?"|'[^']*'): the prefix is tried first, then no prefix. */
    for (int prefixed = 1; prefixed >= 0; prefixed--) {
        size_t q = p;
        if (prefixed) {
            if (q >= m || strchr("urUR", b[q]) == NULL || b[q] == '\0')
                continue;
            q++;
        }
        if (q >= m || (b[q] != '"' && b[q] != '\''))
            continue;
        const char *close = memchr(b + q + 1, b[q], m - q - 1);
        if (close == NULL)
            continue;
        size_t e = (size_t)(close - b) + 1;
        if ((next = arg_follow(b, e, m))) {
            *vs = q;
            *ve = e;
            return next;
        }
    }
    return 0;
}

/* One finditer match at p: returns its end (0 if none) and the name/value slices. */
static size_t arg_item(const char *b, size_t p, size_t m, size_t *ns, size_t *ne, size_t *vs,
                       size_t *ve)
{
    size_t next;
    /* With a name first: \w+ is greedy and a shorter name would leave a word character where
     * \s*= must be, so only the longest can succeed. */
    size_t w = gw_py_run_end(b, p, m, gw_py_is_word);
    if (w > p) {
        size_t q = gw_py_run_end(b, w, m, gw_py_is_space);
        if (q < m && b[q] == '=') {
            q = gw_py_run_end(b, q + 1, m, gw_py_is_space);
            if ((next = arg_value(b, q, m, vs, ve))) {
                *ns = p;
                *ne = w;
                return next;
            }
        }
    }
    *ns = *ne = p;
    return arg_value(b, p, m, vs, ve);
}

/* Python's str.strip() bounds. */
static void py_strip(const char *s, size_t *start, size_t *end)
{
    *start = gw_py_run_end(s, *start, *end, gw_py_is_space);
    while (*end > *start) {
        unsigned long cp;
        size_t prev = gw_cp_prev(s, *start, *end);
        gw_cp_decode(s, prev, *end, &cp);
        if (!gw_py_is_space(cp))
            break;
        *end = prev;
    }
}

/* Reads a Python digitpart (digit ("_"? digit)*) at *pos, appending ASCII digits to ascii.
 * Returns the number of digits, 0 if there is no digitpart. */
static size_t py_digitpart(const char *s, size_t *pos, size_t end, struct gw_strbuf *ascii)
{
    size_t ndigits = 0;
    size_t p = *pos;
    while (p < end) {
        size_t q = p;
        if (ndigits > 0 && s[q] == '_')
            q++;
        if (q >= end)
            break;
        unsigned long cp;
        size_t next = gw_cp_decode(s, q, end, &cp);
        int v = gw_py_decimal_value(cp);
        if (v < 0)
            break;
        char c = (char)('0' + v);
        gw_strbuf_add(ascii, &c, 1);
        ndigits++;
        p = next;
    }
    *pos = p;
    return ndigits;
}

int gw_py_int(const char *s, size_t len, struct gw_conv_arg *arg)
{
    size_t start = 0, end = len;
    py_strip(s, &start, &end);
    int neg = 0;
    if (start < end && (s[start] == '+' || s[start] == '-'))
        neg = s[start++] == '-';
    struct gw_strbuf digits = {0};
    size_t p = start;
    size_t n = py_digitpart(s, &p, end, &digits);
    int ok = n > 0 && p == end;
    if (ok) {
        unsigned long long v = 0;
        arg->overflow = 0;
        for (size_t i = 0; i < digits.len; i++) {
            unsigned d = (unsigned)(digits.data[i] - '0');
            if (v > (ULLONG_MAX - d) / 10)
                arg->overflow = 1;
            else
                v = v * 10 + d;
        }
        if (v > (unsigned long long)LLONG_MAX)
            arg->overflow = 1;
        arg->type = GW_ARG_INT;
        arg->i = arg->overflow ? 0 : neg ? -(long long)v : (long long)v;
    }
    free(digits.data);
    return ok;
}

static int ascii_ieq(const char *s, size_t n, const char *word)
{
    if (n != strlen(word))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != word[i])
            return 0;
    }
    return 1;
}

int gw_py_float(const char *s, size_t len, struct gw_conv_arg *arg)
{
    size_t start = 0, end = len;
    py_strip(s, &start, &end);
    struct gw_strbuf ascii = {0};
    int ok = 0;
    if (start < end && (s[start] == '+' || s[start] == '-'))
        gw_strbuf_add(&ascii, s + start++, 1);
    size_t n = end - start;
    if (ascii_ieq(s + start, n, "inf") || ascii_ieq(s + start, n, "infinity") ||
        ascii_ieq(s + start, n, "nan")) {
        gw_strbuf_add(&ascii, s + start, n);
        ok = 1;
    } else {
        size_t p = start;
        size_t mant = py_digitpart(s, &p, end, &ascii);
        if (p < end && s[p] == '.') {
            gw_strbuf_add(&ascii, ".", 1);
            p++;
            mant += py_digitpart(s, &p, end, &ascii);
        }
        ok = mant > 0;
        if (ok && p < end && (s[p] == 'e' || s[p] == 'E')) {
            gw_strbuf_add(&ascii, "e", 1);
            p++;
            if (p < end && (s[p] == '+' || s[p] == '-'))
                gw_strbuf_add(&ascii, s + p++, 1);
            ok = py_digitpart(s, &p, end, &ascii) > 0;
        }
        ok = ok && p == end;
    }
    if (ok) {
        arg->type = GW_ARG_FLOAT;
        arg->d = strtod(ascii.data, NULL);
    }
    free(ascii.data);
    return ok;
}

/* werkzeug's _pythonize: None/True/False, then int(), then float(), else a string with one pair of
 * matching quotes removed. */
static void pythonize(const char *s, size_t start, size_t end, struct gw_conv_arg *arg)
{
    size_t n = end - start;
    if (n == 4 && memcmp(s + start, "None", 4) == 0) {
        arg->type = GW_ARG_NONE;
    } else if (n == 4 && memcmp(s + start, "True", 4) == 0) {
        arg->type = GW_ARG_BOOL;
        arg->i = 1;
    } else if (n == 5 && memcmp(s + start, "False", 5) == 0) {
        arg->type = GW_ARG_BOOL;
        arg->i = 0;
    } else if (!gw_py_int(s + start, n, arg) && !gw_py_float(s + start, n, arg)) {
        if (n > 0 && s[start] == s[end - 1] && (s[start] == '"' || s[start] == '\'')) {
            start++;
            end = end > start ? end - 1 : start;
        }
        arg->type = GW_ARG_STR;
        arg->s = xstrndup(s + start, end - start);
    }
}

void gw_conv_args_free(struct gw_conv_arg *args, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(args[i].name);
        free(args[i].s);
    }
    free(args);
}

int gw_conv_args_parse(const char *text, size_t n, struct gw_conv_arg **out, size_t *nout,
                       char *err, size_t errlen)
{
    int rc = GW_ERULE;
    size_t m = n + 1;
    char *b = xmalloc(m + 1);
    memcpy(b, text, n);
    b[n] = ',';
    b[m] = '\0';
    struct gw_conv_arg *args = NULL;
    size_t nargs = 0;
    size_t pos = 0;
    while (pos < m) {
        size_t ns, ne, vs, ve;
        size_t next = arg_item(b, pos, m, &ns, &ne, &vs, &ve);
        if (next == 0) {
            /* finditer would skip this character; allow only what cannot change the meaning. */
            unsigned long cp;
            size_t after = gw_cp_decode(b, pos, m, &cp);
            if (gw_py_is_space(cp) || pos == m - 1) {
                pos = after;
                continue;
            }
            gw_set_err(err, errlen, "cannot read converter arguments at '%.*s'", (int)(n - pos),
                       text + pos);
            goto out;
        }
        args = xrealloc(args, (nargs + 1) * sizeof(*args));
        struct gw_conv_arg *a = &args[nargs++];
        memset(a, 0, sizeof(*a));
        a->name = ne > ns ? xstrndup(b + ns, ne - ns) : NULL;
        pythonize(b, vs, ve, a);
        pos = next;
    }
    rc = GW_OK;
out:
    free(b);
    if (rc != GW_OK) {
        gw_conv_args_free(args, nargs);
        args = NULL;
        nargs = 0;
    }
    *out = args;
    *nout = nargs;
    return rc;
}
