/* config_subst.c - nameko's ${VAR:default} substitution, its regex written out. */
#include "core/config_subst.h"

#include "core/status.h"
#include "core/strbuf.h"
#include "core/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* Python's \s for str patterns, restricted to ASCII (it also counts 0x1c..0x1f). */
static bool is_py_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

static bool contains(const char *s, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++) {
        if (memcmp(s + i, needle, k) == 0)
            return true;
    }
    return false;
}

int gw_config_substitute(const char *text, char **out, char *err, size_t errlen)
{
    struct gw_strbuf buf = {0};
    int rc = GW_OK;
    const char *p = text;
    *out = NULL;
    /* nameko's re.sub(r"\$\{([^}:\s]+):?([^}]+)?\}", ...), scanning left to right. */
    for (;;) {
        const char *ref = strstr(p, "${");
        if (ref == NULL) {
            gw_strbuf_add(&buf, p, strlen(p));
            break;
        }
        gw_strbuf_add(&buf, p, (size_t)(ref - p));
        const char *body = ref + 2;
        const char *close = strchr(body, '}');
        if (close == NULL) {
            gw_strbuf_add(&buf, ref, strlen(ref));
            break;
        }
        size_t body_len = (size_t)(close - body);
        /* With the regex module nameko expands the inner reference first; without it (nameko's
         * default install) it raises a ConfigurationError. */
        if (contains(body, body_len, "${")) {
            gw_set_err(err, errlen, "nested ${...} references are not supported");
            rc = GW_ESUBST;
            goto out;
        }
        size_t name_len = 0;
        while (name_len < body_len && body[name_len] != ':' && !is_py_space(body[name_len]))
            name_len++;
        if (name_len == 0) {
            /* No match at this '$': the regex engine moves on by one character. */
            gw_strbuf_add(&buf, ref, 1);
            p = ref + 1;
            continue;
        }
        char *name = xstrndup(body, name_len);
        const char *value = getenv(name);
        free(name);
        if (value != NULL) {
            gw_strbuf_add(&buf, value, strlen(value));
        } else {
            /* The default is the second group: all after the name, less one ':' if it follows. */
            const char *def = body + name_len;
            size_t def_len = body_len - name_len;
            if (def_len > 0 && def[0] == ':') {
                def++;
                def_len--;
            }
            gw_strbuf_add(&buf, def, def_len);
        }
        p = close + 1;
    }
    *out = gw_strbuf_take(&buf);
out:
    if (rc != GW_OK)
        free(buf.data);
    return rc;
}

bool gw_config_subst_wanted(const char *text)
{
    size_t line_len = strcspn(text, "\n");
    for (size_t i = 0; i + 1 < line_len; i++) {
        if (text[i] == '$' && text[i + 1] == '{' &&
            memchr(text + i + 2, '}', line_len - i - 2) != NULL)
            return true;
    }
    return false;
}
