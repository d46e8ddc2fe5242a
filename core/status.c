#include "status.h"

#include "util.h"

#include <stddef.h>

struct status_text {
    int status;
    const char *code;
    const char *text;
};

static const struct status_text status_texts[] = {
    {GW_OK, "ok", "success"},
    {GW_AGAIN, "again", "operation would block"},
    {GW_EINVAL, "invalid", "invalid argument"},
    {GW_ECONFIG, "config", "invalid configuration value"},
    {GW_ESUBST, "config_substitution", "invalid ${VAR:default} substitution"},
    {GW_EURI, "config_uri", "invalid AMQP URI"},
    {GW_EYAML, "config_yaml", "invalid YAML"},
    {GW_EIO, "io", "cannot read file"},
    {GW_ERULE, "bad_rule", "invalid route rule"},
    {GW_ENOMATCH, "not_found", "no route matches the path"},
    {GW_EMETHOD, "method_not_allowed", "the method is not allowed for the path"},
    {GW_EREDIRECT, "redirect", "the path needs a trailing slash"},
    {GW_EDUPLICATE, "duplicate_route", "two routes with the same rule and method"},
    {GW_EFORBIDDEN, "forbidden", "the target is not exposed"},
    {GW_EARGS, "bad_arguments", "invalid call arguments"},
    {GW_EFRAME, "not_sendable", "the call does not fit in an AMQP message"},
    {GW_EJSON, "bad_json", "the body is not valid JSON"},
    {GW_EMEDIA, "unsupported_media_type", "the body's Content-Type is not JSON"},
    {GW_EBROKER, "broker_unavailable", "the message broker is unreachable"},
    {GW_EUNKNOWN_SERVICE, "unknown_service", "no queue is bound for the service"},
    {GW_ETIMEOUT, "timeout", "no reply before the deadline"},
    {GW_EREMOTE, "remote_error", "the service raised an exception"},
    {GW_EBADREPLY, "bad_reply", "the reply could not be decoded"},
    {GW_ESHUTDOWN, "shutting_down", "the gateway is shutting down"},
    {GW_ECANCELLED, "cancelled", "the call was cancelled"},
    {GW_ETOKEN, "invalid_token", "the token is malformed"},
    {GW_ETOKEN_ALG, "token_algorithm", "the token's algorithm is not accepted"},
    {GW_ETOKEN_KID, "token_key_unknown", "no key for the token's kid"},
    {GW_ETOKEN_SIG, "token_signature", "the token's signature does not verify"},
    {GW_ETOKEN_EXPIRED, "token_expired", "the token has expired"},
    {GW_ETOKEN_EARLY, "token_not_yet_valid", "the token is not valid yet"},
    {GW_ETOKEN_CLAIM, "token_claim", "a claim of the token is not the expected one"},
    {GW_EBLOCKED, "broker_blocked", "the broker blocks publishers (a memory or disk alarm)"},
    {GW_EJWKS, "bad_jwks", "the JWK Set is refused"},
    {GW_EUNAUTHORIZED, "unauthorized", "a valid bearer token is needed"},
    {GW_EDENIED, "forbidden", "the token does not allow this"},
    {GW_ELIMITED, "rate_limited", "a rate limit refuses the request for now"},
};

static const struct status_text *find(int status)
{
    for (size_t i = 0; i < ARRAY_LEN(status_texts); i++)
        if (status_texts[i].status == status)
            return &status_texts[i];
    return 0;
}

const char *gw_strerror(int status)
{
    const struct status_text *s = find(status);
    return s ? s->text : "unknown status";
}

const char *gw_status_code(int status)
{
    const struct status_text *s = find(status);
    return s ? s->code : "unknown";
}
