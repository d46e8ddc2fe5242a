/* hub_auth.c - a socket's identity: the upgrade's bearer token checked before the handshake and
 * again when the socket opens, the claims it keeps, its close when the token expires, and the hub
 * method refresh.
 *
 * The token is read twice rather than carried from admission to the socket: between the two, lws
 * owns the connection, and a handshake that fails would leave whatever was carried with nobody to
 * free it. The second verification is a cache hit (gateway/authn), and it decides alone: whatever
 * lws's headers hold is verified and decided on as at admission, so the socket never has an
 * identity that was not checked. */
#include "hub_int.h"

#include "core/log.h"
#include "core/status.h"
#include "core/xalloc.h"
#include "gateway/authn.h"
#include "routes/auth.h"
#include "routes/channels.h"
#include "routes/respond.h"
#include "routes/ws_token.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The longest one expiry timer runs: a later expiry is reached in steps (a timer's microseconds
 * must not overflow, and the wall clock may have moved meanwhile). */
#define EXPIRY_STEP_S 3600.0

#define EXPIRED_REASON "token expired"
#define REFUSED_REASON "unauthorized"
#define NO_TOKENS "this gateway's sockets carry no token"
#define OTHER_SUBJECT "the token is for another subject than the socket's"

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The token t found, verified and decided on under GATEWAY.auth.websocket (no scopes). *claims: a
 * new reference when the verdict is AUTHENTIC, else NULL. Returns the verification's status
 * (GW_OK when nothing was verified). */
static int decide(struct gw_hub *hub, const struct gw_ws_token *t, json_t **claims,
                  struct gw_auth_decision *out)
{
    struct gw_auth_policy policy = {.mode = gw_hub_policy(hub)->auth.websocket};
    struct gw_auth_token_state state;
    char reason[GW_AUTH_MESSAGE_LEN] = "";
    /* Under `none` no token is read. */
    gw_authn_token_state(hub->authn,
                         policy.mode == GW_AUTH_NONE && t->found == GW_BEARER_TOKEN ? GW_BEARER_NONE
                                                                                    : t->found,
                         t->token, t->len, &state, claims, reason, sizeof(reason));
    gw_auth_decide(&policy, &state, out);
    if (out->verdict != GW_AUTH_AUTHENTIC) {
        json_decref(*claims);
        *claims = NULL;
    }
    return state.verify_status;
}

bool gw_hub_authenticate(struct gw_hub *hub, const struct gw_h1_head *head,
                         struct gw_auth_decision *out)
{
    if (gw_hub_policy(hub)->auth.websocket == GW_AUTH_NONE) {
        *out = (struct gw_auth_decision){.verdict = GW_AUTH_ANONYMOUS};
        return true;
    }
    char *query_token = head->target ? gw_ws_query_token(head->target, head->target_len) : NULL;
    struct gw_ws_token_sources sources = {
        .authorization = head->authorization,
        .authorization_len = head->authorization_len,
        .query_token = query_token,
        .cookie = head->cookie,
        .cookie_len = head->cookie_len,
        .cookie_name = gw_hub_policy(hub)->auth.cookie,
    };
    struct gw_ws_token t;
    gw_ws_find_token(&sources, &t);
    json_t *claims;
    decide(hub, &t, &claims, out);
    json_decref(claims);
    gw_ws_token_clear(&t);
    free(query_token);
    return out->verdict == GW_AUTH_ANONYMOUS || out->verdict == GW_AUTH_AUTHENTIC;
}

void gw_hub_set_authn(struct gw_hub *hub, struct gw_authn *authn)
{
    hub->authn = authn;
}

/* --- the socket's token ------------------------------------------------------------------------
 */

/* A header lws holds, as a new string (NULL when absent). */
static char *lws_header(struct lws *wsi, enum lws_token_indexes h, size_t *len)
{
    int n = lws_hdr_total_length(wsi, h);
    *len = 0;
    if (n <= 0)
        return NULL;
    char *value = xmalloc((size_t)n + 1);
    if (lws_hdr_copy(wsi, value, n + 1, h) < 0) {
        free(value);
        return NULL;
    }
    *len = strlen(value);
    return value;
}

/* The access_token argument lws decoded from the target (new), or NULL. */
static char *lws_query_token(struct lws *wsi)
{
    int n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS);
    if (n <= 0)
        return NULL;
    /* Room for the longest argument: each is copied whole while looking for the name. */
    char *buf = xmalloc((size_t)n + 1);
    const char *value = lws_get_urlarg_by_name(wsi, GW_WS_TOKEN_PARAM "=", buf, n + 1);
    char *token = value ? xstrdup(value) : NULL;
    free(buf);
    return token;
}

