/* fuzz_reply - libFuzzer harness for a nameko reply: core/wire's decoding and error accessors, and
 * every answer built from a decoded reply: json mode (routes/respond), nameko's @http (routes/
 * http_mode), the websocket hub's frames (routes/ws).
 *
 * The input is an AMQP reply body, {"result": ..., "error": {exc_type, exc_path, exc_args, value}}.
 * A result becomes a 200 (json mode, read back: the same value), nameko's @http answer and a result
 * frame; an error becomes json mode's error answer (read back: the error's members), @http's text
 * answer and an error frame; a body that does not decode becomes the BadReply answers.
 */
#include "fuzz_util.h"

#include "core/config.h"
#include "core/json.h"
#include "core/status.h"
#include "core/wire.h"
#include "routes/http_mode.h"
#include "routes/respond.h"
#include "routes/ws.h"

#include <amqp.h>
#include <stdlib.h>
#include <string.h>

static const char config_yaml[] = "GATEWAY:\n"
                                  "  name: fuzz\n"
                                  "  errors:\n"
                                  "    ValueError: 422\n"
                                  "    KeyError: 404\n"
                                  "    Unavailable: 503\n";

static struct gw_config *config;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    config = fuzz_load_config("fuzz_reply", config_yaml);
    return 0;
}

static void check_response(struct gw_response *r)
{
    FUZZ_ASSERT(r->status >= 100 && r->status <= 999);
    FUZZ_ASSERT(r->body != NULL || r->body_len == 0);
    for (size_t i = 0; i < r->n_headers; i++) {
        FUZZ_ASSERT(!strpbrk(r->headers[i].name, "\r\n"));
        FUZZ_ASSERT(!strpbrk(r->headers[i].value, "\r\n"));
    }
    gw_response_clear(r);
}

static void on_result(const json_t *result)
{
    struct gw_response r;
    gw_respond_result(result, &r);
    FUZZ_ASSERT(r.status == 200);
    json_t *back = fuzz_json_reread(r.body, r.body_len);
    json_t *want = fuzz_json_as_http(result);
    FUZZ_ASSERT(back != NULL && json_equal(back, want));
    json_decref(want);
    json_decref(back);
    check_response(&r);

    gw_http_respond_result(result, &r);
    check_response(&r);

    size_t len;
    char *frame = gw_ws_result_frame(result, NULL, &len);
    back = fuzz_json_reread(frame, len);
    FUZZ_ASSERT(back != NULL && json_equal(json_object_get(back, "data"), result));
    json_decref(back);
    free(frame);

    /* A result may be handed on as another call's context or arguments. */
    amqp_pool_t pool;
    init_amqp_pool(&pool, 4096);
    amqp_table_t headers;
    gw_wire_context_headers(json_is_object(result) ? result : NULL, &pool, &headers);
    empty_amqp_pool(&pool);
    char *body = gw_wire_request_body(json_is_array(result) ? result : NULL,
                                      json_is_object(result) ? result : NULL, &len);
    back = fuzz_json_reread(body, len);
    FUZZ_ASSERT(back != NULL);
    json_decref(back);
    free(body);
}

static void on_error(const json_t *error)
{
    const char *exc_type = gw_wire_exc_type(error);
    const char *exc_path = gw_wire_exc_path(error);
    const char *value = gw_wire_exc_value(error);
    FUZZ_ASSERT(exc_type && exc_path && value);

    for (int generic = 0; generic < 2; generic++) {
        struct gw_response r;
        gw_respond_call_error(GW_EREMOTE, error, exc_type, "svc.method", 30, "fuzz.http.id", config,
                              generic, &r);
        json_t *back = fuzz_json_reread(r.body, r.body_len);
        FUZZ_ASSERT(json_is_object(back));
        static const char *const keys[] = {"exc_type", "exc_path", "exc_args", "value"};
        for (size_t i = 0; i < 4; i++) {
            const json_t *member = json_object_get(error, keys[i]);
            json_t *want = member ? fuzz_json_as_http(member) : json_null();
            FUZZ_ASSERT(json_equal(json_object_get(back, keys[i]), want));
            json_decref(want);
        }
        json_decref(back);
        check_response(&r);
    }

    static char my_error[] = "MyError";
    char *items[] = {my_error};
    struct gw_string_list expected = {items, 1};
    struct gw_response r;
    gw_http_respond_error(GW_EREMOTE, error, exc_type, "svc.method", 30, &expected, &r);
    FUZZ_ASSERT(r.status == 400 || r.status == 500);
    check_response(&r);
    gw_remote_is_bad_request(error);

    size_t len;
    char *frame = gw_ws_error_frame(error, NULL, &len);
    json_t *back = fuzz_json_reread(frame, len);
    FUZZ_ASSERT(back != NULL && json_equal(json_object_get(back, "error"), error));
    json_decref(back);
    free(frame);
}

/* What a reply that does not decode becomes; why quotes the body. */
static void on_bad_reply(const char *why)
{
    struct gw_response r;
    gw_respond_call_error(GW_EBADREPLY, NULL, why, "svc.method", 30, NULL, config, false, &r);
    FUZZ_ASSERT(r.status == 502);
    json_t *back = fuzz_json_reread(r.body, r.body_len);
    FUZZ_ASSERT(json_is_object(back));
    json_decref(back);
    check_response(&r);
    gw_http_respond_error(GW_EBADREPLY, NULL, why, "svc.method", 30, NULL, &r);
    FUZZ_ASSERT(r.status == 502);
    check_response(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *body = fuzz_copy((const char *)data, size);
    json_t *result = (json_t *)1, *error = (json_t *)1;
    char why[256];
    int rc = gw_wire_reply_decode(body, size, &result, &error, why, sizeof(why));
    free(body);
    if (rc != GW_OK) {
        FUZZ_ASSERT(rc == GW_EBADREPLY && result == NULL && error == NULL);
        FUZZ_ASSERT(memchr(why, '\0', sizeof(why)) != NULL);
        on_bad_reply(why);
        return 0;
    }
    FUZZ_ASSERT(result != NULL);
    if (error) {
        FUZZ_ASSERT(json_is_object(error));
        on_error(error);
    } else {
        on_result(result);
    }
    json_decref(result);
    json_decref(error);
    return 0;
}
