/* auth_keys.c - a JWK Set file read with a bound, then parsed by routes/jwk. */
#include "gateway/auth_keys.h"

#include "core/status.h"
#include "core/strbuf.h"
#include "core/xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for gw_jwk_set_parse's reason. */
#define REASON_LEN 256

int gw_auth_keys_load(const char *path, struct gw_jwk_set **out, char *err, size_t errlen)
{
    char reason[REASON_LEN] = "";
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        gw_set_err(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        return GW_EIO;
    }
    /* One byte past the bound tells a file of exactly the bound from a bigger one. */
    char *text = xmalloc((size_t)GW_JWKS_MAX_BYTES + 1);
    size_t len = fread(text, 1, (size_t)GW_JWKS_MAX_BYTES + 1, f);
    int rc = GW_OK;
    if (ferror(f)) {
        /* fopen succeeds on a directory; the read fails with EISDIR. */
        gw_set_err(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        rc = GW_EIO;
    } else if (len > (size_t)GW_JWKS_MAX_BYTES) {
        gw_set_err(err, errlen, "%s: larger than %d bytes", path, GW_JWKS_MAX_BYTES);
        rc = GW_EIO;
    } else {
        rc = gw_jwk_set_parse(text, len, out, reason, sizeof(reason));
        if (rc != GW_OK)
            gw_set_err(err, errlen, "%s: %s", path, reason);
    }
    fclose(f);
    free(text);
    return rc;
}
