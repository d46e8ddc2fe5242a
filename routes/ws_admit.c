#include "ws_admit.h"

#include "core/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
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

static bool is_param(const char *s, size_t name_len, const char *param)
{
    return name_len == strlen(param) && strncasecmp(s, param, name_len) == 0;
}

/* A parameter's value, after its '=' without blanks or quotes: [*v, *v_end); false without '='. */
static bool param_value(const char *s, size_t n, const char **v, const char **v_end)
{
    const char *eq = memchr(s, '=', n);
    if (!eq)
        return false;
    *v = eq + 1;
    *v_end = s + n;
    while (*v < *v_end && (**v == ' ' || **v == '\t' || **v == '"'))
        (*v)++;
    while (*v_end > *v && (*v_end)[-1] == '"')
        (*v_end)--;
    return true;
}

/* A window size parameter's value (8-15, 8 read as 9), or 0 when it is malformed. */
static int window_value(const char *s, size_t n)
{
    const char *v, *v_end;
    if (!param_value(s, n, &v, &v_end))
        return 0;
    if (v_end - v == 1 && (*v == '8' || *v == '9'))
        return 9;
    if (v_end - v == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5')
        return 10 + (v[1] - '0');
    return 0;
}

/* One offer (p..end): false when it is not permessage-deflate; else its server_max_window_bits (0
 * when it has none or a malformed one) and whether it asks for server_no_context_takeover. */
static bool offer_terms(const char *p, const char *end, int *window, bool *no_takeover)
{
    const char *s;
    size_t n = next_element(&p, end, &s);
    if (!is_param(s, n, "permessage-deflate"))
        return false;
    *window = 0;
    *no_takeover = false;
    while (p < end) {
        n = next_element(&p, end, &s);
        size_t name = 0;
        while (name < n && s[name] != '=' && s[name] != ' ' && s[name] != '\t')
            name++;
        if (is_param(s, name, "server_max_window_bits"))
            *window = window_value(s, n);
        else if (is_param(s, name, "server_no_context_takeover"))
            *no_takeover = true;
    }
    return true;
}

void gw_ws_deflate_terms(const char *offer, int cap, struct gw_ws_deflate_terms *terms)
{
    terms->window_bits = cap;
    terms->fresh_window = false;
    bool first = true;
    for (const char *p = offer; p && *p;) {
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        int window;
        bool no_takeover;
        if (offer_terms(p, end, &window, &no_takeover)) {
            if (window > 0 && window < terms->window_bits)
                terms->window_bits = window;
            if (first)
                terms->fresh_window = no_takeover;
            first = false;
        }
        p = *end ? end + 1 : end;
    }
}

/* The parameters of one permessage-deflate offer that libwebsockets can take and answer as RFC
 * 7692 asks: false for an offer a server must decline (an unknown or repeated parameter, a value
 * where none goes, a window size out of 8-15) and for one with server_max_window_bits, which lws
 * 4.1.6 would take without naming it in its answer, as a client must then refuse (7.1.2.1). */
static bool takeable_offer(const char *p, const char *end, struct gw_strbuf *out)
{
    static const char *const params[] = {"server_no_context_takeover", "client_no_context_takeover",
                                         "client_max_window_bits", "server_max_window_bits"};
    const char *s;
    size_t n = next_element(&p, end, &s);
    if (!is_param(s, n, "permessage-deflate"))
        return false;
    bool seen[4] = {false};
    gw_strbuf_adds(out, "permessage-deflate");
    while (p < end) {
        n = next_element(&p, end, &s);
        if (n == 0)
            continue;
        size_t name = 0;
        while (name < n && s[name] != '=' && s[name] != ' ' && s[name] != '\t')
            name++;
        size_t k = 0;
        while (k < 4 && !is_param(s, name, params[k]))
            k++;
        bool valued = memchr(s, '=', n) != NULL;
        if (k == 4 || k == 3 || seen[k])
            return false;
        seen[k] = true;
        if (k < 2 && valued)
            return false;
        int window = valued ? window_value(s, n) : 0;
        if (valued && window == 0)
            return false;
        gw_strbuf_adds(out, "; ");
        gw_strbuf_adds(out, params[k]);
        const char *v, *v_end;
        if (param_value(s, n, &v, &v_end)) { /* as the client wrote it, without quotes: 8-15 */
            gw_strbuf_adds(out, "=");
            gw_strbuf_add(out, v, (size_t)(v_end - v));
        }
    }
    return true;
}

size_t gw_ws_settle_extensions(char *head, size_t len, size_t cap)
{
    static const char name[] = "sec-websocket-extensions:";
    struct gw_strbuf offers = {0}, chosen = {0};
    size_t out = 0, blank = len;
    /* The header's lines, joined as one list (RFC 9110 5.3), leave the head. */
    for (size_t i = 0; i < len;) {
        const char *eol = memchr(head + i, '\n', len - i);
        size_t line = eol ? (size_t)(eol - (head + i)) + 1 : len - i;
        bool empty = line <= 2 && (head[i] == '\n' || (head[i] == '\r' && line == 2));
        if (empty && blank == len)
            blank = out;
        if (line > sizeof(name) - 1 && strncasecmp(head + i, name, sizeof(name) - 1) == 0) {
            if (offers.len)
                gw_strbuf_adds(&offers, ",");
            size_t v = sizeof(name) - 1, v_end = line;
            while (v_end > v && (head[i + v_end - 1] == '\n' || head[i + v_end - 1] == '\r'))
                v_end--;
            gw_strbuf_add(&offers, head + i + v, v_end - v);
        } else {
            memmove(head + out, head + i, line);
            out += line;
        }
        i += line;
    }
    for (const char *p = offers.data; p && *p;) {
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        chosen.len = 0;
        if (takeable_offer(p, end, &chosen))
            break;
        chosen.len = 0;
        p = *end ? end + 1 : end;
    }
    /* The offer taken, alone, goes back just before the blank line that ends the head. */
    size_t add = sizeof("Sec-WebSocket-Extensions: ") - 1 + chosen.len + 2;
    if (chosen.len > 0 && blank <= out && out + add <= cap) {
        memmove(head + blank + add, head + blank, out - blank);
        memcpy(head + blank,
               "Sec-WebSocket-Extensions: ", sizeof("Sec-WebSocket-Extensions: ") - 1);
        memcpy(head + blank + add - 2 - chosen.len, chosen.data, chosen.len);
        memcpy(head + blank + add - 2, "\r\n", 2);
        out += add;
    }
    free(offers.data);
    free(chosen.data);
    return out;
}
