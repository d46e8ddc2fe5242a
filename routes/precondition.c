#include "precondition.h"

#include <string.h>

static const char *skip_separators(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == ',')
        p++;
    return p;
}

bool gw_etag_list_matches(const char *list, const char *etag, bool weak)
{
    const char *p = skip_separators(list);
    if (*p == '*')
        return *skip_separators(p + 1) == '\0';
    bool etag_weak = strncmp(etag, "W/", 2) == 0;
    const char *opaque = etag_weak ? etag + 2 : etag;
    size_t opaque_len = strlen(opaque);
    while (*p) {
        bool tag_weak = strncmp(p, "W/", 2) == 0;
        if (tag_weak)
            p += 2;
        if (*p != '"')
            return false; /* not an entity tag: the list does not parse */
        /* etagc is any visible byte but DQUOTE, a comma included: the closing quote ends it. */
        const char *close = strchr(p + 1, '"');
        if (!close)
            return false;
        size_t len = (size_t)(close - p) + 1;
        if (close[1] != '\0' && close[1] != ',' && close[1] != ' ' && close[1] != '\t')
            return false;
        if (len == opaque_len && memcmp(p, opaque, len) == 0 && (weak || (!tag_weak && !etag_weak)))
            return true;
        p = skip_separators(close + 1);
    }
    return false;
}

enum gw_precondition gw_precondition_evaluate(const struct gw_preconditions *p, const char *etag,
                                              int64_t modified)
{
    if (p->if_match) {
        if (!gw_etag_list_matches(p->if_match, etag, false))
            return GW_PRECONDITION_FAILED;
    } else if (p->has_if_unmodified_since && modified > p->if_unmodified_since) {
        return GW_PRECONDITION_FAILED;
    }
    if (p->if_none_match)
        return gw_etag_list_matches(p->if_none_match, etag, true) ? GW_PRECONDITION_NOT_MODIFIED
                                                                  : GW_PRECONDITION_PROCEED;
    if (p->has_if_modified_since && modified <= p->if_modified_since)
        return GW_PRECONDITION_NOT_MODIFIED;
    return GW_PRECONDITION_PROCEED;
}
