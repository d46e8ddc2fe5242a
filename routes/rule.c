/* rule.c - werkzeug 2.2 rule text -> parts (see rule.h).
 *
 * Mirrors Rule._parse_rule and Rule._build_regex of werkzeug/routing/rules.py; the regexes it
 * replays are quoted above the functions that replay them, so the two can be compared.
 */
#include "routes/rule.h"

#include "core/status.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "routes/conv_args.h"
#include "routes/pytext.h"

#include <stdlib.h>
#include <string.h>

static int is_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_ident_char(char c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9');
}

/* ---------------------------------------------------------------------------------------------
 * The rule parser: werkzeug's Rule._parse_rule over _part_re:
 *
 *     (?P<slash>\/) | (?P<static>[^<\/]+)
 *     |
 * <(?:(?P<converter>[a-zA-Z_][a-zA-Z0-9_]*)(?:\((?P<arguments>.*?)\))?\:)?(?P<variable>[a-zA-Z_][a-zA-Z0-9_]*)>
 */

struct var_syntax {
    size_t conv_start, conv_end; /* empty: no converter given ("default") */
    int has_args;
    size_t args_start, args_end;
    size_t var_start, var_end;
    size_t end; /* after '>' */
};

/* An identifier at p followed by '>': sets the name bounds and returns 1. */
static int var_at(const char *t, size_t p, size_t len, struct var_syntax *v)
{
    if (p >= len || !is_ident_start(t[p]))
        return 0;
    size_t q = p + 1;
    while (q < len && is_ident_char(t[q]))
        q++;
    if (q >= len || t[q] != '>')
        return 0;
    v->var_start = p;
    v->var_end = q;
    v->end = q + 1;
    return 1;
}

/* Matches the variable alternative of _part_re at t[pos] == '<', trying the regex's branches in
 * its order: converter with arguments (the shortest argument text that works, as .*? is lazy),
 * converter without arguments, bare variable. */
static int var_syntax_at(const char *t, size_t pos, size_t len, struct var_syntax *v)
{
    memset(v, 0, sizeof(*v));
    size_t p = pos + 1;
    if (p < len && is_ident_start(t[p])) {
        size_t q = p + 1;
        while (q < len && is_ident_char(t[q]))
            q++;
        v->conv_start = p;
        v->conv_end = q;
        if (q < len && t[q] == '(') {
            for (size_t j = q + 1; j < len && t[j] != '\n'; j++) {
                if (t[j] == ')' && j + 1 < len && t[j + 1] == ':' && var_at(t, j + 2, len, v)) {
                    v->has_args = 1;
                    v->args_start = q + 1;
                    v->args_end = j;
                    return 1;
                }
            }
        }
        if (q < len && t[q] == ':' && var_at(t, q + 1, len, v))
            return 1;
    }
    v->conv_start = v->conv_end = 0;
    return var_at(t, p, len, v);
}

/* The part being built between two slashes (or across them, once final). */
struct part_builder {
    struct gw_strbuf key;
    int is_static;
    int final;
    struct gw_rule_token *tokens;
    size_t ntokens;
    size_t ncaptures;
    size_t *static_len;
    size_t nstatic;
    int *arg_weight;
    size_t nargs;
};

static void pb_literal(struct part_builder *pb, const char *s, size_t n)
{
    struct gw_rule_token *last = pb->ntokens ? &pb->tokens[pb->ntokens - 1] : NULL;
    if (last != NULL && last->lit != NULL) {
        last->lit = xrealloc(last->lit, last->len + n + 1);
        memcpy(last->lit + last->len, s, n);
        last->len += n;
        last->lit[last->len] = '\0';
        return;
    }
    pb->tokens = xrealloc(pb->tokens, (pb->ntokens + 1) * sizeof(*pb->tokens));
    pb->tokens[pb->ntokens++] = (struct gw_rule_token){xstrndup(s, n), n, 0};
}

static void pb_clear(struct part_builder *pb)
{
    free(pb->key.data);
    for (size_t i = 0; i < pb->ntokens; i++)
        free(pb->tokens[i].lit);
    free(pb->tokens);
    free(pb->static_len);
    free(pb->arg_weight);
    memset(pb, 0, sizeof(*pb));
    pb->is_static = 1;
}

