#include "refuse.h"

#include "core/log.h"
#include "core/strbuf.h"
#include "gateway/h1_write.h"
#include "routes/respond.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int gw_set_lowat(int fd, int bytes)
{
    return setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &bytes, sizeof(bytes));
}

bool gw_refuse_linger(int fd, int status)
{
    char sink[4096];
    ssize_t n = -1;
    for (int i = 0; i < 16 && status >= 0; i++) {
        n = recv(fd, sink, sizeof(sink), 0);
        if (n <= 0)
            break;
    }
    return status < 0 || n == 0 ||
           (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

void gw_refuse(int fd, const struct gw_h1_refusal *refusal, size_t head_len)
{
    /* The head was only peeked: read it, so that only a body can be left unread. */
    char sink[4096];
    for (size_t left = head_len; left > 0;) {
        ssize_t n = recv(fd, sink, left < sizeof(sink) ? left : sizeof(sink), 0);
        if (n <= 0) {
            gw_debug("http", "could not read a refused head: %s", n < 0 ? strerror(errno) : "EOF");
            break;
        }
        left -= (size_t)n;
    }
    struct gw_response r = {0};
    gw_respond_status(refusal->status, refusal->error, refusal->message, NULL, &r);
    struct gw_h1_fields fields = {0};
    gw_h1_fields_add(&fields, "Content-Type", r.content_type);
    if (refusal->header_name)
        gw_h1_fields_add(&fields, refusal->header_name, refusal->header_value);
    gw_h1_fields_add(&fields, "Connection", "close");
    struct gw_strbuf out = {0};
    gw_h1_write_head(&out, refusal->status, &fields, true, r.body_len);
    if (!refusal->head_method)
        gw_strbuf_add(&out, r.body, r.body_len);
    /* A few hundred bytes into a socket whose client is waiting for an answer (its buffer empty):
     * a client that cannot take them loses them. */
    if (send(fd, out.data, out.len, MSG_NOSIGNAL) != (ssize_t)out.len)
        gw_debug("http", "could not send the answer to a refused request");
    free(out.data);
    gw_h1_fields_clear(&fields);
    gw_response_clear(&r);
    gw_info("sniff", "refused a request: %d %s", refusal->status, refusal->message);
    shutdown(fd, SHUT_WR);
    gw_set_lowat(fd, 1);
}
