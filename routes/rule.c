/* rule.c - werkzeug 2.2 rule text -> parts, converters and part matching (see rule.h).
 *
 * Everything here mirrors werkzeug/routing/rules.py and converters.py; where a function copies one
 * of werkzeug's regexes, the regex is quoted above it so the two can be compared.
 */
#include "routes/rule.h"

#include "core/status.h"
#include "core/strbuf.h"
#include "core/xalloc.h"

#include <limits.h>
#include <stdint.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Lengths beyond this are refused: Python's re rejects repeat counts past MAXREPEAT anyway, and no
 * path segment gets near it. */
#define MAX_LENGTH_ARG 1000000

/* ---------------------------------------------------------------------------------------------
 * Small helpers: error text, a growing byte buffer, UTF-8 stepping, Python character classes.
 */

/* Python's re.escape (3.7+): a backslash before each of ()[]{}?*+-|^$\.&~# and whitespace. The key
 * of a dynamic part must be werkzeug's regex text exactly, so this copies CPython's table. */
static void sb_add_escaped(struct gw_strbuf *sb, const char *s, size_t n)
{
    static const char special[] = "()[]{}?*+-|^$\\.&~# \t\n\r\v\f";
    for (size_t i = 0; i < n; i++) {
        if (memchr(special, s[i], sizeof(special) - 1) != NULL && s[i] != '\0')
            gw_strbuf_add(sb, "\\", 1);
        gw_strbuf_add(sb, s + i, 1);
    }
}

static int is_cont(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

/* Steps over one code point. Paths arrive as UTF-8; a stray continuation byte simply sticks to the
 * code point before it, which keeps stepping total and symmetric with cp_prev. */
static size_t cp_next(const char *s, size_t pos, size_t end)
{
    pos++;
    while (pos < end && is_cont((unsigned char)s[pos]))
        pos++;
    return pos;
}

static size_t cp_prev(const char *s, size_t start, size_t pos)
{
    pos--;
    while (pos > start && is_cont((unsigned char)s[pos]))
        pos--;
    return pos;
}

static size_t cp_count(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (!is_cont((unsigned char)s[i]))
            count++;
    return count;
}

/* Decodes the code point at pos (an invalid sequence decodes as U+FFFD) and returns the next pos.
 */
static size_t cp_decode(const char *s, size_t pos, size_t end, unsigned long *cp)
{
    unsigned char c = (unsigned char)s[pos];
    size_t next = cp_next(s, pos, end);
    size_t n = next - pos;
    if (c < 0x80 && n == 1) {
        *cp = c;
    } else if ((c & 0xE0) == 0xC0 && n == 2) {
        *cp = ((unsigned long)(c & 0x1F) << 6) | ((unsigned char)s[pos + 1] & 0x3Fu);
    } else if ((c & 0xF0) == 0xE0 && n == 3) {
        *cp = ((unsigned long)(c & 0x0F) << 12) | (((unsigned char)s[pos + 1] & 0x3Fu) << 6) |
              ((unsigned char)s[pos + 2] & 0x3Fu);
    } else if ((c & 0xF8) == 0xF0 && n == 4) {
        *cp = ((unsigned long)(c & 0x07) << 18) | (((unsigned char)s[pos + 1] & 0x3Fu) << 12) |
              (((unsigned char)s[pos + 2] & 0x3Fu) << 6) | ((unsigned char)s[pos + 3] & 0x3Fu);
    } else {
        *cp = 0xFFFD;
    }
    return next;
}

/* Python's \d and int()/float() accept every Unicode decimal digit (category Nd), not just 0-9:
 * werkzeug's <int:n> matches "/x/٣٤" and gives 34. These are the Nd runs of Unicode 14.0 (Python
 * 3.11), generated with re.match(r"\d", chr(cp)); every run is whole blocks of 0..9. */
static const unsigned long decimal_runs[][2] = {
    {0x0030, 0x0039},   {0x0660, 0x0669},   {0x06F0, 0x06F9},   {0x07C0, 0x07C9},
    {0x0966, 0x096F},   {0x09E6, 0x09EF},   {0x0A66, 0x0A6F},   {0x0AE6, 0x0AEF},
    {0x0B66, 0x0B6F},   {0x0BE6, 0x0BEF},   {0x0C66, 0x0C6F},   {0x0CE6, 0x0CEF},
    {0x0D66, 0x0D6F},   {0x0DE6, 0x0DEF},   {0x0E50, 0x0E59},   {0x0ED0, 0x0ED9},
    {0x0F20, 0x0F29},   {0x1040, 0x1049},   {0x1090, 0x1099},   {0x17E0, 0x17E9},
    {0x1810, 0x1819},   {0x1946, 0x194F},   {0x19D0, 0x19D9},   {0x1A80, 0x1A89},
    {0x1A90, 0x1A99},   {0x1B50, 0x1B59},   {0x1BB0, 0x1BB9},   {0x1C40, 0x1C49},
    {0x1C50, 0x1C59},   {0xA620, 0xA629},   {0xA8D0, 0xA8D9},   {0xA900, 0xA909},
    {0xA9D0, 0xA9D9},   {0xA9F0, 0xA9F9},   {0xAA50, 0xAA59},   {0xABF0, 0xABF9},
    {0xFF10, 0xFF19},   {0x104A0, 0x104A9}, {0x10D30, 0x10D39}, {0x11066, 0x1106F},
    {0x110F0, 0x110F9}, {0x11136, 0x1113F}, {0x111D0, 0x111D9}, {0x112F0, 0x112F9},
    {0x11450, 0x11459}, {0x114D0, 0x114D9}, {0x11650, 0x11659}, {0x116C0, 0x116C9},
    {0x11730, 0x11739}, {0x118E0, 0x118E9}, {0x11950, 0x11959}, {0x11C50, 0x11C59},
    {0x11D50, 0x11D59}, {0x11DA0, 0x11DA9}, {0x16A60, 0x16A69}, {0x16AC0, 0x16AC9},
    {0x16B50, 0x16B59}, {0x1D7CE, 0x1D7FF}, {0x1E140, 0x1E149}, {0x1E2F0, 0x1E2F9},
    {0x1E950, 0x1E959}, {0x1FBF0, 0x1FBF9},
};

/* Returns the digit's value 0..9, or -1 if cp is not a decimal digit. */
static int decimal_value(unsigned long cp)
{
    if (cp < 0x80)
        return cp >= '0' && cp <= '9' ? (int)(cp - '0') : -1;
    size_t lo = 0;
    size_t hi = sizeof(decimal_runs) / sizeof(decimal_runs[0]);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp < decimal_runs[mid][0])
            hi = mid;
        else if (cp > decimal_runs[mid][1])
            lo = mid + 1;
        else
            return (int)((cp - decimal_runs[mid][0]) % 10);
    }
    return -1;
}

