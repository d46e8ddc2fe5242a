/* Unit tests for core/config_amqp and core/amqp_tls: AMQP_URI's failover list in the config, the
 * ports of TLS nodes, AMQP_SSL's forms and LOGIN_METHOD, and the certificate and key files checked
 * at load (made here with OpenSSL: a self-signed certificate, its key, another key, garbage). */
#include "core/config.h"
#include "core/config_amqp.h"
#include "core/status.h"

#include "tests/unit/core/config_load.h"
#include "tests/unit/suites.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/enoki-amqp-tls-XXXXXX";
static char cert_path[64], key_path[64], other_key_path[64], garbage_path[64];

static EVP_PKEY *new_key(void)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    ck_assert_ptr_nonnull(key);
    return key;
}

static void write_key(const char *path, EVP_PKEY *key)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL), 1);
    fclose(f);
}

static void make_files(void)
{
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(cert_path, sizeof(cert_path), "%s/cert.pem", dir);
    snprintf(key_path, sizeof(key_path), "%s/key.pem", dir);
    snprintf(other_key_path, sizeof(other_key_path), "%s/other.pem", dir);
    snprintf(garbage_path, sizeof(garbage_path), "%s/garbage.pem", dir);
    EVP_PKEY *key = new_key(), *other = new_key();
    X509 *cert = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME *name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"enoki-client", -1,
                               -1, 0);
    X509_set_issuer_name(cert, name);
    ck_assert_int_gt(X509_sign(cert, key, EVP_sha256()), 0);
    FILE *f = fopen(cert_path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(PEM_write_X509(f, cert), 1);
    fclose(f);
    write_key(key_path, key);
    write_key(other_key_path, other);
    f = fopen(garbage_path, "w");
    fputs("not a certificate\n", f);
    fclose(f);
    X509_free(cert);
    EVP_PKEY_free(key);
    EVP_PKEY_free(other);
}

static void remove_files(void)
{
    unlink(cert_path);
    unlink(key_path);
    unlink(other_key_path);
    unlink(garbage_path);
    rmdir(dir);
}

static char *yaml(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *yaml(const char *fmt, ...)
{
    static char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return buf;
}

START_TEST(defaults_are_plain)
{
    struct gw_config *c = test_config_ok("{}\n");
    ck_assert_uint_eq(c->n_amqp_nodes, 1);
    ck_assert(!c->amqp_nodes[0].tls);
    ck_assert_int_eq(c->amqp_nodes[0].port, 5672);
    ck_assert(!c->amqp_tls.enabled);
    ck_assert_int_eq(c->login_method, GW_LOGIN_PLAIN);
    gw_config_free(c);
}
END_TEST

/* kombu's SSL transport: amqps:// and AMQP_SSL both mean TLS on 5671 unless a port is given. */
START_TEST(tls_ports)
{
    struct gw_config *c =
        test_config_ok("AMQP_URI: amqps://u:p@rmq-0/;amqp://rmq-1:5673/;amqp://rmq-2\n");
    ck_assert_uint_eq(c->n_amqp_nodes, 3);
    ck_assert(c->amqp_nodes[0].tls && c->amqp_nodes[0].port == 5671);
    ck_assert(!c->amqp_nodes[1].tls && c->amqp_nodes[1].port == 5673);
    ck_assert(!c->amqp_nodes[2].tls && c->amqp_nodes[2].port == 5672);
    gw_config_free(c);
    c = test_config_ok("AMQP_URI: amqp://rmq-1:5673/;amqp://rmq-2\nAMQP_SSL: true\n");
    ck_assert(c->amqp_tls.enabled);
    ck_assert_int_eq(c->amqp_tls.cert_reqs, GW_CERT_REQUIRED);
    ck_assert(c->amqp_nodes[0].tls && c->amqp_nodes[0].port == 5673);
    ck_assert(c->amqp_nodes[1].tls && c->amqp_nodes[1].port == 5671);
    gw_config_free(c);
    c = test_config_ok("AMQP_SSL: false\n");
    ck_assert(!c->amqp_nodes[0].tls && c->amqp_nodes[0].port == 5672);
    gw_config_free(c);
    /* An empty mapping is false to Python: kombu speaks plain AMQP on 5672. */
    c = test_config_ok("AMQP_SSL: {}\n");
    ck_assert(!c->amqp_tls.enabled);
    ck_assert(!c->amqp_nodes[0].tls && c->amqp_nodes[0].port == 5672);
    gw_config_free(c);
    c = test_config_ok("AMQP_SSL: {server_hostname: null}\n");
    ck_assert(c->amqp_tls.enabled && c->amqp_nodes[0].tls && c->amqp_nodes[0].port == 5671);
    ck_assert_ptr_null(c->amqp_tls.server_hostname);
    gw_config_free(c);
    c = test_config_ok("AMQP_SSL: {server_hostname: rmq.internal}\n");
    ck_assert_str_eq(c->amqp_tls.server_hostname, "rmq.internal");
    gw_config_free(c);
}
END_TEST

START_TEST(cert_reqs_forms)
{
    static const struct {
        const char *value;
        enum gw_cert_reqs reqs;
    } forms[] = {{"CERT_NONE", GW_CERT_NONE},
                 {"ssl.CERT_OPTIONAL", GW_CERT_OPTIONAL},
                 {"CERT_REQUIRED", GW_CERT_REQUIRED},
                 {"0", GW_CERT_NONE},
                 {"1", GW_CERT_OPTIONAL},
                 {"2", GW_CERT_REQUIRED}};
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        struct gw_config *c = test_config_ok(yaml("AMQP_SSL: {cert_reqs: %s}\n", forms[i].value));
        ck_assert(c->amqp_tls.enabled);
        ck_assert_int_eq(c->amqp_tls.cert_reqs, forms[i].reqs);
        ck_assert_str_eq(gw_cert_reqs_name(c->amqp_tls.cert_reqs),
                         forms[i].value[0] == 's'   ? forms[i].value + 4
                         : forms[i].value[0] <= '9' ? gw_cert_reqs_name(forms[i].reqs)
                                                    : forms[i].value);
        gw_config_free(c);
    }
}
END_TEST

