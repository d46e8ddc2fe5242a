/* compress.h - response bodies gzip-coded on the way out (GATEWAY.compress_min, compress_level),
 * for the two HTTP transports alike. */
#ifndef ENOKI_COMPRESS_H
#define ENOKI_COMPRESS_H

#include <stddef.h>

struct gw_request;

/* gzip of in[0..len) at level (1..9) with a 32 KiB window: a new buffer in *out, its length in
 * *out_len; GW_OK or GW_EINVAL (zlib refused). */
int gw_gzip(const void *in, size_t len, int level, char **out, size_t *out_len);

/* Codes req's response body with gzip when it may be: a JSON or text body of at least
 * GATEWAY.compress_min bytes (0: never), not a file, not already coded, not a 1xx/204/304, no
 * Range asked; then only if the client's Accept-Encoding takes gzip. Every response that could be
 * coded says Vary: Accept-Encoding. Called by each transport just before it writes the head. */
void gw_compress_response(struct gw_request *req);

#endif
