/* accept_encoding.c - Accept-Encoding, read as RFC 9110 §12.5.3 says. */
#include "routes/accept_encoding.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The q-value of the parameters after a coding (";q=0.5"), 1 when none; -1 for a malformed one,
 * which makes the element count for nothing. */
static double qvalue(const char *params, size_t len)
{
    double q = 1.0;
    size_t i = 0;
    while (i < len) {
        while (i < len && (params[i] == ';' || params[i] == ' ' || params[i] == '\t'))
            i++;
        if (i + 1 < len && (params[i] == 'q' || params[i] == 'Q') && params[i + 1] == '=') {
            i += 2;
            /* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) */
            if (i >= len || (params[i] != '0' && params[i] != '1'))
                return -1;
            double v = params[i] - '0';
            i++;
            if (i < len && params[i] == '.') {
                i++;
                double scale = 0.1;
                for (int d = 0; d < 3 && i < len && params[i] >= '0' && params[i] <= '9'; d++) {
                    v += (params[i] - '0') * scale;
                    scale /= 10;
                    i++;
                }
            }
            if (v > 1.0)
                return -1;
            q = v;
        }
        while (i < len && params[i] != ';')
            i++;
    }
    return q;
}

bool gw_accept_gzip(const char *header)
{
    if (!header)
        return false;
    double gzip = -1, any = -1;
    const char *p = header;
    while (*p) {
        size_t n = strcspn(p, ",");
        const char *end = p + n;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        size_t name_len = strcspn(p, ";, \t");
        if (name_len > (size_t)(end - p))
            name_len = (size_t)(end - p);
        const char *params = p + name_len;
        double q = qvalue(params, (size_t)(end - params));
        if ((name_len == 4 && strncasecmp(p, "gzip", 4) == 0) ||
            (name_len == 6 && strncasecmp(p, "x-gzip", 6) == 0))
            gzip = q > gzip ? q : gzip;
        else if (name_len == 1 && *p == '*')
            any = q;
        p = *end ? end + 1 : end;
    }
    double q = gzip >= 0 ? gzip : any;
    return q > 0;
}
