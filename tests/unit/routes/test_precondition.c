/* Unit tests for routes/precondition: RFC 9110 13's conditional GET and HEAD. */
#include "routes/precondition.h"

#include "tests/unit/suites.h"

#define TAG "\"1f-65a0.0\""

START_TEST(entity_tag_lists)
{
    /* Weak comparison (If-None-Match): W/ is ignored on either side. */
    ck_assert(gw_etag_list_matches(TAG, TAG, true));
    ck_assert(gw_etag_list_matches("W/" TAG, TAG, true));
    ck_assert(gw_etag_list_matches("\"a\", \"b\" ,W/" TAG, TAG, true));
    ck_assert(gw_etag_list_matches("*", TAG, true));
    ck_assert(gw_etag_list_matches(" * ", TAG, false));
    /* Strong comparison (If-Match): a weak tag matches nothing. */
    ck_assert(gw_etag_list_matches(TAG, TAG, false));
    ck_assert(!gw_etag_list_matches("W/" TAG, TAG, false));
    ck_assert(!gw_etag_list_matches(TAG, "W/" TAG, false));
    /* A comma may sit inside a tag; a tag is compared whole, quotes included. */
    ck_assert(gw_etag_list_matches("\"x,y\", " TAG, TAG, true));
    ck_assert(!gw_etag_list_matches("\"x," TAG, TAG, true));
    ck_assert(!gw_etag_list_matches("\"a1f-65a0.0\"", TAG, true));
    ck_assert(!gw_etag_list_matches("1f-65a0.0", TAG, true));
    /* What does not parse holds nothing. */
    ck_assert(!gw_etag_list_matches("*, " TAG, TAG, true));
    ck_assert(!gw_etag_list_matches(TAG "x", TAG, true));
    ck_assert(!gw_etag_list_matches("\"open", TAG, true));
    ck_assert(!gw_etag_list_matches("", TAG, true));
}
END_TEST

START_TEST(evaluated_in_rfc_9110s_order)
{
    const int64_t t = 1000000;
    struct gw_preconditions p = {0};
    ck_assert_int_eq(gw_precondition_evaluate(&p, TAG, t), GW_PRECONDITION_PROCEED);
    p = (struct gw_preconditions){.if_match = "\"other\""};
    ck_assert_int_eq(gw_precondition_evaluate(&p, TAG, t), GW_PRECONDITION_FAILED);
    /* If-Match holds: If-Unmodified-Since is not looked at. */
    p = (struct gw_preconditions){
        .if_match = TAG, .has_if_unmodified_since = true, .if_unmodified_since = t - 1};
    ck_assert_int_eq(gw_precondition_evaluate(&p, TAG, t), GW_PRECONDITION_PROCEED);
    p.if_match = NULL;
    ck_assert_int_eq(gw_precondition_evaluate(&p, TAG, t), GW_PRECONDITION_FAILED);
    p.if_unmodified_since = t;
    ck_assert_int_eq(gw_precondition_evaluate(&p, TAG, t), GW_PRECONDITION_PROCEED);
    /* If-None-Match wins over If-Modified-Since, either way. */
    p = (struct gw_preconditions){
        .if_none_match = "\"other\"", .has_if_modified_since = true, .if_modified_since = t};
    ck_assert_int_eq(gw_precondition_evaluate(&p, TAG, t), GW_PRECONDITION_PROCEED);
    p.if_none_match = "W/" TAG;
    p.if_modified_since = t - 1;
    ck_assert_int_eq(gw_precondition_evaluate(&p, TAG, t), GW_PRECONDITION_NOT_MODIFIED);
    p.if_none_match = NULL;
    ck_assert_int_eq(gw_precondition_evaluate(&p, TAG, t), GW_PRECONDITION_PROCEED);
    p.if_modified_since = t;
    ck_assert_int_eq(gw_precondition_evaluate(&p, TAG, t), GW_PRECONDITION_NOT_MODIFIED);
    /* A failed If-Match is 412 even when the client's copy is current. */
    p = (struct gw_preconditions){.if_match = "\"other\"", .if_none_match = TAG};
    ck_assert_int_eq(gw_precondition_evaluate(&p, TAG, t), GW_PRECONDITION_FAILED);
}
END_TEST

Suite *precondition_suite(void)
{
    Suite *s = suite_create("precondition");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, entity_tag_lists);
    tcase_add_test(tc, evaluated_in_rfc_9110s_order);
    suite_add_tcase(s, tc);
    return s;
}