/* Moves the built part into rule->parts and starts a new one. */
static void pb_emit(struct part_builder *pb, struct gw_rule *rule)
{
    if (!pb->is_static)
        gw_strbuf_adds(&pb->key, "\\Z");
    else
        gw_strbuf_add(&pb->key, "", 0); /* a static part may be empty; make sure key is allocated */
    rule->parts = xrealloc(rule->parts, (rule->nparts + 1) * sizeof(*rule->parts));
    struct gw_rule_part *part = &rule->parts[rule->nparts++];
    memset(part, 0, sizeof(*part));
    part->is_static = pb->is_static;
    part->final = pb->final;
    part->key = pb->key.data;
    part->key_len = pb->key.len;
    part->ncaptures = pb->ncaptures;
    part->weight = (struct gw_rule_weight){pb->nstatic, pb->static_len, pb->nargs, pb->arg_weight};
    if (pb->is_static) {
        for (size_t i = 0; i < pb->ntokens; i++)
            free(pb->tokens[i].lit);
        free(pb->tokens);
    } else {
        part->tokens = pb->tokens;
        part->ntokens = pb->ntokens;
    }
    memset(pb, 0, sizeof(*pb));
    pb->is_static = 1;
}

static int add_variable(const char *text, const struct var_syntax *v, struct part_builder *pb,
                        struct gw_rule *rule, char *err, size_t errlen)
{
    int rc = GW_ERULE;
    struct gw_conv_arg *args = NULL;
    size_t nargs = 0;
    size_t cn = v->conv_end - v->conv_start;
    const struct gw_converter *converter = gw_converter_find(text + v->conv_start, cn);

    if (converter == NULL) {
        gw_set_err(err, errlen, "unknown converter '%.*s'", (int)cn, text + v->conv_start);
        goto out;
    }
    size_t vn = v->var_end - v->var_start;
    for (size_t i = 0; i < rule->nconvs; i++) {
        if (strlen(rule->convs[i].name) == vn &&
            memcmp(rule->convs[i].name, text + v->var_start, vn) == 0) {
            gw_set_err(err, errlen, "variable '%.*s' is used twice", (int)vn, text + v->var_start);
            goto out;
        }
    }
    if (rule->nconvs >= GW_RULE_MAX_VARS) {
        gw_set_err(err, errlen, "more than %d variables", GW_RULE_MAX_VARS);
        goto out;
    }
    if (v->has_args && gw_conv_args_parse(text + v->args_start, v->args_end - v->args_start, &args,
                                          &nargs, err, errlen) != GW_OK)
        goto out;

    if (pb->is_static) {
        /* From here on the part is a regex: escape the static text before the variable. */
        struct gw_strbuf escaped = {0};
        gw_strbuf_add(&escaped, "", 0);
        gw_py_re_escape(&escaped, pb->key.data, pb->key.len);
        free(pb->key.data);
        pb->key = escaped;
        pb->is_static = 0;
    }
    rule->convs = xrealloc(rule->convs, (rule->nconvs + 1) * sizeof(*rule->convs));
    struct gw_rule_conv *conv = &rule->convs[rule->nconvs++];
    memset(conv, 0, sizeof(*conv));
    conv->name = xstrndup(text + v->var_start, vn);
    gw_strbuf_adds(&pb->key, "(");
    if (gw_converter_build(converter, args, nargs, conv, &pb->key, err, errlen) != GW_OK)
        goto out;
    gw_strbuf_adds(&pb->key, ")");
    if (conv->kind == GW_CONV_PATH)
        pb->final = 1;
    pb->arg_weight = xrealloc(pb->arg_weight, (pb->nargs + 1) * sizeof(int));
    pb->arg_weight[pb->nargs++] = gw_converter_weight(converter);
    pb->tokens = xrealloc(pb->tokens, (pb->ntokens + 1) * sizeof(*pb->tokens));
    pb->tokens[pb->ntokens++] = (struct gw_rule_token){NULL, 0, rule->nconvs - 1};
    pb->ncaptures++;
    rc = GW_OK;
out:
    gw_conv_args_free(args, nargs);
    return rc;
}

