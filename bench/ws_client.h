/* ws_client.h - the raw RFC 6455 client pieces the websocket tools share (bench/ws_bench.c,
 * bench/fanout_bench.c): a non-blocking connect registered with epoll, writes of small frames,
 * the end of the 101's head, a server frame's header, and the few JSON facts they look for in a
 * frame without parsing it. Header-only, as bench_common.h. */
#ifndef BENCH_WS_CLIENT_H
#define BENCH_WS_CLIENT_H

#include "bench/bench_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* Writes all of data to a non-blocking socket. The tools' frames are small and few in flight, so
 * the socket buffer never fills: a short write ends the run. */
static inline void ws_write_all(const char *tool, int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            bench_die(tool, "write: %s", n < 0 ? strerror(errno) : "short write");
        p += n;
        len -= (size_t)n;
    }
}

/* A non-blocking TCP connect to host:port (TCP_NODELAY), added to epfd for events with ptr.
 * Returns the descriptor. */
static inline int ws_connect_start(const char *tool, const char *host, int port, int epfd,
                                   uint32_t events, void *ptr)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        bench_die(tool, "socket: %s (raise ulimit -n)", strerror(errno));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1)
        bench_die(tool, "bad --host %s", host);
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 && errno != EINPROGRESS)
        bench_die(tool, "connect: %s", strerror(errno));
    struct epoll_event ev = {.events = events, .data.ptr = ptr};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        bench_die(tool, "epoll_ctl: %s", strerror(errno));
    return fd;
}

/* At a connecting socket's first event: ends the run when the connect failed. */
static inline void ws_connect_check(const char *tool, int fd)
{
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err)
        bench_die(tool, "connect: %s", strerror(err));
}

/* Writes the upgrade request for path, with extra header lines (each ending in \r\n; "" for
 * none). */
static inline void ws_send_upgrade(const char *tool, int fd, const char *host, int port,
                                   const char *path, const char *extra)
{
    char req[768];
    int len = snprintf(req, sizeof(req),
                       "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                       "Sec-WebSocket-Version: 13\r\n%s\r\n",
                       path, host, port, extra);
    if (len < 0 || (size_t)len >= sizeof(req))
        bench_die(tool, "the upgrade request does not fit its buffer (--path too long?)");
    ws_write_all(tool, fd, req, (size_t)len);
}

/* Where the upgrade's answer in buf ends (after its blank line), or NULL while it is incomplete;
 * an answer other than 101 ends the run. */
static inline char *ws_101_end(const char *tool, char *buf, size_t len)
{
    for (size_t i = 0; i + 3 < len; i++) {
        if (memcmp(buf + i, "\r\n\r\n", 4) != 0)
            continue;
        if (len < 12 || memcmp(buf, "HTTP/1.1 101", 12) != 0)
            bench_die(tool, "handshake refused: %.*s", (int)(i + 4), buf);
        return buf + i + 4;
    }
    return NULL;
}

/* Reads a server frame's header from the avail bytes at p: returns false while it is incomplete,
 * else true with its payload length in *plen and the header's length in *hlen. A masked frame or
 * one longer than max ends the run. */
static inline bool ws_frame_head(const char *tool, const unsigned char *p, size_t avail,
                                 uint64_t max, uint64_t *plen, size_t *hlen)
{
    if (avail < 2)
        return false;
    if (p[1] & 0x80)
        bench_die(tool, "the server sent a masked frame");
    uint64_t n = p[1] & 0x7f;
    size_t h = 2;
    if (n == 126) {
        if (avail < 4)
            return false;
        n = ((uint64_t)p[2] << 8) | p[3];
        h = 4;
    } else if (n == 127) {
        if (avail < 10)
            return false;
        n = 0;
        for (int i = 0; i < 8; i++)
            n = (n << 8) | p[2 + i];
        h = 10;
    }
    if (n > max)
        bench_die(tool, "a frame of %llu bytes", (unsigned long long)n);
    *plen = n;
    *hlen = h;
    return true;
}

/* Finds the unsigned integer after "key": in text; returns false when it is not there. */
static inline bool ws_json_uint(const char *text, size_t len, const char *key, uint64_t *out)
{
    size_t klen = strlen(key);
    for (size_t i = 0; i + klen + 1 < len; i++) {
        if (text[i] != '"' || memcmp(text + i + 1, key, klen) != 0 || text[i + 1 + klen] != '"')
            continue;
        size_t j = i + 2 + klen;
        while (j < len && (text[j] == ':' || text[j] == ' '))
            j++;
        if (j >= len || text[j] < '0' || text[j] > '9')
            return false;
        uint64_t v = 0;
        while (j < len && text[j] >= '0' && text[j] <= '9')
            v = v * 10 + (uint64_t)(text[j++] - '0');
        *out = v;
        return true;
    }
    return false;
}

static inline bool ws_contains_n(const char *text, size_t len, const char *needle, size_t n)
{
    for (size_t i = 0; i + n <= len; i++)
        if (text[i] == needle[0] && memcmp(text + i, needle, n) == 0)
            return true;
    return false;
}

static inline bool ws_contains(const char *text, size_t len, const char *needle)
{
    return ws_contains_n(text, len, needle, strlen(needle));
}

#endif
