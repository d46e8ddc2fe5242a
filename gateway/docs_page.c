#include "docs_page.h"

#include "core/config_schema.h"
#include "core/status.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "gateway/static_files.h"

#include <string.h>

/* The page's script: the viewer on the document, with nothing fetched from elsewhere (swagger-ui
 * would send the document to validator.swagger.io for its badge; validatorUrl null turns that off).
 */
static const char START_SCRIPT[] = "\"use strict\";\n"
                                   "(function () {\n"
                                   "  var root = document.getElementById(\"enoki-docs\");\n"
                                   "  window.ui = SwaggerUIBundle({\n"
                                   "    url: root.getAttribute(\"data-url\"),\n"
                                   "    domNode: root,\n"
                                   "    deepLinking: true,\n"
                                   "    validatorUrl: null,\n"
                                   "    presets: [SwaggerUIBundle.presets.apis]\n"
                                   "  });\n"
                                   "})();\n";
static const char START_SCRIPT_NAME[] = "enoki-docs.js";

/* Scripts and styles from enoki only; swagger-ui sets inline styles and shows data: images. */
static const char PAGE_POLICY[] = "default-src 'self'; img-src 'self' data:; "
                                  "style-src 'self' 'unsafe-inline'; object-src 'none'; "
                                  "frame-ancestors 'self'; base-uri 'none'";

static void add_escaped(struct gw_strbuf *b, const char *text)
{
    for (const char *p = text; *p; p++) {
        switch (*p) {
        case '&':
            gw_strbuf_adds(b, "&amp;");
            break;
        case '<':
            gw_strbuf_adds(b, "&lt;");
            break;
        case '>':
            gw_strbuf_adds(b, "&gt;");
            break;
        case '"':
            gw_strbuf_adds(b, "&quot;");
            break;
        case '\'':
            gw_strbuf_adds(b, "&#39;");
            break;
        default:
            gw_strbuf_add(b, p, 1);
            break;
        }
    }
}

static void answer_body(struct gw_request *req, const char *type, char *body, size_t len)
{
    memset(&req->response, 0, sizeof(req->response));
    req->response.status = 200;
    req->response.content_type = type;
    req->response.body = body;
    req->response.body_len = len;
    req->responded = true;
}

static void answer_page(struct gw_request *req)
{
    const struct gw_config *config = req->config;
    struct gw_strbuf b = {0};
    gw_strbuf_adds(&b, "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                       "<title>");
    add_escaped(&b, config->name);
    gw_strbuf_adds(&b, " API</title>\n<link rel=\"stylesheet\" href=\"");
    add_escaped(&b, config->docs_path);
    gw_strbuf_adds(&b, "/swagger-ui.css\">\n</head>\n<body>\n<div id=\"enoki-docs\" data-url=\"");
    add_escaped(&b, config->openapi_path);
    gw_strbuf_adds(&b, "\"></div>\n<script src=\"");
    add_escaped(&b, config->docs_path);
    gw_strbuf_adds(&b, "/swagger-ui-bundle.js\"></script>\n<script src=\"");
    add_escaped(&b, config->docs_path);
    gw_strbuf_adds(&b, "/");
    gw_strbuf_adds(&b, START_SCRIPT_NAME);
    gw_strbuf_adds(&b, "\"></script>\n</body>\n</html>\n");
    answer_body(req, "text/html; charset=utf-8", b.data, b.len);
    gw_response_add_header(&req->response, "Content-Security-Policy", PAGE_POLICY);
}

static bool is_viewer_file(const char *name)
{
    for (size_t i = 0; GW_VIEWER_FILES[i]; i++)
        if (strcmp(name, GW_VIEWER_FILES[i]) == 0)
            return true;
    return false;
}

bool gw_docs_page_answer(struct gw_request *req, const char *url)
{
    const char *docs = req->config->docs_path;
    size_t n = docs ? strlen(docs) : 0;
    if (!docs || strncmp(url, docs, n) != 0 || (url[n] != '\0' && url[n] != '/'))
        return false;
    req->route_label = "docs";
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        gw_respond_error(GW_EMETHOD, "the docs page answers GET and HEAD", NULL, &req->response);
        snprintf(req->response.allow, sizeof(req->response.allow), "GET, HEAD");
        req->responded = true;
        return true;
    }
    const char *name = url[n] == '/' ? url + n + 1 : "";
    if (!*name) {
        answer_page(req);
    } else if (strcmp(name, START_SCRIPT_NAME) == 0) {
        answer_body(req, "application/javascript; charset=utf-8", xstrdup(START_SCRIPT),
                    sizeof(START_SCRIPT) - 1);
    } else if (is_viewer_file(name)) {
        gw_serve_file(req, req->config->docs_dir, name);
    } else {
        char message[512];
        snprintf(message, sizeof(message), "no file %s on the docs page", url);
        gw_respond_error(GW_ENOMATCH, message, NULL, &req->response);
        req->responded = true;
    }
    return true;
}
