/* config_routes.c - the routes of the config, key by key. */
#include "core/config_routes.h"

#include "core/config.h"
#include "core/key_template.h"
#include "core/status.h"
#include "core/strbuf.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "core/yaml_tree.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* nameko's @http default, and enoki's own mode. */
#define DEFAULT_METHODS "GET"
#define DEFAULT_MODE GW_MODE_JSON

/* Indexed by enum gw_route_mode; the order is also that of the "expected one of" message. */
static const char *const mode_names[] = {[GW_MODE_JSON] = "json", [GW_MODE_HTTP] = "http", NULL};

const char *gw_route_mode_name(enum gw_route_mode mode)
{
    return (size_t)mode < ARRAY_LEN(mode_names) - 1 ? mode_names[mode] : "?";
}

static int apply_mode(const struct gw_key_err *e, const struct gw_yaml_node *v, const char *path,
                      void *base, const struct gw_key_spec *spec)
{
    size_t index = 0;
    (void)spec;
    int rc = gw_key_choose(e, v, path, mode_names, &index);
    if (rc == GW_OK)
        ((struct gw_route_conf *)base)->mode = (enum gw_route_mode)index;
    return rc;
}

/* Werkzeug refuses rules without the leading slash; say so here, with the line. */
static int apply_rule(const struct gw_key_err *e, const struct gw_yaml_node *v, const char *path,
                      void *base, const struct gw_key_spec *spec)
{
    char got[GW_YAML_DESCRIBE_LEN];
    if (v->kind != GW_YAML_STRING || v->text[0] != '/')
        return gw_key_fail(e, v, path, GW_ECONFIG, "expected a rule starting with '/', got %s",
                           gw_yaml_describe(v, got, sizeof(got)));
    gw_key_replace_string(gw_key_field(base, spec), v->text);
    ((struct gw_route_conf *)base)->rule_line = v->line;
    return GW_OK;
}

/* A string as written ("GET,POST"), or a list of strings joined with ','. */
static int apply_methods(const struct gw_key_err *e, const struct gw_yaml_node *v, const char *path,
                         void *base, const struct gw_key_spec *spec)
{
    char got[GW_YAML_DESCRIBE_LEN];
    char child[GW_YAML_PATH_LEN];
    if (v->kind == GW_YAML_STRING && v->text[0] != '\0') {
        gw_key_replace_string(gw_key_field(base, spec), v->text);
        return GW_OK;
    }
    if (v->kind != GW_YAML_SEQ || v->n_items == 0)
        return gw_key_fail(e, v, path, GW_ECONFIG, "expected a method or a list of methods, got %s",
                           gw_yaml_describe(v, got, sizeof(got)));
    for (size_t i = 0; i < v->n_items; i++) {
        const struct gw_yaml_node *m = v->items[i];
        if (m->kind != GW_YAML_STRING || m->text[0] == '\0') {
            gw_yaml_path_printf(child, sizeof(child), "%s[%zu]", path, i);
            return gw_key_fail(e, m, child, GW_ECONFIG, "expected a method name, got %s",
                               gw_yaml_describe(m, got, sizeof(got)));
        }
    }
    struct gw_strbuf b = {0};
    for (size_t i = 0; i < v->n_items; i++) {
        if (i > 0)
            gw_strbuf_adds(&b, ",");
        gw_strbuf_adds(&b, v->items[i]->text);
    }
    char **dst = gw_key_field(base, spec);
    free(*dst);
    *dst = gw_strbuf_take(&b);
    return GW_OK;
}

/* "service.method". An amphora function's name may hold dots ("send_message.email.text"); a
 * nameko method's may not (gw_config_routes_finish checks, once the services are known). */
static int apply_rpc(const struct gw_key_err *e, const struct gw_yaml_node *v, const char *path,
                     void *base, const struct gw_key_spec *spec)
{
    struct gw_route_conf *r = base;
    char got[GW_YAML_DESCRIBE_LEN];
    const char *dot = v->kind == GW_YAML_STRING ? strchr(v->text, '.') : NULL;
    (void)spec;
    if (dot == NULL || dot == v->text || dot[1] == '\0')
        return gw_key_fail(e, v, path, GW_ECONFIG, "expected 'service.method', got %s",
                           gw_yaml_describe(v, got, sizeof(got)));
    r->rpc_line = v->line;
    free(r->service);
    free(r->method);
    r->service = xstrndup(v->text, (size_t)(dot - v->text));
    r->method = xstrdup(dot + 1);
    return GW_OK;
}

