/* config_amqp.h - the broker connection's keys, nameko's own: AMQP_URI (one URI, or a failover
 * list separated by ';' as kombu reads it), AMQP_SSL (true, or kombu's ssl mapping: ca_certs,
 * certfile, keyfile, cert_reqs) and LOGIN_METHOD (PLAIN or EXTERNAL).
 *
 * Checked once the file is read (gw_config_amqp_finish): a node without an explicit port takes
 * 5671 when it speaks TLS (amqps://, or AMQP_SSL), as kombu's SSL transport does; EXTERNAL needs
 * TLS with a client certificate and key; the certificate and key files must read and parse.
 */
#ifndef ENOKI_CONFIG_AMQP_H
#define ENOKI_CONFIG_AMQP_H

#include "core/amqp_uri.h"
#include "core/config_keys.h"

#include <stdbool.h>
#include <stddef.h>

struct gw_config;

/* Python's ssl.CERT_* (kombu hands AMQP_SSL.cert_reqs to the ssl module). */
enum gw_cert_reqs {
    GW_CERT_NONE = 0,     /* no verification of the broker (logged as a warning at start) */
    GW_CERT_OPTIONAL = 1, /* verified when sent; a broker always sends one, so as REQUIRED */
    GW_CERT_REQUIRED = 2, /* the default: the chain and the host name are verified */
};

enum gw_login_method {
    GW_LOGIN_PLAIN,    /* user and password of the URI (the default) */
    GW_LOGIN_EXTERNAL, /* the client certificate (RabbitMQ's rabbitmq_auth_mechanism_ssl) */
};

/* AMQP_SSL. Paths as written (the files are read when connecting, and checked at load). */
struct gw_amqp_tls {
    bool enabled;   /* AMQP_SSL true or a mapping: every node speaks TLS */
    char *ca_certs; /* PEM CA bundle; NULL = OpenSSL's default trust store */
    char *certfile; /* PEM client certificate (chain); NULL = none */
    char *keyfile;  /* PEM private key of certfile, unencrypted; NULL = in certfile */
    /* The name the broker's certificate must carry (kombu's server_hostname); NULL = each node's
     * host as its URI gives it, a DNS name or an IP address. */
    char *server_hostname;
    enum gw_cert_reqs cert_reqs;
    int line; /* of AMQP_SSL, for messages */
};

/* The appliers of the top-level keys; base is the struct gw_config. */
gw_key_apply_fn gw_config_apply_amqp_uri;
gw_key_apply_fn gw_config_apply_amqp_ssl;
gw_key_apply_fn gw_config_apply_login_method;

/* The name of cert_reqs as the config writes it ("CERT_REQUIRED"). */
const char *gw_cert_reqs_name(enum gw_cert_reqs reqs);

/* Once the whole file is applied: ports, EXTERNAL's needs and the files, as the header says.
 * Returns GW_OK or GW_ECONFIG with "<path>:<line>: <key>: ..." in err. */
int gw_config_amqp_finish(struct gw_config *c, char *err, size_t errlen);

/* Frees what tls holds and zeroes it. */
void gw_amqp_tls_clear(struct gw_amqp_tls *tls);

#endif
