#include "gateway/idempotency.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/rpc.h"
#include "core/status.h"
#include "core/xalloc.h"
#include "gateway/request.h"
#include "gateway/stages.h"
#include "routes/http_mode.h"
#include "routes/idem_key.h"
#include "routes/idem_store.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct gw_idempotency {
    struct gw_idem_store *store;
    struct gw_idem_hasher *hasher;
    struct gw_request *detached; /* leads whose client went away, their calls in flight */
};

static uint64_t now_ms(void)
{
    return gw_now_ns() / 1000000;
}

static struct gw_idem_limits limits_of(const struct gw_config *config)
{
    return (struct gw_idem_limits){
        .ttl_ms = (uint64_t)config->idempotency_ttl * 1000,
        .max_entries = (size_t)config->idempotency_max_entries,
        .max_body = (size_t)config->idempotency_max_body,
        .max_bytes = (size_t)config->idempotency_max_bytes,
    };
}

struct gw_idempotency *gw_idempotency_new(const struct gw_config *config)
{
    uint8_t secret[GW_IDEM_DIGEST_LEN];
    if (RAND_bytes(secret, sizeof(secret)) != 1) {
        gw_error("http", "no random bytes for the idempotency keys' secret");
        abort();
    }
    struct gw_idem_hasher *hasher = gw_idem_hasher_new(secret);
    if (!hasher) {
        gw_error("http", "OpenSSL has no SHA-256");
        abort();
    }
    struct gw_idempotency *idem = xcalloc(1, sizeof(*idem));
    struct gw_idem_limits limits = limits_of(config);
    idem->store = gw_idem_store_new(&limits);
    idem->hasher = hasher;
    return idem;
}

void gw_idempotency_free(struct gw_idempotency *idem)
{
    if (!idem)
        return;
    for (struct gw_request *req = idem->detached, *next; req; req = next) {
        next = req->idem_next;
        if (req->call)
            gw_rpc_cancel(req->call);
        req->call = NULL;
        gw_request_free(req);
    }
    gw_idem_store_free(idem->store);
    gw_idem_hasher_free(idem->hasher);
    free(idem);
}

/* Whether a comma-separated method list (routes[].methods, as written) names method. */
static bool method_listed(const char *methods, const char *method)
{
    size_t len = strlen(method);
    for (const char *p = methods ? methods : "GET"; *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        size_t n = strcspn(p, ", \t");
        if (n == len && strncasecmp(p, method, len) == 0)
            return true;
        p += n;
    }
    return false;
}

static bool route_honours_key(const struct gw_config *config, const struct gw_route_conf *route)
{
    return route->idempotency_given ? route->idempotency : config->idempotency;
}

/* An entry's route ("POST /orders", or "generic POST svc.method") in config. */
static bool route_exists(const void *ctx, const char *route)
{
    const struct gw_config *config = ctx;
    if (strncmp(route, "generic ", 8) == 0)
        return config->idempotency && config->expose.n > 0;
    const char *space = strchr(route, ' ');
    if (!space)
        return false;
    char method[16];
    size_t len = (size_t)(space - route);
    if (len >= sizeof(method))
        return false;
    memcpy(method, route, len);
    method[len] = '\0';
    for (size_t i = 0; i < config->n_routes; i++) {
        const struct gw_route_conf *r = &config->routes[i];
        if (strcmp(r->rule, space + 1) == 0 && method_listed(r->methods, method) &&
            route_honours_key(config, r))
            return true;
    }
    return false;
}

void gw_idempotency_reload(struct gw_idempotency *idem, const struct gw_config *config)
{
    struct gw_idem_limits limits = limits_of(config);
    gw_idem_store_set_limits(idem->store, &limits, now_ms());
    gw_idem_store_retain(idem->store, route_exists, config);
}

size_t gw_idempotency_count(const struct gw_idempotency *idem)
{
    return gw_idem_store_count(idem->store);
}

/* ---------------------------------------------------------------------------------------------
 * The stage
 */

static bool is_unsafe_method(const char *method)
{
    return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
           strcmp(method, "PATCH") == 0 || strcmp(method, "DELETE") == 0;
}

