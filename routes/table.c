/* table.c - the route table: werkzeug 2.2's StateMachineMatcher in C (see table.h).
 *
 * werkzeug (routing/matcher.py) turns every rule into a path of states, one per "/"-separated part.
 * A state has static transitions (keyed by the exact text of a part), dynamic transitions (a part
 * with variables, tried with its regex) sorted by weight, and the rules that end there. Matching
 * walks the request path part by part, static transitions before dynamic ones, backtracking when a
 * branch fails. This file keeps that algorithm, order for order, so that every answer (which rule
 * wins, 404, 405 and its Allow list, the 308 strict-slash redirect) is the one nameko would give;
 * routes/rule.c supplies the parts, routes/rule_match.c the per-part regex matching.
 *
 * Cost per request is one binary search per path part plus the dynamic transitions of the states
 * visited, independent of the number of routes that live elsewhere in the tree.
 */
#include "routes/table.h"

#include "core/status.h"
#include "core/strbuf.h"
#include "core/text.h"
#include "core/xalloc.h"
#include "routes/converter.h"
#include "routes/rule.h"
#include "routes/rule_match.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest method name accepted; HTTP has no limit, but real methods are short. */
#define METHOD_MAX 32

struct route {
    char *text; /* new: the rule as given */
    struct gw_rule *rule;
    size_t *methods; /* new: interned method ids */
    size_t nmethods;
    void *target; /* borrowed */
};

struct state;

struct static_edge {
    const char *key; /* borrowed from the part of the route that created the edge */
    size_t len;
    struct state *to;
};

/* A dynamic transition keeps the part (and converters) of the first route that created it; later
 * routes with an equal part share it, as werkzeug's RulePart.__eq__ merges them. */
struct dynamic_edge {
    const struct gw_rule_part *part;
    const struct gw_rule_conv *convs;
    size_t order; /* creation order: werkzeug's list.sort is stable */
    struct state *to;
};

struct state {
    struct static_edge *statics; /* sorted by (key bytes, length) for binary search */
    size_t nstatics;
    struct dynamic_edge *dynamics; /* sorted by weight at compile time */
    size_t ndynamics;
    size_t *routes; /* indexes into table->routes, in the order they were added */
    size_t nroutes;
};

struct gw_route_table {
    struct route *routes;
    size_t nroutes;
    char **methods; /* new: interned upper-case method names; ids index this array */
    size_t nmethods;
    struct state *root;
    size_t nedges;
    int compiled;
};

/* ---------------------------------------------------------------------------------------------
 * States.
 */

static void state_free(struct state *st)
{
    if (st == NULL)
        return;
    for (size_t i = 0; i < st->nstatics; i++)
        state_free(st->statics[i].to);
    for (size_t i = 0; i < st->ndynamics; i++)
        state_free(st->dynamics[i].to);
    free(st->statics);
    free(st->dynamics);
    free(st->routes);
    free(st);
}

static int key_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen;
}

