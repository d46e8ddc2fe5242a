/* config.c - loads enoki's YAML configuration (config.h lists the keys and the rules).
 *
 * Three stages. A libyaml event parser builds a small tree of nodes and resolves every scalar as it
 * arrives, the way PyYAML's SafeLoader does once nameko has registered its !env_var resolver:
 * ${VAR:default} substitution, re-parsing of the substituted text, and YAML 1.1 implicit types.
 * Then the --define values replace top-level entries. Last, tables of keys validate the tree into a
 * struct gw_config, which is never changed again.
 *
 * Aliases share nodes (reference counted) instead of copying them, so "billion laughs" documents
 * cost no memory, and an anchor is registered only once its node is complete, so no cycles exist.
 */
#include "core/config.h"

#include "core/status.h"
#include "core/strbuf.h"
#include "core/xalloc.h"

#include <yaml.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_AMQP_URI "pyamqp://guest:guest@localhost"

/* Deeper nesting than this is surely not a configuration, and the tree code is recursive. */
#define MAX_NESTING 64
/* A variable whose value refers to itself would otherwise re-parse forever (Python hits its
 * recursion limit). Eight levels of variables referring to variables is plenty. */
#define MAX_SUBST_DEPTH 8
#define PATH_LEN 256

/* ---------------------------------------------------------------------------------------------
 * Small helpers
 */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Python's \s for str patterns, restricted to ASCII (it also counts 0x1c..0x1f). */
static bool is_py_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

static bool all_chars_in(const char *s, size_t n, const char *set)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\0' || strchr(set, s[i]) == NULL)
            return false;
    }
    return true;
}

static bool contains(const char *s, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++) {
        if (memcmp(s + i, needle, k) == 0)
            return true;
    }
    return false;
}

__attribute__((format(printf, 3, 0))) static void vset_reason(char *err, size_t errlen,
                                                              const char *fmt, va_list ap)
{
    if (err == NULL || errlen == 0)
        return;
    vsnprintf(err, errlen, fmt, ap);
}

__attribute__((format(printf, 3, 4))) static void set_reason(char *err, size_t errlen,
                                                             const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset_reason(err, errlen, fmt, ap);
    va_end(ap);
}

/* Writes "<origin>:<line>: <path>: <reason>"; line 0 (a --define) and an empty path are left out.
 */
__attribute__((format(printf, 6, 0))) static void vformat_error(char *err, size_t errlen,
                                                                const char *origin, int line,
                                                                const char *path, const char *fmt,
                                                                va_list ap)
{
    if (err == NULL || errlen == 0)
        return;
    int n = line > 0 ? snprintf(err, errlen, "%s:%d: ", origin, line)
                     : snprintf(err, errlen, "%s: ", origin);
    size_t used = n > 0 ? (size_t)n : 0;
    if (used >= errlen)
        return;
    if (path != NULL && path[0] != '\0') {
        n = snprintf(err + used, errlen - used, "%s: ", path);
        used += n > 0 ? (size_t)n : 0;
        if (used >= errlen)
            return;
    }
    vsnprintf(err + used, errlen - used, fmt, ap);
}

/* Key paths are for messages only, so a long one is simply cut (this wrapper also keeps gcc's
 * -Wformat-truncation quiet about it). */
