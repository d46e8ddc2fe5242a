/* Unit tests for routes/idem_store: the verdicts (proceed, wait, replay, mismatch, not kept, full),
 * expiry with the clock given, the bounds on entries and bytes, the order entries are dropped in,
 * and what a reload keeps. */
#include "routes/idem_store.h"

#include "core/xalloc.h"
#include "tests/unit/suites.h"

#include <stdlib.h>
#include <string.h>

static const struct gw_idem_limits roomy = {
    .ttl_ms = 1000, .max_entries = 100, .max_body = 1024, .max_bytes = 1 << 20};

/* Ids whose first bytes (the table's hash) take 7 values only: long chains in few buckets. */
static void id_of(int n, uint8_t out[GW_IDEM_DIGEST_LEN])
{
    int bucket = n % 7;
    memset(out, 0, GW_IDEM_DIGEST_LEN);
    memcpy(out, &bucket, sizeof(bucket));
    memcpy(out + 8, &n, sizeof(n));
    out[GW_IDEM_DIGEST_LEN - 1] = 0x5a;
}

static void response_of(const char *body, struct gw_response *r)
{
    memset(r, 0, sizeof(*r));
    r->status = 201;
    r->content_type = "application/json";
    r->body = xstrdup(body);
    r->body_len = strlen(body);
    gw_response_add_header(r, "X-Handler", "yes");
}

/* Begins entry n and completes it with body, kept; returns the verdict of the begin. */
static enum gw_idem_verdict begin_complete(struct gw_idem_store *s, int n, const char *body,
                                           uint64_t now)
{
    uint8_t id[GW_IDEM_DIGEST_LEN], fp[GW_IDEM_DIGEST_LEN] = {0};
    id_of(n, id);
    struct gw_idem_entry *e;
    enum gw_idem_verdict v = gw_idem_store_begin(s, id, fp, "POST /a", now, &e);
    if (v == GW_IDEM_PROCEED) {
        struct gw_response r;
        response_of(body, &r);
        gw_idem_store_complete(s, e, &r, "call-1", true, now);
        gw_response_clear(&r);
    }
    return v;
}

static enum gw_idem_verdict look(struct gw_idem_store *s, int n, uint8_t fp0, uint64_t now,
                                 struct gw_idem_entry **e)
{
    uint8_t id[GW_IDEM_DIGEST_LEN], fp[GW_IDEM_DIGEST_LEN] = {0};
    id_of(n, id);
    fp[0] = fp0;
    return gw_idem_store_begin(s, id, fp, "POST /a", now, e);
}

START_TEST(verdicts)
{
    struct gw_idem_store *s = gw_idem_store_new(&roomy);
    struct gw_idem_entry *e, *again;
    ck_assert_int_eq(look(s, 1, 0, 0, &e), GW_IDEM_PROCEED);
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(gw_idem_store_in_flight(s), 1);
    /* The same request while the first is in flight waits for it; another one is refused. */
    ck_assert_int_eq(look(s, 1, 0, 10, &again), GW_IDEM_WAIT);
    ck_assert_ptr_eq(again, e);
    ck_assert_int_eq(look(s, 1, 7, 10, &again), GW_IDEM_MISMATCH);
    ck_assert_ptr_null(again);
    int token;
    gw_idem_entry_set_waiters(e, &token);
    ck_assert_ptr_eq(gw_idem_entry_waiters(e), &token);
    struct gw_response r;
    response_of("{\"id\": 7}", &r);
    gw_idem_store_complete(s, e, &r, "svc.m-1", true, 20);
    gw_response_clear(&r);
    ck_assert_uint_eq(gw_idem_store_in_flight(s), 0);
    ck_assert_int_eq(look(s, 1, 0, 30, &again), GW_IDEM_REPLAY);
    const struct gw_response *kept = gw_idem_entry_response(again);
    ck_assert_int_eq(kept->status, 201);
    ck_assert_str_eq(kept->content_type, "application/json");
    ck_assert_uint_eq(kept->body_len, 9);
    ck_assert_str_eq(kept->body, "{\"id\": 7}");
    ck_assert_uint_eq(kept->n_headers, 1);
    ck_assert_str_eq(kept->headers[0].name, "X-Handler");
    ck_assert_str_eq(gw_idem_entry_call_id(again), "svc.m-1");
    ck_assert_ptr_null(gw_idem_entry_waiters(again));
    ck_assert_int_eq(look(s, 1, 7, 30, &again), GW_IDEM_MISMATCH);
    /* Another key is another entry. */
    ck_assert_int_eq(look(s, 2, 7, 30, &again), GW_IDEM_PROCEED);
    ck_assert_uint_eq(gw_idem_store_count(s), 2);
    gw_idem_store_free(s); /* with an entry in flight: freed too */
}
END_TEST

