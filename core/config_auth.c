/* config_auth.c - GATEWAY.auth and the routes' auth, key by key, and the checks across the file. */
#include "core/config_auth.h"

#include "core/config.h"
#include "core/status.h"
#include "core/strbuf.h"
#include "core/text.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "core/yaml_tree.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Seconds of clock skew allowed around exp and nbf when GATEWAY.auth.jwt.leeway is not given. */
#define DEFAULT_LEEWAY 30
/* The most leeway a config may ask for: beyond an hour, exp would hardly mean anything. */
#define MAX_LEEWAY 3600

/* Indexed by enum gw_auth_mode; the order is also that of the "expected one of" message. */
const char *const gw_auth_mode_names[] = {[GW_AUTH_NONE] = "none",
                                          [GW_AUTH_OPTIONAL] = "optional",
                                          [GW_AUTH_REQUIRED] = "required",
                                          NULL};

/* routes/jwk's algorithms, by name; "none" is not one. */
static const char *const alg_names[] = {"HS256", "HS384", "HS512", "RS256", "RS384", "RS512",
                                        "PS256", "ES256", "ES384", "EdDSA", NULL};

const char *gw_auth_mode_name(enum gw_auth_mode mode)
{
    return (size_t)mode < ARRAY_LEN(gw_auth_mode_names) - 1 ? gw_auth_mode_names[mode] : "?";
}

static bool is_hmac(const char *alg)
{
    return strncmp(alg, "HS", 2) == 0;
}

static int choose_mode(const struct gw_key_err *e, const struct gw_yaml_node *v, const char *path,
                       enum gw_auth_mode *out)
{
    size_t index = 0;
    int rc = gw_key_choose(e, v, path, gw_auth_mode_names, &index);
    if (rc == GW_OK)
        *out = (enum gw_auth_mode)index;
    return rc;
}

static int apply_default(const struct gw_key_err *e, const struct gw_yaml_node *v, const char *path,
                         void *base, const struct gw_key_spec *spec)
{
    (void)spec;
    return choose_mode(e, v, path, &((struct gw_auth_conf *)base)->default_mode);
}

static int apply_websocket(const struct gw_key_err *e, const struct gw_yaml_node *v,
                           const char *path, void *base, const struct gw_key_spec *spec)
{
    (void)spec;
    return choose_mode(e, v, path, &((struct gw_auth_conf *)base)->websocket);
}

int gw_config_apply_route_auth(const struct gw_key_err *e, const struct gw_yaml_node *v,
                               const char *path, void *base, const struct gw_key_spec *spec)
{
    struct gw_route_conf *r = base;
    (void)spec;
    int rc = choose_mode(e, v, path, &r->auth);
    if (rc == GW_OK)
        r->auth_given = true;
    return rc;
}

/* A cookie name is an HTTP token (RFC 6265 section 4.1.1). */
static int apply_cookie(const struct gw_key_err *e, const struct gw_yaml_node *v, const char *path,
                        void *base, const struct gw_key_spec *spec)
{
    char got[GW_YAML_DESCRIBE_LEN];
    if (v->kind != GW_YAML_STRING || !gw_is_token(v->text, strlen(v->text)))
        return gw_key_fail(e, v, path, GW_ECONFIG, "expected a cookie name, got %s",
                           gw_yaml_describe(v, got, sizeof(got)));
    gw_key_replace_string(gw_key_field(base, spec), v->text);
    return GW_OK;
}

static void clear_claims(struct gw_auth_conf *auth)
{
    for (size_t i = 0; i < auth->n_claims; i++) {
        free(auth->claims[i].claim);
        free(auth->claims[i].key);
    }
    free(auth->claims);
    auth->claims = NULL;
    auth->n_claims = 0;
}

