/* Unit tests for routes/idem_key: the Idempotency-Key field as an sf-string or a bare token, each
 * refusal's message, and the ids and fingerprints (what makes two requests the same). */
#include "routes/idem_key.h"

#include "core/status.h"
#include "tests/unit/suites.h"

#include <stdio.h>
#include <string.h>

struct key_case {
    const char *field;
    int status;
    const char *want; /* the key, or a part of the message */
};

static const struct key_case cases[] = {
    {"\"8e03978e-40d5-43e8-bc93-6894a57f9324\"", GW_OK, "8e03978e-40d5-43e8-bc93-6894a57f9324"},
    {"8e03978e-40d5-43e8-bc93-6894a57f9324", GW_OK, "8e03978e-40d5-43e8-bc93-6894a57f9324"},
    {"  \"spaced\"\t", GW_OK, "spaced"},
    {"key_with-safe.chars~:+/=", GW_OK, "key_with-safe.chars~:+/="},
    {"\"a \\\"quoted\\\" \\\\ key; with, anything!\"", GW_OK,
     "a \"quoted\" \\ key; with, anything!"},
    {"\" \"", GW_OK, " "},
    {"", GW_EARGS, "is empty"},
    {"   ", GW_EARGS, "is empty"},
    {"\"\"", GW_EARGS, "is empty"},
    {"\"abc", GW_EARGS, "no closing quote"},
    {"\"ab\\c\"", GW_EARGS, "bad escape"},
    {"\"ab\\", GW_EARGS, "bad escape"},
    {"\"abc\";p=1", GW_EARGS, "parameters"},
    {"\"abc\" x", GW_EARGS, "text after its closing quote"},
    {"\"a\tb\"", GW_EARGS, "byte 0x09"},
    {"\"caf\xc3\xa9\"", GW_EARGS, "byte 0xc3"},
    {"a b", GW_EARGS, "holds ' '"},
    {"a,b", GW_EARGS, "holds ','"},
    {"a\"b", GW_EARGS, "holds '\"'"},
    {"?key", GW_EARGS, "holds '?'"},
};

START_TEST(parse_table)
{
    const struct key_case *c = &cases[_i];
    char key[GW_IDEM_KEY_MAX + 1];
    char err[256] = "";
    size_t len = 99;
    int status =
        gw_idem_key_parse(c->field, strlen(c->field), key, sizeof(key), &len, err, sizeof(err));
    ck_assert_msg(status == c->status, "%s: got %d (%s)", c->field, status, err);
    if (status == GW_OK) {
        ck_assert_str_eq(key, c->want);
        ck_assert_uint_eq(len, strlen(c->want));
    } else {
        ck_assert_msg(strstr(err, c->want) != NULL, "%s: message '%s' lacks '%s'", c->field, err,
                      c->want);
        ck_assert_uint_eq(len, 0);
    }
}
END_TEST

START_TEST(length_bound)
{
    char field[GW_IDEM_KEY_MAX + 8];
    char key[GW_IDEM_KEY_MAX + 1];
    char err[256];
    size_t len;
    memset(field, 'k', sizeof(field));
    ck_assert_int_eq(
        gw_idem_key_parse(field, GW_IDEM_KEY_MAX, key, sizeof(key), &len, err, sizeof(err)), GW_OK);
    ck_assert_uint_eq(len, GW_IDEM_KEY_MAX);
    ck_assert_int_eq(
        gw_idem_key_parse(field, GW_IDEM_KEY_MAX + 1, key, sizeof(key), &len, err, sizeof(err)),
        GW_EARGS);
    ck_assert_str_eq(err, "the Idempotency-Key is longer than 255 bytes");
    /* Quoted: the bound is on the key, not on the field. */
    field[0] = '"';
    memset(field + 1, 'q', GW_IDEM_KEY_MAX);
    field[GW_IDEM_KEY_MAX + 1] = '"';
    ck_assert_int_eq(
        gw_idem_key_parse(field, GW_IDEM_KEY_MAX + 2, key, sizeof(key), &len, err, sizeof(err)),
        GW_OK);
    field[GW_IDEM_KEY_MAX + 1] = 'q';
    field[GW_IDEM_KEY_MAX + 2] = '"';
    ck_assert_int_eq(
        gw_idem_key_parse(field, GW_IDEM_KEY_MAX + 3, key, sizeof(key), &len, err, sizeof(err)),
        GW_EARGS);
    ck_assert_str_eq(err, "the Idempotency-Key is longer than 255 bytes");
}
END_TEST

