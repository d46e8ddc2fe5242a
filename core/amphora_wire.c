/* amphora_wire.c - amphora's bodies: JSON in, JSON out, its exceptions as nameko's errors. */
#include "core/amphora_wire.h"

#include "core/json.h"
#include "core/py_repr.h"
#include "core/status.h"
#include "core/strbuf.h"
#include "core/wire.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *gw_amphora_request_body(const char *func, const json_t *args, const json_t *kwargs,
                              size_t *len)
{
    json_t *body = json_object();
    json_object_set_new(body, "func", json_string(func));
    json_object_set_new(body, "args",
                        args ? json_deep_copy((json_t *)(uintptr_t)args) : json_array());
    json_object_set_new(body, "kwargs",
                        kwargs ? json_deep_copy((json_t *)(uintptr_t)kwargs) : json_object());
    /* Python's json.dumps style, as amphora's own client writes it (ASCII, ", " and ": "). */
    char *text = gw_json_encode(body, GW_JSON_PYTHON, len);
    json_decref(body);
    return text;
}

char *gw_amphora_exception_value(const json_t *args)
{
    size_t n = json_array_size(args);
    if (n == 0)
        return xstrdup("");
    if (n == 1) {
        const json_t *only = json_array_get(args, 0);
        return gw_json_text(only) ? xstrdup(gw_json_text(only)) : gw_python_repr(only);
    }
    return gw_python_repr_tuple(args);
}

int gw_amphora_reply_decode(const char *body, size_t len, json_t **result, json_t **error,
                            char *why, size_t whylen)
{
    json_error_t jerr;
    *result = NULL;
    *error = NULL;
    json_t *doc = gw_json_decode_lenient(body, len, &jerr);
    if (!doc) {
        snprintf(why, whylen, "reply is not JSON: %s", jerr.text);
        return GW_EBADREPLY;
    }
    int status = GW_OK;
    json_t *r = json_is_object(doc) ? json_object_get(doc, "result") : NULL;
    json_t *e = json_is_object(doc) ? json_object_get(doc, "exception") : NULL;
    if (!json_is_object(doc)) {
        snprintf(why, whylen, "reply is not a JSON object");
        status = GW_EBADREPLY;
    } else if (r) {
        *result = json_incref(r);
    } else if (!e) {
        snprintf(why, whylen, "reply has neither \"result\" nor \"exception\"");
        status = GW_EBADREPLY;
    } else {
        const char *type = gw_json_text(json_object_get(e, "type"));
        json_t *args = json_object_get(e, "args");
        if (!json_is_object(e) || !type || !json_is_array(args)) {
            snprintf(why, whylen, "reply's exception is not {\"type\": <string>, \"args\": [...]}");
            status = GW_EBADREPLY;
        } else {
            char *value = gw_amphora_exception_value(args);
            *error = gw_nameko_error(type, "", json_deep_copy(args), value);
            /* amphora names no module: no exc_path. */
            json_object_set_new(*error, "exc_path", json_null());
            free(value);
        }
    }
    json_decref(doc);
    return status;
}
