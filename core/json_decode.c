/* json_decode.c - JSON text into jansson values, for the texts enoki decodes on every call: AMQP
 * replies, websocket frames, requests to enoki's own service (bench/README.md, "Issue 20":
 * jansson's reader cost some 150 instructions a byte, a fifth of a websocket call).
 *
 * It accepts and refuses what json_loadb(JSON_DECODE_ANY) does and builds the same values (the
 * fuzz harness tests/fuzz/fuzz_json.c checks both against each other): RFC 8259 JSON, any value at
 * the top, strings of well-formed UTF-8 without NUL (not even as \u0000), integers within 64 bits
 * (beyond them the text is refused, not rounded), reals within a double's range, a later duplicate
 * key replacing the earlier one in its place, values nested 2048 deep at most (the top one is
 * 1 deep, as jansson counts). Read leniently (gw_json_decode_lenient), it also takes what Python's
 * json.loads takes beyond that: NaN, Infinity and -Infinity, integers of any size and reals
 * beyond a double's range (an infinity), each as a carried number (core/json.h).
 */
#include "json.h"

#include "utf8.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* MAX_INT_DIGITS: Python's json.loads refuses an integer of more digits (sys.int_info's
 * default_max_str_digits, Python 3.11): one the lenient reader carries is within it. */
enum { MAX_DEPTH = JSON_PARSER_MAX_DEPTH, MAX_NUMBER = 64, MAX_INT_DIGITS = 4300 };

struct reader {
    const unsigned char *start, *at, *end;
    json_error_t *error;
    char *scratch; /* a string's bytes once it holds an escape */
    size_t scratch_len, scratch_cap;
    bool carry_integers;    /* integers beyond 64 bits are carried, not refused */
    bool carry_non_finite;  /* NaN, Infinity, -Infinity and reals beyond a double too */
    bool reject_duplicates; /* a key given twice in one object is an error */
};

/* Records the first error: where (line, column and byte position, as jansson counts them) and why.
 * Returns NULL for the caller to pass up. */
static json_t *fail(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static json_t *fail(struct reader *r, const char *fmt, ...)
{
    if (!r->error)
        return NULL;
    int line = 1, column = 0;
    for (const unsigned char *p = r->start; p < r->at; p++) {
        if (*p == '\n') {
            line++;
            column = 0;
        } else if ((*p & 0xC0) != 0x80) {
            column++;
        }
    }
    r->error->line = line;
    r->error->column = column;
    r->error->position = (int)(r->at - r->start);
    snprintf(r->error->source, sizeof(r->error->source), "<buffer>");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error->text, sizeof(r->error->text), fmt, ap);
    va_end(ap);
    r->error = NULL; /* the first error is the one reported */
    return NULL;
}

static void skip_space(struct reader *r)
{
    while (r->at < r->end && (*r->at == ' ' || *r->at == '\t' || *r->at == '\n' || *r->at == '\r'))
        r->at++;
}

static void scratch_add(struct reader *r, const void *bytes, size_t n)
{
    if (n == 0)
        return;
    if (r->scratch_len + n > r->scratch_cap) {
        size_t cap = r->scratch_cap ? r->scratch_cap : 256;
        while (cap < r->scratch_len + n)
            cap *= 2;
        char *grown = realloc(r->scratch, cap);
        if (!grown)
            abort();
        r->scratch = grown;
        r->scratch_cap = cap;
    }
    memcpy(r->scratch + r->scratch_len, bytes, n);
    r->scratch_len += n;
}

static int hex4(const unsigned char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int c = p[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        v = v * 16 + d;
    }
    return v;
}

static void scratch_code_point(struct reader *r, unsigned long cp)
{
    unsigned char out[4];
    scratch_add(r, out, gw_utf8_encode(cp, out));
}