static int apply_claims(const struct gw_key_err *e, const struct gw_yaml_node *v, const char *path,
                        void *base, const struct gw_key_spec *spec)
{
    struct gw_auth_conf *auth = base;
    char got[GW_YAML_DESCRIBE_LEN];
    char child[GW_YAML_PATH_LEN];
    (void)spec;
    if (v->kind != GW_YAML_MAP)
        return gw_key_fail(e, v, path, GW_ECONFIG,
                           "expected a mapping of claim name to context key, got %s",
                           gw_yaml_describe(v, got, sizeof(got)));
    clear_claims(auth);
    auth->claims = xcalloc(gw_yaml_map_pairs(v), sizeof(*auth->claims));
    for (size_t i = 0; i < gw_yaml_map_pairs(v); i++) {
        const struct gw_yaml_node *claim = v->items[2 * i];
        const struct gw_yaml_node *key = v->items[2 * i + 1];
        if (gw_yaml_map_shadowed(v, i))
            continue;
        if (claim->kind != GW_YAML_STRING || claim->text[0] == '\0')
            return gw_key_fail(e, claim, path, GW_ECONFIG, "expected a claim name, got %s",
                               gw_yaml_describe(claim, got, sizeof(got)));
        gw_yaml_path_join(child, sizeof(child), path, claim->text);
        if (key->kind != GW_YAML_STRING || key->text[0] == '\0')
            return gw_key_fail(e, key, child, GW_ECONFIG, "expected a context key, got %s",
                               gw_yaml_describe(key, got, sizeof(got)));
        /* enoki writes these itself: the call's id chain, and a socket's identity. */
        if (strcmp(key->text, "call_id_stack") == 0 || strcmp(key->text, "socket_id") == 0 ||
            strcmp(key->text, "gateway") == 0)
            return gw_key_fail(e, key, child, GW_ECONFIG,
                               "context key '%s' is enoki's own; choose another", key->text);
        /* Two claims into one key: which one the service sees would depend on the token. */
        for (size_t j = 0; j < auth->n_claims; j++) {
            if (strcmp(auth->claims[j].key, key->text) == 0)
                return gw_key_fail(e, key, child, GW_ECONFIG,
                                   "context key '%s' is already filled by claim '%s'", key->text,
                                   auth->claims[j].claim);
        }
        auth->claims[auth->n_claims].claim = xstrdup(claim->text);
        auth->claims[auth->n_claims].key = xstrdup(key->text);
        auth->claims[auth->n_claims].line = claim->line;
        auth->n_claims++;
    }
    return GW_OK;
}

static int check_algorithm(const struct gw_key_err *e, const struct gw_yaml_node *item,
                           const char *path)
{
    if (item->kind == GW_YAML_STRING && strcasecmp(item->text, "none") == 0)
        return gw_key_fail(e, item, path, GW_ECONFIG,
                           "'%s' is never accepted: an unsigned token proves nothing", item->text);
    size_t index = 0;
    return gw_key_choose(e, item, path, alg_names, &index);
}

static int apply_algorithms(const struct gw_key_err *e, const struct gw_yaml_node *v,
                            const char *path, void *base, const struct gw_key_spec *spec)
{
    char child[GW_YAML_PATH_LEN];
    char got[GW_YAML_DESCRIBE_LEN];
    if (v->kind == GW_YAML_SEQ && v->n_items == 0)
        return gw_key_fail(e, v, path, GW_ECONFIG, "expected a list of JWS algorithms, got %s",
                           gw_yaml_describe(v, got, sizeof(got)));
    int rc = gw_key_apply_string_list(e, v, path, base, spec);
    if (rc != GW_OK)
        return rc;
    if (v->kind != GW_YAML_SEQ)
        return check_algorithm(e, v, path);
    for (size_t i = 0; i < v->n_items; i++) {
        gw_yaml_path_printf(child, sizeof(child), "%s[%zu]", path, i);
        rc = check_algorithm(e, v->items[i], child);
        if (rc != GW_OK)
            return rc;
    }
    return GW_OK;
}

static const struct gw_key_spec jwt_keys[] = {
    {.name = "algorithms",
     .apply = apply_algorithms,
     .offset = offsetof(struct gw_auth_jwt_conf, algorithms),
     .list_what = "JWS algorithms",
     .item_what = "a JWS algorithm such as 'RS256'"},
    {.name = "jwks_file",
     .apply = gw_key_apply_nonempty_string,
     .offset = offsetof(struct gw_auth_jwt_conf, jwks_file)},
    {.name = "secret",
     .apply = gw_key_apply_secret_string,
     .offset = offsetof(struct gw_auth_jwt_conf, secret)},
    {.name = "issuer",
     .apply = gw_key_apply_nonempty_string,
     .offset = offsetof(struct gw_auth_jwt_conf, issuer)},
    {.name = "audience",
     .apply = gw_key_apply_nonempty_string,
     .offset = offsetof(struct gw_auth_jwt_conf, audience)},
    {.name = "leeway",
     .apply = gw_key_apply_int,
     .offset = offsetof(struct gw_auth_jwt_conf, leeway),
     .min = 0,
     .max = MAX_LEEWAY},
};

static void clear_jwt(struct gw_auth_jwt_conf *jwt)
{
    gw_string_list_clear(&jwt->algorithms);
    free(jwt->jwks_file);
    free(jwt->secret);
    free(jwt->issuer);
    free(jwt->audience);
    *jwt = (struct gw_auth_jwt_conf){.leeway = DEFAULT_LEEWAY};
}