/* "all", or how many replies answer the call. */
static int apply_collect(const struct gw_key_err *e, const struct gw_yaml_node *v, const char *path,
                         void *base, const struct gw_key_spec *spec)
{
    struct gw_route_conf *r = base;
    char got[GW_YAML_DESCRIBE_LEN];
    (void)spec;
    if (v->kind == GW_YAML_STRING && strcmp(v->text, "all") == 0)
        r->collect = GW_COLLECT_ALL;
    else if (v->kind == GW_YAML_INT && v->ival >= 1 && v->ival <= 100000)
        r->collect = (int)v->ival;
    else
        return gw_key_fail(e, v, path, GW_ECONFIG,
                           "expected 'all' or a number of replies from 1 to 100000, got %s",
                           gw_yaml_describe(v, got, sizeof(got)));
    r->collect_line = v->line;
    return GW_OK;
}

/* A routing key template: text with {name} fields ({{ and }} for braces). */
static int apply_routing_key(const struct gw_key_err *e, const struct gw_yaml_node *v,
                             const char *path, void *base, const struct gw_key_spec *spec)
{
    struct gw_route_conf *r = base;
    char got[GW_YAML_DESCRIBE_LEN];
    char why[160];
    (void)spec;
    if (v->kind != GW_YAML_STRING && v->kind != GW_YAML_INT)
        return gw_key_fail(e, v, path, GW_ECONFIG, "expected a routing key template, got %s",
                           gw_yaml_describe(v, got, sizeof(got)));
    if (gw_key_template_check(v->text, why, sizeof(why)) != GW_OK)
        return gw_key_fail(e, v, path, GW_ECONFIG, "%s", why);
    gw_key_replace_string(&r->routing_key, v->text);
    r->routing_key_line = v->line;
    return GW_OK;
}

/* The most values an inline schema may hold once its aliases are copied out: a YAML tree shares an
 * aliased node, its JSON (and the OpenAPI document) would not (ten levels of ten aliases are 10^10
 * values from a few hundred bytes). */
enum { SCHEMA_MAX_VALUES = 100000 };

/* A YAML value as JSON, for an inline schema: mappings need string keys, numbers must be finite.
 * Returns GW_OK and a new reference in *out, or fails with the message written. *left counts down
 * the values it may still make. */
static int yaml_to_json(const struct gw_key_err *e, const struct gw_yaml_node *v, const char *path,
                        json_t **out, size_t *left)
{
    char child[GW_YAML_PATH_LEN];
    char got[GW_YAML_DESCRIBE_LEN];
    *out = NULL;
    if (*left == 0)
        return gw_key_fail(e, v, path, GW_ECONFIG,
                           "the schema is too large once its aliases are copied out (over %d "
                           "values)",
                           SCHEMA_MAX_VALUES);
    --*left;
    switch (v->kind) {
    case GW_YAML_NULL:
        *out = json_null();
        return GW_OK;
    case GW_YAML_BOOL:
        *out = json_boolean(v->bval);
        return GW_OK;
    case GW_YAML_INT:
        *out = json_integer(v->ival);
        return GW_OK;
    case GW_YAML_FLOAT:
        if (!isfinite(v->fval))
            return gw_key_fail(e, v, path, GW_ECONFIG, "JSON has no %s", v->text);
        *out = json_real(v->fval);
        return GW_OK;
    case GW_YAML_STRING:
        *out = json_string(v->text);
        return *out ? GW_OK : gw_key_fail(e, v, path, GW_ECONFIG, "expected UTF-8 text");
    case GW_YAML_SEQ:
        *out = json_array();
        for (size_t i = 0; i < v->n_items; i++) {
            json_t *item;
            gw_yaml_path_printf(child, sizeof(child), "%s[%zu]", path, i);
            int rc = yaml_to_json(e, v->items[i], child, &item, left);
            if (rc != GW_OK) {
                json_decref(*out);
                *out = NULL;
                return rc;
            }
            json_array_append_new(*out, item);
        }
        return GW_OK;
    case GW_YAML_MAP:
        *out = json_object();
        for (size_t i = 0; i < gw_yaml_map_pairs(v); i++) {
            const struct gw_yaml_node *key = v->items[2 * i];
            json_t *value;
            if (key->kind != GW_YAML_STRING) {
                json_decref(*out);
                *out = NULL;
                return gw_key_fail(e, key, path, GW_ECONFIG, "JSON keys are strings, got %s",
                                   gw_yaml_describe(key, got, sizeof(got)));
            }
            gw_yaml_path_join(child, sizeof(child), path, key->text);
            /* PyYAML merges it into the mapping; kept as written it would be a property "<<". */
            if (gw_key_is_merge(key)) {
                json_decref(*out);
                *out = NULL;
                return gw_key_merge_refused(e, key, child);
            }
            int rc = yaml_to_json(e, v->items[2 * i + 1], child, &value, left);
            if (rc != GW_OK) {
                json_decref(*out);
                *out = NULL;
                return rc;
            }
            json_object_set_new(*out, key->text, value); /* the last of duplicate keys wins */
        }
        return GW_OK;
    }
    return gw_key_fail(e, v, path, GW_ECONFIG, "expected a JSON value");
}

