#include "random.h"

#include <openssl/rand.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>

enum { POOL_SIZE = 4096 };

/* A 24-byte trace draws on the pool about 170 times per refill. The pool is per thread (the loop
 * thread is the only one that asks). A forked worker (GATEWAY.workers) would share the bytes left
 * in its parent's pool with its siblings: gw_random_after_fork drops them. */
static _Thread_local unsigned char pool[POOL_SIZE];
static _Thread_local size_t left;

static void refill(void)
{
    if (RAND_bytes(pool, POOL_SIZE) != 1) {
        size_t got = 0;
        while (got < POOL_SIZE) {
            ssize_t n = getrandom(pool + got, POOL_SIZE - got, 0);
            if (n > 0)
                got += (size_t)n; /* else interrupted, or the kernel's pool not seeded yet */
        }
    }
    left = POOL_SIZE;
}

void gw_random_fill(void *out, size_t len)
{
    unsigned char *to = out;
    while (len > 0) {
        if (left == 0)
            refill();
        size_t n = len < left ? len : left;
        unsigned char *from = pool + POOL_SIZE - left;
        memcpy(to, from, n);
        memset(from, 0, n); /* used bytes do not linger */
        left -= n;
        to += n;
        len -= n;
    }
}

void gw_random_after_fork(void)
{
    memset(pool, 0, sizeof(pool));
    left = 0;
}