/* Python's \s (str.isspace). */
static int is_space_cp(unsigned long cp)
{
    if (cp < 0x80)
        return cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1F);
    return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

/* Python's \w. Outside ASCII this is an approximation (every non-space code point counts as a
 * word character); it only matters for converter arguments written without quotes. */
static int is_word_cp(unsigned long cp)
{
    if (cp < 0x80)
        return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') ||
               cp == '_';
    return !is_space_cp(cp);
}

static int is_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_ident_char(char c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9');
}

/* The end of the run of code points from pos that satisfy pred. */
static size_t run_end(const char *s, size_t pos, size_t end, int (*pred)(unsigned long))
{
    while (pos < end) {
        unsigned long cp;
        size_t next = cp_decode(s, pos, end, &cp);
        if (!pred(cp))
            break;
        pos = next;
    }
    return pos;
}

static int is_digit_cp(unsigned long cp)
{
    return decimal_value(cp) >= 0;
}

static int is_argword_cp(unsigned long cp)
{
    return is_word_cp(cp) || cp == '.';
}

/* ---------------------------------------------------------------------------------------------
 * Converter arguments. werkzeug reads them with a regex and re.finditer, then _pythonize:
 *
 *     ((?P<name>\w+)\s*=\s*)?
 *     (?P<value> True|False | \d+.\d+ | \d+. | \d+ | [\w\d_.]+ |
 * [urUR]?(?P<stringval>"[^"]*?"|'[^']*') ) \s*,
 *
 * applied to the argument text plus ",". finditer silently skips whatever does not match, so
 * werkzeug reads "min=-5" as the positional argument 5 and "min=1 max=2" as max=2 alone. enoki
 * replays the same regex, with the same backtracking order, but refuses anything it would skip
 * except whitespace and one trailing comma.
 */

enum arg_type { ARG_NONE, ARG_BOOL, ARG_INT, ARG_FLOAT, ARG_STR };

struct conv_arg {
    char *name; /* new; NULL for a positional argument */
    enum arg_type type;
    int overflow; /* ARG_INT beyond long long */
    long long i;
    double d;
    char *s; /* new, for ARG_STR */
};

