/* accept_encoding.h - which content coding a response may use, from the request's Accept-Encoding
 * (RFC 9110 §12.5.3): codings with q-values, "*" for any other, "identity" acceptable unless
 * refused. enoki knows gzip only. Pure. */
#ifndef ENOKI_ACCEPT_ENCODING_H
#define ENOKI_ACCEPT_ENCODING_H

#include <stdbool.h>

/* Whether the client takes a gzip-coded response: gzip (or x-gzip), else "*", with a q-value
 * above 0. No header (NULL) or an empty one: no, the body goes as it is. */
bool gw_accept_gzip(const char *accept_encoding);

#endif
