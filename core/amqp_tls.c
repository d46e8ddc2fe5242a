/* amqp_tls.c - AMQP_SSL's PEM files checked with OpenSSL. */
#include "core/amqp_tls.h"

#include "core/status.h"
#include "core/strbuf.h"

#include <amqp_ssl_socket.h>
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* OpenSSL's reason for the last failure, or what when it has none; its error queue is emptied. */
static const char *openssl_reason(const char *what, char *buf, size_t len)
{
    unsigned long code = ERR_peek_last_error();
    if (code == 0) {
        snprintf(buf, len, "%s", what);
    } else {
        char text[256];
        ERR_error_string_n(code, text, sizeof(text));
        snprintf(buf, len, "%s (%s)", what, text);
    }
    ERR_clear_error();
    return buf;
}

static FILE *open_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f)
        gw_set_err(err, errlen, "cannot read %s: %s", path, strerror(errno));
    return f;
}

/* OpenSSL's passphrase callback: none is given. Without one OpenSSL asks on the terminal, and waits
 * there with the process's signals taken over. */
static int no_passphrase(char *buf, int size, int rwflag, void *arg)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)arg;
    return -1;
}

/* The first certificate of the PEM file at path (new), or NULL with *status and err saying why. */
static X509 *read_cert(const char *path, int *status, char *err, size_t errlen)
{
    char reason[320];
    FILE *f = open_file(path, err, errlen);
    if (!f) {
        *status = GW_EIO;
        return NULL;
    }
    X509 *cert = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (!cert) {
        gw_set_err(err, errlen, "%s: %s", path,
                   openssl_reason("no PEM certificate in it", reason, sizeof(reason)));
        *status = GW_ECONFIG;
    }
    return cert;
}

int gw_amqp_tls_check_certs(const char *path, char *err, size_t errlen)
{
    int status = GW_OK;
    X509 *cert = read_cert(path, &status, err, errlen);
    X509_free(cert);
    return status;
}

int gw_amqp_tls_check_key(const char *certfile, const char *keyfile, char *err, size_t errlen)
{
    char reason[320];
    const char *key_path = keyfile ? keyfile : certfile;
    int status = GW_OK;
    X509 *cert = read_cert(certfile, &status, err, errlen);
    if (!cert)
        return status;
    FILE *f;
    f = open_file(key_path, err, errlen);
    if (!f) {
        X509_free(cert);
        return GW_EIO;
    }
    /* No passphrase, not even an empty one: an encrypted key fails here, as it would on connecting
     * (gw_amqp_tls_socket), rather than prompting on the terminal. */
    EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, no_passphrase, NULL);
    fclose(f);
    int rc = GW_OK;
    if (!key) {
        gw_set_err(err, errlen, "%s: %s", key_path,
                   openssl_reason("no unencrypted PEM private key in it", reason, sizeof(reason)));
        rc = GW_ECONFIG;
    } else if (X509_check_private_key(cert, key) != 1) {
        ERR_clear_error();
        gw_set_err(err, errlen, "%s: the key is not the one of the certificate in %s", key_path,
                   certfile);
        rc = GW_ECONFIG;
    }
    EVP_PKEY_free(key);
    X509_free(cert);
    return rc;
}

/* rabbitmq-c reports a refused certificate as "SSL peer cert verification failed" and leaves no
 * OpenSSL error behind: the chain's verdict is caught here instead, on the connecting thread,
 * without changing it. */
static _Thread_local int last_verify_error;

static int note_verify_error(int ok, X509_STORE_CTX *ctx)
{
    if (!ok && last_verify_error == X509_V_OK)
        last_verify_error = X509_STORE_CTX_get_error(ctx);
    return ok;
}

/* The name the connecting thread's handshake sends in SNI instead of rabbitmq-c's (the URI's host):
 * server_hostname when given, as kombu sends it; none (NULL) for an IP address, which RFC 6066 3
 * does not allow there. */
static _Thread_local const char *server_name;
static _Thread_local bool server_name_set;

static bool is_address(const char *name)
{
    unsigned char ip[16];
    return inet_pton(AF_INET, name, ip) == 1 || inet_pton(AF_INET6, name, ip) == 1;
}

/* rabbitmq-c keeps the session it makes private; its context (one per socket) is not: the session
 * is caught when its handshake starts and kept as the context's application data. There, before
 * the ClientHello is written, the SNI rabbitmq-c set from the URI's host is put right. */
static void remember_session(const SSL *ssl, int where, int ret)
{
    (void)ret;
    if (!(where & SSL_CB_HANDSHAKE_START))
        return;
    SSL *session = (SSL *)(uintptr_t)ssl;
    SSL_CTX_set_app_data(SSL_get_SSL_CTX(ssl), session);
    if (server_name_set) {
        char *name = (char *)(uintptr_t)server_name; /* OpenSSL's macro casts it to void * */
        SSL_set_tlsext_host_name(session, name);
    }
}

