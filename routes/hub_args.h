/* hub_args.h - the hub's own methods and their arguments, pure: which method a call names, and its
 * arguments bound to the method's Python signature with the very errors nameko raises (its
 * IncorrectSignature texts are those of inspect.getcallargs, and so Python's own TypeError texts).
 *
 * Two doors lead to these methods: a websocket frame {method, data} (docs/nameko-wire.md §7: the
 * hub calls fn(socket_id, **data)), and an AMQP request to the native service "<name>.<method>"
 * with args and kwargs (§2: the service calls fn(self, *args, **kwargs)).
 */
#ifndef ENOKI_HUB_ARGS_H
#define ENOKI_HUB_ARGS_H

#include <jansson.h>
#include <stddef.h>

enum gw_hub_method {
    GW_HUB_NONE = 0, /* not one of the hub's methods */
    GW_HUB_SUBSCRIBE,
    GW_HUB_UNSUBSCRIBE,
    GW_HUB_GET_SUBSCRIPTIONS,
    GW_HUB_BROADCAST, /* the native service's only: (channel, event, data) */
    GW_HUB_UNICAST,   /* the native service's only: (socket_id, event, data) */
    GW_HUB_REFRESH,   /* a frame's only: (token), the socket's new bearer token */
};

/* The method's name ("subscribe", ...); "" for GW_HUB_NONE. */
const char *gw_hub_method_name(enum gw_hub_method method);

/* The method of that name; GW_HUB_NONE for none of them. */
enum gw_hub_method gw_hub_method_of(const char *name);

/* A frame's call of the hub's own methods (subscribe, unsubscribe, get_subscriptions, refresh),
 * method and data as gw_ws_parse gives them. Returns the method (GW_HUB_NONE for any other name:
 * the frame is then a call to the cluster) with its one argument in *arg (borrowed from data): the
 * channel of subscribe and unsubscribe, the token of refresh; or, when the arguments do not fit, a
 * new error object to answer with in *error (IncorrectSignature, or TypeError for a channel or
 * token that is not a string). */
enum gw_hub_method gw_hub_args_frame(const char *method, const json_t *data, const char **arg,
                                     json_t **error);

/* A native service request: method with args (array) and kwargs (object), both borrowed. Returns
 * the method with its arguments bound by name in *bound (new object: channel, event, data,
 * socket_id as the method takes them), or GW_HUB_NONE with a new error in *error:
 * MethodNotFound for an unknown method (refresh included: a socket's own), IncorrectSignature when
 * the arguments do not bind. */
enum gw_hub_method gw_hub_args_service(const char *method, const json_t *args, const json_t *kwargs,
                                       json_t **bound, json_t **error);

/* Binds args and kwargs to the parameter names (NULL-terminated) as inspect.getcallargs does for
 * fn(self, <names>): returns a new object name -> value, or NULL with Python's message in msg
 * ("f() takes 2 positional arguments but 3 were given", "f() got an unexpected keyword argument
 * 'x'", "f() got multiple values for argument 'a'", "f() missing 2 required positional arguments:
 * 'a' and 'b'"). */
json_t *gw_hub_args_bind(const char *fn, const json_t *args, const json_t *kwargs,
                         const char *const *names, char *msg, size_t msglen);

/* kwargs must be exactly the names given (NULL-terminated): returns NULL, or the new
 * IncorrectSignature error inspect.getcallargs would raise for fn(socket_id, <names>). */
json_t *gw_hub_args_check_kwargs(const char *fn, const json_t *kwargs, const char *const *names);

/* Python's type name of a decoded JSON value: dict, list, str, int, float, bool or NoneType. */
const char *gw_hub_args_py_type(const json_t *value);

/* The new IncorrectSignature error for fn(socket_id, **data) with a data that is not a mapping. */
json_t *gw_hub_args_not_a_mapping(const json_t *data);

/* The new TypeError nameko's hub raises for a channel that is not a string. */
json_t *gw_hub_args_channel_not_a_string(void);

/* The same for refresh's token (enoki's own method, worded alike). */
json_t *gw_hub_args_token_not_a_string(void);

#endif
