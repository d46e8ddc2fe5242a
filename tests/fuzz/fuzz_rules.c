/* fuzz_rules - libFuzzer harness for the werkzeug rule modules (routes/rule, conv_args, converter,
 * rule_match) and the route table (routes/table).
 *
 * The input is lines. "@METHOD /raw/path" is a request; any other line is a rule, optionally
 * followed by a TAB and nameko's method list ("/get/<int:v>\tGET,POST"; "GET" when absent). Every
 * rule is parsed on its own (an exact-length buffer: gw_rule_parse promises not to need a NUL) and
 * each of its dynamic parts is matched against the matching segment of every request path, the
 * captures converted to values; then all the rules go into one table, which is compiled and asked
 * for every request, as the gateway asks it.
 */
#include "fuzz_util.h"

#include "core/status.h"
#include "routes/call.h"
#include "routes/converter.h"
#include "routes/rule.h"
#include "routes/rule_match.h"
#include "routes/table.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Bounds the work per input: rules x paths part matches. */
#define MAX_RULES 24
#define MAX_REQUESTS 24

struct request {
    char *method; /* new C string */
    char *path;   /* new: the decoded path, as gw_call_decode_path gives it */
    size_t path_len;
};

static void write_line(void *ctx, const char *line)
{
    fputs(line, ctx);
}

static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    devnull = fopen("/dev/null", "w");
    return 0;
}

/* A capture's text must lie inside the text it was matched against. */
static void check_span(const struct gw_rule_span *span, const char *s, size_t len)
{
    FUZZ_ASSERT(span->ptr >= s);
    FUZZ_ASSERT(span->len <= len);
    FUZZ_ASSERT((size_t)(span->ptr - s) <= len - span->len);
}

/* Matches one dynamic part against s (an exact-length copy) and converts what it captured. */
static void match_part(const struct gw_rule *rule, const struct gw_rule_part *part,
                       const char *text, size_t len)
{
    struct gw_rule_span spans[GW_RULE_MAX_VARS];
    char *s = fuzz_copy(text, len);
    if (gw_rule_part_match(part, rule->convs, s, len, spans)) {
        size_t k = 0;
        for (size_t t = 0; t < part->ntokens; t++) {
            if (part->tokens[t].lit)
                continue;
            FUZZ_ASSERT(k < part->ncaptures);
            FUZZ_ASSERT(part->tokens[t].conv < rule->nconvs);
            check_span(&spans[k], s, len);
            json_t *value = NULL;
            int rc = gw_converter_value(&rule->convs[part->tokens[t].conv], spans[k].ptr,
                                        spans[k].len, &value);
            FUZZ_ASSERT(rc == GW_OK ? value != NULL : rc == GW_ENOMATCH);
            json_decref(value);
            k++;
        }
        FUZZ_ASSERT(k == part->ncaptures);
    }
    free(s);
}

static void exercise_rule(const char *text, size_t len, const struct request *requests,
                          size_t n_requests)
{
    char *copy = fuzz_copy(text, len);
    struct gw_rule *rule = (struct gw_rule *)1;
    char err[128];
    int rc = gw_rule_parse(copy, len, &rule, err, sizeof(err));
    free(copy);
    if (rc != GW_OK) {
        FUZZ_ASSERT(rc == GW_ERULE && rule == NULL);
        FUZZ_ASSERT(memchr(err, '\0', sizeof(err)) != NULL);
        return;
    }
    FUZZ_ASSERT(rule != NULL && rule->nparts >= 1 && rule->nconvs <= GW_RULE_MAX_VARS);
    size_t captures = 0;
    for (size_t i = 0; i < rule->nparts; i++) {
        const struct gw_rule_part *part = &rule->parts[i];
        FUZZ_ASSERT(gw_rule_part_equal(part, part));
        FUZZ_ASSERT(gw_rule_weight_cmp(&part->weight, &part->weight) == 0);
        if (i > 0) {
            const struct gw_rule_weight *a = &rule->parts[i - 1].weight, *b = &part->weight;
            int ab = gw_rule_weight_cmp(a, b), ba = gw_rule_weight_cmp(b, a);
            FUZZ_ASSERT((ab < 0 && ba > 0) || (ab > 0 && ba < 0) || (ab == 0 && ba == 0));
        }
        captures += part->ncaptures;
    }
    FUZZ_ASSERT(captures == rule->nconvs);

    /* Part i of a rule meets segment i of a path ("/a/b" is "", "a", "b"); a final part meets the
     * rest of the path from there, slashes included. */
    for (size_t r = 0; r < n_requests; r++) {
        const char *seg = requests[r].path;
        const char *end = requests[r].path + requests[r].path_len;
        for (size_t i = 0; i < rule->nparts && seg; i++) {
            const char *slash = memchr(seg, '/', (size_t)(end - seg));
            const struct gw_rule_part *part = &rule->parts[i];
            if (!part->is_static) {
                const char *seg_end = part->final || !slash ? end : slash;
                match_part(rule, part, seg, (size_t)(seg_end - seg));
            }
            seg = slash ? slash + 1 : NULL;
        }
    }
    gw_rule_free(rule);
}