/* The name the broker's certificate must carry, checked by OpenSSL as part of the chain: a DNS
 * name, or an IP address against the certificate's IP entries (rabbitmq-c's own check compares DNS
 * names only, so a node reached by its address could never be verified). */
static bool expect_name(SSL_CTX *ctx, const char *name)
{
    X509_VERIFY_PARAM *param = SSL_CTX_get0_param(ctx);
    if (is_address(name))
        return X509_VERIFY_PARAM_set1_ip_asc(param, name) == 1;
    /* As Python's ssl module checks it: a wildcard only as a whole left-most label. */
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    return X509_VERIFY_PARAM_set1_host(param, name, 0) == 1;
}

amqp_socket_t *gw_amqp_tls_socket(amqp_connection_state_t state, const struct gw_amqp_tls *tls,
                                  const char *host, char *err, size_t errlen)
{
    amqp_socket_t *socket = amqp_ssl_socket_new(state);
    if (!socket) {
        gw_set_err(err, errlen, "cannot create a TLS socket");
        return NULL;
    }
    bool verify = tls->cert_reqs != GW_CERT_NONE;
    last_verify_error = X509_V_OK;
    SSL_CTX *ctx = amqp_ssl_socket_get_context(socket);
    if (ctx) {
        X509_STORE_set_verify_cb(SSL_CTX_get_cert_store(ctx), note_verify_error);
        SSL_CTX_set_app_data(ctx, NULL);
        SSL_CTX_set_info_callback(ctx, remember_session);
        /* A write that must first read (a renegotiation) would have the loop wait for writability
         * that is already there; RabbitMQ never needs one. */
        SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
        SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
    }
    amqp_ssl_socket_set_verify_peer(socket, verify);
    const char *name = tls->server_hostname ? tls->server_hostname : host;
    server_name_set = true;
    server_name = is_address(name) ? NULL : name;
    if (verify && !(ctx && expect_name(ctx, name))) {
        gw_set_err(err, errlen, "cannot check the broker's certificate for the name %s", name);
        return NULL; /* the socket is state's, freed with it */
    }
    amqp_ssl_socket_set_verify_hostname(socket, false);
    int rc = AMQP_STATUS_OK;
    if (tls->ca_certs) {
        rc = amqp_ssl_socket_set_cacert(socket, tls->ca_certs);
        if (rc != AMQP_STATUS_OK) {
            gw_set_err(err, errlen, "AMQP_SSL.ca_certs %s: %s", tls->ca_certs,
                       amqp_error_string2(rc));
            return NULL;
        }
    } else if (ctx) {
        SSL_CTX_set_default_verify_paths(ctx);
    }
    if (tls->certfile) {
        rc = amqp_ssl_socket_set_key(socket, tls->certfile,
                                     tls->keyfile ? tls->keyfile : tls->certfile);
        if (rc != AMQP_STATUS_OK) {
            gw_set_err(err, errlen, "AMQP_SSL.certfile %s: %s", tls->certfile,
                       amqp_error_string2(rc));
            return NULL;
        }
    }
    return socket;
}

struct ssl_st *gw_amqp_tls_session(amqp_socket_t *socket)
{
    SSL_CTX *ctx = amqp_ssl_socket_get_context(socket);
    SSL *ssl = ctx ? SSL_CTX_get_app_data(ctx) : NULL;
    /* A write that waits is retried from the same bytes, but from a buffer that may have moved
     * (grown, or shifted to its start). rabbitmq-c already asks for partial writes. */
    if (ssl)
        SSL_set_mode(ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE);
    return ssl;
}

long gw_amqp_tls_write(struct ssl_st *ssl, const void *buf, size_t len, char *err, size_t errlen)
{
    ERR_clear_error();
    int n = SSL_write(ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
    if (n > 0)
        return n;
    switch (SSL_get_error(ssl, n)) {
    case SSL_ERROR_WANT_WRITE:
    case SSL_ERROR_WANT_READ: /* a handshake message first: the reads the loop makes carry it */
        return 0;
    case SSL_ERROR_SYSCALL:
        gw_set_err(err, errlen, "TLS write: %s", errno ? strerror(errno) : "connection closed");
        ERR_clear_error();
        return GW_EBROKER;
    default:
        openssl_reason("TLS write", err, errlen);
        return GW_EBROKER;
    }
}

const char *gw_amqp_tls_reason(int status, char *buf, size_t len)
{
    unsigned long code = ERR_peek_last_error();
    if (last_verify_error != X509_V_OK) {
        snprintf(buf, len, "%s (%s)", amqp_error_string2(status),
                 X509_verify_cert_error_string(last_verify_error));
        last_verify_error = X509_V_OK;
    } else if (code != 0) {
        char text[256];
        ERR_error_string_n(code, text, sizeof(text));
        snprintf(buf, len, "%s (%s)", amqp_error_string2(status), text);
    } else {
        snprintf(buf, len, "%s", amqp_error_string2(status));
    }
    ERR_clear_error();
    return buf;
}

void gw_amqp_tls_thread_done(void)
{
    OPENSSL_thread_stop();
}
