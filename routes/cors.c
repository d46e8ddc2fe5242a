#include "cors.h"

#include "core/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *gw_cors_allowed_origin(const struct gw_cors *cors, const char *origin)
{
    if (!cors->enabled || !origin)
        return NULL;
    for (size_t i = 0; i < cors->origins.n; i++)
        if (strcmp(cors->origins.items[i], "*") == 0 ||
            strcasecmp(cors->origins.items[i], origin) == 0)
            return origin;
    return NULL;
}

bool gw_cors_is_preflight(const struct gw_cors *cors, const char *method, const char *origin,
                          const char *request_method)
{
    return cors->enabled && strcmp(method, "OPTIONS") == 0 && request_method && origin;
}

/* items joined with ", " into b. */
static void join(struct gw_strbuf *b, const struct gw_string_list *items)
{
    for (size_t i = 0; i < items->n; i++) {
        gw_strbuf_adds(b, i ? ", " : "");
        gw_strbuf_adds(b, items->items[i]);
    }
}

void gw_cors_headers(const struct gw_cors *cors, const char *origin, bool preflight,
                     const char *asked_headers, gw_header_fn add, void *ctx)
{
    if (!cors->enabled)
        return;
    /* Whether the answer names an origin depends on the request's Origin, even when it names none
     * (no Origin, one not listed): a cache must not give that answer to another origin's page
     * (the Fetch standard, "CORS protocol and HTTP caches"). */
    add(ctx, "Vary", "Origin");
    origin = gw_cors_allowed_origin(cors, origin);
    if (!origin)
        return;
    bool any = false;
    for (size_t i = 0; i < cors->origins.n; i++)
        any = any || strcmp(cors->origins.items[i], "*") == 0;
    /* "*" cannot go with credentials: then the origin itself is named. */
    add(ctx, "Access-Control-Allow-Origin", any && !cors->credentials ? "*" : origin);
    if (cors->credentials)
        add(ctx, "Access-Control-Allow-Credentials", "true");
    if (!preflight) {
        /* What enoki sends for a page to act on, beyond what the Fetch standard always shows. */
        add(ctx, "Access-Control-Expose-Headers", GW_CORS_EXPOSED);
        return;
    }
    struct gw_strbuf methods = {0}, headers = {0};
    if (cors->methods.n == 0)
        gw_strbuf_adds(&methods, "GET, HEAD, POST, PUT, PATCH, DELETE");
    join(&methods, &cors->methods);
    join(&headers, &cors->headers);
    add(ctx, "Access-Control-Allow-Methods", methods.data);
    if (headers.data)
        add(ctx, "Access-Control-Allow-Headers", headers.data);
    else if (asked_headers)
        add(ctx, "Access-Control-Allow-Headers", asked_headers);
    char age[16];
    snprintf(age, sizeof(age), "%d", cors->max_age);
    add(ctx, "Access-Control-Max-Age", age);
    free(methods.data);
    free(headers.data);
}
