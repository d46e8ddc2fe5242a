#include "call.h"

#include "core/json.h"
#include "core/status.h"
#include "core/text.h"
#include "core/utf8.h"
#include "core/wire.h"
#include "core/xalloc.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int gw_call_is_json_type(const char *content_type)
{
    if (!content_type)
        return 0;
    while (*content_type == ' ' || *content_type == '\t')
        content_type++;
    size_t n = strcspn(content_type, "; \t");
    if (n == strlen("application/json") && strncasecmp(content_type, "application/json", n) == 0)
        return 1;
    /* Structured syntax suffix (RFC 6839): application/problem+json, application/vnd.x+json. */
    return n > 17 && strncasecmp(content_type, "application/", 12) == 0 &&
           strncasecmp(content_type + n - 5, "+json", 5) == 0;
}

static const char *const source_names[] = {"the path", "the body", "the query string"};
enum source { FROM_PATH, FROM_BODY, FROM_QUERY };

/* Adds key to kwargs unless a different source already gave it. sources remembers who gave what. */
static int add_kwarg(json_t *kwargs, json_t *sources, const char *key, json_t *value_take,
                     enum source from, char *err, size_t errlen)
{
    json_t *earlier = json_object_get(sources, key);
    if (earlier) {
        snprintf(err, errlen, "argument '%s' is given twice: in %s and in %s", key,
                 source_names[json_integer_value(earlier)], source_names[from]);
        json_decref(value_take);
        return GW_EARGS;
    }
    json_object_set_new(sources, key, json_integer(from));
    json_object_set_new(kwargs, key, value_take);
    return GW_OK;
}

