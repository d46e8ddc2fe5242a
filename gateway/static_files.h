/* static_files.h - files from a directory (GET /static/<name> from GATEWAY.static_dir, the docs
 * page's viewer from GATEWAY.docs_dir), never anything outside it, with validators (ETag,
 * Last-Modified) and conditional GETs (304).
 */
#ifndef ENOKI_STATIC_FILES_H
#define ENOKI_STATIC_FILES_H

#include "gateway/request.h"

/* Answers req (method GET or HEAD, else 405) with the file called name in dir (404 when there is
 * none, or it would be outside dir): req->file_fd is then the open file, which the transport sends
 * from its descriptor. */
void gw_serve_file(struct gw_request *req, const char *dir, const char *name);

#endif
