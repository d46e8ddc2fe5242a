/* yaml_parse.c - libyaml's event parser builds the node tree, resolving each scalar on arrival.
 *
 * A stack of open collections holds what is being built; a finished node goes into its parent, or
 * becomes the root. Anchors keep a reference to their node for the rest of the document.
 */
#include "core/yaml_parse.h"

#include "core/config_subst.h"
#include "core/status.h"
#include "core/xalloc.h"
#include "core/yaml_scalar.h"

#include <yaml.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The first capacity of the anchor table; it doubles from there. */
#define FIRST_ANCHORS 8
/* Room for the reason gw_config_substitute gives. */
#define SUBST_REASON_LEN 128

struct anchor {
    char *name;
    struct gw_yaml_node *node; /* a reference */
};

struct frame {
    struct gw_yaml_node *node; /* the collection being built, a reference */
    char *anchor;              /* registered when the collection ends */
};

struct parser {
    const struct gw_yaml_parse_opts *o;
    yaml_parser_t yaml;
    struct frame stack[GW_YAML_MAX_NESTING];
    size_t n_stack;
    struct anchor *anchors;
    size_t n_anchors, cap_anchors;
    struct gw_yaml_node *root;
    int n_documents;
};

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
    gw_yaml_path_printf(buf, len, "%s", p->o->prefix);
    used = strlen(buf);
    for (size_t i = 0; i < p->n_stack && used < len; i++) {
        const struct gw_yaml_node *c = p->stack[i].node;
        if (c->kind == GW_YAML_SEQ) {
            gw_yaml_path_printf(buf + used, len - used, "[%zu]", c->n_items);
        } else if (c->n_items % 2 == 1) {
            const struct gw_yaml_node *key = c->items[c->n_items - 1];
            const char *name = key->text != NULL ? key->text : "?";
            gw_yaml_path_printf(buf + used, len - used, "%s%s", used > 0 ? "." : "", name);
        } else {
            break; /* the node is a key itself: the mapping's path is the best we have */
        }
        used = strlen(buf);
    }
}

__attribute__((format(printf, 5, 6))) static int opts_fail(const struct gw_yaml_parse_opts *o,
                                                           int line, const char *path, int status,
                                                           const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gw_yaml_vformat_error(o->err, o->errlen, o->origin, line, path, fmt, ap);
    va_end(ap);
    return status;
}

