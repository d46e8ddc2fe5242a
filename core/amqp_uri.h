/* amqp_uri.h - AMQP_URI by kombu's rules (docs/nameko-wire.md §8): kombu's url_to_parts parses the
 * text after "scheme://" as an http URL. Pure functions.
 */
#ifndef ENOKI_AMQP_URI_H
#define ENOKI_AMQP_URI_H

#include <stdbool.h>
#include <stddef.h>

/* What an empty part of the URI means, as kombu fills it in. */
#define GW_AMQP_DEFAULT_HOST "localhost"
#define GW_AMQP_DEFAULT_PORT 5672
#define GW_AMQP_DEFAULT_TLS_PORT 5671
#define GW_AMQP_DEFAULT_USER "guest"
#define GW_AMQP_DEFAULT_PASSWORD "guest"
#define GW_AMQP_DEFAULT_VHOST "/"

struct gw_amqp_uri {
    char *host;      /* lower case, without IPv6 brackets; default "localhost" */
    int port;        /* default 5672, 5671 for amqps:// (and, in the config, with AMQP_SSL) */
    bool port_given; /* the URI names its port */
    bool tls;        /* amqps:// (kombu's SSL transport) */
    char *user;      /* default "guest" */
    char *password;  /* default "guest" */
    char *vhost;     /* default "/" */
    int heartbeat; /* ?heartbeat=N (seconds), which kombu lets win over HEARTBEAT; -1: not given */
};

/* Parses an AMQP URI by kombu's rules: amqp://, pyamqp:// or amqps:// (any case; amqps:// is TLS,
 * port 5671 by default), %-decoded user, password and vhost (a %00 is refused), the password after
 * the first ':' of the text before the last '@', vhost from the path: empty, "/", "//" and "/%2F"
 * all mean "/"; of the query, heartbeat=N (whole seconds, 0 to 65535) is read, the rest and the
 * fragment are ignored. Fills *out with new strings (free with
 * gw_amqp_uri_clear). Returns GW_OK, or GW_EURI with a reason in err (never the whole URI: it holds
 * the password) and *out zeroed. */
int gw_amqp_uri_parse(const char *text, struct gw_amqp_uri *out, char *err, size_t errlen);

/* The heartbeat to ask for on uri's node: its ?heartbeat= when given (kombu lets the URI's win),
 * else fallback (HEARTBEAT). */
int gw_amqp_uri_heartbeat(const struct gw_amqp_uri *uri, int fallback);

/* Frees the strings and zeroes *uri; NULL is a no-op. */
void gw_amqp_uri_clear(struct gw_amqp_uri *uri);

/* The most nodes AMQP_URI may list. */
#define GW_AMQP_MAX_NODES 16

/* Parses AMQP_URI as kombu reads a failover list: URIs separated by ';' (spaces around each are
 * ignored; empty ones are refused), each by gw_amqp_uri_parse. On GW_OK *out is a new array of *n
 * nodes (free with gw_amqp_uri_list_free); on GW_EURI err says which URI (by its position, never
 * its text) and why. */
int gw_amqp_uri_list_parse(const char *text, struct gw_amqp_uri **out, size_t *n, char *err,
                           size_t errlen);

/* Frees n nodes and the array; NULL is a no-op. */
void gw_amqp_uri_list_free(struct gw_amqp_uri *nodes, size_t n);

#endif
