/* probe.c - enoki --probe URL. */
#include "probe.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

enum { EXIT_CONFIG = 2 };

/* --probe: one plain HTTP GET with a short deadline. */
int gw_probe_url(const char *url)
{
    char host[256], path[1024] = "/";
    int port = 80;
    const char *p = strncmp(url, "http://", 7) == 0 ? url + 7 : url;
    size_t hlen = strcspn(p, ":/");
    if (hlen == 0 || hlen >= sizeof(host)) {
        fprintf(stderr, "enoki: --probe %s: expected http://host[:port]/path\n", url);
        return EXIT_CONFIG;
    }
    memcpy(host, p, hlen);
    host[hlen] = '\0';
    p += hlen;
    if (*p == ':') {
        char *end;
        port = (int)strtol(p + 1, &end, 10);
        p += end - p;
    }
    if (*p == '/')
        snprintf(path, sizeof(path), "%s", p);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    char service[16];
    snprintf(service, sizeof(service), "%d", port);
    if (getaddrinfo(host, service, &hints, &res) != 0 || !res) {
        fprintf(stderr, "enoki: --probe: cannot resolve %s\n", host);
        return EXIT_FAILURE;
    }
    int fd = socket(res->ai_family, SOCK_STREAM, 0);
    struct timeval tv = {.tv_sec = 3};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    int rc = EXIT_FAILURE;
    char buf[64] = "";
    if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) == 0) {
        char request[1400];
        int n = snprintf(request, sizeof(request),
                         "GET %s HTTP/1.0\r\nHost: %s:%d\r\nUser-Agent: enoki-probe\r\n\r\n", path,
                         host, port);
        ssize_t got = send(fd, request, (size_t)n, 0) == n ? recv(fd, buf, sizeof(buf) - 1, 0) : -1;
        if (got > 0) {
            buf[got] = '\0';
            int status = 0;
            if (sscanf(buf, "HTTP/%*d.%*d %d", &status) == 1 && status >= 200 && status < 300)
                rc = EXIT_SUCCESS;
            printf("%s: %d\n", url, status);
        }
    }
    if (rc != EXIT_SUCCESS && !buf[0])
        fprintf(stderr, "enoki: --probe %s: no answer\n", url);
    if (fd >= 0)
        close(fd);
    freeaddrinfo(res);
    return rc;
}
