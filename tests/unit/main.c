/* The unit-test runner: every module's Suite in one SRunner. CK_FORK=no runs in-process (valgrind). */
#include "suites.h"

#include <stdlib.h>

int main(void)
{
    Suite *(*const suites[])(void) = {status_suite, config_suite, table_suite,
                                      wire_suite,   call_suite,   respond_suite, utf8_suite, http_mode_suite,
                                      ws_suite,     metrics_suite, h1_suite};
    SRunner *runner = srunner_create(NULL);
    for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
        srunner_add_suite(runner, suites[i]());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
