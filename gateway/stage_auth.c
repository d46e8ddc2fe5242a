/* stage_auth.c - the auth stage: the caller's bearer token against the policy of what the request
 * calls (docs/auth.md). The decision is routes/auth's; this stage finds the token, has it verified
 * (gateway/authn) and writes the answer. */
#include "gateway/stages.h"

#include "core/status.h"
#include "gateway/authn.h"
#include "gateway/status_page.h"
#include "routes/auth.h"
#include "routes/http_mode.h"
#include "routes/ws_token.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

/* A 401 or 403, as JSON or (mode: http routes) in @http's text format, with its challenge. */
static bool refuse(struct gw_request *req, struct gw_auth_decision *d)
{
    if (d->http != 403 && d->http != 401) {
        d->http = 401;
        d->code = "unauthorized";
        snprintf(d->challenge, sizeof(d->challenge), "Bearer realm=\"%s\"", GW_AUTH_REALM);
        snprintf(d->message, sizeof(d->message), "a valid bearer token is needed");
    }
    int status = d->http == 401 ? GW_EUNAUTHORIZED : GW_EDENIED;
    if (req->target == GW_TARGET_STATUS && gw_status_page_wants_login(req))
        gw_status_page_login(req, d->http, d->message);
    else
        gw_stage_refuse(req, d->http, d->code, gw_outcome_of(status)->exc_type, d->message);
    gw_response_add_header(&req->response, "WWW-Authenticate", d->challenge);
    req->responded = true;
    return true;
}

/* The Authorization header's bearer credentials, read once. */
struct bearer {
    const char *value; /* the header, or NULL */
    enum gw_bearer found;
    const char *token;
    size_t len;
};

static void read_bearer(struct gw_request *req, struct bearer *b)
{
    b->value = gw_request_header(req, "Authorization");
    b->token = NULL;
    b->len = 0;
    b->found = gw_auth_bearer(b->value, b->value ? strlen(b->value) : 0, &b->token, &b->len);
}

/* Whether the bearer token is GATEWAY.admin_token. The digests are compared, in constant time, so
 * that neither the bytes nor the length of the secret leak through timing. */
static bool is_admin_token(const char *token, size_t len, const char *admin_token)
{
    unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)token, len, a);
    SHA256((const unsigned char *)admin_token, strlen(admin_token), b);
    return CRYPTO_memcmp(a, b, sizeof(a)) == 0;
}

/* The admin endpoints' credential in b: GATEWAY.admin_token, or a token with
 * GATEWAY.admin_scope. Never open: a config with neither is refused at load (admin_prefix), or
 * leaves the status page open (gw_status_page_protected), and here nothing goes through then. */
static bool admin_check(struct gw_request *req, const struct bearer *bearer)
{
    const struct gw_config *config = req->config;
    struct bearer b = *bearer;
    if (b.found == GW_BEARER_TOKEN && config->admin_token &&
        is_admin_token(b.token, b.len, config->admin_token))
        return false;
    struct gw_auth_decision d;
    char *scopes[] = {config->admin_scope};
    struct gw_auth_policy policy = {.mode = GW_AUTH_REQUIRED, .scopes = scopes, .n_scopes = 1};
    struct gw_auth_token_state t;
    json_t *claims = NULL;
    char reason[GW_AUTH_MESSAGE_LEN];
    if (config->auth.jwt.enabled) {
        gw_authn_token_state(req->env->authn, b.found, b.token, b.len, &t, &claims, reason,
                             sizeof(reason));
    } else {
        /* Only the static token opens them: anything sent was not it. */
        memset(&t, 0, sizeof(t));
        t.sent = b.value != NULL && *b.value;
        t.verify_status = GW_ETOKEN;
        t.reason = "not the admin token";
    }
    gw_auth_decide(&policy, &t, &d);
    json_decref(claims);
    /* `required` never lets an anonymous caller through; refuse() fails closed all the same. */
    if (d.verdict == GW_AUTH_AUTHENTIC)
        return false;
    return refuse(req, &d);
}

static bool admin_auth(struct gw_request *req)
{
    struct bearer b;
    read_bearer(req, &b);
    return admin_check(req, &b);
}

/* The status page and its JSON, when a credential protects them: the admin endpoints' one, from
 * the Authorization header or else the cookie a browser carries to the page (GATEWAY.auth.cookie,
 * or GW_STATUS_COOKIE), read as a websocket upgrade's is (routes/ws_token). */
static bool status_auth(struct gw_request *req)
{
    const struct gw_config *config = req->config;
    if (!gw_status_page_protected(config))
        return false;
    const char *authorization = gw_request_header(req, "Authorization");
    const char *cookie = gw_request_header(req, "Cookie");
    struct gw_ws_token_sources sources = {
        .authorization = authorization,
        .authorization_len = authorization ? strlen(authorization) : 0,
        .cookie = cookie,
        .cookie_len = cookie ? strlen(cookie) : 0,
        .cookie_name = config->auth.cookie ? config->auth.cookie : GW_STATUS_COOKIE,
    };
    struct gw_ws_token found;
    gw_ws_find_token(&sources, &found);
    struct bearer b = {
        .value = found.found != GW_BEARER_NONE ? (found.token ? found.token : authorization)
                                               : authorization,
        .found = found.found,
        .token = found.token,
        .len = found.len,
    };
    bool refused = admin_check(req, &b);
    gw_ws_token_clear(&found);
    return refused;
}

bool gw_stage_auth(struct gw_request *req)
{
    if (req->target == GW_TARGET_ADMIN)
        return admin_auth(req);
    if (req->target == GW_TARGET_STATUS)
        return status_auth(req);
    if (req->target == GW_TARGET_NONE || req->auth.mode == GW_AUTH_NONE)
        return false;
    struct bearer b;
    read_bearer(req, &b);
    struct gw_auth_token_state t;
    json_t *claims;
    char reason[GW_AUTH_MESSAGE_LEN];
    gw_authn_token_state(req->env->authn, b.found, b.token, b.len, &t, &claims, reason,
                         sizeof(reason));
    struct gw_auth_decision d;
    gw_auth_decide(&req->auth, &t, &d);
    switch (d.verdict) {
    case GW_AUTH_AUTHENTIC:
        req->claims = claims;
        return false;
    case GW_AUTH_ANONYMOUS:
        json_decref(claims);
        return false;
    default:
        json_decref(claims);
        return refuse(req, &d);
    }
}
