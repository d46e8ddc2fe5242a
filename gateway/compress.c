/* compress.c - gzip bodies with zlib. */
#include "gateway/compress.h"

#include "core/status.h"
#include "core/xalloc.h"
#include "gateway/request.h"
#include "routes/accept_encoding.h"
#include "routes/respond.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

/* A 32 KiB window (the largest, 15) with a gzip header and trailer (+16); zlib's default memory
 * level: about 256 KiB of state per compression, whatever the body. */
enum { GZIP_WINDOW_BITS = 15 + 16, GZIP_MEM_LEVEL = 8 };

int gw_gzip(const void *in, size_t len, int level, char **out, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, level, Z_DEFLATED, GZIP_WINDOW_BITS, GZIP_MEM_LEVEL, Z_DEFAULT_STRATEGY) !=
        Z_OK)
        return GW_EINVAL;
    size_t cap = deflateBound(&z, (uLong)len);
    char *buf = xmalloc(cap ? cap : 1);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)buf;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    size_t produced = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(buf);
        return GW_EINVAL;
    }
    *out = buf;
    *out_len = produced;
    return GW_OK;
}

/* The types worth coding: JSON and text (images and the like are coded already). */
static bool compressible(const char *content_type)
{
    if (!content_type)
        return false;
    return strncasecmp(content_type, "text/", 5) == 0 ||
           strncasecmp(content_type, "application/json", 16) == 0 ||
           strncasecmp(content_type, "application/javascript", 22) == 0;
}

static struct gw_response_header *find_header(struct gw_response *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return &r->headers[i];
    return NULL;
}

/* Whether the comma-separated list holds token (case-insensitive). */
static bool has_token(const char *list, const char *token)
{
    size_t n = strlen(token);
    for (const char *p = list; *p;) {
        p += strspn(p, ", \t");
        size_t len = strcspn(p, ", \t");
        if (len == n && strncasecmp(p, token, n) == 0)
            return true;
        p += len;
    }
    return false;
}

/* Vary: Accept-Encoding, added to a Vary the handler set. */
static void add_vary(struct gw_response *r)
{
    struct gw_response_header *vary = find_header(r, "Vary");
    if (!vary) {
        gw_response_add_header(r, "Vary", "Accept-Encoding");
        return;
    }
    if (has_token(vary->value, "Accept-Encoding") || strcmp(vary->value, "*") == 0)
        return;
    char *joined = xasprintf("%s, Accept-Encoding", vary->value);
    free(vary->value);
    vary->value = joined;
}

void gw_compress_response(struct gw_request *req)
{
    struct gw_response *r = &req->response;
    int min = req->config->compress_min;
    /* A mode: http handler's own Content-Type is one of its headers. */
    const struct gw_response_header *type = r->content_type ? NULL : find_header(r, "Content-Type");
    if (min <= 0 || req->file_fd >= 0 || r->body_len < (size_t)min || r->status < 200 ||
        r->status == 204 || r->status == 304 ||
        !compressible(r->content_type ? r->content_type
                      : type          ? type->value
                                      : NULL) ||
        find_header(r, "Content-Encoding") || gw_request_header(req, "Range"))
        return;
    add_vary(r);
    if (!gw_accept_gzip(gw_request_header(req, "Accept-Encoding")))
        return;
    char *coded;
    size_t coded_len;
    if (gw_gzip(r->body, r->body_len, req->config->compress_level, &coded, &coded_len) != GW_OK)
        return; /* sent as it is */
    free(r->body);
    r->body = coded;
    r->body_len = coded_len;
    gw_response_add_header(r, "Content-Encoding", "gzip");
    /* A handler's strong ETag names its bytes, which these are not (RFC 9110 8.8.3.3): weakened,
     * as nginx does, it still names the same content for a conditional request. */
    struct gw_response_header *etag = find_header(r, "ETag");
    if (etag && etag->value[0] == '"') {
        char *weak = xasprintf("W/%s", etag->value);
        free(etag->value);
        etag->value = weak;
    }
}