static void schema_clear(struct gw_route_schema *s)
{
    json_decref(s->schema);
    free(s->file);
    memset(s, 0, sizeof(*s));
}

/* A JSON Schema inline (a mapping) or the name of a JSON file, read once the file is applied. */
static int apply_schema(const struct gw_key_err *e, const struct gw_yaml_node *v, const char *path,
                        void *base, const struct gw_key_spec *spec)
{
    struct gw_route_schema *s = gw_key_field(base, spec);
    char got[GW_YAML_DESCRIBE_LEN];
    schema_clear(s);
    s->line = v->line;
    if (v->kind == GW_YAML_STRING && v->text[0] != '\0') {
        s->file = xstrdup(v->text);
        return GW_OK;
    }
    if (v->kind != GW_YAML_MAP)
        return gw_key_fail(e, v, path, GW_ECONFIG,
                           "expected a JSON Schema (a mapping) or the name of a JSON file, got %s",
                           gw_yaml_describe(v, got, sizeof(got)));
    size_t left = SCHEMA_MAX_VALUES;
    return yaml_to_json(e, v, path, &s->schema, &left);
}

/* Written or not: a route's own idempotency wins over GATEWAY.idempotency, false included. */
static int apply_idempotency(const struct gw_key_err *e, const struct gw_yaml_node *v,
                             const char *path, void *base, const struct gw_key_spec *spec)
{
    struct gw_route_conf *r = base;
    int rc = gw_key_apply_bool(e, v, path, base, spec);
    r->idempotency_given = rc == GW_OK;
    return rc;
}

static const struct gw_key_spec route_keys[] = {
    {.name = "rule", .apply = apply_rule, .offset = offsetof(struct gw_route_conf, rule)},
    {.name = "methods", .apply = apply_methods, .offset = offsetof(struct gw_route_conf, methods)},
    {.name = "rpc", .apply = apply_rpc},
    {.name = "timeout",
     .apply = gw_key_apply_positive_number,
     .offset = offsetof(struct gw_route_conf, timeout)},
    {.name = "mode", .apply = apply_mode},
    {.name = "expected_exceptions",
     .apply = gw_key_apply_string_list,
     .offset = offsetof(struct gw_route_conf, expected_exceptions),
     .list_what = "exception type names such as 'ValueError'",
     .item_what = "an exception type name such as 'ValueError'"},
    {.name = "auth", .apply = gw_config_apply_route_auth},
    {.name = "scopes",
     .apply = gw_key_apply_string_list,
     .offset = offsetof(struct gw_route_conf, scopes),
     .list_what = "scopes such as 'orders:read'",
     .item_what = "a scope such as 'orders:read'"},
    {.name = "routing_key", .apply = apply_routing_key},
    {.name = "collect", .apply = apply_collect},
    {.name = "idempotency",
     .apply = apply_idempotency,
     .offset = offsetof(struct gw_route_conf, idempotency)},
    {.name = "summary",
     .apply = gw_key_apply_nonempty_string,
     .offset = offsetof(struct gw_route_conf, summary)},
    {.name = "description",
     .apply = gw_key_apply_nonempty_string,
     .offset = offsetof(struct gw_route_conf, description)},
    {.name = "tags",
     .apply = gw_key_apply_string_list,
     .offset = offsetof(struct gw_route_conf, tags),
     .list_what = "tags such as 'orders'",
     .item_what = "a tag such as 'orders'"},
    {.name = "request_schema",
     .apply = apply_schema,
     .offset = offsetof(struct gw_route_conf, request_schema)},
    {.name = "response_schema",
     .apply = apply_schema,
     .offset = offsetof(struct gw_route_conf, response_schema)},
};

