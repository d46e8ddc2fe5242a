#include "http_mode.h"

#include "core/json.h"
#include "core/status.h"
#include "core/strbuf.h"
#include "core/text.h"
#include "core/utf8.h"
#include "core/util.h"
#include "core/wire.h"
#include "core/xalloc.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char text_plain[] = "text/plain; charset=utf-8";

/* --- the request object ---------------------------------------------------------------------- */

char *gw_http_header_title(const char *name)
{
    char *out = xstrdup(name);
    int previous_cased = 0;
    for (char *p = out; *p; p++) {
        if (*p == '_')
            *p = '-';
        int lower = *p >= 'a' && *p <= 'z', upper = *p >= 'A' && *p <= 'Z';
        if (lower && !previous_cased)
            *p = (char)(*p - 'a' + 'A');
        else if (upper && previous_cased)
            *p = (char)(*p - 'A' + 'a');
        previous_cased = lower || upper;
    }
    return out;
}

static json_t *utf8_string(const char *s)
{
    size_t len;
    char *text = gw_utf8_repair(s, strlen(s), &len);
    json_t *v = json_stringn(text, len);
    free(text);
    return v;
}

static char *base64(const char *data, size_t len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *in = (const unsigned char *)data;
    char *out = xmalloc((len + 2) / 3 * 4 + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? alphabet[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

/* Header values without the optional whitespace around them (RFC 9110 5.5), as eventlet hands them
 * to werkzeug. Returns a new string. */
static char *trimmed(const char *value)
{
    while (*value == ' ' || *value == '\t')
        value++;
    size_t n = strlen(value);
    while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t'))
        n--;
    return xstrndup(value, n);
}

/* One part of werkzeug's IRI: url_quote(part, safe) and then uri_to_iri's url_unquote, which
 * decodes an escape only when its byte is always-safe or not ASCII, in one pass; ill-formed UTF-8
 * is re-quoted, as the "url_quote" error handler does. */
static void iri_part(struct gw_strbuf *b, const char *s, size_t n, const char *quote_safe)
{
    struct gw_strbuf bytes = {0};
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int safe = gw_url_always_safe(c) || (c && strchr(quote_safe, c));
        if (safe && c == '%' && i + 2 < n && gw_hex_value(s[i + 1]) >= 0 &&
            gw_hex_value(s[i + 2]) >= 0) {
            /* An escape that was already there. */
            unsigned char decoded =
                (unsigned char)(gw_hex_value(s[i + 1]) * 16 + gw_hex_value(s[i + 2]));
            if (decoded >= 0x80 || gw_url_always_safe(decoded))
                gw_strbuf_add(&bytes, (const char *)&decoded, 1);
            else
                gw_strbuf_add(&bytes, s + i, 3);
            i += 2;
        } else if (safe || c >= 0x80) {
            /* Safe, or quoted and decoded again: the byte itself. */
            gw_strbuf_add(&bytes, s + i, 1);
        } else {
            gw_percent_encode(&bytes, c);
        }
    }
    size_t len;
    char *text = gw_utf8_repair_quoting(bytes.data ? bytes.data : "", bytes.len, &len);
    gw_strbuf_add(b, text, len);
    free(text);
    free(bytes.data);
}

char *gw_http_werkzeug_url(const char *host, const char *path, const char *raw_query)
{
    struct gw_strbuf b = {0};
    size_t host_len = strlen(host);
    if (host_len > 3 && strcmp(host + host_len - 3, ":80") == 0)
        host_len -= 3;
    gw_strbuf_adds(&b, "http://");
    gw_strbuf_add(&b, host, host_len);
    gw_strbuf_add(&b, "/", 1);
    while (*path == '/')
        path++;
    iri_part(&b, path, strlen(path), "/:");
    if (raw_query && *raw_query) {
        gw_strbuf_add(&b, "?", 1);
        iri_part(&b, raw_query, strlen(raw_query), ":&%=+$!*'(),");
    }
    return gw_strbuf_take(&b);
}

/* werkzeug's _cookie_unquote: a "quoted" value loses its quotes, \ooo octal escapes and \c. */
static char *cookie_unquote(const char *v, size_t n)
{
    if (n < 2 || v[0] != '"' || v[n - 1] != '"')
        return xstrndup(v, n);
    struct gw_strbuf b = {0};
    for (size_t i = 1; i < n - 1; i++) {
        if (v[i] == '\\' && i + 3 < n - 1 && v[i + 1] >= '0' && v[i + 1] <= '3' &&
            v[i + 2] >= '0' && v[i + 2] <= '7' && v[i + 3] >= '0' && v[i + 3] <= '7') {
            char c = (char)((v[i + 1] - '0') * 64 + (v[i + 2] - '0') * 8 + (v[i + 3] - '0'));
            gw_strbuf_add(&b, &c, 1);
            i += 3;
        } else if (v[i] == '\\' && i + 1 < n - 1) {
            gw_strbuf_add(&b, v + i + 1, 1);
            i++;
        } else {
            gw_strbuf_add(&b, v + i, 1);
        }
    }
    return gw_strbuf_take(&b);
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

void gw_http_parse_cookies(const char *header, json_t *cookies)
{
    /* werkzeug's _cookie_re, applied at i until the end:
     *   (?P<key>[^=;]*) (?:\s*=\s* (?P<val> "(?:[^\\"]|\\.)*" | (?:.*?) ))? \s*; */
    size_t n = strlen(header);
    size_t i = 0;
    while (i < n) {
        size_t key_start = i;
        while (i < n && header[i] != '=' && header[i] != ';')
            i++;
        size_t key_end = i;
        const char *val = "";
        size_t val_len = 0;
        if (i < n && header[i] == '=') {
            size_t j = i + 1;
            while (j < n && is_space(header[j]))
                j++;
            size_t end = SIZE_MAX;
            if (j < n && header[j] == '"') {
                /* The quoted form counts only if the closing quote is followed by \s*; */
                size_t k = j + 1;
                while (k < n && header[k] != '"')
                    k += header[k] == '\\' && k + 1 < n ? 2 : 1;
                if (k < n) {
                    size_t after = k + 1;
                    while (after < n && is_space(header[after]))
                        after++;
                    if (after >= n || header[after] == ';') {
                        val = header + j;
                        val_len = k + 1 - j;
                        end = after;
                    }
                }
            }
            if (end == SIZE_MAX) {
                /* The lazy form: up to the first ';', less the whitespace before it. */
                size_t semi = j;
                while (semi < n && header[semi] != ';')
                    semi++;
                size_t last = semi;
                while (last > j && is_space(header[last - 1]))
                    last--;
                val = header + j;
                val_len = last - j;
                end = semi;
            }
            i = end;
        }
        i++; /* the ';' (or the end) */
        while (key_start < key_end && is_space(header[key_start]))
            key_start++;
        while (key_end > key_start && is_space(header[key_end - 1]))
            key_end--;
        if (key_end == key_start)
            continue;
        char *key = gw_utf8_repair(header + key_start, key_end - key_start, NULL);
        if (!json_object_get(cookies, key)) {
            char *raw = cookie_unquote(val, val_len);
            json_object_set_new(cookies, key, utf8_string(raw));
            free(raw);
        }
        free(key);
    }
}

/* What eventlet's WSGI environ says of a request without a Content-Type. */
#define DEFAULT_CONTENT_TYPE "text/plain"

/* headers (taken) as werkzeug's EnvironHeaders lists them from eventlet's environ: Content-Type
 * (text/plain when none was sent) and Content-Length first, then the others as sent. New. */
static json_t *werkzeug_header_order(json_t *headers)
{
    json_t *ordered = json_object();
    json_t *type = json_object_get(headers, "Content-Type");
    json_object_set_new(ordered, "Content-Type",
                        type ? json_incref(type) : json_string(DEFAULT_CONTENT_TYPE));
    json_t *length = json_object_get(headers, "Content-Length");
    if (length)
        json_object_set(ordered, "Content-Length", length);
    const char *name;
    json_t *value;
    json_object_foreach(headers, name, value)
    {
        if (strcmp(name, "Content-Type") != 0 && strcmp(name, "Content-Length") != 0)
            json_object_set(ordered, name, value);
    }
    json_decref(headers);
    return ordered;
}

json_t *gw_http_request_object(const struct gw_http_request_view *view)
{
    json_t *request = json_object();
    const char *host = NULL;
    const char *content_type = NULL;
    json_t *headers = json_object();
    json_t *cookies = json_object();
    for (size_t i = 0; i < view->n_headers; i++) {
        const struct gw_header_field *h = &view->headers[i];
        char *value = trimmed(h->value);
        if (strcasecmp(h->name, "Host") == 0 && !host)
            host = h->value;
        if (strcasecmp(h->name, "Content-Type") == 0 && !content_type)
            content_type = h->value;
        if (strcasecmp(h->name, "Cookie") == 0)
            gw_http_parse_cookies(value, cookies);
        char *name = gw_http_header_title(h->name);
        json_t *earlier = json_object_get(headers, name);
        if (earlier) {
            char *joined = xasprintf("%s, %s", json_string_value(earlier), value);
            json_object_set_new(headers, name, utf8_string(joined));
            free(joined);
        } else {
            json_object_set_new(headers, name, utf8_string(value));
        }
        free(name);
        free(value);
    }

    /* werkzeug upper-cases the method (the route table matches it so too). */
    char *method = xstrdup(view->method);
    for (char *p = method; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    const char *query = strchr(view->target, '?');
    char *host_text = host ? trimmed(host) : xstrdup(view->server ? view->server : "localhost");
    char *url = gw_http_werkzeug_url(host_text, view->path, query ? query + 1 : "");
    free(host_text);
    json_object_set_new(request, "method", utf8_string(method));
    free(method);
    json_object_set_new(request, "url", utf8_string(url));
    free(url);
    json_object_set_new(request, "path", utf8_string(view->path));
    json_object_set_new(request, "query_string", utf8_string(query ? query + 1 : ""));

    json_t *args = json_object();
    for (size_t i = 0; i < view->n_query; i++) {
        char *name = gw_utf8_repair(view->query[i].name, strlen(view->query[i].name), NULL);
        json_t *list = json_object_get(args, name);
        if (!list) {
            list = json_array();
            json_object_set_new(args, name, list);
        }
        json_array_append_new(list, utf8_string(view->query[i].value ? view->query[i].value : ""));
        free(name);
    }
    json_object_set_new(request, "args", args);
    json_object_set_new(request, "headers", werkzeug_header_order(headers));

    if (gw_utf8_valid(view->body, view->body_len)) {
        json_object_set_new(request, "data",
                            json_stringn(view->body ? view->body : "", view->body_len));
    } else {
        char *encoded = base64(view->body, view->body_len);
        json_object_set_new(request, "data_base64", json_string(encoded));
        free(encoded);
    }
    /* eventlet gives a request without one text/plain, as Python's email parser reads it. */
    char *type = content_type ? trimmed(content_type) : xstrdup(DEFAULT_CONTENT_TYPE);
    json_object_set_new(request, "content_type", utf8_string(type));
    free(type);
    json_object_set_new(request, "remote_addr", utf8_string(view->remote_addr));
    json_object_set_new(request, "cookies", cookies);
    return request;
}

/* --- answers ------------------------------------------------------------------------------------
 */

static void text_response(int status, const char *body, size_t len, struct gw_response *out)
{
    out->status = status;
    out->content_type = text_plain;
    out->body = xmalloc(len + 1);
    memcpy(out->body, body, len);
    out->body[len] = '\0';
    out->body_len = len;
}

/* nameko catches what its handler raised and answers with response_from_exception: a 500 here. */
static void raised(const char *exc_type, const char *value, struct gw_response *out)
{
    gw_response_clear(out);
    char *body = xasprintf("Error: %s: %s\n", exc_type, value);
    text_response(500, body, strlen(body), out);
    out->code = "remote_error";
    free(body);
}

void gw_http_respond_refusal(int http, const char *code, const char *exc_type, const char *message,
                             struct gw_response *out)
{
    gw_response_clear(out);
    char *body = xasprintf("Error: %s: %s\n", exc_type, message);
    text_response(http, body, strlen(body), out);
    out->code = code;
    free(body);
}

/* Python's str() of a header value: strings as they are, anything else as its repr. */
static char *header_text(const json_t *v)
{
    return gw_json_text(v) ? xstrdup(gw_json_text(v)) : gw_python_repr(v);
}

/* A header value as werkzeug and eventlet write it: Latin-1, one byte per character, when every
 * character has one (in place: never longer); else left in UTF-8. */
static void latin1_in_place(char *text)
{
    size_t n = strlen(text);
    bool ascii = true, latin1 = true;
    for (size_t i = 0; i < n && latin1;) {
        unsigned long cp = 0;
        size_t used = gw_utf8_decode(text + i, n - i, &cp);
        latin1 = used > 0 && cp <= 0xFF;
        ascii = ascii && cp < 0x80;
        i += used;
    }
    if (ascii || !latin1)
        return;
    size_t out = 0;
    for (size_t i = 0; i < n;) {
        unsigned long cp = 0;
        i += gw_utf8_decode(text + i, n - i, &cp);
        text[out++] = (char)cp;
    }
    text[out] = '\0';
}

static int add_handler_header(struct gw_response *out, const char *name, const json_t *value)
{
    char *text = header_text(value);
    latin1_in_place(text);
    int ok = !strpbrk(name, "\r\n") && !strpbrk(text, "\r\n");
    /* enoki frames the body (Content-Length): a handler's Transfer-Encoding would be a second
     * framing, which a client follows, reading the body as chunks it is not (RFC 9112 6.1). */
    if (ok && strcasecmp(name, "Transfer-Encoding") != 0)
        gw_response_add_header(out, name, text);
    free(text);
    return ok;
}

/* werkzeug's remove_entity_headers for a 304: what describes a body it does not send goes (Expires
 * and Content-Location stay). */
static void drop_entity_headers(struct gw_response *out)
{
    static const char *const entity[] = {"Allow",          "Content-Encoding", "Content-Language",
                                         "Content-Length", "Content-MD5",      "Content-Range",
                                         "Content-Type",   "Last-Modified"};
    size_t kept = 0;
    for (size_t i = 0; i < out->n_headers; i++) {
        bool drop = false;
        for (size_t k = 0; k < ARRAY_LEN(entity) && !drop; k++)
            drop = strcasecmp(out->headers[i].name, entity[k]) == 0;
        if (drop) {
            free(out->headers[i].name);
            free(out->headers[i].value);
        } else {
            out->headers[kept++] = out->headers[i];
        }
    }
    out->n_headers = kept;
}

void gw_http_respond_result(const json_t *result, struct gw_response *out)
{
    memset(out, 0, sizeof(*out));
    const json_t *payload = result;
    const json_t *status = NULL;
    const json_t *headers = NULL;
    /* A tuple arrives as a JSON array: (status, payload) or (status, headers, payload). */
    if (json_is_array(result) && json_array_size(result) == 3) {
        status = json_array_get(result, 0);
        headers = json_array_get(result, 1);
        payload = json_array_get(result, 2);
    } else if (json_is_array(result) && json_array_size(result) == 2) {
        status = json_array_get(result, 0);
        payload = json_array_get(result, 1);
    }
    if (!gw_json_text(payload)) {
        char *repr = gw_python_repr(payload);
        char *value = xasprintf("Payload must be a string. Got `%s`", repr);
        raised("TypeError", value, out);
        free(value);
        free(repr);
        return;
    }
    int code = 200;
    if (status) {
        /* werkzeug takes an int, or a string starting with one ("201 CREATED"). */
        long long n = json_is_integer(status) ? json_integer_value(status)
                      : gw_json_text(status)  ? strtoll(gw_json_text(status), NULL, 10)
                                              : 0;
        /* 1xx is an interim status: as a final one it would leave the client waiting for the
         * real answer, and a pipelined request's answer taken for it. */
        if (n < 200 || n > 999) {
            char *repr = gw_python_repr(status);
            char *value =
                n >= 100 && n < 200
                    ? xasprintf("invalid HTTP status %s: a 1xx status cannot end a request", repr)
                    : xasprintf("invalid HTTP status %s", repr);
            raised("ValueError", value, out);
            free(value);
            free(repr);
            return;
        }
        code = (int)n;
    }
    int has_content_type = 0;
    int headers_ok = 1;
    if (json_is_object(headers)) {
        const char *name;
        json_t *value;
        json_object_foreach((json_t *)(uintptr_t)headers, name, value)
        {
            /* werkzeug's Headers takes a dict's list (a tuple, over RPC) as one field per item:
             * the way a dict sends two Set-Cookie. */
            size_t n = json_is_array(value) ? json_array_size(value) : 1;
            for (size_t k = 0; k < n; k++)
                headers_ok =
                    headers_ok &&
                    add_handler_header(out, name,
                                       json_is_array(value) ? json_array_get(value, k) : value);
            /* An empty list adds no field: werkzeug's default Content-Type stays. */
            has_content_type = has_content_type || (n > 0 && strcasecmp(name, "Content-Type") == 0);
        }
    } else if (json_is_array(headers)) {
        for (size_t i = 0; i < json_array_size(headers); i++) {
            const json_t *pair = json_array_get(headers, i);
            const char *name = gw_json_text(json_array_get(pair, 0));
            if (json_array_size(pair) != 2 || !name) {
                headers_ok = 0;
                break;
            }
            headers_ok = headers_ok && add_handler_header(out, name, json_array_get(pair, 1));
            has_content_type = has_content_type || strcasecmp(name, "Content-Type") == 0;
        }
    } else if (headers && !json_is_null(headers)) {
        headers_ok = 0;
    }
    if (!headers_ok) {
        /* werkzeug's Headers refuses these when the Response is built. */
        raised("ValueError", "Header names and values must be strings without newline characters",
               out);
        return;
    }
    text_response(code, json_string_value(payload), json_string_length(payload), out);
    if (has_content_type || code == 304)
        out->content_type = NULL; /* the handler's own header says it; a 304 says none */
    if (code == 304)
        drop_entity_headers(out);
}

void gw_http_respond_error(int status, const json_t *error, const char *detail, const char *target,
                           double timeout_s, const struct gw_string_list *expected,
                           struct gw_response *out)
{
    memset(out, 0, sizeof(*out));
    char *body;
    int code;
    if (status == GW_EREMOTE) {
        const char *exc_type = gw_wire_exc_type(error);
        code = gw_remote_is_bad_request(error) ? 400 : 500;
        for (size_t i = 0; expected && i < expected->n; i++)
            if (strcmp(expected->items[i], exc_type) == 0)
                code = 400;
        body = xasprintf("Error: %s: %s\n", exc_type, gw_wire_exc_value(error));
        out->code = "remote_error";
    } else {
        static const struct {
            int status;
            const char *exc_type;
        } names[] = {
            {GW_EUNKNOWN_SERVICE, "UnknownService"}, {GW_ETIMEOUT, "RpcTimeout"},
            {GW_EBROKER, "BrokerUnavailable"},       {GW_EBADREPLY, "BadReply"},
            {GW_ESHUTDOWN, "GatewayStopping"},
        };
        const char *exc_type = "GatewayError";
        for (size_t i = 0; i < ARRAY_LEN(names); i++)
            if (names[i].status == status)
                exc_type = names[i].exc_type;
        char message[512];
        gw_describe_call_failure(status, detail, target, timeout_s, message, sizeof(message));
        body = xasprintf("Error: %s: %s\n", exc_type, message);
        code = gw_http_status_of(status);
        out->code = gw_status_code(status);
        if (code == 503)
            out->retry_after = GW_RETRY_AFTER_S;
    }
    text_response(code, body, strlen(body), out);
    free(body);
}
