/* Unit tests for core/utf8: repair as CPython's bytes.decode("utf-8", "replace") does. The expected
 * bytes were produced by CPython 3.11 itself. */
#include "core/utf8.h"

#include "tests/unit/suites.h"

#include <stdlib.h>
#include <string.h>

static const struct {
    const char *in;
    size_t in_len;
    const char *out;
    size_t out_len;
} repair_cases[] = {
    {"\x61\x62\x63", 3, "\x61\x62\x63", 3},
    {"\x63\x61\x66\xc3\xa9", 5, "\x63\x61\x66\xc3\xa9", 5},
    {"\xff", 1, "\xef\xbf\xbd", 3},
    {"\x61\xff\x62", 3, "\x61\xef\xbf\xbd\x62", 5},
    {"\xe2\x82", 2, "\xef\xbf\xbd", 3},
    {"\xe2\x82\x61", 3, "\xef\xbf\xbd\x61", 4},
    {"\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 9},
    {"\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80", 4},
    {"\xf0\x9f\x98", 3, "\xef\xbf\xbd", 3},
    {"\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd", 6},
    {"\xf4\x90\x80\x80", 4, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 12},
    {"\xe0\x80\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 9},
    {"\x80\x80", 2, "\xef\xbf\xbd\xef\xbf\xbd", 6},
    {"\xc3", 1, "\xef\xbf\xbd", 3},
    {"\xf5\x80", 2, "\xef\xbf\xbd\xef\xbf\xbd", 6},
};

START_TEST(repair_like_python)
{
    size_t len;
    char *out = gw_utf8_repair(repair_cases[_i].in, repair_cases[_i].in_len, &len);
    ck_assert_uint_eq(len, repair_cases[_i].out_len);
    ck_assert_mem_eq(out, repair_cases[_i].out, len);
    ck_assert_int_eq(out[len], '\0');
    ck_assert_int_eq(gw_utf8_valid(repair_cases[_i].in, repair_cases[_i].in_len),
                     repair_cases[_i].in_len == repair_cases[_i].out_len &&
                         memcmp(repair_cases[_i].in, out, len) == 0);
    ck_assert(gw_utf8_valid(out, len));
    free(out);
}
END_TEST

Suite *utf8_suite(void)
{
    Suite *s = suite_create("utf8");
    TCase *tc = tcase_create("repair");
    tcase_add_loop_test(tc, repair_like_python, 0,
                        (int)(sizeof(repair_cases) / sizeof(repair_cases[0])));
    suite_add_tcase(s, tc);
    return s;
}
