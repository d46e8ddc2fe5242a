/* ws_token.c - a websocket upgrade's bearer token: its sources, and redacting the query's. */
#include "ws_token.h"

#include "core/text.h"
#include "core/xalloc.h"
#include "routes/call.h"
#include "routes/http_mode.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Names longer than this are not access_token, however they are encoded. */
enum { NAME_MAX_DECODED = 32 };

static void found(struct gw_ws_token *out, const char *token, const char *source)
{
    out->found = GW_BEARER_TOKEN;
    out->token = xstrdup(token);
    out->len = strlen(token);
    out->source = source;
}

/* The cookie's value (new), or NULL when the header lacks it or it is empty. */
static char *cookie_value(const char *header, size_t len, const char *name)
{
    char *copy = xmalloc(len + 1);
    memcpy(copy, header, len);
    copy[len] = '\0';
    json_t *cookies = json_object();
    gw_http_parse_cookies(copy, cookies);
    free(copy);
    const char *value = json_string_value(json_object_get(cookies, name));
    char *out = value && *value ? xstrdup(value) : NULL;
    json_decref(cookies);
    return out;
}

void gw_ws_find_token(const struct gw_ws_token_sources *s, struct gw_ws_token *out)
{
    *out = (struct gw_ws_token){.found = GW_BEARER_NONE};
    const char *token;
    size_t len;
    enum gw_bearer bearer = gw_auth_bearer(s->authorization, s->authorization_len, &token, &len);
    if (bearer == GW_BEARER_TOKEN) {
        out->found = GW_BEARER_TOKEN;
        out->token = xstrndup(token, len);
        out->len = len;
        out->source = "header";
        return;
    }
    if (bearer == GW_BEARER_MALFORMED) {
        out->found = GW_BEARER_MALFORMED;
        out->source = "header";
        return;
    }
    if (s->query_token && *s->query_token) {
        found(out, s->query_token, "query");
        return;
    }
    if (s->cookie && s->cookie_name) {
        char *value = cookie_value(s->cookie, s->cookie_len, s->cookie_name);
        if (value) {
            found(out, value, "cookie");
            free(value);
        }
    }
}

void gw_ws_token_clear(struct gw_ws_token *token)
{
    free(token->token);
    *token = (struct gw_ws_token){.found = GW_BEARER_NONE};
}

char *gw_ws_query_token(const char *target, size_t len)
{
    const char *q = memchr(target, '?', len);
    if (!q)
        return NULL;
    struct gw_query query;
    gw_query_parse(q + 1, len - (size_t)(q + 1 - target), &query);
    char *value = NULL;
    for (size_t i = 0; i < query.n && !value; i++)
        if (strcmp(query.params[i].name, GW_WS_TOKEN_PARAM) == 0)
            value = xstrdup(query.params[i].value ? query.params[i].value : "");
    gw_query_clear(&query);
    return value;
}

/* Whether name[0..len), percent-decoded, is access_token in any case. */
static bool is_token_name(const char *name, size_t len)
{
    char decoded[NAME_MAX_DECODED];
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (n == sizeof(decoded))
            return false;
        int hi = i + 2 < len && name[i] == '%' ? gw_hex_value(name[i + 1]) : -1;
        int lo = hi >= 0 ? gw_hex_value(name[i + 2]) : -1;
        if (lo >= 0) {
            decoded[n++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            decoded[n++] = name[i];
        }
    }
    return n == strlen(GW_WS_TOKEN_PARAM) && strncasecmp(decoded, GW_WS_TOKEN_PARAM, n) == 0;
}

/* What ends a parameter's name going back from its '=': a query's or a line's punctuation. */
static bool ends_name(char c)
{
    return c == '?' || c == '&' || c == ';' || c == '/' || c == ',' || c == '"' || c == '\'' ||
           c == '(' || c == '[' || c == '{' || c == '<' || c == '=' || (unsigned char)c <= ' ';
}

/* What ends a value: the next parameter, a fragment, a quote or whitespace. */
static bool ends_value(char c)
{
    return c == '&' || c == '#' || c == '"' || c == '\'' || (unsigned char)c <= ' ';
}

static void put(char *out, size_t outlen, size_t *n, const char *s, size_t len)
{
    size_t room = outlen - 1 - *n;
    size_t take = len < room ? len : room;
    memcpy(out + *n, s, take);
    *n += take;
}

void gw_ws_redact(const char *text, char *out, size_t outlen)
{
    size_t n = 0, copied = 0, len = strlen(text);
    for (size_t i = 0; i < len; i++) {
        if (text[i] != '=')
            continue;
        size_t start = i;
        while (start > copied && !ends_name(text[start - 1]))
            start--;
        if (start == i || !is_token_name(text + start, i - start))
            continue;
        size_t end = i + 1;
        while (end < len && !ends_value(text[end]))
            end++;
        put(out, outlen, &n, text + copied, i + 1 - copied);
        put(out, outlen, &n, GW_WS_REDACTED, strlen(GW_WS_REDACTED));
        copied = end;
        i = end - 1;
    }
    put(out, outlen, &n, text + copied, len - copied);
    out[n] = '\0';
}
