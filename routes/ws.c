#include "ws.h"

#include "core/json.h"
#include "core/status.h"
#include "core/strbuf.h"
#include "core/utf8.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "routes/call.h"
#include "routes/respond.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int gw_json_truthy(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_NULL:
    case JSON_FALSE:
        return 0;
    case JSON_INTEGER:
        return json_integer_value(v) != 0;
    case JSON_REAL:
        return json_real_value(v) != 0.0;
    case JSON_STRING:
        return json_string_length(v) != 0;
    case JSON_ARRAY:
        return json_array_size(v) != 0;
    case JSON_OBJECT:
        return json_object_size(v) != 0;
    default:
        return 1;
    }
}

int gw_ws_parse(const char *text, size_t len, struct gw_ws_request *out)
{
    memset(out, 0, sizeof(*out));
    /* nameko reads frames with json.loads, which takes NaN and Infinity too. */
    json_t *doc = gw_json_decode_lenient(text, len, NULL);
    json_t *method = json_object_get(doc, "method");
    if (!doc || !json_is_object(doc) || !method) {
        json_decref(doc);
        return GW_EJSON;
    }
    /* A method that is not a string names no method: nameko looks it up all the same and answers
     * MethodNotFound, with the frame's correlation id ("" matches none). */
    out->method = xstrdup(gw_json_text(method) ? gw_json_text(method) : "");
    json_t *data = json_object_get(doc, "data");
    out->data = data && gw_json_truthy(data) ? json_incref(data) : json_object();
    json_t *cid = json_object_get(doc, "correlation_id");
    out->correlation_id = cid ? json_incref(cid) : json_null();
    json_decref(doc);
    return GW_OK;
}

int gw_ws_parse_binary(const char *bytes, size_t len, struct gw_ws_request *out)
{
    size_t text_len;
    char *text = gw_utf8_from_json_bytes(bytes, len, &text_len);
    if (!text) {
        memset(out, 0, sizeof(*out));
        return GW_EJSON;
    }
    int rc = gw_ws_parse(text, text_len, out);
    free(text);
    return rc;
}

void gw_ws_request_clear(struct gw_ws_request *request)
{
    free(request->method);
    json_decref(request->data);
    json_decref(request->correlation_id);
    memset(request, 0, sizeof(*request));
}

static char *encode_take(json_t *frame, size_t *len)
{
    char *text = gw_json_encode(frame, GW_JSON_PYTHON, len);
    json_decref(frame);
    return text;
}

char *gw_ws_result_frame(const json_t *data, const json_t *correlation_id, size_t *len)
{
    /* Written as json.dumps writes the hub's dict, without building it: every call's answer. */
    const struct gw_json_dialect *python = gw_json_dialect_of(GW_JSON_PYTHON);
    struct gw_strbuf b = {0};
    gw_strbuf_adds(&b, "{\"type\": \"result\", \"success\": true, \"data\": ");
    gw_json_write(&b, data ? data : json_null(), python);
    gw_strbuf_adds(&b, ", \"correlation_id\": ");
    gw_json_write(&b, correlation_id ? correlation_id : json_null(), python);
    gw_strbuf_adds(&b, "}");
    if (len)
        *len = b.len;
    return gw_strbuf_take(&b);
}

char *gw_ws_error_frame(const json_t *error, const json_t *correlation_id, size_t *len)
{
    json_t *frame = json_object();
    json_object_set_new(frame, "type", json_string("result"));
    json_object_set_new(frame, "success", json_false());
    json_object_set(frame, "error", (json_t *)(uintptr_t)error);
    json_object_set(frame, "correlation_id",
                    correlation_id ? (json_t *)(uintptr_t)correlation_id : json_null());
    return encode_take(frame, len);
}

char *gw_ws_event_frame(const json_t *event, const json_t *data, const char *channel, size_t *len)
{
    json_t *frame = json_object();
    json_object_set_new(frame, "type", json_string("event"));
    json_object_set(frame, "event", event ? (json_t *)(uintptr_t)event : json_null());
    json_object_set(frame, "data", data ? (json_t *)(uintptr_t)data : json_null());
    if (channel)
        json_object_set_new(frame, "channel", json_string(channel));
    return encode_take(frame, len);
}

json_t *gw_ws_malformed_error(void)
{
    return gw_nameko_error("MalformedRequest", "nameko.exceptions.MalformedRequest",
                           json_pack("[s]", "Invalid JSON data"), "Invalid JSON data");
}

json_t *gw_ws_method_not_found(void)
{
    return gw_nameko_error("MethodNotFound", "nameko.exceptions.MethodNotFound", NULL, "");
}

json_t *gw_ws_incorrect_signature(const char *message)
{
    /* exc_args holds the message as value does, repaired the same way when it was cut. */
    json_t *error = gw_nameko_error("IncorrectSignature", "nameko.exceptions.IncorrectSignature",
                                    NULL, message);
    json_array_append(json_object_get(error, "exc_args"), json_object_get(error, "value"));
    return error;
}

json_t *gw_ws_call_failure(int status, const char *detail, const char *target, double timeout_s)
{
    const struct gw_outcome *outcome = gw_outcome_of(status);
    const char *type = outcome->exc_type, *path = outcome->exc_path;
    char message[512];
    gw_describe_call_failure(status, detail, target, timeout_s, message, sizeof(message));
    json_t *args = json_array();
    /* UnknownService's one argument is the service's name, as nameko raises it. */
    if (status == GW_EUNKNOWN_SERVICE)
        json_array_append_new(args, json_stringn(target, strcspn(target, ".")));
    else
        json_array_append_new(args, json_string(message));
    return gw_nameko_error(type, path, args, message);
}

int gw_ws_call_target(const struct gw_config *config, const char *target, char **service,
                      const char **method, const struct gw_policy_entry **entry)
{
    /* A second dot would change a nameko routing key's meaning (<service>.<method>); an amphora
     * function's name may hold dots (gw_call_method_fits). */
    const char *dot = strchr(target, '.');
    if (!dot || dot == target || !dot[1])
        return GW_ENOMATCH;
    char *name = xstrndup(target, (size_t)(dot - target));
    const struct gw_policy_entry *found = gw_call_method_fits(config, name, dot + 1)
                                              ? gw_call_expose_find(config, name, dot + 1)
                                              : NULL;
    if (found == NULL) {
        free(name);
        return GW_ENOMATCH;
    }
    if (entry != NULL)
        *entry = found;
    *service = name;
    *method = dot + 1;
    return GW_OK;
}

json_t *gw_ws_call_context(const json_t *socket_context, const char *gateway, const char *id)
{
    /* A shallow copy: the call only adds keys of its own; the socket's values are never changed. */
    json_t *context = json_copy((json_t *)(uintptr_t)socket_context);
    char *call_id = xstrjoin(gateway, ".ws.", id, NULL);
    json_t *stack = json_array();
    json_array_append_new(stack, json_string(call_id));
    json_object_set_new(context, "call_id_stack", stack);
    free(call_id);
    return context;
}

bool gw_ws_close_payload_ok(const unsigned char *payload, size_t len)
{
    if (len == 0)
        return true;
    if (len == 1)
        return false;
    unsigned code = (unsigned)payload[0] << 8 | payload[1];
    bool known = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
                 (code >= 3000 && code <= 4999);
    return known && gw_utf8_valid((const char *)payload + 2, len - 2);
}
