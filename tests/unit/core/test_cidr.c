#include "core/cidr.h"
#include "core/siphash.h"

#include "tests/unit/suites.h"

#include <string.h>

static void ip(const char *text, uint8_t out[16])
{
    ck_assert_msg(gw_ip_parse(text, strlen(text), out), "%s", text);
}

START_TEST(addresses)
{
    uint8_t a[16];
    ip("192.0.2.7", a);
    ck_assert(gw_ip_is_v4(a));
    ck_assert_uint_eq(a[12], 192);
    ck_assert_uint_eq(a[15], 7);
    ip("2001:db8::1", a);
    ck_assert(!gw_ip_is_v4(a));
    ck_assert_uint_eq(a[0], 0x20);
    ck_assert_uint_eq(a[15], 1);
    ip("::ffff:10.1.2.3", a); /* the IPv4-mapped form is the IPv4 address */
    ck_assert(gw_ip_is_v4(a));
    ck_assert(!gw_ip_parse("10.1.2", 6, a));
    ck_assert(!gw_ip_parse("unknown", 7, a));
    ck_assert(!gw_ip_parse("", 0, a));
    ck_assert(!gw_ip_parse("1.2.3.4 ", 8, a));
}
END_TEST

START_TEST(blocks)
{
    struct gw_cidr c;
    char reason[128];
    uint8_t a[16];
    ck_assert(gw_cidr_parse("10.0.0.0/8", &c, reason, sizeof(reason)));
    ck_assert_uint_eq(c.prefix, 104);
    ip("10.255.1.2", a);
    ck_assert(gw_cidr_contains(&c, a));
    ip("11.0.0.1", a);
    ck_assert(!gw_cidr_contains(&c, a));
    ip("::a00:1", a); /* an IPv6 address is not in an IPv4 block */
    ck_assert(!gw_cidr_contains(&c, a));
    ck_assert(gw_cidr_parse("172.16.0.0/12", &c, reason, sizeof(reason)));
    ip("172.31.255.255", a);
    ck_assert(gw_cidr_contains(&c, a));
    ip("172.32.0.0", a);
    ck_assert(!gw_cidr_contains(&c, a));
    ck_assert(gw_cidr_parse("fd00::/8", &c, reason, sizeof(reason)));
    ip("fdab::1", a);
    ck_assert(gw_cidr_contains(&c, a));
    ck_assert(gw_cidr_parse("127.0.0.1", &c, reason, sizeof(reason)));
    ck_assert_uint_eq(c.prefix, 128);
    ck_assert(gw_cidr_parse("0.0.0.0/0", &c, reason, sizeof(reason)));
    ip("8.8.8.8", a);
    ck_assert(gw_cidr_contains(&c, a));
    ck_assert(gw_cidr_parse("::/0", &c, reason, sizeof(reason)));
    ip("2001:db8::1", a);
    ck_assert(gw_cidr_contains(&c, a));

    ck_assert(!gw_cidr_parse("10.0.0.1/8", &c, reason, sizeof(reason)));
    ck_assert_str_eq(reason, "host bits are set past the /8 prefix (write the block's first "
                             "address)");
    ck_assert(!gw_cidr_parse("10.0.0.0/33", &c, reason, sizeof(reason)));
    ck_assert(!gw_cidr_parse("fd00::/129", &c, reason, sizeof(reason)));
    ck_assert_str_eq(reason, "expected a prefix length from 0 to 128 after '/'");
    ck_assert(!gw_cidr_parse("10.0.0.0/", &c, reason, sizeof(reason)));
    ck_assert(!gw_cidr_parse("10.0.0.0/8x", &c, reason, sizeof(reason)));
    ck_assert(!gw_cidr_parse("host/8", &c, reason, sizeof(reason)));
    ck_assert_str_eq(reason, "'host' is not an IPv4 or IPv6 address");
}
END_TEST

/* The paper's own test vector (appendix A) and the first of the reference implementation's
 * vectors: key 00 01 .. 0f, message 00 01 .. (len - 1). */
START_TEST(siphash_vectors)
{
    uint8_t key[16], msg[64];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    for (int i = 0; i < 64; i++)
        msg[i] = (uint8_t)i;
    ck_assert_uint_eq(gw_siphash(key, msg, 15), 0xa129ca6149be45e5ULL);
    ck_assert_uint_eq(gw_siphash(key, msg, 0), 0x726fdb47dd0e0e31ULL);
    /* Fed in pieces of every size, the hash is the same. */
    for (size_t len = 0; len <= 64; len++) {
        uint64_t whole = gw_siphash(key, msg, len);
        for (size_t cut = 0; cut <= len; cut++) {
            struct gw_siphash h;
            gw_siphash_init(&h, key);
            gw_siphash_add(&h, msg, cut);
            gw_siphash_add(&h, msg + cut, len - cut);
            ck_assert_uint_eq(gw_siphash_end(&h), whole);
        }
    }
    /* Another key, another hash. */
    key[0] = 1;
    ck_assert_uint_ne(gw_siphash(key, msg, 15), 0xa129ca6149be45e5ULL);
}
END_TEST

Suite *cidr_suite(void)
{
    Suite *s = suite_create("cidr");
    TCase *tc = tcase_create("cidr");
    tcase_add_test(tc, addresses);
    tcase_add_test(tc, blocks);
    tcase_add_test(tc, siphash_vectors);
    suite_add_tcase(s, tc);
    return s;
}
