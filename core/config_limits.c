/* config_limits.c - GATEWAY.rate_limits and GATEWAY.trusted_proxies, checked at load. */
#include "core/config_limits.h"

#include "core/config.h"
#include "core/status.h"
#include "core/text.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "core/yaml_tree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POLICY_NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-."
#define CLAIM_NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:/"
#define RATE_COUNT_MAX 1000000000LL

static const struct {
    const char *name;
    long long seconds;
} rate_units[] = {
    {"s", 1},       {"sec", 1},  {"second", 1},  {"m", 60},    {"min", 60},
    {"minute", 60}, {"h", 3600}, {"hour", 3600}, {"d", 86400}, {"day", 86400},
};

void gw_rate_limit_list_clear(struct gw_rate_limit_list *list)
{
    for (size_t i = 0; i < list->n; i++) {
        struct gw_rate_limit_conf *l = &list->items[i];
        free(l->name);
        free(l->key_name);
        free(l->key);
        free(l->rate);
        gw_string_list_clear(&l->match);
    }
    free(list->items);
    list->items = NULL;
    list->n = 0;
}

static int apply_name(const struct gw_key_err *e, const struct gw_yaml_node *v, const char *path,
                      void *base, const struct gw_key_spec *spec)
{
    struct gw_rate_limit_conf *l = base;
    char got[GW_YAML_DESCRIBE_LEN];
    (void)spec;
    size_t n = v->kind == GW_YAML_STRING ? strlen(v->text) : 0;
    if (n == 0 || n > GW_RATE_NAME_MAX || strspn(v->text, POLICY_NAME_CHARS) != n)
        return gw_key_fail(
            e, v, path, GW_ECONFIG,
            "expected a name of at most %d letters, digits, '_', '-' and '.', got %s",
            GW_RATE_NAME_MAX, gw_yaml_describe(v, got, sizeof(got)));
    gw_key_replace_string(&l->name, v->text);
    return GW_OK;
}

static int apply_key(const struct gw_key_err *e, const struct gw_yaml_node *v, const char *path,
                     void *base, const struct gw_key_spec *spec)
{
    struct gw_rate_limit_conf *l = base;
    char got[GW_YAML_DESCRIBE_LEN];
    (void)spec;
    const char *text = v->kind == GW_YAML_STRING ? v->text : "";
    const char *name = NULL;
    if (strcmp(text, "client_ip") == 0) {
        l->kind = GW_RATE_KEY_CLIENT_IP;
    } else if (strncmp(text, "claim:", 6) == 0 && text[6] &&
               strspn(text + 6, CLAIM_NAME_CHARS) == strlen(text + 6)) {
        l->kind = GW_RATE_KEY_CLAIM;
        name = text + 6;
    } else if (strncmp(text, "header:", 7) == 0 && text[7] &&
               gw_is_token(text + 7, strlen(text + 7))) {
        l->kind = GW_RATE_KEY_HEADER;
        name = text + 7;
    } else {
        return gw_key_fail(e, v, path, GW_ECONFIG,
                           "expected client_ip, claim:<name> or header:<Name>, got %s",
                           gw_yaml_describe(v, got, sizeof(got)));
    }
    gw_key_replace_string(&l->key, text);
    free(l->key_name);
    l->key_name = name ? xstrdup(name) : NULL;
    return GW_OK;
}

static int apply_rate(const struct gw_key_err *e, const struct gw_yaml_node *v, const char *path,
                      void *base, const struct gw_key_spec *spec)
{
    struct gw_rate_limit_conf *l = base;
    char got[GW_YAML_DESCRIBE_LEN];
    (void)spec;
    const char *text = v->kind == GW_YAML_STRING ? v->text : "";
    size_t digits = strspn(text, "0123456789");
    long long count = digits > 0 && digits <= 10 ? strtoll(text, NULL, 10) : 0;
    long long seconds = 0;
    if (text[digits] == '/')
        for (size_t i = 0; i < ARRAY_LEN(rate_units); i++)
            if (strcmp(text + digits + 1, rate_units[i].name) == 0)
                seconds = rate_units[i].seconds;
    if (count < 1 || count > RATE_COUNT_MAX || seconds == 0)
        return gw_key_fail(e, v, path, GW_ECONFIG,
                           "expected '<count>/<unit>' with a count from 1 to 1000000000 and a "
                           "unit s, sec, second, m, min, minute, h, hour, d or day (e.g. "
                           "'100/s'), got %s",
                           gw_yaml_describe(v, got, sizeof(got)));
    l->count = count;
    l->period_s = seconds;
    gw_key_replace_string(&l->rate, text);
    return GW_OK;
}

static const struct gw_key_spec limit_keys[] = {
    {.name = "name", .apply = apply_name},
    {.name = "key", .apply = apply_key},
    {.name = "rate", .apply = apply_rate},
    {.name = "burst",
     .apply = gw_key_apply_int,
     .offset = offsetof(struct gw_rate_limit_conf, burst),
     .min = 1,
     .max = RATE_COUNT_MAX},
    {.name = "match",
     .apply = gw_key_apply_string_list,
     .offset = offsetof(struct gw_rate_limit_conf, match),
     .list_what = "globs over route rules ('/items/*') or RPC targets ('orders.*')",
     .item_what = "a glob such as '/items/*' or 'orders.*'"},
};

static bool same_match(const struct gw_string_list *a, const struct gw_string_list *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->items[i], b->items[i]) != 0)
            return false;
    return true;
}

