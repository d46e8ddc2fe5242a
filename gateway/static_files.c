#include "static_files.h"

#include "core/status.h"
#include "core/strbuf.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "gateway/h1_write.h"
#include "routes/precondition.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void respond_error(struct gw_request *req, int status, const char *message)
{
    gw_respond_error(status, message, NULL, &req->response);
    req->responded = true;
}

static const char *media_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".js", "application/javascript; charset=utf-8"},
        {".mjs", "application/javascript; charset=utf-8"},
        {".html", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"},
        {".gif", "image/gif"},
        {".webp", "image/webp"},
        {".avif", "image/avif"},
        {".ico", "image/x-icon"},
        {".woff", "font/woff"},
        {".woff2", "font/woff2"},
        /* WebAssembly.instantiateStreaming takes this type only. */
        {".wasm", "application/wasm"},
        {".map", "application/json"},
        {".pdf", "application/pdf"},
        {".xml", "text/xml; charset=utf-8"},
        {".txt", "text/plain; charset=utf-8"},
        {".md", "text/markdown; charset=utf-8"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < ARRAY_LEN(types); i++)
        if (strcasecmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

/* When the file last changed, as the answer tells it: never later than now (RFC 9110 8.8.2.1), or
 * a file with a time ahead of the clock would be taken as current for as long. */
static int64_t modified_at(const struct stat *st)
{
    time_t now = time(NULL);
    return (int64_t)(st->st_mtime < now ? st->st_mtime : now);
}

/* A static file's validators: a strong ETag from its size and time to the nanosecond (a rewrite of
 * the same length within a second is another tag), and Last-Modified. */
static void add_validators(struct gw_response *r, const struct stat *st)
{
    char etag[80], date[64];
    snprintf(etag, sizeof(etag), "\"%llx-%llx.%lx\"", (unsigned long long)st->st_size,
             (unsigned long long)st->st_mtim.tv_sec, (unsigned long)st->st_mtim.tv_nsec);
    gw_h1_date(modified_at(st), date, sizeof(date));
    gw_response_add_header(r, "ETag", etag);
    gw_response_add_header(r, "Last-Modified", date);
}

/* Every line of a list field, joined with ", " (RFC 9110 5.3); NULL when it has none. New. */
static char *list_field(const struct gw_request *req, const char *name)
{
    struct gw_strbuf b = {0};
    bool seen = false;
    for (size_t i = 0; i < req->n_headers; i++) {
        if (strcasecmp(req->headers[i].name, name) != 0)
            continue;
        gw_strbuf_adds(&b, seen ? ", " : "");
        gw_strbuf_adds(&b, req->headers[i].value);
        seen = true;
    }
    if (!seen)
        return NULL;
    return gw_strbuf_take(&b);
}

/* A date field of one line holding one valid HTTP-date; else it is ignored (RFC 9110 13.1.3). */
static bool date_field(const struct gw_request *req, const char *name, int64_t *out)
{
    const char *value = NULL;
    for (size_t i = 0; i < req->n_headers; i++) {
        if (strcasecmp(req->headers[i].name, name) != 0)
            continue;
        if (value)
            return false;
        value = req->headers[i].value;
    }
    return value && gw_h1_parse_date(value, out);
}

/* The request's preconditions against the file: false when the answer is not the file, and then
 * the 304 (with the validators) or the 412 is ready in req->response. */
static bool answered_by_precondition(struct gw_request *req, const struct stat *st)
{
    char *if_match = list_field(req, "If-Match"), *if_none_match = list_field(req, "If-None-Match");
    struct gw_preconditions p = {.if_match = if_match, .if_none_match = if_none_match};
    p.has_if_unmodified_since = date_field(req, "If-Unmodified-Since", &p.if_unmodified_since);
    p.has_if_modified_since = date_field(req, "If-Modified-Since", &p.if_modified_since);
    struct gw_response probe = {0};
    add_validators(&probe, st);
    enum gw_precondition verdict =
        gw_precondition_evaluate(&p, probe.headers[0].value, modified_at(st));
    free(if_match);
    free(if_none_match);
    if (verdict == GW_PRECONDITION_PROCEED) {
        gw_response_clear(&probe);
        return false;
    }
    if (verdict == GW_PRECONDITION_FAILED) {
        gw_response_clear(&probe);
        gw_respond_status(412, "precondition_failed",
                          "the file is not the one If-Match or If-Unmodified-Since names", NULL,
                          &req->response);
        req->responded = true;
        return true;
    }
    memset(&req->response, 0, sizeof(req->response));
    req->response = probe;
    req->response.status = 304;
    return true;
}

/* The file is sent from its descriptor, never read into memory: a client that asks for a big file
 * and never reads it costs a descriptor, not the file's size. */
void gw_serve_file(struct gw_request *req, const char *dir_name, const char *name)
{
    char message[512];
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        respond_error(req, GW_EMETHOD, "static files answer GET and HEAD");
        snprintf(req->response.allow, sizeof(req->response.allow), "GET, HEAD");
        return;
    }
    /* No hidden files, no "..", no absolute names: then no way out but a symlink, checked below. */
    bool bad = !*name || *name == '/' || strstr(name, "/.") || *name == '.' || strstr(name, "//");
    char *dir = NULL, *file = NULL;
    int fd = -1;
    char *path = xasprintf("%s/%s", dir_name, name);
    if (!bad) {
        dir = realpath(dir_name, NULL);
        file = realpath(path, NULL);
        bad = !dir || !file || strncmp(file, dir, strlen(dir)) != 0 || file[strlen(dir)] != '/';
    }
    struct stat st;
    if (!bad)
        fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    /* The descriptor's own stat: the file that is sent is the file that was checked. */
    if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
        close(fd);
        fd = -1;
    }
    if (fd < 0) {
        snprintf(message, sizeof(message), "no static file %s", name);
        respond_error(req, GW_ENOMATCH, message);
    } else if (answered_by_precondition(req, &st)) {
        /* A 304 takes the descriptor for its size alone: its Content-Length must be the length a
         * 200 would have had (RFC 9110 8.6), and neither reader sends a 304's body. */
        req->responded = true;
        if (req->response.status == 304) {
            req->file_fd = fd;
            req->file_size = (uint64_t)st.st_size;
        } else {
            close(fd);
        }
    } else {
        memset(&req->response, 0, sizeof(req->response));
        req->response.status = 200;
        req->response.content_type = media_type(name);
        req->responded = true;
        req->file_fd = fd;
        req->file_size = (uint64_t)st.st_size;
        add_validators(&req->response, &st);
    }
    free(path);
    free(dir);
    free(file);
}
