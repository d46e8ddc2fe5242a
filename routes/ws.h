/* ws.h - nameko's websocket frame protocol (nameko-wire.md §7), pure: parse a client frame, build
 * the frames the hub sends, and nameko's error objects. Frames are written as Python's json.dumps
 * writes them, so a client cannot tell enoki's hub from nameko's. */
#ifndef ENOKI_WS_H
#define ENOKI_WS_H

#include <jansson.h>
#include <stddef.h>

struct gw_ws_request {
    char *method;           /* new */
    json_t *data;           /* new; {} when the frame had a falsy data */
    json_t *correlation_id; /* new; null when absent */
};

/* Parses a client frame. Returns GW_OK, or GW_EJSON for what nameko answers with MalformedRequest
 * (not JSON, not an object, no string "method"); on GW_EJSON nothing is allocated. A truthy data
 * that is not an object is kept as it is (the caller answers IncorrectSignature). */
int gw_ws_parse(const char *text, size_t len, struct gw_ws_request *out);
void gw_ws_request_clear(struct gw_ws_request *request);

/* The frames; each returns a new string (and its length in *len). Arguments are borrowed. */
char *gw_ws_result_frame(const json_t *data, const json_t *correlation_id, size_t *len);
char *gw_ws_error_frame(const json_t *error, const json_t *correlation_id, size_t *len);
/* channel may be NULL (unicast, connected). */
char *gw_ws_event_frame(const char *event, const json_t *data, const char *channel, size_t *len);

/* A nameko error object {exc_type, exc_path, exc_args, value}; args is stolen (NULL = []). Text
 * that is not UTF-8 (a message cut inside a character by a fixed-size buffer) is kept with each
 * ill-formed part replaced by U+FFFD, so every member is always there. */
json_t *gw_nameko_error(const char *exc_type, const char *exc_path, json_t *args,
                        const char *value);

/* The three bad-frame answers nameko's hub gives. */
json_t *gw_ws_malformed_error(void);  /* MalformedRequest "Invalid JSON data" */
json_t *gw_ws_method_not_found(void); /* MethodNotFound, exc_args [], value "" */
json_t *gw_ws_incorrect_signature(const char *message);

/* Python's truthiness of a JSON value: null, false, 0, 0.0, "", [] and {} are false. */
int gw_json_truthy(const json_t *value);

#endif
