/* amqp_tls.h - the PEM files of AMQP_SSL read with OpenSSL, to refuse at load what the TLS
 * handshake would refuse later: a file that does not read, holds no certificate (or no key), or a
 * key that is not the certificate's. */
#ifndef ENOKI_AMQP_TLS_H
#define ENOKI_AMQP_TLS_H

#include <stddef.h>

/* A PEM file of at least one certificate (a CA bundle, or a certificate chain). Returns GW_OK or
 * GW_EIO (cannot read) / GW_ECONFIG (no certificate in it) with the reason in err. */
int gw_amqp_tls_check_certs(const char *path, char *err, size_t errlen);

/* keyfile's private key (unencrypted PEM; keyfile NULL: read from certfile) belongs to certfile's
 * first certificate. Same statuses; the reason names which file. */
int gw_amqp_tls_check_key(const char *certfile, const char *keyfile, char *err, size_t errlen);

#endif