/* When the socket closes for its token: at exp, or at exp + leeway for a token accepted while
 * already past exp (within the leeway). 0: never (no claims, or no numeric exp). */
static double expiry_of(const struct client *c, double now)
{
    double exp;
    if (!c->claims || !gw_auth_claims_exp(c->claims, &exp))
        return 0;
    return now < exp ? exp : exp + gw_hub_policy(c->hub)->auth.jwt.leeway;
}

/* lws's one timer per socket, for the expiry. Never cancelled: lws 4.1.6's cancel
 * (LWS_SET_TIMER_USEC_CANCEL) runs the timer at once instead, and a timer that finds no expiry
 * due does nothing. Not while a close is under way: that timer is the close's. */
static void schedule_expiry(struct client *c, double now)
{
    if (c->expires_at <= 0 || c->close_code)
        return;
    double wait = c->expires_at - now;
    if (wait < 0)
        wait = 0;
    if (wait > EXPIRY_STEP_S)
        wait = EXPIRY_STEP_S;
    lws_set_timer_usecs(c->wsi, (lws_usec_t)(wait * 1e6));
    gw_hub_wake(c->hub);
}

/* The close reason of a socket whose token does not pass (status: decide's). */
static const char *refused_reason(int status)
{
    return status == GW_ETOKEN_EXPIRED ? EXPIRED_REASON : REFUSED_REASON;
}

/* The socket is who claims say (taken; NULL: anonymous): its context's claim keys filled from them
 * (never from what a client's header said) and its close at their expiry scheduled. */
static void take_claims(struct client *c, json_t *claims)
{
    const struct gw_auth_conf *auth = &gw_hub_policy(c->hub)->auth;
    if (claims != c->claims) {
        json_decref(c->claims);
        c->claims = claims;
    }
    gw_auth_claims_to_context(auth->claims, auth->n_claims, c->claims, c->context);
    double now = wall_now();
    c->expires_at = expiry_of(c, now);
    schedule_expiry(c, now);
}

bool gw_hub_identify(struct client *c)
{
    struct gw_hub *hub = c->hub;
    const struct gw_auth_conf *auth = &gw_hub_policy(hub)->auth;
    /* Read under `none` too (decide ignores it then): a SIGHUP that makes tokens optional or
     * required decides on the socket with the token it came with (gw_hub_recheck). */
    struct gw_ws_token_sources sources = {.cookie_name = auth->cookie};
    char *authorization =
        lws_header(c->wsi, WSI_TOKEN_HTTP_AUTHORIZATION, &sources.authorization_len);
    char *query_token = lws_query_token(c->wsi);
    char *cookie = lws_header(c->wsi, WSI_TOKEN_HTTP_COOKIE, &sources.cookie_len);
    sources.authorization = authorization;
    sources.query_token = query_token;
    sources.cookie = cookie;
    struct gw_ws_token t;
    gw_ws_find_token(&sources, &t);
    struct gw_auth_decision d;
    int status = decide(hub, &t, &c->claims, &d);
    if (t.found == GW_BEARER_TOKEN) {
        c->token = t.token; /* kept for gw_hub_recheck */
        t.token = NULL;
    }
    gw_ws_token_clear(&t);
    free(authorization);
    free(query_token);
    free(cookie);
    if (d.verdict != GW_AUTH_ANONYMOUS && d.verdict != GW_AUTH_AUTHENTIC) {
        /* Admitted a moment ago: the token expired in between, or lws read the headers
         * otherwise than the sniffer (repeated ones). Closed, never opened anonymous. */
        const char *reason = refused_reason(status);
        gw_info("hub", "closed a socket at its opening: %s", d.message);
        lws_close_reason(c->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
                         (unsigned char *)(uintptr_t)reason, strlen(reason));
        return false;
    }
    take_claims(c, c->claims); /* anonymous too: no claim key may hold a header's value */
    return true;
}

void gw_hub_on_expiry(struct client *c)
{
    double now = wall_now();
    if (c->expires_at <= 0)
        return;
    /* A timer may end a little early by the wall clock, or be one step of a long wait. */
    if (now < c->expires_at) {
        schedule_expiry(c, now);
        return;
    }
    gw_info("hub", "socket %s: its token expired", c->socket_id);
    c->expires_at = 0;
    gw_hub_close_with(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, EXPIRED_REASON);
}

