/* key_template.c - {name} fields in a routing key. */
#include "core/key_template.h"

#include "core/status.h"
#include "core/strbuf.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The longest routing key AMQP carries (a short string). */
enum { KEY_MAX = 255 };

static bool ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool ident_char(char c)
{
    return ident_start(c) || (c >= '0' && c <= '9');
}

/* The field starting after '{' at p: its length up to the '}', or 0 (why set) when it is not one.
 */
static size_t field_len(const char *p, char *why, size_t whylen)
{
    size_t n = 0;
    while (p[n] && p[n] != '}')
        n++;
    if (!p[n]) {
        snprintf(why, whylen, "unclosed field '{%s' (write '{{' for a brace)", p);
        return 0;
    }
    if (n == 0) {
        snprintf(why, whylen, "empty field '{}': name a path or query value, as '{user_id}'");
        return 0;
    }
    bool ok = ident_start(p[0]);
    for (size_t i = 1; ok && i < n; i++)
        ok = ident_char(p[i]);
    if (!ok) {
        snprintf(why, whylen, "field '{%.*s}': expected the name of a path or query value", (int)n,
                 p);
        return 0;
    }
    return n;
}

int gw_key_template_check(const char *text, char *why, size_t whylen)
{
    for (const char *p = text; *p; p++) {
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            p++;
        } else if (*p == '{') {
            size_t n = field_len(p + 1, why, whylen);
            if (n == 0)
                return GW_ECONFIG;
            p += n + 1;
        } else if (*p == '}') {
            snprintf(why, whylen, "a single '}' (write '}}' for a brace)");
            return GW_ECONFIG;
        }
    }
    return GW_OK;
}

char *gw_key_template_render(const char *text, gw_key_lookup_fn lookup, void *arg, char *why,
                             size_t whylen)
{
    struct gw_strbuf b = {0};
    for (const char *p = text; *p; p++) {
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            gw_strbuf_add(&b, p, 1);
            p++;
        } else if (*p == '{') {
            const char *name = p + 1;
            size_t n = strcspn(name, "}");
            char *value = lookup(arg, name, n);
            if (!value) {
                snprintf(why, whylen,
                         "the routing key needs '%.*s', which is neither a path value nor in the "
                         "query",
                         (int)n, name);
                free(gw_strbuf_take(&b));
                return NULL;
            }
            gw_strbuf_adds(&b, value);
            free(value);
            p = name + n;
        } else {
            gw_strbuf_add(&b, p, 1);
        }
    }
    char *key = gw_strbuf_take(&b);
    if (strlen(key) > KEY_MAX) {
        snprintf(why, whylen, "the routing key is %zu bytes, over AMQP's %d", strlen(key), KEY_MAX);
        free(key);
        return NULL;
    }
    return key;
}
