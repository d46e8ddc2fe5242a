/* text.h - the character classes and small decoders that every parser shares, one of each. */
#ifndef ENOKI_TEXT_H
#define ENOKI_TEXT_H

#include <stdbool.h>
#include <stddef.h>

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

struct gw_strbuf;

/* Appends "%XX" (upper-case hex, as Python's quote writes it) for the byte c. */
void gw_percent_encode(struct gw_strbuf *b, unsigned char c);

/* werkzeug's url_quote(s, safe): every byte but the always-safe ones and those of safe
 * percent-encoded. Returns a new string. */
char *gw_url_quote(const char *s, const char *safe);

#endif