void gw_hub_forget(struct client *c)
{
    json_decref(c->claims);
    c->claims = NULL;
    free(c->token);
    c->token = NULL;
    c->expires_at = 0;
}

bool gw_hub_recheck(struct client *c)
{
    struct gw_hub *hub = c->hub;
    if (c->checked_round == hub->recheck_round)
        return false;
    c->checked_round = hub->recheck_round;
    if (c->close_code || gw_hub_policy(hub)->auth.websocket == GW_AUTH_NONE)
        return true;
    struct gw_ws_token t = {.found = c->token ? GW_BEARER_TOKEN : GW_BEARER_NONE,
                            .token = c->token,
                            .len = c->token ? strlen(c->token) : 0};
    json_t *claims = NULL;
    struct gw_auth_decision d;
    int status = decide(hub, &t, &claims, &d);
    if (d.verdict == GW_AUTH_AUTHENTIC && !c->claims) {
        /* Opened under `none`, with a token that passes now: identified, as it would open now. */
        take_claims(c, claims);
        return true;
    }
    json_decref(claims);
    if (d.verdict != GW_AUTH_ANONYMOUS && d.verdict != GW_AUTH_AUTHENTIC) {
        gw_info("hub", "socket %s closed at a reload: %s", c->socket_id, d.message);
        gw_hub_close_with(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, refused_reason(status));
    }
    return true;
}

/* --- refresh -----------------------------------------------------------------------------------
 */

static json_t *refusal(int status, const char *message)
{
    const struct gw_outcome *o = gw_outcome_of(status);
    return gw_nameko_error(o->exc_type, o->exc_path, json_pack("[s]", message), message);
}

/* Whether two tokens are for the same subject: equal sub claims, or neither has one. */
static bool same_subject(const json_t *a, const json_t *b)
{
    const json_t *sa = json_object_get(a, "sub"), *sb = json_object_get(b, "sub");
    return (!sa && !sb) ||
           (sa && sb && json_equal((json_t *)(uintptr_t)sa, (json_t *)(uintptr_t)sb));
}

json_t *gw_hub_refresh(struct client *c, const char *token, json_t **error)
{
    struct gw_hub *hub = c->hub;
    const struct gw_auth_conf *auth = &gw_hub_policy(hub)->auth;
    *error = NULL;
    if (auth->websocket == GW_AUTH_NONE) {
        *error = refusal(GW_EUNAUTHORIZED, NO_TOKENS);
        return NULL;
    }
    struct gw_ws_token t = {
        .found = GW_BEARER_TOKEN, .token = (char *)(uintptr_t)token, .len = strlen(token)};
    json_t *claims;
    struct gw_auth_decision d;
    decide(hub, &t, &claims, &d);
    if (d.verdict != GW_AUTH_AUTHENTIC) {
        *error = refusal(GW_EUNAUTHORIZED, d.message);
        return NULL;
    }
    /* An anonymous socket may become someone; an identified one stays who it is. */
    if (c->claims && !same_subject(c->claims, claims)) {
        json_decref(claims);
        *error = refusal(GW_EDENIED, OTHER_SUBJECT);
        return NULL;
    }
    free(c->token);
    c->token = xstrdup(token);
    take_claims(c, claims);
    json_t *exp = json_object_get(c->claims, "exp");
    return json_pack("{s:O}", "exp", json_is_number(exp) ? exp : json_null());
}

/* --- what a socket may do -----------------------------------------------------------------------
 */

json_t *gw_hub_may_call(const struct client *c, const struct gw_policy_entry *entry)
{
    struct gw_auth_policy policy = gw_auth_policy_of(entry->auth, &entry->scopes);
    /* The socket's token was verified when it came, and the socket is closed when it expires. */
    struct gw_auth_token_state t = {.sent = c->claims != NULL, .claims = c->claims};
    struct gw_auth_decision d;
    gw_auth_decide(&policy, &t, &d);
    switch (d.verdict) {
    case GW_AUTH_ANONYMOUS:
    case GW_AUTH_AUTHENTIC:
        return NULL;
    case GW_AUTH_FORBIDDEN:
        return refusal(GW_EDENIED, d.message);
    default:
        return refusal(GW_EUNAUTHORIZED, d.message);
    }
}

json_t *gw_hub_may_subscribe(const struct client *c, const char *channel)
{
    if (gw_channels_allow(gw_hub_policy(c->hub), channel, c->claims))
        return NULL;
    return refusal(GW_EDENIED, "this socket may not subscribe to that channel");
}
