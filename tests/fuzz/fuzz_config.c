/* fuzz_config - libFuzzer harness for the config loader (core/config and the modules it loads
 * with): YAML (core/yaml_parse), nameko's ${VAR:default} substitution, --define, validation
 * (core/config_schema); and the AMQP URI parser (core/amqp_uri).
 *
 * The input is a YAML file, optionally preceded by up to four "--define KEY=VALUE" lines. It is
 * loaded as the gateway loads its file; a loaded config's routes then go into a route table, as the
 * gateway builds it, and the table into its OpenAPI document (routes/openapi). The whole input is
 * also given to gw_config_substitute (core/config_subst) and gw_amqp_uri_parse (core/amqp_uri).
 *
 * Substitution reads the environment, so LLVMFuzzerInitialize replaces it with a fixed one: the
 * same input always reads the same variables (PATH and the sanitizers' own are kept).
 */
#include "fuzz_util.h"

#include "core/config.h"
#include "core/config_subst.h"
#include "core/status.h"
#include "core/util.h"
#include "routes/openapi.h"
#include "routes/rate_limit.h"
#include "routes/table.h"

#include <stdlib.h>
#include <string.h>

#define MAX_DEFINES 4

static const struct {
    const char *name, *value;
} fuzz_env[] = {
    {"ENOKI_FZ_SET", "value"},
    {"ENOKI_FZ_EMPTY", ""},
    {"ENOKI_FZ_NUM", "15"},
    {"ENOKI_FZ_LIST", "[GET, POST]"},
    {"ENOKI_FZ_MAP", "{name: fromenv, rpc_timeout: 3}"},
    {"ENOKI_FZ_REF", "${ENOKI_FZ_UNSET:7}"},
    {"ENOKI_FZ_LOOP", "a${ENOKI_FZ_LOOP}"},
    {"ENOKI_FZ_BAD", "[a"},
    {"ENOKI_FZ_URI", "amqp://env:secret@rabbit:5673/prod"},
    {"ENOKI_FZ_RULE", "/get/<int:value>"},
    {"AMQP_URI", "amqp://guest:guest@localhost:5672/"},
};

/* Variables the fuzzing process itself needs later (llvm-symbolizer is found on PATH). */
static const char *const kept_env[] = {"PATH", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS",
                                       "ASAN_SYMBOLIZER_PATH"};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    enum { N_KEPT = ARRAY_LEN(kept_env) };
    char *kept[N_KEPT];
    for (size_t i = 0; i < N_KEPT; i++) {
        const char *v = getenv(kept_env[i]);
        kept[i] = v ? strdup(v) : NULL;
    }
    clearenv();
    for (size_t i = 0; i < N_KEPT; i++) {
        if (kept[i])
            setenv(kept_env[i], kept[i], 1);
        free(kept[i]);
    }
    for (size_t i = 0; i < ARRAY_LEN(fuzz_env); i++)
        setenv(fuzz_env[i].name, fuzz_env[i].value, 1);
    return 0;
}

static void check_string_list(const struct gw_string_list *list)
{
    for (size_t i = 0; i < list->n; i++)
        FUZZ_ASSERT(list->items[i] != NULL && list->items[i][0] != '\0');
}

/* Entries of GATEWAY.expose or GATEWAY.channels: settled, with a pattern. */
static void check_policy_list(const struct gw_policy_list *list, bool channels)
{
    for (size_t i = 0; i < list->n; i++) {
        const struct gw_policy_entry *entry = &list->items[i];
        FUZZ_ASSERT(entry->pattern != NULL && entry->pattern[0] != '\0');
        FUZZ_ASSERT(entry->auth <= GW_AUTH_REQUIRED);
        FUZZ_ASSERT(entry->auth != GW_AUTH_NONE || entry->scopes.n == 0);
        check_string_list(&entry->scopes);
        if (channels) {
            FUZZ_ASSERT(gw_channel_pattern_check(entry->pattern, NULL, 0));
            FUZZ_ASSERT(entry->auth != GW_AUTH_NONE ||
                        !gw_channel_pattern_names_claim(entry->pattern));
        }
    }
}

