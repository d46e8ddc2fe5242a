/* fuzz_channels - libFuzzer harness for routes/channels (and core/config_policy's pattern syntax).
 *
 * The input is three parts, one a line: a pattern, a channel, then a claims object as JSON (the
 * rest of the input; anything that is not a JSON object means anonymous). Properties: never a
 * crash, a leak or a long run (libFuzzer's timeout: matching must stay linear); an invalid pattern
 * says why and matches nothing; a pattern naming a claim matches nothing anonymously; a short
 * pattern without claims matches exactly when a plain backtracking matcher says so;
 * gw_channels_allow follows the match and the entry's auth.
 */
#include "fuzz_util.h"

#include "core/config_policy.h"
#include "routes/channels.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Beyond these the reference matcher below could take too long itself. */
#define REFERENCE_MAX_PATTERN 12
#define REFERENCE_MAX_CHANNEL 48

/* The textbook backtracking matcher: exponential at worst, obviously right. */
static bool reference(const char *p, const char *s)
{
    if (*p == '\0')
        return *s == '\0';
    if (p[0] == '*' && p[1] == '*')
        return reference(p + 2, s) || (*s != '\0' && reference(p, s + 1));
    if (*p == '*')
        return reference(p + 1, s) || (*s != '\0' && *s != '.' && reference(p, s + 1));
    return *p == *s && reference(p + 1, s + 1);
}

static void check_allow(const char *pattern, const char *channel, const json_t *claims,
                        bool matched)
{
    struct gw_policy_entry entry = {.pattern = (char *)(uintptr_t)pattern};
    struct gw_config config = {.channels = {&entry, 1}};
    bool has_claims = json_is_object(claims);
    entry.auth = GW_AUTH_NONE;
    FUZZ_ASSERT(gw_channels_allow(&config, channel, claims) == matched);
    entry.auth = GW_AUTH_OPTIONAL;
    FUZZ_ASSERT(gw_channels_allow(&config, channel, claims) == matched);
    entry.auth = GW_AUTH_REQUIRED;
    FUZZ_ASSERT(gw_channels_allow(&config, channel, claims) == (matched && has_claims));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_slice rest = {(const char *)data, size}, line;
    char *pattern = fuzz_next_line(&rest, &line) ? fuzz_cstr(line.p, line.n) : fuzz_cstr("", 0);
    char *channel = fuzz_next_line(&rest, &line) ? fuzz_cstr(line.p, line.n) : fuzz_cstr("", 0);
    json_t *claims = rest.n > 0 ? json_loadb(rest.p, rest.n, JSON_DECODE_ANY, NULL) : NULL;

    char reason[GW_CHANNEL_REASON_LEN] = "";
    bool valid = gw_channel_pattern_check(pattern, reason, sizeof(reason));
    FUZZ_ASSERT(valid || reason[0] != '\0');
    bool matched = gw_channel_pattern_match(pattern, channel, claims);
    FUZZ_ASSERT(valid || !matched);
    bool anonymous = gw_channel_pattern_match(pattern, channel, NULL);
    if (gw_channel_pattern_names_claim(pattern))
        FUZZ_ASSERT(!anonymous);
    else
        FUZZ_ASSERT(anonymous == matched);
    if (valid && !gw_channel_pattern_names_claim(pattern) &&
        strlen(pattern) <= REFERENCE_MAX_PATTERN && strlen(channel) <= REFERENCE_MAX_CHANNEL)
        FUZZ_ASSERT(matched == reference(pattern, channel));
    check_allow(pattern, channel, claims, matched);

    json_decref(claims);
    free(pattern);
    free(channel);
    return 0;
}