/* Binary search: returns the index of key, or the index to insert it at with *found = 0. */
static size_t static_find(const struct state *st, const char *key, size_t len, int *found)
{
    size_t lo = 0, hi = st->nstatics;
    *found = 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = key_cmp(st->statics[mid].key, st->statics[mid].len, key, len);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static const struct state *static_child(const struct state *st, const char *key, size_t len)
{
    int found;
    size_t i = static_find(st, key, len, &found);
    return found ? st->statics[i].to : NULL;
}

/* The existing transition for part from st, or NULL. */
static struct state *transition_find(struct state *st, const struct gw_rule_part *part)
{
    if (part->is_static) {
        int found;
        size_t i = static_find(st, part->key, part->key_len, &found);
        return found ? st->statics[i].to : NULL;
    }
    /* werkzeug compares each existing dynamic transition with == too; this runs at add time. */
    for (size_t i = 0; i < st->ndynamics; i++)
        if (gw_rule_part_equal(st->dynamics[i].part, part))
            return st->dynamics[i].to;
    return NULL;
}

/* The transition for part from st, created if it does not exist yet (add time only). */
static struct state *transition_make(struct gw_route_table *table, struct state *st,
                                     const struct gw_rule_part *part,
                                     const struct gw_rule_conv *convs)
{
    struct state *to = transition_find(st, part);
    if (to != NULL)
        return to;
    to = xcalloc(1, sizeof(*to));
    if (part->is_static) {
        int found;
        size_t i = static_find(st, part->key, part->key_len, &found);
        st->statics = xrealloc(st->statics, (st->nstatics + 1) * sizeof(*st->statics));
        memmove(&st->statics[i + 1], &st->statics[i], (st->nstatics - i) * sizeof(*st->statics));
        st->nstatics++;
        st->statics[i] = (struct static_edge){part->key, part->key_len, to};
    } else {
        st->dynamics = xrealloc(st->dynamics, (st->ndynamics + 1) * sizeof(*st->dynamics));
        st->dynamics[st->ndynamics++] = (struct dynamic_edge){part, convs, table->nedges++, to};
    }
    return to;
}

static int dynamic_cmp(const void *a, const void *b)
{
    const struct dynamic_edge *x = a, *y = b;
    int c = gw_rule_weight_cmp(&x->part->weight, &y->part->weight);
    if (c != 0)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

static void state_sort(struct state *st)
{
    if (st->ndynamics > 1)
        qsort(st->dynamics, st->ndynamics, sizeof(*st->dynamics), dynamic_cmp);
    for (size_t i = 0; i < st->nstatics; i++)
        state_sort(st->statics[i].to);
    for (size_t i = 0; i < st->ndynamics; i++)
        state_sort(st->dynamics[i].to);
}

/* ---------------------------------------------------------------------------------------------
 * Methods.
 */

static size_t method_id(const struct gw_route_table *table, const char *name)
{
    for (size_t i = 0; i < table->nmethods; i++)
        if (strcmp(table->methods[i], name) == 0)
            return i;
    return SIZE_MAX;
}

static size_t method_intern(struct gw_route_table *table, const char *name)
{
    size_t id = method_id(table, name);
    if (id != SIZE_MAX)
        return id;
    table->methods = xrealloc(table->methods, (table->nmethods + 1) * sizeof(char *));
    table->methods[table->nmethods] = xstrdup(name);
    return table->nmethods++;
}

static void add_method_id(size_t **ids, size_t *n, size_t id)
{
    for (size_t i = 0; i < *n; i++)
        if ((*ids)[i] == id)
            return;
    *ids = xrealloc(*ids, (*n + 1) * sizeof(size_t));
    (*ids)[(*n)++] = id;
}

/* nameko's "GET,PUT,POST": split on ',', each name trimmed and upper-cased; GET brings HEAD, as
 * werkzeug's Rule adds it. */
static int parse_methods(struct gw_route_table *table, const char *methods, size_t **ids, size_t *n,
                         char *err, size_t errlen)
{
    *ids = NULL;
    *n = 0;
    const char *p = methods;
    for (;;) {
        const char *end = strchr(p, ',');
        if (end == NULL)
            end = p + strlen(p);
        const char *s = p, *e = end;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        char name[METHOD_MAX + 1];
        size_t len = (size_t)(e - s);
        if (len == 0) {
            gw_set_err(err, errlen, "empty method name in '%s'", methods);
            goto fail;
        }
        if (len > METHOD_MAX) {
            gw_set_err(err, errlen, "method name too long in '%s'", methods);
            goto fail;
        }
        for (size_t i = 0; i < len; i++) {
            char c = s[i];
            name[i] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
            if (!gw_is_tchar((unsigned char)name[i])) {
                gw_set_err(err, errlen, "bad method name '%.*s'", (int)len, s);
                goto fail;
            }
        }
        name[len] = '\0';
        add_method_id(ids, n, method_intern(table, name));
        if (*end == '\0')
            break;
        p = end + 1;
    }
    size_t get = method_id(table, "GET");
    for (size_t i = 0; i < *n; i++)
        if ((*ids)[i] == get) {
            add_method_id(ids, n, method_intern(table, "HEAD"));
            break;
        }
    return GW_OK;
fail:
    free(*ids);
    *ids = NULL;
    *n = 0;
    return GW_ERULE;
}

static int route_allows(const struct route *route, size_t id)
{
    for (size_t i = 0; i < route->nmethods; i++)
        if (route->methods[i] == id)
            return 1;
    return 0;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Writes the sorted names of ids (or of every set flag in have) joined by sep. */
static void join_methods(const struct gw_route_table *table, const size_t *ids, size_t n,
                         const unsigned char *have, const char *sep, char *buf, size_t len)
{
    const char **names = xcalloc(table->nmethods + 1, sizeof(char *));
    size_t count = 0;
    if (have != NULL) {
        for (size_t i = 0; i < table->nmethods; i++)
            if (have[i])
                names[count++] = table->methods[i];
    } else {
        for (size_t i = 0; i < n; i++)
            names[count++] = table->methods[ids[i]];
    }
    qsort(names, count, sizeof(char *), name_cmp);
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < count; i++) {
        size_t need = (i ? strlen(sep) : 0) + strlen(names[i]);
        if (used + need + 1 > len)
            break; /* only whole names: a cut-off method would mislead a client */
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? sep : "", names[i]);
    }
    free(names);
}

/* ---------------------------------------------------------------------------------------------
 * Public API: building.
 */

struct gw_route_table *gw_route_table_new(void)
{
    struct gw_route_table *table = xcalloc(1, sizeof(*table));
    table->root = xcalloc(1, sizeof(*table->root));
    return table;
}

void gw_route_table_free(struct gw_route_table *table)
{
    if (table == NULL)
        return;
    state_free(table->root);
    for (size_t i = 0; i < table->nroutes; i++) {
        free(table->routes[i].text);
        gw_rule_free(table->routes[i].rule);
        free(table->routes[i].methods);
    }
    free(table->routes);
    for (size_t i = 0; i < table->nmethods; i++)
        free(table->methods[i]);
    free(table->methods);
    free(table);
}

/* Python's re.sub("/{2,}?", "/", s), which werkzeug's merge_slashes applies: the lazy "{2,}?"
 * matches exactly two slashes, so each "//" becomes "/" ("///" gives "//"). Returns a new string.
 */
static char *merge_slashes(const char *s)
{
    size_t n = strlen(s);
    char *out = xmalloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        out[o++] = s[i];
        if (s[i] == '/' && s[i + 1] == '/')
            i++;
    }
    out[o] = '\0';
    return out;
}

