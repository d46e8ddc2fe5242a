/* fuzz_idempotency_key - libFuzzer harness for routes/idem_key's gw_idem_key_parse.
 *
 * The input is an Idempotency-Key field value, read from an exact-length heap copy. Properties:
 * never a crash or a read past the value; a key read is 1 to GW_IDEM_KEY_MAX bytes of printable
 * ASCII and NUL-terminated; written back as an sf-string (with \" and \\ escapes) it reads as the
 * same key, and so does its bare form when every byte may be bare; a refusal says why and gives no
 * key.
 */
#include "fuzz_util.h"

#include "routes/idem_key.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static bool all_bare(const char *key, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)key[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  strchr("-._~:+/=", c) != NULL;
        if (!ok || c == '\0')
            return false;
    }
    return true;
}

static void reads_as(const char *field, size_t len, const char *key, size_t key_len)
{
    char again[GW_IDEM_KEY_MAX + 1];
    char err[256];
    size_t again_len = 0;
    char *copy = malloc(len ? len : 1);
    memcpy(copy, field, len);
    FUZZ_ASSERT(gw_idem_key_parse(copy, len, again, sizeof(again), &again_len, err, sizeof(err)) ==
                GW_OK);
    FUZZ_ASSERT(again_len == key_len && memcmp(again, key, key_len) == 0);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *value = malloc(size ? size : 1);
    memcpy(value, data, size);
    char key[GW_IDEM_KEY_MAX + 1];
    char err[256] = "";
    size_t len = 12345;
    int status = gw_idem_key_parse(value, size, key, sizeof(key), &len, err, sizeof(err));
    free(value);
    if (status != GW_OK) {
        FUZZ_ASSERT(status == GW_EARGS);
        FUZZ_ASSERT(err[0] != '\0');
        FUZZ_ASSERT(len == 0);
        return 0;
    }
    FUZZ_ASSERT(len >= 1 && len <= GW_IDEM_KEY_MAX);
    FUZZ_ASSERT(key[len] == '\0');
    for (size_t i = 0; i < len; i++)
        FUZZ_ASSERT(key[i] >= 0x20 && key[i] <= 0x7e);
    /* As an sf-string. */
    char quoted[2 * GW_IDEM_KEY_MAX + 2];
    size_t n = 0;
    quoted[n++] = '"';
    for (size_t i = 0; i < len; i++) {
        if (key[i] == '"' || key[i] == '\\')
            quoted[n++] = '\\';
        quoted[n++] = key[i];
    }
    quoted[n++] = '"';
    reads_as(quoted, n, key, len);
    if (all_bare(key, len))
        reads_as(key, len, key, len);
    return 0;
}
