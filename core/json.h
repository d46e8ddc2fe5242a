/* json.h - JSON text in and out, the way the two sides of enoki need it.
 *
 * Decoding is lenient as docs/nameko-wire.md §10.6 asks: Python's json.dumps may write the bare
 * tokens NaN, Infinity and -Infinity, which are not JSON, and integers of any size. The lenient
 * reader carries those numbers through (gw_json_carried) and the writer writes them back as
 * json.dumps does. Encoding writes reals in their shortest round-trip form (0.1, not
 * 0.10000000000000001), as Python's repr does.
 */
#ifndef ENOKI_JSON_H
#define ENOKI_JSON_H

#include <jansson.h>
#include <stddef.h>

enum gw_json_style {
    GW_JSON_COMPACT, /* {"a":1,"b":"é"}: UTF-8 kept, no spaces (HTTP responses) */
    GW_JSON_PYTHON,  /* {"a": 1, "b": "\u00e9"}: Python json.dumps' defaults (AMQP bodies) */
};

struct gw_strbuf;

/* How to write a decoded JSON value: JSON in its two styles, or Python's repr (routes/http_mode).
 */
struct gw_json_dialect {
    const char *item_sep, *key_sep;                 /* ", " and ": ", or "," and ":" */
    const char *true_text, *false_text, *null_text; /* "true", or "True" */
    void (*string)(struct gw_strbuf *b, const char *s, size_t n, const struct gw_json_dialect *d);
    void (*real)(struct gw_strbuf *b, double v);
    int ascii_only; /* for the string writer: escape every non-ASCII character */
    /* A carried number's text (an integer beyond 64 bits, NaN, Infinity, -Infinity). */
    void (*carried)(struct gw_strbuf *b, const char *text, size_t n);
};

/* A number jansson cannot hold, as Python's json module reads it: an integer beyond 64 bits
 * (its digits, optionally after '-'), NaN, Infinity or -Infinity. It is carried as a string
 * value that no other string can be (a 0xFF byte, which UTF-8 never holds and which only the
 * reader writes unchecked, then the text), so nothing downstream takes it for text it could
 * route on; gw_json_write writes it back as the number. Returns a new reference, or NULL when
 * text[0..n) is not such a number. */
json_t *gw_json_carried(const char *text, size_t n);

/* The text of v when v is a carried number (not NUL-terminated: its length in *n), else NULL. */
const char *gw_json_carried_text(const json_t *v, size_t *n);

/* The text of v when v is a string and not a carried number, else NULL: what every reader of a
 * decoded value that wants text asks (a method, a channel, a header, a routing key), so that a
 * number never passes for a string. */
const char *gw_json_text(const json_t *v);

/* Whether a carried number's text is NaN or an infinity (else it is an integer). */
int gw_json_carried_non_finite(const char *text, size_t n);

/* The one JSON string writer: s[0..n) quoted and escaped into b (quote, backslash and controls; in
 * GW_JSON_PYTHON style every non-ASCII code point as \uXXXX too, as json.dumps does). */
void gw_json_write_string(struct gw_strbuf *b, const char *s, size_t n, enum gw_json_style style);

/* The dialect of one of the JSON styles. */
const struct gw_json_dialect *gw_json_dialect_of(enum gw_json_style style);

/* Appends value, written in dialect, to b. */
void gw_json_write(struct gw_strbuf *b, const json_t *value, const struct gw_json_dialect *dialect);

/* Returns a new NUL-terminated string (free with free) and its length in *len (may be NULL). */
char *gw_json_encode(const json_t *value, enum gw_json_style style, size_t *len);

/* Decodes any JSON value as json_loadb(JSON_DECODE_ANY) does, accepting and refusing the same
 * texts and building the same values, at a fraction of its cost (core/json_decode.c). Returns a
 * new reference, or NULL with a reason in error (may be NULL). */
json_t *gw_json_decode(const char *text, size_t len, json_error_t *error);

/* Decodes any JSON value as Python's json.loads does where it reads more than gw_json_decode:
 * NaN, Infinity and -Infinity outside strings, integers beyond 64 bits and reals beyond a
 * double's range (an infinity to Python) become carried numbers (gw_json_carried). Returns a
 * new reference, or NULL with a reason in error (may be NULL). */
json_t *gw_json_decode_lenient(const char *text, size_t len, json_error_t *error);

/* Decodes an HTTP request body: JSON as gw_json_decode reads it, but an integer beyond 64 bits (up
 * to 4,300 digits) is carried, as Python reads it, and a key given twice in one object is refused
 * ("duplicate object key", as jansson's JSON_REJECT_DUPLICATES). NaN and Infinity are not JSON:
 * refused. Returns a new reference, or NULL with a reason in error (may be NULL). */
json_t *gw_json_decode_body(const char *text, size_t len, json_error_t *error);

#endif
