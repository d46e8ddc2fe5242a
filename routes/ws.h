/* ws.h - nameko's websocket frame protocol (docs/nameko-wire.md §7), pure: parse a client frame,
 * build the frames the hub sends, and nameko's error objects. Frames are written as Python's
 * json.dumps writes them, so a client cannot tell enoki's hub from nameko's. */
#ifndef ENOKI_WS_H
#define ENOKI_WS_H

#include "core/config.h"
#include "core/wire.h" /* gw_nameko_error */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct gw_ws_request {
    char *method;           /* new */
    json_t *data;           /* new; {} when the frame had a falsy data */
    json_t *correlation_id; /* new; null when absent */
};

/* Parses a client frame. Returns GW_OK, or GW_EJSON for what nameko answers with MalformedRequest
 * (not JSON, not an object, no "method"); on GW_EJSON nothing is allocated. A method that is not a
 * string is "", which no method is (nameko: MethodNotFound). A truthy data
 * that is not an object is kept as it is (the caller answers IncorrectSignature). */
int gw_ws_parse(const char *text, size_t len, struct gw_ws_request *out);
/* The same for a binary message, which nameko's hub reads with json.loads of bytes: UTF-8, or
 * UTF-16 or UTF-32 (gw_utf8_from_json_bytes). */
int gw_ws_parse_binary(const char *bytes, size_t len, struct gw_ws_request *out);
void gw_ws_request_clear(struct gw_ws_request *request);

/* The frames; each returns a new string (and its length in *len). Arguments are borrowed. */
char *gw_ws_result_frame(const json_t *data, const json_t *correlation_id, size_t *len);
char *gw_ws_error_frame(const json_t *error, const json_t *correlation_id, size_t *len);
/* channel may be NULL (unicast, connected). event is any JSON, as nameko's hub sends what a
 * service gave it (NULL: null). */
char *gw_ws_event_frame(const json_t *event, const json_t *data, const char *channel, size_t *len);

/* The three bad-frame answers nameko's hub gives. */
json_t *gw_ws_malformed_error(void);  /* MalformedRequest "Invalid JSON data" */
json_t *gw_ws_method_not_found(void); /* MethodNotFound, exc_args [], value "" */
json_t *gw_ws_incorrect_signature(const char *message);

/* The error frame's object for a call to the cluster that ended without a reply (status a gw_status
 * of gw_rpc_call: GW_EUNKNOWN_SERVICE, GW_ETIMEOUT, GW_EBROKER, GW_EBADREPLY, GW_ESHUTDOWN; any
 * other is a GatewayError), as nameko's hub would raise it: UnknownService("<service>"),
 * RpcTimeout, and enoki's own BrokerUnavailable, BadReply, GatewayStopping. detail is the call's
 * reason, target "service.method", timeout_s its deadline; the message is
 * gw_describe_call_failure's. */
json_t *gw_ws_call_failure(int status, const char *detail, const char *target, double timeout_s);

/* A frame's call to the cluster (enoki's own, nameko's hub has none): "<service>.<method>", one dot
 * with something on both sides, that config->expose lets through (gw_call_expose_find). Returns
 * GW_OK with the new service name in *service, the method (borrowed from target) in *method and,
 * when entry is not NULL, the expose entry that matched (borrowed from config) in *entry; or
 * GW_ENOMATCH for anything else (answered MethodNotFound, as nameko's hub answers an unknown
 * method). config is borrowed. */
int gw_ws_call_target(const struct gw_config *config, const char *target, char **service,
                      const char **method, const struct gw_policy_entry **entry);

/* Whether a client's close frame payload (len bytes) is one a server may echo (RFC 6455 5.5.1,
 * 7.4): empty, or a status code a peer may send and a reason in UTF-8. The codes are those nameko's
 * hub (eventlet) takes: 1000-1003, 1007-1011, 3000-4999. Else the connection is failed: a 1-byte
 * payload, 1005, 1012, 5000, a reason that is not text. */
bool gw_ws_close_payload_ok(const unsigned char *payload, size_t len);

/* The context data of a socket's call: the socket's own (borrowed, from its handshake) with
 * call_id_stack ["<gateway>.ws.<id>"], id a new uuid4 the caller made. Returns a new object. */
json_t *gw_ws_call_context(const json_t *socket_context, const char *gateway, const char *id);

/* Python's truthiness of a JSON value: null, false, 0, 0.0, "", [] and {} are false. */
int gw_json_truthy(const json_t *value);

#endif
