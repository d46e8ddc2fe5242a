#include "core/status.h"

#include "tests/unit/suites.h"

#include <string.h>

START_TEST(every_status_has_a_text_and_a_code)
{
    for (int s = GW_OK; s >= GW_STATUS_MIN; s--) {
        /* Only the statuses that exist in the enum are in the table; the rest answer "unknown". */
        const char *text = gw_strerror(s);
        const char *code = gw_status_code(s);
        ck_assert_ptr_nonnull(text);
        ck_assert_ptr_nonnull(code);
        if (strcmp(code, "unknown") != 0)
            ck_assert_str_ne(text, "unknown status");
    }
    const int known[] = {GW_OK,
                         GW_AGAIN,
                         GW_EINVAL,
                         GW_ECONFIG,
                         GW_ESUBST,
                         GW_EURI,
                         GW_EYAML,
                         GW_EIO,
                         GW_ERULE,
                         GW_ENOMATCH,
                         GW_EMETHOD,
                         GW_EREDIRECT,
                         GW_EDUPLICATE,
                         GW_EFORBIDDEN,
                         GW_EARGS,
                         GW_EJSON,
                         GW_EMEDIA,
                         GW_EBROKER,
                         GW_EUNKNOWN_SERVICE,
                         GW_ETIMEOUT,
                         GW_EREMOTE,
                         GW_EBADREPLY,
                         GW_ESHUTDOWN,
                         GW_ECANCELLED,
                         GW_ETOKEN,
                         GW_ETOKEN_ALG,
                         GW_ETOKEN_KID,
                         GW_ETOKEN_SIG,
                         GW_ETOKEN_EXPIRED,
                         GW_ETOKEN_EARLY,
                         GW_ETOKEN_CLAIM,
                         GW_EJWKS};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        ck_assert_str_ne(gw_strerror(known[i]), "unknown status");
        ck_assert_str_ne(gw_status_code(known[i]), "unknown");
    }
    ck_assert_str_eq(gw_status_code(GW_EUNKNOWN_SERVICE), "unknown_service");
    ck_assert_str_eq(gw_strerror(12345), "unknown status");
}
END_TEST

Suite *status_suite(void)
{
    Suite *s = suite_create("status");
    TCase *tc = tcase_create("texts");
    tcase_add_test(tc, every_status_has_a_text_and_a_code);
    suite_add_tcase(s, tc);
    return s;
}
