/* Unit tests for core/cpu_quota over cgroup trees made in a temporary directory. */
#include "core/cpu_quota.h"

#include "tests/unit/suites.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char root[64];

static void put(const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        mkdir(path, 0700);
        *p = '/';
    }
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static int quota(void)
{
    char proc[128];
    snprintf(proc, sizeof(proc), "%s/proc-cgroup", root);
    return gw_cpu_quota(root, proc);
}

static void setup(void)
{
    snprintf(root, sizeof(root), "/tmp/enoki-cpuq-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(v2_quota_rounded_up_least_of_the_ancestors)
{
    put("proc-cgroup", "0::/pod/app\n");
    put("pod/app/cpu.max", "150000 100000\n"); /* 1.5 CPUs: 2 workers */
    put("pod/cpu.max", "max 100000\n");
    ck_assert_int_eq(quota(), 2);
    put("pod/cpu.max", "100000 100000\n"); /* the pod's 1 CPU limits the app's */
    ck_assert_int_eq(quota(), 1);
}
END_TEST

START_TEST(v2_unlimited_or_unreadable_is_zero)
{
    put("proc-cgroup", "0::/\n");
    put("cpu.max", "max 100000\n");
    ck_assert_int_eq(quota(), 0);
    put("cpu.max", "garbage\n");
    ck_assert_int_eq(quota(), 0);
    put("cpu.max", "9223372036854775807 100000\n"); /* huge, not unlimited: no overflow */
    ck_assert_int_eq(quota(), 1 << 20);
    put("cpu.max", "99999999999999999999999 100000\n"); /* out of range */
    ck_assert_int_eq(quota(), 0);
    put("proc-cgroup", "0::/gone\n"); /* no such directory */
    ck_assert_int_eq(quota(), 0);
    ck_assert_int_eq(gw_cpu_quota(root, "/nonexistent/cgroup"), 0);
}
END_TEST

START_TEST(v1_cpu_controller)
{
    put("proc-cgroup", "4:memory:/x\n2:cpu,cpuacct:/docker/abc\n0::/\n");
    put("cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "300000\n");
    put("cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n");
    ck_assert_int_eq(quota(), 3);
    put("cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "-1\n");
    ck_assert_int_eq(quota(), 0);
    /* Mounted as cpu alone. */
    put("proc-cgroup", "3:cpu:/\n");
    put("cpu/cpu.cfs_quota_us", "50000\n");
    put("cpu/cpu.cfs_period_us", "100000\n");
    ck_assert_int_eq(quota(), 1);
    /* cpuset is not cpu. */
    put("proc-cgroup", "5:cpuset:/\n");
    ck_assert_int_eq(quota(), 0);
}
END_TEST

Suite *cpu_quota_suite(void)
{
    Suite *s = suite_create("cpu_quota");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, v2_quota_rounded_up_least_of_the_ancestors);
    tcase_add_test(tc, v2_unlimited_or_unreadable_is_zero);
    tcase_add_test(tc, v1_cpu_controller);
    suite_add_tcase(s, tc);
    return s;
}