START_TEST(nul_in_field)
{
    char key[GW_IDEM_KEY_MAX + 1];
    char err[256];
    size_t len;
    ck_assert_int_eq(gw_idem_key_parse("ab\0cd", 5, key, sizeof(key), &len, err, sizeof(err)),
                     GW_EARGS);
    ck_assert(strstr(err, "0x00") != NULL);
}
END_TEST

static const uint8_t secret[GW_IDEM_DIGEST_LEN] = {1, 2, 3};

START_TEST(ids_tell_parts_apart)
{
    struct gw_idem_hasher *h = gw_idem_hasher_new(secret);
    ck_assert_ptr_nonnull(h);
    uint8_t a[GW_IDEM_DIGEST_LEN], b[GW_IDEM_DIGEST_LEN];
    gw_idem_id(h, "k", 1, "POST /a", "iss\nalice", a);
    gw_idem_id(h, "k", 1, "POST /a", "iss\nalice", b);
    ck_assert_mem_eq(a, b, sizeof(a));
    gw_idem_id(h, "k", 1, "POST /a", "iss\nbob", b);
    ck_assert(memcmp(a, b, sizeof(a)) != 0);
    gw_idem_id(h, "k", 1, "POST /b", "iss\nalice", b);
    ck_assert(memcmp(a, b, sizeof(a)) != 0);
    gw_idem_id(h, "K", 1, "POST /a", "iss\nalice", b);
    ck_assert(memcmp(a, b, sizeof(a)) != 0);
    /* Anonymous is not the empty identity; the parts cannot slide into one another. */
    gw_idem_id(h, "k", 1, "POST /a", NULL, a);
    gw_idem_id(h, "k", 1, "POST /a", "", b);
    ck_assert(memcmp(a, b, sizeof(a)) != 0);
    gw_idem_id(h, "kP", 2, "OST /a", NULL, b);
    ck_assert(memcmp(a, b, sizeof(a)) != 0);
    /* Another process's secret: other ids. */
    const uint8_t other_secret[GW_IDEM_DIGEST_LEN] = {9};
    struct gw_idem_hasher *h2 = gw_idem_hasher_new(other_secret);
    gw_idem_id(h2, "k", 1, "POST /a", NULL, b);
    ck_assert(memcmp(a, b, sizeof(a)) != 0);
    gw_idem_hasher_free(h2);
    gw_idem_hasher_free(h);
}
END_TEST

START_TEST(fingerprints)
{
    struct gw_idem_hasher *h = gw_idem_hasher_new(secret);
    uint8_t a[GW_IDEM_DIGEST_LEN], b[GW_IDEM_DIGEST_LEN];
    gw_idem_fingerprint(h, "POST", "/a?x=1", "application/json", "{}", 2, a);
    gw_idem_fingerprint(h, "POST", "/a?x=1", "application/json", "{}", 2, b);
    ck_assert_mem_eq(a, b, sizeof(a));
    gw_idem_fingerprint(h, "POST", "/a?x=1", "application/json", "{ }", 3, b);
    ck_assert(memcmp(a, b, sizeof(a)) != 0);
    gw_idem_fingerprint(h, "POST", "/a?x=2", "application/json", "{}", 2, b);
    ck_assert(memcmp(a, b, sizeof(a)) != 0);
    gw_idem_fingerprint(h, "PUT", "/a?x=1", "application/json", "{}", 2, b);
    ck_assert(memcmp(a, b, sizeof(a)) != 0);
    gw_idem_fingerprint(h, "POST", "/a?x=1", "text/plain", "{}", 2, b);
    ck_assert(memcmp(a, b, sizeof(a)) != 0);
    gw_idem_fingerprint(h, "POST", "/a?x=1", NULL, "{}", 2, b);
    ck_assert(memcmp(a, b, sizeof(a)) != 0);
    /* No body and an empty one are the same request. */
    gw_idem_fingerprint(h, "POST", "/a", NULL, NULL, 0, a);
    gw_idem_fingerprint(h, "POST", "/a", NULL, "", 0, b);
    ck_assert_mem_eq(a, b, sizeof(a));
    gw_idem_hasher_free(h);
}
END_TEST

Suite *idem_key_suite(void)
{
    Suite *s = suite_create("idem_key");
    TCase *tc = tcase_create("parse");
    tcase_add_loop_test(tc, parse_table, 0, (int)(sizeof(cases) / sizeof(cases[0])));
    tcase_add_test(tc, length_bound);
    tcase_add_test(tc, nul_in_field);
    suite_add_tcase(s, tc);
    tc = tcase_create("digests");
    tcase_add_test(tc, ids_tell_parts_apart);
    tcase_add_test(tc, fingerprints);
    suite_add_tcase(s, tc);
    return s;
}
