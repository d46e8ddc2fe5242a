/* route_match.c - micro-benchmark of gw_route_table_match (run by `make bench-routes`).
 *
 * Builds route tables of 10, 100 and 1000 routes and measures the cost of one match for the same
 * request paths at every size: paths that hit (routes placed near the start, the middle and the end
 * of the insertion order), paths that miss (404) and paths whose rule lacks the method (405).
 * Every answer is checked once before it is timed, so a broken matcher cannot be measured as a
 * fast one. Each figure is the median of RUNS runs of ITERS matches, after a warm-up.
 *
 * Usage: route_match [-v]   (-v adds the median of every path, and the fastest and slowest run)
 */
#include "core/status.h"
#include "core/xalloc.h"
#include "routes/table.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RUNS 7
#define ITERS 200000
#define WARMUP 20000

static const size_t sizes[] = {10, 100, 1000};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

/* The routes the probes aim at. They are the same at every size and are spread over the insertion
 * order: route k of NFIXED goes to position k * (N - 1) / (NFIXED - 1), the generated routes fill
 * the other positions. */
struct fixed_route {
    const char *rule;
    const char *methods;
};

static const struct fixed_route fixed[] = {
    {"/api/v1/users/list-head", "GET"},                           /* first */
    {"/geo/probe/<float:x>/<any(a,b,c):k>/<string:name>", "GET"}, /* a quarter in */
    {"/api/v1/probe/<int:id>/orders/<uuid:u>", "GET,POST"},       /* middle */
    {"/shop/<string:name>/cart/", "GET"},                         /* three quarters in */
    {"/files/probe/<path:rest>", "GET,PUT"},                      /* last */
};
#define NFIXED (sizeof(fixed) / sizeof(fixed[0]))

/* Targets handed to the table: fixed route k answers &fixed_target[k], every generated route
 * answers &filler_target, so a probe that lands on the wrong route is caught. */
static char fixed_target[NFIXED];
static char filler_target;

enum kind { KIND_HIT, KIND_MISS, KIND_405, NKINDS };
static const char *const kind_names[NKINDS] = {"hit", "miss", "405"};

struct probe {
    enum kind kind;
    const char *method;
    const char *path;
    int fixed;          /* hit: index into fixed[] */
    const char *expect; /* hit: the values as compact JSON with sorted keys; 405: the Allow list */
};

static const struct probe probes[] = {
    {KIND_HIT, "GET", "/api/v1/users/list-head", 0, "{}"},
    {KIND_HIT, "GET", "/geo/probe/1.5/b/alice", 1, "{\"k\":\"b\",\"name\":\"alice\",\"x\":1.5}"},
    {KIND_HIT, "POST", "/api/v1/probe/42/orders/0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0", 2,
     "{\"id\":42,\"u\":\"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\"}"},
    {KIND_HIT, "GET", "/shop/bob/cart/", 3, "{\"name\":\"bob\"}"},
    {KIND_HIT, "PUT", "/files/probe/a/b/c.txt", 4, "{\"rest\":\"a/b/c.txt\"}"},
    /* 404: a miss among the many siblings of /api/v1/users and of /api/v1, one at the root, one
     * where a converter refuses the part (not an int), one where no float matches. */
    {KIND_MISS, "GET", "/api/v1/users/list-nope", 0, NULL},
    {KIND_MISS, "GET", "/api/v1/res-nope/7", 0, NULL},
    {KIND_MISS, "GET", "/nothing/here", 0, NULL},
    {KIND_MISS, "GET", "/api/v1/probe/notanint/orders/x", 0, NULL},
    {KIND_MISS, "GET", "/geo/probe/1/b/alice", 0, NULL},
    {KIND_405, "DELETE", "/api/v1/users/list-head", 0, "GET, HEAD"},
    {KIND_405, "PUT", "/api/v1/probe/42/orders/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", 0,
     "GET, HEAD, POST"},
    {KIND_405, "POST", "/files/probe/x", 0, "GET, HEAD, PUT"},
};
#define NPROBES (sizeof(probes) / sizeof(probes[0]))

/* The i-th generated route: a mix of static paths, every converter, several methods and trailing
 * slashes. Routes come in blocks of ten; five of each block share the prefix /api/v1/res-<block>/,
 * as the routes of one resource do, so that prefix's state has static and dynamic transitions. */
