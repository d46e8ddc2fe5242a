/* channels.h - which channels a socket may subscribe to: GATEWAY.channels' patterns matched against
 * a channel name and the socket's claims, and the entry's auth and scopes (issue 15's closed
 * firehose: nothing is allowed unless an entry allows it).
 *
 * Pure. The pattern syntax is core/config_policy.h's: '*' within a segment, '**' across segments,
 * {claim} replaced by the claim's string or integer value (a missing claim, another type, an empty
 * value or one holding '.', '*', '{', '}' or a NUL makes the pattern match nothing). Matching runs
 * a set of pattern positions over the channel once, so its cost is at most the channel's length
 * times the pattern's (after claims are put in), whatever the stars: a client's channel cannot make
 * it backtrack. Channels longer than GW_CHANNEL_MAX bytes match nothing, which bounds that cost.
 */
#ifndef ENOKI_CHANNELS_H
#define ENOKI_CHANNELS_H

#include "core/config.h"

#include <jansson.h>
#include <stdbool.h>

/* The longest channel a pattern may match, in bytes. */
#define GW_CHANNEL_MAX 1024

/* Whether pattern matches channel, its claims taken from claims (a verified token's payload,
 * borrowed; NULL or not an object: anonymous, and a pattern naming a claim matches nothing). An
 * invalid pattern (gw_channel_pattern_check) matches nothing. */
bool gw_channel_pattern_match(const char *pattern, const char *channel, const json_t *claims);

/* Whether a socket with claims (as above) may subscribe to channel: some entry of
 * config->channels matches it and its auth and scopes are met. Auth none, or optional without
 * scopes: anyone; required, or any scopes: a token, holding every scope (gw_auth_has_scope). No
 * entries: nothing is allowed. config is borrowed. */
bool gw_channels_allow(const struct gw_config *config, const char *channel, const json_t *claims);

#endif
