/* amqp_tls.h - the PEM files of AMQP_SSL read with OpenSSL, to refuse at load what the TLS
 * handshake would refuse later: a file that does not read, holds no certificate (or no key), or a
 * key that is not the certificate's. */
#ifndef ENOKI_AMQP_TLS_H
#define ENOKI_AMQP_TLS_H

#include "core/config_amqp.h"

#include <amqp.h>
#include <stddef.h>

/* A PEM file of at least one certificate (a CA bundle, or a certificate chain). Returns GW_OK or
 * GW_EIO (cannot read) / GW_ECONFIG (no certificate in it) with the reason in err. */
int gw_amqp_tls_check_certs(const char *path, char *err, size_t errlen);

/* keyfile's private key (unencrypted PEM; keyfile NULL: read from certfile) belongs to certfile's
 * first certificate. Same statuses; the reason names which file. */
int gw_amqp_tls_check_key(const char *certfile, const char *keyfile, char *err, size_t errlen);

/* A TLS socket of state set up by tls, to connect to host: the broker's certificate chain
 * (ca_certs, or OpenSSL's default trust store) and name (tls->server_hostname, else host: a DNS
 * name or an IP address) verified unless cert_reqs is CERT_NONE, the client certificate and key
 * when given; a key file never asks for a passphrase. NULL with the reason in err when it cannot
 * be made (a file that stopped reading since the load, say). Called on the connecting thread. */
amqp_socket_t *gw_amqp_tls_socket(amqp_connection_state_t state, const struct gw_amqp_tls *tls,
                                  const char *host, char *err, size_t errlen);

/* The TLS session of socket once it is open (NULL before, or if OpenSSL never started one), for
 * enoki's own non-blocking writes (gw_amqp_tls_write); rabbitmq-c keeps owning it and reading from
 * it. Borrowed: it lives as long as socket. */
struct ssl_st *gw_amqp_tls_session(amqp_socket_t *socket);

/* Writes from buf what the TLS session takes without waiting: the count written (> 0), 0 when it
 * would wait (call again with the same bytes first, possibly more after them, when the socket is
 * writable), or GW_EBROKER with OpenSSL's reason in err. */
long gw_amqp_tls_write(struct ssl_st *ssl, const void *buf, size_t len, char *err, size_t errlen);

/* Why amqp_socket_open failed with status: rabbitmq-c's text, and OpenSSL's reason when it has one
 * (unknown CA, wrong host name, expired certificate, ...); this thread's OpenSSL errors are
 * cleared. Returns buf. */
const char *gw_amqp_tls_reason(int status, char *buf, size_t len);

/* At the end of a connect on a worker thread: OpenSSL's state of this thread (its error queue,
 * its random generator) is freed, since libuv's threads live until the process ends. */
void gw_amqp_tls_thread_done(void);

#endif
