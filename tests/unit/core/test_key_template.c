#include "core/key_template.h"
#include "core/status.h"
#include "core/xalloc.h"

#include "tests/unit/suites.h"

#include <stdlib.h>
#include <string.h>

START_TEST(templates_that_check_and_those_that_do_not)
{
    char why[160];
    const char *good[] = {"", "static", "{user_id}", "u.{a}.{_b9}", "{{literal}}", "x}}y{{"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        ck_assert_msg(gw_key_template_check(good[i], why, sizeof(why)) == GW_OK, "%s: %s", good[i],
                      why);
    const struct {
        const char *text, *why;
    } bad[] = {
        {"{user", "unclosed field '{user' (write '{{' for a brace)"},
        {"{}", "empty field '{}': name a path or query value, as '{user_id}'"},
        {"{9a}", "field '{9a}': expected the name of a path or query value"},
        {"{a-b}", "field '{a-b}': expected the name of a path or query value"},
        {"a}b", "a single '}' (write '}}' for a brace)"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_int_eq(gw_key_template_check(bad[i].text, why, sizeof(why)), GW_ECONFIG);
        ck_assert_str_eq(why, bad[i].why);
    }
}
END_TEST

/* Values: a=1, name=bob; nothing else. */
static char *lookup(void *arg, const char *name, size_t len)
{
    (void)arg;
    if (len == 1 && name[0] == 'a')
        return xstrdup("1");
    if (len == 4 && memcmp(name, "name", 4) == 0)
        return xstrdup("bob");
    return NULL;
}

START_TEST(rendering)
{
    char why[160];
    char *key = gw_key_template_render("user.{name}.{a}{{x}}", lookup, NULL, why, sizeof(why));
    ck_assert_str_eq(key, "user.bob.1{x}");
    free(key);
    key = gw_key_template_render("", lookup, NULL, why, sizeof(why));
    ck_assert_str_eq(key, "");
    free(key);
    ck_assert_ptr_null(gw_key_template_render("{missing}", lookup, NULL, why, sizeof(why)));
    ck_assert_str_eq(why,
                     "the routing key needs 'missing', which is neither a path value nor in the "
                     "query");
    char long_text[300];
    memset(long_text, 'k', 256);
    strcpy(long_text + 256, "{a}");
    ck_assert_ptr_null(gw_key_template_render(long_text, lookup, NULL, why, sizeof(why)));
    ck_assert_str_eq(why, "the routing key is 257 bytes, over AMQP's 255");
}
END_TEST

Suite *key_template_suite(void)
{
    Suite *s = suite_create("key_template");
    TCase *tc = tcase_create("templates");
    tcase_add_test(tc, templates_that_check_and_those_that_do_not);
    tcase_add_test(tc, rendering);
    suite_add_tcase(s, tc);
    return s;
}
