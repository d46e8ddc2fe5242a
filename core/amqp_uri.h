/* amqp_uri.h - AMQP_URI by kombu's rules (docs/nameko-wire.md §8): kombu's url_to_parts parses the
 * text after "scheme://" as an http URL. Pure functions.
 */
#ifndef ENOKI_AMQP_URI_H
#define ENOKI_AMQP_URI_H

#include <stddef.h>

/* What an empty part of the URI means, as kombu fills it in. */
#define GW_AMQP_DEFAULT_HOST "localhost"
#define GW_AMQP_DEFAULT_PORT 5672
#define GW_AMQP_DEFAULT_USER "guest"
#define GW_AMQP_DEFAULT_PASSWORD "guest"
#define GW_AMQP_DEFAULT_VHOST "/"

struct gw_amqp_uri {
    char *host;     /* lower case, without IPv6 brackets; default "localhost" */
    int port;       /* default 5672 */
    char *user;     /* default "guest" */
    char *password; /* default "guest" */
    char *vhost;    /* default "/" */
};

/* Parses an AMQP URI by kombu's rules: amqp:// or pyamqp:// (any case; amqps:// is refused until
 * TLS is implemented), %-decoded user, password and vhost (a %00 is refused), the password after
 * the first ':' of the text before the last '@', vhost from the path: empty, "/", "//" and "/%2F"
 * all mean "/"; the query and fragment are ignored. Fills *out with new strings (free with
 * gw_amqp_uri_clear). Returns GW_OK, or GW_EURI with a reason in err (never the whole URI: it holds
 * the password) and *out zeroed. */
int gw_amqp_uri_parse(const char *text, struct gw_amqp_uri *out, char *err, size_t errlen);

/* Frees the strings and zeroes *uri; NULL is a no-op. */
void gw_amqp_uri_clear(struct gw_amqp_uri *uri);

#endif