int gw_rule_parse(const char *text, size_t len, struct gw_rule **out, char *err, size_t errlen)
{
    int rc = GW_ERULE;
    struct gw_rule *rule = xcalloc(1, sizeof(*rule));
    struct part_builder pb = {0};
    pb.is_static = 1;
    *out = NULL;
    gw_set_err(err, errlen, "%s", "");

    if (len == 0 || text[0] != '/') {
        gw_set_err(err, errlen, "rule must start with '/'");
        goto out;
    }
    size_t pos = 0;
    while (pos < len) {
        if (text[pos] == '/') {
            if (pb.final) {
                /* After a path converter the slash is part of the one final regex. */
                gw_strbuf_add(&pb.key, "/", 1);
                pb_literal(&pb, "/", 1);
            } else {
                pb_emit(&pb, rule);
            }
            pos++;
        } else if (text[pos] != '<') {
            size_t end = pos;
            while (end < len && text[end] != '<' && text[end] != '/')
                end++;
            pb.static_len = xrealloc(pb.static_len, (pb.nstatic + 1) * sizeof(size_t));
            pb.static_len[pb.nstatic++] = gw_cp_count(text + pos, end - pos);
            if (pb.is_static)
                gw_strbuf_add(&pb.key, text + pos, end - pos);
            else
                gw_py_re_escape(&pb.key, text + pos, end - pos);
            pb_literal(&pb, text + pos, end - pos);
            pos = end;
        } else {
            struct var_syntax v;
            if (!var_syntax_at(text, pos, len, &v)) {
                gw_set_err(err, errlen,
                           "malformed rule at offset %zu: expected <name>, <converter:name> or "
                           "<converter(arguments):name>",
                           pos);
                goto out;
            }
            if (add_variable(text, &v, &pb, rule, err, errlen) != GW_OK)
                goto out;
            pos = v.end;
        }
    }
    pb_emit(&pb, rule);
    rc = GW_OK;
out:
    pb_clear(&pb);
    if (rc != GW_OK) {
        gw_rule_free(rule);
        rule = NULL;
    }
    *out = rule;
    return rc;
}

void gw_rule_free(struct gw_rule *rule)
{
    if (rule == NULL)
        return;
    for (size_t i = 0; i < rule->nparts; i++) {
        struct gw_rule_part *part = &rule->parts[i];
        free(part->key);
        for (size_t j = 0; j < part->ntokens; j++)
            free(part->tokens[j].lit);
        free(part->tokens);
        free(part->weight.static_len);
        free(part->weight.arg_weight);
    }
    free(rule->parts);
    for (size_t i = 0; i < rule->nconvs; i++)
        gw_converter_clear(&rule->convs[i]);
    free(rule->convs);
    free(rule);
}

/* ---------------------------------------------------------------------------------------------
 * Ordering and equality of parts (StateMachineMatcher.update sorts dynamic transitions by weight).
 */

static int cmp_size(size_t a, size_t b)
{
    return a < b ? -1 : a > b;
}

int gw_rule_weight_cmp(const struct gw_rule_weight *a, const struct gw_rule_weight *b)
{
    int c;
    /* -len(static_weights): more static chunks sort first. */
    if ((c = cmp_size(b->nstatic, a->nstatic)) != 0)
        return c;
    /* [(index, -len)]: the indexes agree, so a longer chunk sorts first. */
    for (size_t i = 0; i < a->nstatic && i < b->nstatic; i++)
        if ((c = cmp_size(b->static_len[i], a->static_len[i])) != 0)
            return c;
    if ((c = cmp_size(a->nstatic, b->nstatic)) != 0)
        return c;
    /* -len(argument_weights): more variables sort first; then lighter converters first. */
    if ((c = cmp_size(b->nargs, a->nargs)) != 0)
        return c;
    for (size_t i = 0; i < a->nargs && i < b->nargs; i++)
        if (a->arg_weight[i] != b->arg_weight[i])
            return a->arg_weight[i] < b->arg_weight[i] ? -1 : 1;
    return cmp_size(a->nargs, b->nargs);
}

int gw_rule_part_equal(const struct gw_rule_part *a, const struct gw_rule_part *b)
{
    return a->is_static == b->is_static && a->final == b->final && a->key_len == b->key_len &&
           memcmp(a->key, b->key, a->key_len) == 0 &&
           gw_rule_weight_cmp(&a->weight, &b->weight) == 0;
}
