/* config_policy.h - GATEWAY.expose and GATEWAY.channels: lists of patterns, each with the auth and
 * scopes a caller needs for what it matches.
 *
 * An entry is a plain string (the pattern) or a mapping {pattern, auth, scopes} (unknown keys are
 * errors); one string or one mapping alone is a list of one. expose patterns are fnmatch globs over
 * "service.method"; channel patterns have a syntax of their own, checked here at load and matched
 * by routes/channels:
 *   - segments separated by '.', none empty;
 *   - '*' matches any run of characters within a segment (no '.'), '**' any run at all ('***' is
 *     refused);
 *   - {name} (letters, digits, '_', '-', ':', '/') stands for the string or integer value of the
 *     token's claim `name`. Literal text may surround it in its segment (`user-{sub}`), but no '*'
 *     and no second claim may: `user.*{sub}` would let user 1 read user 21's channel.
 *
 * Auth is settled once the whole file is read, by gw_config_auth_finish with the routes' own rules:
 * an entry without auth takes GATEWAY.auth.default, or `required` when it lists scopes or its
 * pattern names a claim; auth `none` with either is refused, and so is any other auth without
 * GATEWAY.auth.jwt.
 */
#ifndef ENOKI_CONFIG_POLICY_H
#define ENOKI_CONFIG_POLICY_H

#include "core/config_auth.h"
#include "core/config_keys.h"

#include <stdbool.h>
#include <stddef.h>

/* Room for the reason gw_channel_pattern_check gives. */
#define GW_CHANNEL_REASON_LEN 160

/* One entry of GATEWAY.expose or GATEWAY.channels; every string is owned by the list. */
struct gw_policy_entry {
    char *pattern;
    enum gw_auth_mode auth;       /* settled by gw_config_auth_finish (see above) */
    bool auth_given;              /* the entry's auth is written */
    struct gw_string_list scopes; /* all required of the token (its scope or scp claim) */
    int line;                     /* of the entry in the file, for messages */
};

struct gw_policy_list {
    struct gw_policy_entry *items;
    size_t n;
};

/* The appliers of GATEWAY.expose and GATEWAY.channels; base is the struct gw_config, whose list
 * they replace. */
gw_key_apply_fn gw_config_apply_expose;
gw_key_apply_fn gw_config_apply_channels;

/* Whether pattern is a channel pattern (see above). On false, reason (may be NULL) says why, e.g.
 * "'***' is not a pattern (write '**')". */
bool gw_channel_pattern_check(const char *pattern, char *reason, size_t reason_len);

/* Whether a (valid) channel pattern names a claim. */
bool gw_channel_pattern_names_claim(const char *pattern);

/* Frees every entry and empties the list. */
void gw_policy_list_clear(struct gw_policy_list *list);

#endif
