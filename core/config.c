/* config.c - loads enoki's YAML configuration (config.h lists the keys and the rules).
 *
 * Three stages. core/yaml_parse builds a tree of nodes and resolves every scalar as it arrives, the
 * way PyYAML's SafeLoader does once nameko has registered its !env_var resolver. Then the --define
 * values replace top-level entries. Last, core/config_schema's tables of keys validate the tree
 * into a struct gw_config, which is never changed again.
 */
#include "core/config.h"

#include "core/config_schema.h"
#include "core/status.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "core/yaml_parse.h"
#include "core/yaml_tree.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How much of the file one read takes. */
#define READ_CHUNK 8192

void gw_config_free(struct gw_config *config)
{
    if (config == NULL)
        return;
    gw_config_clear(config);
    free(config);
}

/* Sets each defined top-level key, as nameko's --define does: VALUE is YAML, parsed with
 * substitution, and replaces every entry of its key. labels[i] gets the origin of define i
 * ("--define KEY"), which its nodes borrow: the caller frees the labels after the tree. */
static int apply_defines(const struct gw_define *defines, size_t n_defines,
                         struct gw_yaml_node *root, char **labels, char *err, size_t errlen)
{
    for (size_t i = 0; i < n_defines; i++) {
        const char *key = defines[i].key != NULL ? defines[i].key : "";
        const char *text = defines[i].value != NULL ? defines[i].value : "";
        struct gw_yaml_node *value = NULL;
        if (key[0] == '\0') {
            gw_set_err(err, errlen, "--define: expected KEY=VALUE, got an empty KEY");
            return GW_ECONFIG;
        }
        labels[i] = xasprintf("--define %s", key);
        struct gw_yaml_parse_opts o = {.origin = labels[i],
                                       .line = 0,
                                       .prefix = key,
                                       .depth = 0,
                                       .err = err,
                                       .errlen = errlen};
        int rc = gw_yaml_parse(&o, text, strlen(text), &value);
        if (rc != GW_OK)
            return rc;
        if (value == NULL)
            value = gw_yaml_node_new(GW_YAML_NULL, labels[i], 0, "");
        gw_yaml_map_set_take(root, gw_yaml_node_new(GW_YAML_STRING, labels[i], 0, key), value);
    }
    return GW_OK;
}

int gw_config_load_string(const char *name, const char *yaml, size_t len,
                          const struct gw_define *defines, size_t n_defines, struct gw_config **out,
                          char *err, size_t errlen)
{
    struct gw_key_err e = {.err = err, .errlen = errlen};
    struct gw_yaml_parse_opts o = {
        .origin = name, .line = -1, .prefix = "", .depth = 0, .err = err, .errlen = errlen};
    struct gw_yaml_node *root = NULL;
    struct gw_config *config = NULL;
    char **labels = xcalloc(n_defines, sizeof(*labels));
    char got[GW_YAML_DESCRIBE_LEN];
    *out = NULL;
    if (err != NULL && errlen > 0)
        err[0] = '\0';

    int rc = gw_yaml_parse(&o, yaml, len, &root);
    if (rc != GW_OK)
        goto out;
    if (root == NULL || root->kind == GW_YAML_NULL) {
        gw_set_err(err, errlen, "%s:1: expected a mapping at the top level, got an empty file",
                   name);
        rc = GW_ECONFIG;
        goto out;
    }
    if (root->kind != GW_YAML_MAP) {
        rc = gw_key_fail(&e, root, "", GW_ECONFIG, "expected a mapping at the top level, got %s",
                         gw_yaml_describe(root, got, sizeof(got)));
        goto out;
    }
    rc = apply_defines(defines, n_defines, root, labels, err, errlen);
    if (rc != GW_OK)
        goto out;

    config = gw_config_new_defaults(name);
    rc = gw_config_apply_schema(&e, root, config);
    if (rc != GW_OK)
        goto out;
    rc = gw_config_routes_finish(config, err, errlen);
    if (rc != GW_OK)
        goto out;
    rc = gw_config_auth_finish(config, err, errlen);
    if (rc != GW_OK)
        goto out;
    rc = gw_config_amqp_finish(config, err, errlen);
    if (rc != GW_OK)
        goto out;
    rc = gw_config_docs_finish(config, err, errlen);
    if (rc != GW_OK)
        goto out;
    *out = config;
    config = NULL;
out:
    gw_config_free(config);
    gw_yaml_node_unref(root);
    for (size_t i = 0; i < n_defines; i++)
        free(labels[i]);
    free(labels);
    return rc;
}

int gw_config_load(const char *path, const struct gw_define *defines, size_t n_defines,
                   struct gw_config **out, char *err, size_t errlen)
{
    struct gw_strbuf text = {0};
    char chunk[READ_CHUNK];
    int rc = GW_OK;
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        gw_set_err(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        return GW_EIO;
    }
    for (;;) {
        size_t n = fread(chunk, 1, sizeof(chunk), f);
        gw_strbuf_add(&text, chunk, n);
        if (n < sizeof(chunk))
            break;
    }
    if (ferror(f)) {
        /* fopen succeeds on a directory; the read fails with EISDIR. */
        gw_set_err(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        rc = GW_EIO;
        goto out;
    }
    rc = gw_config_load_string(path, text.data != NULL ? text.data : "", text.len, defines,
                               n_defines, out, err, errlen);
out:
    fclose(f);
    free(text.data);
    return rc;
}

struct gw_config_where gw_config_where(const struct gw_config *config, int line, const char *key)
{
    struct gw_config_where where;
    if (line > 0)
        snprintf(where.text, sizeof(where.text), "%s:%d", config->path, line);
    else
        snprintf(where.text, sizeof(where.text), "--define %s", key);
    return where;
}