static char *filler_rule(size_t i, const char **methods)
{
    size_t block = i / 10;
    switch (i % 10) {
    case 0:
        *methods = "GET";
        return xasprintf("/api/v1/users/list-%zu", i);
    case 1:
        *methods = "GET,PUT,DELETE";
        return xasprintf("/api/v1/res-%zu/<int:id>", block);
    case 2:
        *methods = "GET";
        return xasprintf("/api/v1/res-%zu/by-name/<string:name>", block);
    case 3:
        *methods = "GET";
        return xasprintf("/files-%zu/<path:rest>", i);
    case 4:
        *methods = "GET,PATCH";
        return xasprintf("/api/v2/obj-%zu/<uuid:u>", i);
    case 5:
        *methods = "GET";
        return xasprintf("/geo/pt-%zu/<float:x>/<float:y>", i);
    case 6:
        *methods = "GET,POST";
        return xasprintf("/api/v1/res-%zu/<any(a,b,c):k>/items/", block);
    case 7:
        *methods = "GET,POST";
        return xasprintf("/svc-%zu/", i);
    case 8:
        *methods = "GET";
        return xasprintf("/api/v1/res-%zu/<int:id>/sub/<string:name>", block);
    default:
        *methods = "GET,POST";
        return xasprintf("/api/v1/res-%zu/", block);
    }
}

static void add_or_die(struct gw_route_table *table, const char *rule, const char *methods,
                       void *target)
{
    char err[256];
    int rc = gw_route_table_add(table, rule, methods, target, err, sizeof(err));
    if (rc != GW_OK) {
        fprintf(stderr, "route_match: cannot add '%s': %s (%s)\n", rule, gw_strerror(rc), err);
        exit(1);
    }
}

/* Returns a new compiled table of n routes (n >= NFIXED). */
static struct gw_route_table *build_table(size_t n)
{
    struct gw_route_table *table = gw_route_table_new();
    size_t next_fixed = 0, filler = 0;
    for (size_t pos = 0; pos < n; pos++) {
        if (next_fixed < NFIXED && pos == next_fixed * (n - 1) / (NFIXED - 1)) {
            add_or_die(table, fixed[next_fixed].rule, fixed[next_fixed].methods,
                       &fixed_target[next_fixed]);
            next_fixed++;
            continue;
        }
        const char *methods;
        char *rule = filler_rule(filler++, &methods);
        add_or_die(table, rule, methods, &filler_target);
        free(rule);
    }
    gw_route_table_compile(table);
    return table;
}