/* What the rest of the gateway relies on in a config that loaded. */
static void check_config(const struct gw_config *c)
{
    FUZZ_ASSERT(c->n_amqp_nodes >= 1 && c->n_amqp_nodes <= GW_AMQP_MAX_NODES);
    for (size_t i = 0; i < c->n_amqp_nodes; i++)
        FUZZ_ASSERT(c->amqp_nodes[i].host && c->amqp_nodes[i].user && c->amqp_nodes[i].password &&
                    c->amqp_nodes[i].vhost);
    FUZZ_ASSERT(c->web_host && c->rpc_exchange && c->name);
    FUZZ_ASSERT(c->log_level <= GW_LOG_ERROR && c->log_format <= GW_LOG_JSON);
    FUZZ_ASSERT(c->rpc_prefix && c->rpc_prefix[0] == '/');
    FUZZ_ASSERT(c->websocket_path && c->static_dir && c->health_path && c->ready_path &&
                c->metrics_path);
    FUZZ_ASSERT(c->rpc_timeout > 0);
    check_policy_list(&c->expose, false);
    check_policy_list(&c->channels, true);
    check_string_list(&c->websocket_origins);
    for (size_t i = 0; i < c->n_errors; i++)
        FUZZ_ASSERT(c->errors[i].exc_type && c->errors[i].status >= 100 &&
                    c->errors[i].status <= 599);
    for (size_t i = 0; i < c->n_context_headers; i++)
        FUZZ_ASSERT(c->context_headers[i].header && c->context_headers[i].key);
    for (size_t i = 0; i < c->n_routes; i++) {
        const struct gw_route_conf *r = &c->routes[i];
        FUZZ_ASSERT(r->rule && r->methods && r->service && r->method);
        FUZZ_ASSERT(r->mode == GW_MODE_JSON || r->mode == GW_MODE_HTTP);
        FUZZ_ASSERT(r->timeout > 0);
        check_string_list(&r->expected_exceptions);
        check_string_list(&r->tags);
        const json_t *schemas[] = {r->request_schema.schema, r->response_schema.schema};
        for (size_t k = 0; k < ARRAY_LEN(schemas); k++)
            FUZZ_ASSERT(!schemas[k] || json_is_object(schemas[k]) || json_is_boolean(schemas[k]));
    }

    /* The gateway's next step: the routes become a table. */
    struct gw_route_table *table = gw_route_table_new();
    char err[256];
    for (size_t i = 0; i < c->n_routes; i++)
        gw_route_table_add(table, c->routes[i].rule, c->routes[i].methods, &c->routes[i], err,
                           sizeof(err));
    FUZZ_ASSERT(gw_route_table_compile(table) == GW_OK);
    /* And, when asked for, the table's OpenAPI document, serialized as gateway/generation does. */
    json_t *doc = NULL;
    FUZZ_ASSERT(gw_openapi_build(c, table, &doc) == GW_OK && json_is_object(doc));
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    FUZZ_ASSERT(text != NULL);
    free(text);
    json_decref(doc);
    gw_route_table_free(table);
    /* And its rate limits, compiled as gateway/generation does: each settled, each route's. */
    struct gw_rate_limits *limits = gw_rate_limits_compile(c);
    FUZZ_ASSERT((limits == NULL) == (c->rate_limits.n == 0));
    for (size_t i = 0; i < c->rate_limits.n; i++) {
        FUZZ_ASSERT(c->rate_limits.items[i].burst >= 1 && c->rate_limits.items[i].count >= 1);
        FUZZ_ASSERT(limits->items[i].window_s >= 1);
    }
    gw_rate_limits_free(limits);

    struct gw_amqp_uri uri;
    if (c->amqp_uri_text) {
        FUZZ_ASSERT(gw_amqp_uri_parse(c->amqp_uri_text, &uri, err, sizeof(err)) == GW_OK);
        gw_amqp_uri_clear(&uri);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_slice rest = {(const char *)data, size}, line;
    struct gw_define defines[MAX_DEFINES];
    char *define_text[MAX_DEFINES];
    size_t n_defines = 0;
    char err[512];

    /* Leading "--define KEY=VALUE" lines, as the command line gives them. */
    while (n_defines < MAX_DEFINES && rest.n >= 9 && memcmp(rest.p, "--define ", 9) == 0) {
        fuzz_next_line(&rest, &line);
        char *text = fuzz_cstr(line.p + 9, line.n - 9);
        char *eq = strchr(text, '=');
        if (!eq) {
            free(text);
            continue;
        }
        *eq = '\0';
        defines[n_defines].key = text;
        defines[n_defines].value = eq + 1;
        define_text[n_defines++] = text;
    }

    char *yaml = fuzz_copy(rest.p, rest.n);
    struct gw_config *config = (struct gw_config *)1;
    int rc = gw_config_load_string("fuzz.yaml", yaml, rest.n, defines, n_defines, &config, err,
                                   sizeof(err));
    free(yaml);
    if (rc == GW_OK) {
        FUZZ_ASSERT(config != NULL);
        check_config(config);
        gw_config_free(config);
    } else {
        FUZZ_ASSERT(rc < 0 && config == NULL);
        FUZZ_ASSERT(memchr(err, '\0', sizeof(err)) != NULL);
    }
    for (size_t i = 0; i < n_defines; i++)
        free(define_text[i]);

    /* The whole input as one scalar's text, and as an AMQP URI. */
    char *text = fuzz_cstr((const char *)data, size);
    char *out = (char *)1;
    rc = gw_config_substitute(text, &out, err, sizeof(err));
    if (rc == GW_OK)
        FUZZ_ASSERT(out != NULL);
    else
        FUZZ_ASSERT(rc == GW_ESUBST && out == NULL);
    free(out);

    struct gw_amqp_uri uri;
    rc = gw_amqp_uri_parse(text, &uri, err, sizeof(err));
    if (rc == GW_OK) {
        FUZZ_ASSERT(uri.host && uri.user && uri.password && uri.vhost);
        FUZZ_ASSERT(uri.port > 0 && uri.port <= 65535);
    } else {
        FUZZ_ASSERT(rc == GW_EURI);
    }
    gw_amqp_uri_clear(&uri);
    free(text);
    return 0;
}