/* The keys a token is verified with must exist for each algorithm: a secret verifies only HS*. */
static int apply_jwt(const struct gw_key_err *e, const struct gw_yaml_node *v, const char *path,
                     void *base, const struct gw_key_spec *spec)
{
    struct gw_auth_jwt_conf *jwt = &((struct gw_auth_conf *)base)->jwt;
    char got[GW_YAML_DESCRIBE_LEN];
    char child[GW_YAML_PATH_LEN];
    (void)spec;
    if (v->kind != GW_YAML_MAP)
        return gw_key_fail(e, v, path, GW_ECONFIG, "expected a mapping, got %s",
                           gw_yaml_describe(v, got, sizeof(got)));
    clear_jwt(jwt);
    jwt->enabled = true;
    int rc = gw_keys_apply_map(e, v, path, jwt_keys, ARRAY_LEN(jwt_keys), jwt, true);
    if (rc != GW_OK)
        return rc;
    if (jwt->algorithms.n == 0) {
        gw_yaml_path_join(child, sizeof(child), path, "algorithms");
        return gw_key_fail(e, v, child, GW_ECONFIG,
                           "required key is missing (a list such as [RS256])");
    }
    if (jwt->jwks_file == NULL && jwt->secret == NULL)
        return gw_key_fail(e, v, path, GW_ECONFIG,
                           "needs jwks_file or secret: no key would verify a token");
    for (size_t i = 0; i < jwt->algorithms.n && jwt->jwks_file == NULL; i++) {
        if (!is_hmac(jwt->algorithms.items[i])) {
            gw_yaml_path_join(child, sizeof(child), path, "algorithms");
            return gw_key_fail(e, v, child, GW_ECONFIG,
                               "%s needs jwks_file (a secret verifies only HS256, HS384, HS512)",
                               jwt->algorithms.items[i]);
        }
    }
    return GW_OK;
}

static const struct gw_key_spec auth_keys[] = {
    {.name = "default", .apply = apply_default},
    {.name = "cookie", .apply = apply_cookie, .offset = offsetof(struct gw_auth_conf, cookie)},
    {.name = "websocket", .apply = apply_websocket},
    {.name = "claims", .apply = apply_claims},
    {.name = "jwt", .apply = apply_jwt},
};

int gw_config_apply_auth(const struct gw_key_err *e, const struct gw_yaml_node *v, const char *path,
                         void *base, const struct gw_key_spec *spec)
{
    struct gw_auth_conf *auth = &((struct gw_config *)base)->auth;
    char got[GW_YAML_DESCRIBE_LEN];
    (void)spec;
    if (v->kind != GW_YAML_MAP)
        return gw_key_fail(e, v, path, GW_ECONFIG, "expected a mapping, got %s",
                           gw_yaml_describe(v, got, sizeof(got)));
    gw_config_auth_clear(auth);
    auth->line = v->line;
    return gw_keys_apply_map(e, v, path, auth_keys, ARRAY_LEN(auth_keys), auth, true);
}

void gw_config_auth_init(struct gw_auth_conf *auth)
{
    *auth = (struct gw_auth_conf){.default_mode = GW_AUTH_NONE, .websocket = GW_AUTH_NONE};
    auth->jwt.leeway = DEFAULT_LEEWAY;
}

void gw_config_auth_clear(struct gw_auth_conf *auth)
{
    free(auth->cookie);
    clear_claims(auth);
    clear_jwt(&auth->jwt);
    gw_config_auth_init(auth);
}

/* Where one policy sits, for its messages: a route, an expose entry or a channel entry. */
struct policy_site {
    const char *key;           /* "routes[2]", "GATEWAY.expose[0]" */
    const char *noun;          /* "a route", "an entry" */
    const char *claim_pattern; /* a channel pattern naming a claim, else NULL */
    int line;
};

/* Settles one policy by the rules in core/config_auth.h; the one place routes, GATEWAY.expose and
 * GATEWAY.channels get their auth from. */