/* Whether two entries count alike: the same key, rate, burst and match (a reload keeps the buckets
 * of such an entry, docs/rate_limits.md). */
static bool alike(const struct gw_rate_limit_conf *a, const struct gw_rate_limit_conf *b)
{
    return strcmp(a->key, b->key) == 0 && a->count * b->period_s == b->count * a->period_s &&
           a->burst == b->burst && same_match(&a->match, &b->match);
}

/* Defaults and the checks that need the entry whole, or the entries before it. */
static int settle(const struct gw_key_err *e, const struct gw_yaml_node *item, const char *path,
                  struct gw_rate_limit_list *list)
{
    struct gw_rate_limit_conf *l = &list->items[list->n - 1];
    char at[GW_YAML_PATH_LEN];
    if (!l->key || !l->rate) {
        gw_yaml_path_join(at, sizeof(at), path, l->key ? "rate" : "key");
        return gw_key_fail(e, item, at, GW_ECONFIG, "required key is missing");
    }
    if (!l->name) {
        char name[16];
        snprintf(name, sizeof(name), "limit%zu", list->n - 1);
        l->name = xstrdup(name);
    }
    if (l->burst == 0) {
        long long per_second = (l->count + l->period_s - 1) / l->period_s;
        l->burst = (int)(per_second < 1 ? 1 : per_second);
    }
    for (size_t i = 0; i + 1 < list->n; i++) {
        if (strcmp(list->items[i].name, l->name) == 0)
            return gw_key_fail(e, item, path, GW_ECONFIG,
                               "the name '%s' is taken by rate_limits[%zu]", l->name, i);
        if (alike(&list->items[i], l))
            return gw_key_fail(e, item, path, GW_ECONFIG,
                               "the same limit as rate_limits[%zu] (key, rate, burst and match)",
                               i);
    }
    return GW_OK;
}

int gw_config_apply_rate_limits(const struct gw_key_err *e, const struct gw_yaml_node *v,
                                const char *path, void *base, const struct gw_key_spec *spec)
{
    struct gw_rate_limit_list *list = &((struct gw_config *)base)->rate_limits;
    char got[GW_YAML_DESCRIBE_LEN];
    char child[GW_YAML_PATH_LEN];
    (void)spec;
    if (v->kind != GW_YAML_SEQ)
        return gw_key_fail(e, v, path, GW_ECONFIG,
                           "expected a list of {key, rate, burst, match, name}, got %s",
                           gw_yaml_describe(v, got, sizeof(got)));
    if (v->n_items > GW_RATE_LIMITS_MAX)
        return gw_key_fail(e, v, path, GW_ECONFIG, "at most %d limits, got %zu", GW_RATE_LIMITS_MAX,
                           v->n_items);
    gw_rate_limit_list_clear(list);
    list->items = xcalloc(v->n_items ? v->n_items : 1, sizeof(*list->items));
    for (size_t i = 0; i < v->n_items; i++) {
        const struct gw_yaml_node *item = v->items[i];
        gw_yaml_path_printf(child, sizeof(child), "%s[%zu]", path, i);
        if (item->kind != GW_YAML_MAP)
            return gw_key_fail(e, item, child, GW_ECONFIG,
                               "expected a mapping {key, rate, burst, match, name}, got %s",
                               gw_yaml_describe(item, got, sizeof(got)));
        struct gw_rate_limit_conf *l = &list->items[list->n++];
        l->line = item->line;
        int rc = gw_keys_apply_map(e, item, child, limit_keys, ARRAY_LEN(limit_keys), l, true);
        if (rc == GW_OK)
            rc = settle(e, item, child, list);
        if (rc != GW_OK)
            return rc;
    }
    return GW_OK;
}

int gw_config_apply_trusted_proxies(const struct gw_key_err *e, const struct gw_yaml_node *v,
                                    const char *path, void *base, const struct gw_key_spec *spec)
{
    struct gw_cidr_list *list = &((struct gw_config *)base)->trusted_proxies;
    char got[GW_YAML_DESCRIBE_LEN];
    char child[GW_YAML_PATH_LEN];
    char reason[128];
    (void)spec;
    gw_cidr_list_clear(list);
    bool one = v->kind == GW_YAML_STRING;
    if (!one && v->kind != GW_YAML_SEQ)
        return gw_key_fail(e, v, path, GW_ECONFIG,
                           "expected a list of CIDR blocks such as '10.0.0.0/8' or 'fd00::/8', "
                           "got %s",
                           gw_yaml_describe(v, got, sizeof(got)));
    size_t n = one ? 1 : v->n_items;
    list->items = xcalloc(n ? n : 1, sizeof(*list->items));
    for (size_t i = 0; i < n; i++) {
        const struct gw_yaml_node *item = one ? v : v->items[i];
        if (one)
            snprintf(child, sizeof(child), "%s", path);
        else
            gw_yaml_path_printf(child, sizeof(child), "%s[%zu]", path, i);
        if (item->kind != GW_YAML_STRING)
            return gw_key_fail(e, item, child, GW_ECONFIG,
                               "expected a CIDR block such as '10.0.0.0/8', got %s",
                               gw_yaml_describe(item, got, sizeof(got)));
        if (!gw_cidr_parse(item->text, &list->items[list->n], reason, sizeof(reason)))
            return gw_key_fail(e, item, child, GW_ECONFIG, "%s", reason);
        list->n++;
    }
    return GW_OK;
}
