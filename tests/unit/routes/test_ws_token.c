/* Unit tests for routes/ws_token: where a websocket upgrade's token is found, and the access_token
 * parameter kept out of log lines. */
#include "routes/ws_token.h"

#include "tests/unit/suites.h"

#include <stdlib.h>
#include <string.h>

#define AUTH(s) .authorization = s, .authorization_len = sizeof(s) - 1
#define COOKIE(s) .cookie = s, .cookie_len = sizeof(s) - 1

static const struct {
    const char *name;
    struct gw_ws_token_sources sources;
    enum gw_bearer found;
    const char *token, *source;
} find_cases[] = {
    {"nothing", {0}, GW_BEARER_NONE, NULL, NULL},
    {"the header", {AUTH("Bearer h.h.h")}, GW_BEARER_TOKEN, "h.h.h", "header"},
    {"the header first",
     {AUTH("bearer  h.h.h "), .query_token = "q", COOKIE("jwt=c"), .cookie_name = "jwt"},
     GW_BEARER_TOKEN,
     "h.h.h",
     "header"},
    {"a malformed Bearer is not passed over",
     {AUTH("Bearer a b"), .query_token = "q"},
     GW_BEARER_MALFORMED,
     NULL,
     "header"},
    {"an empty Bearer is malformed", {AUTH("Bearer")}, GW_BEARER_MALFORMED, NULL, "header"},
    {"another scheme is passed over",
     {AUTH("Basic dXNlcjpwdw=="), .query_token = "q.q.q"},
     GW_BEARER_TOKEN,
     "q.q.q",
     "query"},
    {"the query before the cookie",
     {.query_token = "q.q.q", COOKIE("jwt=c"), .cookie_name = "jwt"},
     GW_BEARER_TOKEN,
     "q.q.q",
     "query"},
    {"an empty parameter is none",
     {.query_token = "", COOKIE("jwt=c.c.c"), .cookie_name = "jwt"},
     GW_BEARER_TOKEN,
     "c.c.c",
     "cookie"},
    {"the cookie among others",
     {COOKIE("a=1; jwt=c.c.c; jwt=late"), .cookie_name = "jwt"},
     GW_BEARER_TOKEN,
     "c.c.c",
     "cookie"},
    {"no cookie name, no cookie", {COOKIE("jwt=c.c.c")}, GW_BEARER_NONE, NULL, NULL},
    {"another cookie", {COOKIE("jwt2=c.c.c"), .cookie_name = "jwt"}, GW_BEARER_NONE, NULL, NULL},
    {"an empty cookie is none",
     {COOKIE("jwt=; a=1"), .cookie_name = "jwt"},
     GW_BEARER_NONE,
     NULL,
     NULL},
    {"the cookie's length counts",
     {.cookie = "jwt=c.c.cXXX", .cookie_len = 9, .cookie_name = "jwt"},
     GW_BEARER_TOKEN,
     "c.c.c",
     "cookie"},
    {"the header's length counts",
     {.authorization = "Bearer h.hXXX", .authorization_len = 10},
     GW_BEARER_TOKEN,
     "h.h",
     "header"},
};

START_TEST(find_token)
{
    struct gw_ws_token t;
    gw_ws_find_token(&find_cases[_i].sources, &t);
    ck_assert_msg(t.found == find_cases[_i].found, "%s: found %d", find_cases[_i].name, t.found);
    if (find_cases[_i].token) {
        ck_assert_str_eq(t.token, find_cases[_i].token);
        ck_assert_uint_eq(t.len, strlen(find_cases[_i].token));
    } else {
        ck_assert_ptr_null(t.token);
    }
    if (find_cases[_i].source)
        ck_assert_str_eq(t.source, find_cases[_i].source);
    else
        ck_assert_ptr_null(t.source);
    gw_ws_token_clear(&t);
    ck_assert_ptr_null(t.token);
    ck_assert_int_eq(t.found, GW_BEARER_NONE);
}
END_TEST

