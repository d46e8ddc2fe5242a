/* config_amqp.c - AMQP_URI, AMQP_SSL and LOGIN_METHOD, and the checks across them. */
#include "core/config_amqp.h"

#include "core/amqp_tls.h"
#include "core/config.h"
#include "core/status.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "core/yaml_tree.h"

#include <stdlib.h>
#include <string.h>

/* Room for the reasons of the URI parser and of the file checks. */
#define REASON_LEN 384

int gw_config_apply_amqp_uri(const struct gw_key_err *e, const struct gw_yaml_node *v,
                             const char *path, void *base, const struct gw_key_spec *spec)
{
    struct gw_config *c = base;
    struct gw_amqp_uri *nodes;
    size_t n;
    char got[GW_YAML_DESCRIBE_LEN];
    char reason[REASON_LEN];
    (void)spec;
    if (v->kind != GW_YAML_STRING)
        return gw_key_fail(e, v, path, GW_ECONFIG, "expected a string, got %s",
                           gw_yaml_describe(v, got, sizeof(got)));
    /* The reason never quotes a URI: it holds the password. */
    int rc = gw_amqp_uri_list_parse(v->text, &nodes, &n, reason, sizeof(reason));
    if (rc != GW_OK)
        return gw_key_fail(e, v, path, rc, "%s", reason);
    gw_amqp_uri_list_free(c->amqp_nodes, c->n_amqp_nodes);
    c->amqp_nodes = nodes;
    c->n_amqp_nodes = n;
    gw_key_replace_string(&c->amqp_uri_text, v->text);
    return GW_OK;
}

static const char *const cert_reqs_names[] = {"CERT_NONE", "CERT_OPTIONAL", "CERT_REQUIRED"};

const char *gw_cert_reqs_name(enum gw_cert_reqs reqs)
{
    return (unsigned)reqs < 3 ? cert_reqs_names[reqs] : "?";
}

/* cert_reqs: Python's constant by name ("CERT_REQUIRED", also "ssl.CERT_REQUIRED") or value. */
static int apply_cert_reqs(const struct gw_key_err *e, const struct gw_yaml_node *v,
                           const char *path, void *base, const struct gw_key_spec *spec)
{
    struct gw_amqp_tls *tls = base;
    char got[GW_YAML_DESCRIBE_LEN];
    (void)spec;
    for (int i = 0; i < 3; i++) {
        bool named =
            v->kind == GW_YAML_STRING &&
            (strcmp(v->text, cert_reqs_names[i]) == 0 ||
             (strncmp(v->text, "ssl.", 4) == 0 && strcmp(v->text + 4, cert_reqs_names[i]) == 0));
        if (named || (v->kind == GW_YAML_INT && v->ival == i)) {
            tls->cert_reqs = (enum gw_cert_reqs)i;
            return GW_OK;
        }
    }
    return gw_key_fail(e, v, path, GW_ECONFIG,
                       "expected CERT_REQUIRED, CERT_OPTIONAL or CERT_NONE, got %s",
                       gw_yaml_describe(v, got, sizeof(got)));
}

/* kombu's server_hostname: a name to check instead of the URI's host; null (kombu's None) checks
 * the URI's host, as enoki does anyway. */
static int apply_server_hostname(const struct gw_key_err *e, const struct gw_yaml_node *v,
                                 const char *path, void *base, const struct gw_key_spec *spec)
{
    (void)spec;
    struct gw_amqp_tls *tls = base;
    if (v->kind == GW_YAML_NULL) {
        free(tls->server_hostname);
        tls->server_hostname = NULL;
        return GW_OK;
    }
    static const struct gw_key_spec name = {
        .name = "server_hostname", .offset = offsetof(struct gw_amqp_tls, server_hostname)};
    return gw_key_apply_nonempty_string(e, v, path, base, &name);
}

static const struct gw_key_spec tls_keys[] = {
    {.name = "ca_certs",
     .apply = gw_key_apply_nonempty_string,
     .offset = offsetof(struct gw_amqp_tls, ca_certs)},
    {.name = "certfile",
     .apply = gw_key_apply_nonempty_string,
     .offset = offsetof(struct gw_amqp_tls, certfile)},
    {.name = "keyfile",
     .apply = gw_key_apply_nonempty_string,
     .offset = offsetof(struct gw_amqp_tls, keyfile)},
    {.name = "cert_reqs", .apply = apply_cert_reqs},
    {.name = "server_hostname", .apply = apply_server_hostname},
};

