#include "hub_args.h"

#include "core/json.h"
#include "core/strbuf.h"
#include "core/util.h"
#include "core/wire.h"
#include "routes/ws.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const method_names[] = {
    [GW_HUB_NONE] = "",
    [GW_HUB_SUBSCRIBE] = "subscribe",
    [GW_HUB_UNSUBSCRIBE] = "unsubscribe",
    [GW_HUB_GET_SUBSCRIPTIONS] = "get_subscriptions",
    [GW_HUB_BROADCAST] = "broadcast",
    [GW_HUB_UNICAST] = "unicast",
    [GW_HUB_REFRESH] = "refresh",
};

const char *gw_hub_method_name(enum gw_hub_method method)
{
    return (size_t)method < ARRAY_LEN(method_names) ? method_names[method] : "";
}

enum gw_hub_method gw_hub_method_of(const char *name)
{
    for (size_t i = 1; i < ARRAY_LEN(method_names); i++)
        if (strcmp(name, method_names[i]) == 0)
            return (enum gw_hub_method)i;
    return GW_HUB_NONE;
}

const char *gw_hub_args_py_type(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "dict";
    case JSON_ARRAY:
        return "list";
    case JSON_STRING: {
        size_t n;
        const char *number = gw_json_carried_text(v, &n);
        if (number)
            return gw_json_carried_non_finite(number, n) ? "float" : "int";
        return "str";
    }
    case JSON_INTEGER:
        return "int";
    case JSON_REAL:
        return "float";
    case JSON_TRUE:
    case JSON_FALSE:
        return "bool";
    default:
        return "NoneType";
    }
}

json_t *gw_hub_args_not_a_mapping(const json_t *data)
{
    char message[160];
    snprintf(message, sizeof(message),
             "inspect.getcallargs() argument after ** must be a mapping, not %s",
             gw_hub_args_py_type(data));
    return gw_ws_incorrect_signature(message);
}

json_t *gw_hub_args_channel_not_a_string(void)
{
    return gw_nameko_error("TypeError", "builtins.TypeError",
                           json_pack("[s]", "channel must be a string"),
                           "channel must be a string");
}

json_t *gw_hub_args_token_not_a_string(void)
{
    return gw_nameko_error("TypeError", "builtins.TypeError",
                           json_pack("[s]", "token must be a string"), "token must be a string");
}

json_t *gw_hub_args_check_kwargs(const char *fn, const json_t *kwargs, const char *const *names)
{
    char message[256];
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)(uintptr_t)kwargs, key, value)
    {
        bool known = false;
        for (size_t i = 0; names[i]; i++)
            known = known || strcmp(key, names[i]) == 0;
        if (!known) {
            snprintf(message, sizeof(message), "%s() got an unexpected keyword argument '%s'", fn,
                     key);
            return gw_ws_incorrect_signature(message);
        }
    }
    for (size_t i = 0; names[i]; i++) {
        if (!json_object_get(kwargs, names[i])) {
            snprintf(message, sizeof(message), "%s() missing 1 required positional argument: '%s'",
                     fn, names[i]);
            return gw_ws_incorrect_signature(message);
        }
    }
    return NULL;
}

enum gw_hub_method gw_hub_args_frame(const char *method, const json_t *data, const char **arg,
                                     json_t **error)
{
    static const char *const channel_arg[] = {"channel", NULL};
    static const char *const token_arg[] = {"token", NULL};
    static const char *const no_args[] = {NULL};
    *arg = NULL;
    *error = NULL;
    enum gw_hub_method which = gw_hub_method_of(method);
    const char *const *names;
    if (which == GW_HUB_SUBSCRIBE || which == GW_HUB_UNSUBSCRIBE)
        names = channel_arg;
    else if (which == GW_HUB_REFRESH)
        names = token_arg;
    else if (which == GW_HUB_GET_SUBSCRIPTIONS)
        names = no_args;
    else
        return GW_HUB_NONE;
    if (!json_is_object(data))
        *error = gw_hub_args_not_a_mapping(data);
    else
        *error = gw_hub_args_check_kwargs(method, data, names);
    if (!*error && names[0]) {
        *arg = gw_json_text(json_object_get(data, names[0]));
        if (!*arg)
            *error = which == GW_HUB_REFRESH ? gw_hub_args_token_not_a_string()
                                             : gw_hub_args_channel_not_a_string();
    }
    return which;
}