START_TEST(not_kept_drops_the_entry)
{
    struct gw_idem_store *s = gw_idem_store_new(&roomy);
    struct gw_idem_entry *e;
    ck_assert_int_eq(look(s, 1, 0, 0, &e), GW_IDEM_PROCEED);
    struct gw_response r;
    response_of("{}", &r);
    gw_idem_store_complete(s, e, &r, NULL, false, 5);
    gw_response_clear(&r);
    ck_assert_uint_eq(gw_idem_store_count(s), 0);
    ck_assert_uint_eq(gw_idem_store_bytes(s), 0);
    /* A retry calls again. */
    ck_assert_int_eq(look(s, 1, 0, 6, &e), GW_IDEM_PROCEED);
    gw_idem_store_free(s);
}
END_TEST

START_TEST(ttl_expiry)
{
    struct gw_idem_store *s = gw_idem_store_new(&roomy);
    struct gw_idem_entry *e;
    ck_assert_int_eq(begin_complete(s, 1, "{}", 0), GW_IDEM_PROCEED);
    ck_assert_int_eq(look(s, 1, 0, 999, &e), GW_IDEM_REPLAY);
    /* ttl_ms after the first request, the key is forgotten: another body is a new request. */
    ck_assert_int_eq(look(s, 1, 9, 1000, &e), GW_IDEM_PROCEED);
    ck_assert_uint_eq(gw_idem_store_count(s), 1);
    /* An entry in flight past its ttl is not dropped; completed late, it is not kept. */
    struct gw_idem_entry *late;
    ck_assert_int_eq(look(s, 3, 0, 2000, &late), GW_IDEM_PROCEED);
    ck_assert_int_eq(look(s, 3, 0, 5000, &e), GW_IDEM_WAIT);
    ck_assert_ptr_eq(e, late);
    struct gw_response r;
    response_of("{}", &r);
    gw_idem_store_complete(s, e, &r, NULL, true, 5000);
    gw_response_clear(&r);
    ck_assert_uint_eq(gw_idem_store_count(s), 1); /* only key 1's second life, in flight */
    ck_assert_uint_eq(gw_idem_store_in_flight(s), 1);
    gw_idem_store_free(s);
}
END_TEST

START_TEST(max_entries_drops_oldest_completed)
{
    struct gw_idem_limits l = roomy;
    l.max_entries = 3;
    l.ttl_ms = 1000000;
    struct gw_idem_store *s = gw_idem_store_new(&l);
    struct gw_idem_entry *e, *in_flight;
    ck_assert_int_eq(look(s, 1, 0, 0, &in_flight), GW_IDEM_PROCEED); /* stays in flight */
    ck_assert_int_eq(begin_complete(s, 2, "{}", 1), GW_IDEM_PROCEED);
    ck_assert_int_eq(begin_complete(s, 3, "{}", 2), GW_IDEM_PROCEED);
    ck_assert_int_eq(begin_complete(s, 4, "{}", 3), GW_IDEM_PROCEED);
    ck_assert_uint_eq(gw_idem_store_count(s), 3);
    /* 2 was the oldest completed one: gone; 1 (older, in flight) is kept. */
    ck_assert_int_eq(look(s, 1, 0, 4, &e), GW_IDEM_WAIT);
    ck_assert_int_eq(look(s, 3, 0, 4, &e), GW_IDEM_REPLAY);
    ck_assert_int_eq(look(s, 4, 0, 4, &e), GW_IDEM_REPLAY);
    ck_assert_int_eq(look(s, 2, 0, 5, &e), GW_IDEM_PROCEED); /* drops 3 */
    ck_assert_int_eq(look(s, 3, 0, 6, &e), GW_IDEM_PROCEED); /* drops 4 */
    /* All three in flight: nothing can make room, and nothing is called twice. */
    ck_assert_int_eq(look(s, 9, 0, 7, &e), GW_IDEM_FULL);
    ck_assert_ptr_null(e);
    ck_assert_uint_eq(gw_idem_store_in_flight(s), 3);
    gw_idem_store_free(s);
}
END_TEST

START_TEST(large_bodies_leave_a_mark)
{
    struct gw_idem_limits l = roomy;
    l.max_body = 8;
    struct gw_idem_store *s = gw_idem_store_new(&l);
    struct gw_idem_entry *e;
    ck_assert_int_eq(begin_complete(s, 1, "123456789", 0), GW_IDEM_PROCEED);
    ck_assert_int_eq(look(s, 1, 0, 1, &e), GW_IDEM_NOT_KEPT);
    ck_assert_ptr_null(e);
    ck_assert_int_eq(look(s, 1, 5, 1, &e), GW_IDEM_MISMATCH);
    ck_assert_int_eq(begin_complete(s, 2, "12345678", 0), GW_IDEM_PROCEED);
    ck_assert_int_eq(look(s, 2, 0, 1, &e), GW_IDEM_REPLAY);
    gw_idem_store_free(s);
}
END_TEST

