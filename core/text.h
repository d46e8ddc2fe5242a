/* text.h - the character classes and small decoders that every parser shares, one of each. */
#ifndef ENOKI_TEXT_H
#define ENOKI_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The value of one hex digit, or -1 when c is not one. */
int gw_hex_value(char c);

/* RFC 9110 section 5.6.2 token characters ("tchar"): header names, methods, tokens of values. */
bool gw_is_tchar(unsigned char c);

/* Whether s[0..n) is a token: not empty, tchars only. */
bool gw_is_token(const char *s, size_t n);

/* The bytes werkzeug's url_quote never escapes, whatever its `safe` argument (its _always_safe):
 * ASCII letters, digits and "-._~$!'()*+,;". */
bool gw_url_always_safe(unsigned char c);

/* RFC 4648 section 5 base64url without padding, as JWS (RFC 7515 section 2) writes it: in[0..n)
 * decoded into *out (xmalloc'd, NUL-terminated past *out_len, the caller frees). Refuses '=', '+',
 * '/', whitespace and every other byte outside the alphabet, a length with n % 4 == 1, and bits
 * left over in the last character (one text per value: a token cannot be altered unseen). Returns
 * 0, or GW_EINVAL with *out NULL. */
int gw_base64url_decode(const char *in, size_t n, unsigned char **out, size_t *out_len);

/* The decimal digits of v into buf (at least GW_U64_DIGITS bytes), NUL-terminated; returns their
 * count. The hot paths' integers, without printf's format parsing (bench/README.md, "Issue 20"). */
enum { GW_U64_DIGITS = 21, GW_I64_DIGITS = 21 };
size_t gw_fmt_u64(char *buf, uint64_t v);
/* The same for a signed value ('-' first when negative). */
size_t gw_fmt_i64(char *buf, int64_t v);

struct gw_strbuf;

/* Appends the decimal digits of v. */
void gw_strbuf_add_u64(struct gw_strbuf *b, uint64_t v);

/* Appends "%XX" (upper-case hex, as Python's quote writes it) for the byte c. */
void gw_percent_encode(struct gw_strbuf *b, unsigned char c);

/* werkzeug's url_quote(s, safe): every byte but the always-safe ones and those of safe
 * percent-encoded. Returns a new string. */
char *gw_url_quote(const char *s, const char *safe);

#endif
