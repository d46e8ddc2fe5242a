/* suites.h - every unit-test Suite. The tree mirrors the sources: tests/unit/core/test_<module>.c
 * tests core/<module>.c, and so on for routes/ and gateway/. Each file defines one or more
 * `Suite *<name>_suite(void)`; the Makefile finds them (build/.../unit-suites.inc), so adding a
 * test file never means editing a list. */
#ifndef ENOKI_TEST_SUITES_H
#define ENOKI_TEST_SUITES_H

#include <check.h>

#define UNIT_SUITE(name) Suite *name##_suite(void);
#include "unit-suites.inc"
#undef UNIT_SUITE

#endif