static const struct {
    const char *target, *token;
} query_cases[] = {
    {"/ws", NULL},
    {"/ws?", NULL},
    {"/ws?a=1", NULL},
    {"/ws?access_token=a.b.c", "a.b.c"},
    {"/ws?x=1&access_token=a%2Eb&access_token=late", "a.b"},
    {"/ws?access_token", ""},
    {"/ws?access_token=", ""},
    {"/ws?access%5Ftoken=enc", "enc"}, /* werkzeug decodes names too */
    {"/ws?access_token=a+b", "a b"},
    {"/ws?Access_Token=x", NULL}, /* names are case-sensitive */
    {"/ws?xaccess_token=x", NULL},
    {"/ws/access_token=x", NULL},
};

START_TEST(query_token)
{
    const char *target = query_cases[_i].target;
    char *token = gw_ws_query_token(target, strlen(target));
    if (query_cases[_i].token)
        ck_assert_str_eq(token, query_cases[_i].token);
    else
        ck_assert_ptr_null(token);
    free(token);
}
END_TEST

START_TEST(query_token_length_counts)
{
    char *token = gw_ws_query_token("/ws?access_token=abcdef", 20);
    ck_assert_str_eq(token, "abc");
    free(token);
}
END_TEST

static const struct {
    const char *in, *out;
} redact_cases[] = {
    {"", ""},
    {"nothing here", "nothing here"},
    {"GET /ws?access_token=a.b.c HTTP/1.1", "GET /ws?access_token=[redacted] HTTP/1.1"},
    {"/ws?x=1&access_token=a.b.c&y=2", "/ws?x=1&access_token=[redacted]&y=2"},
    {"/ws?access_token=a&access_token=b", "/ws?access_token=[redacted]&access_token=[redacted]"},
    {"access_token=abc", "access_token=[redacted]"},
    {"uri '/ws?ACCESS_TOKEN=abc'", "uri '/ws?ACCESS_TOKEN=[redacted]'"},
    {"/ws?access%5Ftoken=abc", "/ws?access%5Ftoken=[redacted]"},
    {"/ws?access%5ftoken=abc#frag", "/ws?access%5ftoken=[redacted]#frag"},
    {"\"/ws?access_token=abc\"", "\"/ws?access_token=[redacted]\""},
    {"/ws?access_token==x=y", "/ws?access_token=[redacted]"},
    {"/ws?access_token=", "/ws?access_token=[redacted]"},
    {"/ws?xaccess_token=abc", "/ws?xaccess_token=abc"},
    {"/ws?token=abc&a=b", "/ws?token=abc&a=b"},
    {"a=b c=d", "a=b c=d"},
    {"frag 'access_token=abc\n", "frag 'access_token=[redacted]\n"},
};

START_TEST(redact)
{
    char out[256];
    gw_ws_redact(redact_cases[_i].in, out, sizeof(out));
    ck_assert_str_eq(out, redact_cases[_i].out);
}
END_TEST

START_TEST(redact_cuts_to_fit)
{
    char out[16];
    gw_ws_redact("/ws?access_token=secret.secret", out, sizeof(out));
    ck_assert_str_eq(out, "/ws?access_toke");
    gw_ws_redact("0123456789abcdefghij", out, sizeof(out));
    ck_assert_str_eq(out, "0123456789abcde");
    char one[1];
    gw_ws_redact("access_token=x", one, sizeof(one));
    ck_assert_str_eq(one, "");
    /* Never a byte of the value, however small the room. */
    for (size_t n = 1; n <= 40; n++) {
        char *buf = malloc(n);
        gw_ws_redact("/ws?access_token=SECRET&a=1", buf, n);
        ck_assert_ptr_null(strstr(buf, "S"));
        free(buf);
    }
}
END_TEST

Suite *ws_token_suite(void)
{
    Suite *s = suite_create("ws_token");
    TCase *find = tcase_create("find");
    tcase_add_loop_test(find, find_token, 0, (int)(sizeof(find_cases) / sizeof(find_cases[0])));
    tcase_add_loop_test(find, query_token, 0, (int)(sizeof(query_cases) / sizeof(query_cases[0])));
    tcase_add_test(find, query_token_length_counts);
    suite_add_tcase(s, find);
    TCase *log = tcase_create("redact");
    tcase_add_loop_test(log, redact, 0, (int)(sizeof(redact_cases) / sizeof(redact_cases[0])));
    tcase_add_test(log, redact_cuts_to_fit);
    suite_add_tcase(s, log);
    return s;
}
