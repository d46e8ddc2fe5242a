#include "respond.h"

#include "core/json.h"
#include "core/status.h"
#include "core/utf8.h"
#include "core/util.h"
#include "core/wire.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The one table of the outcomes enoki decides itself: the HTTP status each is answered with (the
 * README's table of answers), and the exception a websocket error frame names it by (nameko's own
 * where nameko has one). */
static const struct gw_outcome outcomes[] = {
    {GW_ENOMATCH, 404, "GatewayError", "enoki.GatewayError"},
    {GW_EMETHOD, 405, "GatewayError", "enoki.GatewayError"},
    {GW_EREDIRECT, 308, "GatewayError", "enoki.GatewayError"},
    {GW_EFORBIDDEN, 403, "GatewayError", "enoki.GatewayError"},
    {GW_EARGS, 400, "GatewayError", "enoki.GatewayError"},
    {GW_EJSON, 400, "GatewayError", "enoki.GatewayError"},
    {GW_EMEDIA, 415, "GatewayError", "enoki.GatewayError"},
    {GW_EFRAME, 400, "GatewayError", "enoki.GatewayError"},
    {GW_EBROKER, 503, "BrokerUnavailable", "enoki.BrokerUnavailable"},
    {GW_EUNKNOWN_SERVICE, 503, "UnknownService", "nameko.exceptions.UnknownService"},
    {GW_ETIMEOUT, 504, "RpcTimeout", "nameko.exceptions.RpcTimeout"},
    {GW_EBADREPLY, 502, "BadReply", "enoki.BadReply"},
    {GW_ESHUTDOWN, 503, "GatewayStopping", "enoki.GatewayStopping"},
    {GW_EBLOCKED, 503, "BrokerBlocked", "enoki.BrokerBlocked"},
    {GW_EREMOTE, 500, "GatewayError", "enoki.GatewayError"},
    {GW_EUNAUTHORIZED, 401, "Unauthorized", "enoki.Unauthorized"},
    {GW_EDENIED, 403, "Forbidden", "enoki.Forbidden"},
    {GW_ELIMITED, 429, "RateLimited", "enoki.RateLimited"},
};

const struct gw_outcome *gw_outcome_of(int status)
{
    static const struct gw_outcome other = {0, 500, "GatewayError", "enoki.GatewayError"};
    for (size_t i = 0; i < ARRAY_LEN(outcomes); i++)
        if (outcomes[i].status == status)
            return &outcomes[i];
    return &other;
}

int gw_http_status_of(int status)
{
    return gw_outcome_of(status)->http;
}

/* nameko's own exceptions, by exc_path: their HTTP status and stable code. */
static const struct {
    const char *exc_path;
    int http;
    const char *code;
} nameko_errors[] = {
    {"nameko.exceptions.IncorrectSignature", 400, "incorrect_signature"},
    {"nameko.exceptions.MalformedRequest", 400, "malformed_request"},
    {"nameko.exceptions.MethodNotFound", 502, "method_not_found"},
    {"nameko.exceptions.ConnectionNotFound", 404, "connection_not_found"},
};

void gw_response_add_header(struct gw_response *response, const char *name, const char *value)
{
    response->headers =
        xrealloc(response->headers, (response->n_headers + 1) * sizeof(*response->headers));
    response->headers[response->n_headers].name = xstrdup(name);
    response->headers[response->n_headers].value = xstrdup(value);
    response->n_headers++;
}

void gw_response_clear(struct gw_response *response)
{
    for (size_t i = 0; i < response->n_headers; i++) {
        free(response->headers[i].name);
        free(response->headers[i].value);
    }
    free(response->headers);
    free(response->body);
    free(response->location);
    memset(response, 0, sizeof(*response));
}

void gw_respond_result(const json_t *result, struct gw_response *out)
{
    memset(out, 0, sizeof(*out));
    out->status = 200;
    out->content_type = "application/json";
    out->body = gw_json_encode(result, GW_JSON_COMPACT, &out->body_len);
}

