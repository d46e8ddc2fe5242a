/* siphash.h - SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012), a
 * keyed 64-bit hash: with a random key, nobody who does not know it can make inputs collide, so a
 * table keyed by client-chosen strings (routes/rate_store) cannot be flooded into long chains.
 * Pure. */
#ifndef ENOKI_SIPHASH_H
#define ENOKI_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* An input fed in pieces: gw_siphash_init, gw_siphash_add as often as needed, gw_siphash_end. */
struct gw_siphash {
    uint64_t v0, v1, v2, v3;
    uint64_t tail; /* the bytes of an unfinished 8-byte word, little-endian */
    size_t len;    /* bytes added so far */
};

void gw_siphash_init(struct gw_siphash *h, const uint8_t key[16]);
void gw_siphash_add(struct gw_siphash *h, const void *data, size_t len);
uint64_t gw_siphash_end(struct gw_siphash *h);

/* The hash of one buffer. */
uint64_t gw_siphash(const uint8_t key[16], const void *data, size_t len);

#endif
