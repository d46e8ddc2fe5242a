/* The unit-test runner: every Suite of tests/unit/ in one SRunner. CK_FORK=no runs in-process
 * (valgrind). */
#include "tests/unit/suites.h"

#include <stdlib.h>

int main(void)
{
    Suite *(*const suites[])(void) = {
#define UNIT_SUITE(name) name##_suite,
#include "unit-suites.inc"
#undef UNIT_SUITE
    };
    SRunner *runner = srunner_create(NULL);
    for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
        srunner_add_suite(runner, suites[i]());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
