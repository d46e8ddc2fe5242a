#include "ws_admit.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Statuses an upgrade is refused with. */
enum { FORBIDDEN = 403, UNAVAILABLE = 503 };

/* Origins and hosts longer than this are cut, and then do not match. */
enum { HOST_MAX = 256 };

void gw_ws_origin_host(const char *origin, char *out, size_t len)
{
    const char *p = strstr(origin, "://");
    p = p ? p + 3 : origin;
    snprintf(out, len, "%s", p);
    size_t n = strlen(out);
    if (n > 0 && out[n - 1] == '/')
        out[--n] = '\0';
    if (n > 3 && strcmp(out + n - 3, ":80") == 0)
        out[n - 3] = '\0';
    else if (n > 4 && strcmp(out + n - 4, ":443") == 0)
        out[n - 4] = '\0';
}

int gw_ws_admit(const struct gw_config *config, bool stopping, size_t open_sockets,
                const char *origin, const char *host)
{
    if (stopping || open_sockets >= (size_t)config->websocket_max_sockets)
        return UNAVAILABLE;
    if (!origin)
        return 0; /* not a browser */
    if (config->websocket_origins.n > 0) {
        for (size_t i = 0; i < config->websocket_origins.n; i++) {
            const char *allowed = config->websocket_origins.items[i];
            if (strcmp(allowed, "*") == 0 || strcasecmp(allowed, origin) == 0)
                return 0;
        }
        return FORBIDDEN;
    }
    char a[HOST_MAX], b[HOST_MAX];
    gw_ws_origin_host(origin, a, sizeof(a));
    gw_ws_origin_host(host ? host : "", b, sizeof(b));
    return strcasecmp(a, b) == 0 ? 0 : FORBIDDEN;
}

size_t gw_ws_drop_subprotocols(char *head, size_t len)
{
    static const char name[] = "sec-websocket-protocol:";
    size_t out = 0;
    for (size_t i = 0; i < len;) {
        const char *eol = memchr(head + i, '\n', len - i);
        size_t line = eol ? (size_t)(eol - (head + i)) + 1 : len - i;
        if (!(line > sizeof(name) - 1 && strncasecmp(head + i, name, sizeof(name) - 1) == 0)) {
            memmove(head + out, head + i, line);
            out += line;
        }
        i += line;
    }
    return out;
}