void gw_config_routes_clear(struct gw_config *c)
{
    for (size_t i = 0; i < c->n_routes; i++) {
        struct gw_route_conf *r = &c->routes[i];
        free(r->rule);
        free(r->methods);
        free(r->service);
        free(r->method);
        free(r->routing_key);
        gw_string_list_clear(&r->expected_exceptions);
        gw_string_list_clear(&r->scopes);
        free(r->summary);
        free(r->description);
        gw_string_list_clear(&r->tags);
        schema_clear(&r->request_schema);
        schema_clear(&r->response_schema);
    }
    free(c->routes);
    c->routes = NULL;
    c->n_routes = 0;
}

int gw_config_apply_routes(const struct gw_key_err *e, const struct gw_yaml_node *v,
                           const char *path, void *base, const struct gw_key_spec *spec)
{
    struct gw_config *c = base;
    char got[GW_YAML_DESCRIBE_LEN];
    char item_path[GW_YAML_PATH_LEN];
    char child[GW_YAML_PATH_LEN];
    (void)spec;
    if (v->kind != GW_YAML_SEQ)
        return gw_key_fail(e, v, path, GW_ECONFIG, "expected a list of routes, got %s",
                           gw_yaml_describe(v, got, sizeof(got)));
    gw_config_routes_clear(c);
    c->routes = xcalloc(v->n_items, sizeof(*c->routes));
    for (size_t i = 0; i < v->n_items; i++) {
        const struct gw_yaml_node *item = v->items[i];
        struct gw_route_conf *r = &c->routes[c->n_routes++];
        gw_yaml_path_printf(item_path, sizeof(item_path), "%s[%zu]", path, i);
        if (item->kind != GW_YAML_MAP)
            return gw_key_fail(e, item, item_path, GW_ECONFIG, "expected a mapping, got %s",
                               gw_yaml_describe(item, got, sizeof(got)));
        r->methods = xstrdup(DEFAULT_METHODS);
        r->mode = DEFAULT_MODE;
        r->timeout = 0; /* filled in from GATEWAY.rpc_timeout once the whole file is read */
        r->line = item->line;
        int rc = gw_keys_apply_map(e, item, item_path, route_keys, ARRAY_LEN(route_keys), r, true);
        if (rc != GW_OK)
            return rc;
        const char *missing = r->rule == NULL ? "rule" : r->service == NULL ? "rpc" : NULL;
        if (missing != NULL) {
            gw_yaml_path_join(child, sizeof(child), item_path, missing);
            return gw_key_fail(e, item, child, GW_ECONFIG, "required key is missing");
        }
    }
    return GW_OK;
}

/* What a route asks of its service's protocol: amphora's keys on an amphora service only. */
static int check_protocol(const struct gw_config *c, struct gw_route_conf *r, size_t i, char *err,
                          size_t errlen)
{
    const struct gw_service_conf *s = gw_service_find(&c->services, r->service);
    bool amphora = s && s->protocol == GW_PROTO_AMPHORA;
    r->protocol = amphora ? GW_PROTO_AMPHORA : GW_PROTO_NAMEKO;
    if (!amphora && strchr(r->method, '.')) {
        gw_set_err(err, errlen,
                   "%s: routes[%zu].rpc: expected 'service.method', got '%s.%s' (a dotted "
                   "function name is amphora's: list %s under GATEWAY.services)",
                   gw_config_where(c, r->rpc_line, "routes").text, i, r->service, r->method,
                   r->service);
        return GW_ECONFIG;
    }
    if (!amphora && r->routing_key) {
        gw_set_err(err, errlen,
                   "%s: routes[%zu].routing_key: only an amphora service's calls take a "
                   "routing key; %s speaks nameko (GATEWAY.services)",
                   gw_config_where(c, r->routing_key_line, "routes").text, i, r->service);
        return GW_ECONFIG;
    }
    if (r->collect != 0 && !(amphora && s->fanout)) {
        gw_set_err(err, errlen,
                   "%s: routes[%zu].collect: only a fanout amphora service answers more than "
                   "once; %s is not one (GATEWAY.services.%s.fanout)",
                   gw_config_where(c, r->collect_line, "routes").text, i, r->service, r->service);
        return GW_ECONFIG;
    }
    return GW_OK;
}

/* A schema file is read whole; bigger than this it is refused (a schema is a page or two). */
#define SCHEMA_FILE_MAX (1 << 20)

