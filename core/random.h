/* random.h - random bytes for ids that need no syscall each: a per-thread pool filled 4 KiB at a
 * time from OpenSSL's CSPRNG (its DRBG, seeded by the kernel and reseeded after a fork), so an id
 * costs a copy. Trace and span ids (routes/trace_context.h) and uuid4s (core/wire.h) come from
 * here. */
#ifndef ENOKI_RANDOM_H
#define ENOKI_RANDOM_H

#include <stddef.h>

/* Fills out[0..len) with random bytes. Never fails: when OpenSSL cannot give
 * bytes, the kernel's getrandom does. */
void gw_random_fill(void *out, size_t len);

/* In a child after fork: drops the bytes the pool still holds (its parent's, which every sibling
 * would draw too); the next draw refills from OpenSSL, whose DRBG reseeds after a fork. */
void gw_random_after_fork(void);

#endif