static int parse_body(const char *content_type, const char *body, size_t body_len, json_t **out,
                      char *err, size_t errlen)
{
    *out = NULL;
    if (body_len == 0)
        return GW_OK;
    /* A body without a Content-Type is taken for JSON; anything else must say it is JSON. */
    if (content_type && *content_type && !gw_call_is_json_type(content_type)) {
        snprintf(err, errlen, "the body's Content-Type '%.100s' is not JSON; send application/json",
                 content_type);
        return GW_EMEDIA;
    }
    json_error_t jerr;
    json_t *doc = json_loadb(body, body_len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    /* An integer beyond 64 bits is JSON (RFC 8259 sets no range) and Python reads it: read again,
     * carrying it; a fault past it is then that reader's to name. jansson's message, which quotes
     * the text near a fault, stays for every other body. */
    if (!doc && json_error_code(&jerr) == json_error_numeric_overflow)
        doc = gw_json_decode_body(body, body_len, &jerr);
    if (!doc) {
        snprintf(err, errlen, "the body is not valid JSON: %s at line %d column %d", jerr.text,
                 jerr.line, jerr.column);
        return GW_EJSON;
    }
    if (!json_is_object(doc) && !json_is_array(doc)) {
        snprintf(err, errlen,
                 "the JSON body must be an object (keyword arguments) or an array "
                 "(positional arguments)");
        json_decref(doc);
        return GW_EARGS;
    }
    *out = doc;
    return GW_OK;
}

int gw_call_build_args(const json_t *path_values, const struct gw_query_param *query,
                       size_t n_query, const char *content_type, const char *body, size_t body_len,
                       json_t **args, json_t **kwargs, char *err, size_t errlen)
{
    json_t *doc = NULL;
    json_t *sources = json_object();
    json_t *out_args = json_array();
    json_t *out_kwargs = json_object();
    const char *key;
    json_t *value;

    int status = parse_body(content_type, body, body_len, &doc, err, errlen);
    if (status != GW_OK)
        goto out;
    if (path_values) {
        json_object_foreach((json_t *)(uintptr_t)path_values, key, value)
        {
            status =
                add_kwarg(out_kwargs, sources, key, json_incref(value), FROM_PATH, err, errlen);
            if (status != GW_OK)
                goto out;
        }
    }
    if (json_is_array(doc)) {
        json_array_extend(out_args, doc);
    } else if (json_is_object(doc)) {
        json_object_foreach(doc, key, value)
        {
            status =
                add_kwarg(out_kwargs, sources, key, json_incref(value), FROM_BODY, err, errlen);
            if (status != GW_OK)
                goto out;
        }
    }
    for (size_t i = 0; i < n_query; i++) {
        /* werkzeug decodes the query string with errors="replace": so does enoki. */
        const char *raw_value = query[i].value ? query[i].value : "";
        size_t value_len;
        char *value_text = gw_utf8_repair(raw_value, strlen(raw_value), &value_len);
        json_t *text = json_stringn(value_text, value_len);
        free(value_text);
        char *name = gw_utf8_repair(query[i].name, strlen(query[i].name), NULL);
        json_t *from = json_object_get(sources, name);
        if (from && json_integer_value(from) == FROM_QUERY) {
            /* A repeated parameter becomes a list, in the order given. */
            json_t *existing = json_object_get(out_kwargs, name);
            if (!json_is_array(existing)) {
                json_t *list = json_array();
                json_array_append(list, existing);
                json_object_set_new(out_kwargs, name, list);
                existing = list;
            }
            json_array_append_new(existing, text);
            free(name);
            continue;
        }
        status = add_kwarg(out_kwargs, sources, name, text, FROM_QUERY, err, errlen);
        free(name);
        if (status != GW_OK)
            goto out;
    }
out:
    json_decref(doc);
    json_decref(sources);
    if (status != GW_OK) {
        json_decref(out_args);
        json_decref(out_kwargs);
        out_args = out_kwargs = NULL;
    }
    *args = out_args;
    *kwargs = out_kwargs;
    return status;
}

/* url_unquote_plus: '+' -> ' ', %XX decoded (a malformed escape stays), the bytes read as UTF-8
 * with errors="replace". A decoded NUL ends the C string, the one way enoki differs from werkzeug
 * here. */
static char *unquote_plus(const char *s, size_t n)
{
    char *bytes = xmalloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int hi = s[i] == '%' && i + 2 < n ? gw_hex_value(s[i + 1]) : -1;
        int lo = hi >= 0 ? gw_hex_value(s[i + 2]) : -1;
        if (lo >= 0) {
            bytes[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            bytes[o++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    char *text = gw_utf8_repair(bytes, o, NULL);
    free(bytes);
    return text;
}

void gw_query_parse(const char *raw, size_t len, struct gw_query *out)
{
    out->params = NULL;
    out->n = 0;
    size_t cap = 0;
    for (size_t start = 0; start <= len;) {
        const char *amp = memchr(raw + start, '&', len - start);
        size_t end = amp ? (size_t)(amp - raw) : len;
        if (end > start) {
            const char *pair = raw + start;
            size_t pair_len = end - start;
            const char *eq = memchr(pair, '=', pair_len);
            size_t key_len = eq ? (size_t)(eq - pair) : pair_len;
            if (out->n == cap) {
                cap = cap ? cap * 2 : 8;
                out->params = xrealloc(out->params, cap * sizeof(*out->params));
            }
            out->params[out->n].name = unquote_plus(pair, key_len);
            out->params[out->n].value =
                eq ? unquote_plus(eq + 1, pair_len - key_len - 1) : xstrdup("");
            out->n++;
        }
        start = end + 1;
    }
}

void gw_query_clear(struct gw_query *query)
{
    for (size_t i = 0; i < query->n; i++) {
        free((char *)(uintptr_t)query->params[i].name);
        free((char *)(uintptr_t)query->params[i].value);
    }
    free(query->params);
    query->params = NULL;
    query->n = 0;
}

int gw_call_decode_path(const char *raw, size_t len, char **out, char *err, size_t errlen)
{
    *out = NULL;
    /* Absolute form, as a proxy sends it: the path starts after the authority. */
    if (len > 7 && (strncasecmp(raw, "http://", 7) == 0 || strncasecmp(raw, "https://", 8) == 0)) {
        /* raw need not end in a NUL: nothing here reads past len. */
        const char *authority = raw + (raw[4] == ':' ? 7 : 8);
        const char *slash = memchr(authority, '/', len - (size_t)(authority - raw));
        size_t skip = slash ? (size_t)(slash - raw) : len;
        raw += skip;
        len -= skip;
        if (len == 0) {
            raw = "/";
            len = 1;
        }
    }
    char *bytes = xmalloc(len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        int hi = raw[i] == '%' && i + 2 < len ? gw_hex_value(raw[i + 1]) : -1;
        int lo = hi >= 0 ? gw_hex_value(raw[i + 2]) : -1;
        if (lo >= 0) {
            bytes[n++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            bytes[n++] = raw[i]; /* a malformed escape stays as written, as in werkzeug */
        }
    }
    if (memchr(bytes, '\0', n)) {
        free(bytes);
        snprintf(err, errlen, "the path holds a NUL byte (%%00)");
        return GW_EARGS;
    }
    *out = gw_utf8_repair(bytes, n, NULL);
    free(bytes);
    return GW_OK;
}

int gw_call_under_prefix(const char *prefix, const char *path)
{
    size_t n = strlen(prefix);
    return strncmp(path, prefix, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

int gw_call_generic_target(const char *prefix, const char *path, char **service, char **method)
{
    *service = *method = NULL;
    if (!gw_call_under_prefix(prefix, path) || path[strlen(prefix)] != '/')
        return GW_ENOMATCH;
    const char *s = path + strlen(prefix) + 1;
    const char *slash = strchr(s, '/');
    if (!slash || slash == s || slash[1] == '\0' || strchr(slash + 1, '/'))
        return GW_ENOMATCH;
    size_t service_len = (size_t)(slash - s);
    if (memchr(s, '.', service_len))
        return GW_ENOMATCH;
    *service = xstrndup(s, service_len);
    *method = xstrdup(slash + 1);
    return GW_OK;
}

int gw_call_method_fits(const struct gw_config *config, const char *service, const char *method)
{
    const struct gw_service_conf *s = gw_service_find(&config->services, service);
    return !strchr(method, '.') || (s && s->protocol == GW_PROTO_AMPHORA);
}

const struct gw_policy_entry *gw_call_expose_find(const struct gw_config *config,
                                                  const char *service, const char *method)
{
    char *target = xstrjoin(service, ".", method, NULL);
    const struct gw_policy_entry *found = NULL;
    for (size_t i = 0; i < config->expose.n && found == NULL; i++) {
        if (fnmatch(config->expose.items[i].pattern, target, 0) == 0)
            found = &config->expose.items[i];
    }
    free(target);
    return found;
}

int gw_call_generic_args(const char *content_type, const char *body, size_t body_len, json_t **args,
                         json_t **kwargs, char *err, size_t errlen)
{
    json_t *doc = NULL;
    *args = *kwargs = NULL;
    int status = parse_body(content_type, body, body_len, &doc, err, errlen);
    if (status != GW_OK)
        return status;
    if (doc && !json_is_object(doc)) {
        snprintf(err, errlen,
                 "the body must be a JSON object {\"args\": [...], \"kwargs\": {...}}");
        json_decref(doc);
        return GW_EARGS;
    }
    const char *key;
    json_t *value;
    json_object_foreach(doc, key, value)
    {
        int ok = strcmp(key, "args") == 0     ? json_is_array(value) || json_is_null(value)
                 : strcmp(key, "kwargs") == 0 ? json_is_object(value) || json_is_null(value)
                                              : -1;
        if (ok != 1) {
            if (ok < 0)
                snprintf(err, errlen,
                         "unknown member '%s' in the body; expected \"args\" and "
                         "\"kwargs\"",
                         key);
            else
                snprintf(err, errlen, "'%s' must be %s", key,
                         strcmp(key, "args") == 0 ? "an array" : "an object");
            json_decref(doc);
            return GW_EARGS;
        }
    }
    json_t *a = doc ? json_object_get(doc, "args") : NULL;
    json_t *k = doc ? json_object_get(doc, "kwargs") : NULL;
    *args = json_is_array(a) ? json_incref(a) : json_array();
    *kwargs = json_is_object(k) ? json_incref(k) : json_object();
    json_decref(doc);
    return GW_OK;
}

int gw_call_request_id_valid(const char *id)
{
    size_t n = 0;
    for (const char *p = id; *p; p++, n++) {
        if (n >= 64)
            return 0;
        if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
            return 0;
    }
    return n > 0;
}

static void set_header_value(json_t *context, const char *key, const char *value)
{
    if (!value)
        return;
    json_t *s = json_string(value);
    /* Header bytes that are not UTF-8 cannot travel as an AMQP long string nameko would decode. */
    if (s)
        json_object_set_new(context, key, s);
}

json_t *gw_call_context_new(const struct gw_config *config, const char *kind,
                            gw_header_lookup_fn lookup, void *lookup_ctx, char *call_id,
                            size_t call_id_len)
{
    json_t *context = json_object();
    char uuid[GW_UUID_LEN + 1];
    const char *request_id = lookup(lookup_ctx, "X-Request-Id");
    if (!request_id || !gw_call_request_id_valid(request_id)) {
        gw_uuid4(uuid);
        request_id = uuid;
    }
    char *id = xstrjoin(config->name, ".", kind, ".", request_id, NULL);
    size_t id_len = strlen(id);
    if (call_id_len > 0) {
        size_t n = id_len < call_id_len ? id_len : call_id_len - 1;
        memcpy(call_id, id, n);
        call_id[n] = '\0';
    }
    json_t *stack = json_array();
    json_array_append_new(stack, json_stringn(id, id_len));
    free(id);
    json_object_set_new(context, "call_id_stack", stack);
    set_header_value(context, "auth_token", lookup(lookup_ctx, "Authorization"));
    set_header_value(context, "language", lookup(lookup_ctx, "Accept-Language"));
    set_header_value(context, "user_agent", lookup(lookup_ctx, "User-Agent"));
    for (size_t i = 0; i < config->n_context_headers; i++)
        set_header_value(context, config->context_headers[i].key,
                         lookup(lookup_ctx, config->context_headers[i].header));
    return context;
}