static void exercise_table(char **rules, char **methods, size_t n_rules,
                           const struct request *requests, size_t n_requests)
{
    struct gw_route_table *table = gw_route_table_new();
    char err[256];
    for (size_t i = 0; i < n_rules; i++) {
        int rc = gw_route_table_add(table, rules[i], methods[i] ? methods[i] : "GET",
                                    (void *)(uintptr_t)(i + 1), err, sizeof(err));
        FUZZ_ASSERT(rc == GW_OK || rc == GW_ERULE || rc == GW_EDUPLICATE);
    }
    FUZZ_ASSERT(gw_route_table_compile(table) == GW_OK);
    for (size_t r = 0; r < n_requests; r++) {
        struct gw_route_match m;
        int rc = gw_route_table_match(table, requests[r].method, requests[r].path, &m);
        switch (rc) {
        case GW_OK:
            FUZZ_ASSERT(m.target != NULL && (uintptr_t)m.target <= n_rules);
            FUZZ_ASSERT(json_is_object(m.values));
            break;
        case GW_EMETHOD:
            FUZZ_ASSERT(m.allow[0] != '\0' && memchr(m.allow, '\0', sizeof(m.allow)));
            break;
        case GW_EREDIRECT:
            FUZZ_ASSERT(m.redirect != NULL && m.redirect[0] == '/');
            break;
        default:
            FUZZ_ASSERT(rc == GW_ENOMATCH);
            break;
        }
        gw_route_match_clear(&m);
    }
    if (devnull)
        gw_route_table_dump(table, NULL, write_line, devnull);
    gw_route_table_free(table);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_slice rest = {(const char *)data, size}, line;
    struct fuzz_slice rule_text[MAX_RULES];
    char *rules[MAX_RULES], *methods[MAX_RULES];
    struct request requests[MAX_REQUESTS];
    size_t n_rules = 0, n_requests = 0;
    char err[128];

    while (fuzz_next_line(&rest, &line)) {
        if (line.n > 0 && line.p[0] == '@') {
            if (n_requests == MAX_REQUESTS)
                continue;
            /* "@METHOD raw-path": the path is decoded as the gateway decodes a request target. */
            const char *space = memchr(line.p, ' ', line.n);
            size_t method_len = space ? (size_t)(space - line.p) - 1 : line.n - 1;
            const char *raw = space ? space + 1 : "/";
            size_t raw_len = space ? line.n - method_len - 2 : 1;
            char *raw_copy = fuzz_copy(raw, raw_len);
            char *path = NULL;
            int rc = gw_call_decode_path(raw_copy, raw_len, &path, err, sizeof(err));
            free(raw_copy);
            if (rc != GW_OK) {
                FUZZ_ASSERT(path == NULL);
                continue;
            }
            requests[n_requests].method = fuzz_cstr(line.p + 1, method_len);
            requests[n_requests].path = path;
            requests[n_requests].path_len = strlen(path);
            n_requests++;
        } else if (n_rules < MAX_RULES) {
            const char *tab = memchr(line.p, '\t', line.n);
            size_t rule_len = tab ? (size_t)(tab - line.p) : line.n;
            rule_text[n_rules].p = line.p;
            rule_text[n_rules].n = rule_len;
            rules[n_rules] = fuzz_cstr(line.p, rule_len);
            methods[n_rules] = tab ? fuzz_cstr(tab + 1, line.n - rule_len - 1) : NULL;
            n_rules++;
        }
    }

    for (size_t i = 0; i < n_rules; i++)
        exercise_rule(rule_text[i].p, rule_text[i].n, requests, n_requests);
    exercise_table(rules, methods, n_rules, requests, n_requests);

    for (size_t i = 0; i < n_rules; i++) {
        free(rules[i]);
        free(methods[i]);
    }
    for (size_t i = 0; i < n_requests; i++) {
        free(requests[i].method);
        free(requests[i].path);
    }
    return 0;
}
