/* config_policy.c - GATEWAY.expose and GATEWAY.channels entry by entry, and the syntax of channel
 * patterns. */
#include "core/config_policy.h"

#include "core/config.h"
#include "core/status.h"
#include "core/strbuf.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "core/yaml_tree.h"

#include <stdlib.h>
#include <string.h>

/* The characters of a claim's name in {name}. */
#define CLAIM_NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-:/"

#define EXPOSE_LIST_WHAT "'service.method' globs such as 'greeting_service.*'"
#define EXPOSE_ITEM_WHAT "a glob such as 'greeting_service.*'"
#define CHANNELS_LIST_WHAT "channel patterns such as 'room.*'"
#define CHANNELS_ITEM_WHAT "a channel pattern such as 'room.*'"

static bool fail_reason(char *reason, size_t len, const char *text)
{
    if (reason != NULL && len > 0)
        gw_set_err(reason, len, "%s", text);
    return false;
}

/* One segment of a channel pattern: s[0..n), no '.' in it. */
static bool check_segment(const char *s, size_t n, char *reason, size_t len)
{
    size_t stars = 0, claims = 0;
    if (n == 0)
        return fail_reason(reason, len, "an empty segment (a '.' at an end, or two in a row)");
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '*') {
            size_t run = 1;
            while (i + run < n && s[i + run] == '*')
                run++;
            if (run > 2)
                return fail_reason(reason, len, "'***' is not a pattern (write '**')");
            stars++;
            i += run - 1;
        } else if (s[i] == '{') {
            size_t name = strspn(s + i + 1, CLAIM_NAME_CHARS);
            if (i + 1 + name >= n)
                return fail_reason(reason, len, "'{' without its '}'");
            if (s[i + 1 + name] != '}')
                return fail_reason(reason, len,
                                   "a claim's name has only letters, digits, '_', '-', ':' "
                                   "and '/'");
            if (name == 0)
                return fail_reason(reason, len, "'{}' names no claim");
            claims++;
            i += name + 1;
        } else if (s[i] == '}') {
            return fail_reason(reason, len, "'}' without its '{'");
        }
    }
    /* Around a claim only literal text keeps its value read one way: `*{sub}` would let user 1
     * read user 21's channel, `{a}{b}` take a=1 b=23 for a=12 b=3. */
    if (claims > 1)
        return fail_reason(reason, len, "two claims in one segment could be read two ways");
    if (claims > 0 && stars > 0)
        return fail_reason(reason, len,
                           "a claim shares its segment with '*' (user.*{sub} would let user 1 "
                           "read user 21's channel)");
    return true;
}

bool gw_channel_pattern_check(const char *pattern, char *reason, size_t reason_len)
{
    const char *segment = pattern;
    for (;;) {
        size_t n = strcspn(segment, ".");
        if (!check_segment(segment, n, reason, reason_len))
            return false;
        if (segment[n] == '\0')
            return true;
        segment += n + 1;
    }
}

bool gw_channel_pattern_names_claim(const char *pattern)
{
    return strchr(pattern, '{') != NULL;
}

void gw_policy_list_clear(struct gw_policy_list *list)
{
    for (size_t i = 0; i < list->n; i++) {
        free(list->items[i].pattern);
        gw_string_list_clear(&list->items[i].scopes);
    }
    free(list->items);
    list->items = NULL;
    list->n = 0;
}

/* A pattern: a non-empty string (spec->item_what names it), for a channel one that
 * gw_channel_pattern_check accepts. */
static int set_pattern(const struct gw_key_err *e, const struct gw_yaml_node *v, const char *path,
                       struct gw_policy_entry *entry, const struct gw_key_spec *spec, bool channel)
{
    char got[GW_YAML_DESCRIBE_LEN];
    char reason[GW_CHANNEL_REASON_LEN];
    if (v->kind != GW_YAML_STRING || v->text[0] == '\0')
        return gw_key_fail(e, v, path, GW_ECONFIG, "expected %s, got %s", spec->item_what,
                           gw_yaml_describe(v, got, sizeof(got)));
    if (channel && !gw_channel_pattern_check(v->text, reason, sizeof(reason)))
        return gw_key_fail(e, v, path, GW_ECONFIG, "%s: %s", gw_yaml_describe(v, got, sizeof(got)),
                           reason);
    gw_key_replace_string(&entry->pattern, v->text);
    return GW_OK;
}

static int apply_glob(const struct gw_key_err *e, const struct gw_yaml_node *v, const char *path,
                      void *base, const struct gw_key_spec *spec)
{
    return set_pattern(e, v, path, base, spec, false);
}

static int apply_channel_pattern(const struct gw_key_err *e, const struct gw_yaml_node *v,
                                 const char *path, void *base, const struct gw_key_spec *spec)
{
    return set_pattern(e, v, path, base, spec, true);
}

