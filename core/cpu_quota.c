/* cpu_quota.c - the CPUs a cgroup's CPU quota allows (cpu_quota.h). */
#include "core/cpu_quota.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { PATH_BYTES = 4096 };

/* A file's first line into buf; false when it cannot be read. */
static bool read_line(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    bool ok = fgets(buf, (int)len, f) != NULL;
    fclose(f);
    return ok;
}

/* CPUs for quota over period, rounded up; 0 for no limit. */
static int cpus_of(long long quota, long long period)
{
    if (quota <= 0 || period <= 0)
        return 0;
    long long n = quota / period + (quota % period != 0);
    return n > 1 << 20 ? 1 << 20 : (int)n;
}

/* A decimal number at *s (moved past it); false when there is none or it is out of range. */
static bool number(const char **s, long long *out)
{
    char *end;
    errno = 0;
    *out = strtoll(*s, &end, 10);
    if (end == *s || errno == ERANGE)
        return false;
    *s = end;
    return true;
}

/* One cgroup directory's limit: v2's cpu.max, else v1's pair. */
static int limit_at(const char *dir)
{
    char path[PATH_BYTES + 32], line[128];
    snprintf(path, sizeof(path), "%s/cpu.max", dir);
    if (read_line(path, line, sizeof(line))) {
        long long quota, period;
        const char *at = line;
        if (strncmp(line, "max", 3) == 0 || !number(&at, &quota) || !number(&at, &period))
            return 0;
        return cpus_of(quota, period);
    }
    snprintf(path, sizeof(path), "%s/cpu.cfs_quota_us", dir);
    if (!read_line(path, line, sizeof(line)))
        return 0;
    long long quota, period;
    const char *at = line;
    if (!number(&at, &quota))
        return 0;
    snprintf(path, sizeof(path), "%s/cpu.cfs_period_us", dir);
    at = line;
    if (!read_line(path, line, sizeof(line)) || !number(&at, &period))
        return 0;
    return cpus_of(quota, period);
}

/* The least limit from mount/path up to mount itself. */
static int least_up(const char *mount, const char *path)
{
    char dir[PATH_BYTES];
    if (snprintf(dir, sizeof(dir), "%s%s", mount, path) >= (int)sizeof(dir))
        return 0;
    size_t base = strlen(mount);
    int least = 0;
    for (;;) {
        int n = limit_at(dir);
        if (n > 0 && (least == 0 || n < least))
            least = n;
        char *slash = strrchr(dir + base, '/');
        if (!slash)
            break;
        *slash = '\0';
    }
    return least;
}

/* Whether a v1 hierarchy's controller list ("cpu,cpuacct") has cpu. */
static bool has_cpu(const char *controllers)
{
    for (const char *c = controllers; c; c = strchr(c, ',')) {
        c += *c == ',';
        if (strncmp(c, "cpu", 3) == 0 && (c[3] == ',' || c[3] == '\0'))
            return true;
    }
    return false;
}

int gw_cpu_quota(const char *root, const char *proc_cgroup)
{
    FILE *f = fopen(proc_cgroup, "r");
    if (!f)
        return 0;
    char line[PATH_BYTES];
    int least = 0;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        /* "hierarchy-id:controllers:path"; v2's is "0::path". */
        char *first = strchr(line, ':');
        char *second = first ? strchr(first + 1, ':') : NULL;
        if (!second || second[1] != '/')
            continue;
        *second = '\0';
        const char *controllers = first + 1, *path = second + 1;
        if (strcmp(path, "/") == 0)
            path = ""; /* the mount itself */
        char mount[PATH_BYTES];
        int n = 0;
        if (*controllers == '\0') {
            n = least_up(root, path);
        } else if (has_cpu(controllers)) {
            snprintf(mount, sizeof(mount), "%s/%s", root, controllers);
            n = least_up(mount, path);
            if (n == 0) { /* mounted as cpu alone */
                snprintf(mount, sizeof(mount), "%s/cpu", root);
                n = least_up(mount, path);
            }
        }
        if (n > 0 && (least == 0 || n < least))
            least = n;
    }
    fclose(f);
    return least;
}
