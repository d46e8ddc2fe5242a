/* Unit tests for core/text: base64url as JWS writes it, hex digits, tokens, werkzeug's url_quote.
 */
#include "core/status.h"
#include "core/strbuf.h"
#include "core/text.h"
#include "core/xalloc.h"

#include "tests/unit/suites.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RFC 4648 section 10's vectors (without their padding) and RFC 7515 appendix A.1's header. */
static const struct {
    const char *in;
    const char *out;
} b64_good[] = {
    {"", ""},
    {"Zg", "f"},
    {"Zm8", "fo"},
    {"Zm9v", "foo"},
    {"Zm9vYg", "foob"},
    {"Zm9vYmE", "fooba"},
    {"Zm9vYmFy", "foobar"},
    {"eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9", "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}"},
    {"-_8", "\xfb\xff"},
};

START_TEST(base64url_decodes)
{
    unsigned char *out;
    size_t len;
    const char *in = b64_good[_i].in;
    ck_assert_int_eq(gw_base64url_decode(in, strlen(in), &out, &len), GW_OK);
    ck_assert_uint_eq(len, strlen(b64_good[_i].out));
    ck_assert_mem_eq(out, b64_good[_i].out, len);
    ck_assert_int_eq(out[len], 0);
    free(out);
}
END_TEST

static const char *const b64_bad[] = {
    "Zg==",    /* padding */
    "Zm9v=",   /* padding */
    "Z",       /* n % 4 == 1 */
    "Zm9vY",   /* n % 4 == 1 */
    "Zm+v",    /* base64's alphabet, not base64url's */
    "Zm/v",    /* idem */
    "Zm 9v",   /* whitespace */
    "Zm9v\n",  /* idem */
    "Zh",      /* bits left over in the last character */
    "Zm9",     /* idem */
    "Zm\x80v", /* not ASCII */
    "Zm.v",    /* a JWS separator */
};

START_TEST(base64url_refuses)
{
    static unsigned char sentinel;
    unsigned char *out = &sentinel;
    size_t len = 7;
    const char *in = b64_bad[_i];
    ck_assert_int_eq(gw_base64url_decode(in, strlen(in), &out, &len), GW_EINVAL);
    ck_assert_ptr_null(out);
    ck_assert_uint_eq(len, 0);
}
END_TEST

START_TEST(base64url_stops_at_the_length)
{
    unsigned char *out;
    size_t len;
    ck_assert_int_eq(gw_base64url_decode("Zm9v!!", 4, &out, &len), GW_OK);
    ck_assert_uint_eq(len, 3);
    ck_assert_mem_eq(out, "foo", 3);
    free(out);
    /* a NUL inside the length is a byte like any other outside the alphabet */
    ck_assert_int_eq(gw_base64url_decode("Zm\0v", 4, &out, &len), GW_EINVAL);
}
END_TEST

START_TEST(hex_token_and_quote)
{
    ck_assert_int_eq(gw_hex_value('0'), 0);
    ck_assert_int_eq(gw_hex_value('9'), 9);
    ck_assert_int_eq(gw_hex_value('a'), 10);
    ck_assert_int_eq(gw_hex_value('F'), 15);
    ck_assert_int_eq(gw_hex_value('g'), -1);
    ck_assert_int_eq(gw_hex_value('\0'), -1);

    ck_assert(gw_is_token("GET", 3));
    ck_assert(gw_is_token("x-Custom_1.~!", 13));
    ck_assert(!gw_is_token("", 0));
    ck_assert(!gw_is_token("a b", 3));
    ck_assert(!gw_is_token("a:b", 3));
    ck_assert(!gw_is_token("a\0b", 3));

    char *q = gw_url_quote("a b/c?d=é~", "/");
    ck_assert_str_eq(q, "a%20b/c%3Fd%3D%C3%A9~");
    free(q);
    q = gw_url_quote("", "");
    ck_assert_str_eq(q, "");
    free(q);
}
END_TEST

/* The hand-made integer formatting against printf's, at the edges and around every power of ten. */
START_TEST(integers_as_printf_writes_them)
{
    char got[GW_I64_DIGITS + 1], want[32];
    uint64_t u[] = {0, 1, 9, 10, 99, 100, 4294967295ULL, 4294967296ULL, UINT64_MAX, UINT64_MAX - 1};
    for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
        size_t n = gw_fmt_u64(got, u[i]);
        snprintf(want, sizeof(want), "%llu", (unsigned long long)u[i]);
        ck_assert_str_eq(got, want);
        ck_assert_uint_eq(n, strlen(want));
    }
    int64_t v[] = {0, -1, 1, -9, -10, 1234567, -1234567, INT64_MAX, INT64_MIN, INT64_MIN + 1};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        size_t n = gw_fmt_i64(got, v[i]);
        snprintf(want, sizeof(want), "%lld", (long long)v[i]);
        ck_assert_str_eq(got, want);
        ck_assert_uint_eq(n, strlen(want));
    }
    for (uint64_t p = 1; p <= 1000000000000000000ULL; p *= 10) {
        for (uint64_t x = p - 1; x <= p + 1; x++) {
            gw_fmt_u64(got, x);
            snprintf(want, sizeof(want), "%llu", (unsigned long long)x);
            ck_assert_str_eq(got, want);
        }
    }
    struct gw_strbuf b = {0};
    gw_strbuf_adds(&b, "n=");
    gw_strbuf_add_u64(&b, 18446744073709551615ULL);
    ck_assert_str_eq(b.data, "n=18446744073709551615");
    free(b.data);
    char *joined = xstrjoin("svc", ".", "", "method", NULL);
    ck_assert_str_eq(joined, "svc.method");
    free(joined);
    joined = xstrjoin("", NULL);
    ck_assert_str_eq(joined, "");
    free(joined);
}
END_TEST

Suite *text_suite(void)
{
    Suite *s = suite_create("text");
    TCase *tc = tcase_create("base64url");
    tcase_add_loop_test(tc, base64url_decodes, 0, (int)(sizeof(b64_good) / sizeof(b64_good[0])));
    tcase_add_loop_test(tc, base64url_refuses, 0, (int)(sizeof(b64_bad) / sizeof(b64_bad[0])));
    tcase_add_test(tc, base64url_stops_at_the_length);
    suite_add_tcase(s, tc);
    tc = tcase_create("classes");
    tcase_add_test(tc, hex_token_and_quote);
    tcase_add_test(tc, integers_as_printf_writes_them);
    suite_add_tcase(s, tc);
    return s;
}
