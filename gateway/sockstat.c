#include "sockstat.h"

#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

bool gw_sockstat_input(int fd, int *queued, uint64_t *received)
{
    struct tcp_info info;
    socklen_t len = sizeof(info);
    if (ioctl(fd, SIOCINQ, queued) != 0)
        return false;
    /* tcpi_bytes_received came with Linux 4.1: an older kernel fills less of the struct. */
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0 ||
        len < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof(info.tcpi_bytes_received))
        return false;
    *received = info.tcpi_bytes_received;
    return true;
}

/* TCP_CLOSE_WAIT of the kernel's TCP states (include/net/tcp_states.h), which <linux/tcp.h> does
 * not name. */
enum { TCP_STATE_CLOSE_WAIT = 8 };

bool gw_sockstat_peer_closed(int fd)
{
    struct tcp_info info;
    socklen_t len = sizeof(info);
    return getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) == 0 &&
           info.tcpi_state == TCP_STATE_CLOSE_WAIT;
}
