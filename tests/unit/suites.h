/* suites.h - every unit-test Suite; one per module, each in tests/unit/test_<module>.c. */
#ifndef ENOKI_TEST_SUITES_H
#define ENOKI_TEST_SUITES_H

#include <check.h>

Suite *status_suite(void);
Suite *config_suite(void);
Suite *table_suite(void);
Suite *wire_suite(void);
Suite *call_suite(void);
Suite *respond_suite(void);
Suite *utf8_suite(void);
Suite *http_mode_suite(void);
Suite *ws_suite(void);
Suite *metrics_suite(void);
Suite *h1_suite(void);

#endif
