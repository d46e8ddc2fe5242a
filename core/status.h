/* status.h - enoki status codes.
 *
 * 0 is success; errors are negative and grouped by area (tens). GW_AGAIN means "would block, call
 * again later". Functions return a status and put results in out-parameters. What a client is
 * answered for each is the HTTP side's business: routes/respond.c holds that one table.
 */
#ifndef ENOKI_STATUS_H
#define ENOKI_STATUS_H

enum gw_status {
    GW_OK = 0,
    GW_AGAIN = -1,
    GW_EINVAL = -2, /* a caller passed something it must not */

    /* configuration */
    GW_ECONFIG = -10, /* a key has a bad value or type */
    GW_ESUBST = -11,  /* ${VAR:default} substitution failed */
    GW_EURI = -12,    /* AMQP_URI cannot be parsed */
    GW_EYAML = -13,   /* the file is not valid YAML */
    GW_EIO = -14,     /* the file cannot be read */

    /* routing */
    GW_ERULE = -20,      /* a rule does not compile */
    GW_ENOMATCH = -21,   /* no rule matches the path */
    GW_EMETHOD = -22,    /* the path matches, the method does not */
    GW_EREDIRECT = -23,  /* strict slashes: the slash URL is the right one */
    GW_EDUPLICATE = -24, /* two routes with the same rule and an overlapping method */
    GW_EFORBIDDEN = -25, /* the generic route may not call this target */

    /* request -> call mapping */
    GW_EARGS = -30,  /* an argument is given twice or has a bad shape */
    GW_EJSON = -31,  /* the body is not valid JSON */
    GW_EMEDIA = -32, /* the body's Content-Type is not JSON */
    GW_EFRAME = -33, /* the call does not fit AMQP's framing (a name over 255 bytes, properties
                      * over a frame): nothing was sent */

    /* RPC */
    GW_EBROKER = -40,          /* the broker cannot be reached */
    GW_EUNKNOWN_SERVICE = -41, /* basic.return: no queue bound for the service */
    GW_ETIMEOUT = -42,         /* no reply before the deadline */
    GW_EREMOTE = -43,          /* the service replied with an error object */
    GW_EBADREPLY = -44,        /* the reply cannot be decoded */
    GW_ESHUTDOWN = -45,        /* enoki is stopping */
    GW_ECANCELLED = -46,       /* the caller went away */
    GW_EBLOCKED = -47,         /* the broker blocks publishers (a memory or disk alarm) */

    /* identity: bearer tokens (routes/jwt) and their keys (routes/jwk) */
    GW_ETOKEN = -50,         /* the token is malformed */
    GW_ETOKEN_ALG = -51,     /* its alg is not accepted, or does not fit the key */
    GW_ETOKEN_KID = -52,     /* no key for its kid (the key set may be stale: read it again) */
    GW_ETOKEN_SIG = -53,     /* the signature does not verify */
    GW_ETOKEN_EXPIRED = -54, /* now >= exp + leeway */
    GW_ETOKEN_EARLY = -55,   /* now < nbf - leeway */
    GW_ETOKEN_CLAIM = -56,   /* iss or aud is not the expected one, or a claim has a bad type */
    GW_EJWKS = -57,          /* a JWK Set is refused */
    GW_EUNAUTHORIZED = -58,  /* the caller must show a valid token */
    GW_EDENIED = -59,        /* the caller's token does not allow this (a scope, a channel) */

    /* Rate limits */
    GW_ELIMITED = -60, /* a rate limit (GATEWAY.rate_limits) refuses the request for now */
};

#define GW_STATUS_MIN (-60)

/* Returns a static, human-readable text for a status; never NULL. */
const char *gw_strerror(int status);

/* Returns a stable machine-readable code (e.g. "unknown_service") for a status; never NULL. */
const char *gw_status_code(int status);

#endif