/* `\s*,` after a value: returns the position after the comma, or 0 if there is none. */
static size_t arg_follow(const char *b, size_t pos, size_t m)
{
    pos = run_end(b, pos, m, is_space_cp);
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
    size_t d1 = run_end(b, p, m, is_digit_cp);
    /* \d+.\d+ : greedy \d+, any one character but a newline, greedy \d+ */
    for (size_t e1 = d1; e1 > p; e1 = cp_prev(b, p, e1)) {
        if (e1 >= m || b[e1] == '\n')
            continue;
        size_t q = cp_next(b, e1, m);
        for (size_t e2 = run_end(b, q, m, is_digit_cp); e2 > q; e2 = cp_prev(b, q, e2)) {
            if ((next = arg_follow(b, e2, m))) {
                *ve = e2;
                return next;
            }
        }
    }
    /* \d+. */
    for (size_t e1 = d1; e1 > p; e1 = cp_prev(b, p, e1)) {
        if (e1 >= m || b[e1] == '\n')
            continue;
        size_t e = cp_next(b, e1, m);
        if ((next = arg_follow(b, e, m))) {
            *ve = e;
            return next;
        }
    }
    /* \d+ */
    for (size_t e = d1; e > p; e = cp_prev(b, p, e)) {
        if ((next = arg_follow(b, e, m))) {
            *ve = e;
            return next;
        }
    }
    /* [\w\d_.]+ */
    for (size_t e = run_end(b, p, m, is_argword_cp); e > p; e = cp_prev(b, p, e)) {
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
    size_t w = run_end(b, p, m, is_word_cp);
    if (w > p) {
        size_t q = run_end(b, w, m, is_space_cp);
        if (q < m && b[q] == '=') {
            q = run_end(b, q + 1, m, is_space_cp);
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
    *start = run_end(s, *start, *end, is_space_cp);
    while (*end > *start) {
        unsigned long cp;
        size_t prev = cp_prev(s, *start, *end);
        cp_decode(s, prev, *end, &cp);
        if (!is_space_cp(cp))
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
        size_t next = cp_decode(s, q, end, &cp);
        int v = decimal_value(cp);
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

/* Python's int(text): returns 1 if text is an int literal (base 10). */
static int py_int(const char *s, size_t start, size_t end, struct conv_arg *arg)
{
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
        arg->type = ARG_INT;
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

/* Python's float(text): returns 1 if text is a float literal. */
static int py_float(const char *s, size_t start, size_t end, struct conv_arg *arg)
{
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
        arg->type = ARG_FLOAT;
        arg->d = strtod(ascii.data, NULL);
    }
    free(ascii.data);
    return ok;
}

/* werkzeug's _pythonize: None/True/False, then int(), then float(), else a string with one pair of
 * matching quotes removed. */
static void pythonize(const char *s, size_t start, size_t end, struct conv_arg *arg)
{
    size_t n = end - start;
    if (n == 4 && memcmp(s + start, "None", 4) == 0) {
        arg->type = ARG_NONE;
    } else if (n == 4 && memcmp(s + start, "True", 4) == 0) {
        arg->type = ARG_BOOL;
        arg->i = 1;
    } else if (n == 5 && memcmp(s + start, "False", 5) == 0) {
        arg->type = ARG_BOOL;
        arg->i = 0;
    } else if (!py_int(s, start, end, arg) && !py_float(s, start, end, arg)) {
        if (n > 0 && s[start] == s[end - 1] && (s[start] == '"' || s[start] == '\'')) {
            start++;
            end = end > start ? end - 1 : start;
        }
        arg->type = ARG_STR;
        arg->s = xstrndup(s + start, end - start);
    }
}

static void free_args(struct conv_arg *args, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(args[i].name);
        free(args[i].s);
    }
    free(args);
}

/* Parses the text between the parentheses of <conv(args):name>. */
static int parse_args(const char *text, size_t n, struct conv_arg **out, size_t *nout, char *err,
                      size_t errlen)
{
    int rc = GW_ERULE;
    size_t m = n + 1;
    char *b = xmalloc(m + 1);
    memcpy(b, text, n);
    b[n] = ',';
    b[m] = '\0';
    struct conv_arg *args = NULL;
    size_t nargs = 0;
    size_t pos = 0;
    while (pos < m) {
        size_t ns, ne, vs, ve;
        size_t next = arg_item(b, pos, m, &ns, &ne, &vs, &ve);
        if (next == 0) {
            /* finditer would skip this character; allow only what cannot change the meaning. */
            unsigned long cp;
            size_t after = cp_decode(b, pos, m, &cp);
            if (is_space_cp(cp) || pos == m - 1) {
                pos = after;
                continue;
            }
            gw_set_err(err, errlen, "cannot read converter arguments at '%.*s'", (int)(n - pos),
                    text + pos);
            goto out;
        }
        args = xrealloc(args, (nargs + 1) * sizeof(*args));
        struct conv_arg *a = &args[nargs++];
        memset(a, 0, sizeof(*a));
        a->name = ne > ns ? xstrndup(b + ns, ne - ns) : NULL;
        pythonize(b, vs, ve, a);
        pos = next;
    }
    rc = GW_OK;
out:
    free(b);
    if (rc != GW_OK) {
        free_args(args, nargs);
        args = NULL;
        nargs = 0;
    }
    *out = args;
    *nout = nargs;
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * Converters: werkzeug's constructors, with the argument checks Python would do (or should do:
 * werkzeug accepts a string min= and then raises TypeError on every request).
 */

struct conv_spec {
    const char *name;
    enum gw_conv_kind kind;
    int weight;
    const char *const params[4]; /* keyword parameters in positional order */
    size_t nparams;
};

static const struct conv_spec conv_specs[] = {
    {"default", GW_CONV_STRING, 100, {"minlength", "maxlength", "length"}, 3},
    {"string", GW_CONV_STRING, 100, {"minlength", "maxlength", "length"}, 3},
    {"any", GW_CONV_ANY, 100, {0}, 0},
    {"path", GW_CONV_PATH, 200, {0}, 0},
    {"int", GW_CONV_INT, 50, {"fixed_digits", "min", "max", "signed"}, 4},
    {"float", GW_CONV_FLOAT, 50, {"min", "max", "signed"}, 3},
    {"uuid", GW_CONV_UUID, 100, {0}, 0},
};

static const char uuid_regex[] = "[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-"
                                 "[A-Fa-f0-9]{12}";

/* int(x) for a length argument of the string converter. */
static int length_arg(const struct conv_arg *a, const char *what, size_t *out, char *err,
                      size_t errlen)
{
    long long v;
    if (a->type == ARG_INT || a->type == ARG_BOOL) {
        v = a->overflow ? LLONG_MAX : a->i;
    } else if (a->type == ARG_FLOAT && isfinite(a->d)) {
        v = fabs(a->d) < 1e18 ? (long long)a->d : LLONG_MAX;
    } else if (a->type == ARG_STR) {
        struct conv_arg tmp = {0};
        if (!py_int(a->s, 0, strlen(a->s), &tmp)) {
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

static int bound_arg(const struct conv_arg *a, const char *conv, const char *what,
                     struct gw_rule_bound *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (a == NULL || a->type == ARG_NONE)
        return GW_OK;
    if ((a->type == ARG_INT && !a->overflow) || a->type == ARG_BOOL) {
        out->set = out->is_int = 1;
        out->i = a->i;
        return GW_OK;
    }
    if (a->type == ARG_FLOAT) {
        out->set = 1;
        out->d = a->d;
        return GW_OK;
    }
    if (a->type == ARG_INT)
        gw_set_err(err, errlen, "converter '%s': %s is out of range", conv, what);
    else
        gw_set_err(err, errlen, "converter '%s': %s must be a number", conv, what);
    return GW_ERULE;
}

static int flag_arg(const struct conv_arg *a, const char *conv, const char *what, long long *out,
                    char *err, size_t errlen)
{
    *out = 0;
    if (a == NULL || a->type == ARG_NONE)
        return GW_OK;
    if ((a->type == ARG_INT && !a->overflow) || a->type == ARG_BOOL) {
        *out = a->i;
        return GW_OK;
    }
    gw_set_err(err, errlen, "converter '%s': %s must be an integer or a boolean", conv, what);
    return GW_ERULE;
}

/* Builds conv from its arguments and appends werkzeug's regex for it to key. */
static int make_conv(const struct conv_spec *spec, const struct conv_arg *args, size_t nargs,
                     struct gw_rule_conv *conv, struct gw_strbuf *key, char *err, size_t errlen)
{
    const struct conv_arg *slot[4] = {0};
    size_t npos = 0;
    conv->kind = spec->kind;

    if (spec->kind == GW_CONV_ANY) {
        conv->items = xcalloc(nargs ? nargs : 1, sizeof(char *));
        for (size_t i = 0; i < nargs; i++) {
            if (args[i].name != NULL) {
                gw_set_err(err, errlen, "converter 'any' takes no keyword argument '%s'",
                        args[i].name);
                return GW_ERULE;
            }
            if (args[i].type != ARG_STR) {
                gw_set_err(err, errlen, "converter 'any': item %zu is not a string (quote it)", i + 1);
                return GW_ERULE;
            }
            conv->items[conv->nitems++] = xstrdup(args[i].s);
        }
        /* AnyConverter: f"(?:{'|'.join(re.escape(x) for x in items)})" */
        gw_strbuf_adds(key, "(?:");
        for (size_t i = 0; i < conv->nitems; i++) {
            if (i > 0)
                gw_strbuf_adds(key, "|");
            sb_add_escaped(key, conv->items[i], strlen(conv->items[i]));
        }
        gw_strbuf_adds(key, ")");
        return GW_OK;
    }

    /* werkzeug's path and uuid converters silently accept and ignore any arguments; a typo there
     * is more likely than intent, so enoki refuses them. */
    if (spec->nparams == 0 && nargs > 0) {
        gw_set_err(err, errlen, "converter '%s' takes no arguments", spec->name);
        return GW_ERULE;
    }
    for (size_t i = 0; i < nargs; i++) {
        size_t idx;
        if (args[i].name == NULL) {
            if (npos >= spec->nparams) {
                gw_set_err(err, errlen, "converter '%s' takes at most %zu arguments", spec->name,
                        spec->nparams);
                return GW_ERULE;
            }
            idx = npos++;
        } else {
            for (idx = 0; idx < spec->nparams; idx++)
                if (strcmp(spec->params[idx], args[i].name) == 0)
                    break;
            if (idx == spec->nparams) {
                gw_set_err(err, errlen, "converter '%s' has no argument '%s'", spec->name,
                        args[i].name);
                return GW_ERULE;
            }
        }
        if (slot[idx] != NULL) {
            gw_set_err(err, errlen, "converter '%s': argument '%s' given twice", spec->name,
                    spec->params[idx]);
            return GW_ERULE;
        }
        slot[idx] = &args[i];
    }

    switch (spec->kind) {
    case GW_CONV_STRING: {
        /* UnicodeConverter: [^/]{length} or [^/]{minlength,maxlength}. */
        char buf[64];
        if (slot[2] != NULL && slot[2]->type != ARG_NONE) {
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
            if (slot[1] != NULL && slot[1]->type != ARG_NONE) {
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
        gw_strbuf_adds(key, buf);
        return GW_OK;
    }
    case GW_CONV_INT:
    case GW_CONV_FLOAT: {
        /* FloatConverter has no fixed_digits: shift its slots onto NumberConverter's. */
        const struct conv_arg *fixed = NULL, *min, *max, *sign;
        if (spec->kind == GW_CONV_INT) {
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
        if (flag_arg(fixed, spec->name, "fixed_digits", &conv->fixed_digits, err, errlen) ||
            bound_arg(min, spec->name, "min", &conv->min, err, errlen) ||
            bound_arg(max, spec->name, "max", &conv->max, err, errlen) ||
            flag_arg(sign, spec->name, "signed", &is_signed, err, errlen))
            return GW_ERULE;
        conv->is_signed = is_signed != 0;
        if (conv->is_signed)
            gw_strbuf_adds(key, "-?");
        gw_strbuf_adds(key, spec->kind == GW_CONV_INT ? "\\d+" : "\\d+\\.\\d+");
        return GW_OK;
    }
    case GW_CONV_PATH:
        gw_strbuf_adds(key, "[^/].*?");
        return GW_OK;
    case GW_CONV_UUID:
        gw_strbuf_adds(key, uuid_regex);
        return GW_OK;
    case GW_CONV_ANY:
        break;
    }
    return GW_OK;
}

static void conv_clear(struct gw_rule_conv *conv)
{
    free(conv->name);
    for (size_t i = 0; i < conv->nitems; i++)
        free(conv->items[i]);
    free(conv->items);
}

/* ---------------------------------------------------------------------------------------------
 * The rule parser: werkzeug's Rule._parse_rule over _part_re:
 *
 *     (?P<slash>\/) | (?P<static>[^<\/]+)
 *     |
 * <(?:(?P<converter>[a-zA-Z_][a-zA-Z0-9_]*)(?:\((?P<arguments>.*?)\))?\:)?(?P<variable>[a-zA-Z_][a-zA-Z0-9_]*)>
 */

struct var_syntax {
    size_t conv_start, conv_end; /* empty: no converter given ("default") */
    int has_args;
    size_t args_start, args_end;
    size_t var_start, var_end;
    size_t end; /* after '>' */
};

/* An identifier at p followed by '>': sets the name bounds and returns 1. */
static int var_at(const char *t, size_t p, size_t len, struct var_syntax *v)
{
    if (p >= len || !is_ident_start(t[p]))
        return 0;
    size_t q = p + 1;
    while (q < len && is_ident_char(t[q]))
        q++;
    if (q >= len || t[q] != '>')
        return 0;
    v->var_start = p;
    v->var_end = q;
    v->end = q + 1;
    return 1;
}

/* Matches the variable alternative of _part_re at t[pos] == '<', trying the regex's branches in
 * its order: converter with arguments (the shortest argument text that works, as .*? is lazy),
 * converter without arguments, bare variable. */
static int var_syntax_at(const char *t, size_t pos, size_t len, struct var_syntax *v)
{
    memset(v, 0, sizeof(*v));
    size_t p = pos + 1;
    if (p < len && is_ident_start(t[p])) {
        size_t q = p + 1;
        while (q < len && is_ident_char(t[q]))
            q++;
        v->conv_start = p;
        v->conv_end = q;
        if (q < len && t[q] == '(') {
            for (size_t j = q + 1; j < len && t[j] != '\n'; j++) {
                if (t[j] == ')' && j + 1 < len && t[j + 1] == ':' && var_at(t, j + 2, len, v)) {
                    v->has_args = 1;
                    v->args_start = q + 1;
                    v->args_end = j;
                    return 1;
                }
            }
        }
        if (q < len && t[q] == ':' && var_at(t, q + 1, len, v))
            return 1;
    }
    v->conv_start = v->conv_end = 0;
    return var_at(t, p, len, v);
}

/* The part being built between two slashes (or across them, once final). */
struct part_builder {
    struct gw_strbuf key;
    int is_static;
    int final;
    struct gw_rule_token *tokens;
    size_t ntokens;
    size_t ncaptures;
    size_t *static_len;
    size_t nstatic;
    int *arg_weight;
    size_t nargs;
};

static void pb_literal(struct part_builder *pb, const char *s, size_t n)
{
    struct gw_rule_token *last = pb->ntokens ? &pb->tokens[pb->ntokens - 1] : NULL;
    if (last != NULL && last->lit != NULL) {
        last->lit = xrealloc(last->lit, last->len + n + 1);
        memcpy(last->lit + last->len, s, n);
        last->len += n;
        last->lit[last->len] = '\0';
        return;
    }
    pb->tokens = xrealloc(pb->tokens, (pb->ntokens + 1) * sizeof(*pb->tokens));
    pb->tokens[pb->ntokens++] = (struct gw_rule_token){xstrndup(s, n), n, 0};
}

static void pb_clear(struct part_builder *pb)
{
    free(pb->key.data);
    for (size_t i = 0; i < pb->ntokens; i++)
        free(pb->tokens[i].lit);
    free(pb->tokens);
    free(pb->static_len);
    free(pb->arg_weight);
    memset(pb, 0, sizeof(*pb));
    pb->is_static = 1;
}

/* Moves the built part into rule->parts and starts a new one. */
static void pb_emit(struct part_builder *pb, struct gw_rule *rule)
{
    if (!pb->is_static)
        gw_strbuf_adds(&pb->key, "\\Z");
    else
        gw_strbuf_add(&pb->key, "", 0); /* a static part may be empty; make sure key is allocated */
    rule->parts = xrealloc(rule->parts, (rule->nparts + 1) * sizeof(*rule->parts));
    struct gw_rule_part *part = &rule->parts[rule->nparts++];
    memset(part, 0, sizeof(*part));
    part->is_static = pb->is_static;
    part->final = pb->final;
    part->key = pb->key.data;
    part->key_len = pb->key.len;
    part->ncaptures = pb->ncaptures;
    part->weight = (struct gw_rule_weight){pb->nstatic, pb->static_len, pb->nargs, pb->arg_weight};
    if (pb->is_static) {
        for (size_t i = 0; i < pb->ntokens; i++)
            free(pb->tokens[i].lit);
        free(pb->tokens);
    } else {
        part->tokens = pb->tokens;
        part->ntokens = pb->ntokens;
    }
    memset(pb, 0, sizeof(*pb));
    pb->is_static = 1;
}

static int add_variable(const char *text, const struct var_syntax *v, struct part_builder *pb,
                        struct gw_rule *rule, char *err, size_t errlen)
{
    int rc = GW_ERULE;
    struct conv_arg *args = NULL;
    size_t nargs = 0;
    const struct conv_spec *spec = &conv_specs[0];
    size_t cn = v->conv_end - v->conv_start;

    if (cn > 0) {
        spec = NULL;
        for (size_t i = 0; i < sizeof(conv_specs) / sizeof(conv_specs[0]); i++) {
            if (strlen(conv_specs[i].name) == cn &&
                memcmp(conv_specs[i].name, text + v->conv_start, cn) == 0)
                spec = &conv_specs[i];
        }
        if (spec == NULL) {
            gw_set_err(err, errlen, "unknown converter '%.*s'", (int)cn, text + v->conv_start);
            goto out;
        }
    }
    size_t vn = v->var_end - v->var_start;
    for (size_t i = 0; i < rule->nconvs; i++) {
        if (strlen(rule->convs[i].name) == vn &&
            memcmp(rule->convs[i].name, text + v->var_start, vn) == 0) {
            gw_set_err(err, errlen, "variable '%.*s' is used twice", (int)vn, text + v->var_start);
            goto out;
        }
    }
    if (rule->nconvs >= GW_RULE_MAX_VARS) {
        gw_set_err(err, errlen, "more than %d variables", GW_RULE_MAX_VARS);
        goto out;
    }
    if (v->has_args && parse_args(text + v->args_start, v->args_end - v->args_start, &args, &nargs,
                                  err, errlen) != GW_OK)
        goto out;

    if (pb->is_static) {
        /* From here on the part is a regex: escape the static text before the variable. */
        struct gw_strbuf escaped = {0};
        gw_strbuf_add(&escaped, "", 0);
        sb_add_escaped(&escaped, pb->key.data, pb->key.len);
        free(pb->key.data);
        pb->key = escaped;
        pb->is_static = 0;
    }
    rule->convs = xrealloc(rule->convs, (rule->nconvs + 1) * sizeof(*rule->convs));
    struct gw_rule_conv *conv = &rule->convs[rule->nconvs++];
    memset(conv, 0, sizeof(*conv));
    conv->name = xstrndup(text + v->var_start, vn);
    gw_strbuf_adds(&pb->key, "(");
    if (make_conv(spec, args, nargs, conv, &pb->key, err, errlen) != GW_OK)
        goto out;
    gw_strbuf_adds(&pb->key, ")");
    if (spec->kind == GW_CONV_PATH)
        pb->final = 1;
    pb->arg_weight = xrealloc(pb->arg_weight, (pb->nargs + 1) * sizeof(int));
    pb->arg_weight[pb->nargs++] = spec->weight;
    pb->tokens = xrealloc(pb->tokens, (pb->ntokens + 1) * sizeof(*pb->tokens));
    pb->tokens[pb->ntokens++] = (struct gw_rule_token){NULL, 0, rule->nconvs - 1};
    pb->ncaptures++;
    rc = GW_OK;
out:
    free_args(args, nargs);
    return rc;
}

int gw_rule_parse(const char *text, size_t len, struct gw_rule **out, char *err, size_t errlen)
{
    int rc = GW_ERULE;
    struct gw_rule *rule = xcalloc(1, sizeof(*rule));
    struct part_builder pb = {0};
    pb.is_static = 1;
    *out = NULL;
    gw_set_err(err, errlen, "%s", "");

    if (len == 0 || text[0] != '/') {
        gw_set_err(err, errlen, "rule must start with '/'");
        goto out;
    }
    size_t pos = 0;
    while (pos < len) {
        if (text[pos] == '/') {
            if (pb.final) {
                /* After a path converter the slash is part of the one final regex. */
                gw_strbuf_add(&pb.key, "/", 1);
                pb_literal(&pb, "/", 1);
            } else {
                pb_emit(&pb, rule);
            }
            pos++;
        } else if (text[pos] != '<') {
            size_t end = pos;
            while (end < len && text[end] != '<' && text[end] != '/')
                end++;
            pb.static_len = xrealloc(pb.static_len, (pb.nstatic + 1) * sizeof(size_t));
            pb.static_len[pb.nstatic++] = cp_count(text + pos, end - pos);
            if (pb.is_static)
                gw_strbuf_add(&pb.key, text + pos, end - pos);
            else
                sb_add_escaped(&pb.key, text + pos, end - pos);
            pb_literal(&pb, text + pos, end - pos);
            pos = end;
        } else {
            struct var_syntax v;
            if (!var_syntax_at(text, pos, len, &v)) {
                gw_set_err(err, errlen,
                        "malformed rule at offset %zu: expected <name>, <converter:name> or "
                        "<converter(arguments):name>",
                        pos);
                goto out;
            }
            if (add_variable(text, &v, &pb, rule, err, errlen) != GW_OK)
                goto out;
            pos = v.end;
        }
    }
    pb_emit(&pb, rule);
    rc = GW_OK;
out:
    pb_clear(&pb);
    if (rc != GW_OK) {
        gw_rule_free(rule);
        rule = NULL;
    }
    *out = rule;
    return rc;
}

void gw_rule_free(struct gw_rule *rule)
{
    if (rule == NULL)
        return;
    for (size_t i = 0; i < rule->nparts; i++) {
        struct gw_rule_part *part = &rule->parts[i];
        free(part->key);
        for (size_t j = 0; j < part->ntokens; j++)
            free(part->tokens[j].lit);
        free(part->tokens);
        free(part->weight.static_len);
        free(part->weight.arg_weight);
    }
    free(rule->parts);
    for (size_t i = 0; i < rule->nconvs; i++)
        conv_clear(&rule->convs[i]);
    free(rule->convs);
    free(rule);
}

/* ---------------------------------------------------------------------------------------------
 * Ordering and equality of parts (StateMachineMatcher.update sorts dynamic transitions by weight).
 */

static int cmp_size(size_t a, size_t b)
{
    return a < b ? -1 : a > b;
}

int gw_rule_weight_cmp(const struct gw_rule_weight *a, const struct gw_rule_weight *b)
{
    int c;
    /* -len(static_weights): more static chunks sort first. */
    if ((c = cmp_size(b->nstatic, a->nstatic)) != 0)
        return c;
    /* [(index, -len)]: the indexes agree, so a longer chunk sorts first. */
    for (size_t i = 0; i < a->nstatic && i < b->nstatic; i++)
        if ((c = cmp_size(b->static_len[i], a->static_len[i])) != 0)
            return c;
    if ((c = cmp_size(a->nstatic, b->nstatic)) != 0)
        return c;
    /* -len(argument_weights): more variables sort first; then lighter converters first. */
    if ((c = cmp_size(b->nargs, a->nargs)) != 0)
        return c;
    for (size_t i = 0; i < a->nargs && i < b->nargs; i++)
        if (a->arg_weight[i] != b->arg_weight[i])
            return a->arg_weight[i] < b->arg_weight[i] ? -1 : 1;
    return cmp_size(a->nargs, b->nargs);
}

int gw_rule_part_equal(const struct gw_rule_part *a, const struct gw_rule_part *b)
{
    return a->is_static == b->is_static && a->final == b->final && a->key_len == b->key_len &&
           memcmp(a->key, b->key, a->key_len) == 0 &&
           gw_rule_weight_cmp(&a->weight, &b->weight) == 0;
}

/* ---------------------------------------------------------------------------------------------
 * Matching a dynamic part: a backtracking walk over its tokens that offers each converter's
 * candidate ends in the order Python's regex engine would try them.
 */

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int uuid_at(const char *s, size_t pos, size_t len)
{
    if (len - pos < 36)
        return 0;
    for (size_t i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[pos + i] != '-' : !is_hex(s[pos + i]))
            return 0;
    }
    return 1;
}

static int match_tokens(const struct gw_rule_part *part, const struct gw_rule_conv *convs, size_t t,
                        const char *s, size_t pos, size_t len, struct gw_rule_span *spans,
                        size_t k, const unsigned char *ok);

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
 * s[pos..len) (part_dp_new): candidates that cannot are skipped at once, so the walk never
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
            e = cp_next(s, e, len);
            n++;
        }
        if (n < conv->minlen)
            return 0;
        for (;;) {
            if (try_end(part, convs, t, s, pos, e, len, spans, k, ok))
                return 1;
            if (n == conv->minlen)
                return 0;
            e = cp_prev(s, pos, e);
            n--;
        }
    }
    case GW_CONV_PATH: {
        /* [^/].*? : one code point that is not '/', then lazily more, none of them a newline
         * ('.' does not match "\n" without re.DOTALL). */
        if (pos >= len || s[pos] == '/')
            return 0;
        size_t e = cp_next(s, pos, len);
        for (;;) {
            if (try_end(part, convs, t, s, pos, e, len, spans, k, ok))
                return 1;
            if (e >= len || s[e] == '\n')
                return 0;
            e = cp_next(s, e, len);
        }
    }
    case GW_CONV_INT:
    case GW_CONV_FLOAT: {
        /* -?\d+ and -?\d+\.\d+: the sign is taken when present (without it \d fails on '-');
         * the first \d+ must run up to the '.', only the last one backtracks. */
        size_t p = pos;
        if (conv->is_signed && p < len && s[p] == '-')
            p++;
        size_t d = run_end(s, p, len, is_digit_cp);
        if (d == p)
            return 0;
        if (conv->kind == GW_CONV_FLOAT) {
            if (d >= len || s[d] != '.')
                return 0;
            p = d + 1;
            d = run_end(s, p, len, is_digit_cp);
        }
        for (size_t e = d; e > p; e = cp_prev(s, p, e))
            if (try_end(part, convs, t, s, pos, e, len, spans, k, ok))
                return 1;
        return 0;
    }
    case GW_CONV_UUID:
        return uuid_at(s, pos, len) && try_end(part, convs, t, s, pos, pos + 36, len, spans, k, ok);
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
 * lead to a match. ok[t][pos] (row t, len + 1 columns) is 1 when tokens t.. match s[pos..len), filled
 * from the last token back. Each converter's candidate ends, as match_tokens generates them, are
 * the code point boundaries (bytes that are not UTF-8 continuation bytes, and len) in one range
 * (plus pos itself for a string of minlength 0), so "does any candidate lead on" is one lookup in a
 * running count of the boundaries e where ok[t + 1][e] holds. O(tokens x len) time and memory. */
struct part_dp {
    const char *s;
    size_t len;
    size_t *cum;       /* cum[x]: boundaries in (0, x] */
    size_t *bpos;      /* bpos[i]: the (i + 1)-th boundary after 0 */
    size_t *stop_next; /* the first y >= x with y == len or s[y] == '/' */
    size_t *nl_next;   /* the first y >= x with y == len or s[y] == '\n' */
    size_t *digit_end; /* run_end(s, x, len, is_digit_cp) */
    size_t *good;      /* good[x]: boundaries e in (0, x] with ok[t + 1][e], for the row being filled */
};

static int is_boundary(const char *s, size_t len, size_t x)
{
    return x == len || !is_cont((unsigned char)s[x]);
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
        return uuid_at(s, x, len) && next[x + 36];
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

static unsigned char *part_dp_fill(const struct gw_rule_part *part, const struct gw_rule_conv *convs,
                                   const char *s, size_t len, void *mem)
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
        unsigned long cp = 0;
        size_t after = digits && x < len ? cp_decode(s, x, len, &cp) : len;
        d.digit_end[x] = digits && x < len && is_digit_cp(cp) ? d.digit_end[after] : x;
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

static double bound_double(const struct gw_rule_bound *b)
{
    return b->is_int ? (double)b->i : b->d;
}

int gw_rule_conv_value(const struct gw_rule_conv *conv, const char *s, size_t len, json_t **out)
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
        char buf[37];
        for (size_t i = 0; i < 36 && i < len; i++)
            buf[i] = (s[i] >= 'A' && s[i] <= 'F') ? (char)(s[i] - 'A' + 'a') : s[i];
        *out = json_stringn(buf, len < 36 ? len : 36);
        break;
    }
    case GW_CONV_INT: {
        /* NumberConverter.to_python: fixed_digits counts the sign too (len(value)). */
        if (conv->fixed_digits != 0 && (long long)cp_count(s, len) != conv->fixed_digits)
            return GW_ENOMATCH;
        int neg = len > 0 && s[0] == '-';
        unsigned long long v = 0;
        for (size_t p = neg ? 1 : 0; p < len;) {
            unsigned long cp;
            p = cp_decode(s, p, len, &cp);
            unsigned d = (unsigned)decimal_value(cp);
            /* Python's int is unbounded; JSON through jansson is not. Such a value gets 404. */
            if (v > (ULLONG_MAX - d) / 10)
                return GW_ENOMATCH;
            v = v * 10 + d;
        }
        if (v > (unsigned long long)LLONG_MAX + (neg ? 1u : 0u))
            return GW_ENOMATCH;
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
            p = cp_decode(s, p, len, &cp);
            int d = decimal_value(cp);
            char c = d >= 0 ? (char)('0' + d) : (char)cp; /* '-' and '.' */
            gw_strbuf_add(&ascii, &c, 1);
        }
        double value = ascii.data ? strtod(ascii.data, NULL) : 0.0;
        free(ascii.data);
        /* float("1" * 400 + ".0") is inf in Python; JSON has no inf. */
        if (!isfinite(value))
            return GW_ENOMATCH;
        if ((conv->min.set && value < bound_double(&conv->min)) ||
            (conv->max.set && value > bound_double(&conv->max)))
            return GW_ENOMATCH;
        *out = json_real(value);
        break;
    }
    }
    return *out != NULL ? GW_OK : GW_ENOMATCH;
}
