#include "core/siphash.h"

static uint64_t rotl(uint64_t x, unsigned b)
{
    return (x << b) | (x >> (64 - b));
}

static uint64_t load64(const uint8_t *p)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void sipround(struct gw_siphash *h)
{
    h->v0 += h->v1;
    h->v1 = rotl(h->v1, 13);
    h->v1 ^= h->v0;
    h->v0 = rotl(h->v0, 32);
    h->v2 += h->v3;
    h->v3 = rotl(h->v3, 16);
    h->v3 ^= h->v2;
    h->v0 += h->v3;
    h->v3 = rotl(h->v3, 21);
    h->v3 ^= h->v0;
    h->v2 += h->v1;
    h->v1 = rotl(h->v1, 17);
    h->v1 ^= h->v2;
    h->v2 = rotl(h->v2, 32);
}

/* One 8-byte word through the two compression rounds. */
static void compress(struct gw_siphash *h, uint64_t m)
{
    h->v3 ^= m;
    sipround(h);
    sipround(h);
    h->v0 ^= m;
}

void gw_siphash_init(struct gw_siphash *h, const uint8_t key[16])
{
    uint64_t k0 = load64(key), k1 = load64(key + 8);
    h->v0 = k0 ^ 0x736f6d6570736575ULL;
    h->v1 = k1 ^ 0x646f72616e646f6dULL;
    h->v2 = k0 ^ 0x6c7967656e657261ULL;
    h->v3 = k1 ^ 0x7465646279746573ULL;
    h->tail = 0;
    h->len = 0;
}

void gw_siphash_add(struct gw_siphash *h, const void *data, size_t len)
{
    const uint8_t *p = data;
    /* Finish the word a previous piece left open. */
    while (len > 0 && (h->len % 8) != 0) {
        h->tail |= (uint64_t)*p++ << (8 * (h->len % 8));
        h->len++;
        len--;
        if (h->len % 8 == 0) {
            compress(h, h->tail);
            h->tail = 0;
        }
    }
    for (; len >= 8; len -= 8, p += 8, h->len += 8)
        compress(h, load64(p));
    for (; len > 0; len--, h->len++)
        h->tail |= (uint64_t)*p++ << (8 * (h->len % 8));
}

uint64_t gw_siphash_end(struct gw_siphash *h)
{
    compress(h, h->tail | ((uint64_t)(h->len & 0xff) << 56));
    h->v2 ^= 0xff;
    for (int i = 0; i < 4; i++)
        sipround(h);
    return h->v0 ^ h->v1 ^ h->v2 ^ h->v3;
}

uint64_t gw_siphash(const uint8_t key[16], const void *data, size_t len)
{
    struct gw_siphash h;
    gw_siphash_init(&h, key);
    gw_siphash_add(&h, data, len);
    return gw_siphash_end(&h);
}
