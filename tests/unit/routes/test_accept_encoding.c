#include "routes/accept_encoding.h"

#include "tests/unit/suites.h"

START_TEST(accept_encoding_cases)
{
    const struct {
        const char *header;
        bool gzip;
    } cases[] = {
        {NULL, false},
        {"", false},
        {"gzip", true},
        {"GZIP", true},
        {"x-gzip", true},
        {"gzip, deflate, br", true},
        {"deflate, br", false},
        {"identity", false},
        {"*", true},
        {"*;q=0", false},
        {"gzip;q=0", false},
        {"gzip;q=0.0", false},
        {"gzip;q=0.001", true},
        {"gzip;q=0.5, identity;q=1", true},
        {"gzip; q=1.000", true},
        {"gzip;q=1.5", false}, /* malformed: the element counts for nothing */
        {"gzip;q=abc", false},
        {"*;q=0.3, gzip;q=0", false}, /* gzip named wins over * */
        {"br;q=1, *;q=0.1", true},
        {" gzip ;q=0.8 ", true},
        {",,gzip,,", true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        ck_assert_msg(gw_accept_gzip(cases[i].header) == cases[i].gzip, "'%s'",
                      cases[i].header ? cases[i].header : "(none)");
}
END_TEST

Suite *accept_encoding_suite(void)
{
    Suite *s = suite_create("accept_encoding");
    TCase *tc = tcase_create("negotiation");
    tcase_add_test(tc, accept_encoding_cases);
    suite_add_tcase(s, tc);
    return s;
}