int gw_config_apply_amqp_ssl(const struct gw_key_err *e, const struct gw_yaml_node *v,
                             const char *path, void *base, const struct gw_key_spec *spec)
{
    struct gw_config *c = base;
    char got[GW_YAML_DESCRIBE_LEN];
    (void)spec;
    gw_amqp_tls_clear(&c->amqp_tls);
    c->amqp_tls.cert_reqs = GW_CERT_REQUIRED;
    c->amqp_tls.line = v->line;
    if (v->kind == GW_YAML_BOOL) {
        c->amqp_tls.enabled = v->bval;
        return GW_OK;
    }
    if (v->kind != GW_YAML_MAP)
        return gw_key_fail(e, v, path, GW_ECONFIG,
                           "expected true, false or a mapping {ca_certs, certfile, keyfile, "
                           "cert_reqs, server_hostname}, got %s",
                           gw_yaml_describe(v, got, sizeof(got)));
    /* An empty mapping is false to Python: kombu then speaks plain AMQP. */
    c->amqp_tls.enabled = v->n_items > 0;
    return gw_keys_apply_map(e, v, path, tls_keys, sizeof(tls_keys) / sizeof(tls_keys[0]),
                             &c->amqp_tls, true);
}

int gw_config_apply_login_method(const struct gw_key_err *e, const struct gw_yaml_node *v,
                                 const char *path, void *base, const struct gw_key_spec *spec)
{
    struct gw_config *c = base;
    char got[GW_YAML_DESCRIBE_LEN];
    (void)spec;
    c->login_method_line = v->line;
    if (v->kind == GW_YAML_STRING && strcmp(v->text, "PLAIN") == 0) {
        c->login_method = GW_LOGIN_PLAIN;
        return GW_OK;
    }
    if (v->kind == GW_YAML_STRING && strcmp(v->text, "EXTERNAL") == 0) {
        c->login_method = GW_LOGIN_EXTERNAL;
        return GW_OK;
    }
    return gw_key_fail(e, v, path, GW_ECONFIG, "expected PLAIN or EXTERNAL, got %s",
                       gw_yaml_describe(v, got, sizeof(got)));
}

/* A file key of AMQP_SSL that does not check: "<path>:<line>: AMQP_SSL.<key>: <reason>". */
static int file_refused(const struct gw_config *c, const char *key, const char *reason, char *err,
                        size_t errlen)
{
    gw_set_err(err, errlen, "%s:%d: AMQP_SSL.%s: %s", c->path, c->amqp_tls.line, key, reason);
    return GW_ECONFIG;
}

int gw_config_amqp_finish(struct gw_config *c, char *err, size_t errlen)
{
    struct gw_amqp_tls *tls = &c->amqp_tls;
    char reason[REASON_LEN];
    bool any_tls = tls->enabled;
    for (size_t i = 0; i < c->n_amqp_nodes; i++) {
        struct gw_amqp_uri *node = &c->amqp_nodes[i];
        node->tls = node->tls || tls->enabled;
        if (node->tls && !node->port_given)
            node->port = GW_AMQP_DEFAULT_TLS_PORT;
        any_tls = any_tls || node->tls;
    }
    if (c->login_method == GW_LOGIN_EXTERNAL && (!any_tls || !tls->certfile)) {
        gw_set_err(err, errlen,
                   "%s: LOGIN_METHOD: EXTERNAL logs in with a client certificate: it needs "
                   "AMQP_SSL with certfile (and keyfile)",
                   gw_config_where(c, c->login_method_line, "LOGIN_METHOD").text);
        return GW_ECONFIG;
    }
    if (tls->keyfile && !tls->certfile)
        return file_refused(c, "keyfile", "a key without certfile", err, errlen);
    if (tls->ca_certs && gw_amqp_tls_check_certs(tls->ca_certs, reason, sizeof(reason)) != GW_OK)
        return file_refused(c, "ca_certs", reason, err, errlen);
    if (tls->certfile && gw_amqp_tls_check_certs(tls->certfile, reason, sizeof(reason)) != GW_OK)
        return file_refused(c, "certfile", reason, err, errlen);
    if (tls->certfile &&
        gw_amqp_tls_check_key(tls->certfile, tls->keyfile, reason, sizeof(reason)) != GW_OK)
        return file_refused(c, tls->keyfile ? "keyfile" : "certfile", reason, err, errlen);
    return GW_OK;
}

void gw_amqp_tls_clear(struct gw_amqp_tls *tls)
{
    free(tls->ca_certs);
    free(tls->certfile);
    free(tls->keyfile);
    free(tls->server_hostname);
    memset(tls, 0, sizeof(*tls));
}
