/* stages.h - the checks a request passes before its route is called, in order
 * (docs/architecture.md, "One REST request, end to end").
 *
 * Each stage looks at the request and either lets it go on (returns false) or answers it itself
 * (fills req->response, sets req->responded and returns true), and then no later stage runs. Today:
 * the CORS preflight and the size limits; authentication, rate limiting and tracing are to come as
 * stages of the same list.
 */
#ifndef ENOKI_STAGES_H
#define ENOKI_STAGES_H

#include "gateway/request.h"

#include <stdbool.h>

typedef bool (*gw_stage_fn)(struct gw_request *req);

struct gw_stage {
    const char *name;
    gw_stage_fn run;
};

/* The stages, in the order they run; *n gets their number. */
const struct gw_stage *gw_stages(size_t *n);

/* Runs every stage in order; true when one has answered the request. */
bool gw_stages_run(struct gw_request *req);

/* The stages themselves, for their tests. */
bool gw_stage_cors_preflight(struct gw_request *req);
bool gw_stage_limits(struct gw_request *req);

#endif
