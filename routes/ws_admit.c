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

/* One ';'-separated element of an offer, blanks trimmed: [*start, *start + return). */
static size_t next_element(const char **p, const char *end, const char **start)
{
    const char *s = *p;
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    const char *e = s;
    while (e < end && *e != ';')
        e++;
    *p = e < end ? e + 1 : e;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *start = s;
    return (size_t)(e - s);
}

/* The server_max_window_bits of one offer (p..end), or 0 when it has none or a malformed one. */
static int offer_window(const char *p, const char *end)
{
    static const char param[] = "server_max_window_bits";
    const char *s;
    size_t n = next_element(&p, end, &s);
    if (n != strlen("permessage-deflate") || strncasecmp(s, "permessage-deflate", n) != 0)
        return 0;
    while (p < end) {
        n = next_element(&p, end, &s);
        size_t name = 0;
        while (name < n && s[name] != '=' && s[name] != ' ' && s[name] != '\t')
            name++;
        if (name != sizeof(param) - 1 || strncasecmp(s, param, name) != 0)
            continue;
        const char *v = memchr(s, '=', n);
        if (!v)
            return 0;
        v++;
        const char *v_end = s + n;
        while (v < v_end && (*v == ' ' || *v == '\t' || *v == '"'))
            v++;
        while (v_end > v && v_end[-1] == '"')
            v_end--;
        if (v_end - v == 1 && (*v == '8' || *v == '9'))
            return 9;
        if (v_end - v == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5')
            return 10 + (v[1] - '0');
        return 0;
    }
    return 0;
}

int gw_ws_deflate_window(const char *offer, int cap)
{
    int bits = cap;
    for (const char *p = offer; p && *p;) {
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        int asked = offer_window(p, end);
        if (asked > 0 && asked < bits)
            bits = asked;
        p = *end ? end + 1 : end;
    }
    return bits;
}
