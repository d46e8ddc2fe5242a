/* amqp_uri.c - AMQP URIs, by kombu's url_to_parts and urllib.parse. */
#include "core/amqp_uri.h"

#include "core/status.h"
#include "core/strbuf.h"
#include "core/text.h"
#include "core/xalloc.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The longest port worth reading ("65535"), and how much of a bad one or a scheme a message shows.
 */
#define PORT_DIGITS_MAX 5
/* The port is never quoted (see parse_port). */
#define PORT_REFUSED                                                                               \
    "invalid port: not a number from 1 to 65535 (a '/', '?' or '#' in the password must be "       \
    "percent-encoded: %2F, %3F, %23)"
#define QUOTE_SCHEME_MAX 32

/* urllib.parse.unquote: valid %XX sequences are decoded, anything else is kept as written. Returns
 * a new string in *out, or false for a %00, which a C string cannot hold. */
static bool percent_decode(const char *s, size_t n, char **out)
{
    char *d = xmalloc(n + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        int hi = -1, lo = -1;
        if (s[i] == '%' && i + 2 < n) {
            hi = gw_hex_value(s[i + 1]);
            lo = gw_hex_value(s[i + 2]);
        }
        if (hi >= 0 && lo >= 0) {
            if (hi == 0 && lo == 0) {
                free(d);
                *out = NULL;
                return false;
            }
            d[j++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            d[j++] = s[i];
        }
    }
    d[j] = '\0';
    *out = d;
    return true;
}

void gw_amqp_uri_clear(struct gw_amqp_uri *uri)
{
    if (uri == NULL)
        return;
    free(uri->host);
    free(uri->user);
    free(uri->password);
    free(uri->vhost);
    memset(uri, 0, sizeof(*uri));
}

/* Decodes one URI part into *dst, or the default when the decoded text is empty (kombu's
 * "unquote(x or '') or None"). */
static int uri_part(const char *s, size_t n, const char *def, const char *what, char **dst,
                    char *err, size_t errlen)
{
    char *v = NULL;
    if (!percent_decode(s, n, &v)) {
        gw_set_err(err, errlen, "the %s contains %%00", what);
        return GW_EURI;
    }
    if (v[0] == '\0') {
        free(v);
        v = xstrdup(def);
    }
    *dst = v;
    return GW_OK;
}

static bool lower_equal(const char *s, size_t n, const char *lower)
{
    if (strlen(lower) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
        if (c != lower[i])
            return false;
    }
    return true;
}

/* A piece of the URI: start and length. */
struct span {
    const char *p;
    size_t n;
};

/* The netloc's host and port: "[v6]:port" or "host:port", either part possibly empty. */
static int split_host_port(struct span hostinfo, struct span *host, struct span *port, char *err,
                           size_t errlen)
{
    *host = hostinfo;
    *port = (struct span){NULL, 0};
    if (hostinfo.n > 0 && hostinfo.p[0] == '[') {
        const char *close = memchr(hostinfo.p, ']', hostinfo.n);
        if (close == NULL) {
            gw_set_err(err, errlen, "invalid IPv6 host: missing ']'");
            return GW_EURI;
        }
        host->p = hostinfo.p + 1;
        host->n = (size_t)(close - host->p);
        size_t rest = hostinfo.n - (size_t)(close + 1 - hostinfo.p);
        if (rest > 0 && close[1] != ':') {
            gw_set_err(err, errlen, "unexpected text after the IPv6 host");
            return GW_EURI;
        }
        if (rest > 0)
            *port = (struct span){close + 2, rest - 1};
        return GW_OK;
    }
    const char *colon = memchr(hostinfo.p, ':', hostinfo.n);
    if (colon != NULL) {
        host->n = (size_t)(colon - hostinfo.p);
        *port = (struct span){colon + 1, hostinfo.n - host->n - 1};
    }
    if (memchr(host->p, '[', host->n) != NULL || memchr(host->p, ']', host->n) != NULL) {
        gw_set_err(err, errlen, "invalid IPv6 host: brackets must enclose the whole host");
        return GW_EURI;
    }
    return GW_OK;
}

/* An empty port is the default; otherwise 1 to 65535 in decimal digits. */
static int parse_port(struct span port, int *out, char *err, size_t errlen)
{
    long value = 0;
    *out = GW_AMQP_DEFAULT_PORT;
    if (port.p == NULL || port.n == 0)
        return GW_OK;
    bool ok = port.n <= PORT_DIGITS_MAX && strspn(port.p, "0123456789") >= port.n;
    for (size_t i = 0; ok && i < port.n; i++)
        value = value * 10 + (port.p[i] - '0');
    if (!ok || value < 1 || value > 65535) {
        /* Never quoted: a password with an unencoded '/', '?' or '#' ends the netloc early, and
         * what follows its ':' is read as the port. */
        gw_set_err(err, errlen, "%s", PORT_REFUSED);
        return GW_EURI;
    }
    *out = (int)value;
    return GW_OK;
}

/* The query after '?' (up to '#'): kombu reads heartbeat=N from it and lets it win over the
 * connection's own setting. N whole seconds, 0 to 65535 (a value is not quoted: it is the URI's).
 */
static int parse_query(const char *at, int *heartbeat, char *err, size_t errlen)
{
    *heartbeat = -1;
    if (*at != '?')
        return GW_OK;
    const char *end = at + 1 + strcspn(at + 1, "#");
    for (const char *p = at + 1; p < end;) {
        size_t len = strcspn(p, "&;#");
        if (p + len > end)
            len = (size_t)(end - p);
        static const char key[] = "heartbeat=";
        if (len > sizeof(key) - 1 && memcmp(p, key, sizeof(key) - 1) == 0) {
            const char *v = p + sizeof(key) - 1;
            size_t n = len - (sizeof(key) - 1);
            long value = 0;
            bool ok = n <= 5 && strspn(v, "0123456789") >= n;
            for (size_t i = 0; ok && i < n; i++)
                value = value * 10 + (v[i] - '0');
            if (!ok || value > 65535) {
                gw_set_err(err, errlen, "invalid heartbeat in the query (expected 0 to 65535 s)");
                return GW_EURI;
            }
            *heartbeat = (int)value;
        }
        p += len;
        if (p < end)
            p++;
    }
    return GW_OK;
}

int gw_amqp_uri_parse(const char *text, struct gw_amqp_uri *out, char *err, size_t errlen)
{
    struct gw_amqp_uri uri = {0};
    int rc = GW_EURI;
    memset(out, 0, sizeof(*out));
    const char *sep = strstr(text, "://");
    size_t scheme_len = sep != NULL ? (size_t)(sep - text) : 0;
    if (sep == NULL || scheme_len == 0) {
        gw_set_err(err, errlen, "expected amqp://[user[:password]@]host[:port][/vhost]");
        goto out;
    }
    uri.tls = lower_equal(text, scheme_len, "amqps");
    if (!uri.tls && !lower_equal(text, scheme_len, "amqp") &&
        !lower_equal(text, scheme_len, "pyamqp")) {
        gw_set_err(err, errlen,
                   "unsupported scheme '%.*s' (expected amqp://, pyamqp:// or amqps://)",
                   (int)(scheme_len > QUOTE_SCHEME_MAX ? QUOTE_SCHEME_MAX : scheme_len), text);
        goto out;
    }

    /* The netloc ends at the first '/', '?' or '#'; the path runs on to '?' or '#'. */
    const char *netloc = sep + 3;
    size_t netloc_len = strcspn(netloc, "/?#");
    struct span path = {netloc + netloc_len, strcspn(netloc + netloc_len, "?#")};

    /* userinfo is before the last '@'; the password after the first ':' in it. */
    struct span hostinfo = {netloc, netloc_len};
    struct span user = {"", 0}, password = {"", 0};
    for (size_t i = netloc_len; i > 0; i--) {
        if (netloc[i - 1] == '@') {
            size_t userinfo_len = i - 1;
            const char *colon = memchr(netloc, ':', userinfo_len);
            user.p = netloc;
            user.n = colon != NULL ? (size_t)(colon - netloc) : userinfo_len;
            if (colon != NULL)
                password = (struct span){colon + 1, userinfo_len - user.n - 1};
            hostinfo = (struct span){netloc + i, netloc_len - i};
            break;
        }
    }

    struct span host, port;
    rc = split_host_port(hostinfo, &host, &port, err, errlen);
    if (rc != GW_OK)
        goto out;
    rc = parse_port(port, &uri.port, err, errlen);
    if (rc != GW_OK)
        goto out;
    uri.port_given = port.p != NULL && port.n > 0;
    if (!uri.port_given && uri.tls)
        uri.port = GW_AMQP_DEFAULT_TLS_PORT;
    rc = uri_part(host.p, host.n, GW_AMQP_DEFAULT_HOST, "host", &uri.host, err, errlen);
    if (rc != GW_OK)
        goto out;
    /* urllib's .hostname is lower case. */
    for (char *c = uri.host; *c != '\0'; c++) {
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    }
    rc = uri_part(user.p, user.n, GW_AMQP_DEFAULT_USER, "user name", &uri.user, err, errlen);
    if (rc != GW_OK)
        goto out;
    rc = uri_part(password.p, password.n, GW_AMQP_DEFAULT_PASSWORD, "password", &uri.password, err,
                  errlen);
    if (rc != GW_OK)
        goto out;
    /* kombu drops one leading '/', then decodes: "", "/" -> "/" (default); "//", "/%2F" -> "/". */
    if (path.n > 0 && path.p[0] == '/') {
        path.p++;
        path.n--;
    }
    rc = uri_part(path.p, path.n, GW_AMQP_DEFAULT_VHOST, "vhost", &uri.vhost, err, errlen);
    if (rc != GW_OK)
        goto out;
    rc = parse_query(path.p + path.n, &uri.heartbeat, err, errlen);
    if (rc != GW_OK)
        goto out;
    *out = uri;
    memset(&uri, 0, sizeof(uri));
out:
    gw_amqp_uri_clear(&uri);
    return rc;
}

int gw_amqp_uri_heartbeat(const struct gw_amqp_uri *uri, int fallback)
{
    return uri->heartbeat >= 0 ? uri->heartbeat : fallback;
}

int gw_amqp_uri_list_parse(const char *text, struct gw_amqp_uri **out, size_t *n, char *err,
                           size_t errlen)
{
    struct gw_amqp_uri *nodes = xcalloc(GW_AMQP_MAX_NODES, sizeof(*nodes));
    size_t count = 0;
    char reason[160];
    *out = NULL;
    *n = 0;
    for (const char *p = text;; p++) {
        size_t len = strcspn(p, ";");
        while (len > 0 && (*p == ' ' || *p == '\t')) {
            p++;
            len--;
        }
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        const bool more = p[strcspn(p, ";")] == ';';
        if (len == 0) {
            gw_set_err(err, errlen, "URI %zu of the list is empty", count + 1);
            break;
        }
        if (count == GW_AMQP_MAX_NODES) {
            gw_set_err(err, errlen, "more than %d URIs", GW_AMQP_MAX_NODES);
            break;
        }
        char *one = xstrndup(p, len);
        int rc = gw_amqp_uri_parse(one, &nodes[count], reason, sizeof(reason));
        free(one);
        if (rc != GW_OK) {
            if (count == 0 && !more)
                gw_set_err(err, errlen, "%s", reason);
            else
                gw_set_err(err, errlen, "URI %zu of the list: %s", count + 1, reason);
            break;
        }
        count++;
        if (!more) {
            *out = nodes;
            *n = count;
            return GW_OK;
        }
        p += strcspn(p, ";");
    }
    gw_amqp_uri_list_free(nodes, count);
    return GW_EURI;
}

void gw_amqp_uri_list_free(struct gw_amqp_uri *nodes, size_t n)
{
    if (!nodes)
        return;
    for (size_t i = 0; i < n; i++)
        gw_amqp_uri_clear(&nodes[i]);
    free(nodes);
}