/* What the request calls, as its entries name it (new); NULL when the key is not honoured there. */
static char *route_name(const struct gw_request *req)
{
    if (req->target == GW_TARGET_ROUTE && req->route && route_honours_key(req->config, req->route))
        return xasprintf("%s %s", req->method, req->route->rule);
    if (req->target == GW_TARGET_GENERIC && req->config->idempotency)
        return xasprintf("generic %s %s.%s", req->method, req->service, req->method_name);
    return NULL;
}

/* Who calls: the verified token's issuer and subject, as their JSON (so that a subject 1001 is
 * neither 2002 nor "1001", nor missing), each after its length (so that no split of the text is
 * ambiguous); NULL for an anonymous caller. */
static char *identity_of(const struct gw_request *req)
{
    if (!req->claims)
        return NULL;
    char *claim[2] = {NULL, NULL};
    const char *names[2] = {"iss", "sub"};
    for (int i = 0; i < 2; i++) {
        const json_t *v = json_object_get(req->claims, names[i]);
        claim[i] = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    }
    char *identity =
        xasprintf("%zu:%s%zu:%s", claim[0] ? strlen(claim[0]) : 0, claim[0] ? claim[0] : "",
                  claim[1] ? strlen(claim[1]) : 0, claim[1] ? claim[1] : "");
    free(claim[0]);
    free(claim[1]);
    return identity;
}

/* An answer of the stage's own, as JSON or (mode: http routes) in @http's text format. */
static bool refuse(struct gw_request *req, int http, const char *code, const char *message)
{
    gw_stage_refuse(req, http, code, "GatewayError", message);
    return true;
}

/* A kept response, answered again as it was, marked as such. */
static void replay_into(struct gw_request *req, const struct gw_response *kept, const char *call_id)
{
    gw_response_clear(&req->response);
    gw_idem_response_copy(&req->response, kept);
    gw_response_add_header(&req->response, "Idempotent-Replayed", "true");
    snprintf(req->call_id, sizeof(req->call_id), "%s", call_id);
    req->responded = true;
}

/* The one Idempotency-Key field: *value NULL when there is none; false when there are several. */
static bool the_key_field(const struct gw_request *req, const char **value)
{
    *value = NULL;
    for (size_t i = 0; i < req->n_headers; i++) {
        if (strcasecmp(req->headers[i].name, "Idempotency-Key") != 0)
            continue;
        if (*value)
            return false;
        *value = req->headers[i].value;
    }
    return true;
}

static void park(struct gw_request *req, struct gw_idem_entry *entry)
{
    struct gw_request *first = gw_idem_entry_waiters(entry);
    req->idem_entry = entry;
    req->idem_prev = NULL;
    req->idem_next = first;
    if (first)
        first->idem_prev = req;
    gw_idem_entry_set_waiters(entry, req);
}

/* The key's entry for req: the verdict, and what it means for req. */
static bool decide(struct gw_request *req, struct gw_idempotency *idem, const char *key,
                   size_t key_len, const char *route)
{
    uint8_t id[GW_IDEM_DIGEST_LEN], fp[GW_IDEM_DIGEST_LEN];
    char *identity = identity_of(req);
    gw_idem_id(idem->hasher, key, key_len, route, identity, id);
    free(identity);
    gw_idem_fingerprint(idem->hasher, req->method, req->raw_uri,
                        gw_request_header(req, "Content-Type"), req->body, req->body_len, fp);
    struct gw_idem_entry *entry;
    switch (gw_idem_store_begin(idem->store, id, fp, route, now_ms(), &entry)) {
    case GW_IDEM_PROCEED:
        req->idem_entry = entry;
        req->idem_lead = true;
        return false;
    case GW_IDEM_WAIT:
        park(req, entry);
        return true; /* answered when the lead's call ends */
    case GW_IDEM_REPLAY:
        replay_into(req, gw_idem_entry_response(entry), gw_idem_entry_call_id(entry));
        return true;
    case GW_IDEM_MISMATCH:
        return refuse(req, 422, "idempotency_key_reused",
                      "this Idempotency-Key was used for another request (another method, path, "
                      "query, Content-Type or body): send a new key for a new request");
    case GW_IDEM_NOT_KEPT:
        return refuse(req, 409, "idempotent_response_not_kept",
                      "a request with this Idempotency-Key has been answered, but its response "
                      "was too large to keep (GATEWAY.idempotency_max_body): it is not called "
                      "again; send a new key to call again");
    case GW_IDEM_FULL:
        refuse(req, 503, "too_busy",
               "too many requests with an Idempotency-Key are in flight "
               "(GATEWAY.idempotency_max_entries); retry later");
        req->response.retry_after = GW_RETRY_AFTER_S;
        return true;
    }
    return false;
}

