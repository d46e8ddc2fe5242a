#include "static_files.h"

#include "core/status.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "gateway/h1_write.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
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
        {".ico", "image/x-icon"},
        {".txt", "text/plain; charset=utf-8"},
        {".md", "text/markdown; charset=utf-8"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < ARRAY_LEN(types); i++)
        if (strcasecmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

/* A static file's validators: an ETag from its size and time, and Last-Modified. */
static void add_validators(struct gw_response *r, const struct stat *st)
{
    char etag[64], date[64];
    snprintf(etag, sizeof(etag), "\"%llx-%llx\"", (unsigned long long)st->st_size,
             (unsigned long long)st->st_mtime);
    gw_h1_date((int64_t)st->st_mtime, date, sizeof(date));
    gw_response_add_header(r, "ETag", etag);
    gw_response_add_header(r, "Last-Modified", date);
}

/* A conditional GET the client's copy satisfies: then a 304 is ready in req->response. */
static bool not_modified(struct gw_request *req, const struct stat *st)
{
    const char *none_match = gw_request_header(req, "If-None-Match");
    const char *since = gw_request_header(req, "If-Modified-Since");
    struct gw_response probe = {0};
    add_validators(&probe, st);
    bool fresh = false;
    if (none_match) {
        /* If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2). */
        fresh = strcmp(none_match, "*") == 0 || strstr(none_match, probe.headers[0].value);
    } else if (since) {
        int64_t t;
        fresh = gw_h1_parse_date(since, &t) && t >= (int64_t)st->st_mtime;
    }
    if (!fresh) {
        gw_response_clear(&probe);
        return false;
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
    } else if (not_modified(req, &st)) {
        /* The descriptor goes with the 304 for its size alone: a 304's Content-Length must be the
         * length a 200 would have had (RFC 9110 8.6), and neither reader sends a 304's body. */
        req->responded = true;
        req->file_fd = fd;
        req->file_size = (uint64_t)st.st_size;
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
