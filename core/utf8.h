/* utf8.h - UTF-8 checks and repair, the way Python decodes bytes with errors="replace".
 *
 * werkzeug (and so nameko) decodes request paths and query strings with that rule, so enoki repairs
 * ill-formed input the same way before matching or forwarding it: each maximal ill-formed subpart
 * becomes one U+FFFD (Unicode's recommended practice, which CPython follows).
 */
#ifndef ENOKI_UTF8_H
#define ENOKI_UTF8_H

#include <stddef.h>

/* The one UTF-8 decoder: the well-formed sequence at s[0..n) (n > 0) gives its code point in *cp
 * and its length (1 to 4); an ill-formed one (overlong, surrogate, beyond U+10FFFF, cut short)
 * gives 0. */
size_t gw_utf8_decode(const char *s, size_t n, unsigned long *cp);

/* Writes code point cp (at most U+10FFFF) as UTF-8 into out; returns its length (1 to 4). */
size_t gw_utf8_encode(unsigned long cp, unsigned char out[4]);

/* true when s[0..n) is well-formed UTF-8 (NUL bytes included as code points). */
int gw_utf8_valid(const char *s, size_t n);

/* Returns a new NUL-terminated copy of s[0..n) with every ill-formed subpart replaced by U+FFFD;
 * its length goes to *out_len (may be NULL). */
char *gw_utf8_repair(const char *s, size_t n, size_t *out_len);

/* Same, but each ill-formed byte becomes "%XX" (upper-case hex), as werkzeug's "url_quote" codec
 * error handler writes it in IRIs. */
char *gw_utf8_repair_quoting(const char *s, size_t n, size_t *out_len);

/* Python's json.loads of bytes (nameko's hub reads a binary websocket message so): the encoding
 * is told by a BOM (UTF-8, UTF-16, UTF-32) or by where the first bytes hold zeros (UTF-16 or
 * UTF-32 without one, as json.detect_encoding), else UTF-8. Returns a new NUL-terminated UTF-8
 * copy without the BOM (its length in *out_len), or NULL when the bytes do not decode: cut short,
 * beyond U+10FFFF, or a lone surrogate (which Python keeps and enoki cannot carry). */
char *gw_utf8_from_json_bytes(const char *s, size_t n, size_t *out_len);

#endif
