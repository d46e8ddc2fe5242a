/* channels.c - GATEWAY.channels decided: claims put into patterns, then a bounded match. */
#include "routes/channels.h"

#include "core/json.h"
#include "core/xalloc.h"
#include "routes/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A pattern once its claims are in: a byte to match, or one of these. */
enum { TOKEN_STAR = -1, TOKEN_DOUBLE_STAR = -2 };

/* Room for an integer claim's decimal text. */
#define INTEGER_TEXT_LEN 24

struct tokens {
    int *items;
    size_t n, cap;
};

static void push(struct tokens *t, int token)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 64;
        t->items = xrealloc(t->items, t->cap * sizeof(*t->items));
    }
    t->items[t->n++] = token;
}

/* The text a claim puts into a pattern, or NULL when it can put none (see channels.h). */
static const char *claim_text(const json_t *claims, const char *name, size_t name_len, char *buf,
                              size_t buf_len)
{
    const json_t *v = claims != NULL ? json_object_getn(claims, name, name_len) : NULL;
    const char *text = NULL;
    if (json_is_integer(v)) {
        snprintf(buf, buf_len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    }
    text = gw_json_text(v);
    if (!text)
        return NULL;
    /* A NUL inside would cut the value; the others would change what the pattern means. */
    if (text[0] == '\0' || strlen(text) != json_string_length(v) || strpbrk(text, ".*{}") != NULL)
        return NULL;
    return text;
}

/* The tokens of a valid pattern with claims put in; false when a claim cannot fill its place. */
static bool expand(const char *pattern, const json_t *claims, struct tokens *out)
{
    char buf[INTEGER_TEXT_LEN];
    for (const char *p = pattern; *p != '\0'; p++) {
        if (*p == '*' && p[1] == '*') {
            push(out, TOKEN_DOUBLE_STAR);
            p++;
        } else if (*p == '*') {
            push(out, TOKEN_STAR);
        } else if (*p == '{') {
            const char *end = strchr(p, '}');
            const char *text = claim_text(claims, p + 1, (size_t)(end - p - 1), buf, sizeof(buf));
            if (text == NULL)
                return false;
            for (; *text != '\0'; text++)
                push(out, (unsigned char)*text);
            p = end;
        } else {
            push(out, (unsigned char)*p);
        }
    }
    return true;
}

static bool is_star(int token)
{
    return token == TOKEN_STAR || token == TOKEN_DOUBLE_STAR;
}

/* A star may match nothing: every position after an active star is active too. */
static void close_over_stars(const struct tokens *t, unsigned char *active)
{
    for (size_t i = 0; i < t->n; i++) {
        if (active[i] && is_star(t->items[i]))
            active[i + 1] = 1;
    }
}

/* Runs the set of active pattern positions over the channel: each byte costs one pass over the
 * pattern, never a backtrack. */
static bool run(const struct tokens *t, const char *channel)
{
    unsigned char *cur = xcalloc(t->n + 1, 1);
    unsigned char *next = xcalloc(t->n + 1, 1);
    bool alive = true;
    cur[0] = 1;
    close_over_stars(t, cur);
    for (const char *c = channel; *c != '\0' && alive; c++) {
        memset(next, 0, t->n + 1);
        alive = false;
        for (size_t i = 0; i < t->n; i++) {
            if (!cur[i])
                continue;
            int token = t->items[i];
            if (token == TOKEN_DOUBLE_STAR || (token == TOKEN_STAR && *c != '.'))
                next[i] = 1;
            else if (token == (unsigned char)*c)
                next[i + 1] = 1;
            else
                continue;
            alive = true;
        }
        close_over_stars(t, next);
        unsigned char *swap = cur;
        cur = next;
        next = swap;
    }
    bool matched = alive && cur[t->n];
    free(cur);
    free(next);
    return matched;
}

bool gw_channel_pattern_match(const char *pattern, const char *channel, const json_t *claims)
{
    struct tokens t = {0};
    if (!json_is_object(claims))
        claims = NULL;
    if (strnlen(channel, GW_CHANNEL_MAX + 1) > GW_CHANNEL_MAX ||
        !gw_channel_pattern_check(pattern, NULL, 0))
        return false;
    bool matched = expand(pattern, claims, &t) && run(&t, channel);
    free(t.items);
    return matched;
}

/* gw_auth_decide's verdict for a verified token (claims) or none, without its texts. */
static bool policy_met(const struct gw_auth_policy *p, const json_t *claims)
{
    if (p->mode == GW_AUTH_NONE)
        return true;
    if (claims == NULL)
        return p->mode == GW_AUTH_OPTIONAL && p->n_scopes == 0;
    for (size_t i = 0; i < p->n_scopes; i++) {
        if (!gw_auth_has_scope(claims, p->scopes[i]))
            return false;
    }
    return true;
}

bool gw_channels_allow(const struct gw_config *config, const char *channel, const json_t *claims)
{
    if (!json_is_object(claims))
        claims = NULL;
    for (size_t i = 0; i < config->channels.n; i++) {
        const struct gw_policy_entry *entry = &config->channels.items[i];
        struct gw_auth_policy policy = gw_auth_policy_of(entry->auth, &entry->scopes);
        if (policy_met(&policy, claims) &&
            gw_channel_pattern_match(entry->pattern, channel, claims))
            return true;
    }
    return false;
}