static void fill_error(int http, const char *code, const char *message, const char *call_id,
                       const json_t *error, struct gw_response *out)
{
    memset(out, 0, sizeof(*out));
    json_t *doc = json_object();
    json_object_set_new(doc, "error", json_string(code));
    /* Messages quote the request (its path, a header); keep them valid JSON whatever it held. */
    size_t len;
    char *text = gw_utf8_repair(message, strlen(message), &len);
    json_object_set_new(doc, "message", json_stringn(text, len));
    free(text);
    json_object_set_new(doc, "call_id", call_id ? json_string(call_id) : json_null());
    if (error) {
        static const char *const keys[] = {"exc_type", "exc_path", "exc_args", "value"};
        for (size_t i = 0; i < 4; i++) {
            json_t *v = json_object_get(error, keys[i]);
            json_object_set(doc, keys[i], v ? v : json_null());
        }
    }
    out->status = http;
    out->code = code;
    out->content_type = "application/json";
    out->body = gw_json_encode(doc, GW_JSON_COMPACT, &out->body_len);
    json_decref(doc);
    if (http == 503)
        out->retry_after = GW_RETRY_AFTER_S;
}

void gw_respond_status(int http, const char *code, const char *message, const char *call_id,
                       struct gw_response *out)
{
    fill_error(http, code, message, call_id, NULL, out);
}

void gw_respond_error(int status, const char *message, const char *call_id, struct gw_response *out)
{
    fill_error(gw_http_status_of(status), gw_status_code(status), message, call_id, NULL, out);
}

void gw_describe_call_failure(int status, const char *detail, const char *target, double timeout_s,
                              char *buf, size_t len)
{
    size_t service_len = strcspn(target, ".");
    switch (status) {
    case GW_EUNKNOWN_SERVICE:
        /* nameko's own words for it: UnknownService's str. */
        snprintf(buf, len, "Unknown service `%.*s`", (int)service_len, target);
        break;
    case GW_ETIMEOUT:
        snprintf(buf, len, "no reply from %s within %g s", target, timeout_s);
        break;
    case GW_EBROKER:
        snprintf(buf, len, "the message broker is unreachable (%s); retry later", detail);
        break;
    case GW_EBADREPLY:
        snprintf(buf, len, "the reply from %s could not be decoded: %s", target, detail);
        break;
    case GW_EBLOCKED:
        snprintf(buf, len,
                 "the message broker blocks publishers (a memory or disk alarm); retry later");
        break;
    default:
        snprintf(buf, len, "%s", detail);
        break;
    }
}

/* The exc_path an error is classified by: its own, except for amphora's WrongRequest (an unknown
 * function; it names no module), which stands for nameko's MethodNotFound (docs/amphora.md). */
static const char *classified_path(const json_t *error)
{
    const char *exc_path = gw_wire_exc_path(error);
    if (exc_path[0] == '\0' && strcmp(gw_wire_exc_type(error), "WrongRequest") == 0)
        return "nameko.exceptions.MethodNotFound";
    return exc_path;
}

int gw_remote_is_bad_request(const json_t *error)
{
    static const char *const family[] = {
        "nameko.exceptions.BadRequest",         "nameko.exceptions.MalformedRequest",
        "nameko.exceptions.MethodNotFound",     "nameko.exceptions.IncorrectSignature",
        "nameko.exceptions.ConnectionNotFound",
    };
    const char *exc_path = classified_path(error);
    for (size_t i = 0; i < ARRAY_LEN(family); i++)
        if (strcmp(exc_path, family[i]) == 0)
            return 1;
    return 0;
}

void gw_respond_call_error(int status, const json_t *error, const char *detail, const char *target,
                           double timeout_s, const char *call_id, const struct gw_config *config,
                           bool generic, struct gw_response *out)
{
    char message[512];
    if (status != GW_EREMOTE) {
        gw_describe_call_failure(status, detail, target, timeout_s, message, sizeof(message));
        gw_respond_error(status, message, call_id, out);
        return;
    }

    const char *exc_type = gw_wire_exc_type(error);
    const char *exc_path = classified_path(error);
    snprintf(message, sizeof(message), "%s: %s", exc_type, gw_wire_exc_value(error));
    int http = 500;
    const char *code = "remote_error";
    for (size_t i = 0; i < ARRAY_LEN(nameko_errors); i++) {
        if (strcmp(exc_path, nameko_errors[i].exc_path) == 0) {
            http = nameko_errors[i].http;
            code = nameko_errors[i].code;
        }
    }
    if (generic && http == 502)
        http = 404;
    /* The operator's own mapping wins over every default. */
    for (size_t i = 0; i < config->n_errors; i++)
        if (strcmp(config->errors[i].exc_type, exc_type) == 0)
            http = config->errors[i].status;
    fill_error(http, code, message, call_id, error, out);
}
