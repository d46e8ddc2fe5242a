/* fuzz_ws_frame - libFuzzer harness for nameko's websocket frame protocol (routes/ws): a client
 * frame is parsed, and the frames the hub answers with are built from what was parsed.
 *
 * The input is one websocket text message. When it parses, the hub's answers are built from it: a
 * result frame carrying its data, error frames (IncorrectSignature with a message naming the
 * method, MethodNotFound, an error whose exc_args are the data), and an event frame on the data's
 * "channel". Each must read back as JSON carrying exactly the values it was built from.
 *
 * The same bytes as a binary message (json.loads of bytes): what gw_utf8_from_json_bytes makes of
 * them is UTF-8, and the binary parse agrees with the text parse on UTF-8 that neither a BOM nor
 * a NUL among its first bytes marks as another encoding.
 */
#include "fuzz_util.h"

#include "core/status.h"
#include "core/utf8.h"
#include "routes/ws.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* nameko's error object: every member there, with its type, whatever text it was built from. */
static void check_error(const json_t *error)
{
    FUZZ_ASSERT(json_is_object(error));
    FUZZ_ASSERT(json_is_string(json_object_get(error, "exc_type")));
    FUZZ_ASSERT(json_is_string(json_object_get(error, "exc_path")));
    FUZZ_ASSERT(json_is_array(json_object_get(error, "exc_args")));
    FUZZ_ASSERT(json_is_string(json_object_get(error, "value")));
}

/* Reads a frame back and checks one member against what was put in. */
static void check_frame(char *frame, size_t len, const char *type, const char *key,
                        const json_t *want, const json_t *correlation_id)
{
    FUZZ_ASSERT(frame != NULL && strlen(frame) == len);
    json_t *back = fuzz_json_reread(frame, len);
    FUZZ_ASSERT(json_is_object(back));
    const char *got_type = json_string_value(json_object_get(back, "type"));
    FUZZ_ASSERT(got_type != NULL && strcmp(got_type, type) == 0);
    if (key)
        FUZZ_ASSERT(json_equal(json_object_get(back, key), want));
    if (correlation_id)
        FUZZ_ASSERT(json_equal(json_object_get(back, "correlation_id"), correlation_id));
    json_decref(back);
    free(frame);
}

/* The binary reading of the input, checked against the text reading (rc, r). */
static void check_binary(const uint8_t *data, size_t size, int rc, const struct gw_ws_request *r)
{
    size_t decoded_len;
    char *decoded = gw_utf8_from_json_bytes((const char *)data, size, &decoded_len);
    FUZZ_ASSERT(!decoded || gw_utf8_valid(decoded, decoded_len));
    free(decoded);
    struct gw_ws_request b;
    int brc = gw_ws_parse_binary((const char *)data, size, &b);
    FUZZ_ASSERT(brc == GW_OK || (brc == GW_EJSON && b.method == NULL && b.data == NULL));
    bool plain = size >= 4 ? data[0] && data[1] && !(data[0] == 0xEF && data[1] == 0xBB)
                           : size != 2 || (data[0] && data[1]);
    bool bom =
        size >= 2 && ((data[0] == 0xFF && data[1] == 0xFE) || (data[0] == 0xFE && data[1] == 0xFF));
    if (plain && !bom && gw_utf8_valid((const char *)data, size)) {
        FUZZ_ASSERT(brc == rc);
        if (rc == GW_OK) {
            FUZZ_ASSERT(strcmp(b.method, r->method) == 0);
            FUZZ_ASSERT(json_equal(b.data, r->data));
            FUZZ_ASSERT(json_equal(b.correlation_id, r->correlation_id));
        }
    }
    if (brc == GW_OK)
        gw_ws_request_clear(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_copy((const char *)data, size);
    struct gw_ws_request r;
    int rc = gw_ws_parse(text, size, &r);
    free(text);
    check_binary(data, size, rc, &r);
    size_t len;
    if (rc != GW_OK) {
        FUZZ_ASSERT(rc == GW_EJSON);
        FUZZ_ASSERT(r.method == NULL && r.data == NULL && r.correlation_id == NULL);
        json_t *error = gw_ws_malformed_error();
        check_error(error);
        check_frame(gw_ws_error_frame(error, NULL, &len), len, "result", "error", error, NULL);
        json_decref(error);
        return 0;
    }
    FUZZ_ASSERT(r.method && r.data && r.correlation_id);
    FUZZ_ASSERT(gw_json_truthy(r.data) || json_is_object(r.data));

    check_frame(gw_ws_result_frame(r.data, r.correlation_id, &len), len, "result", "data", r.data,
                r.correlation_id);

    /* The hub quotes the method in its IncorrectSignature messages, in a fixed-size buffer. */
    char message[256];
    snprintf(message, sizeof(message), "%s() got an unexpected keyword argument '%s'", r.method,
             r.method);
    json_t *errors[] = {
        gw_ws_incorrect_signature(message),
        gw_ws_method_not_found(),
        gw_nameko_error("TypeError", "builtins.TypeError", json_pack("[O]", r.data), r.method),
    };
    for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
        check_error(errors[i]);
        check_frame(gw_ws_error_frame(errors[i], r.correlation_id, &len), len, "result", "error",
                    errors[i], r.correlation_id);
        json_decref(errors[i]);
    }

    const char *channel = json_string_value(json_object_get(r.data, "channel"));
    json_t *event = json_string(r.method);
    check_frame(gw_ws_event_frame(event, r.data, channel, &len), len, "event", "data", r.data,
                NULL);
    json_decref(event);

    gw_ws_request_clear(&r);
    FUZZ_ASSERT(r.method == NULL && r.data == NULL && r.correlation_id == NULL);
    return 0;
}
