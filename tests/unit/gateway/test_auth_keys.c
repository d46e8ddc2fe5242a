/* Unit tests for gateway/auth_keys: a JWK Set file read, and every reason it is refused for. */
#include "gateway/auth_keys.h"

#include "core/status.h"

#include "tests/unit/suites.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Writes len bytes of text into a new temporary file; its path in path (unlink it after). */
static void write_temp(char *path, size_t path_len, const char *text, size_t len)
{
    snprintf(path, path_len, "/tmp/enoki-jwks-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

START_TEST(reads_a_set)
{
    static const char set[] = "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\",\"kid\":\"a\"},"
                              "{\"kty\":\"oct\",\"k\":\"b3RoZXI\",\"kid\":\"b\"}]}";
    char path[64];
    char err[256] = "";
    struct gw_jwk_set *keys = NULL;
    write_temp(path, sizeof(path), set, strlen(set));
    int rc = gw_auth_keys_load(path, &keys, err, sizeof(err));
    unlink(path);
    ck_assert_msg(rc == GW_OK, "%s", err);
    ck_assert_uint_eq(gw_jwk_set_count(keys), 2);
    ck_assert_ptr_nonnull(gw_jwk_set_find(keys, "b"));
    gw_jwk_set_free(keys);
}
END_TEST

START_TEST(refuses_a_bad_set)
{
    static const char set[] = "{\"keys\":[{\"kty\":\"oct\"}]}";
    char path[64];
    char err[256] = "";
    char want[128];
    struct gw_jwk_set *keys = (struct gw_jwk_set *)path; /* must be reset to NULL */
    write_temp(path, sizeof(path), set, strlen(set));
    int rc = gw_auth_keys_load(path, &keys, err, sizeof(err));
    unlink(path);
    ck_assert_int_eq(rc, GW_EJWKS);
    ck_assert_ptr_null(keys);
    snprintf(want, sizeof(want), "%s: key 0: k missing or not a string", path);
    ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(refuses_a_missing_file)
{
    char err[256] = "";
    struct gw_jwk_set *keys = NULL;
    int rc = gw_auth_keys_load("/nonexistent/enoki-jwks.json", &keys, err, sizeof(err));
    ck_assert_int_eq(rc, GW_EIO);
    ck_assert_ptr_null(keys);
    ck_assert_str_eq(err, "/nonexistent/enoki-jwks.json: cannot read: No such file or directory");
    rc = gw_auth_keys_load("/tmp", &keys, err, sizeof(err));
    ck_assert_int_eq(rc, GW_EIO);
    ck_assert_str_eq(err, "/tmp: cannot read: Is a directory");
}
END_TEST

/* The bound: a file of exactly GW_JWKS_MAX_BYTES is read (and refused as JSON), one byte more is
 * refused unread. */
START_TEST(bounded)
{
    char path[64];
    char err[256] = "";
    char want[128];
    struct gw_jwk_set *keys = NULL;
    char *text = malloc((size_t)GW_JWKS_MAX_BYTES + 1);
    ck_assert_ptr_nonnull(text);
    memset(text, ' ', (size_t)GW_JWKS_MAX_BYTES + 1);
    write_temp(path, sizeof(path), text, (size_t)GW_JWKS_MAX_BYTES + 1);
    int rc = gw_auth_keys_load(path, &keys, err, sizeof(err));
    unlink(path);
    ck_assert_int_eq(rc, GW_EIO);
    snprintf(want, sizeof(want), "%s: larger than 1048576 bytes", path);
    ck_assert_str_eq(err, want);
    write_temp(path, sizeof(path), text, (size_t)GW_JWKS_MAX_BYTES);
    rc = gw_auth_keys_load(path, &keys, err, sizeof(err));
    unlink(path);
    ck_assert_int_eq(rc, GW_EJWKS);
    ck_assert_ptr_null(keys);
    free(text);
}
END_TEST

Suite *auth_keys_suite(void)
{
    Suite *s = suite_create("auth_keys");
    TCase *tc = tcase_create("load");
    tcase_add_test(tc, reads_a_set);
    tcase_add_test(tc, refuses_a_bad_set);
    tcase_add_test(tc, refuses_a_missing_file);
    tcase_add_test(tc, bounded);
    suite_add_tcase(s, tc);
    return s;
}
