/* Unit tests for core/config and the key tables it loads with (core/config_schema, config_keys,
 * config_routes): defaults, every key, ${VAR:default} substitution in a file as nameko does it,
 * --define, routes, and the exact text of every validation error. gw_config_substitute alone is in
 * test_config_subst.c, AMQP URIs in test_amqp_uri.c. */
#include "core/config.h"
#include "core/status.h"
#include "core/util.h"

#include "tests/unit/suites.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------------------------------------------
 * Environment for the substitution cases. ENOKI_T_UNSET is never set.
 */

static const struct {
    const char *name, *value;
} test_env[] = {
    {"ENOKI_T_SET", "value"},
    {"ENOKI_T_EMPTY", ""},
    {"ENOKI_T_NUM", "15"},
    {"ENOKI_T_LIST", "[GET, POST]"},
    {"ENOKI_T_MAP", "{name: fromenv, rpc_timeout: 3}"},
    {"ENOKI_T_BADMAP", "{name: a b}"},
    {"ENOKI_T_REF", "${ENOKI_T_UNSET:7}"},
    {"ENOKI_T_LOOP", "a${ENOKI_T_LOOP}"},
    {"ENOKI_T_BAD", "[a"},
    {"ENOKI_T_URI", "amqp://env:secret@rabbit:5673/prod"},
    {"ENOKI_T_ALIAS", "*Sup3rS3cret"},
    {"ENOKI_T_TAG", "!Hunter2"},
};

static void env_setup(void)
{
    for (size_t i = 0; i < ARRAY_LEN(test_env); i++)
        setenv(test_env[i].name, test_env[i].value, 1);
    unsetenv("ENOKI_T_UNSET");
}

static void env_teardown(void)
{
    for (size_t i = 0; i < ARRAY_LEN(test_env); i++)
        unsetenv(test_env[i].name);
}

static int load(const char *yaml, const struct gw_define *defines, size_t n_defines,
                struct gw_config **out, char *err, size_t errlen)
{
    return gw_config_load_string("t.yaml", yaml, strlen(yaml), defines, n_defines, out, err,
                                 errlen);
}

/* ---------------------------------------------------------------------------------------------
 * Defaults
 */

static void assert_defaults(const struct gw_config *c)
{
    ck_assert_str_eq(c->path, "t.yaml");
    ck_assert_str_eq(c->amqp_uri_text, "pyamqp://guest:guest@localhost");
    ck_assert_str_eq(c->amqp_nodes[0].host, "localhost");
    ck_assert_int_eq(c->amqp_nodes[0].port, 5672);
    ck_assert_str_eq(c->amqp_nodes[0].user, "guest");
    ck_assert_str_eq(c->amqp_nodes[0].password, "guest");
    ck_assert_str_eq(c->amqp_nodes[0].vhost, "/");
    ck_assert_str_eq(c->web_host, "0.0.0.0");
    ck_assert_int_eq(c->web_port, 8000);
    ck_assert_str_eq(c->rpc_exchange, "nameko-rpc");
    ck_assert_int_eq(c->heartbeat, 60);
    ck_assert_str_eq(c->name, "enoki");
    ck_assert_double_eq(c->rpc_timeout, 30);
    ck_assert_int_eq(c->log_level, GW_LOG_INFO);
    ck_assert_int_eq(c->log_format, GW_LOG_TEXT);
    ck_assert_uint_eq(c->n_errors, 0);
    ck_assert_uint_eq(c->n_context_headers, 0);
    ck_assert_uint_eq(c->n_routes, 0);
}

/* Files that leave every enoki key at its default: nameko's own keys are ignored, and null means
 * "not given". */
static const char *const default_files[] = {
    "{}",
    "SERIALIZER: json\nmax_workers: 10\nLOGGING: {version: 1}\n",
    "AMQP_URI:\nWEB_SERVER_ADDRESS: ~\nrpc_exchange: null\nHEARTBEAT:\nGATEWAY:\nroutes:\n",
    "GATEWAY: {}\nroutes: []\n",
    "GATEWAY: {name: ~, rpc_timeout: ~, errors: ~, context_headers: ~, log_level: ~}\n",
    "AMQP_URI: ${ENOKI_T_UNSET}\nHEARTBEAT: ${ENOKI_T_EMPTY}\nrpc_exchange: ${ENOKI_T_UNSET:}\n",
};

START_TEST(defaults_when_not_given)
{
    struct gw_config *c = NULL;
    char err[256] = "";
    int rc = load(default_files[_i], NULL, 0, &c, err, sizeof(err));
    ck_assert_msg(rc == GW_OK, "case %d: %s", _i, err);
    assert_defaults(c);
    gw_config_free(c);
}
END_TEST