/* One escape after its backslash; false (error set) when it is not one JSON has. */
static bool read_escape(struct reader *r)
{
    if (r->at >= r->end)
        return fail(r, "premature end of input"), false;
    unsigned char c = *r->at++;
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *simple = c ? strchr(from, c) : NULL;
    if (simple) {
        scratch_add(r, &to[simple - from], 1);
        return true;
    }
    if (c != 'u')
        return fail(r, "invalid escape '\\%c'", c), false;
    int hi = r->end - r->at >= 4 ? hex4(r->at) : -1;
    if (hi < 0)
        return fail(r, "invalid escape"), false;
    r->at += 4;
    unsigned long cp = (unsigned long)hi;
    if (hi >= 0xD800 && hi <= 0xDBFF) {
        int lo = r->end - r->at >= 6 && r->at[0] == '\\' && r->at[1] == 'u' ? hex4(r->at + 2) : -1;
        if (lo < 0xDC00 || lo > 0xDFFF)
            return fail(r, "invalid Unicode '\\u%04X'", (unsigned)hi), false;
        r->at += 6;
        cp = 0x10000 + (((unsigned long)hi - 0xD800) << 10) + ((unsigned long)lo - 0xDC00);
    } else if (hi >= 0xDC00 && hi <= 0xDFFF) {
        return fail(r, "invalid Unicode '\\u%04X'", (unsigned)hi), false;
    } else if (hi == 0) {
        return fail(r, "\\u0000 is not allowed without JSON_ALLOW_NUL"), false;
    }
    scratch_code_point(r, cp);
    return true;
}

/* The string after its opening quote, up to and past its closing one: its bytes in *text (into
 * the input, or the scratch buffer once an escape was met) and *len. */
static bool read_string(struct reader *r, const char **text, size_t *len)
{
    const unsigned char *run = r->at;
    bool escaped = false;
    r->scratch_len = 0;
    for (;;) {
        /* Plain ASCII goes by without a copy. */
        while (r->at < r->end && *r->at >= 0x20 && *r->at < 0x80 && *r->at != '"' && *r->at != '\\')
            r->at++;
        if (r->at >= r->end)
            return fail(r, "premature end of input"), false;
        unsigned char c = *r->at;
        if (c == '"') {
            if (escaped)
                scratch_add(r, run, (size_t)(r->at - run));
            r->at++;
            *text = escaped ? r->scratch : (const char *)run;
            *len = escaped ? r->scratch_len : (size_t)(r->at - 1 - run);
            return true;
        }
        if (c == '\\') {
            scratch_add(r, run, (size_t)(r->at - run));
            r->at++;
            if (!read_escape(r))
                return false;
            escaped = true;
            run = r->at;
            continue;
        }
        if (c < 0x20)
            return fail(r, "control character 0x%x", c), false;
        unsigned long cp;
        size_t n = gw_utf8_decode((const char *)r->at, (size_t)(r->end - r->at), &cp);
        if (n == 0)
            return fail(r, "unable to decode byte 0x%x", c), false;
        r->at += n;
    }
}