START_TEST(max_bytes)
{
    struct gw_idem_limits l = roomy;
    l.max_body = 4096;
    l.max_bytes = 3 * 4096;
    l.ttl_ms = 1000000;
    struct gw_idem_store *s = gw_idem_store_new(&l);
    char *body = xmalloc(4001);
    memset(body, 'b', 4000);
    body[4000] = '\0';
    struct gw_idem_entry *e;
    for (int i = 0; i < 10; i++) {
        ck_assert_int_eq(begin_complete(s, i, body, (uint64_t)i), GW_IDEM_PROCEED);
        ck_assert_uint_le(gw_idem_store_bytes(s), l.max_bytes);
    }
    ck_assert_uint_le(gw_idem_store_count(s), 3);
    ck_assert_uint_ge(gw_idem_store_count(s), 2);
    ck_assert_int_eq(look(s, 9, 0, 20, &e), GW_IDEM_REPLAY);
    ck_assert_int_eq(look(s, 0, 0, 20, &e), GW_IDEM_PROCEED); /* the oldest went first */
    free(body);
    gw_idem_store_free(s);
}
END_TEST

static bool keep_a(const void *ctx, const char *route)
{
    (void)ctx;
    return strcmp(route, "POST /a") == 0;
}

START_TEST(reload_limits_and_retain)
{
    struct gw_idem_store *s = gw_idem_store_new(&roomy);
    uint8_t id[GW_IDEM_DIGEST_LEN], fp[GW_IDEM_DIGEST_LEN] = {0};
    struct gw_idem_entry *e;
    ck_assert_int_eq(begin_complete(s, 1, "{}", 0), GW_IDEM_PROCEED);
    id_of(2, id);
    ck_assert_int_eq(gw_idem_store_begin(s, id, fp, "POST /b", 0, &e), GW_IDEM_PROCEED);
    struct gw_response r;
    response_of("{}", &r);
    gw_idem_store_complete(s, e, &r, NULL, true, 0);
    id_of(3, id);
    struct gw_idem_entry *flying;
    ck_assert_int_eq(gw_idem_store_begin(s, id, fp, "POST /b", 0, &flying), GW_IDEM_PROCEED);
    gw_idem_store_retain(s, keep_a, NULL);
    /* /b's completed entry goes; its in-flight one stays until it ends. */
    ck_assert_uint_eq(gw_idem_store_count(s), 2);
    ck_assert_int_eq(look(s, 1, 0, 1, &e), GW_IDEM_REPLAY);
    ck_assert_int_eq(look(s, 2, 0, 1, &e), GW_IDEM_PROCEED);
    gw_idem_store_complete(s, e, &r, NULL, false, 1);
    gw_idem_store_complete(s, flying, &r, NULL, true, 1);
    gw_response_clear(&r);
    /* Smaller bounds on reload: the oldest completed entries go. */
    struct gw_idem_limits l = roomy;
    l.max_entries = 1;
    gw_idem_store_set_limits(s, &l, 2);
    ck_assert_uint_eq(gw_idem_store_count(s), 1);
    ck_assert_int_eq(look(s, 3, 0, 3, &e), GW_IDEM_REPLAY);
    gw_idem_store_free(s);
}
END_TEST

START_TEST(many_entries_grow_the_table)
{
    struct gw_idem_limits l = roomy;
    l.max_entries = 5000;
    l.max_bytes = 1 << 28;
    struct gw_idem_store *s = gw_idem_store_new(&l);
    struct gw_idem_entry *e;
    for (int i = 0; i < 5000; i++)
        ck_assert_int_eq(begin_complete(s, i, "{}", 0), GW_IDEM_PROCEED);
    for (int i = 0; i < 5000; i++)
        ck_assert_int_eq(look(s, i, 0, 1, &e), GW_IDEM_REPLAY);
    ck_assert_uint_eq(gw_idem_store_count(s), 5000);
    gw_idem_store_free(s);
}
END_TEST

Suite *idem_store_suite(void)
{
    Suite *s = suite_create("idem_store");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, verdicts);
    tcase_add_test(tc, not_kept_drops_the_entry);
    tcase_add_test(tc, ttl_expiry);
    tcase_add_test(tc, max_entries_drops_oldest_completed);
    tcase_add_test(tc, large_bodies_leave_a_mark);
    tcase_add_test(tc, max_bytes);
    tcase_add_test(tc, reload_limits_and_retain);
    tcase_add_test(tc, many_entries_grow_the_table);
    suite_add_tcase(s, tc);
    return s;
}