__attribute__((format(printf, 3, 4))) static void path_printf(char *buf, size_t len,
                                                              const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

/* ---------------------------------------------------------------------------------------------
 * Nodes
 */

enum node_kind { NODE_NULL, NODE_BOOL, NODE_INT, NODE_FLOAT, NODE_STRING, NODE_SEQ, NODE_MAP };

struct node {
    enum node_kind kind;
    unsigned refs;      /* aliases share nodes */
    const char *origin; /* borrowed: the file name or "--define KEY" */
    int line;           /* 1-based; 0 when the origin has no lines (a --define) */
    bool plain;         /* a scalar written without quotes */
    char *tag;          /* the explicit tag as libyaml resolved it, or NULL */
    char *text;     /* scalars: the text after substitution, used in messages and as the string */
    long long ival; /* NODE_INT, clamped to the long long range */
    double fval;    /* NODE_FLOAT */
    bool bval;      /* NODE_BOOL */
    struct node **items; /* NODE_SEQ: the items; NODE_MAP: key, value, key, value... */
    size_t n_items, cap_items;
};

static struct node *node_new(enum node_kind kind, const char *origin, int line, const char *text)
{
    struct node *n = xcalloc(1, sizeof(*n));
    n->kind = kind;
    n->refs = 1;
    n->origin = origin;
    n->line = line;
    n->text = text != NULL ? xstrdup(text) : NULL;
    return n;
}

static void node_unref(struct node *n)
{
    if (n == NULL || --n->refs > 0)
        return;
    for (size_t i = 0; i < n->n_items; i++)
        node_unref(n->items[i]);
    free(n->items);
    free(n->tag);
    free(n->text);
    free(n);
}

/* Appends child to parent, stealing the reference. */
static void node_push_take(struct node *parent, struct node *child)
{
    if (parent->n_items == parent->cap_items) {
        parent->cap_items = parent->cap_items ? parent->cap_items * 2 : 8;
        parent->items = xrealloc(parent->items, parent->cap_items * sizeof(*parent->items));
    }
    parent->items[parent->n_items++] = child;
}

static size_t map_pairs(const struct node *map)
{
    return map->n_items / 2;
}

static bool node_is_key(const struct node *key, const char *name)
{
    return key->kind == NODE_STRING && strcmp(key->text, name) == 0;
}

/* PyYAML keeps the last of duplicate keys; a pair is skipped when a later pair has its key. */
static bool has_later_duplicate(const struct node *map, size_t pair)
{
    const struct node *key = map->items[2 * pair];
    if (key->kind != NODE_STRING)
        return false;
    for (size_t j = pair + 1; j < map_pairs(map); j++) {
        if (node_is_key(map->items[2 * j], key->text))
            return true;
    }
    return false;
}

/* Describes a value for "got ..." in messages: the text in quotes, or what kind of thing it is. */
static const char *describe(const struct node *n, char *buf, size_t len)
{
    switch (n->kind) {
    case NODE_NULL:
        return "null";
    case NODE_SEQ:
        return n->n_items == 0 ? "an empty list" : "a list";
    case NODE_MAP:
        return "a mapping";
    default:
        break;
    }
    if (strlen(n->text) > 60)
        path_printf(buf, len, "'%.57s...'", n->text);
    else
        path_printf(buf, len, "'%s'", n->text);
    return buf;
}

/* ---------------------------------------------------------------------------------------------
 * YAML 1.1 implicit types, as PyYAML's SafeLoader resolves and constructs them. Timestamps are left
 * as strings: no key enoki reads can hold one.
 */

static bool match_one_of(const char *s, const char *const *words)
{
    for (size_t i = 0; words[i] != NULL; i++) {
        if (strcmp(s, words[i]) == 0)
            return true;
    }
    return false;
}

static const char *const null_words[] = {"", "~", "null", "Null", "NULL", NULL};
static const char *const true_words[] = {"yes",  "Yes", "YES", "true", "True",
                                         "TRUE", "on",  "On",  "ON",   NULL};
static const char *const false_words[] = {"no",    "No",  "NO",  "false", "False",
                                          "FALSE", "off", "Off", "OFF",   NULL};

/* Matches (?::[0-5]?[0-9])+ to the end of s, the sexagesimal tail of "1:30". */
static bool match_sexagesimal_tail(const char *s, size_t n)
{
    size_t i = 0;
    if (n == 0)
        return false;
    while (i < n) {
        if (s[i] != ':')
            return false;
        i++;
        if (i + 1 < n && s[i] >= '0' && s[i] <= '5' && is_digit(s[i + 1]) &&
            (i + 2 == n || s[i + 2] == ':'))
            i += 2;
        else if (i < n && is_digit(s[i]) && (i + 1 == n || s[i + 1] == ':'))
            i += 1;
        else
            return false;
    }
    return true;
}

/* Parses digits and underscores in a base, clamping on overflow (Python ints are unbounded, and any
 * value that large fails every range check anyway). */
static long long parse_digits(const char *s, size_t n, int base)
{
    long long v = 0;
    for (size_t i = 0; i < n; i++) {
        int d;
        if (s[i] == '_')
            continue;
        if (is_digit(s[i]))
            d = s[i] - '0';
        else if (s[i] >= 'a' && s[i] <= 'f')
            d = s[i] - 'a' + 10;
        else
            d = s[i] - 'A' + 10;
        if (v > (LLONG_MAX - d) / base)
            return LLONG_MAX;
        v = v * base + d;
    }
    return v;
}

static long long sexagesimal_value(const char *s)
{
    long long v = 0;
    const char *p = s;
    for (;;) {
        size_t n = strcspn(p, ":");
        long long part = parse_digits(p, n, 10);
        if (v > (LLONG_MAX - part) / 60)
            return LLONG_MAX;
        v = v * 60 + part;
        if (p[n] != ':')
            return v;
        p += n + 1;
    }
}

static bool resolve_int(const char *text, long long *out)
{
    const char *s = text;
    bool negative = false;
    if (*s == '-' || *s == '+') {
        negative = *s == '-';
        s++;
    }
    size_t n = strlen(s);
    long long v;
    if (n > 2 && s[0] == '0' && s[1] == 'b' && all_chars_in(s + 2, n - 2, "01_")) {
        v = parse_digits(s + 2, n - 2, 2);
    } else if (n > 2 && s[0] == '0' && s[1] == 'x' &&
               all_chars_in(s + 2, n - 2, "0123456789abcdefABCDEF_")) {
        v = parse_digits(s + 2, n - 2, 16);
    } else if (n == 1 && s[0] == '0') {
        v = 0;
    } else if (n > 1 && s[0] == '0' && all_chars_in(s + 1, n - 1, "01234567_")) {
        v = parse_digits(s + 1, n - 1, 8);
    } else if (n > 0 && s[0] >= '1' && s[0] <= '9') {
        size_t d = strspn(s, "0123456789_");
        if (d == n)
            v = parse_digits(s, n, 10);
        else if (match_sexagesimal_tail(s + d, n - d))
            v = sexagesimal_value(s);
        else
            return false;
    } else {
        return false;
    }
    *out = negative ? -v : v;
    return true;
}

/* Matches [eE][-+][0-9]+ to the end, or nothing at all. */
static bool match_exponent(const char *s)
{
    if (*s == '\0')
        return true;
    if ((s[0] != 'e' && s[0] != 'E') || (s[1] != '-' && s[1] != '+') || !is_digit(s[2]))
        return false;
    return strspn(s + 2, "0123456789") == strlen(s + 2);
}

static bool resolve_float(const char *text, double *out)
{
    const char *s = text;
    bool negative = false;
    bool has_sign = *s == '-' || *s == '+';
    if (has_sign) {
        negative = *s == '-';
        s++;
    }
    if (strcmp(s, ".inf") == 0 || strcmp(s, ".Inf") == 0 || strcmp(s, ".INF") == 0) {
        *out = negative ? -INFINITY : INFINITY;
        return true;
    }
    if (!has_sign && (strcmp(s, ".nan") == 0 || strcmp(s, ".NaN") == 0 || strcmp(s, ".NAN") == 0)) {
        *out = NAN;
        return true;
    }
    size_t d = strspn(s, "0123456789_");
    bool ok = false;
    if (d > 0 && is_digit(s[0]) && s[d] == '.') {
        const char *frac = s + d + 1;
        ok = match_exponent(frac + strspn(frac, "0123456789_"));
    } else if (d == 0 && s[0] == '.' && !has_sign) {
        size_t f = strspn(s + 1, "0123456789_");
        ok = f > 0 && match_exponent(s + 1 + f);
    } else if (d > 0 && is_digit(s[0]) && s[d] == ':') {
        /* "1:30.5", sexagesimal with a fraction; the tail before the '.' is ":[0-5]?[0-9]"s. */
        const char *dot = strchr(s + d, '.');
        ok = dot != NULL && match_sexagesimal_tail(s + d, (size_t)(dot - (s + d))) &&
             strspn(dot + 1, "0123456789_") == strlen(dot + 1);
    }
    if (!ok)
        return false;
    struct gw_strbuf b = {0};
    for (const char *p = s; *p != '\0'; p++) {
        if (*p != '_')
            gw_strbuf_add(&b, p, 1);
    }
    char *digits = gw_strbuf_take(&b);
    /* Sexagesimal parts fold base 60, as PyYAML's construct_yaml_float does. */
    double v = 0.0;
    const char *part = digits;
    for (;;) {
        char *end = NULL;
        v = v * 60.0 + strtod(part, &end);
        if (*end != ':')
            break;
        part = end + 1;
    }
    free(digits);
    *out = negative ? -v : v;
    return true;
}

/* Gives a plain, untagged scalar its YAML 1.1 type. */
static struct node *typed_scalar(const char *text, const char *origin, int line)
{
    struct node *n = node_new(NODE_STRING, origin, line, text);
    if (match_one_of(text, null_words)) {
        n->kind = NODE_NULL;
    } else if (match_one_of(text, true_words) || match_one_of(text, false_words)) {
        n->kind = NODE_BOOL;
        n->bval = match_one_of(text, true_words);
    } else if (resolve_int(text, &n->ival)) {
        n->kind = NODE_INT;
    } else if (resolve_float(text, &n->fval)) {
        n->kind = NODE_FLOAT;
    }
    return n;
}

/* ---------------------------------------------------------------------------------------------
 * ${VAR:default} substitution (nameko.cli.utils.config, without the optional `regex` module)
 */

int gw_config_substitute(const char *text, char **out, char *err, size_t errlen)
{
    struct gw_strbuf buf = {0};
    int rc = GW_OK;
    const char *p = text;
    *out = NULL;
    /* nameko's re.sub(r"\$\{([^}:\s]+):?([^}]+)?\}", ...), scanning left to right. */
    for (;;) {
        const char *ref = strstr(p, "${");
        if (ref == NULL) {
            gw_strbuf_add(&buf, p, strlen(p));
            break;
        }
        gw_strbuf_add(&buf, p, (size_t)(ref - p));
        const char *body = ref + 2;
        const char *close = strchr(body, '}');
        if (close == NULL) {
            gw_strbuf_add(&buf, ref, strlen(ref));
            break;
        }
        size_t body_len = (size_t)(close - body);
        /* With the regex module nameko expands the inner reference first; without it (nameko's
         * default install) it raises a ConfigurationError. */
        if (contains(body, body_len, "${")) {
            set_reason(err, errlen, "nested ${...} references are not supported");
            rc = GW_ESUBST;
            goto out;
        }
        size_t name_len = 0;
        while (name_len < body_len && body[name_len] != ':' && !is_py_space(body[name_len]))
            name_len++;
        if (name_len == 0) {
            /* No match at this '$': the regex engine moves on by one character. */
            gw_strbuf_add(&buf, ref, 1);
            p = ref + 1;
            continue;
        }
        char *name = xstrndup(body, name_len);
        const char *value = getenv(name);
        free(name);
        if (value != NULL) {
            gw_strbuf_add(&buf, value, strlen(value));
        } else {
            /* The default is the second group: all after the name, less one ':' if it follows. */
            const char *def = body + name_len;
            size_t def_len = body_len - name_len;
            if (def_len > 0 && def[0] == ':') {
                def++;
                def_len--;
            }
            gw_strbuf_add(&buf, def, def_len);
        }
        p = close + 1;
    }
    *out = gw_strbuf_take(&buf);
out:
    if (rc != GW_OK)
        free(buf.data);
    return rc;
}

/* nameko's implicit resolver, .*\$\{.*\}.* applied with re.match: "${" and then "}" on the first
 * line, since '.' does not match a newline. */
static bool wants_substitution(const char *text)
{
    size_t line_len = strcspn(text, "\n");
    for (size_t i = 0; i + 1 < line_len; i++) {
        if (text[i] == '$' && text[i + 1] == '{' &&
            memchr(text + i + 2, '}', line_len - i - 2) != NULL)
            return true;
    }
    return false;
}

/* ---------------------------------------------------------------------------------------------
 * The event parser
 */

struct parse_opts {
    const char *origin; /* borrowed, outlives the nodes' use */
    int line;           /* < 0: lines from libyaml's marks; else every node gets this line */
    const char *prefix; /* key path of the text being parsed: "" for a file */
    int depth;          /* how many substitutions produced this text */
    char *err;
    size_t errlen;
};

struct anchor {
    char *name;
    struct node *node; /* a reference */
};

struct frame {
    struct node *node; /* the collection being built, a reference */
    char *anchor;      /* registered when the collection ends */
};

struct parser {
    const struct parse_opts *o;
    yaml_parser_t yaml;
    struct frame stack[MAX_NESTING];
    size_t n_stack;
    struct anchor *anchors;
    size_t n_anchors, cap_anchors;
    struct node *root;
    int n_documents;
};

static int parse_text(const struct parse_opts *o, const char *text, size_t len, struct node **out);

static int event_line(const struct parser *p, const yaml_event_t *ev)
{
    if (p->o->line >= 0)
        return p->o->line;
    return ev->start_mark.line < INT_MAX ? (int)ev->start_mark.line + 1 : INT_MAX;
}

/* The key path of the node being built: the prefix, then a ".key" or "[index]" per open level. */
static void current_path(const struct parser *p, char *buf, size_t len)
{
    size_t used = 0;
    path_printf(buf, len, "%s", p->o->prefix);
    used = strlen(buf);
    for (size_t i = 0; i < p->n_stack && used < len; i++) {
        const struct node *c = p->stack[i].node;
        if (c->kind == NODE_SEQ) {
            path_printf(buf + used, len - used, "[%zu]", c->n_items);
        } else if (c->n_items % 2 == 1) {
            const struct node *key = c->items[c->n_items - 1];
            const char *name = key->text != NULL ? key->text : "?";
            path_printf(buf + used, len - used, "%s%s", used > 0 ? "." : "", name);
        } else {
            break; /* the node is a key itself: the mapping's path is the best we have */
        }
        used = strlen(buf);
    }
}

__attribute__((format(printf, 5, 6))) static int
opts_fail(const struct parse_opts *o, int line, const char *path, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vformat_error(o->err, o->errlen, o->origin, line, path, fmt, ap);
    va_end(ap);
    return status;
}

__attribute__((format(printf, 4, 5))) static int parse_fail(const struct parser *p, int line,
                                                            int status, const char *fmt, ...)
{
    char path[PATH_LEN];
    va_list ap;
    current_path(p, path, sizeof(path));
    va_start(ap, fmt);
    vformat_error(p->o->err, p->o->errlen, p->o->origin, line, path, fmt, ap);
    va_end(ap);
    return status;
}

static int line_of_offset(const char *text, size_t len, size_t offset)
{
    int line = 1;
    for (size_t i = 0; i < offset && i < len && line < INT_MAX; i++) {
        if (text[i] == '\n')
            line++;
    }
    return line;
}

static int syntax_error(const struct parser *p, const char *text, size_t len)
{
    const yaml_parser_t *y = &p->yaml;
    const char *problem = y->problem != NULL ? y->problem : "cannot parse";
    int line;
    if (p->o->line >= 0)
        line = p->o->line;
    else if (y->error == YAML_READER_ERROR)
        line = line_of_offset(text, len, y->problem_offset);
    else
        line = y->problem_mark.line < INT_MAX ? (int)y->problem_mark.line + 1 : INT_MAX;
    /* A file's syntax error has no key path; a substituted value's error names the value's key. */
    if (p->o->depth == 0)
        return opts_fail(p->o, line, "", GW_EYAML, "invalid YAML: %s", problem);
    return opts_fail(p->o, line, p->o->prefix, GW_EYAML, "invalid YAML after substitution: %s",
                     problem);
}

static void add_anchor(struct parser *p, const char *name, struct node *node)
{
    if (p->n_anchors == p->cap_anchors) {
        p->cap_anchors = p->cap_anchors ? p->cap_anchors * 2 : 8;
        p->anchors = xrealloc(p->anchors, p->cap_anchors * sizeof(*p->anchors));
    }
    node->refs++;
    p->anchors[p->n_anchors].name = xstrdup(name);
    p->anchors[p->n_anchors].node = node;
    p->n_anchors++;
}

/* Places a finished node (stealing the reference) in its parent, or makes it the root. */
static void add_node_take(struct parser *p, struct node *node, const char *anchor)
{
    if (anchor != NULL)
        add_anchor(p, anchor, node);
    if (p->n_stack == 0) {
        node_unref(p->root);
        p->root = node;
        return;
    }
    node_push_take(p->stack[p->n_stack - 1].node, node);
}

static int on_alias(struct parser *p, const yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    /* A name may be anchored again later in a document; the newest definition wins. */
    for (size_t i = p->n_anchors; i > 0; i--) {
        if (strcmp(p->anchors[i - 1].name, name) == 0) {
            struct node *node = p->anchors[i - 1].node;
            node->refs++;
            add_node_take(p, node, NULL);
            return GW_OK;
        }
    }
    return parse_fail(p, event_line(p, ev), GW_EYAML, "invalid YAML: found undefined alias '%s'",
                      name);
}

/* Records how a scalar was written, on a node made straight from it (not from re-parsed text). */
static struct node *as_written(struct node *n, bool plain, const char *tag)
{
    n->plain = plain;
    n->tag = tag != NULL ? xstrdup(tag) : NULL;
    return n;
}

/* Substitutes a scalar's references; reparse is false for !raw_env_var. */
static int substitute_scalar(struct parser *p, const char *raw, const char *tag, bool plain,
                             int line, bool reparse, struct node **out)
{
    char reason[128];
    char *value = NULL;
    struct node *node = NULL;
    int rc = gw_config_substitute(raw, &value, reason, sizeof(reason));
    if (rc != GW_OK) {
        rc = parse_fail(p, line, rc, "%s", reason);
        goto out;
    }
    /* nameko returns the text unchanged (a string) when nothing was replaced, avoiding recursion.
     */
    if (!reparse || strcmp(value, raw) == 0) {
        node = as_written(node_new(NODE_STRING, p->o->origin, line, value), plain, tag);
        goto out;
    }
    if (p->o->depth >= MAX_SUBST_DEPTH) {
        rc = parse_fail(p, line, GW_ESUBST,
                        "substitution goes more than %d levels deep (does a variable refer to "
                        "itself?)",
                        MAX_SUBST_DEPTH);
        goto out;
    }
    /* yaml.safe_load(value): a new document, with the same resolvers, all at this scalar's line. */
    char path[PATH_LEN];
    current_path(p, path, sizeof(path));
    struct parse_opts child = {.origin = p->o->origin,
                               .line = line,
                               .prefix = path,
                               .depth = p->o->depth + 1,
                               .err = p->o->err,
                               .errlen = p->o->errlen};
    rc = parse_text(&child, value, strlen(value), &node);
    if (rc != GW_OK)
        goto out;
    if (node == NULL)
        node = node_new(NODE_NULL, p->o->origin, line, "");
out:
    free(value);
    *out = node;
    return rc;
}

static int resolve_scalar(struct parser *p, const char *raw, const char *tag, bool plain, int line,
                          struct node **out)
{
    const char *origin = p->o->origin;
    *out = NULL;
    if (tag == NULL || strcmp(tag, "!") == 0) {
        if (tag == NULL && plain) {
            if (wants_substitution(raw))
                return substitute_scalar(p, raw, tag, plain, line, true, out);
            *out = as_written(typed_scalar(raw, origin, line), plain, tag);
            return GW_OK;
        }
        *out = as_written(node_new(NODE_STRING, origin, line, raw), plain, tag);
        return GW_OK;
    }
    if (strcmp(tag, "!env_var") == 0)
        return substitute_scalar(p, raw, tag, plain, line, true, out);
    if (strcmp(tag, "!raw_env_var") == 0)
        return substitute_scalar(p, raw, tag, plain, line, false, out);
    if (strcmp(tag, YAML_STR_TAG) == 0) {
        *out = as_written(node_new(NODE_STRING, origin, line, raw), plain, tag);
        return GW_OK;
    }
    if (strcmp(tag, YAML_NULL_TAG) == 0) {
        *out = as_written(node_new(NODE_NULL, origin, line, raw), plain, tag);
        return GW_OK;
    }
    struct node *n = typed_scalar(raw, origin, line);
    bool ok = false;
    if (strcmp(tag, YAML_INT_TAG) == 0) {
        ok = n->kind == NODE_INT;
    } else if (strcmp(tag, YAML_FLOAT_TAG) == 0) {
        if (n->kind == NODE_INT) {
            n->kind = NODE_FLOAT;
            n->fval = (double)n->ival;
        }
        ok = n->kind == NODE_FLOAT;
    } else if (strcmp(tag, YAML_BOOL_TAG) == 0) {
        ok = n->kind == NODE_BOOL;
    } else {
        node_unref(n);
        return parse_fail(p, line, GW_EYAML, "unsupported tag '%s'", tag);
    }
    if (!ok) {
        node_unref(n);
        return parse_fail(p, line, GW_EYAML, "'%s' is not a valid %s", raw, tag);
    }
    *out = as_written(n, plain, tag);
    return GW_OK;
}

static int on_scalar(struct parser *p, const yaml_event_t *ev)
{
    const char *raw = (const char *)ev->data.scalar.value;
    const char *tag = (const char *)ev->data.scalar.tag;
    bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    int line = event_line(p, ev);
    struct node *node = NULL;
    /* "\0" is legal in a double-quoted YAML string but cannot live in a C string. */
    if (strlen(raw) != ev->data.scalar.length)
        return parse_fail(p, line, GW_EYAML, "NUL characters are not supported");
    int rc = resolve_scalar(p, raw, tag, plain, line, &node);
    if (rc != GW_OK)
        return rc;
    add_node_take(p, node, (const char *)ev->data.scalar.anchor);
    return GW_OK;
}

static int on_collection_start(struct parser *p, const yaml_event_t *ev, enum node_kind kind)
{
    bool is_seq = kind == NODE_SEQ;
    const char *tag =
        (const char *)(is_seq ? ev->data.sequence_start.tag : ev->data.mapping_start.tag);
    const char *anchor =
        (const char *)(is_seq ? ev->data.sequence_start.anchor : ev->data.mapping_start.anchor);
    const char *own_tag = is_seq ? YAML_SEQ_TAG : YAML_MAP_TAG;
    int line = event_line(p, ev);
    if (tag != NULL && strcmp(tag, "!") != 0 && strcmp(tag, own_tag) != 0) {
        if (strcmp(tag, "!env_var") == 0 || strcmp(tag, "!raw_env_var") == 0)
            return parse_fail(p, line, GW_EYAML, "%s applies to scalars only", tag);
        return parse_fail(p, line, GW_EYAML, "unsupported tag '%s'", tag);
    }
    if (p->n_stack == MAX_NESTING)
        return parse_fail(p, line, GW_EYAML, "nesting is deeper than %d levels", MAX_NESTING);
    struct node *node = node_new(kind, p->o->origin, line, NULL);
    node->tag = tag != NULL ? xstrdup(tag) : NULL;
    p->stack[p->n_stack].node = node;
    p->stack[p->n_stack].anchor = anchor != NULL ? xstrdup(anchor) : NULL;
    p->n_stack++;
    return GW_OK;
}

static void on_collection_end(struct parser *p)
{
    struct frame f = p->stack[--p->n_stack];
    add_node_take(p, f.node, f.anchor);
    free(f.anchor);
}

static int on_event(struct parser *p, const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        /* yaml.safe_load reads exactly one document. */
        if (p->n_documents++ > 0)
            return parse_fail(p, event_line(p, ev), GW_EYAML,
                              "invalid YAML: expected a single document, found another one");
        return GW_OK;
    case YAML_ALIAS_EVENT:
        return on_alias(p, ev);
    case YAML_SCALAR_EVENT:
        return on_scalar(p, ev);
    case YAML_SEQUENCE_START_EVENT:
        return on_collection_start(p, ev, NODE_SEQ);
    case YAML_MAPPING_START_EVENT:
        return on_collection_start(p, ev, NODE_MAP);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        on_collection_end(p);
        return GW_OK;
    default:
        return GW_OK;
    }
}

