/* Unit tests for core/utf8: repair as CPython's bytes.decode("utf-8", "replace") does, and bytes
 * read as json.loads reads them. The expected bytes were produced by CPython 3.11 itself. */
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

/* bytes -> what CPython 3.11's json.loads decodes them to (json.detect_encoding, then
 * bytes.decode(encoding, "surrogatepass")), as UTF-8; NULL where it fails, or keeps a lone
 * surrogate. Produced by CPython itself. */
static const struct {
    const char *in;
    size_t in_len;
    const char *out;
    size_t out_len;
} json_bytes_cases[] = {
    {"\x7b\x22\x61\x22\x3a\x20\x22\xc3\xa9\xf0\x9f\x98\x80\x22\x7d", 15,
     "\x7b\x22\x61\x22\x3a\x20\x22\xc3\xa9\xf0\x9f\x98\x80\x22\x7d", 15}, /* utf-8 */
    {"\xef\xbb\xbf\x7b\x22\x61\x22\x3a\x20\x31\x7d", 11, "\x7b\x22\x61\x22\x3a\x20\x31\x7d",
     8}, /* utf-8-sig */
    {"\xff\xfe\x7b\x00\x22\x00\x61\x00\x22\x00\x3a\x00\x20\x00\x22\x00\xe9\x00\x3d\xd8\x00\xde\x22"
     "\x00\x7d\x00",
     26, "\x7b\x22\x61\x22\x3a\x20\x22\xc3\xa9\xf0\x9f\x98\x80\x22\x7d", 15}, /* utf-16 */
    {"\xfe\xff\x00\x7b\x00\x22\x00\x61\x00\x22\x00\x3a\x00\x20\x00\x22\x00\xe9\xd8\x3d\xde\x00\x00"
     "\x22\x00\x7d",
     26, "\x7b\x22\x61\x22\x3a\x20\x22\xc3\xa9\xf0\x9f\x98\x80\x22\x7d", 15}, /* utf-16 */
    {"\x7b\x00\x22\x00\x61\x00\x22\x00\x3a\x00\x20\x00\x22\x00\xe9\x00\x3d\xd8\x00\xde\x22\x00\x7d"
     "\x00",
     24, "\x7b\x22\x61\x22\x3a\x20\x22\xc3\xa9\xf0\x9f\x98\x80\x22\x7d", 15}, /* utf-16-le */
    {"\x00\x7b\x00\x22\x00\x61\x00\x22\x00\x3a\x00\x20\x00\x22\x00\xe9\xd8\x3d\xde\x00\x00\x22\x00"
     "\x7d",
     24, "\x7b\x22\x61\x22\x3a\x20\x22\xc3\xa9\xf0\x9f\x98\x80\x22\x7d", 15}, /* utf-16-be */
    {"\xff\xfe\x00\x00\x7b\x00\x00\x00\x22\x00\x00\x00\x61\x00\x00\x00\x22\x00\x00\x00\x3a\x00\x00"
     "\x00\x20\x00\x00\x00\x22\x00\x00\x00\xe9\x00\x00\x00\x00\xf6\x01\x00\x22\x00\x00\x00\x7d\x00"
     "\x00\x00",
     48, "\x7b\x22\x61\x22\x3a\x20\x22\xc3\xa9\xf0\x9f\x98\x80\x22\x7d", 15}, /* utf-32 */
    {"\x00\x00\xfe\xff\x00\x00\x00\x7b\x00\x00\x00\x22\x00\x00\x00\x61\x00\x00\x00\x22\x00\x00\x00"
     "\x3a\x00\x00\x00\x20\x00\x00\x00\x31\x00\x00\x00\x7d",
     36, "\x7b\x22\x61\x22\x3a\x20\x31\x7d", 8}, /* utf-32 */
    {"\x7b\x00\x00\x00\x22\x00\x00\x00\x61\x00\x00\x00\x22\x00\x00\x00\x3a\x00\x00\x00\x20\x00\x00"
     "\x00\x22\x00\x00\x00\xe9\x00\x00\x00\x00\xf6\x01\x00\x22\x00\x00\x00\x7d\x00\x00\x00",
     44, "\x7b\x22\x61\x22\x3a\x20\x22\xc3\xa9\xf0\x9f\x98\x80\x22\x7d", 15}, /* utf-32-le */
    {"\x00\x00\x00\x7b\x00\x00\x00\x22\x00\x00\x00\x61\x00\x00\x00\x22\x00\x00\x00\x3a\x00\x00\x00"
     "\x20\x00\x00\x00\x22\x00\x00\x00\xe9\x00\x01\xf6\x00\x00\x00\x00\x22\x00\x00\x00\x7d",
     44, "\x7b\x22\x61\x22\x3a\x20\x22\xc3\xa9\xf0\x9f\x98\x80\x22\x7d", 15}, /* utf-32-be */
    {"\x31\x00", 2, "\x31", 1},                                               /* utf-16-le */
    {"\x00\x31", 2, "\x31", 1},                                               /* utf-16-be */
    {"\x31", 1, "\x31", 1},                                                   /* utf-8 */
    {"\x31\x32", 2, "\x31\x32", 2},                                           /* utf-8 */
    {"", 0, "", 0},                                                           /* utf-8 */
    {"\x7b\x00\x7d", 3, "\x7b\x00\x7d", 3},                                   /* utf-8 */
    {"\x7b\x00\x00\x00\x7d\x00\x00", 7, NULL, 0},                             /* utf-32-le */
    {"\x22\x00\x00\xd8\x22\x00", 6, NULL, 0},                                 /* utf-16-le */
    {"\x00\x22\xd8\x3d", 4, NULL, 0},                                         /* utf-16-be */
    {"\x22\xed\xa0\x80\x22", 5, NULL, 0},                                     /* utf-8 */
    {"\xff\xfe\x00\x00\x00\x00\x11\x00", 8, NULL, 0},                         /* utf-32 */
    {"\x7b\x22\x61\x22\x3a\x20\x22\xff\x22\x7d", 10, NULL, 0},                /* utf-8 */
    {"\xef\xbb\xbf\xff", 4, NULL, 0},                                         /* utf-8-sig */
};