static int apply_entry_auth(const struct gw_key_err *e, const struct gw_yaml_node *v,
                            const char *path, void *base, const struct gw_key_spec *spec)
{
    struct gw_policy_entry *entry = base;
    size_t index = 0;
    (void)spec;
    int rc = gw_key_choose(e, v, path, gw_auth_mode_names, &index);
    if (rc == GW_OK) {
        entry->auth = (enum gw_auth_mode)index;
        entry->auth_given = true;
    }
    return rc;
}

#define SCOPES_KEY                                                                                 \
    {                                                                                              \
        .name = "scopes", .apply = gw_key_apply_string_list,                                       \
        .offset = offsetof(struct gw_policy_entry, scopes),                                        \
        .list_what = "scopes such as 'orders:read'", .item_what = "a scope such as 'orders:read'"  \
    }

/* The keys of an entry's mapping; the pattern's comes first (a plain string is one). */
static const struct gw_key_spec expose_keys[] = {
    {.name = "pattern", .apply = apply_glob, .item_what = EXPOSE_ITEM_WHAT},
    {.name = "auth", .apply = apply_entry_auth},
    SCOPES_KEY,
};
static const struct gw_key_spec channel_keys[] = {
    {.name = "pattern", .apply = apply_channel_pattern, .item_what = CHANNELS_ITEM_WHAT},
    {.name = "auth", .apply = apply_entry_auth},
    SCOPES_KEY,
};
_Static_assert(ARRAY_LEN(expose_keys) == ARRAY_LEN(channel_keys), "one shape of entry");
#define N_ENTRY_KEYS ARRAY_LEN(expose_keys)

/* One entry: a string (its pattern) or a mapping of the keys above. */
static int apply_entry(const struct gw_key_err *e, const struct gw_yaml_node *item,
                       const char *path, const struct gw_key_spec *keys,
                       struct gw_policy_entry *entry)
{
    char got[GW_YAML_DESCRIBE_LEN];
    char child[GW_YAML_PATH_LEN];
    entry->line = item->line;
    if (item->kind == GW_YAML_STRING)
        return keys[0].apply(e, item, path, entry, &keys[0]);
    if (item->kind != GW_YAML_MAP)
        return gw_key_fail(e, item, path, GW_ECONFIG,
                           "expected %s or a mapping {pattern, auth, scopes}, got %s",
                           keys[0].item_what, gw_yaml_describe(item, got, sizeof(got)));
    int rc = gw_keys_apply_map(e, item, path, keys, N_ENTRY_KEYS, entry, true);
    if (rc != GW_OK)
        return rc;
    if (entry->pattern == NULL) {
        gw_yaml_path_join(child, sizeof(child), path, "pattern");
        return gw_key_fail(e, item, child, GW_ECONFIG, "required key is missing");
    }
    return GW_OK;
}

/* A list of entries, or one string alone (a list of one). */
static int apply_list(const struct gw_key_err *e, const struct gw_yaml_node *v, const char *path,
                      struct gw_policy_list *list, const struct gw_key_spec *keys,
                      const char *list_what)
{
    char got[GW_YAML_DESCRIBE_LEN];
    char child[GW_YAML_PATH_LEN];
    gw_policy_list_clear(list);
    if (v->kind == GW_YAML_STRING && v->text[0] != '\0') {
        list->items = xcalloc(1, sizeof(*list->items));
        list->n = 1;
        return apply_entry(e, v, path, keys, &list->items[0]);
    }
    if (v->kind != GW_YAML_SEQ)
        return gw_key_fail(e, v, path, GW_ECONFIG, "expected a list of %s, got %s", list_what,
                           gw_yaml_describe(v, got, sizeof(got)));
    list->items = xcalloc(v->n_items ? v->n_items : 1, sizeof(*list->items));
    for (size_t i = 0; i < v->n_items; i++) {
        gw_yaml_path_printf(child, sizeof(child), "%s[%zu]", path, i);
        /* Counted before it is filled, so that a failure frees what it holds. */
        list->n++;
        int rc = apply_entry(e, v->items[i], child, keys, &list->items[i]);
        if (rc != GW_OK)
            return rc;
    }
    return GW_OK;
}

int gw_config_apply_expose(const struct gw_key_err *e, const struct gw_yaml_node *v,
                           const char *path, void *base, const struct gw_key_spec *spec)
{
    (void)spec;
    return apply_list(e, v, path, &((struct gw_config *)base)->expose, expose_keys,
                      EXPOSE_LIST_WHAT);
}

int gw_config_apply_channels(const struct gw_key_err *e, const struct gw_yaml_node *v,
                             const char *path, void *base, const struct gw_key_spec *spec)
{
    (void)spec;
    return apply_list(e, v, path, &((struct gw_config *)base)->channels, channel_keys,
                      CHANNELS_LIST_WHAT);
}
