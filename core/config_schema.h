/* config_schema.h - the keys of enoki's config file (core/config.h documents each one): their
 * defaults, and the tables that check the top level, GATEWAY and GATEWAY.cors (the routes' table is
 * core/config_routes) into a struct gw_config.
 */
#ifndef ENOKI_CONFIG_SCHEMA_H
#define ENOKI_CONFIG_SCHEMA_H

#include "core/config.h"
#include "core/config_keys.h"

struct gw_yaml_node;

/* The defaults, in one place: what a key that is absent or null leaves in the record. */
#define GW_DEFAULT_AMQP_URI "pyamqp://guest:guest@localhost"
#define GW_DEFAULT_WEB_HOST "0.0.0.0" /* also when WEB_SERVER_ADDRESS gives only a port */
#define GW_DEFAULT_WEB_PORT 8000
#define GW_DEFAULT_RPC_EXCHANGE "nameko-rpc" /* nameko's */
#define GW_DEFAULT_HEARTBEAT 60              /* seconds, nameko's */
#define GW_DEFAULT_NAME "enoki"
#define GW_DEFAULT_RPC_TIMEOUT 30.0 /* seconds */
#define GW_DEFAULT_LOG_LEVEL GW_LOG_INFO
#define GW_DEFAULT_LOG_FORMAT GW_LOG_TEXT
#define GW_DEFAULT_RPC_PREFIX "/rpc"
#define GW_DEFAULT_WEBSOCKET_PATH "/ws"
#define GW_DEFAULT_WEBSOCKET_MAX_FRAME (1 << 20) /* bytes */
#define GW_DEFAULT_WEBSOCKET_MAX_SOCKETS 10000
#define GW_DEFAULT_WEBSOCKET_SEND_QUEUE (1 << 20) /* bytes */
#define GW_DEFAULT_WEBSOCKET_PING 30              /* seconds */
#define GW_DEFAULT_STATIC_DIR "static"
#define GW_DEFAULT_DOCS_DIR "viewer"
#define GW_DEFAULT_HEALTH_PATH "/healthz"
#define GW_DEFAULT_READY_PATH "/readyz"
#define GW_DEFAULT_METRICS_PATH "/metrics"
#define GW_DEFAULT_ADMIN_SCOPE "enoki:admin"
#define GW_DEFAULT_CORS_MAX_AGE 600   /* seconds */
#define GW_DEFAULT_MAX_BODY (1 << 20) /* bytes */
#define GW_DEFAULT_COMPRESS_MIN 1024  /* bytes; 0 = never */
#define GW_DEFAULT_COMPRESS_LEVEL                                                                  \
    6 /* zlib's default: most of level 9's gain at a third of its cost */
#define GW_DEFAULT_MAX_HEADER (16 << 10) /* bytes */
#define GW_DEFAULT_MAX_CONNECTIONS 10000
#define GW_DEFAULT_MAX_IN_FLIGHT 10000
#define GW_DEFAULT_IDEMPOTENCY_TTL 86400 /* seconds */
#define GW_DEFAULT_IDEMPOTENCY_MAX_ENTRIES 10000
#define GW_DEFAULT_IDEMPOTENCY_MAX_BODY 65536       /* bytes */
#define GW_DEFAULT_IDEMPOTENCY_MAX_BYTES (64 << 20) /* bytes */
/* Transient by default: a request lives only as long as its caller's deadline (expiration), and a
 * broker restart fails every call anyway, so persisting it buys nothing and halves the broker's
 * throughput (bench/README.md). 2 keeps nameko's own bytes. */
#define GW_DEFAULT_DELIVERY_MODE 1
#define GW_DEFAULT_IDLE_TIMEOUT 60        /* seconds */
#define GW_DEFAULT_HEADER_TIMEOUT 10      /* seconds (slowloris) */
#define GW_DEFAULT_RATE_LIMIT_KEYS 100000 /* rate-limit buckets kept at most */
#define GW_DEFAULT_WORKERS 1              /* one process, no supervisor (docs/workers.md) */
/* GATEWAY.workers at most: the shared totals keep a slot per worker (gateway/shared_stats.h). */
#define GW_MAX_WORKERS 64

/* The CPUs this process may run on (sched_getaffinity), fewer when a cgroup's CPU quota allows
 * fewer (core/cpu_quota), 1 to GW_MAX_WORKERS: workers: auto. */
int gw_config_cpus(void);

/* Returns a new record holding every default, loaded from path (copied; used in messages). */
struct gw_config *gw_config_new_defaults(const char *path);

/* Applies a file's top-level mapping to c: the keys enoki reads are checked, all others are ignored
 * (one file can serve nameko services too). Returns GW_OK, or a negative status with the message in
 * e. Routes still need gw_config_routes_finish. */
int gw_config_apply_schema(const struct gw_key_err *e, const struct gw_yaml_node *root,
                           struct gw_config *c);

/* Frees every field of c (not c itself) and zeroes the pointers. */
void gw_config_clear(struct gw_config *c);

/* Checked once the file is read: docs_path shows openapi_path's document, so it needs it, and the
 * viewer's files (GW_VIEWER_FILES) in docs_dir. Returns GW_OK or GW_ECONFIG with a message. */
int gw_config_docs_finish(const struct gw_config *c, char *err, size_t errlen);

/* The files of the viewer the docs page loads from docs_dir, NULL-terminated. */
extern const char *const GW_VIEWER_FILES[];

#endif
