#include "wire.h"

#include "json.h"
#include "random.h"
#include "status.h"
#include "strbuf.h"
#include "utf8.h"
#include "xalloc.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void gw_uuid4(char out[GW_UUID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];
    gw_random_fill(b, sizeof(b)); /* a per-thread pool: no syscall per uuid */
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
    char *p = out;
    for (size_t i = 0; i < sizeof(b); i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hex[b[i] >> 4];
        *p++ = hex[b[i] & 0x0F];
    }
    *p = '\0';
}

char *gw_wire_request_body(const json_t *args, const json_t *kwargs, size_t *len)
{
    /* {"args": ..., "kwargs": ...} as json.dumps writes that dict, without building it. */
    const struct gw_json_dialect *python = gw_json_dialect_of(GW_JSON_PYTHON);
    struct gw_strbuf b = {0};
    gw_strbuf_adds(&b, "{\"args\": ");
    if (args)
        gw_json_write(&b, args, python);
    else
        gw_strbuf_adds(&b, "[]");
    gw_strbuf_adds(&b, ", \"kwargs\": ");
    if (kwargs)
        gw_json_write(&b, kwargs, python);
    else
        gw_strbuf_adds(&b, "{}");
    gw_strbuf_adds(&b, "}");
    if (len)
        *len = b.len;
    return gw_strbuf_take(&b);
}

char *gw_wire_reply_body(const json_t *result, const json_t *error, size_t *len)
{
    json_t *doc = json_object();
    json_object_set(doc, "result", result ? (json_t *)(uintptr_t)result : json_null());
    json_object_set(doc, "error", error ? (json_t *)(uintptr_t)error : json_null());
    char *text = gw_json_encode(doc, GW_JSON_PYTHON, len);
    json_decref(doc);
    return text;
}

static amqp_bytes_t pool_bytes(amqp_pool_t *pool, const char *s, size_t n)
{
    amqp_bytes_t out;
    amqp_pool_alloc_bytes(pool, n, &out);
    if (n && !out.bytes)
        abort();
    if (n)
        memcpy(out.bytes, s, n);
    return out;
}

/* Fills one field value; returns 0 if the JSON value has no AMQP form (null, objects). */
static int field_value(const json_t *v, amqp_pool_t *pool, amqp_field_value_t *out)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        if (!gw_json_text(v))
            return 0; /* a carried number: no AMQP form */
        out->kind = AMQP_FIELD_KIND_UTF8;
        out->value.bytes = pool_bytes(pool, json_string_value(v), json_string_length(v));
        return 1;
    case JSON_INTEGER: {
        json_int_t i = json_integer_value(v);
        if (i >= INT32_MIN && i <= INT32_MAX) {
            out->kind = AMQP_FIELD_KIND_I32;
            out->value.i32 = (int32_t)i;
        } else {
            out->kind = AMQP_FIELD_KIND_I64;
            out->value.i64 = i;
        }
        return 1;
    }
    case JSON_REAL:
        out->kind = AMQP_FIELD_KIND_F64;
        out->value.f64 = json_real_value(v);
        return 1;
    case JSON_TRUE:
    case JSON_FALSE:
        out->kind = AMQP_FIELD_KIND_BOOLEAN;
        out->value.boolean = json_is_true(v);
        return 1;
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        amqp_field_value_t *entries = amqp_pool_alloc(pool, (n ? n : 1) * sizeof(*entries));
        if (!entries)
            abort();
        int count = 0;
        for (size_t i = 0; i < n; i++)
            count += field_value(json_array_get(v, i), pool, &entries[count]);
        out->kind = AMQP_FIELD_KIND_ARRAY;
        out->value.array.num_entries = count;
        out->value.array.entries = entries;
        return 1;
    }
    default:
        return 0;
    }
}

void gw_wire_context_headers(const json_t *context, amqp_pool_t *pool, amqp_table_t *out)
{
    size_t n = context ? json_object_size(context) : 0;
    out->num_entries = 0;
    out->entries = n ? amqp_pool_alloc(pool, n * sizeof(*out->entries)) : NULL;
    if (n && !out->entries)
        abort();
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)(uintptr_t)context, key, value)
    {
        amqp_table_entry_t *entry = &out->entries[out->num_entries];
        if (!field_value(value, pool, &entry->value))
            continue;
        static const char prefix[] = "nameko.";
        size_t klen = strlen(key), plen = sizeof(prefix) - 1;
        if (klen == 0 || plen + klen > 255)
            continue; /* AMQP field names are short strings: at most 255 bytes */
        char name[256];
        memcpy(name, prefix, plen);
        memcpy(name + plen, key, klen);
        entry->key = pool_bytes(pool, name, plen + klen);
        out->num_entries++;
    }
}

int gw_wire_reply_decode(const char *body, size_t len, json_t **result, json_t **error, char *why,
                         size_t whylen)
{
    json_error_t jerr;
    *result = NULL;
    *error = NULL;
    json_t *doc = gw_json_decode_lenient(body, len, &jerr);
    if (!doc) {
        snprintf(why, whylen, "reply is not JSON: %s", jerr.text);
        return GW_EBADREPLY;
    }
    if (!json_is_object(doc)) {
        snprintf(why, whylen, "reply is not a JSON object");
        json_decref(doc);
        return GW_EBADREPLY;
    }
    json_t *e = json_object_get(doc, "error");
    if (e && !json_is_null(e)) {
        if (!json_is_object(e)) {
            snprintf(why, whylen, "reply error is not an object");
            json_decref(doc);
            return GW_EBADREPLY;
        }
        *error = json_incref(e);
    }
    json_t *r = json_object_get(doc, "result");
    if (!r && !*error) {
        snprintf(why, whylen, "reply has no result");
        json_decref(doc);
        return GW_EBADREPLY;
    }
    *result = r ? json_incref(r) : json_null();
    json_decref(doc);
    return GW_OK;
}

static const char *member_string(const json_t *error, const char *key)
{
    const char *s = gw_json_text(json_object_get(error, key));
    return s ? s : "";
}

const char *gw_wire_exc_type(const json_t *error)
{
    return member_string(error, "exc_type");
}

const char *gw_wire_exc_path(const json_t *error)
{
    return member_string(error, "exc_path");
}

const char *gw_wire_exc_value(const json_t *error)
{
    return member_string(error, "value");
}

/* A JSON string of text that may not be UTF-8: callers write messages into fixed-size buffers,
 * which can cut a character in two, and json_string would then give NULL (a member silently
 * missing). Ill-formed parts become U+FFFD, as Python's errors="replace" would make them. */
static json_t *text_value(const char *text)
{
    json_t *v = json_string(text);
    if (v)
        return v;
    size_t len;
    char *repaired = gw_utf8_repair(text, strlen(text), &len);
    v = json_stringn(repaired, len);
    free(repaired);
    return v;
}

json_t *gw_nameko_error(const char *exc_type, const char *exc_path, json_t *args, const char *value)
{
    json_t *error = json_object();
    json_object_set_new(error, "exc_type", text_value(exc_type));
    json_object_set_new(error, "exc_path", text_value(exc_path));
    json_object_set_new(error, "exc_args", args ? args : json_array());
    json_object_set_new(error, "value", text_value(value));
    return error;
}

amqp_bytes_t gw_wire_pool_string(amqp_pool_t *pool, const char *s)
{
    amqp_bytes_t out;
    size_t len = strlen(s);
    amqp_pool_alloc_bytes(pool, len, &out);
    if (!out.bytes)
        abort();
    memcpy(out.bytes, s, len);
    return out;
}
