/* test_pytext.c - Python's view of UTF-8 text: code point stepping and decoding, \d \s \w and
 * re.escape. Expected values are CPython 3.11's.
 */
#include "core/strbuf.h"
#include "core/util.h"
#include "routes/pytext.h"

#include "tests/unit/suites.h"

#include <stdlib.h>
#include <string.h>

START_TEST(stepping_goes_by_code_points)
{
    /* "a", "é" (2 bytes), "€" (3), "😀" (4) */
    static const char s[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
    size_t len = strlen(s);
    static const size_t starts[] = {0, 1, 3, 6, 10};
    for (size_t i = 0; i + 1 < ARRAY_LEN(starts); i++) {
        ck_assert_uint_eq(gw_cp_next(s, starts[i], len), starts[i + 1]);
        ck_assert_uint_eq(gw_cp_prev(s, 0, starts[i + 1]), starts[i]);
    }
    ck_assert_uint_eq(gw_cp_count(s, len), 4);
    /* prev never goes before start, next never past end. */
    ck_assert_uint_eq(gw_cp_prev(s, 2, 3), 2);
    ck_assert_uint_eq(gw_cp_next(s, 6, 8), 8);
    /* A stray continuation byte sticks to the code point before it. */
    static const char stray[] = "ab\x80\x80"
                                "c";
    ck_assert_uint_eq(gw_cp_next(stray, 1, 5), 4);
    ck_assert_uint_eq(gw_cp_prev(stray, 0, 4), 1);
    ck_assert_uint_eq(gw_cp_count(stray, 5), 3);
    ck_assert(gw_cp_is_cont(0x80) && gw_cp_is_cont(0xBF) && !gw_cp_is_cont(0xC0) &&
              !gw_cp_is_cont('a'));
}
END_TEST

START_TEST(decode_gives_code_points_or_fffd)
{
    static const struct {
        const char *s;
        unsigned long cp;
        size_t next;
    } cases[] = {
        {"A", 0x41, 1},
        {"\xc3\xa9", 0xE9, 2},
        {"\xe2\x82\xac", 0x20AC, 3},
        {"\xf0\x9f\x98\x80", 0x1F600, 4},
        {"\xc3", 0xFFFD, 1},         /* truncated */
        {"\xe2\x82", 0xFFFD, 2},     /* truncated */
        {"\x80", 0xFFFD, 1},         /* lone continuation byte */
        {"\xc3\xa9\xa9", 0xFFFD, 3}, /* too many continuation bytes */
        {"\xff", 0xFFFD, 1},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        unsigned long cp = 0;
        size_t next = gw_cp_decode(cases[i].s, 0, strlen(cases[i].s), &cp);
        ck_assert_msg(cp == cases[i].cp, "case %zu: U+%04lX", i, cp);
        ck_assert_uint_eq(next, cases[i].next);
    }
}
END_TEST

START_TEST(decimal_digits_are_unicode_nd)
{
    static const struct {
        unsigned long cp;
        int value;
    } cases[] = {
        {'0', 0},         {'9', 9},      {'a', -1},    {'/', -1},   {':', -1},
        {0x0663, 3},      {0x0967, 1},   {0xFF10, 0},  {0xFF19, 9}, {0x1D7CE, 0},
        {0x1D7FF, 9},     {0x1FBF9, 9},  {0x00B2, -1}, /* superscript two: No, not Nd */
        {0x0660 - 1, -1}, {0x1FBFA, -1}, {0xFFFD, -1},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        ck_assert_msg(gw_py_decimal_value(cases[i].cp) == cases[i].value, "U+%04lX", cases[i].cp);
        ck_assert_int_eq(gw_py_is_digit(cases[i].cp), cases[i].value >= 0);
    }
}
END_TEST

START_TEST(space_and_word_classes)
{
    static const unsigned long spaces[] = {' ',  '\t', '\n', '\r', 0x0B,   0x0C,
                                           0x1C, 0x1F, 0x85, 0xA0, 0x2000, 0x3000};
    for (size_t i = 0; i < ARRAY_LEN(spaces); i++) {
        ck_assert_msg(gw_py_is_space(spaces[i]), "U+%04lX", spaces[i]);
        ck_assert_msg(!gw_py_is_word(spaces[i]), "U+%04lX", spaces[i]);
    }
    static const unsigned long not_spaces[] = {'a', '_', 0x08, 0x200B, 0x180E};
    for (size_t i = 0; i < ARRAY_LEN(not_spaces); i++)
        ck_assert_msg(!gw_py_is_space(not_spaces[i]), "U+%04lX", not_spaces[i]);
    ck_assert(gw_py_is_word('a') && gw_py_is_word('Z') && gw_py_is_word('5') &&
              gw_py_is_word('_') && gw_py_is_word(0xE9));
    ck_assert(!gw_py_is_word('-') && !gw_py_is_word('.') && !gw_py_is_word('='));
}
END_TEST

START_TEST(runs_end_where_the_class_stops)
{
    static const char s[] = "12\xd9\xa3x 4";
    size_t len = strlen(s);
    ck_assert_uint_eq(gw_py_digits_end(s, 0, len), 4);
    ck_assert_uint_eq(gw_py_run_end(s, 0, len, gw_py_is_digit), 4);
    ck_assert_uint_eq(gw_py_digits_end(s, 4, len), 4);
    ck_assert_uint_eq(gw_py_run_end(s, 4, len, gw_py_is_word), 5);
    ck_assert_uint_eq(gw_py_run_end(s, 5, len, gw_py_is_space), 6);
    ck_assert_uint_eq(gw_py_digits_end(s, 0, 3), 2); /* a cut digit is U+FFFD, no digit */
    ck_assert_uint_eq(gw_py_digit_at(s, 2, len), 4);
    ck_assert_uint_eq(gw_py_digit_at(s, 4, len), 4);
    ck_assert_uint_eq(gw_py_digit_at(s, len, len), len);
}
END_TEST

START_TEST(re_escape_is_pythons)
{
    struct gw_strbuf sb = {0};
    static const char s[] = "a-b.c d_e/f:g~h#i&j\t\"'%()[]{}?*+|^$\\";
    gw_py_re_escape(&sb, s, strlen(s));
    ck_assert_str_eq(sb.data,
                     "a\\-b\\.c\\ d_e/f:g\\~h\\#i\\&j\\\t\"'%\\(\\)\\[\\]\\{\\}\\?\\*\\+\\|"
                     "\\^\\$\\\\");
    free(sb.data);
    /* A NUL byte is copied as it is (re.escape leaves "\0" alone since Python 3.7). */
    struct gw_strbuf nul = {0};
    gw_py_re_escape(&nul, "a\0b", 3);
    ck_assert_uint_eq(nul.len, 3);
    ck_assert(memcmp(nul.data, "a\0b", 3) == 0);
    free(nul.data);
}
END_TEST

Suite *pytext_suite(void)
{
    Suite *s = suite_create("pytext");
    TCase *tc = tcase_create("utf8");
    tcase_add_test(tc, stepping_goes_by_code_points);
    tcase_add_test(tc, decode_gives_code_points_or_fffd);
    suite_add_tcase(s, tc);

    tc = tcase_create("classes");
    tcase_add_test(tc, decimal_digits_are_unicode_nd);
    tcase_add_test(tc, space_and_word_classes);
    tcase_add_test(tc, runs_end_where_the_class_stops);
    tcase_add_test(tc, re_escape_is_pythons);
    suite_add_tcase(s, tc);
    return s;
}