/* Checks one probe's answer; exits with a message if it is not the expected one. */
static void check_probe(const struct gw_route_table *table, size_t n, const struct probe *p)
{
    static const int want_rc[NKINDS] = {GW_OK, GW_ENOMATCH, GW_EMETHOD};
    struct gw_route_match m;
    int rc = gw_route_table_match(table, p->method, p->path, &m);
    char *values = NULL;
    const char *problem = NULL;
    if (rc != want_rc[p->kind]) {
        problem = "wrong status";
    } else if (p->kind == KIND_HIT) {
        values = json_dumps(m.values, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        if (m.target != &fixed_target[p->fixed])
            problem = "wrong target";
        else if (values == NULL || strcmp(values, p->expect) != 0)
            problem = "wrong values";
    } else if (p->kind == KIND_405 && strcmp(m.allow, p->expect) != 0) {
        problem = "wrong Allow list";
    }
    if (problem != NULL) {
        fprintf(stderr, "route_match: N=%zu %s %s: %s (got %s, values %s, allow '%s')\n", n,
                p->method, p->path, problem, gw_strerror(rc), values ? values : "-", m.allow);
        exit(1);
    }
    free(values);
    gw_route_match_clear(&m);
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Runs iters matches, cycling through the probes of idx[0 .. nidx - 1]; returns ns per match. */
static double time_matches(const struct gw_route_table *table, const size_t *idx, size_t nidx,
                           size_t iters)
{
    struct gw_route_match m;
    unsigned long sink = 0;
    size_t j = 0;
    double start = now_ns();
    for (size_t i = 0; i < iters; i++) {
        const struct probe *p = &probes[idx[j]];
        sink += (unsigned long)(gw_route_table_match(table, p->method, p->path, &m) + 64);
        gw_route_match_clear(&m);
        if (++j == nidx)
            j = 0;
    }
    double elapsed = now_ns() - start;
    /* Every answer was checked beforehand; this only keeps the loop's result alive. */
    if (sink == 0)
        fprintf(stderr, "route_match: no match ran\n");
    return elapsed / (double)iters;
}

static int double_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Sorts the RUNS samples in place and returns their median. */
static double median(double *samples)
{
    qsort(samples, RUNS, sizeof(double), double_cmp);
    return samples[RUNS / 2];
}

int main(int argc, char **argv)
{
    int verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
    double result[NSIZES][NKINDS];
    double spread[NSIZES][NKINDS][2];
    double start = now_ns();

    for (size_t s = 0; s < NSIZES; s++) {
        size_t n = sizes[s];
        struct gw_route_table *table = build_table(n);
        size_t idx[NKINDS][NPROBES], nidx[NKINDS] = {0};
        for (size_t i = 0; i < NPROBES; i++) {
            check_probe(table, n, &probes[i]);
            idx[probes[i].kind][nidx[probes[i].kind]++] = i;
        }

        for (size_t k = 0; k < NKINDS; k++)
            time_matches(table, idx[k], nidx[k], WARMUP);
        /* The kinds take turns within each run, so a slow moment of the machine hits all three. */
        double samples[NKINDS][RUNS];
        for (size_t r = 0; r < RUNS; r++)
            for (size_t k = 0; k < NKINDS; k++)
                samples[k][r] = time_matches(table, idx[k], nidx[k], ITERS);
        for (size_t k = 0; k < NKINDS; k++) {
            result[s][k] = median(samples[k]);
            spread[s][k][0] = samples[k][0];
            spread[s][k][1] = samples[k][RUNS - 1];
        }

        if (verbose) {
            printf("N=%zu, median of %d runs of %d matches per path:\n", n, RUNS, ITERS / 10);
            for (size_t i = 0; i < NPROBES; i++) {
                double one[RUNS];
                for (size_t r = 0; r < RUNS; r++)
                    one[r] = time_matches(table, &i, 1, ITERS / 10);
                printf("  %-4s %6.1f ns  %-6s %s\n", kind_names[probes[i].kind], median(one),
                       probes[i].method, probes[i].path);
            }
            for (size_t k = 0; k < NKINDS; k++)
                printf("  %-4s runs: fastest %.1f ns, slowest %.1f ns\n", kind_names[k],
                       spread[s][k][0], spread[s][k][1]);
        }
        gw_route_table_free(table);
    }

    size_t count[NKINDS] = {0};
    for (size_t i = 0; i < NPROBES; i++)
        count[probes[i].kind]++;
    printf("route matching, ns per match (median of %d runs of %d matches; %zu hit, %zu miss, "
           "%zu 405 paths)\n",
           RUNS, ITERS, count[KIND_HIT], count[KIND_MISS], count[KIND_405]);
    printf("%6s %14s %14s %14s   %s\n", "N", "hit ns/match", "miss ns/match", "405 ns/match",
           "ratio to N=10 (hit/miss/405)");
    for (size_t s = 0; s < NSIZES; s++) {
        printf("%6zu %14.1f %14.1f %14.1f   %.2f / %.2f / %.2f\n", sizes[s], result[s][KIND_HIT],
               result[s][KIND_MISS], result[s][KIND_405], result[s][KIND_HIT] / result[0][KIND_HIT],
               result[s][KIND_MISS] / result[0][KIND_MISS],
               result[s][KIND_405] / result[0][KIND_405]);
    }
    printf("ns(1000)/ns(10): hit %.2f, miss %.2f, 405 %.2f (total time %.1f s)\n",
           result[NSIZES - 1][KIND_HIT] / result[0][KIND_HIT],
           result[NSIZES - 1][KIND_MISS] / result[0][KIND_MISS],
           result[NSIZES - 1][KIND_405] / result[0][KIND_405], (now_ns() - start) / 1e9);
    return 0;
}
