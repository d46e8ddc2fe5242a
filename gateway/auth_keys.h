/* auth_keys.h - the JWK Set file of GATEWAY.auth.jwt.jwks_file, read into verification keys.
 *
 * Reading is bounded (GW_JWKS_MAX_BYTES): the file is a config input, and a runaway one must fail
 * with a reason rather than grow the process. At start-up a file that does not read or parse is a
 * config error; when gateway/authn reads it again (SIGHUP, an unknown kid), a failure keeps the
 * old set. This module only reads.
 */
#ifndef ENOKI_AUTH_KEYS_H
#define ENOKI_AUTH_KEYS_H

#include "routes/jwk.h"

#include <stddef.h>

/* The largest JWK Set file read: far above any identity provider's set (a few KiB). */
#define GW_JWKS_MAX_BYTES (1 << 20)

/* Reads the JWK Set at path. On success returns GW_OK and a new set in *out (free it with
 * gw_jwk_set_free). Otherwise *out is NULL and err names the file and the reason:
 * "<path>: cannot read: <errno text>" (GW_EIO), "<path>: larger than 1048576 bytes" (GW_EIO), or
 * "<path>: <gw_jwk_set_parse's reason>" (GW_EJWKS). */
int gw_auth_keys_load(const char *path, struct gw_jwk_set **out, char *err, size_t errlen);

#endif
