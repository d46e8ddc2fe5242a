/* The unit-test runner: every module's Suite in one SRunner. CK_FORK=no runs in-process (valgrind). */
#include "suites.h"

#include <stdlib.h>

/* Weak while modules land in parallel: a missing suite is reported, and fails the run. */
#pragma weak config_suite
#pragma weak table_suite
#pragma weak wire_suite
#pragma weak call_suite
#pragma weak respond_suite

int main(void)
{
    Suite *(*const suites[])(void) = {status_suite, config_suite, table_suite,
                                      wire_suite,   call_suite,   respond_suite};
    SRunner *runner = srunner_create(NULL);
    int missing = 0;
    for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
        if (suites[i])
            srunner_add_suite(runner, suites[i]());
        else
            missing++;
    }
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 && missing == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