/* A surrogate pair written as two UTF-32 units: Python keeps both, and json.dumps writes them as
 * the pair's escapes, which the service reads as one character: enoki makes it that character. */
START_TEST(json_bytes_utf32_surrogate_pair)
{
    static const char pair[] = "\x22\0\0\0\x3d\xd8\0\0\x00\xde\0\0\x22\0\0\0";
    size_t len;
    char *out = gw_utf8_from_json_bytes(pair, sizeof(pair) - 1, &len);
    ck_assert_ptr_nonnull(out);
    ck_assert_uint_eq(len, 6);
    ck_assert_mem_eq(out, "\"\xf0\x9f\x98\x80\"", 6);
    free(out);
}
END_TEST

START_TEST(json_bytes_like_python)
{
    size_t len = 12345;
    char *out = gw_utf8_from_json_bytes(json_bytes_cases[_i].in, json_bytes_cases[_i].in_len, &len);
    if (!json_bytes_cases[_i].out) {
        ck_assert_ptr_null(out);
        return;
    }
    ck_assert_ptr_nonnull(out);
    ck_assert_uint_eq(len, json_bytes_cases[_i].out_len);
    ck_assert_mem_eq(out, json_bytes_cases[_i].out, len);
    ck_assert_int_eq(out[len], '\0');
    free(out);
}
END_TEST

Suite *utf8_suite(void)
{
    Suite *s = suite_create("utf8");
    TCase *tc = tcase_create("repair");
    tcase_add_loop_test(tc, repair_like_python, 0,
                        (int)(sizeof(repair_cases) / sizeof(repair_cases[0])));
    tcase_add_test(tc, json_bytes_utf32_surrogate_pair);
    tcase_add_loop_test(tc, json_bytes_like_python, 0,
                        (int)(sizeof(json_bytes_cases) / sizeof(json_bytes_cases[0])));
    suite_add_tcase(s, tc);
    return s;
}