START_TEST(free_accepts_null)
{
    gw_config_free(NULL);
    gw_amqp_uri_clear(NULL);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Every key, in one file
 */

static const char full_file[] =
    "# enoki and a nameko service share this file\n"
    "AMQP_URI: amqp://user:pw@rabbit:5673/vh\n"
    "WEB_SERVER_ADDRESS: 127.0.0.1:8080\n"
    "rpc_exchange: my-rpc\n"
    "HEARTBEAT: 0\n"
    "max_workers: 4\n"
    "GATEWAY:\n"
    "  name: gw-1.a_b\n"
    "  rpc_timeout: 2.5\n"
    "  log_level: debug\n"
    "  errors:\n"
    "    ValueError: 400\n"
    "    NotFound: 404\n"
    "  context_headers:\n"
    "    X-User-Id: user_id\n"
    "    Accept-Language: language\n"
    "routes:\n"
    "  - rule: /get/<int:value>\n"
    "    rpc: svc.get\n"
    "\n"
    "  - rule: /post\n"
    "    methods: [POST, PUT]\n"
    "    rpc: svc.post\n"
    "    timeout: 10\n"
    "    mode: http\n"
    "  - {rule: /x, methods: 'GET,DELETE', rpc: other.x, timeout: 0.25}\n"
    "AMQP_SSL: false\n"
    "LOGIN_METHOD: PLAIN\n";

START_TEST(every_key)
{
    struct gw_config *c = NULL;
    char err[256] = "";
    int rc = load(full_file, NULL, 0, &c, err, sizeof(err));
    ck_assert_msg(rc == GW_OK, "%s", err);
    ck_assert_str_eq(c->amqp_uri_text, "amqp://user:pw@rabbit:5673/vh");
    ck_assert_str_eq(c->amqp_nodes[0].host, "rabbit");
    ck_assert_int_eq(c->amqp_nodes[0].port, 5673);
    ck_assert_str_eq(c->amqp_nodes[0].user, "user");
    ck_assert_str_eq(c->amqp_nodes[0].password, "pw");
    ck_assert_str_eq(c->amqp_nodes[0].vhost, "vh");
    ck_assert_str_eq(c->web_host, "127.0.0.1");
    ck_assert_int_eq(c->web_port, 8080);
    ck_assert_str_eq(c->rpc_exchange, "my-rpc");
    ck_assert_int_eq(c->heartbeat, 0);
    ck_assert_str_eq(c->name, "gw-1.a_b");
    ck_assert_double_eq(c->rpc_timeout, 2.5);
    ck_assert_int_eq(c->log_level, GW_LOG_DEBUG);

    ck_assert_uint_eq(c->n_errors, 2);
    ck_assert_str_eq(c->errors[0].exc_type, "ValueError");
    ck_assert_int_eq(c->errors[0].status, 400);
    ck_assert_str_eq(c->errors[1].exc_type, "NotFound");
    ck_assert_int_eq(c->errors[1].status, 404);

    ck_assert_uint_eq(c->n_context_headers, 2);
    ck_assert_str_eq(c->context_headers[0].header, "X-User-Id");
    ck_assert_str_eq(c->context_headers[0].key, "user_id");
    ck_assert_str_eq(c->context_headers[1].header, "Accept-Language");
    ck_assert_str_eq(c->context_headers[1].key, "language");

    ck_assert_uint_eq(c->n_routes, 3);
    const struct gw_route_conf *r = c->routes;
    ck_assert_str_eq(r[0].rule, "/get/<int:value>");
    ck_assert_str_eq(r[0].methods, "GET");
    ck_assert_str_eq(r[0].service, "svc");
    ck_assert_str_eq(r[0].method, "get");
    ck_assert_double_eq(r[0].timeout, 2.5);
    ck_assert_int_eq(r[0].mode, GW_MODE_JSON);
    ck_assert_int_eq(r[0].line, 18);
    ck_assert_str_eq(r[1].rule, "/post");
    ck_assert_str_eq(r[1].methods, "POST,PUT");
    ck_assert_str_eq(r[1].service, "svc");
    ck_assert_str_eq(r[1].method, "post");
    ck_assert_double_eq(r[1].timeout, 10);
    ck_assert_int_eq(r[1].mode, GW_MODE_HTTP);
    ck_assert_int_eq(r[1].line, 21);
    ck_assert_str_eq(r[2].rule, "/x");
    ck_assert_str_eq(r[2].methods, "GET,DELETE");
    ck_assert_str_eq(r[2].service, "other");
    ck_assert_str_eq(r[2].method, "x");
    ck_assert_double_eq(r[2].timeout, 0.25);
    ck_assert_int_eq(r[2].line, 26);
    gw_config_free(c);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * One value per case: a file, the field to look at, and what it must hold.
 */

enum field {
    F_AMQP_TEXT,
    F_AMQP_HOST,
    F_AMQP_PORT,
    F_AMQP_USER,
    F_AMQP_PASSWORD,
    F_AMQP_VHOST,
    F_WEB_HOST,
    F_WEB_PORT,
    F_RPC_EXCHANGE,
    F_HEARTBEAT,
    F_NAME,
    F_RPC_TIMEOUT,
    F_LOG_LEVEL,
    F_LOG_FORMAT,
    F_N_ERRORS,
    F_ERROR0_STATUS,
    F_N_HEADERS,
    F_HEADER0_KEY,
    F_N_ROUTES,
    F_ROUTE0_RULE,
    F_ROUTE0_METHODS,
    F_ROUTE0_SERVICE,
    F_ROUTE0_METHOD,
    F_ROUTE0_TIMEOUT,
    F_ROUTE0_MODE,
    F_ROUTE0_LINE,
};

struct value_case {
    const char *yaml;
    enum field field;
    const char *str; /* for string fields */
    double num;      /* for number fields */
};

/* The config's names of the log levels and formats, by enum value (core/log.h). */
static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};
static const char *const format_names[] = {"text", "json"};

static const char *field_str(const struct gw_config *c, enum field f)
{
    switch (f) {
    case F_AMQP_TEXT:
        return c->amqp_uri_text;
    case F_AMQP_HOST:
        return c->amqp_nodes[0].host;
    case F_AMQP_USER:
        return c->amqp_nodes[0].user;
    case F_AMQP_PASSWORD:
        return c->amqp_nodes[0].password;
    case F_AMQP_VHOST:
        return c->amqp_nodes[0].vhost;
    case F_WEB_HOST:
        return c->web_host;
    case F_RPC_EXCHANGE:
        return c->rpc_exchange;
    case F_NAME:
        return c->name;
    case F_LOG_LEVEL:
        return level_names[c->log_level];
    case F_LOG_FORMAT:
        return format_names[c->log_format];
    case F_HEADER0_KEY:
        return c->n_context_headers > 0 ? c->context_headers[0].key : "(none)";
    case F_ROUTE0_RULE:
        return c->n_routes > 0 ? c->routes[0].rule : "(none)";
    case F_ROUTE0_METHODS:
        return c->n_routes > 0 ? c->routes[0].methods : "(none)";
    case F_ROUTE0_SERVICE:
        return c->n_routes > 0 ? c->routes[0].service : "(none)";
    case F_ROUTE0_METHOD:
        return c->n_routes > 0 ? c->routes[0].method : "(none)";
    case F_ROUTE0_MODE:
        return c->n_routes > 0 ? gw_route_mode_name(c->routes[0].mode) : "(none)";
    default:
        return NULL;
    }
}

static double field_num(const struct gw_config *c, enum field f)
{
    switch (f) {
    case F_AMQP_PORT:
        return c->amqp_nodes[0].port;
    case F_WEB_PORT:
        return c->web_port;
    case F_HEARTBEAT:
        return c->heartbeat;
    case F_RPC_TIMEOUT:
        return c->rpc_timeout;
    case F_N_ERRORS:
        return (double)c->n_errors;
    case F_ERROR0_STATUS:
        return c->n_errors > 0 ? c->errors[0].status : -1;
    case F_N_HEADERS:
        return (double)c->n_context_headers;
    case F_N_ROUTES:
        return (double)c->n_routes;
    case F_ROUTE0_TIMEOUT:
        return c->n_routes > 0 ? c->routes[0].timeout : -1;
    case F_ROUTE0_LINE:
        return c->n_routes > 0 ? c->routes[0].line : -1;
    default:
        return NAN;
    }
}

static void check_value_case(const struct value_case *vc, int i)
{
    struct gw_config *c = NULL;
    char err[256] = "";
    int rc = load(vc->yaml, NULL, 0, &c, err, sizeof(err));
    ck_assert_msg(rc == GW_OK, "case %d (%s): %s", i, vc->yaml, err);
    const char *s = field_str(c, vc->field);
    if (s != NULL)
        ck_assert_msg(strcmp(s, vc->str) == 0, "case %d (%s): got '%s', want '%s'", i, vc->yaml, s,
                      vc->str);
    else
        ck_assert_msg(field_num(c, vc->field) == vc->num, "case %d (%s): got %g, want %g", i,
                      vc->yaml, field_num(c, vc->field), vc->num);
    gw_config_free(c);
}

/* Each key's accepted forms, and YAML 1.1 typing as PyYAML does it. */
static const struct value_case key_cases[] = {
    {"AMQP_URI: amqp://a:b@h/v", F_AMQP_TEXT, "amqp://a:b@h/v", 0},
    {"AMQP_URI: amqp://a:b@h/v", F_AMQP_VHOST, "v", 0},
    {"AMQP_URI: 'pyamqp://h:1234'", F_AMQP_PORT, NULL, 1234},
    {"WEB_SERVER_ADDRESS: 8001", F_WEB_PORT, NULL, 8001},
    {"WEB_SERVER_ADDRESS: 8001", F_WEB_HOST, "0.0.0.0", 0},
    {"WEB_SERVER_ADDRESS: '8002'", F_WEB_PORT, NULL, 8002},
    {"WEB_SERVER_ADDRESS: localhost:9000", F_WEB_HOST, "localhost", 0},
    {"WEB_SERVER_ADDRESS: localhost:9000", F_WEB_PORT, NULL, 9000},
    {"WEB_SERVER_ADDRESS: 0.0.0.0:0", F_WEB_PORT, NULL, 0},
    {"WEB_SERVER_ADDRESS: h:65535", F_WEB_PORT, NULL, 65535},
    {"rpc_exchange: other", F_RPC_EXCHANGE, "other", 0},
    {"HEARTBEAT: 0", F_HEARTBEAT, NULL, 0},
    {"HEARTBEAT: 65535", F_HEARTBEAT, NULL, 65535},
    {"HEARTBEAT: 0x10", F_HEARTBEAT, NULL, 16},
    {"HEARTBEAT: 010", F_HEARTBEAT, NULL, 8},
    {"HEARTBEAT: 0b11", F_HEARTBEAT, NULL, 3},
    {"HEARTBEAT: 1_000", F_HEARTBEAT, NULL, 1000},
    {"HEARTBEAT: 1:30", F_HEARTBEAT, NULL, 90},
    {"HEARTBEAT: +5", F_HEARTBEAT, NULL, 5},
    {"HEARTBEAT: !!int '12'", F_HEARTBEAT, NULL, 12},
    {"HEARTBEAT: 5\nHEARTBEAT: 6", F_HEARTBEAT, NULL, 6},
    {"HEARTBEAT: abc\nHEARTBEAT: 6", F_HEARTBEAT, NULL, 6},
    {"x: &t 5\nHEARTBEAT: *t", F_HEARTBEAT, NULL, 5},
    {"GATEWAY: {name: a}", F_NAME, "a", 0},
    {"GATEWAY: {rpc_timeout: 5}", F_RPC_TIMEOUT, NULL, 5},
    {"GATEWAY: {rpc_timeout: 0.5}", F_RPC_TIMEOUT, NULL, 0.5},
    {"GATEWAY: {rpc_timeout: .5}", F_RPC_TIMEOUT, NULL, 0.5},
    {"GATEWAY: {rpc_timeout: 1.5e+1}", F_RPC_TIMEOUT, NULL, 15},
    {"GATEWAY: {rpc_timeout: 1:30.5}", F_RPC_TIMEOUT, NULL, 90.5},
    {"GATEWAY: {rpc_timeout: !!float 2}", F_RPC_TIMEOUT, NULL, 2},
    {"GATEWAY: {log_level: warn}", F_LOG_LEVEL, "warn", 0},
    {"GATEWAY: {log_level: error}", F_LOG_LEVEL, "error", 0},
    {"GATEWAY: {log_level: debug}", F_LOG_LEVEL, "debug", 0},
    {"GATEWAY: {log_level: info}", F_LOG_LEVEL, "info", 0},
    {"GATEWAY: {log_format: json}", F_LOG_FORMAT, "json", 0},
    {"GATEWAY: {log_format: text}", F_LOG_FORMAT, "text", 0},
    {"GATEWAY: {log_format: ~}", F_LOG_FORMAT, "text", 0},
    {"GATEWAY: {errors: {ValueError: 599}}", F_ERROR0_STATUS, NULL, 599},
    {"GATEWAY: {errors: {ValueError: 200}}", F_ERROR0_STATUS, NULL, 200},
    {"GATEWAY: {errors: {A: 400, A: 401}}", F_ERROR0_STATUS, NULL, 401},
    {"GATEWAY: {errors: {A: 400, A: 401}}", F_N_ERRORS, NULL, 1},
    {"GATEWAY: {errors: {}}", F_N_ERRORS, NULL, 0},
    {"GATEWAY: {context_headers: {\"X-A!#$%&'*+.^_`|~1\": k}}", F_HEADER0_KEY, "k", 0},
    {"GATEWAY: {context_headers: {X-A: k, X-B: j}}", F_N_HEADERS, NULL, 2},
    {"routes: [{rule: /, rpc: a.b, methods: POST}]", F_ROUTE0_METHODS, "POST", 0},
    {"routes: [{rule: /, rpc: a.b, methods: 'GET, POST'}]", F_ROUTE0_METHODS, "GET, POST", 0},
    {"routes: [{rule: /, rpc: a.b, methods: [GET]}]", F_ROUTE0_METHODS, "GET", 0},
    {"routes: [{rule: /, rpc: a.b, methods: [GET, POST, PUT]}]", F_ROUTE0_METHODS, "GET,POST,PUT",
     0},
    {"routes: [{rule: /, rpc: my_svc.do_it}]", F_ROUTE0_SERVICE, "my_svc", 0},
    {"routes: [{rule: /, rpc: my_svc.do_it}]", F_ROUTE0_METHOD, "do_it", 0},
    {"routes: [{rule: /, rpc: a.b, mode: json}]", F_ROUTE0_MODE, "json", 0},
    {"routes: [{rule: /, rpc: a.b, mode: http}]", F_ROUTE0_MODE, "http", 0},
    {"routes: [{rule: /, rpc: a.b, mode: ~, methods: ~, timeout: ~}]", F_ROUTE0_MODE, "json", 0},
    {"routes: [{rule: /, rpc: a.b, timeout: 3}]", F_ROUTE0_TIMEOUT, NULL, 3},
    {"routes: [{rule: /a, rule: /b, rpc: a.b}]", F_ROUTE0_RULE, "/b", 0},
    {"routes:\n- &r {rule: /a, rpc: a.b}\n- *r", F_N_ROUTES, NULL, 2},
};

START_TEST(key_values)
{
    check_value_case(&key_cases[_i], _i);
}
END_TEST

/* Timeouts: a route without one takes GATEWAY.rpc_timeout, wherever GATEWAY sits in the file. */
static const struct value_case timeout_cases[] = {
    {"routes: [{rule: /, rpc: a.b}]", F_ROUTE0_TIMEOUT, NULL, 30},
    {"GATEWAY: {rpc_timeout: 4}\nroutes: [{rule: /, rpc: a.b}]", F_ROUTE0_TIMEOUT, NULL, 4},
    {"routes: [{rule: /, rpc: a.b}]\nGATEWAY: {rpc_timeout: 4}", F_ROUTE0_TIMEOUT, NULL, 4},
    {"routes: [{rule: /, rpc: a.b, timeout: 9}]\nGATEWAY: {rpc_timeout: 4}", F_ROUTE0_TIMEOUT, NULL,
     9},
    {"GATEWAY: {rpc_timeout: 4}\nroutes: [{rule: /, rpc: a.b, timeout: 0.1}]", F_ROUTE0_TIMEOUT,
     NULL, 0.1},
};

START_TEST(route_timeout_inheritance)
{
    check_value_case(&timeout_cases[_i], _i);
}
END_TEST

/* The line of each route's mapping, in block and flow style, after comments and blank lines. */
START_TEST(route_lines)
{
    static const char yaml[] = "routes:\n"        /* 1 */
                               "  # first\n"      /* 2 */
                               "  - rule: /a\n"   /* 3 */
                               "    rpc: a.b\n"   /* 4 */
                               "\n"               /* 5 */
                               "  -\n"            /* 6: the item, its mapping below */
                               "    rule: /b\n"   /* 7 */
                               "    rpc: a.c\n"   /* 8 */
                               "  - {rule: /c,\n" /* 9 */
                               "     rpc: a.d}\n" /* 10 */
                               "  - rpc: a.e\n"   /* 11 */
                               "    rule: /e\n";  /* 12: the rule's own line */
    struct gw_config *c = NULL;
    char err[256] = "";
    int rc = load(yaml, NULL, 0, &c, err, sizeof(err));
    ck_assert_msg(rc == GW_OK, "%s", err);
    ck_assert_uint_eq(c->n_routes, 4);
    ck_assert_int_eq(c->routes[0].line, 3);
    ck_assert_int_eq(c->routes[1].line, 7);
    ck_assert_int_eq(c->routes[2].line, 9);
    ck_assert_int_eq(c->routes[3].line, 11);
    ck_assert_int_eq(c->routes[0].rule_line, 3);
    ck_assert_int_eq(c->routes[1].rule_line, 7);
    ck_assert_int_eq(c->routes[2].rule_line, 9);
    ck_assert_int_eq(c->routes[3].rule_line, 12);
    ck_assert_str_eq(c->routes[2].method, "d");
    gw_config_free(c);
}
END_TEST

/* Substitution in the loader: plain scalars only, re-parsed as YAML; tags on quoted ones. */
static const struct value_case subst_load_cases[] = {
    {"HEARTBEAT: ${ENOKI_T_NUM}", F_HEARTBEAT, NULL, 15},
    {"HEARTBEAT: ${ENOKI_T_UNSET:42}", F_HEARTBEAT, NULL, 42},
    {"HEARTBEAT: ${ENOKI_T_UNSET:0x1f}", F_HEARTBEAT, NULL, 31},
    /* Unset or empty gives null, and null keeps the default. */
    {"HEARTBEAT: ${ENOKI_T_EMPTY}", F_HEARTBEAT, NULL, 60},
    {"HEARTBEAT: ${ENOKI_T_EMPTY:5}", F_HEARTBEAT, NULL, 60},
    {"HEARTBEAT: ${ENOKI_T_UNSET}", F_HEARTBEAT, NULL, 60},
    {"HEARTBEAT: ${ENOKI_T_UNSET:~}", F_HEARTBEAT, NULL, 60},
    /* A variable's value that holds a reference is expanded by the re-parse. */
    {"HEARTBEAT: ${ENOKI_T_REF}", F_HEARTBEAT, NULL, 7},
    {"HEARTBEAT: !env_var \"${ENOKI_T_UNSET:42}\"", F_HEARTBEAT, NULL, 42},
    {"HEARTBEAT: !env_var '${ENOKI_T_NUM}'", F_HEARTBEAT, NULL, 15},
    {"rpc_exchange: ${ENOKI_T_SET}", F_RPC_EXCHANGE, "value", 0},
    {"rpc_exchange: ${ENOKI_T_UNSET:a:b}", F_RPC_EXCHANGE, "a:b", 0},
    {"rpc_exchange: pre-${ENOKI_T_UNSET:x}-post", F_RPC_EXCHANGE, "pre-x-post", 0},
    {"rpc_exchange: ${ENOKI_T_SET}-${ENOKI_T_NUM}", F_RPC_EXCHANGE, "value-15", 0},
    {"rpc_exchange: ${ENOKI_T_UNSET:'quoted'}", F_RPC_EXCHANGE, "quoted", 0},
    /* Quoted scalars are literal. */
    {"rpc_exchange: \"${ENOKI_T_SET}\"", F_RPC_EXCHANGE, "${ENOKI_T_SET}", 0},
    {"rpc_exchange: '${ENOKI_T_SET}'", F_RPC_EXCHANGE, "${ENOKI_T_SET}", 0},
    {"rpc_exchange: |\n  ${ENOKI_T_SET}\n", F_RPC_EXCHANGE, "${ENOKI_T_SET}\n", 0},
    {"rpc_exchange: !!str ${ENOKI_T_SET}", F_RPC_EXCHANGE, "${ENOKI_T_SET}", 0},
    /* !raw_env_var keeps a string; !env_var with nothing replaced keeps the text as a string. */
    {"rpc_exchange: !raw_env_var \"${ENOKI_T_UNSET:true}\"", F_RPC_EXCHANGE, "true", 0},
    {"rpc_exchange: !raw_env_var ${ENOKI_T_UNSET:42}", F_RPC_EXCHANGE, "42", 0},
    {"rpc_exchange: !raw_env_var \"${ENOKI_T_UNSET:[a]}\"", F_RPC_EXCHANGE, "[a]", 0},
    {"rpc_exchange: !env_var \"42\"", F_RPC_EXCHANGE, "42", 0},
    {"rpc_exchange: !env_var \"${ENOKI_T_SET}\"", F_RPC_EXCHANGE, "value", 0},
    /* Not a reference by nameko's regex: the scalar is kept as written. */
    {"rpc_exchange: ${ x}", F_RPC_EXCHANGE, "${ x}", 0},
    /* Re-parsed into a list and a mapping. */
    {"routes:\n  - rule: /\n    rpc: a.b\n    methods: ${ENOKI_T_LIST}", F_ROUTE0_METHODS,
     "GET,POST", 0},
    {"routes:\n  - rule: /\n    rpc: a.b\n    methods: ${ENOKI_T_UNSET:[PUT, PATCH]}",
     F_ROUTE0_METHODS, "PUT,PATCH", 0},
    {"GATEWAY: ${ENOKI_T_MAP}", F_NAME, "fromenv", 0},
    {"GATEWAY: ${ENOKI_T_MAP}", F_RPC_TIMEOUT, NULL, 3},
    {"GATEWAY:\n  rpc_timeout: ${ENOKI_T_UNSET:2.5}", F_RPC_TIMEOUT, NULL, 2.5},
    {"AMQP_URI: ${ENOKI_T_URI}", F_AMQP_HOST, "rabbit", 0},
    {"AMQP_URI: ${ENOKI_T_URI}", F_AMQP_PASSWORD, "secret", 0},
    {"AMQP_URI: ${ENOKI_T_UNSET:amqp://u:p@h:1/v}", F_AMQP_PORT, NULL, 1},
    {"AMQP_URI: ${ENOKI_T_UNSET:amqp://u:p@h:1/v}", F_AMQP_USER, "u", 0},
    {"WEB_SERVER_ADDRESS: ${ENOKI_T_UNSET:127.0.0.1:81}", F_WEB_PORT, NULL, 81},
    {"WEB_SERVER_ADDRESS: ${ENOKI_T_NUM}", F_WEB_PORT, NULL, 15},
    {"routes:\n  - rule: /${ENOKI_T_SET}\n    rpc: ${ENOKI_T_UNSET:svc.m}", F_ROUTE0_SERVICE, "svc",
     0},
    {"routes:\n  - rule: /${ENOKI_T_SET}\n    rpc: ${ENOKI_T_UNSET:svc.m}", F_ROUTE0_RULE, "/value",
     0},
    /* An anchored reference is resolved once and shared. */
    {"x: &n ${ENOKI_T_NUM}\nHEARTBEAT: *n", F_HEARTBEAT, NULL, 15},
};

START_TEST(substitute_in_file)
{
    check_value_case(&subst_load_cases[_i], _i);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * --define
 */

struct define_case {
    const char *yaml;
    const char *key, *value;
    enum field field;
    const char *str;
    double num;
};

static const struct define_case define_cases[] = {
    {"{}", "HEARTBEAT", "5", F_HEARTBEAT, NULL, 5},
    {"HEARTBEAT: 10", "HEARTBEAT", "5", F_HEARTBEAT, NULL, 5},
    /* The define replaces the file's value before validation: a bad file value is never seen. */
    {"HEARTBEAT: abc\nHEARTBEAT: def", "HEARTBEAT", "0x10", F_HEARTBEAT, NULL, 16},
    {"{}", "AMQP_URI", "amqp://d:e@f/g", F_AMQP_USER, "d", 0},
    {"{}", "AMQP_URI", "amqp://d:e@f/g", F_AMQP_TEXT, "amqp://d:e@f/g", 0},
    {"{}", "WEB_SERVER_ADDRESS", "9001", F_WEB_PORT, NULL, 9001},
    {"{}", "rpc_exchange", "'x'", F_RPC_EXCHANGE, "x", 0},
    {"{}", "GATEWAY", "{name: defined, rpc_timeout: 1}", F_NAME, "defined", 0},
    /* Defining GATEWAY replaces the whole mapping. */
    {"GATEWAY: {name: file, rpc_timeout: 7}", "GATEWAY", "{name: defined}", F_RPC_TIMEOUT, NULL,
     30},
    {"GATEWAY: {rpc_timeout: 7}\nroutes: [{rule: /a, rpc: a.b}]", "routes",
     "[{rule: /d, rpc: d.e}]", F_ROUTE0_RULE, "/d", 0},
    {"GATEWAY: {rpc_timeout: 7}\nroutes: [{rule: /a, rpc: a.b}]", "routes",
     "[{rule: /d, rpc: d.e}]", F_ROUTE0_TIMEOUT, NULL, 7},
    {"routes: [{rule: /a, rpc: a.b}]", "GATEWAY", "{rpc_timeout: 2}", F_ROUTE0_TIMEOUT, NULL, 2},
    {"routes: [{rule: /a, rpc: a.b}]", "routes", "", F_N_ROUTES, NULL, 0},
    {"HEARTBEAT: 10", "HEARTBEAT", "", F_HEARTBEAT, NULL, 60},
    {"{}", "HEARTBEAT", "${ENOKI_T_NUM}", F_HEARTBEAT, NULL, 15},
    {"{}", "unrelated", "[1, 2", F_HEARTBEAT, NULL, -1}, /* checked below: a YAML error */
};

START_TEST(defines)
{
    const struct define_case *dc = &define_cases[_i];
    struct gw_define d = {dc->key, dc->value};
    struct gw_config *c = NULL;
    char err[256] = "";
    int rc = load(dc->yaml, &d, 1, &c, err, sizeof(err));
    if (dc->num == -1) {
        /* A define's VALUE is YAML even for keys enoki ignores, as nameko parses it. */
        ck_assert_int_eq(rc, GW_EYAML);
        ck_assert_str_eq(err, "--define unrelated: invalid YAML: did not find expected ',' or ']'");
        return;
    }
    ck_assert_msg(rc == GW_OK, "case %d: %s", _i, err);
    const char *s = field_str(c, dc->field);
    if (s != NULL)
        ck_assert_str_eq(s, dc->str);
    else
        ck_assert_double_eq(field_num(c, dc->field), dc->num);
    gw_config_free(c);
}
END_TEST

START_TEST(defines_apply_in_order)
{
    struct gw_define d[] = {{"HEARTBEAT", "1"}, {"rpc_exchange", "e"}, {"HEARTBEAT", "2"}};
    struct gw_config *c = NULL;
    char err[256] = "";
    int rc = load("HEARTBEAT: 3", d, ARRAY_LEN(d), &c, err, sizeof(err));
    ck_assert_msg(rc == GW_OK, "%s", err);
    ck_assert_int_eq(c->heartbeat, 2);
    ck_assert_str_eq(c->rpc_exchange, "e");
    gw_config_free(c);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Errors: the status and the exact message, "<file>:<line>: <key path>: <reason>".
 */

static const struct {
    const char *yaml;
    const char *define_key, *define_value;
    int rc;
    const char *message;
} error_cases[] = {
    /* The file itself. */
    {"", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: expected a mapping at the top level, got an empty file"},
    {"# nothing\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: expected a mapping at the top level, got an empty file"},
    {"~", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: expected a mapping at the top level, got an empty file"},
    {"- a\n", NULL, NULL, GW_ECONFIG, "t.yaml:1: expected a mapping at the top level, got a list"},
    {"just text", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: expected a mapping at the top level, got 'just text'"},
    {"a: b\n  c: d\n", NULL, NULL, GW_EYAML,
     "t.yaml:2: invalid YAML: mapping values are not allowed in this context"},
    {"a: 1\nb: [1,\n", NULL, NULL, GW_EYAML,
     "t.yaml:3: invalid YAML: did not find expected node content"},
    {"a: \"x\n", NULL, NULL, GW_EYAML, "t.yaml:2: invalid YAML: found unexpected end of stream"},
    {"a: 1\n\t b: 2\n", NULL, NULL, GW_EYAML,
     "t.yaml:2: invalid YAML: found a tab character that violates indentation"},
    {"a: 1\n---\nb: 2\n", NULL, NULL, GW_EYAML,
     "t.yaml:2: invalid YAML: expected a single document, found another one"},
    {"a: 1\nb: *x\n", NULL, NULL, GW_EYAML, "t.yaml:2: b: invalid YAML: found undefined alias 'x'"},
    {"a: &x [*x]\n", NULL, NULL, GW_EYAML,
     "t.yaml:1: a[0]: invalid YAML: found undefined alias 'x'"},
    {"a: 1\nb: !foo x\n", NULL, NULL, GW_EYAML, "t.yaml:2: b: unsupported tag '!foo'"},
    {"a: !env_var [x]\n", NULL, NULL, GW_EYAML, "t.yaml:1: a: !env_var applies to scalars only"},
    {"a: !!set {x}\n", NULL, NULL, GW_EYAML,
     "t.yaml:1: a: unsupported tag 'tag:yaml.org,2002:set'"},
    {"HEARTBEAT: !!int abc\n", NULL, NULL, GW_EYAML,
     "t.yaml:1: HEARTBEAT: 'abc' is not a valid tag:yaml.org,2002:int"},
    {"a: \"x\\0y\"\n", NULL, NULL, GW_EYAML, "t.yaml:1: a: NUL characters are not supported"},
    {"a: \xff\n", NULL, NULL, GW_EYAML, "t.yaml:1: invalid YAML: invalid leading UTF-8 octet"},
    {"a: 1\nb: x\xff\n", NULL, NULL, GW_EYAML,
     "t.yaml:2: invalid YAML: invalid leading UTF-8 octet"},

    /* Substitution. */
    {"GATEWAY:\n  name: ${A:${B:1}}\n", NULL, NULL, GW_ESUBST,
     "t.yaml:2: GATEWAY.name: nested ${...} references are not supported"},
    {"routes:\n  - rule: /\n    rpc: ${A:${B:1}}\n", NULL, NULL, GW_ESUBST,
     "t.yaml:3: routes[0].rpc: nested ${...} references are not supported"},
    {"rpc_exchange: ${ENOKI_T_LOOP}\n", NULL, NULL, GW_ESUBST,
     "t.yaml:1: rpc_exchange: substitution goes more than 8 levels deep (does a variable refer "
     "to itself?)"},
    {"\nHEARTBEAT: ${ENOKI_T_BAD}\n", NULL, NULL, GW_EYAML,
     "t.yaml:2: HEARTBEAT: invalid YAML after substitution: did not find expected ',' or ']'"},
    {"x: 1\n\nGATEWAY: ${ENOKI_T_BADMAP}\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:3: GATEWAY.name: expected a name of letters, digits, '_', '-' and '.', got 'a b'"},
    {"HEARTBEAT: \"${ENOKI_T_NUM}\"\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: HEARTBEAT: expected an integer from 0 to 65535, got '${ENOKI_T_NUM}'"},
    {"HEARTBEAT: !raw_env_var ${ENOKI_T_NUM}\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: HEARTBEAT: expected an integer from 0 to 65535, got '15'"},
    {"rpc_exchange: ${ENOKI_T_UNSET:true}\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: rpc_exchange: expected a non-empty string, got 'true'"},
    {"rpc_exchange: ${ENOKI_T_LIST}\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: rpc_exchange: expected a non-empty string, got a list"},

    /* AMQP_URI. */
    {"AMQP_URI: redis://localhost\n", NULL, NULL, GW_EURI,
     "t.yaml:1: AMQP_URI: unsupported scheme 'redis' (expected amqp://, pyamqp:// or amqps://)"},
    {"x: 1\nAMQP_URI: amqp://u:secret@h:99999/\n", NULL, NULL, GW_EURI,
     "t.yaml:2: AMQP_URI: invalid port: not a number from 1 to 65535 (a '/', '?' or '#' in the "
     "password must be percent-encoded: %2F, %3F, %23)"},
    /* A '/' in the password ends the netloc there: its start is read as the port, never quoted. */
    {"AMQP_URI: amqp://u:s3cretpw/x@h\n", NULL, NULL, GW_EURI,
     "t.yaml:1: AMQP_URI: invalid port: not a number from 1 to 65535 (a '/', '?' or '#' in the "
     "password must be percent-encoded: %2F, %3F, %23)"},
    {"AMQP_URI: 5\n", NULL, NULL, GW_ECONFIG, "t.yaml:1: AMQP_URI: expected a string, got '5'"},
    {"AMQP_URI: [a]\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: AMQP_URI: expected a string, got a list"},

    /* WEB_SERVER_ADDRESS. */
    {"WEB_SERVER_ADDRESS: h:65536\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: WEB_SERVER_ADDRESS: expected '[host:]port' with a port from 0 to 65535, got "
     "'h:65536'"},
    {"WEB_SERVER_ADDRESS: 65536\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: WEB_SERVER_ADDRESS: expected '[host:]port' with a port from 0 to 65535, got "
     "'65536'"},
    {"WEB_SERVER_ADDRESS: -1\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: WEB_SERVER_ADDRESS: expected '[host:]port' with a port from 0 to 65535, got "
     "'-1'"},
    {"WEB_SERVER_ADDRESS: localhost\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: WEB_SERVER_ADDRESS: expected '[host:]port' with a port from 0 to 65535, got "
     "'localhost'"},
    {"WEB_SERVER_ADDRESS: 'h:'\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: WEB_SERVER_ADDRESS: expected '[host:]port' with a port from 0 to 65535, got 'h:'"},
    {"WEB_SERVER_ADDRESS: ':80'\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: WEB_SERVER_ADDRESS: expected '[host:]port' with a port from 0 to 65535, got "
     "':80'"},
    {"WEB_SERVER_ADDRESS: a:b:1\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: WEB_SERVER_ADDRESS: expected '[host:]port' with a port from 0 to 65535, got "
     "'a:b:1'"},
    {"WEB_SERVER_ADDRESS: 80.5\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: WEB_SERVER_ADDRESS: expected '[host:]port' with a port from 0 to 65535, got "
     "'80.5'"},

    /* rpc_exchange and HEARTBEAT. */
    {"rpc_exchange: ''\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: rpc_exchange: expected a non-empty string, got ''"},
    {"rpc_exchange: 12\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: rpc_exchange: expected a non-empty string, got '12'"},
    {"rpc_exchange: {a: 1}\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: rpc_exchange: expected a non-empty string, got a mapping"},
    {"GATEWAY:\n  expose: 3\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:2: GATEWAY.expose: expected a list of 'service.method' globs such as "
     "'greeting_service.*', got '3'"},
    {"GATEWAY:\n  expose:\n    - a.*\n    - ''\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:4: GATEWAY.expose[1]: expected a glob such as 'greeting_service.*', got ''"},
    {"GATEWAY:\n  rpc_prefix: rpc\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:2: GATEWAY.rpc_prefix: expected a path such as '/rpc' (a leading '/', no trailing "
     "'/'), got 'rpc'"},
    {"GATEWAY:\n  rpc_prefix: /rpc/\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:2: GATEWAY.rpc_prefix: expected a path such as '/rpc' (a leading '/', no trailing "
     "'/'), got '/rpc/'"},
    {"GATEWAY:\n  expose: ['*']\nroutes:\n  - rule: /ok\n    rpc: a.b\n  - rule: /rpc/x\n"
     "    rpc: a.c\n",
     NULL, NULL, GW_ECONFIG,
     "t.yaml:6: routes[1].rule: '/rpc/x' is under GATEWAY.rpc_prefix '/rpc', which the generic "
     "RPC route serves while GATEWAY.expose is set"},
    {"routes:\n  - rule: /x\n    rpc: a.b\n    expected_exceptions: [ValueError, 3]\n", NULL, NULL,
     GW_ECONFIG,
     "t.yaml:4: routes[0].expected_exceptions[1]: expected an exception type name such as "
     "'ValueError', got '3'"},
    {"AMQP_SSL: 1\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: AMQP_SSL: expected true, false or a mapping {ca_certs, certfile, keyfile, "
     "cert_reqs, server_hostname}, got '1'"},
    {"x: 1\nAMQP_SSL: {certfile: /nonexistent/a.pem}\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:2: AMQP_SSL.certfile: cannot read /nonexistent/a.pem: No such file or directory"},
    {"AMQP_SSL: {ca_certs: /nonexistent/ca.pem}\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: AMQP_SSL.ca_certs: cannot read /nonexistent/ca.pem: No such file or directory"},
    {"AMQP_SSL: {cert_reqs: CERT_SOMETIMES}\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: AMQP_SSL.cert_reqs: expected CERT_REQUIRED, CERT_OPTIONAL or CERT_NONE, got "
     "'CERT_SOMETIMES'"},
    {"AMQP_SSL: {verify: yes}\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: AMQP_SSL.verify: unknown key (expected one of: ca_certs, certfile, keyfile, "
     "cert_reqs, server_hostname)"},
    {"LOGIN_METHOD: AMQPLAIN\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: LOGIN_METHOD: expected PLAIN or EXTERNAL, got 'AMQPLAIN'"},
    {"LOGIN_METHOD: EXTERNAL\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: LOGIN_METHOD: EXTERNAL logs in with a client certificate: it needs AMQP_SSL with "
     "certfile (and keyfile)"},
    {"HEARTBEAT: -1\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: HEARTBEAT: expected an integer from 0 to 65535, got '-1'"},
    {"HEARTBEAT: 65536\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: HEARTBEAT: expected an integer from 0 to 65535, got '65536'"},
    {"HEARTBEAT: 99999999999999999999999\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: HEARTBEAT: expected an integer from 0 to 65535, got '99999999999999999999999'"},
    {"HEARTBEAT: 1.5\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: HEARTBEAT: expected an integer from 0 to 65535, got '1.5'"},
    {"HEARTBEAT: true\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: HEARTBEAT: expected an integer from 0 to 65535, got 'true'"},
    {"HEARTBEAT: '60'\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: HEARTBEAT: expected an integer from 0 to 65535, got '60'"},
    {"HEARTBEAT: 08\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: HEARTBEAT: expected an integer from 0 to 65535, got '08'"},

    /* GATEWAY. */
    {"GATEWAY: 1\n", NULL, NULL, GW_ECONFIG, "t.yaml:1: GATEWAY: expected a mapping, got '1'"},
    {"GATEWAY:\n  name: x\n  nmae: y\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:3: GATEWAY.nmae: unknown key (expected one of: name, rpc_timeout, errors, "
     "context_headers, log_level, log_format, trace_context, expose, channels, services, "
     "rpc_prefix, "
     "websocket_path, "
     "websocket_max_frame, websocket_max_sockets, websocket_send_queue, websocket_ping, "
     "websocket_deflate, websocket_origins, admin_prefix, health_path, ready_path, "
     "metrics_path, openapi_path, docs_path, docs_dir, status_path, cors, "
     "max_body, compress_min, compress_level, max_header, max_connections, delivery_mode, "
     "max_in_flight, header_timeout, "
     "idle_timeout, idempotency, idempotency_ttl, idempotency_max_entries, "
     "idempotency_max_body, idempotency_max_bytes, static_dir, auth, rate_limits, trusted_proxies, "
     "rate_limit_keys, workers, admin_scope, admin_token)"},
    {"GATEWAY: {1: y}\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: GATEWAY.'1': unknown key (expected one of: name, rpc_timeout, errors, "
     "context_headers, log_level, log_format, trace_context, expose, channels, services, "
     "rpc_prefix, "
     "websocket_path, "
     "websocket_max_frame, websocket_max_sockets, websocket_send_queue, websocket_ping, "
     "websocket_deflate, websocket_origins, admin_prefix, health_path, ready_path, "
     "metrics_path, openapi_path, docs_path, docs_dir, status_path, cors, "
     "max_body, compress_min, compress_level, max_header, max_connections, delivery_mode, "
     "max_in_flight, header_timeout, "
     "idle_timeout, idempotency, idempotency_ttl, idempotency_max_entries, "
     "idempotency_max_body, idempotency_max_bytes, static_dir, auth, rate_limits, trusted_proxies, "
     "rate_limit_keys, workers, admin_scope, admin_token)"},
    {"GATEWAY:\n  delivery_mode: 3\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:2: GATEWAY.delivery_mode: expected an integer from 1 to 2, got '3'"},
    {"GATEWAY:\n  delivery_mode: persistent\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:2: GATEWAY.delivery_mode: expected an integer from 1 to 2, got 'persistent'"},
    {"GATEWAY:\n  rpc_timeout: abc\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:2: GATEWAY.rpc_timeout: expected a positive number, got 'abc'"},
    {"GATEWAY:\n  rpc_timeout: 0\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:2: GATEWAY.rpc_timeout: expected a positive number, got '0'"},
    {"GATEWAY:\n  rpc_timeout: -1.5\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:2: GATEWAY.rpc_timeout: expected a positive number, got '-1.5'"},
    {"GATEWAY:\n  rpc_timeout: .inf\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:2: GATEWAY.rpc_timeout: expected a positive number, got '.inf'"},
    {"GATEWAY:\n  rpc_timeout: .nan\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:2: GATEWAY.rpc_timeout: expected a positive number, got '.nan'"},
    {"GATEWAY:\n  rpc_timeout: yes\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:2: GATEWAY.rpc_timeout: expected a positive number, got 'yes'"},
    {"GATEWAY:\n  rpc_timeout: 1e3\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:2: GATEWAY.rpc_timeout: expected a positive number, got '1e3'"},
    {"GATEWAY:\n  rpc_timeout: '5'\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:2: GATEWAY.rpc_timeout: expected a positive number, got '5'"},
    {"GATEWAY: {name: a b}\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: GATEWAY.name: expected a name of letters, digits, '_', '-' and '.', got 'a b'"},
    {"GATEWAY: {name: ''}\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: GATEWAY.name: expected a name of letters, digits, '_', '-' and '.', got ''"},
    {"GATEWAY: {name: a/b}\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: GATEWAY.name: expected a name of letters, digits, '_', '-' and '.', got 'a/b'"},
    {"GATEWAY: {name: 5}\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: GATEWAY.name: expected a name of letters, digits, '_', '-' and '.', got '5'"},
    {"GATEWAY: {log_level: verbose}\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: GATEWAY.log_level: expected one of debug, info, warn, error, got 'verbose'"},
    {"GATEWAY: {log_level: INFO}\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: GATEWAY.log_level: expected one of debug, info, warn, error, got 'INFO'"},
    {"GATEWAY: {log_format: JSON}\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: GATEWAY.log_format: expected one of text, json, got 'JSON'"},
    {"GATEWAY: {log_level: off}\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: GATEWAY.log_level: expected one of debug, info, warn, error, got 'off'"},
    {"GATEWAY:\n  errors: [ValueError]\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:2: GATEWAY.errors: expected a mapping of exception type to HTTP status, got a list"},
    {"GATEWAY:\n  errors:\n    ValueError: 400\n    KeyError: 99\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:4: GATEWAY.errors.KeyError: expected an HTTP status from 200 to 599, got '99'"},
    {"GATEWAY:\n  errors:\n    KeyError: 100\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:3: GATEWAY.errors.KeyError: expected an HTTP status from 200 to 599, got '100'"},
    {"GATEWAY:\n  errors:\n    KeyError: 600\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:3: GATEWAY.errors.KeyError: expected an HTTP status from 200 to 599, got '600'"},
    {"GATEWAY:\n  errors:\n    KeyError: '404'\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:3: GATEWAY.errors.KeyError: expected an HTTP status from 200 to 599, got '404'"},
    {"GATEWAY:\n  errors:\n    KeyError:\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:3: GATEWAY.errors.KeyError: expected an HTTP status from 200 to 599, got null"},
    {"GATEWAY:\n  errors:\n    '': 400\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:3: GATEWAY.errors: expected an exception type name, got ''"},
    {"GATEWAY:\n  context_headers: X-User\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:2: GATEWAY.context_headers: expected a mapping of HTTP header name to context key, "
     "got 'X-User'"},
    {"GATEWAY:\n  context_headers:\n    X User: user\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:3: GATEWAY.context_headers: expected an HTTP header name, got 'X User'"},
    {"GATEWAY:\n  context_headers:\n    'X:User': user\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:3: GATEWAY.context_headers: expected an HTTP header name, got 'X:User'"},
    {"GATEWAY:\n  context_headers:\n    X-User: ''\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:3: GATEWAY.context_headers.X-User: expected a context key, got ''"},
    {"GATEWAY:\n  context_headers:\n    X-User: [a]\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:3: GATEWAY.context_headers.X-User: expected a context key, got a list"},
    {"GATEWAY:\n  context_headers:\n    X-User: a\n    x-user: b\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:4: GATEWAY.context_headers.x-user: header given twice (as 'X-User'; header names "
     "ignore case)"},

    /* routes. */
    {"routes: {rule: /}\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:1: routes: expected a list of routes, got a mapping"},
    {"routes:\n  - /a\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:2: routes[0]: expected a mapping, got '/a'"},
    {"routes:\n  - rule: /a\n    rpc: a.b\n  -\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:4: routes[1]: expected a mapping, got null"},
    {"routes:\n  - rule: /a\n    rpc: a.b\n  - rule: /b\n    rpc: foo\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:5: routes[1].rpc: expected 'service.method', got 'foo'"},
    {"routes:\n  - rule: /a\n    rpc: a.b.c\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:3: routes[0].rpc: expected 'service.method', got 'a.b.c' (a dotted function name is "
     "amphora's: list a under GATEWAY.services)"},
    {"routes:\n  - rule: /a\n    rpc: .b\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:3: routes[0].rpc: expected 'service.method', got '.b'"},
    {"routes:\n  - rule: /a\n    rpc: a.\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:3: routes[0].rpc: expected 'service.method', got 'a.'"},
    {"routes:\n  - rule: /a\n    rpc: 1.5\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:3: routes[0].rpc: expected 'service.method', got '1.5'"},
    {"routes:\n  - rule: /a\n    rpc: [a.b]\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:3: routes[0].rpc: expected 'service.method', got a list"},
    {"routes:\n  - rule: /a\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:2: routes[0].rpc: required key is missing"},
    {"routes:\n  - rule: /a\n    rpc:\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:2: routes[0].rpc: required key is missing"},
    {"routes:\n  - rule: /a\n    rpc: a.b\n  - rpc: a.b\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:4: routes[1].rule: required key is missing"},
    {"routes:\n  - rule: a\n    rpc: a.b\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:2: routes[0].rule: expected a rule starting with '/', got 'a'"},
    {"routes:\n  - rule: 5\n    rpc: a.b\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:2: routes[0].rule: expected a rule starting with '/', got '5'"},
    {"routes:\n  - rule: /a\n    rpc: a.b\n    path: /b\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:4: routes[0].path: unknown key (expected one of: rule, methods, rpc, timeout, mode, "
     "expected_exceptions, auth, scopes, routing_key, collect, idempotency, summary, "
     "description, tags, "
     "request_schema, response_schema)"},
    {"routes:\n  - rule: /a\n    rpc: a.b\n    mode: grpc\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:4: routes[0].mode: expected one of json, http, got 'grpc'"},
    {"routes:\n  - rule: /a\n    rpc: a.b\n    timeout: 0\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:4: routes[0].timeout: expected a positive number, got '0'"},
    {"routes:\n  - rule: /a\n    rpc: a.b\n    timeout: soon\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:4: routes[0].timeout: expected a positive number, got 'soon'"},
    {"routes:\n  - rule: /a\n    rpc: a.b\n    methods: []\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:4: routes[0].methods: expected a method or a list of methods, got an empty list"},
    {"routes:\n  - rule: /a\n    rpc: a.b\n    methods: ''\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:4: routes[0].methods: expected a method or a list of methods, got ''"},
    {"routes:\n  - rule: /a\n    rpc: a.b\n    methods:\n      - GET\n      - 1\n", NULL, NULL,
     GW_ECONFIG, "t.yaml:6: routes[0].methods[1]: expected a method name, got '1'"},
    {"routes:\n  - rule: /a\n    rpc: a.b\n    methods: {GET: 1}\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:4: routes[0].methods: expected a method or a list of methods, got a mapping"},

    /* A substituted value that YAML reads as an alias or a tag is never quoted: it may be a secret.
     */
    {"GATEWAY:\n  admin_token: ${ENOKI_T_ALIAS}\n", NULL, NULL, GW_EYAML,
     "t.yaml:2: GATEWAY.admin_token: invalid YAML after substitution: the value starts with '*', "
     "'&' or '!' (not quoted here: it may be a secret); write \"${...}\" in quotes or use "
     "!raw_env_var to take it as text"},
    {"GATEWAY:\n  admin_token: ${ENOKI_T_TAG}\n", NULL, NULL, GW_EYAML,
     "t.yaml:2: GATEWAY.admin_token: invalid YAML after substitution: the value starts with '*', "
     "'&' or '!' (not quoted here: it may be a secret); write \"${...}\" in quotes or use "
     "!raw_env_var to take it as text"},
    /* A merge key at the top, where unknown keys pass: refused too (nameko's PyYAML merges it). */
    {"common: &c\n  rpc_exchange: x\n<<: *c\n", NULL, NULL, GW_ECONFIG,
     "t.yaml:3: <<: merge keys are not supported: write the keys out"},

    /* --define: named in place of file:line. */
    {"{}", "HEARTBEAT", "abc", GW_ECONFIG,
     "--define HEARTBEAT: HEARTBEAT: expected an integer from 0 to 65535, got 'abc'"},
    {"{}", "HEARTBEAT", "[a", GW_EYAML,
     "--define HEARTBEAT: invalid YAML: did not find expected ',' or ']'"},
    {"{}", "GATEWAY", "{nope: 1}", GW_ECONFIG,
     "--define GATEWAY: GATEWAY.nope: unknown key (expected one of: name, rpc_timeout, errors, "
     "context_headers, log_level, log_format, trace_context, expose, channels, services, "
     "rpc_prefix, "
     "websocket_path, "
     "websocket_max_frame, websocket_max_sockets, websocket_send_queue, websocket_ping, "
     "websocket_deflate, websocket_origins, admin_prefix, health_path, ready_path, "
     "metrics_path, openapi_path, docs_path, docs_dir, status_path, cors, "
     "max_body, compress_min, compress_level, max_header, max_connections, delivery_mode, "
     "max_in_flight, header_timeout, "
     "idle_timeout, idempotency, idempotency_ttl, idempotency_max_entries, "
     "idempotency_max_body, idempotency_max_bytes, static_dir, auth, rate_limits, trusted_proxies, "
     "rate_limit_keys, workers, admin_scope, admin_token)"},
    {"{}", "routes", "[{rule: /a, rpc: ab}]", GW_ECONFIG,
     "--define routes: routes[0].rpc: expected 'service.method', got 'ab'"},
    {"{}", "GATEWAY", "{name: !env_var '${A:${B}}'}", GW_ESUBST,
     "--define GATEWAY: GATEWAY.name: nested ${...} references are not supported"},
    {"{}", "AMQP_URI", "amqp://h;", GW_EURI,
     "--define AMQP_URI: AMQP_URI: URI 2 of the list is empty"},
    {"{}", "", "1", GW_ECONFIG, "--define: expected KEY=VALUE, got an empty KEY"},
    /* Checks made once every key is read name the define, not the file at line 0. */
    {"GATEWAY: {expose: ['*']}\n", "routes", "[{rule: /rpc/x, rpc: a.c}]", GW_ECONFIG,
     "--define routes: routes[0].rule: '/rpc/x' is under GATEWAY.rpc_prefix '/rpc', which the "
     "generic RPC route serves while GATEWAY.expose is set"},
    {"{}", "routes", "[{rule: /x, rpc: a.b.c}]", GW_ECONFIG,
     "--define routes: routes[0].rpc: expected 'service.method', got 'a.b.c' (a dotted function "
     "name is amphora's: list a under GATEWAY.services)"},
    {"{}", "LOGIN_METHOD", "EXTERNAL", GW_ECONFIG,
     "--define LOGIN_METHOD: LOGIN_METHOD: EXTERNAL logs in with a client certificate: it needs "
     "AMQP_SSL with certfile (and keyfile)"},
    /* A define never rescues a file that is not a mapping. */
    {"", "HEARTBEAT", "1", GW_ECONFIG,
     "t.yaml:1: expected a mapping at the top level, got an empty file"},
};

START_TEST(generic_route_keys)
{
    struct gw_config *c = NULL;
    char err[256] = "";
    ck_assert_int_eq(load("x: 1\n", NULL, 0, &c, err, sizeof(err)), GW_OK);
    ck_assert_uint_eq(c->expose.n, 0);
    ck_assert_str_eq(c->rpc_prefix, "/rpc");
    ck_assert_str_eq(c->websocket_path, "/ws");
    ck_assert_int_eq(c->websocket_max_frame, 1 << 20);
    ck_assert_int_eq(c->websocket_max_sockets, 10000);
    ck_assert_int_eq(c->websocket_send_queue, 1 << 20);
    ck_assert_int_eq(c->websocket_ping, 30);
    ck_assert_uint_eq(c->websocket_origins.n, 0);
    ck_assert_str_eq(c->static_dir, "static");
    ck_assert_int_eq(c->delivery_mode, 1);
    gw_config_free(c);
    ck_assert_int_eq(load("GATEWAY: {delivery_mode: 2}\n", NULL, 0, &c, err, sizeof(err)), GW_OK);
    ck_assert_int_eq(c->delivery_mode, 2);
    gw_config_free(c);
    ck_assert_int_eq(load("GATEWAY: {websocket_path: /hub, websocket_max_frame: 4096, "
                          "websocket_origins: ['https://a.example', '*'], websocket_ping: 0}\n",
                          NULL, 0, &c, err, sizeof(err)),
                     GW_OK);
    ck_assert_str_eq(c->websocket_path, "/hub");
    ck_assert_int_eq(c->websocket_max_frame, 4096);
    ck_assert_uint_eq(c->websocket_origins.n, 2);
    ck_assert_int_eq(c->websocket_ping, 0);
    gw_config_free(c);
    const char *yaml = "GATEWAY:\n  expose: [greeting_service.*, admin.status]\n"
                       "  rpc_prefix: /api/call\nroutes:\n  - {rule: /rpc/x, rpc: a.b}\n";
    ck_assert_msg(load(yaml, NULL, 0, &c, err, sizeof(err)) == GW_OK, "%s", err);
    ck_assert_uint_eq(c->expose.n, 2);
    ck_assert_str_eq(c->expose.items[0].pattern, "greeting_service.*");
    ck_assert_str_eq(c->expose.items[1].pattern, "admin.status");
    ck_assert_str_eq(c->rpc_prefix, "/api/call");
    gw_config_free(c);
    /* A single glob is a list of one; without expose a route may live under the prefix. */
    ck_assert_int_eq(load("GATEWAY: {expose: 'x.*'}\n", NULL, 0, &c, err, sizeof(err)), GW_OK);
    ck_assert_uint_eq(c->expose.n, 1);
    gw_config_free(c);
    ck_assert_int_eq(load("routes: [{rule: /rpc/x, rpc: a.b}]\n", NULL, 0, &c, err, sizeof(err)),
                     GW_OK);
    ck_assert_uint_eq(c->routes[0].expected_exceptions.n, 0);
    gw_config_free(c);
    ck_assert_int_eq(load("routes: [{rule: /h, rpc: a.b, mode: http, expected_exceptions: [MyErr, "
                          "KeyError]}]\n",
                          NULL, 0, &c, err, sizeof(err)),
                     GW_OK);
    ck_assert_int_eq(c->routes[0].mode, GW_MODE_HTTP);
    ck_assert_uint_eq(c->routes[0].expected_exceptions.n, 2);
    ck_assert_str_eq(c->routes[0].expected_exceptions.items[1], "KeyError");
    gw_config_free(c);
}
END_TEST

START_TEST(validation_errors)
{
    struct gw_define d = {error_cases[_i].define_key, error_cases[_i].define_value};
    struct gw_config *c = (struct gw_config *)&d; /* must be reset to NULL on failure */
    char err[1024] = "";
    int rc = load(error_cases[_i].yaml, &d, d.key != NULL ? 1 : 0, &c, err, sizeof(err));
    ck_assert_msg(rc == error_cases[_i].rc, "case %d (%s): rc %d, message: %s", _i,
                  error_cases[_i].yaml, rc, err);
    ck_assert_ptr_null(c);
    ck_assert_str_eq(err, error_cases[_i].message);
}
END_TEST

/* A small buffer gets a cut, terminated message; a NULL one gets none. */
START_TEST(error_buffer_sizes)
{
    struct gw_config *c = NULL;
    char small[12];
    int rc = load("HEARTBEAT: abc", NULL, 0, &c, small, sizeof(small));
    ck_assert_int_eq(rc, GW_ECONFIG);
    ck_assert_str_eq(small, "t.yaml:1: H");
    rc = load("HEARTBEAT: abc", NULL, 0, &c, NULL, 0);
    ck_assert_int_eq(rc, GW_ECONFIG);
    ck_assert_ptr_null(c);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Files
 */

static char tmp_path[64];

static void write_tmp(const char *text)
{
    strcpy(tmp_path, "/tmp/enoki-config-XXXXXX");
    int fd = mkstemp(tmp_path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(load_file)
{
    struct gw_define d = {"HEARTBEAT", "7"};
    struct gw_config *c = NULL;
    char err[256] = "";
    write_tmp(full_file);
    int rc = gw_config_load(tmp_path, &d, 1, &c, err, sizeof(err));
    unlink(tmp_path);
    ck_assert_msg(rc == GW_OK, "%s", err);
    ck_assert_str_eq(c->path, tmp_path);
    ck_assert_int_eq(c->heartbeat, 7);
    ck_assert_str_eq(c->rpc_exchange, "my-rpc");
    ck_assert_uint_eq(c->n_routes, 3);
    ck_assert_int_eq(c->routes[2].line, 26);
    gw_config_free(c);
}
END_TEST

START_TEST(load_file_error_names_the_file)
{
    struct gw_config *c = NULL;
    char err[256] = "";
    char want[128];
    write_tmp("GATEWAY:\n  rpc_timeout: abc\n");
    int rc = gw_config_load(tmp_path, NULL, 0, &c, err, sizeof(err));
    unlink(tmp_path);
    ck_assert_int_eq(rc, GW_ECONFIG);
    snprintf(want, sizeof(want), "%s:2: GATEWAY.rpc_timeout: expected a positive number, got 'abc'",
             tmp_path);
    ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(load_unreadable)
{
    struct gw_config *c = NULL;
    char err[256] = "";
    int rc = gw_config_load("/nonexistent/gateway.yaml", NULL, 0, &c, err, sizeof(err));
    ck_assert_int_eq(rc, GW_EIO);
    ck_assert_ptr_null(c);
    ck_assert_str_eq(err, "/nonexistent/gateway.yaml: cannot read: No such file or directory");
    rc = gw_config_load("/", NULL, 0, &c, err, sizeof(err));
    ck_assert_int_eq(rc, GW_EIO);
    ck_assert_str_eq(err, "/: cannot read: Is a directory");
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Hostile input: shared aliases cost no memory, deep nesting is refused.
 */

START_TEST(alias_bomb_is_cheap)
{
    static const char yaml[] = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                               "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                               "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                               "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                               "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                               "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                               "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
                               "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
                               "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n"
                               "HEARTBEAT: 1\n";
    struct gw_config *c = NULL;
    char err[256] = "";
    int rc = load(yaml, NULL, 0, &c, err, sizeof(err));
    ck_assert_msg(rc == GW_OK, "%s", err);
    ck_assert_int_eq(c->heartbeat, 1);
    gw_config_free(c);
}
END_TEST

START_TEST(deep_nesting_is_refused)
{
    char yaml[300];
    struct gw_config *c = NULL;
    char err[256] = "";
    size_t n = 0;
    n += (size_t)snprintf(yaml, sizeof(yaml), "a: ");
    for (int i = 0; i < 100; i++)
        yaml[n++] = '[';
    yaml[n] = '\0';
    int rc = load(yaml, NULL, 0, &c, err, sizeof(err));
    ck_assert_int_eq(rc, GW_EYAML);
    ck_assert_str_eq(err, "t.yaml:1: a[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]"
                          "[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]"
                          "[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]: "
                          "nesting is deeper than 64 levels");
}
END_TEST

Suite *config_suite(void)
{
    Suite *s = suite_create("config");

    TCase *tc = tcase_create("defaults");
    tcase_add_checked_fixture(tc, env_setup, env_teardown);
    tcase_add_loop_test(tc, defaults_when_not_given, 0, (int)ARRAY_LEN(default_files));
    tcase_add_test(tc, free_accepts_null);
    suite_add_tcase(s, tc);

    tc = tcase_create("keys");
    tcase_add_test(tc, every_key);
    tcase_add_loop_test(tc, key_values, 0, (int)ARRAY_LEN(key_cases));
    suite_add_tcase(s, tc);

    tc = tcase_create("routes");
    tcase_add_loop_test(tc, route_timeout_inheritance, 0, (int)ARRAY_LEN(timeout_cases));
    tcase_add_test(tc, route_lines);
    tcase_add_test(tc, generic_route_keys);
    suite_add_tcase(s, tc);

    tc = tcase_create("substitution");
    tcase_add_checked_fixture(tc, env_setup, env_teardown);
    tcase_add_loop_test(tc, substitute_in_file, 0, (int)ARRAY_LEN(subst_load_cases));
    suite_add_tcase(s, tc);

    tc = tcase_create("defines");
    tcase_add_checked_fixture(tc, env_setup, env_teardown);
    tcase_add_loop_test(tc, defines, 0, (int)ARRAY_LEN(define_cases));
    tcase_add_test(tc, defines_apply_in_order);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_checked_fixture(tc, env_setup, env_teardown);
    tcase_add_loop_test(tc, validation_errors, 0, (int)ARRAY_LEN(error_cases));
    tcase_add_test(tc, error_buffer_sizes);
    suite_add_tcase(s, tc);

    tc = tcase_create("files");
    tcase_add_test(tc, load_file);
    tcase_add_test(tc, load_file_error_names_the_file);
    tcase_add_test(tc, load_unreadable);
    suite_add_tcase(s, tc);

    tc = tcase_create("hostile");
    tcase_add_test(tc, alias_bomb_is_cheap);
    tcase_add_test(tc, deep_nesting_is_refused);
    suite_add_tcase(s, tc);

    return s;
}
