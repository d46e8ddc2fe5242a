/* docs_page.h - GATEWAY.docs_path: a page that shows the OpenAPI document (GATEWAY.openapi_path) to
 * people, with the viewer `make viewer` installs from npm (docs/viewer, pinned) into docs_dir. The
 * page and its start-up script are enoki's own; the viewer's files are served from docs_dir as they
 * are. Nothing comes from another origin: the page's Content-Security-Policy says so to the
 * browser (docs/openapi.md, "The docs page").
 */
#ifndef ENOKI_DOCS_PAGE_H
#define ENOKI_DOCS_PAGE_H

#include "gateway/request.h"

#include <stdbool.h>

/* Answers req when url is docs_path (the page), docs_path + "/" + a file the page loads, or
 * anything else under docs_path (404); GET and HEAD only (else 405). Returns false, answering
 * nothing, when docs_path is off or url is not under it. */
bool gw_docs_page_answer(struct gw_request *req, const char *url);

#endif
