/* sockstat.h - what the kernel knows of a TCP socket's input, for the stall guard (mhd_loop.h).
 *
 * Apart from the rest: it needs <linux/tcp.h>, which cannot share a file with the libc's
 * <netinet/tcp.h> that libmicrohttpd's and libuv's headers bring in.
 */
#ifndef ENOKI_SOCKSTAT_H
#define ENOKI_SOCKSTAT_H

#include <stdbool.h>
#include <stdint.h>

/* Bytes waiting in fd's receive queue, and bytes it has received in all (read or not). False when
 * fd is not a TCP socket the kernel can say this of. */
bool gw_sockstat_input(int fd, int *queued, uint64_t *received);

/* The peer has closed its side (CLOSE_WAIT): nothing more will arrive. */
bool gw_sockstat_peer_closed(int fd);

#endif