/* Parses one YAML document into a new tree in *out (NULL for an empty stream). */
static int parse_text(const struct parse_opts *o, const char *text, size_t len, struct node **out)
{
    struct parser p = {.o = o};
    int rc = GW_OK;
    *out = NULL;
    if (!yaml_parser_initialize(&p.yaml)) {
        fprintf(stderr, "enoki: out of memory initializing libyaml\n");
        abort();
    }
    yaml_parser_set_input_string(&p.yaml, (const unsigned char *)text, len);
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p.yaml, &ev)) {
            rc = syntax_error(&p, text, len);
            goto out;
        }
        yaml_event_type_t type = ev.type;
        rc = on_event(&p, &ev);
        yaml_event_delete(&ev);
        if (rc != GW_OK)
            goto out;
        if (type == YAML_STREAM_END_EVENT)
            break;
    }
    *out = p.root;
    p.root = NULL;
out:
    while (p.n_stack > 0) {
        p.n_stack--;
        node_unref(p.stack[p.n_stack].node);
        free(p.stack[p.n_stack].anchor);
    }
    for (size_t i = 0; i < p.n_anchors; i++) {
        free(p.anchors[i].name);
        node_unref(p.anchors[i].node);
    }
    free(p.anchors);
    node_unref(p.root);
    yaml_parser_delete(&p.yaml);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * AMQP URIs, by kombu's url_to_parts: the text after "scheme://" is parsed as an http URL.
 */

