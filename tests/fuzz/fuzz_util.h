/* fuzz_util.h - small helpers shared by the libFuzzer harnesses in tests/fuzz/.
 *
 * Each harness is one LLVMFuzzerTestOneInput over library code only (core/, routes/); nothing here
 * touches a socket. Buffers handed to functions that take (pointer, length) are exact-length heap
 * copies without a terminating NUL, so AddressSanitizer sees any read past the length.
 */
#ifndef ENOKI_FUZZ_UTIL_H
#define ENOKI_FUZZ_UTIL_H

#include "core/config.h"
#include "core/json.h"
#include "core/status.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A property every input must keep; a failure is a crash libFuzzer records as an artifact. */
#define FUZZ_ASSERT(cond)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: fuzz property failed: %s\n", __FILE__, __LINE__, #cond);       \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The fixed configuration a harness runs against, loaded once in LLVMFuzzerInitialize; a config
 * that does not load is the harness's own bug, so it aborts naming it. */
static inline struct gw_config *fuzz_load_config(const char *harness, const char *yaml)
{
    struct gw_config *config = NULL;
    char err[256];
    if (gw_config_load_string("fuzz.yaml", yaml, strlen(yaml), NULL, 0, &config, err,
                              sizeof(err)) != GW_OK) {
        fprintf(stderr, "%s: %s\n", harness, err);
        abort();
    }
    return config;
}

/* A borrowed slice of the input. */
struct fuzz_slice {
    const char *p;
    size_t n;
};

/* Returns a new exact-length copy of s[0..n) with no NUL after it (free with free). */
static inline char *fuzz_copy(const char *s, size_t n)
{
    char *copy = malloc(n ? n : 1);
    if (!copy)
        abort();
    if (n)
        memcpy(copy, s, n);
    return copy;
}

/* Returns a new C string of s[0..n), cut at the first NUL as a C API would see it. */
static inline char *fuzz_cstr(const char *s, size_t n)
{
    const char *nul = memchr(s, '\0', n);
    size_t len = nul ? (size_t)(nul - s) : n;
    char *copy = malloc(len + 1);
    if (!copy)
        abort();
    if (len)
        memcpy(copy, s, len);
    copy[len] = '\0';
    return copy;
}

/* Takes the next line off *rest (without its '\n'); returns 0 when nothing is left. */
static inline int fuzz_next_line(struct fuzz_slice *rest, struct fuzz_slice *line)
{
    if (rest->n == 0)
        return 0;
    const char *nl = memchr(rest->p, '\n', rest->n);
    size_t len = nl ? (size_t)(nl - rest->p) : rest->n;
    line->p = rest->p;
    line->n = len;
    rest->p += nl ? len + 1 : len;
    rest->n -= nl ? len + 1 : len;
    return 1;
}

/* Decodes JSON text enoki wrote, as Python's json.loads reads it: NUL characters are allowed, and
 * NaN, the infinities and integers beyond 64 bits (which json.dumps writes, and enoki carries) are
 * read by enoki's lenient reader, into the carried numbers they came from. */
static inline json_t *fuzz_json_reread(const char *text, size_t len)
{
    json_error_t error;
    json_t *v = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &error);
    if (!v)
        v = gw_json_decode_lenient(text, len, NULL);
    if (!v)
        fprintf(stderr, "enoki wrote JSON that does not read back (%s): %.*s\n", error.text,
                (int)(len > 400 ? 400 : len), text);
    return v;
}

/* A deep copy of v (a new reference) in which every string, carried numbers included, is replaced
 * by what leaf makes of it (a new reference). */
static inline json_t *fuzz_json_map_strings(const json_t *v, json_t *(*leaf)(const json_t *))
{
    if (json_is_string(v))
        return leaf(v);
    json_t *out = json_is_array(v) ? json_array() : json_is_object(v) ? json_object() : NULL;
    if (!out)
        return json_copy((json_t *)(uintptr_t)v);
    for (size_t i = 0; json_is_array(v) && i < json_array_size(v); i++)
        json_array_append_new(out, fuzz_json_map_strings(json_array_get(v, i), leaf));
    const char *key;
    json_t *member;
    if (json_is_object(v))
        json_object_foreach((json_t *)(uintptr_t)v, key, member)
            json_object_set_new(out, key, fuzz_json_map_strings(member, leaf));
    return out;
}

/* A carried NaN or infinity as an HTTP client reads it from enoki's strict JSON: null. */
static inline json_t *fuzz_non_finite_as_null(const json_t *s)
{
    size_t n;
    const char *carried = gw_json_carried_text(s, &n);
    return carried && gw_json_carried_non_finite(carried, n) ? json_null()
                                                             : json_copy((json_t *)(uintptr_t)s);
}

/* v as an HTTP client reads it back from enoki's strict JSON (a new reference): a carried NaN or
 * infinity becomes null there, as a real NaN would; a big integer keeps its digits. */
static inline json_t *fuzz_json_as_http(const json_t *v)
{
    return fuzz_json_map_strings(v, fuzz_non_finite_as_null);
}

#endif
