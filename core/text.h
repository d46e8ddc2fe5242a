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

struct gw_strbuf;

/* Appends "%XX" (upper-case hex, as Python's quote writes it) for the byte c. */
void gw_percent_encode(struct gw_strbuf *b, unsigned char c);

/* werkzeug's url_quote(s, safe): every byte but the always-safe ones and those of safe
 * percent-encoded. Returns a new string. */
char *gw_url_quote(const char *s, const char *safe);

#endif