static json_t *read_number(struct reader *r)
{
    const unsigned char *begin = r->at, *p = r->at;
    bool negative = p < r->end && *p == '-';
    if (negative)
        p++;
    if (p >= r->end || *p < '0' || *p > '9')
        return fail(r, "invalid token");
    if (*p == '0') {
        p++;
        if (p < r->end && *p >= '0' && *p <= '9')
            return fail(r, "invalid token");
    } else {
        while (p < r->end && *p >= '0' && *p <= '9')
            p++;
    }
    bool real = false;
    if (p < r->end && *p == '.') {
        p++;
        if (p >= r->end || *p < '0' || *p > '9')
            return fail(r, "invalid token");
        while (p < r->end && *p >= '0' && *p <= '9')
            p++;
        real = true;
    }
    if (p < r->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < r->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= r->end || *p < '0' || *p > '9')
            return fail(r, "invalid token");
        while (p < r->end && *p >= '0' && *p <= '9')
            p++;
        real = true;
    }
    r->at = p;
    if (!real) {
        /* Digits into an unsigned magnitude; the sign's range decides. */
        uint64_t magnitude = 0;
        bool overflow = false;
        for (const unsigned char *d = begin + negative; d < p; d++) {
            unsigned digit = (unsigned)(*d - '0');
            if (magnitude > (UINT64_MAX - digit) / 10)
                overflow = true;
            else
                magnitude = magnitude * 10 + digit;
        }
        if (negative && !overflow && magnitude <= (uint64_t)INT64_MAX + 1)
            return json_integer(magnitude == (uint64_t)INT64_MAX + 1 ? INT64_MIN
                                                                     : -(json_int_t)magnitude);
        if (!negative && !overflow && magnitude <= (uint64_t)INT64_MAX)
            return json_integer((json_int_t)magnitude);
        if (r->carry_integers && (size_t)(p - begin) - negative <= MAX_INT_DIGITS)
            return gw_json_carried((const char *)begin, (size_t)(p - begin));
        r->at = begin;
        return fail(r, negative ? "too big negative integer" : "too big integer");
    }
    char text[MAX_NUMBER];
    char *copy = (size_t)(p - begin) < sizeof(text) ? text : malloc((size_t)(p - begin) + 1);
    if (!copy)
        abort();
    memcpy(copy, begin, (size_t)(p - begin));
    copy[p - begin] = '\0';
    errno = 0;
    double value = strtod(copy, NULL); /* the C locale: '.' is the decimal point */
    bool overflow = errno == ERANGE && (value > 1.0 || value < -1.0);
    if (copy != text)
        free(copy);
    if (overflow && r->carry_non_finite)
        return gw_json_carried(negative ? "-Infinity" : "Infinity", negative ? 9 : 8);
    if (overflow) {
        r->at = begin;
        return fail(r, "real number overflow");
    }
    return json_real(value);
}

static json_t *read_value(struct reader *r, int depth);

/* After a container's item: a ',' (another item follows), its closer (the container ends), or an
 * error. */
enum after_item { ANOTHER, CLOSED, BROKEN };
static enum after_item after_item(struct reader *r, char closer)
{
    skip_space(r);
    if (r->at < r->end && (*r->at == ',' || *r->at == closer))
        return *r->at++ == ',' ? ANOTHER : CLOSED;
    if (r->at >= r->end)
        fail(r, "premature end of input");
    else
        fail(r, "'%c' expected", closer);
    return BROKEN;
}

/* After an opening bracket: whether the container closes at once (closer taken). */
static bool closes_empty(struct reader *r, char closer)
{
    skip_space(r);
    if (r->at < r->end && *r->at == closer) {
        r->at++;
        return true;
    }
    return false;
}

static json_t *read_array(struct reader *r, int depth)
{
    json_t *array = json_array();
    if (closes_empty(r, ']'))
        return array;
    for (;;) {
        json_t *item = read_value(r, depth + 1);
        if (!item || json_array_append_new(array, item) != 0)
            break;
        enum after_item next = after_item(r, ']');
        if (next == CLOSED)
            return array;
        if (next == BROKEN)
            break;
    }
    json_decref(array);
    return NULL;
}

static json_t *read_object(struct reader *r, int depth)
{
    json_t *object = json_object();
    if (closes_empty(r, '}'))
        return object;
    for (;;) {
        skip_space(r);
        if (r->at >= r->end || *r->at != '"') {
            fail(r, r->at < r->end ? "string or '}' expected" : "premature end of input");
            break;
        }
        r->at++;
        const char *key;
        size_t key_len;
        if (!read_string(r, &key, &key_len))
            break;
        /* The key is copied before the value's strings reuse the scratch buffer. */
        char small[128];
        char *owned = key_len < sizeof(small) ? small : malloc(key_len + 1);
        if (!owned)
            abort();
        memcpy(owned, key, key_len);
        owned[key_len] = '\0';
        skip_space(r);
        json_t *value = NULL;
        if (r->reject_duplicates && json_object_getn(object, owned, key_len))
            fail(r, "duplicate object key");
        else if (r->at >= r->end || *r->at != ':')
            fail(r, r->at < r->end ? "':' expected" : "premature end of input");
        else if ((r->at++, value = read_value(r, depth + 1)) != NULL)
            json_object_setn_new_nocheck(object, owned, key_len, value);
        if (owned != small)
            free(owned);
        if (!value)
            break;
        enum after_item next = after_item(r, '}');
        if (next == CLOSED)
            return object;
        if (next == BROKEN)
            break;
    }
    json_decref(object);
    return NULL;
}

