/* auth.c - the decision on a request's bearer token (RFC 6750), and reading the token. */
#include "routes/auth.h"

#include "core/status.h"
#include "core/strbuf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SCHEME "Bearer"
#define SCHEME_LEN (sizeof(SCHEME) - 1)
#define GENERIC_REASON "the token is not valid"
#define MISSING_MESSAGE "a bearer token is required"

/* The characters RFC 6750 allows in error_description and in a scope token: printable ASCII but
 * for '"' and '\' (the space too, in error_description). Others become '?', so that nothing a token
 * carries can break the header. */
static bool attr_char(char ch, bool space_ok)
{
    unsigned char c = (unsigned char)ch;
    return (c > 0x20 && c < 0x7f && c != '"' && c != '\\') || (space_ok && c == ' ');
}

static void add_attr(struct gw_strbuf *b, const char *text, bool space_ok)
{
    for (const char *p = text; *p != '\0'; p++) {
        char c = attr_char(*p, space_ok) ? *p : '?';
        gw_strbuf_add(b, &c, 1);
    }
}

/* Copies b into dst (cut to len) and frees it. */
static void take_into(struct gw_strbuf *b, char *dst, size_t len)
{
    snprintf(dst, len, "%s", b->data != NULL ? b->data : "");
    free(b->data);
    *b = (struct gw_strbuf){0};
}

static bool list_has(const char *list, size_t len, const char *word)
{
    size_t n = strlen(word);
    const char *p = list, *end = list + len;
    while (p < end) {
        while (p < end && *p == ' ')
            p++;
        const char *start = p;
        while (p < end && *p != ' ')
            p++;
        if ((size_t)(p - start) == n && n > 0 && memcmp(start, word, n) == 0)
            return true;
    }
    return false;
}

static bool value_has(const json_t *v, const char *scope)
{
    if (json_is_string(v))
        return list_has(json_string_value(v), json_string_length(v), scope);
    if (!json_is_array(v))
        return false;
    for (size_t i = 0; i < json_array_size(v); i++) {
        const json_t *item = json_array_get(v, i);
        if (json_is_string(item) && strcmp(json_string_value(item), scope) == 0)
            return true;
    }
    return false;
}

bool gw_auth_has_scope(const json_t *claims, const char *scope)
{
    const json_t *scope_claim = json_object_get(claims, "scope");
    if (json_is_string(scope_claim) && value_has(scope_claim, scope))
        return true;
    return value_has(json_object_get(claims, "scp"), scope);
}

struct gw_auth_policy gw_auth_policy_of(enum gw_auth_mode mode, const struct gw_string_list *scopes)
{
    return (struct gw_auth_policy){.mode = mode, .scopes = scopes->items, .n_scopes = scopes->n};
}

static void refuse(struct gw_auth_decision *out, enum gw_auth_verdict verdict, const char *error,
                   const char *attr_name, const char *attr, bool attr_space, const char *message)
{
    struct gw_strbuf b = {0};
    out->verdict = verdict;
    out->http = verdict == GW_AUTH_FORBIDDEN ? 403 : 401;
    out->code = verdict == GW_AUTH_FORBIDDEN ? "forbidden" : "unauthorized";
    gw_strbuf_adds(&b, SCHEME " realm=\"" GW_AUTH_REALM "\"");
    if (error != NULL) {
        gw_strbuf_adds(&b, ", error=\"");
        gw_strbuf_adds(&b, error);
        gw_strbuf_adds(&b, "\", ");
        gw_strbuf_adds(&b, attr_name);
        gw_strbuf_adds(&b, "=\"");
        add_attr(&b, attr, attr_space);
        gw_strbuf_adds(&b, "\"");
    }
    take_into(&b, out->challenge, sizeof(out->challenge));
    snprintf(out->message, sizeof(out->message), "%s", message);
}

void gw_auth_decide(const struct gw_auth_policy *p, const struct gw_auth_token_state *t,
                    struct gw_auth_decision *out)
{
    *out = (struct gw_auth_decision){.verdict = GW_AUTH_ANONYMOUS};
    if (p->mode == GW_AUTH_NONE)
        return;
    if (!t->sent) {
        if (p->mode == GW_AUTH_OPTIONAL && p->n_scopes == 0)
            return;
        refuse(out, GW_AUTH_UNAUTHORIZED, NULL, NULL, NULL, false, MISSING_MESSAGE);
        return;
    }
    if (t->verify_status != GW_OK || t->claims == NULL) {
        const char *reason = t->reason != NULL && t->reason[0] != '\0' ? t->reason : GENERIC_REASON;
        refuse(out, GW_AUTH_UNAUTHORIZED, "invalid_token", "error_description", reason, true,
               reason);
        return;
    }
    for (size_t i = 0; i < p->n_scopes; i++) {
        if (gw_auth_has_scope(t->claims, p->scopes[i]))
            continue;
        /* The challenge names every scope the route needs (RFC 6750 section 3), the message the
         * first one missing. */
        struct gw_strbuf all = {0};
        char message[GW_AUTH_MESSAGE_LEN];
        for (size_t j = 0; j < p->n_scopes; j++) {
            if (j > 0)
                gw_strbuf_adds(&all, " ");
            add_attr(&all, p->scopes[j], false);
        }
        snprintf(message, sizeof(message), "the token lacks the scope '%s'", p->scopes[i]);
        refuse(out, GW_AUTH_FORBIDDEN, "insufficient_scope", "scope", all.data, true, message);
        free(all.data);
        return;
    }
    out->verdict = GW_AUTH_AUTHENTIC;
}

static bool b64token_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

enum gw_bearer gw_auth_bearer(const char *value, size_t len, const char **token, size_t *token_len)
{
    *token = NULL;
    *token_len = 0;
    if (value == NULL || len < SCHEME_LEN || strncasecmp(value, SCHEME, SCHEME_LEN) != 0)
        return GW_BEARER_NONE;
    if (len > SCHEME_LEN && value[SCHEME_LEN] != ' ')
        return GW_BEARER_NONE; /* another scheme that starts alike ("Bearerx") */
    size_t start = SCHEME_LEN;
    while (start < len && value[start] == ' ')
        start++;
    size_t end = len;
    while (end > start && value[end - 1] == ' ')
        end--;
    size_t i = start;
    while (i < end && value[i] != '\0' && b64token_char(value[i]))
        i++;
    while (i < end && value[i] == '=' && i > start)
        i++;
    if (i == start || i != end)
        return GW_BEARER_MALFORMED;
    *token = value + start;
    *token_len = end - start;
    return GW_BEARER_TOKEN;
}

bool gw_auth_claims_exp(const json_t *claims, double *exp)
{
    const json_t *v = json_object_get(claims, "exp");
    if (!json_is_number(v))
        return false;
    *exp = trunc(json_number_value(v)); /* whole seconds, as the check reads it (routes/jwt.c) */
    return true;
}

void gw_auth_claims_to_context(const struct gw_auth_claim *map, size_t n, const json_t *claims,
                               json_t *context)
{
    for (size_t i = 0; i < n; i++)
        json_object_del(context, map[i].key);
    for (size_t i = 0; claims && i < n; i++) {
        json_t *v = json_object_get(claims, map[i].claim);
        if (json_is_string(v) || json_is_number(v) || json_is_boolean(v) || json_is_array(v))
            json_object_set(context, map[i].key, v);
    }
}