bool gw_stage_idempotency(struct gw_request *req)
{
    struct gw_idempotency *idem = req->env->idem;
    const char *field;
    if (!idem || !is_unsafe_method(req->method))
        return false;
    char *route = route_name(req);
    if (!route)
        return false;
    bool answered = false;
    char key[GW_IDEM_KEY_MAX + 1];
    char err[256];
    size_t key_len;
    if (!the_key_field(req, &field))
        answered =
            refuse(req, 400, "bad_request", "the Idempotency-Key header is sent more than once");
    else if (field && gw_idem_key_parse(field, strlen(field), key, sizeof(key), &key_len, err,
                                        sizeof(err)) != GW_OK)
        answered = refuse(req, 400, "bad_request", err);
    else if (field)
        answered = decide(req, idem, key, key_len, route);
    free(route);
    return answered;
}

/* ---------------------------------------------------------------------------------------------
 * The call's end
 */

static void on_detached_answer(struct gw_request *req)
{
    struct gw_idempotency *idem = req->env->idem;
    if (req->idem_prev)
        req->idem_prev->idem_next = req->idem_next;
    else
        idem->detached = req->idem_next;
    if (req->idem_next)
        req->idem_next->idem_prev = req->idem_prev;
    gw_request_free(req);
}

void gw_idempotency_call_ended(struct gw_request *req, bool keep)
{
    struct gw_idem_entry *entry = req->idem_entry;
    if (!entry || !req->idem_lead)
        return;
    struct gw_idempotency *idem = req->env->idem;
    struct gw_request *waiter = gw_idem_entry_waiters(entry);
    gw_idem_entry_set_waiters(entry, NULL);
    req->idem_entry = NULL;
    req->idem_lead = false;
    /* The entry is settled before anyone is answered: nothing parks on it any more. */
    gw_idem_store_complete(idem->store, entry, &req->response, req->call_id, keep, now_ms());
    /* Waiters get copies of the lead's response, not of the kept one: it may not be kept. */
    while (waiter) {
        struct gw_request *next = waiter->idem_next;
        waiter->idem_entry = NULL;
        waiter->idem_next = waiter->idem_prev = NULL;
        replay_into(waiter, &req->response, req->call_id);
        waiter->respond(waiter);
        waiter = next;
    }
}

bool gw_idempotency_request_ends(struct gw_request *req)
{
    struct gw_idem_entry *entry = req->idem_entry;
    if (!entry)
        return false;
    if (req->idem_lead) {
        if (!req->call) {
            /* Cannot happen (a lead answered without a call has ended its entry at once); should
             * it, the entry must not stay in flight, with retries parked behind it for ever. */
            if (!req->responded)
                gw_respond_status(503, "not_answered",
                                  "the first request with this Idempotency-Key ended without an "
                                  "answer; retry",
                                  NULL, &req->response);
            gw_idempotency_call_ended(req, false);
            return false;
        }
        /* The call goes on for the requests parked behind it and for the retries to come. */
        struct gw_idempotency *idem = req->env->idem;
        req->respond = on_detached_answer;
        req->transport = NULL;
        req->idem_prev = NULL;
        req->idem_next = idem->detached;
        if (idem->detached)
            idem->detached->idem_prev = req;
        idem->detached = req;
        return true;
    }
    if (req->idem_prev)
        req->idem_prev->idem_next = req->idem_next;
    else
        gw_idem_entry_set_waiters(entry, req->idem_next);
    if (req->idem_next)
        req->idem_next->idem_prev = req->idem_prev;
    req->idem_entry = NULL;
    req->idem_next = req->idem_prev = NULL;
    return false;
}
