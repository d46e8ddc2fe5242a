/* Unit tests for core/random: bytes come, differ from draw to draw, and across the pool's refills.
 */
#include "core/random.h"

#include <stdbool.h>

#include "tests/unit/suites.h"

#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

START_TEST(draws_differ)
{
    unsigned char a[24], b[24], zero[24] = {0};
    gw_random_fill(a, sizeof(a));
    gw_random_fill(b, sizeof(b));
    ck_assert(memcmp(a, b, sizeof(a)) != 0);
    ck_assert(memcmp(a, zero, sizeof(a)) != 0);
}
END_TEST

START_TEST(across_refills)
{
    /* More than the pool holds, in one draw and in many: every 8-byte id different. */
    static unsigned char big[10000];
    gw_random_fill(big, sizeof(big));
    static unsigned char ids[1000][8];
    for (size_t i = 0; i < 1000; i++)
        gw_random_fill(ids[i], sizeof(ids[i]));
    for (size_t i = 0; i < 1000; i++)
        for (size_t j = i + 1; j < 1000; j++)
            ck_assert(memcmp(ids[i], ids[j], sizeof(ids[i])) != 0);
    size_t zeros = 0;
    for (size_t i = 0; i < sizeof(big); i++)
        zeros += big[i] == 0;
    ck_assert_uint_lt(zeros, 200); /* about 39 expected */
    gw_random_fill(big, 0);
}
END_TEST

/* Two children forked from a parent whose pool holds bytes: the 16 bytes each draws first. */
static void draw_in_children(bool after_fork, unsigned char out[2][16])
{
    unsigned char warm[8];
    gw_random_fill(warm, sizeof(warm)); /* the pool now holds bytes both children inherit */
    for (int c = 0; c < 2; c++) {
        int fds[2];
        ck_assert_int_eq(pipe(fds), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            unsigned char id[16];
            if (after_fork)
                gw_random_after_fork();
            gw_random_fill(id, sizeof(id));
            _exit(write(fds[1], id, sizeof(id)) == (ssize_t)sizeof(id) ? 0 : 1);
        }
        close(fds[1]);
        ck_assert_int_eq(read(fds[0], out[c], 16), 16);
        close(fds[0]);
        int status = 0;
        waitpid(pid, &status, 0);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
}

START_TEST(forked_children_draw_apart)
{
    unsigned char ids[2][16];
    /* Without the reset the children draw their parent's bytes: the same ids (uuids, queue names)
     * in every worker. */
    draw_in_children(false, ids);
    ck_assert(memcmp(ids[0], ids[1], 16) == 0);
    draw_in_children(true, ids);
    ck_assert(memcmp(ids[0], ids[1], 16) != 0);
}
END_TEST

Suite *random_suite(void)
{
    Suite *s = suite_create("random");
    TCase *tc = tcase_create("fill");
    tcase_add_test(tc, draws_differ);
    tcase_add_test(tc, across_refills);
    tcase_add_test(tc, forked_children_draw_apart);
    suite_add_tcase(s, tc);
    return s;
}