static int settle_policy(const struct gw_config *c, const struct policy_site *at,
                         enum gw_auth_mode *mode, bool given, const struct gw_string_list *scopes,
                         char *err, size_t errlen)
{
    /* Scopes and claims come from a token: an entry that names them asks for one. */
    if (!given)
        *mode =
            scopes->n > 0 || at->claim_pattern != NULL ? GW_AUTH_REQUIRED : c->auth.default_mode;
    if (*mode == GW_AUTH_NONE && scopes->n > 0) {
        gw_set_err(err, errlen,
                   "%s:%d: %s.scopes: %s with auth 'none' reads no token, so no scope could be "
                   "checked",
                   c->path, at->line, at->key, at->noun);
        return GW_ECONFIG;
    }
    if (*mode == GW_AUTH_NONE && at->claim_pattern != NULL) {
        gw_set_err(err, errlen,
                   "%s:%d: %s.pattern: '%s' names a claim, but %s with auth 'none' reads no "
                   "token",
                   c->path, at->line, at->key, at->claim_pattern, at->noun);
        return GW_ECONFIG;
    }
    if (c->auth.jwt.enabled || *mode == GW_AUTH_NONE)
        return GW_OK;
    const char *what = scopes->n > 0                        ? "scopes"
                       : given || at->claim_pattern == NULL ? "auth"
                                                            : "pattern";
    gw_set_err(err, errlen, "%s:%d: %s.%s: needs GATEWAY.auth.jwt (no token could be verified)",
               c->path, at->line, at->key, what);
    return GW_ECONFIG;
}

static int settle_list(const struct gw_config *c, struct gw_policy_list *list, const char *key,
                       bool channels, char *err, size_t errlen)
{
    char site_key[GW_YAML_PATH_LEN];
    for (size_t i = 0; i < list->n; i++) {
        struct gw_policy_entry *entry = &list->items[i];
        gw_yaml_path_printf(site_key, sizeof(site_key), "%s[%zu]", key, i);
        struct policy_site at = {.key = site_key, .noun = "an entry", .line = entry->line};
        if (channels && gw_channel_pattern_names_claim(entry->pattern))
            at.claim_pattern = entry->pattern;
        int rc =
            settle_policy(c, &at, &entry->auth, entry->auth_given, &entry->scopes, err, errlen);
        if (rc != GW_OK)
            return rc;
    }
    return GW_OK;
}

int gw_config_auth_finish(struct gw_config *c, char *err, size_t errlen)
{
    const struct gw_auth_conf *auth = &c->auth;
    char site_key[GW_YAML_PATH_LEN];
    const char *needs = "needs GATEWAY.auth.jwt (no token could be verified)";
    if (!auth->jwt.enabled && auth->default_mode != GW_AUTH_NONE) {
        gw_set_err(err, errlen, "%s:%d: GATEWAY.auth.default: '%s' %s", c->path, auth->line,
                   gw_auth_mode_name(auth->default_mode), needs);
        return GW_ECONFIG;
    }
    if (!auth->jwt.enabled && auth->websocket != GW_AUTH_NONE) {
        gw_set_err(err, errlen, "%s:%d: GATEWAY.auth.websocket: '%s' %s", c->path, auth->line,
                   gw_auth_mode_name(auth->websocket), needs);
        return GW_ECONFIG;
    }
    for (size_t i = 0; i < c->n_routes; i++) {
        struct gw_route_conf *r = &c->routes[i];
        gw_yaml_path_printf(site_key, sizeof(site_key), "routes[%zu]", i);
        struct policy_site at = {.key = site_key, .noun = "a route", .line = r->line};
        int rc = settle_policy(c, &at, &r->auth, r->auth_given, &r->scopes, err, errlen);
        if (rc != GW_OK)
            return rc;
    }
    int rc = settle_list(c, &c->expose, "GATEWAY.expose", false, err, errlen);
    if (rc == GW_OK)
        rc = settle_list(c, &c->channels, "GATEWAY.channels", true, err, errlen);
    if (rc != GW_OK)
        return rc;
    /* The admin endpoints are never open: a token with admin_scope, or the static admin token. */
    if (c->admin_prefix && !auth->jwt.enabled && !c->admin_token) {
        gw_set_err(err, errlen,
                   "%s: GATEWAY.admin_prefix: the admin endpoints need a credential: "
                   "GATEWAY.auth.jwt (a token with scope '%s') or GATEWAY.admin_token",
                   gw_config_where(c, c->admin_prefix_line, "GATEWAY").text, c->admin_scope);
        return GW_ECONFIG;
    }
    /* A client sends context_headers: a key a claim fills must come from the token alone. */
    for (size_t i = 0; i < auth->n_claims; i++) {
        for (size_t j = 0; j < c->n_context_headers; j++) {
            if (strcmp(auth->claims[i].key, c->context_headers[j].key) != 0)
                continue;
            gw_set_err(err, errlen,
                       "%s:%d: GATEWAY.auth.claims.%s: context key '%s' is also filled by "
                       "GATEWAY.context_headers.%s (a client could forge it)",
                       c->path, auth->claims[i].line, auth->claims[i].claim, auth->claims[i].key,
                       c->context_headers[j].header);
            return GW_ECONFIG;
        }
    }
    return GW_OK;
}
