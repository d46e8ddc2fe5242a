/* dispatch.h - what a request asks for, and its answer: the stages (gateway/stages.h), then
 * enoki's own paths (metrics, probes, static files, the admin and generic routes) and the route
 * table, and the call to the service (docs/architecture.md, "One REST request, end to end").
 */
#ifndef ENOKI_DISPATCH_H
#define ENOKI_DISPATCH_H

#include "gateway/request.h"

#include <stdbool.h>

/* Dispatches a request whose head and body have been read. Returns true when req->response is
 * ready now (the transport writes it); false when a call is in flight: its end fills the response
 * and calls req->respond. */
bool gw_dispatch(struct gw_request *req);

#endif
