/* Unit tests for GATEWAY.workers (core/config_schema): the default, a number, auto as the CPUs this
 * process may run on, and the refusals of 0, negatives, huge numbers and other words. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "core/config.h"
#include "core/config_schema.h"
#include "core/cpu_quota.h"
#include "core/status.h"

#include "tests/unit/core/config_load.h"
#include "tests/unit/suites.h"

#include <sched.h>

START_TEST(workers_default_number_and_auto)
{
    struct gw_config *c = test_config_ok("GATEWAY: {}\n");
    ck_assert_int_eq(c->workers, 1);
    ck_assert(!c->workers_auto);
    gw_config_free(c);

    c = test_config_ok("GATEWAY:\n  workers: 3\n");
    ck_assert_int_eq(c->workers, 3);
    ck_assert(!c->workers_auto);
    gw_config_free(c);

    c = test_config_ok("GATEWAY:\n  workers: 64\n");
    ck_assert_int_eq(c->workers, GW_MAX_WORKERS);
    gw_config_free(c);

    cpu_set_t set;
    ck_assert_int_eq(sched_getaffinity(0, sizeof(set), &set), 0);
    int cpus = CPU_COUNT(&set);
    int quota = gw_cpu_quota("/sys/fs/cgroup", "/proc/self/cgroup"); /* a container's limit */
    if (quota > 0 && quota < cpus)
        cpus = quota;
    cpus = cpus > GW_MAX_WORKERS ? GW_MAX_WORKERS : cpus;
    c = test_config_ok("GATEWAY:\n  workers: auto\n");
    ck_assert_int_eq(c->workers, cpus);
    ck_assert(c->workers_auto);
    ck_assert_int_eq(gw_config_cpus(), cpus);
    gw_config_free(c);
}
END_TEST

START_TEST(workers_refusals)
{
    static const char *const bad[][2] = {
        {"0", "'0'"},      {"-2", "'-2'"},     {"65", "'65'"}, {"100000000000", "'100000000000'"},
        {"1.5", "'1.5'"},  {"Auto", "'Auto'"}, {"'4'", "'4'"}, {"true", "'true'"},
        {"[2]", "a list"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char yaml[128], message[256];
        snprintf(yaml, sizeof(yaml), "GATEWAY:\n  workers: %s\n", bad[i][0]);
        snprintf(message, sizeof(message),
                 "a.yaml:2: GATEWAY.workers: expected auto or an integer from 1 to 64, got %s",
                 bad[i][1]);
        test_config_refused(yaml, message);
    }
}
END_TEST

Suite *config_workers_suite(void)
{
    Suite *s = suite_create("config_workers");
    TCase *tc = tcase_create("config_workers");
    tcase_add_test(tc, workers_default_number_and_auto);
    tcase_add_test(tc, workers_refusals);
    suite_add_tcase(s, tc);
    return s;
}