__attribute__((format(printf, 4, 5))) static int parse_fail(const struct parser *p, int line,
                                                            int status, const char *fmt, ...)
{
    char path[GW_YAML_PATH_LEN];
    va_list ap;
    current_path(p, path, sizeof(path));
    va_start(ap, fmt);
    gw_yaml_vformat_error(p->o->err, p->o->errlen, p->o->origin, line, path, fmt, ap);
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

/* A substituted value that starts an alias or a tag, read again as YAML (as nameko reads it). */
#define SUBSTITUTED_NOT_YAML                                                                       \
    "invalid YAML after substitution: the value starts with '*', '&' or '!' (not quoted here: it " \
    "may be a secret); write \"${...}\" in quotes or use !raw_env_var to take it as text"

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

static void add_anchor(struct parser *p, const char *name, struct gw_yaml_node *node)
{
    if (p->n_anchors == p->cap_anchors) {
        p->cap_anchors = p->cap_anchors ? p->cap_anchors * 2 : FIRST_ANCHORS;
        p->anchors = xrealloc(p->anchors, p->cap_anchors * sizeof(*p->anchors));
    }
    p->anchors[p->n_anchors].name = xstrdup(name);
    p->anchors[p->n_anchors].node = gw_yaml_node_ref(node);
    p->n_anchors++;
}

/* Places a finished node (stealing the reference) in its parent, or makes it the root. */
static void add_node_take(struct parser *p, struct gw_yaml_node *node, const char *anchor)
{
    if (anchor != NULL)
        add_anchor(p, anchor, node);
    if (p->n_stack == 0) {
        gw_yaml_node_unref(p->root);
        p->root = node;
        return;
    }
    gw_yaml_node_push_take(p->stack[p->n_stack - 1].node, node);
}

static int on_alias(struct parser *p, const yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    /* A name may be anchored again later in a document; the newest definition wins. */
    for (size_t i = p->n_anchors; i > 0; i--) {
        if (strcmp(p->anchors[i - 1].name, name) == 0) {
            add_node_take(p, gw_yaml_node_ref(p->anchors[i - 1].node), NULL);
            return GW_OK;
        }
    }
    /* A substituted value is never quoted: it may be a secret (${JWT_SECRET} = "*s3cret"). */
    if (p->o->depth > 0)
        return parse_fail(p, event_line(p, ev), GW_EYAML, "%s", SUBSTITUTED_NOT_YAML);
    return parse_fail(p, event_line(p, ev), GW_EYAML, "invalid YAML: found undefined alias '%s'",
                      name);
}

/* Records how a scalar was written, on a node made straight from it (not from re-parsed text). */
static struct gw_yaml_node *as_written(struct gw_yaml_node *n, bool plain, const char *tag)
{
    n->plain = plain;
    n->tag = tag != NULL ? xstrdup(tag) : NULL;
    return n;
}

/* Substitutes a scalar's references; reparse is false for !raw_env_var. */
static int substitute_scalar(struct parser *p, const char *raw, const char *tag, bool plain,
                             int line, bool reparse, struct gw_yaml_node **out)
{
    char reason[SUBST_REASON_LEN];
    char *value = NULL;
    struct gw_yaml_node *node = NULL;
    int rc = gw_config_substitute(raw, &value, reason, sizeof(reason));
    if (rc != GW_OK) {
        rc = parse_fail(p, line, rc, "%s", reason);
        goto out;
    }
    /* nameko returns the text unchanged (a string) when nothing was replaced, avoiding recursion.
     */
    if (!reparse || strcmp(value, raw) == 0) {
        node = as_written(gw_yaml_node_new(GW_YAML_STRING, p->o->origin, line, value), plain, tag);
        goto out;
    }
    if (p->o->depth >= GW_YAML_MAX_SUBST_DEPTH) {
        rc = parse_fail(p, line, GW_ESUBST,
                        "substitution goes more than %d levels deep (does a variable refer to "
                        "itself?)",
                        GW_YAML_MAX_SUBST_DEPTH);
        goto out;
    }
    /* yaml.safe_load(value): a new document, with the same resolvers, all at this scalar's line. */
    char path[GW_YAML_PATH_LEN];
    current_path(p, path, sizeof(path));
    struct gw_yaml_parse_opts child = {.origin = p->o->origin,
                                       .line = line,
                                       .prefix = path,
                                       .depth = p->o->depth + 1,
                                       .err = p->o->err,
                                       .errlen = p->o->errlen};
    rc = gw_yaml_parse(&child, value, strlen(value), &node);
    if (rc != GW_OK)
        goto out;
    if (node == NULL)
        node = gw_yaml_node_new(GW_YAML_NULL, p->o->origin, line, "");
out:
    free(value);
    *out = node;
    return rc;
}

/* A scalar with one of YAML's own tags: a string, a null, or an implicit type it must have. */
static int resolve_core_tag(struct parser *p, const char *raw, const char *tag, bool plain,
                            int line, struct gw_yaml_node **out)
{
    const char *origin = p->o->origin;
    if (strcmp(tag, YAML_STR_TAG) == 0) {
        *out = as_written(gw_yaml_node_new(GW_YAML_STRING, origin, line, raw), plain, tag);
        return GW_OK;
    }
    if (strcmp(tag, YAML_NULL_TAG) == 0) {
        *out = as_written(gw_yaml_node_new(GW_YAML_NULL, origin, line, raw), plain, tag);
        return GW_OK;
    }
    struct gw_yaml_node *n = gw_yaml_typed_scalar(raw, origin, line);
    bool ok = false;
    if (strcmp(tag, YAML_INT_TAG) == 0) {
        ok = n->kind == GW_YAML_INT;
    } else if (strcmp(tag, YAML_FLOAT_TAG) == 0) {
        if (n->kind == GW_YAML_INT) {
            n->kind = GW_YAML_FLOAT;
            n->fval = (double)n->ival;
        }
        ok = n->kind == GW_YAML_FLOAT;
    } else if (strcmp(tag, YAML_BOOL_TAG) == 0) {
        ok = n->kind == GW_YAML_BOOL;
    } else {
        gw_yaml_node_unref(n);
        if (p->o->depth > 0)
            return parse_fail(p, line, GW_EYAML, "%s", SUBSTITUTED_NOT_YAML);
        return parse_fail(p, line, GW_EYAML, "unsupported tag '%s'", tag);
    }
    if (!ok) {
        gw_yaml_node_unref(n);
        return parse_fail(p, line, GW_EYAML, "'%s' is not a valid %s", raw, tag);
    }
    *out = as_written(n, plain, tag);
    return GW_OK;
}

static int resolve_scalar(struct parser *p, const char *raw, const char *tag, bool plain, int line,
                          struct gw_yaml_node **out)
{
    const char *origin = p->o->origin;
    *out = NULL;
    if (tag == NULL || strcmp(tag, "!") == 0) {
        if (tag == NULL && plain) {
            if (gw_config_subst_wanted(raw))
                return substitute_scalar(p, raw, tag, plain, line, true, out);
            *out = as_written(gw_yaml_typed_scalar(raw, origin, line), plain, tag);
            return GW_OK;
        }
        *out = as_written(gw_yaml_node_new(GW_YAML_STRING, origin, line, raw), plain, tag);
        return GW_OK;
    }
    if (strcmp(tag, "!env_var") == 0)
        return substitute_scalar(p, raw, tag, plain, line, true, out);
    if (strcmp(tag, "!raw_env_var") == 0)
        return substitute_scalar(p, raw, tag, plain, line, false, out);
    return resolve_core_tag(p, raw, tag, plain, line, out);
}

static int on_scalar(struct parser *p, const yaml_event_t *ev)
{
    const char *raw = (const char *)ev->data.scalar.value;
    const char *tag = (const char *)ev->data.scalar.tag;
    bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    int line = event_line(p, ev);
    struct gw_yaml_node *node = NULL;
    /* "\0" is legal in a double-quoted YAML string but cannot live in a C string. */
    if (strlen(raw) != ev->data.scalar.length)
        return parse_fail(p, line, GW_EYAML, "NUL characters are not supported");
    int rc = resolve_scalar(p, raw, tag, plain, line, &node);
    if (rc != GW_OK)
        return rc;
    add_node_take(p, node, (const char *)ev->data.scalar.anchor);
    return GW_OK;
}

static int on_collection_start(struct parser *p, const yaml_event_t *ev, enum gw_yaml_kind kind)
{
    bool is_seq = kind == GW_YAML_SEQ;
    const char *tag =
        (const char *)(is_seq ? ev->data.sequence_start.tag : ev->data.mapping_start.tag);
    const char *anchor =
        (const char *)(is_seq ? ev->data.sequence_start.anchor : ev->data.mapping_start.anchor);
    const char *own_tag = is_seq ? YAML_SEQ_TAG : YAML_MAP_TAG;
    int line = event_line(p, ev);
    if (tag != NULL && strcmp(tag, "!") != 0 && strcmp(tag, own_tag) != 0) {
        if (strcmp(tag, "!env_var") == 0 || strcmp(tag, "!raw_env_var") == 0)
            return parse_fail(p, line, GW_EYAML, "%s applies to scalars only", tag);
        if (p->o->depth > 0)
            return parse_fail(p, line, GW_EYAML, "%s", SUBSTITUTED_NOT_YAML);
        return parse_fail(p, line, GW_EYAML, "unsupported tag '%s'", tag);
    }
    if (p->n_stack == GW_YAML_MAX_NESTING)
        return parse_fail(p, line, GW_EYAML, "nesting is deeper than %d levels",
                          GW_YAML_MAX_NESTING);
    struct gw_yaml_node *node = gw_yaml_node_new(kind, p->o->origin, line, NULL);
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
        return on_collection_start(p, ev, GW_YAML_SEQ);
    case YAML_MAPPING_START_EVENT:
        return on_collection_start(p, ev, GW_YAML_MAP);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        on_collection_end(p);
        return GW_OK;
    default:
        return GW_OK;
    }
}

int gw_yaml_parse(const struct gw_yaml_parse_opts *o, const char *text, size_t len,
                  struct gw_yaml_node **out)
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
        gw_yaml_node_unref(p.stack[p.n_stack].node);
        free(p.stack[p.n_stack].anchor);
    }
    for (size_t i = 0; i < p.n_anchors; i++) {
        free(p.anchors[i].name);
        gw_yaml_node_unref(p.anchors[i].node);
    }
    free(p.anchors);
    gw_yaml_node_unref(p.root);
    yaml_parser_delete(&p.yaml);
    return rc;
}
