#include "idem_key.h"

#include "core/status.h"
#include "core/xalloc.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_bare_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("-._~:+/=", c) != NULL);
}

static int fail(char *err, size_t errlen, const char *message)
{
    snprintf(err, errlen, "%s", message);
    return GW_EARGS;
}

/* RFC 8941's sf-string after its opening quote: printable ASCII, \" and \\ the only escapes. */
static int parse_string(const char *p, const char *end, char *out, size_t *n, char *err,
                        size_t errlen)
{
    char message[160];
    for (; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') {
            p++;
            if (p == end)
                return GW_OK;
            return fail(err, errlen,
                        *p == ';' ? "the Idempotency-Key has parameters, which enoki does not take"
                                  : "the Idempotency-Key has text after its closing quote");
        }
        if (c == '\\') {
            p++;
            if (p == end || (*p != '"' && *p != '\\'))
                return fail(err, errlen,
                            "the Idempotency-Key has a bad escape: only \\\" and \\\\ are allowed");
            c = (unsigned char)*p;
        } else if (c < 0x20 || c > 0x7e) {
            snprintf(message, sizeof(message),
                     "the Idempotency-Key holds the byte 0x%02x: a key is printable ASCII", c);
            return fail(err, errlen, message);
        }
        if (*n == GW_IDEM_KEY_MAX)
            goto too_long;
        out[(*n)++] = (char)c;
    }
    return fail(err, errlen, "the Idempotency-Key's quoted string has no closing quote");
too_long:
    snprintf(message, sizeof(message), "the Idempotency-Key is longer than %d bytes",
             GW_IDEM_KEY_MAX);
    return fail(err, errlen, message);
}

int gw_idem_key_parse(const char *value, size_t len, char *out, size_t out_cap, size_t *out_len,
                      char *err, size_t errlen)
{
    char message[200];
    const char *p = value;
    const char *end = value + len;
    *out_len = 0;
    if (out_cap < GW_IDEM_KEY_MAX + 1)
        return fail(err, errlen, "no room for the Idempotency-Key");
    out[0] = '\0';
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    size_t n = 0;
    int status = GW_OK;
    if (p < end && *p == '"') {
        status = parse_string(p + 1, end, out, &n, err, errlen);
    } else {
        for (const char *q = p; q < end; q++) {
            unsigned char c = (unsigned char)*q;
            if (is_bare_char(c))
                continue;
            if (c >= 0x20 && c <= 0x7e)
                snprintf(message, sizeof(message),
                         "the Idempotency-Key holds '%c', which a bare key may not: send the key "
                         "as a quoted string (\"...\")",
                         c);
            else
                snprintf(message, sizeof(message),
                         "the Idempotency-Key holds the byte 0x%02x: a key is printable ASCII", c);
            return fail(err, errlen, message);
        }
        if ((size_t)(end - p) > GW_IDEM_KEY_MAX) {
            snprintf(message, sizeof(message), "the Idempotency-Key is longer than %d bytes",
                     GW_IDEM_KEY_MAX);
            return fail(err, errlen, message);
        }
        n = (size_t)(end - p);
        memcpy(out, p, n);
    }
    if (status != GW_OK)
        return status;
    if (n == 0)
        return fail(err, errlen, "the Idempotency-Key is empty");
    out[n] = '\0';
    *out_len = n;
    return GW_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Digests
 */

struct gw_idem_hasher {
    /* Fetched once: OpenSSL 3's one-shot SHA256() looks the algorithm up on every call. */
    EVP_MD *sha256;
    EVP_MD_CTX *ctx;
    uint8_t secret[GW_IDEM_DIGEST_LEN];
};

struct gw_idem_hasher *gw_idem_hasher_new(const uint8_t *secret)
{
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!md || !ctx) {
        EVP_MD_free(md);
        EVP_MD_CTX_free(ctx);
        return NULL;
    }
    struct gw_idem_hasher *h = xcalloc(1, sizeof(*h));
    h->sha256 = md;
    h->ctx = ctx;
    memcpy(h->secret, secret, sizeof(h->secret));
    return h;
}

void gw_idem_hasher_free(struct gw_idem_hasher *h)
{
    if (!h)
        return;
    EVP_MD_CTX_free(h->ctx);
    EVP_MD_free(h->sha256);
    OPENSSL_cleanse(h->secret, sizeof(h->secret));
    free(h);
}

/* A part of the input: its length (8 bytes, big-endian), then its bytes. */
static void update_part(struct gw_idem_hasher *h, const void *data, size_t len)
{
    uint8_t prefix[8];
    uint64_t n = len;
    for (int i = 7; i >= 0; i--) {
        prefix[i] = (uint8_t)(n & 0xff);
        n >>= 8;
    }
    EVP_DigestUpdate(h->ctx, prefix, sizeof(prefix));
    if (len)
        EVP_DigestUpdate(h->ctx, data, len);
}

static void update_string(struct gw_idem_hasher *h, const char *s)
{
    /* NULL (none) and "" differ: a marker byte says which. */
    uint8_t present = s ? 1 : 0;
    EVP_DigestUpdate(h->ctx, &present, 1);
    update_part(h, s ? s : "", s ? strlen(s) : 0);
}

static void final(struct gw_idem_hasher *h, uint8_t out[GW_IDEM_DIGEST_LEN])
{
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(h->ctx, out, &n) != 1 || n != GW_IDEM_DIGEST_LEN)
        abort(); /* SHA-256 was fetched: it cannot fail on memory it already has */
}

void gw_idem_id(struct gw_idem_hasher *h, const char *key, size_t key_len, const char *route,
                const char *identity, uint8_t out[GW_IDEM_DIGEST_LEN])
{
    if (EVP_DigestInit_ex2(h->ctx, h->sha256, NULL) != 1)
        abort();
    EVP_DigestUpdate(h->ctx, h->secret, sizeof(h->secret));
    update_part(h, key, key_len);
    update_string(h, route);
    update_string(h, identity);
    final(h, out);
}

void gw_idem_fingerprint(struct gw_idem_hasher *h, const char *method, const char *target,
                         const char *content_type, const char *body, size_t body_len,
                         uint8_t out[GW_IDEM_DIGEST_LEN])
{
    if (EVP_DigestInit_ex2(h->ctx, h->sha256, NULL) != 1)
        abort();
    update_string(h, method);
    update_string(h, target);
    update_string(h, content_type);
    update_part(h, body, body ? body_len : 0);
    final(h, out);
}