static bool word_is(struct reader *r, const char *word, size_t n)
{
    if ((size_t)(r->end - r->at) < n || memcmp(r->at, word, n) != 0)
        return false;
    /* "truex" is one (invalid) word to jansson's lexer, not true then x. */
    const unsigned char *after = r->at + n;
    if (after < r->end && ((*after >= 'a' && *after <= 'z') || (*after >= 'A' && *after <= 'Z')))
        return false;
    r->at = after;
    return true;
}

/* The words json.dumps writes for the reals JSON has none for. */
static const char *const non_finite[] = {"NaN", "Infinity", "-Infinity"};

/* A value depth deep (the top one is 1 deep). */
static json_t *read_value(struct reader *r, int depth)
{
    skip_space(r);
    if (r->at >= r->end)
        return fail(r, "premature end of input");
    if (depth > MAX_DEPTH)
        return fail(r, "maximum parsing depth reached");
    unsigned char c = *r->at;
    switch (c) {
    case '{':
    case '[':
        r->at++;
        return c == '{' ? read_object(r, depth) : read_array(r, depth);
    case '"': {
        r->at++;
        const char *text;
        size_t len;
        if (!read_string(r, &text, &len))
            return NULL;
        return json_stringn_nocheck(text, len);
    }
    case 't':
        return word_is(r, "true", 4) ? json_true() : fail(r, "invalid token");
    case 'f':
        return word_is(r, "false", 5) ? json_false() : fail(r, "invalid token");
    case 'n':
        return word_is(r, "null", 4) ? json_null() : fail(r, "invalid token");
    default:
        /* A word, not a number: "-I" starts no number ("-1" goes straight on). */
        if (r->carry_non_finite &&
            (c == 'N' || c == 'I' || (c == '-' && r->end - r->at > 1 && r->at[1] == 'I')))
            for (size_t i = 0; i < ARRAY_LEN(non_finite); i++)
                if (word_is(r, non_finite[i], strlen(non_finite[i])))
                    return gw_json_carried(non_finite[i], strlen(non_finite[i]));
        if (c == '-' || (c >= '0' && c <= '9'))
            return read_number(r);
        return fail(r, "invalid token");
    }
}

static json_t *decode(const char *text, size_t len, json_error_t *error, struct reader r)
{
    r.start = r.at = (const unsigned char *)text;
    r.end = (const unsigned char *)text + len;
    r.error = error;
    json_t *value = read_value(&r, 1);
    if (value) {
        skip_space(&r);
        if (r.at < r.end) {
            fail(&r, "end of file expected");
            json_decref(value);
            value = NULL;
        }
    }
    free(r.scratch);
    return value;
}

json_t *gw_json_decode(const char *text, size_t len, json_error_t *error)
{
    return decode(text, len, error, (struct reader){0});
}

json_t *gw_json_decode_lenient(const char *text, size_t len, json_error_t *error)
{
    return decode(text, len, error,
                  (struct reader){.carry_integers = true, .carry_non_finite = true});
}

json_t *gw_json_decode_body(const char *text, size_t len, json_error_t *error)
{
    return decode(text, len, error,
                  (struct reader){.carry_integers = true, .reject_duplicates = true});
}