/* Reads a regular file of at most SCHEMA_FILE_MAX bytes into *text (new). Never waits: a FIFO or a
 * device named by mistake would block the load (and a SIGHUP, on the loop thread). Returns GW_OK,
 * or GW_EIO with why (why_len bytes). */
static int read_small_file(const char *name, char **text, size_t *len, char *why, size_t why_len)
{
    struct stat st;
    *text = NULL;
    int fd = open(name, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, why_len, "%s", strerror(errno));
        return GW_EIO;
    }
    int rc = GW_EIO;
    if (fstat(fd, &st) != 0) {
        snprintf(why, why_len, "%s", strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        snprintf(why, why_len, "not a regular file");
    } else if (st.st_size > SCHEMA_FILE_MAX) {
        snprintf(why, why_len, "larger than %d bytes", SCHEMA_FILE_MAX);
    } else {
        /* One byte more than the size tells a file that grew meanwhile. */
        size_t want = (size_t)st.st_size + 1, got = 0;
        *text = xmalloc(want);
        for (;;) {
            ssize_t n = read(fd, *text + got, want - got);
            if (n > 0 && (got += (size_t)n) < want)
                continue;
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                snprintf(why, why_len, "%s", strerror(errno));
            else if (got > (size_t)st.st_size)
                snprintf(why, why_len, "changed while being read");
            else
                rc = GW_OK;
            break;
        }
        *len = got;
    }
    close(fd);
    if (rc != GW_OK) {
        free(*text);
        *text = NULL;
    }
    return rc;
}

/* Reads a schema file named relative to the config file's folder (as written when absolute). */
static int read_schema_file(const struct gw_config *c, struct gw_route_schema *s, size_t i,
                            const char *key, char *err, size_t errlen)
{
    if (s->file == NULL || s->schema != NULL)
        return GW_OK;
    const char *slash = strrchr(c->path, '/');
    char *name = s->file[0] == '/' || slash == NULL
                     ? xstrdup(s->file)
                     : xasprintf("%.*s/%s", (int)(slash - c->path), c->path, s->file);
    char why[JSON_ERROR_TEXT_LENGTH + 32] = "";
    char *text = NULL;
    size_t len = 0;
    json_t *schema = NULL;
    int rc = read_small_file(name, &text, &len, why, sizeof(why));
    if (rc == GW_OK) {
        json_error_t jerr;
        schema = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
        if (schema == NULL)
            snprintf(why, sizeof(why), "line %d: %s", jerr.line, jerr.text);
    }
    if (schema == NULL) {
        gw_set_err(err, errlen, "%s:%d: routes[%zu].%s: cannot read the JSON Schema file '%s': %s",
                   c->path, s->line, i, key, name, why);
        rc = GW_ECONFIG;
    } else if (!json_is_object(schema) && !json_is_boolean(schema)) {
        gw_set_err(err, errlen,
                   "%s:%d: routes[%zu].%s: '%s' holds no JSON Schema (an object or a boolean)",
                   c->path, s->line, i, key, name);
        json_decref(schema);
        rc = GW_ECONFIG;
    } else {
        s->schema = schema;
        rc = GW_OK;
    }
    free(text);
    free(name);
    return rc;
}

int gw_config_routes_finish(struct gw_config *c, char *err, size_t errlen)
{
    size_t prefix_len = strlen(c->rpc_prefix);
    for (size_t i = 0; i < c->n_routes; i++) {
        struct gw_route_conf *r = &c->routes[i];
        if (r->timeout == 0)
            r->timeout = c->rpc_timeout;
        int rc = check_protocol(c, r, i, err, errlen);
        if (rc == GW_OK)
            rc = read_schema_file(c, &r->request_schema, i, "request_schema", err, errlen);
        if (rc == GW_OK)
            rc = read_schema_file(c, &r->response_schema, i, "response_schema", err, errlen);
        if (rc != GW_OK)
            return rc;
        if (c->expose.n > 0 && strncmp(r->rule, c->rpc_prefix, prefix_len) == 0 &&
            (r->rule[prefix_len] == '/' || r->rule[prefix_len] == '\0')) {
            gw_set_err(err, errlen,
                       "%s: routes[%zu].rule: '%s' is under GATEWAY.rpc_prefix '%s', which "
                       "the generic RPC route serves while GATEWAY.expose is set",
                       gw_config_where(c, r->rule_line, "routes").text, i, r->rule, c->rpc_prefix);
            return GW_ECONFIG;
        }
    }
    return GW_OK;
}
