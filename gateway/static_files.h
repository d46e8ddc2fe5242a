/* static_files.h - GET /static/<name>: a file of GATEWAY.static_dir, never anything outside it,
 * with validators (ETag, Last-Modified) and conditional GETs (304).
 */
#ifndef ENOKI_STATIC_FILES_H
#define ENOKI_STATIC_FILES_H

#include "gateway/request.h"

/* Answers req (method GET or HEAD, else 405) with the file called name: req->file_fd is then the
 * open file, which the transport sends from its descriptor. */
void gw_serve_static(struct gw_request *req, const char *name);

#endif
