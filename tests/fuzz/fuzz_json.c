/* fuzz_json - libFuzzer harness for core/json_decode, against jansson.
 *
 * The input is one JSON text (an exact-length heap copy). enoki's reader and jansson's json_loadb
 * (JSON_DECODE_ANY) must agree: both refuse it, or both decode it to equal values (json_equal:
 * integers stay integers, reals reals, objects with the same members). Texts holding a NUL byte
 * are left out of the comparison (jansson 2.14 takes a NUL right after a final number for the end
 * of the input; enoki refuses every NUL: tests/unit/core/test_json_decode.c), though still decoded.
 * A decoded value must also encode and decode back to itself. The lenient reader must take what the
 * strict one takes, to the same value, and its values (carried numbers too) must be written as
 * UTF-8 that reads back to themselves. Properties: never a crash, a leak or a read past the input.
 */
#include "fuzz_util.h"

#include "core/json.h"
#include "core/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = fuzz_copy((const char *)data, size);
    json_error_t ours_error;
    json_t *ours = gw_json_decode(copy, size, &ours_error);
    if (!memchr(copy, '\0', size)) {
        json_t *theirs = json_loadb(copy, size, JSON_DECODE_ANY, NULL);
        FUZZ_ASSERT(!ours == !theirs);
        FUZZ_ASSERT(!ours || json_equal(ours, theirs));
        json_decref(theirs);
    }
    if (ours) {
        size_t len;
        char *text = gw_json_encode(ours, GW_JSON_COMPACT, &len);
        json_t *again = gw_json_decode(text, len, NULL);
        /* Reals are written in their shortest round-trip form: the same double comes back. */
        FUZZ_ASSERT(again && json_equal(ours, again));
        json_decref(again);
        free(text);
    } else {
        FUZZ_ASSERT(ours_error.text[0] != '\0');
    }
    /* Leniently: whatever the strict reader takes, the same value; and what it writes in
     * json.dumps' style (carried numbers as json.dumps writes them) is UTF-8 that reads back to
     * the same value. */
    json_t *lenient = gw_json_decode_lenient(copy, size, NULL);
    FUZZ_ASSERT(!ours || (lenient && json_equal(ours, lenient)));
    if (lenient) {
        size_t len;
        char *text = gw_json_encode(lenient, GW_JSON_PYTHON, &len);
        FUZZ_ASSERT(gw_utf8_valid(text, len));
        json_t *again = gw_json_decode_lenient(text, len, NULL);
        FUZZ_ASSERT(again && json_equal(lenient, again));
        json_decref(again);
        free(text);
    }
    json_decref(lenient);
    /* A request body: what jansson takes with JSON_REJECT_DUPLICATES, to the same value; more only
     * where jansson met an integer beyond 64 bits. */
    if (!memchr(copy, '\0', size)) {
        json_error_t jerr;
        json_t *theirs = json_loadb(copy, size, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
        json_t *body = gw_json_decode_body(copy, size, NULL);
        FUZZ_ASSERT(!theirs || (body && json_equal(theirs, body)));
        FUZZ_ASSERT(!body || theirs || json_error_code(&jerr) == json_error_numeric_overflow);
        json_decref(theirs);
        json_decref(body);
    }
    json_decref(ours);
    free(copy);
    return 0;
}