int gw_route_table_add(struct gw_route_table *table, const char *rule, const char *methods,
                       void *target, char *err, size_t errlen)
{
    int rc = GW_ERULE;
    struct gw_rule *parsed = NULL;
    size_t *ids = NULL;
    size_t nids = 0;
    if (errlen > 0 && err != NULL)
        err[0] = '\0';
    if (table == NULL || rule == NULL || methods == NULL) {
        gw_set_err(err, errlen, "missing table, rule or methods");
        return GW_EINVAL;
    }
    if (table->compiled) {
        gw_set_err(err, errlen, "the table is already compiled");
        return GW_EINVAL;
    }
    /* nameko's Map() merges slashes in rules too (Rule.compile). */
    char *merged_rule = merge_slashes(rule);
    int parsed_rc = gw_rule_parse(merged_rule, strlen(merged_rule), &parsed, err, errlen);
    free(merged_rule);
    if (parsed_rc != GW_OK)
        goto out;
    if (parse_methods(table, methods, &ids, &nids, err, errlen) != GW_OK)
        goto out;

    /* werkzeug would keep both and the later route would never be reached for the shared methods,
     * whatever its variable names or converter options: both end in the same state, and the
     * earlier route is first in it. Say so now instead. */
    struct state *st = table->root;
    for (size_t i = 0; i < parsed->nparts && st != NULL; i++)
        st = transition_find(st, &parsed->parts[i]);
    for (size_t i = 0; st != NULL && i < st->nroutes; i++) {
        const struct route *other = &table->routes[st->routes[i]];
        for (size_t j = 0; j < nids; j++) {
            if (route_allows(other, ids[j])) {
                gw_set_err(err, errlen, "same rule as '%s' for method %s", other->text,
                           table->methods[ids[j]]);
                rc = GW_EDUPLICATE;
                goto out;
            }
        }
    }

    st = table->root;
    for (size_t i = 0; i < parsed->nparts; i++)
        st = transition_make(table, st, &parsed->parts[i], parsed->convs);
    st->routes = xrealloc(st->routes, (st->nroutes + 1) * sizeof(size_t));
    st->routes[st->nroutes++] = table->nroutes;
    table->routes = xrealloc(table->routes, (table->nroutes + 1) * sizeof(*table->routes));
    table->routes[table->nroutes++] = (struct route){xstrdup(rule), parsed, ids, nids, target};
    parsed = NULL;
    ids = NULL;
    rc = GW_OK;
out:
    gw_rule_free(parsed);
    free(ids);
    return rc;
}