static int hex_value(char c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* urllib.parse.unquote: valid %XX sequences are decoded, anything else is kept as written. Returns
 * a new string in *out, or false for a %00, which a C string cannot hold. */
static bool percent_decode(const char *s, size_t n, char **out)
{
    char *d = xmalloc(n + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        int hi = -1, lo = -1;
        if (s[i] == '%' && i + 2 < n) {
            hi = hex_value(s[i + 1]);
            lo = hex_value(s[i + 2]);
        }
        if (hi >= 0 && lo >= 0) {
            if (hi == 0 && lo == 0) {
                free(d);
                *out = NULL;
                return false;
            }
            d[j++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            d[j++] = s[i];
        }
    }
    d[j] = '\0';
    *out = d;
    return true;
}

void gw_amqp_uri_clear(struct gw_amqp_uri *uri)
{
    if (uri == NULL)
        return;
    free(uri->host);
    free(uri->user);
    free(uri->password);
    free(uri->vhost);
    memset(uri, 0, sizeof(*uri));
}

/* Decodes one URI part into *dst, or the default when the decoded text is empty (kombu's
 * "unquote(x or '') or None"). */
static int uri_part(const char *s, size_t n, const char *def, const char *what, char **dst,
                    char *err, size_t errlen)
{
    char *v = NULL;
    if (!percent_decode(s, n, &v)) {
        set_reason(err, errlen, "the %s contains %%00", what);
        return GW_EURI;
    }
    if (v[0] == '\0') {
        free(v);
        v = xstrdup(def);
    }
    *dst = v;
    return GW_OK;
}

static bool lower_equal(const char *s, size_t n, const char *lower)
{
    if (strlen(lower) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
        if (c != lower[i])
            return false;
    }
    return true;
}

int gw_amqp_uri_parse(const char *text, struct gw_amqp_uri *out, char *err, size_t errlen)
{
    struct gw_amqp_uri uri = {0};
    int rc = GW_EURI;
    memset(out, 0, sizeof(*out));
    const char *sep = strstr(text, "://");
    size_t scheme_len = sep != NULL ? (size_t)(sep - text) : 0;
    if (sep == NULL || scheme_len == 0) {
        set_reason(err, errlen, "expected amqp://[user[:password]@]host[:port][/vhost]");
        goto out;
    }
    if (lower_equal(text, scheme_len, "amqps")) {
        /* TODO: TLS (amqps://, AMQP_SSL) needs rabbitmq-c's SSL socket; refuse rather than
         * silently connecting in clear text. */
        set_reason(err, errlen, "amqps:// (TLS) is not supported yet; use amqp:// or pyamqp://");
        goto out;
    }
    if (!lower_equal(text, scheme_len, "amqp") && !lower_equal(text, scheme_len, "pyamqp")) {
        set_reason(err, errlen, "unsupported scheme '%.*s' (expected amqp:// or pyamqp://)",
                   (int)(scheme_len > 32 ? 32 : scheme_len), text);
        goto out;
    }

    /* The netloc ends at the first '/', '?' or '#'; the path runs on to '?' or '#'. */
    const char *netloc = sep + 3;
    size_t netloc_len = strcspn(netloc, "/?#");
    const char *path = netloc + netloc_len;
    size_t path_len = strcspn(path, "?#");

    /* userinfo is before the last '@'; the password after the first ':' in it. */
    const char *hostinfo = netloc;
    size_t hostinfo_len = netloc_len;
    const char *user = "", *password = "";
    size_t user_len = 0, password_len = 0;
    for (size_t i = netloc_len; i > 0; i--) {
        if (netloc[i - 1] == '@') {
            size_t userinfo_len = i - 1;
            const char *colon = memchr(netloc, ':', userinfo_len);
            user = netloc;
            user_len = colon != NULL ? (size_t)(colon - netloc) : userinfo_len;
            if (colon != NULL) {
                password = colon + 1;
                password_len = userinfo_len - user_len - 1;
            }
            hostinfo = netloc + i;
            hostinfo_len = netloc_len - i;
            break;
        }
    }

    const char *host = hostinfo, *port = NULL;
    size_t host_len = hostinfo_len, port_len = 0;
    if (hostinfo_len > 0 && hostinfo[0] == '[') {
        const char *close = memchr(hostinfo, ']', hostinfo_len);
        if (close == NULL) {
            set_reason(err, errlen, "invalid IPv6 host: missing ']'");
            goto out;
        }
        host = hostinfo + 1;
        host_len = (size_t)(close - host);
        size_t rest = hostinfo_len - (size_t)(close + 1 - hostinfo);
        if (rest > 0 && close[1] != ':') {
            set_reason(err, errlen, "unexpected text after the IPv6 host");
            goto out;
        }
        if (rest > 0) {
            port = close + 2;
            port_len = rest - 1;
        }
    } else {
        const char *colon = memchr(hostinfo, ':', hostinfo_len);
        if (colon != NULL) {
            host_len = (size_t)(colon - hostinfo);
            port = colon + 1;
            port_len = hostinfo_len - host_len - 1;
        }
        if (memchr(host, '[', host_len) != NULL || memchr(host, ']', host_len) != NULL) {
            set_reason(err, errlen, "invalid IPv6 host: brackets must enclose the whole host");
            goto out;
        }
    }

    uri.port = 5672;
    if (port != NULL && port_len > 0) {
        long value = 0;
        bool ok = port_len <= 5 && strspn(port, "0123456789") >= port_len;
        for (size_t i = 0; ok && i < port_len; i++)
            value = value * 10 + (port[i] - '0');
        if (!ok || value < 1 || value > 65535) {
            set_reason(err, errlen, "invalid port '%.*s' (expected 1 to 65535)",
                       (int)(port_len > 16 ? 16 : port_len), port);
            goto out;
        }
        uri.port = (int)value;
    }

    rc = uri_part(host, host_len, "localhost", "host", &uri.host, err, errlen);
    if (rc != GW_OK)
        goto out;
    /* urllib's .hostname is lower case. */
    for (char *c = uri.host; *c != '\0'; c++) {
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    }
    rc = uri_part(user, user_len, "guest", "user name", &uri.user, err, errlen);
    if (rc != GW_OK)
        goto out;
    rc = uri_part(password, password_len, "guest", "password", &uri.password, err, errlen);
    if (rc != GW_OK)
        goto out;
    /* kombu drops one leading '/', then decodes: "", "/" -> "/" (default); "//", "/%2F" -> "/". */
    if (path_len > 0 && path[0] == '/') {
        path++;
        path_len--;
    }
    rc = uri_part(path, path_len, "/", "vhost", &uri.vhost, err, errlen);
    if (rc != GW_OK)
        goto out;
    *out = uri;
    memset(&uri, 0, sizeof(uri));
out:
    gw_amqp_uri_clear(&uri);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * Validation: one table of keys per mapping, each key with the function that checks and stores it.
 *
 * A null value (`key:`, `key: ~`, or a ${VAR} that is unset or empty) means "not given": the key
 * keeps its default, and a required key counts as missing.
 */

struct loader {
    char *err;
    size_t errlen;
};

__attribute__((format(printf, 5, 6))) static int fail(const struct loader *ld,
                                                      const struct node *at, const char *path,
                                                      int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vformat_error(ld->err, ld->errlen, at->origin, at->line, path, fmt, ap);
    va_end(ap);
    return status;
}

struct key_spec;
typedef int key_apply_fn(const struct loader *ld, const struct node *value, const char *path,
                         void *base, const struct key_spec *spec);

struct key_spec {
    const char *name;
    key_apply_fn *apply;
    size_t offset;              /* of the field in the base struct, for the generic appliers */
    long long min, max;         /* bounds, for apply_int */
    const char *const *choices; /* NULL-terminated, for apply_choice */
};

static void *field(void *base, const struct key_spec *spec)
{
    return (char *)base + spec->offset;
}

static void replace_string(char **dst, const char *value)
{
    free(*dst);
    *dst = xstrdup(value);
}

static void join_path(char *buf, size_t len, const char *parent, const char *key)
{
    if (parent[0] == '\0')
        path_printf(buf, len, "%s", key);
    else
        path_printf(buf, len, "%s.%s", parent, key);
}

static int apply_map(const struct loader *ld, const struct node *map, const char *path,
                     const struct key_spec *specs, size_t n_specs, void *base, bool strict)
{
    for (size_t i = 0; i < map_pairs(map); i++) {
        const struct node *key = map->items[2 * i];
        const struct node *value = map->items[2 * i + 1];
        const struct key_spec *spec = NULL;
        char child[PATH_LEN];
        char got[80];
        if (has_later_duplicate(map, i))
            continue;
        for (size_t k = 0; key->kind == NODE_STRING && k < n_specs; k++) {
            if (strcmp(key->text, specs[k].name) == 0)
                spec = &specs[k];
        }
        if (spec == NULL) {
            /* The top level is shared with nameko services, so only enoki's own maps are strict. */
            if (!strict)
                continue;
            struct gw_strbuf names = {0};
            for (size_t k = 0; k < n_specs; k++) {
                gw_strbuf_add(&names, specs[k].name, strlen(specs[k].name));
                if (k + 1 < n_specs)
                    gw_strbuf_add(&names, ", ", 2);
            }
            char *list = gw_strbuf_take(&names);
            join_path(child, sizeof(child), path,
                      key->kind == NODE_STRING ? key->text : describe(key, got, sizeof(got)));
            int rc = fail(ld, key, child, GW_ECONFIG, "unknown key (expected one of: %s)", list);
            free(list);
            return rc;
        }
        if (value->kind == NODE_NULL)
            continue;
        join_path(child, sizeof(child), path, spec->name);
        int rc = spec->apply(ld, value, child, base, spec);
        if (rc != GW_OK)
            return rc;
    }
    return GW_OK;
}

static int apply_nonempty_string(const struct loader *ld, const struct node *v, const char *path,
                                 void *base, const struct key_spec *spec)
{
    char got[80];
    if (v->kind != NODE_STRING || v->text[0] == '\0')
        return fail(ld, v, path, GW_ECONFIG, "expected a non-empty string, got %s",
                    describe(v, got, sizeof(got)));
    replace_string(field(base, spec), v->text);
    return GW_OK;
}

static int apply_int(const struct loader *ld, const struct node *v, const char *path, void *base,
                     const struct key_spec *spec)
{
    char got[80];
    if (v->kind != NODE_INT || v->ival < spec->min || v->ival > spec->max)
        return fail(ld, v, path, GW_ECONFIG, "expected an integer from %lld to %lld, got %s",
                    spec->min, spec->max, describe(v, got, sizeof(got)));
    *(int *)field(base, spec) = (int)v->ival;
    return GW_OK;
}

static int apply_positive_number(const struct loader *ld, const struct node *v, const char *path,
                                 void *base, const struct key_spec *spec)
{
    char got[80];
    double d = v->kind == NODE_INT ? (double)v->ival : v->kind == NODE_FLOAT ? v->fval : NAN;
    /* !(d > 0) also catches NaN. */
    if (!(d > 0) || isinf(d))
        return fail(ld, v, path, GW_ECONFIG, "expected a positive number, got %s",
                    describe(v, got, sizeof(got)));
    *(double *)field(base, spec) = d;
    return GW_OK;
}

static int apply_choice(const struct loader *ld, const struct node *v, const char *path, void *base,
                        const struct key_spec *spec)
{
    char got[80];
    if (v->kind == NODE_STRING && match_one_of(v->text, spec->choices)) {
        replace_string(field(base, spec), v->text);
        return GW_OK;
    }
    struct gw_strbuf names = {0};
    for (size_t k = 0; spec->choices[k] != NULL; k++) {
        if (k > 0)
            gw_strbuf_add(&names, ", ", 2);
        gw_strbuf_add(&names, spec->choices[k], strlen(spec->choices[k]));
    }
    char *list = gw_strbuf_take(&names);
    int rc = fail(ld, v, path, GW_ECONFIG, "expected one of %s, got %s", list,
                  describe(v, got, sizeof(got)));
    free(list);
    return rc;
}

static int apply_amqp_uri(const struct loader *ld, const struct node *v, const char *path,
                          void *base, const struct key_spec *spec)
{
    struct gw_config *c = base;
    struct gw_amqp_uri uri;
    char got[80];
    char reason[160];
    (void)spec;
    if (v->kind != NODE_STRING)
        return fail(ld, v, path, GW_ECONFIG, "expected a string, got %s",
                    describe(v, got, sizeof(got)));
    /* The reason never quotes the whole URI: it holds the password. */
    int rc = gw_amqp_uri_parse(v->text, &uri, reason, sizeof(reason));
    if (rc != GW_OK)
        return fail(ld, v, path, rc, "%s", reason);
    gw_amqp_uri_clear(&c->amqp);
    c->amqp = uri;
    replace_string(&c->amqp_uri_text, v->text);
    return GW_OK;
}

/* nameko's parse_address: ^((?P<address>[^:]+):)?(?P<port>\d+)$, plus a plain integer port. */
static int apply_web_address(const struct loader *ld, const struct node *v, const char *path,
                             void *base, const struct key_spec *spec)
{
    struct gw_config *c = base;
    char got[80];
    const char *host = "0.0.0.0";
    size_t host_len = strlen(host);
    long long port = -1;
    (void)spec;
    if (v->kind == NODE_INT) {
        port = v->ival;
    } else if (v->kind == NODE_STRING) {
        const char *digits = v->text;
        const char *colon = strchr(v->text, ':');
        if (colon != NULL && colon != v->text) {
            host = v->text;
            host_len = (size_t)(colon - v->text);
            digits = colon + 1;
        }
        size_t n = strlen(digits);
        if (n > 0 && n <= 5 && strspn(digits, "0123456789") == n)
            port = parse_digits(digits, n, 10);
    }
    if (port < 0 || port > 65535)
        return fail(ld, v, path, GW_ECONFIG,
                    "expected '[host:]port' with a port from 0 to 65535, got %s",
                    describe(v, got, sizeof(got)));
    free(c->web_host);
    c->web_host = xstrndup(host, host_len);
    c->web_port = (int)port;
    return GW_OK;
}

static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const route_modes[] = {"json", "http", NULL};

/* GATEWAY.name becomes part of queue names (rpc.reply-<name>-<uuid>). */
static int apply_name(const struct loader *ld, const struct node *v, const char *path, void *base,
                      const struct key_spec *spec)
{
    char got[80];
    bool ok = v->kind == NODE_STRING && v->text[0] != '\0';
    for (const char *c = ok ? v->text : ""; *c != '\0'; c++) {
        if (!is_alpha(*c) && !is_digit(*c) && *c != '_' && *c != '-' && *c != '.')
            ok = false;
    }
    if (!ok)
        return fail(ld, v, path, GW_ECONFIG,
                    "expected a name of letters, digits, '_', '-' and '.', got %s",
                    describe(v, got, sizeof(got)));
    replace_string(field(base, spec), v->text);
    return GW_OK;
}

static void free_errors(struct gw_config *c)
{
    for (size_t i = 0; i < c->n_errors; i++)
        free(c->errors[i].exc_type);
    free(c->errors);
    c->errors = NULL;
    c->n_errors = 0;
}

static int apply_errors(const struct loader *ld, const struct node *v, const char *path, void *base,
                        const struct key_spec *spec)
{
    struct gw_config *c = base;
    char got[80];
    char child[PATH_LEN];
    (void)spec;
    if (v->kind != NODE_MAP)
        return fail(ld, v, path, GW_ECONFIG,
                    "expected a mapping of exception type to HTTP status, got %s",
                    describe(v, got, sizeof(got)));
    free_errors(c);
    c->errors = xcalloc(map_pairs(v), sizeof(*c->errors));
    for (size_t i = 0; i < map_pairs(v); i++) {
        const struct node *key = v->items[2 * i];
        const struct node *status = v->items[2 * i + 1];
        if (has_later_duplicate(v, i))
            continue;
        if (key->kind != NODE_STRING || key->text[0] == '\0')
            return fail(ld, key, path, GW_ECONFIG, "expected an exception type name, got %s",
                        describe(key, got, sizeof(got)));
        join_path(child, sizeof(child), path, key->text);
        if (status->kind != NODE_INT || status->ival < 100 || status->ival > 599)
            return fail(ld, status, child, GW_ECONFIG,
                        "expected an HTTP status from 100 to 599, got %s",
                        describe(status, got, sizeof(got)));
        c->errors[c->n_errors].exc_type = xstrdup(key->text);
        c->errors[c->n_errors].status = (int)status->ival;
        c->n_errors++;
    }
    return GW_OK;
}

/* RFC 7230 token characters. */
static bool is_token(const char *s)
{
    if (s[0] == '\0')
        return false;
    for (const char *c = s; *c != '\0'; c++) {
        if (!is_alpha(*c) && !is_digit(*c) && strchr("!#$%&'*+-.^_`|~", *c) == NULL)
            return false;
    }
    return true;
}

static void free_context_headers(struct gw_config *c)
{
    for (size_t i = 0; i < c->n_context_headers; i++) {
        free(c->context_headers[i].header);
        free(c->context_headers[i].key);
    }
    free(c->context_headers);
    c->context_headers = NULL;
    c->n_context_headers = 0;
}

static int apply_context_headers(const struct loader *ld, const struct node *v, const char *path,
                                 void *base, const struct key_spec *spec)
{
    struct gw_config *c = base;
    char got[80];
    char child[PATH_LEN];
    (void)spec;
    if (v->kind != NODE_MAP)
        return fail(ld, v, path, GW_ECONFIG,
                    "expected a mapping of HTTP header name to context key, got %s",
                    describe(v, got, sizeof(got)));
    free_context_headers(c);
    c->context_headers = xcalloc(map_pairs(v), sizeof(*c->context_headers));
    for (size_t i = 0; i < map_pairs(v); i++) {
        const struct node *key = v->items[2 * i];
        const struct node *ctx = v->items[2 * i + 1];
        if (has_later_duplicate(v, i))
            continue;
        if (key->kind != NODE_STRING || !is_token(key->text))
            return fail(ld, key, path, GW_ECONFIG, "expected an HTTP header name, got %s",
                        describe(key, got, sizeof(got)));
        join_path(child, sizeof(child), path, key->text);
        /* Header names are case-insensitive: two spellings of one name would be ambiguous. */
        for (size_t j = 0; j < c->n_context_headers; j++) {
            if (strcasecmp(c->context_headers[j].header, key->text) == 0)
                return fail(ld, key, child, GW_ECONFIG,
                            "header given twice (as '%s'; header names ignore case)",
                            c->context_headers[j].header);
        }
        if (ctx->kind != NODE_STRING || ctx->text[0] == '\0')
            return fail(ld, ctx, child, GW_ECONFIG, "expected a context key, got %s",
                        describe(ctx, got, sizeof(got)));
        c->context_headers[c->n_context_headers].header = xstrdup(key->text);
        c->context_headers[c->n_context_headers].key = xstrdup(ctx->text);
        c->n_context_headers++;
    }
    return GW_OK;
}

static void free_string_list(struct gw_string_list *list)
{
    for (size_t i = 0; i < list->n; i++)
        free(list->items[i]);
    free(list->items);
    list->items = NULL;
    list->n = 0;
}

/* A list of non-empty strings (a single string is a list of one), into the gw_string_list at the
 * spec's offset. The spec's choices name the list and one item, for the messages. */
static int apply_string_list(const struct loader *ld, const struct node *v, const char *path,
                             void *base, const struct key_spec *spec)
{
    struct gw_string_list *list = field(base, spec);
    const char *what = spec->choices[0];
    const char *item_what = spec->choices[1];
    char got[80];
    char child[PATH_LEN];
    free_string_list(list);
    if (v->kind == NODE_STRING && v->text[0] != '\0') {
        list->items = xcalloc(1, sizeof(*list->items));
        list->items[list->n++] = xstrdup(v->text);
        return GW_OK;
    }
    if (v->kind != NODE_SEQ)
        return fail(ld, v, path, GW_ECONFIG, "expected a list of %s, got %s", what,
                    describe(v, got, sizeof(got)));
    list->items = xcalloc(v->n_items ? v->n_items : 1, sizeof(*list->items));
    for (size_t i = 0; i < v->n_items; i++) {
        const struct node *item = v->items[i];
        path_printf(child, sizeof(child), "%s[%zu]", path, i);
        if (item->kind != NODE_STRING || item->text[0] == '\0')
            return fail(ld, item, child, GW_ECONFIG, "expected %s, got %s", item_what,
                        describe(item, got, sizeof(got)));
        list->items[list->n++] = xstrdup(item->text);
    }
    return GW_OK;
}

static const char *const expose_item[] = {"'service.method' globs such as 'greeting_service.*'",
                                          "a glob such as 'greeting_service.*'", NULL};
static const char *const origin_item[] = {"origins such as 'https://app.example' or '*'",
                                          "an origin such as 'https://app.example' or '*'", NULL};
static const char *const exception_item[] = {"exception type names such as 'ValueError'",
                                             "an exception type name such as 'ValueError'", NULL};

/* A URL path such as "/rpc": a leading '/', no trailing '/', nothing a rule or a query would read. */
static int apply_url_path(const struct loader *ld, const struct node *v, const char *path,
                          void *base, const struct key_spec *spec)
{
    char got[80];
    if (v->kind != NODE_STRING || v->text[0] != '/' || v->text[1] == '\0' ||
        v->text[strlen(v->text) - 1] == '/' || strpbrk(v->text, "<>?#") != NULL)
        return fail(ld, v, path, GW_ECONFIG,
                    "expected a path such as '/rpc' (a leading '/', no trailing '/'), got %s",
                    describe(v, got, sizeof(got)));
    replace_string(field(base, spec), v->text);
    return GW_OK;
}

static int apply_bool(const struct loader *ld, const struct node *v, const char *path, void *base,
                      const struct key_spec *spec)
{
    char got[80];
    if (v->kind != NODE_BOOL)
        return fail(ld, v, path, GW_ECONFIG, "expected true or false, got %s",
                    describe(v, got, sizeof(got)));
    *(bool *)field(base, spec) = v->bval;
    return GW_OK;
}

static const char *const cors_origin_item[] = {"origins such as 'https://app.example' or '*'",
                                               "an origin such as 'https://app.example' or '*'",
                                               NULL};
static const char *const cors_method_item[] = {"HTTP methods", "an HTTP method such as 'POST'",
                                               NULL};
static const char *const cors_header_item[] = {"header names", "a header name such as 'X-Tenant'",
                                               NULL};

static const struct key_spec cors_keys[] = {
    {.name = "origins",
     .apply = apply_string_list,
     .offset = offsetof(struct gw_cors, origins),
     .choices = cors_origin_item},
    {.name = "methods",
     .apply = apply_string_list,
     .offset = offsetof(struct gw_cors, methods),
     .choices = cors_method_item},
    {.name = "headers",
     .apply = apply_string_list,
     .offset = offsetof(struct gw_cors, headers),
     .choices = cors_header_item},
    {.name = "max_age",
     .apply = apply_int,
     .offset = offsetof(struct gw_cors, max_age),
     .min = 0,
     .max = 86400},
    {.name = "credentials", .apply = apply_bool, .offset = offsetof(struct gw_cors, credentials)},
};

static int apply_cors(const struct loader *ld, const struct node *v, const char *path, void *base,
                      const struct key_spec *spec)
{
    struct gw_config *c = base;
    char got[80];
    (void)spec;
    if (v->kind != NODE_MAP)
        return fail(ld, v, path, GW_ECONFIG, "expected a mapping, got %s",
                    describe(v, got, sizeof(got)));
    c->cors.enabled = true;
    return apply_map(ld, v, path, cors_keys, sizeof(cors_keys) / sizeof(cors_keys[0]), &c->cors,
                     true);
}

static const char *const log_formats[] = {"text", "json", NULL};

static const struct key_spec gateway_keys[] = {
    {.name = "name", .apply = apply_name, .offset = offsetof(struct gw_config, name)},
    {.name = "rpc_timeout",
     .apply = apply_positive_number,
     .offset = offsetof(struct gw_config, rpc_timeout)},
    {.name = "errors", .apply = apply_errors},
    {.name = "context_headers", .apply = apply_context_headers},
    {.name = "log_level",
     .apply = apply_choice,
     .offset = offsetof(struct gw_config, log_level),
     .choices = log_levels},
    {.name = "log_format",
     .apply = apply_choice,
     .offset = offsetof(struct gw_config, log_format),
     .choices = log_formats},
    {.name = "expose",
     .apply = apply_string_list,
     .offset = offsetof(struct gw_config, expose),
     .choices = expose_item},
    {.name = "rpc_prefix",
     .apply = apply_url_path,
     .offset = offsetof(struct gw_config, rpc_prefix)},
    {.name = "websocket_path",
     .apply = apply_url_path,
     .offset = offsetof(struct gw_config, websocket_path)},
    {.name = "websocket_max_frame",
     .apply = apply_int,
     .offset = offsetof(struct gw_config, websocket_max_frame),
     .min = 64,
     .max = 1 << 30},
    {.name = "websocket_max_sockets",
     .apply = apply_int,
     .offset = offsetof(struct gw_config, websocket_max_sockets),
     .min = 1,
     .max = 1000000},
    {.name = "websocket_send_queue",
     .apply = apply_int,
     .offset = offsetof(struct gw_config, websocket_send_queue),
     .min = 1024,
     .max = 1 << 30},
    {.name = "websocket_ping",
     .apply = apply_int,
     .offset = offsetof(struct gw_config, websocket_ping),
     .min = 0,
     .max = 3600},
    {.name = "websocket_origins",
     .apply = apply_string_list,
     .offset = offsetof(struct gw_config, websocket_origins),
     .choices = origin_item},
    {.name = "admin_prefix",
     .apply = apply_url_path,
     .offset = offsetof(struct gw_config, admin_prefix)},
    {.name = "health_path",
     .apply = apply_url_path,
     .offset = offsetof(struct gw_config, health_path)},
    {.name = "ready_path",
     .apply = apply_url_path,
     .offset = offsetof(struct gw_config, ready_path)},
    {.name = "metrics_path",
     .apply = apply_url_path,
     .offset = offsetof(struct gw_config, metrics_path)},
    {.name = "cors", .apply = apply_cors},
    {.name = "max_body",
     .apply = apply_int,
     .offset = offsetof(struct gw_config, max_body),
     .min = 0,
     .max = 1 << 30},
    {.name = "max_header",
     .apply = apply_int,
     .offset = offsetof(struct gw_config, max_header),
     .min = 1024,
     .max = 1 << 20},
    {.name = "max_connections",
     .apply = apply_int,
     .offset = offsetof(struct gw_config, max_connections),
     .min = 1,
     .max = 1000000},
    {.name = "delivery_mode",
     .apply = apply_int,
     .offset = offsetof(struct gw_config, delivery_mode),
     .min = 1,
     .max = 2},
    {.name = "max_in_flight",
     .apply = apply_int,
     .offset = offsetof(struct gw_config, max_in_flight),
     .min = 1,
     .max = 10000000},
    {.name = "header_timeout",
     .apply = apply_int,
     .offset = offsetof(struct gw_config, header_timeout),
     .min = 1,
     .max = 3600},
    {.name = "idle_timeout",
     .apply = apply_int,
     .offset = offsetof(struct gw_config, idle_timeout),
     .min = 1,
     .max = 86400},
    {.name = "static_dir",
     .apply = apply_nonempty_string,
     .offset = offsetof(struct gw_config, static_dir)},
};

static int apply_gateway(const struct loader *ld, const struct node *v, const char *path,
                         void *base, const struct key_spec *spec)
{
    char got[80];
    (void)spec;
    if (v->kind != NODE_MAP)
        return fail(ld, v, path, GW_ECONFIG, "expected a mapping, got %s",
                    describe(v, got, sizeof(got)));
    return apply_map(ld, v, path, gateway_keys, sizeof(gateway_keys) / sizeof(gateway_keys[0]),
                     base, true);
}

/* Werkzeug refuses rules without the leading slash; say so here, with the line. */
static int apply_rule(const struct loader *ld, const struct node *v, const char *path, void *base,
                      const struct key_spec *spec)
{
    char got[80];
    if (v->kind != NODE_STRING || v->text[0] != '/')
        return fail(ld, v, path, GW_ECONFIG, "expected a rule starting with '/', got %s",
                    describe(v, got, sizeof(got)));
    replace_string(field(base, spec), v->text);
    ((struct gw_route_conf *)base)->rule_line = v->line;
    return GW_OK;
}

/* A string as written ("GET,POST"), or a list of strings joined with ','. */
static int apply_methods(const struct loader *ld, const struct node *v, const char *path,
                         void *base, const struct key_spec *spec)
{
    char got[80];
    char child[PATH_LEN];
    if (v->kind == NODE_STRING && v->text[0] != '\0') {
        replace_string(field(base, spec), v->text);
        return GW_OK;
    }
    if (v->kind != NODE_SEQ || v->n_items == 0)
        return fail(ld, v, path, GW_ECONFIG, "expected a method or a list of methods, got %s",
                    describe(v, got, sizeof(got)));
    for (size_t i = 0; i < v->n_items; i++) {
        const struct node *m = v->items[i];
        if (m->kind != NODE_STRING || m->text[0] == '\0') {
            path_printf(child, sizeof(child), "%s[%zu]", path, i);
            return fail(ld, m, child, GW_ECONFIG, "expected a method name, got %s",
                        describe(m, got, sizeof(got)));
        }
    }
    struct gw_strbuf b = {0};
    for (size_t i = 0; i < v->n_items; i++) {
        if (i > 0)
            gw_strbuf_add(&b, ",", 1);
        gw_strbuf_add(&b, v->items[i]->text, strlen(v->items[i]->text));
    }
    char **dst = field(base, spec);
    free(*dst);
    *dst = gw_strbuf_take(&b);
    return GW_OK;
}

/* Exactly "service.method": nameko's routing keys with no dot or two dots never reach a method. */
static int apply_rpc(const struct loader *ld, const struct node *v, const char *path, void *base,
                     const struct key_spec *spec)
{
    struct gw_route_conf *r = base;
    char got[80];
    const char *dot = v->kind == NODE_STRING ? strchr(v->text, '.') : NULL;
    (void)spec;
    if (dot == NULL || dot == v->text || dot[1] == '\0' || strchr(dot + 1, '.') != NULL)
        return fail(ld, v, path, GW_ECONFIG, "expected 'service.method', got %s",
                    describe(v, got, sizeof(got)));
    free(r->service);
    free(r->method);
    r->service = xstrndup(v->text, (size_t)(dot - v->text));
    r->method = xstrdup(dot + 1);
    return GW_OK;
}

static const struct key_spec route_keys[] = {
    {.name = "rule", .apply = apply_rule, .offset = offsetof(struct gw_route_conf, rule)},
    {.name = "methods", .apply = apply_methods, .offset = offsetof(struct gw_route_conf, methods)},
    {.name = "rpc", .apply = apply_rpc},
    {.name = "timeout",
     .apply = apply_positive_number,
     .offset = offsetof(struct gw_route_conf, timeout)},
    {.name = "mode",
     .apply = apply_choice,
     .offset = offsetof(struct gw_route_conf, mode),
     .choices = route_modes},
    {.name = "expected_exceptions",
     .apply = apply_string_list,
     .offset = offsetof(struct gw_route_conf, expected_exceptions),
     .choices = exception_item},
};

static void free_routes(struct gw_config *c)
{
    for (size_t i = 0; i < c->n_routes; i++) {
        struct gw_route_conf *r = &c->routes[i];
        free(r->rule);
        free(r->methods);
        free(r->service);
        free(r->method);
        free(r->mode);
        free_string_list(&r->expected_exceptions);
    }
    free(c->routes);
    c->routes = NULL;
    c->n_routes = 0;
}

static int apply_routes(const struct loader *ld, const struct node *v, const char *path, void *base,
                        const struct key_spec *spec)
{
    struct gw_config *c = base;
    char got[80];
    char item_path[PATH_LEN];
    char child[PATH_LEN];
    (void)spec;
    if (v->kind != NODE_SEQ)
        return fail(ld, v, path, GW_ECONFIG, "expected a list of routes, got %s",
                    describe(v, got, sizeof(got)));
    free_routes(c);
    c->routes = xcalloc(v->n_items, sizeof(*c->routes));
    for (size_t i = 0; i < v->n_items; i++) {
        const struct node *item = v->items[i];
        struct gw_route_conf *r = &c->routes[c->n_routes++];
        path_printf(item_path, sizeof(item_path), "%s[%zu]", path, i);
        if (item->kind != NODE_MAP)
            return fail(ld, item, item_path, GW_ECONFIG, "expected a mapping, got %s",
                        describe(item, got, sizeof(got)));
        r->methods = xstrdup("GET");
        r->mode = xstrdup("json");
        r->timeout = 0; /* filled in from GATEWAY.rpc_timeout once the whole file is read */
        r->line = item->line;
        int rc = apply_map(ld, item, item_path, route_keys,
                           sizeof(route_keys) / sizeof(route_keys[0]), r, true);
        if (rc != GW_OK)
            return rc;
        const char *missing = r->rule == NULL ? "rule" : r->service == NULL ? "rpc" : NULL;
        if (missing != NULL) {
            join_path(child, sizeof(child), item_path, missing);
            return fail(ld, item, child, GW_ECONFIG, "required key is missing");
        }
    }
    return GW_OK;
}

/* nameko's TLS and login settings. enoki speaks plain AMQP with PLAIN login for now: a file that asks
 * for more must fail loudly rather than connect in clear text or with another mechanism. */
static int apply_amqp_ssl(const struct loader *ld, const struct node *v, const char *path,
                          void *base, const struct key_spec *spec)
{
    (void)base;
    (void)spec;
    if (v->kind == NODE_BOOL && !v->bval)
        return GW_OK;
    return fail(ld, v, path, GW_ECONFIG,
                "TLS to the broker is not supported yet; remove the key or set it to false");
}

static int apply_login_method(const struct loader *ld, const struct node *v, const char *path,
                              void *base, const struct key_spec *spec)
{
    char got[80];
    (void)base;
    (void)spec;
    if (v->kind == NODE_STRING && strcmp(v->text, "PLAIN") == 0)
        return GW_OK;
    return fail(ld, v, path, GW_ECONFIG, "only PLAIN is supported, got %s",
                describe(v, got, sizeof(got)));
}

static const struct key_spec top_keys[] = {
    {.name = "AMQP_SSL", .apply = apply_amqp_ssl},
    {.name = "LOGIN_METHOD", .apply = apply_login_method},
    {.name = "AMQP_URI", .apply = apply_amqp_uri},
    {.name = "WEB_SERVER_ADDRESS", .apply = apply_web_address},
    {.name = "rpc_exchange",
     .apply = apply_nonempty_string,
     .offset = offsetof(struct gw_config, rpc_exchange)},
    {.name = "HEARTBEAT",
     .apply = apply_int,
     .offset = offsetof(struct gw_config, heartbeat),
     .min = 0,
     .max = 65535},
    {.name = "GATEWAY", .apply = apply_gateway},
    {.name = "routes", .apply = apply_routes},
};

/* ---------------------------------------------------------------------------------------------
 * Loading
 */

void gw_config_free(struct gw_config *config)
{
    if (config == NULL)
        return;
    free(config->path);
    free(config->amqp_uri_text);
    gw_amqp_uri_clear(&config->amqp);
    free(config->web_host);
    free(config->rpc_exchange);
    free(config->name);
    free(config->log_level);
    free(config->log_format);
    free(config->rpc_prefix);
    free(config->websocket_path);
    free(config->static_dir);
    free(config->admin_prefix);
    free(config->health_path);
    free(config->ready_path);
    free(config->metrics_path);
    free_string_list(&config->cors.origins);
    free_string_list(&config->cors.methods);
    free_string_list(&config->cors.headers);
    free_string_list(&config->websocket_origins);
    free_string_list(&config->expose);
    free_errors(config);
    free_context_headers(config);
    free_routes(config);
    free(config);
}

static struct gw_config *config_new_defaults(const char *path)
{
    struct gw_config *c = xcalloc(1, sizeof(*c));
    c->path = xstrdup(path);
    c->amqp_uri_text = xstrdup(DEFAULT_AMQP_URI);
    if (gw_amqp_uri_parse(DEFAULT_AMQP_URI, &c->amqp, NULL, 0) != GW_OK)
        abort(); /* the default is a constant */
    c->web_host = xstrdup("0.0.0.0");
    c->web_port = 8000;
    c->rpc_exchange = xstrdup("nameko-rpc");
    c->heartbeat = 60;
    c->name = xstrdup("enoki");
    c->rpc_timeout = 30;
    c->log_level = xstrdup("info");
    c->log_format = xstrdup("text");
    c->rpc_prefix = xstrdup("/rpc");
    c->websocket_path = xstrdup("/ws");
    c->websocket_max_frame = 1 << 20;
    c->websocket_max_sockets = 10000;
    c->websocket_send_queue = 1 << 20;
    c->websocket_ping = 30;
    c->static_dir = xstrdup("static");
    c->health_path = xstrdup("/healthz");
    c->ready_path = xstrdup("/readyz");
    c->metrics_path = xstrdup("/metrics");
    c->cors.max_age = 600;
    c->max_body = 1 << 20;
    c->max_header = 16 << 10;
    c->max_connections = 10000;
    c->max_in_flight = 10000;
    /* Transient by default: a request lives only as long as its caller's deadline (expiration),
     * and a broker restart fails every call anyway, so persisting it buys nothing and halves the
     * broker's throughput (bench/README.md). 2 keeps nameko's own bytes. */
    c->delivery_mode = 1;
    c->idle_timeout = 60;
    c->header_timeout = 10;
    return c;
}

/* Sets a top-level key, as nameko's --define does: earlier entries with that key go. */
static void map_set_take(struct node *map, struct node *key, struct node *value)
{
    size_t kept = 0;
    for (size_t i = 0; i < map_pairs(map); i++) {
        struct node *k = map->items[2 * i];
        struct node *v = map->items[2 * i + 1];
        if (node_is_key(k, key->text)) {
            node_unref(k);
            node_unref(v);
            continue;
        }
        map->items[2 * kept] = k;
        map->items[2 * kept + 1] = v;
        kept++;
    }
    map->n_items = 2 * kept;
    node_push_take(map, key);
    node_push_take(map, value);
}

static int apply_defines(const struct gw_define *defines, size_t n_defines, struct node *root,
                         char **labels, char *err, size_t errlen)
{
    for (size_t i = 0; i < n_defines; i++) {
        const char *key = defines[i].key != NULL ? defines[i].key : "";
        const char *text = defines[i].value != NULL ? defines[i].value : "";
        struct node *value = NULL;
        if (key[0] == '\0') {
            set_reason(err, errlen, "--define: expected KEY=VALUE, got an empty KEY");
            return GW_ECONFIG;
        }
        labels[i] = xasprintf("--define %s", key);
        struct parse_opts o = {.origin = labels[i],
                               .line = 0,
                               .prefix = key,
                               .depth = 0,
                               .err = err,
                               .errlen = errlen};
        int rc = parse_text(&o, text, strlen(text), &value);
        if (rc != GW_OK)
            return rc;
        if (value == NULL)
            value = node_new(NODE_NULL, labels[i], 0, "");
        map_set_take(root, node_new(NODE_STRING, labels[i], 0, key), value);
    }
    return GW_OK;
}

int gw_config_load_string(const char *name, const char *yaml, size_t len,
                          const struct gw_define *defines, size_t n_defines, struct gw_config **out,
                          char *err, size_t errlen)
{
    struct loader ld = {.err = err, .errlen = errlen};
    struct parse_opts o = {
        .origin = name, .line = -1, .prefix = "", .depth = 0, .err = err, .errlen = errlen};
    struct node *root = NULL;
    struct gw_config *config = NULL;
    char **labels = xcalloc(n_defines, sizeof(*labels));
    char got[80];
    *out = NULL;
    if (err != NULL && errlen > 0)
        err[0] = '\0';

    int rc = parse_text(&o, yaml, len, &root);
    if (rc != GW_OK)
        goto out;
    if (root == NULL || root->kind == NODE_NULL) {
        set_reason(err, errlen, "%s:1: expected a mapping at the top level, got an empty file",
                   name);
        rc = GW_ECONFIG;
        goto out;
    }
    if (root->kind != NODE_MAP) {
        rc = fail(&ld, root, "", GW_ECONFIG, "expected a mapping at the top level, got %s",
                  describe(root, got, sizeof(got)));
        goto out;
    }
    rc = apply_defines(defines, n_defines, root, labels, err, errlen);
    if (rc != GW_OK)
        goto out;

    config = config_new_defaults(name);
    rc = apply_map(&ld, root, "", top_keys, sizeof(top_keys) / sizeof(top_keys[0]), config, false);
    if (rc != GW_OK)
        goto out;
    /* Routes inherit GATEWAY.rpc_timeout wherever GATEWAY sits in the file. */
    size_t prefix_len = strlen(config->rpc_prefix);
    for (size_t i = 0; i < config->n_routes; i++) {
        struct gw_route_conf *r = &config->routes[i];
        if (r->timeout == 0)
            r->timeout = config->rpc_timeout;
        /* The generic route owns everything under its prefix while it is on. */
        if (config->expose.n > 0 && strncmp(r->rule, config->rpc_prefix, prefix_len) == 0 &&
            (r->rule[prefix_len] == '/' || r->rule[prefix_len] == '\0')) {
            set_reason(err, errlen,
                       "%s:%d: routes[%zu].rule: '%s' is under GATEWAY.rpc_prefix '%s', which "
                       "the generic RPC route serves while GATEWAY.expose is set",
                       name, r->rule_line, i, r->rule, config->rpc_prefix);
            rc = GW_ECONFIG;
            goto out;
        }
    }
    *out = config;
    config = NULL;
out:
    gw_config_free(config);
    node_unref(root);
    for (size_t i = 0; i < n_defines; i++)
        free(labels[i]);
    free(labels);
    return rc;
}

int gw_config_load(const char *path, const struct gw_define *defines, size_t n_defines,
                   struct gw_config **out, char *err, size_t errlen)
{
    struct gw_strbuf text = {0};
    char chunk[8192];
    int rc = GW_OK;
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        set_reason(err, errlen, "%s: cannot read: %s", path, strerror(errno));
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
        set_reason(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        rc = GW_EIO;
        goto out;
    }
    rc = gw_config_load_string(path, text.data != NULL ? text.data : "", text.len, defines, n_defines,
                               out, err, errlen);
out:
    fclose(f);
    free(text.data);
    return rc;
}