START_TEST(files_checked)
{
    make_files();
    struct gw_config *c = test_config_ok(
        yaml("AMQP_SSL: {ca_certs: %s, certfile: %s, keyfile: %s}\nLOGIN_METHOD: EXTERNAL\n",
             cert_path, cert_path, key_path));
    ck_assert_str_eq(c->amqp_tls.certfile, cert_path);
    ck_assert_int_eq(c->login_method, GW_LOGIN_EXTERNAL);
    gw_config_free(c);

    char message[512];
    snprintf(message, sizeof(message),
             "a.yaml:1: AMQP_SSL.keyfile: %s: the key is not the one of the certificate in %s",
             other_key_path, cert_path);
    test_config_refused(yaml("AMQP_SSL: {certfile: %s, keyfile: %s}\n", cert_path, other_key_path),
                        message);
    /* No key anywhere: the certificate file holds none. */
    c = NULL;
    char err[512];
    ck_assert_int_eq(
        test_config_load(yaml("AMQP_SSL: {certfile: %s}\n", cert_path), &c, err, sizeof(err)),
        GW_ECONFIG);
    snprintf(message, sizeof(message), "a.yaml:1: AMQP_SSL.certfile: %s: no unencrypted PEM",
             cert_path);
    ck_assert_msg(strncmp(err, message, strlen(message)) == 0, "%s", err);
    ck_assert_int_eq(
        test_config_load(yaml("AMQP_SSL: {ca_certs: %s}\n", garbage_path), &c, err, sizeof(err)),
        GW_ECONFIG);
    snprintf(message, sizeof(message), "a.yaml:1: AMQP_SSL.ca_certs: %s: no PEM certificate in it",
             garbage_path);
    ck_assert_msg(strncmp(err, message, strlen(message)) == 0, "%s", err);
    /* A key encrypted with an empty passphrase is encrypted: refused at load, as it would be on
     * connecting (it once passed here, then had OpenSSL prompt on the terminal). */
    EVP_PKEY *plain = NULL;
    FILE *f = fopen(key_path, "r");
    ck_assert_ptr_nonnull(f);
    plain = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    ck_assert_ptr_nonnull(plain);
    f = fopen(other_key_path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(PEM_write_PKCS8PrivateKey(f, plain, EVP_aes_256_cbc(), "", 0, NULL, NULL), 1);
    fclose(f);
    EVP_PKEY_free(plain);
    ck_assert_int_eq(
        test_config_load(yaml("AMQP_SSL: {certfile: %s, keyfile: %s}\n", cert_path, other_key_path),
                         &c, err, sizeof(err)),
        GW_ECONFIG);
    snprintf(message, sizeof(message), "a.yaml:1: AMQP_SSL.keyfile: %s: no unencrypted PEM",
             other_key_path);
    ck_assert_msg(strncmp(err, message, strlen(message)) == 0, "%s", err);
    snprintf(message, sizeof(message), "a.yaml:1: AMQP_SSL.keyfile: a key without certfile");
    test_config_refused(yaml("AMQP_SSL: {keyfile: %s}\n", key_path), message);
    /* EXTERNAL needs a client certificate. */
    test_config_refused(yaml("AMQP_SSL: true\nLOGIN_METHOD: EXTERNAL\n"),
                        "a.yaml:2: LOGIN_METHOD: EXTERNAL logs in with a client certificate: it "
                        "needs AMQP_SSL with certfile (and keyfile)");
    remove_files();
}
END_TEST

Suite *config_amqp_suite(void)
{
    Suite *s = suite_create("config_amqp");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, defaults_are_plain);
    tcase_add_test(tc, tls_ports);
    tcase_add_test(tc, cert_reqs_forms);
    tcase_add_test(tc, files_checked);
    suite_add_tcase(s, tc);
    return s;
}
