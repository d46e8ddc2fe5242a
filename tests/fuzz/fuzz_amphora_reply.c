/* fuzz_amphora_reply - libFuzzer harness for an amphora reply (core/amphora_wire) and the answers
 * built from it.
 *
 * The input is an AMQP reply body, {"result": x} or {"exception": {"type": T, "args": [...]}}. A
 * result becomes a 200 that reads back as the same value; an exception becomes an error shaped as
 * nameko's (exc_type T, exc_path null, exc_args the args, value a string) and json mode's, @http's
 * and the hub's answers to it; anything else is a BadReply with a reason.
 */
#include "fuzz_util.h"

#include "core/amphora_wire.h"
#include "core/config.h"
#include "core/status.h"
#include "core/wire.h"
#include "routes/http_mode.h"
#include "routes/respond.h"
#include "routes/ws.h"

#include <stdlib.h>
#include <string.h>

static const char config_yaml[] = "GATEWAY:\n"
                                  "  name: fuzz\n"
                                  "  errors:\n"
                                  "    ValueError: 422\n";

static struct gw_config *config;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    config = fuzz_load_config("fuzz_amphora_reply", config_yaml);
    return 0;
}

static void check_response(struct gw_response *r)
{
    FUZZ_ASSERT(r->status >= 100 && r->status <= 999);
    json_t *back = fuzz_json_reread(r->body, r->body_len);
    FUZZ_ASSERT(back != NULL || strncmp(r->content_type ? r->content_type : "", "text", 4) == 0);
    json_decref(back);
    gw_response_clear(r);
}

static void on_error(const json_t *error)
{
    FUZZ_ASSERT(json_is_object(error));
    FUZZ_ASSERT(json_is_string(json_object_get(error, "exc_type")));
    FUZZ_ASSERT(json_is_null(json_object_get(error, "exc_path")));
    FUZZ_ASSERT(json_is_array(json_object_get(error, "exc_args")));
    FUZZ_ASSERT(json_is_string(json_object_get(error, "value")));
    for (int generic = 0; generic < 2; generic++) {
        struct gw_response r;
        gw_respond_call_error(GW_EREMOTE, error, gw_wire_exc_type(error), "svc.f", 30,
                              "fuzz.http.id", config, generic, &r);
        FUZZ_ASSERT(r.status == 500 || r.status == 422 || r.status == 502 || r.status == 404);
        check_response(&r);
    }
    struct gw_response r;
    gw_http_respond_error(GW_EREMOTE, error, gw_wire_exc_type(error), "svc.f", 30, NULL, &r);
    gw_response_clear(&r);
    size_t len;
    char *frame = gw_ws_error_frame(error, NULL, &len);
    json_t *back = fuzz_json_reread(frame, len);
    FUZZ_ASSERT(back != NULL && json_equal(json_object_get(back, "error"), error));
    json_decref(back);
    free(frame);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *body = fuzz_copy((const char *)data, size);
    json_t *result = (json_t *)1, *error = (json_t *)1;
    char why[256];
    int rc = gw_amphora_reply_decode(body, size, &result, &error, why, sizeof(why));
    free(body);
    if (rc != GW_OK) {
        FUZZ_ASSERT(rc == GW_EBADREPLY && result == NULL && error == NULL);
        FUZZ_ASSERT(memchr(why, '\0', sizeof(why)) != NULL);
        struct gw_response r;
        gw_respond_call_error(GW_EBADREPLY, NULL, why, "svc.f", 30, NULL, config, false, &r);
        FUZZ_ASSERT(r.status == 502);
        check_response(&r);
        return 0;
    }
    FUZZ_ASSERT((result == NULL) != (error == NULL));
    if (error) {
        on_error(error);
    } else {
        struct gw_response r;
        gw_respond_result(result, &r);
        json_t *back = fuzz_json_reread(r.body, r.body_len);
        json_t *want = fuzz_json_as_http(result);
        FUZZ_ASSERT(back != NULL && json_equal(back, want));
        json_decref(want);
        json_decref(back);
        gw_response_clear(&r);
    }
    json_decref(result);
    json_decref(error);
    return 0;
}