/* Python's list of missing names: 'a', 'a' and 'b', 'a', 'b', and 'c'. */
static char *missing_names(const json_t *bound, const char *const *names, size_t n,
                           size_t *n_missing)
{
    size_t last = 0;
    *n_missing = 0;
    for (size_t i = 0; i < n; i++) {
        if (!json_object_get(bound, names[i])) {
            (*n_missing)++;
            last = i;
        }
    }
    struct gw_strbuf list = {0};
    size_t seen = 0;
    for (size_t i = 0; i < n; i++) {
        if (json_object_get(bound, names[i]))
            continue;
        seen++;
        if (seen > 1)
            gw_strbuf_adds(&list, i == last ? (*n_missing > 2 ? ", and " : " and ") : ", ");
        gw_strbuf_add(&list, "'", 1);
        gw_strbuf_adds(&list, names[i]);
        gw_strbuf_add(&list, "'", 1);
    }
    return gw_strbuf_take(&list);
}

json_t *gw_hub_args_bind(const char *fn, const json_t *args, const json_t *kwargs,
                         const char *const *names, char *msg, size_t msglen)
{
    size_t n = 0;
    while (names[n])
        n++;
    size_t nargs = json_array_size(args);
    if (nargs > n) {
        /* self counts in Python's figures. */
        snprintf(msg, msglen, "%s() takes %zu positional arguments but %zu were given", fn, n + 1,
                 nargs + 1);
        return NULL;
    }
    json_t *bound = json_object();
    for (size_t i = 0; i < nargs; i++)
        json_object_set(bound, names[i], json_array_get(args, i));
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)(uintptr_t)kwargs, key, value)
    {
        size_t i = 0;
        while (i < n && strcmp(names[i], key) != 0)
            i++;
        if (i == n) {
            snprintf(msg, msglen, "%s() got an unexpected keyword argument '%s'", fn, key);
            json_decref(bound);
            return NULL;
        }
        if (i < nargs) {
            snprintf(msg, msglen, "%s() got multiple values for argument '%s'", fn, key);
            json_decref(bound);
            return NULL;
        }
        json_object_set(bound, key, value);
    }
    size_t n_missing;
    char *list = missing_names(bound, names, n, &n_missing);
    if (n_missing) {
        snprintf(msg, msglen, "%s() missing %zu required positional argument%s: %s", fn, n_missing,
                 n_missing > 1 ? "s" : "", list);
        free(list);
        json_decref(bound);
        return NULL;
    }
    free(list);
    return bound;
}

enum gw_hub_method gw_hub_args_service(const char *method, const json_t *args, const json_t *kwargs,
                                       json_t **bound, json_t **error)
{
    static const char *const broadcast_params[] = {"channel", "event", "data", NULL};
    static const char *const unicast_params[] = {"socket_id", "event", "data", NULL};
    static const char *const channel_params[] = {"socket_id", "channel", NULL};
    static const char *const list_params[] = {"socket_id", NULL};
    static const char *const *const params[] = {
        [GW_HUB_SUBSCRIBE] = channel_params,      [GW_HUB_UNSUBSCRIBE] = channel_params,
        [GW_HUB_GET_SUBSCRIPTIONS] = list_params, [GW_HUB_BROADCAST] = broadcast_params,
        [GW_HUB_UNICAST] = unicast_params,
    };
    *bound = NULL;
    *error = NULL;
    enum gw_hub_method which = gw_hub_method_of(method);
    if (which == GW_HUB_NONE || which == GW_HUB_REFRESH) {
        *error = gw_nameko_error("MethodNotFound", "nameko.exceptions.MethodNotFound",
                                 json_pack("[s]", method), method);
        return GW_HUB_NONE;
    }
    char message[512];
    *bound = gw_hub_args_bind(method, args, kwargs, params[which], message, sizeof(message));
    if (!*bound) {
        *error = gw_ws_incorrect_signature(message);
        return GW_HUB_NONE;
    }
    return which;
}
