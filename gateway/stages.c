#include "stages.h"

#include "core/random.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "routes/http_mode.h"

#include <stdio.h>
#include <string.h>

/* A CORS preflight is answered by enoki itself: 204 for an allowed Origin, else 403. */
bool gw_stage_cors_preflight(struct gw_request *req)
{
    const struct gw_cors *cors = &req->config->cors;
    const char *origin = gw_request_header(req, "Origin");
    if (!gw_cors_is_preflight(cors, req->method, origin,
                              gw_request_header(req, "Access-Control-Request-Method")))
        return false;
    req->route_label = "cors";
    req->is_preflight = true;
    if (gw_cors_allowed_origin(cors, origin)) {
        memset(&req->response, 0, sizeof(req->response));
        req->response.status = 204;
    } else {
        gw_respond_status(403, "cors_forbidden", "this Origin may not call enoki (GATEWAY.cors)",
                          NULL, &req->response);
    }
    req->responded = true;
    return true;
}

/* A head over GATEWAY.max_header (431) or a body over GATEWAY.max_body (413), as the transport
 * measured them. */
bool gw_stage_limits(struct gw_request *req)
{
    char message[128];
    if (req->head_too_large) {
        snprintf(message, sizeof(message),
                 "the request head is larger than %d bytes (GATEWAY.max_header)",
                 req->config->max_header);
        gw_respond_status(431, "header_too_large", message, NULL, &req->response);
    } else if (req->body_too_large) {
        snprintf(message, sizeof(message), "the body is larger than %d bytes (GATEWAY.max_body)",
                 req->config->max_body);
        gw_respond_status(413, "body_too_large", message, NULL, &req->response);
    } else {
        return false;
    }
    req->responded = true;
    return true;
}

/* GATEWAY.trace_context: enoki's span, a child of the caller's or the root of a new trace. Never
 * answers: it runs first so that every answer, a preflight's or a 413's too, carries the span. */
bool gw_stage_trace(struct gw_request *req)
{
    if (!req->config->trace_context)
        return false;
    unsigned char entropy[GW_TRACE_RANDOM_LEN];
    gw_random_fill(entropy, sizeof(entropy));
    if (!req->trace)
        req->trace = xcalloc(1, sizeof(*req->trace));
    gw_trace_begin(req->headers, req->n_headers, entropy, req->trace);
    return false;
}

static const struct gw_stage before_resolve[] = {
    {"trace", gw_stage_trace},
    {"cors_preflight", gw_stage_cors_preflight},
    {"limits", gw_stage_limits},
};

static const struct gw_stage after_resolve[] = {
    {"auth", gw_stage_auth},
    {"rate_limit", gw_stage_rate_limit},
    {"idempotency", gw_stage_idempotency},
};

const struct gw_stage *gw_stages(enum gw_stage_phase phase, size_t *n)
{
    if (phase == GW_BEFORE_RESOLVE) {
        *n = ARRAY_LEN(before_resolve);
        return before_resolve;
    }
    *n = ARRAY_LEN(after_resolve);
    return after_resolve;
}

bool gw_stages_run(enum gw_stage_phase phase, struct gw_request *req)
{
    size_t n;
    const struct gw_stage *stages = gw_stages(phase, &n);
    for (size_t i = 0; i < n; i++)
        if (stages[i].run(req))
            return true;
    return false;
}

void gw_stage_refuse(struct gw_request *req, int http, const char *code, const char *exc_type,
                     const char *message)
{
    if (req->route && req->route->mode == GW_MODE_HTTP)
        gw_http_respond_refusal(http, code, exc_type, message, &req->response);
    else
        gw_respond_status(http, code, message, NULL, &req->response);
    req->responded = true;
}
