#include "core/status.h"
#include "gateway/compress.h"

#include "tests/unit/suites.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* gunzip of in: a new buffer of *len bytes. */
static char *gunzip(const char *in, size_t in_len, size_t cap, size_t *len)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    ck_assert_int_eq(inflateInit2(&z, 15 + 16), Z_OK);
    char *out = malloc(cap);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)in_len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)cap;
    ck_assert_int_eq(inflate(&z, Z_FINISH), Z_STREAM_END);
    *len = z.total_out;
    inflateEnd(&z);
    return out;
}

START_TEST(gzip_round_trips_byte_for_byte)
{
    size_t n = 100000;
    char *body = malloc(n);
    for (size_t i = 0; i < n; i++)
        body[i] = (char)("{\"k\": [1, 2, 3], \"v\": \"abc\"}"[i % 29] + (i % 7 == 0));
    for (int level = 1; level <= 9; level += 4) {
        char *coded;
        size_t coded_len;
        ck_assert_int_eq(gw_gzip(body, n, level, &coded, &coded_len), GW_OK);
        ck_assert_uint_lt(coded_len, n / 4);
        ck_assert_int_eq((unsigned char)coded[0], 0x1f); /* the gzip magic */
        ck_assert_int_eq((unsigned char)coded[1], 0x8b);
        size_t len;
        char *back = gunzip(coded, coded_len, n + 16, &len);
        ck_assert_uint_eq(len, n);
        ck_assert_int_eq(memcmp(back, body, n), 0);
        free(back);
        free(coded);
    }
    /* An empty body is a valid, empty gzip member. */
    char *coded;
    size_t coded_len, len;
    ck_assert_int_eq(gw_gzip("", 0, 6, &coded, &coded_len), GW_OK);
    char *back = gunzip(coded, coded_len, 16, &len);
    ck_assert_uint_eq(len, 0);
    free(back);
    free(coded);
    free(body);
}
END_TEST

Suite *compress_suite(void)
{
    Suite *s = suite_create("compress");
    TCase *tc = tcase_create("gzip");
    tcase_add_test(tc, gzip_round_trips_byte_for_byte);
    suite_add_tcase(s, tc);
    return s;
}