int gw_route_table_compile(struct gw_route_table *table)
{
    if (table == NULL)
        return GW_EINVAL;
    /* StateMachineMatcher.update: dynamic transitions in weight order, ties in creation order. */
    state_sort(table->root);
    table->compiled = 1;
    return GW_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Matching: StateMachineMatcher.match.
 */

struct match_ctx {
    const struct gw_route_table *table;
    size_t method;       /* interned id, SIZE_MAX if no route has this method */
    unsigned char *have; /* have_match_for: methods of rules that matched the path only */
    int slash_required;  /* werkzeug raises SlashRequired: stop everything, redirect */
    struct gw_rule_span spans[GW_RULE_MAX_VARS];
};

static void have_add(struct match_ctx *ctx, const struct route *route)
{
    if (ctx->have == NULL)
        ctx->have = xcalloc(ctx->table->nmethods, 1);
    for (size_t i = 0; i < route->nmethods; i++)
        ctx->have[route->methods[i]] = 1;
}

/* The remaining parts of the path are the "/"-separated pieces of [rest, end); has_parts is 0 for
 * the empty list, which differs from the list [""] (rest == end, has_parts == 1). */
static const struct route *match_state(struct match_ctx *ctx, const struct state *st,
                                       const char *rest, const char *end, int has_parts,
                                       size_t nvals)
{
    const struct gw_route_table *table = ctx->table;
    const struct route *rv;
    if (!has_parts) {
        for (size_t i = 0; i < st->nroutes; i++) {
            const struct route *route = &table->routes[st->routes[i]];
            if (route_allows(route, ctx->method))
                return route;
            have_add(ctx, route);
        }
        /* The path would match with a slash appended, for this method: a 308 (strict_slashes).
         * Note that a rule that lacks only the method does not count here. */
        const struct state *slash = static_child(st, "", 0);
        for (size_t i = 0; slash != NULL && i < slash->nroutes; i++) {
            if (route_allows(&table->routes[slash->routes[i]], ctx->method)) {
                ctx->slash_required = 1;
                return NULL;
            }
        }
        return NULL;
    }

    const char *sep = memchr(rest, '/', (size_t)(end - rest));
    const char *part_end = sep != NULL ? sep : end;
    const char *next = sep != NULL ? sep + 1 : end;
    const struct state *to = static_child(st, rest, (size_t)(part_end - rest));
    if (to != NULL) {
        rv = match_state(ctx, to, next, end, sep != NULL, nvals);
        if (rv != NULL || ctx->slash_required)
            return rv;
    }
    for (size_t i = 0; i < st->ndynamics; i++) {
        const struct dynamic_edge *edge = &st->dynamics[i];
        /* A final part (one with a path converter) consumes every remaining part at once. */
        const char *target_end = edge->part->final ? end : part_end;
        if (nvals + edge->part->ncaptures > GW_RULE_MAX_VARS)
            continue;
        if (!gw_rule_part_match(edge->part, edge->convs, rest, (size_t)(target_end - rest),
                                ctx->spans + nvals))
            continue;
        if (edge->part->final)
            rv = match_state(ctx, edge->to, end, end, 0, nvals + edge->part->ncaptures);
        else
            rv = match_state(ctx, edge->to, next, end, sep != NULL, nvals + edge->part->ncaptures);
        if (rv != NULL || ctx->slash_required)
            return rv;
    }
    /* werkzeug next tries rules without strict_slashes for a lone trailing ""; nameko's Map has
     * strict_slashes=True for every rule, so there is nothing to try. */
    return NULL;
}

static int no_match(const struct match_ctx *ctx, struct gw_route_match *out)
{
    if (ctx->have == NULL)
        return GW_ENOMATCH;
    join_methods(ctx->table, NULL, 0, ctx->have, ", ", out->allow, sizeof(out->allow));
    return GW_EMETHOD;
}

int gw_route_table_match(const struct gw_route_table *table, const char *method, const char *path,
                         struct gw_route_match *out)
{
    int rc;
    if (out == NULL)
        return GW_EINVAL;
    memset(out, 0, sizeof(*out));
    if (table == NULL || method == NULL || path == NULL || !table->compiled)
        return GW_EINVAL;

    struct match_ctx ctx = {.table = table, .method = SIZE_MAX};
    /* MapAdapter.match upper-cases the method. */
    char name[METHOD_MAX + 1];
    size_t mlen = strlen(method);
    if (mlen <= METHOD_MAX) {
        for (size_t i = 0; i <= mlen; i++)
            name[i] =
                (method[i] >= 'a' && method[i] <= 'z') ? (char)(method[i] - 'a' + 'A') : method[i];
        ctx.method = method_id(table, name);
    }

    /* werkzeug matches f"/{path_info.lstrip('/')}", or "" for an empty path, split on "/", after
     * a "" for the domain. Every rule starts with the domain's "" and the leading slash's "", so
     * both are followed here by hand. */
    const char *rest = path;
    while (*rest == '/')
        rest++;
    const char *end = rest + strlen(rest);
    const struct route *route = NULL;
    const struct state *st = static_child(table->root, "", 0);
    if (st != NULL) {
        if (*path == '\0')
            route = match_state(&ctx, st, end, end, 0, 0);
        else
            route = match_state(&ctx, st, rest, end, 1, 0);
    }

    if (ctx.slash_required) {
        out->redirect = *path == '\0' ? xstrdup("/") : xasprintf("/%s/", rest);
        rc = GW_EREDIRECT;
        goto out;
    }
    if (route == NULL && st != NULL && strstr(rest, "//") != NULL) {
        /* merge_slashes (nameko's Map() has it on): match again with the slashes merged; a match
         * then is a 308 to the merged path. The methods seen on both tries count for a 405. A
         * table without routes has no st: nothing to try again. */
        char *merged = merge_slashes(rest);
        ctx.slash_required = 0;
        route = match_state(&ctx, st, merged, merged + strlen(merged), 1, 0);
        if (ctx.slash_required || route != NULL) {
            out->redirect = xasprintf("/%s%s", merged, ctx.slash_required ? "/" : "");
            rc = GW_EREDIRECT;
        } else {
            rc = no_match(&ctx, out);
        }
        free(merged);
        goto out;
    }
    if (route == NULL) {
        rc = no_match(&ctx, out);
        goto out;
    }
    /* Only the winning rule converts its values; a ValidationError does not try another rule,
     * it ends the match (NoMatch), with whatever methods were seen on the way: 404 or 405. */
    out->values = json_object();
    for (size_t i = 0; i < route->rule->nconvs; i++) {
        json_t *value;
        const struct gw_rule_conv *conv = &route->rule->convs[i];
        if (gw_converter_value(conv, ctx.spans[i].ptr, ctx.spans[i].len, &value) != GW_OK) {
            json_decref(out->values);
            out->values = NULL;
            rc = no_match(&ctx, out);
            goto out;
        }
        json_object_set_new(out->values, conv->name, value);
    }
    out->target = route->target;
    rc = GW_OK;
out:
    free(ctx.have);
    return rc;
}

void gw_route_match_clear(struct gw_route_match *match)
{
    if (match == NULL)
        return;
    json_decref(match->values);
    free(match->redirect);
    memset(match, 0, sizeof(*match));
}

void gw_route_table_dump(const struct gw_route_table *table, gw_route_describe_fn describe,
                         gw_route_line_fn line, void *ctx)
{
    if (table == NULL || line == NULL)
        return;
    for (size_t i = 0; i < table->nroutes; i++) {
        const struct route *route = &table->routes[i];
        char methods[256];
        char columns[512] = "";
        join_methods(table, route->methods, route->nmethods, NULL, ",", methods, sizeof(methods));
        if (describe != NULL)
            describe(route->target, columns, sizeof(columns));
        char *text =
            xasprintf("%s\t%s%s%s\n", route->text, methods, describe != NULL ? "\t" : "", columns);
        line(ctx, text);
        free(text);
    }
}

size_t gw_route_table_count(const struct gw_route_table *table)
{
    return table ? table->nroutes : 0;
}

int gw_route_table_get(const struct gw_route_table *table, size_t i, struct gw_route_info *out)
{
    if (table == NULL || out == NULL || i >= table->nroutes)
        return GW_EINVAL;
    const struct route *route = &table->routes[i];
    out->text = route->text;
    out->rule = route->rule;
    out->target = route->target;
    join_methods(table, route->methods, route->nmethods, NULL, ",", out->methods,
                 sizeof(out->methods));
    return GW_OK;
}
