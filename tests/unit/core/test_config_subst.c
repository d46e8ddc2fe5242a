/* Unit tests for core/config_subst: gw_config_substitute against nameko's regex, case by case, and
 * which plain scalars nameko's implicit resolver hands to it. */
#include "core/config_subst.h"
#include "core/status.h"
#include "core/util.h"

#include "tests/unit/suites.h"

#include <stdlib.h>

/* ENOKI_T_UNSET is never set. */
static const struct {
    const char *name, *value;
} test_env[] = {
    {"ENOKI_T_SET", "value"},
    {"ENOKI_T_EMPTY", ""},
    {"ENOKI_T_NUM", "15"},
    {"ENOKI_T_REF", "${ENOKI_T_UNSET:7}"},
};

static void env_setup(void)
{
    for (size_t i = 0; i < ARRAY_LEN(test_env); i++)
        setenv(test_env[i].name, test_env[i].value, 1);
    unsetenv("ENOKI_T_UNSET");
}

static void env_teardown(void)
{
    for (size_t i = 0; i < ARRAY_LEN(test_env); i++)
        unsetenv(test_env[i].name);
}

/* ---------------------------------------------------------------------------------------------
 * gw_config_substitute: nameko's regex, case by case.
 */

static const struct {
    const char *text;
    int rc;
    const char *want;
} subst_cases[] = {
    {"${ENOKI_T_SET}", GW_OK, "value"},
    {"${ENOKI_T_SET:default}", GW_OK, "value"},
    {"${ENOKI_T_UNSET:default}", GW_OK, "default"},
    {"${ENOKI_T_UNSET}", GW_OK, ""},
    {"${ENOKI_T_UNSET:}", GW_OK, ""},
    /* Set but empty: the default does not apply. */
    {"${ENOKI_T_EMPTY:default}", GW_OK, ""},
    /* The default is everything after the first ':'. */
    {"${ENOKI_T_UNSET:a:b}", GW_OK, "a:b"},
    {"${ENOKI_T_UNSET::b}", GW_OK, ":b"},
    {"${ENOKI_T_UNSET:amqp://u:p@h:5672/v}", GW_OK, "amqp://u:p@h:5672/v"},
    {"pre-${ENOKI_T_UNSET:x}-post", GW_OK, "pre-x-post"},
    {"${ENOKI_T_SET}/${ENOKI_T_UNSET:2}/${ENOKI_T_NUM}", GW_OK, "value/2/15"},
    /* [^}:\s]+ stops at whitespace, and the rest up to '}' is the default. */
    {"${ENOKI_T_UNSET other}", GW_OK, " other"},
    {"${ENOKI_T_SET other}", GW_OK, "value"},
    /* No name: no match, the text stays. */
    {"${}", GW_OK, "${}"},
    {"${:x}", GW_OK, "${:x}"},
    {"${ x}", GW_OK, "${ x}"},
    {"${ENOKI_T_UNSET", GW_OK, "${ENOKI_T_UNSET"},
    {"$${ENOKI_T_SET}", GW_OK, "$value"},
    {"$ENOKI_T_SET", GW_OK, "$ENOKI_T_SET"},
    {"}${ENOKI_T_SET}}", GW_OK, "}value}"},
    {"no references", GW_OK, "no references"},
    {"", GW_OK, ""},
    /* The value of a variable is not expanded again here (the loader re-parses it). */
    {"${ENOKI_T_REF}", GW_OK, "${ENOKI_T_UNSET:7}"},
    {"${A:${B:1}}", GW_ESUBST, "nested ${...} references are not supported"},
    {"x ${ ${ENOKI_T_SET}}", GW_ESUBST, "nested ${...} references are not supported"},
    {"${ENOKI_T_SET} ${A:${B}}", GW_ESUBST, "nested ${...} references are not supported"},
};

START_TEST(substitute_text)
{
    char *out = NULL;
    char err[128] = "";
    int rc = gw_config_substitute(subst_cases[_i].text, &out, err, sizeof(err));
    ck_assert_msg(rc == subst_cases[_i].rc, "case %d (%s): rc %d", _i, subst_cases[_i].text, rc);
    if (rc == GW_OK) {
        ck_assert_str_eq(out, subst_cases[_i].want);
    } else {
        ck_assert_ptr_null(out);
        ck_assert_str_eq(err, subst_cases[_i].want);
    }
    free(out);
}
END_TEST

/* A nested reference fails with no output even when err is NULL. */
START_TEST(substitute_without_err)
{
    char *out = (char *)1;
    ck_assert_int_eq(gw_config_substitute("${A:${B}}", &out, NULL, 0), GW_ESUBST);
    ck_assert_ptr_null(out);
}
END_TEST

/* nameko's implicit resolver: .*\$\{.*\}.* by re.match, on the first line only. */
static const struct {
    const char *text;
    bool wanted;
} wanted_cases[] = {
    {"${A}", true},       {"pre ${A:x} post", true},
    {"${}", true},        {"${ x}", true},
    {"a${b\nc}", false},  {"x\n${A}", false},
    {"${A}\nrest", true}, {"${A", false},
    {"$A}", false},       {"}${", false},
    {"$ {A}", false},     {"", false},
    {"plain", false},
};

START_TEST(subst_wanted)
{
    ck_assert_msg(gw_config_subst_wanted(wanted_cases[_i].text) == wanted_cases[_i].wanted,
                  "case %d (%s)", _i, wanted_cases[_i].text);
}
END_TEST

Suite *config_subst_suite(void)
{
    Suite *s = suite_create("config_subst");
    TCase *tc = tcase_create("substitute");
    tcase_add_checked_fixture(tc, env_setup, env_teardown);
    tcase_add_loop_test(tc, substitute_text, 0, (int)ARRAY_LEN(subst_cases));
    tcase_add_test(tc, substitute_without_err);
    suite_add_tcase(s, tc);

    tc = tcase_create("wanted");
    tcase_add_loop_test(tc, subst_wanted, 0, (int)ARRAY_LEN(wanted_cases));
    suite_add_tcase(s, tc);
    return s;
}
