/* pytext.c - Python's view of UTF-8 text (see pytext.h). */
#include "routes/pytext.h"

#include "core/strbuf.h"
#include "core/utf8.h"
#include "core/util.h"

#include <string.h>

size_t gw_cp_count(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (!gw_cp_is_cont((unsigned char)s[i]))
            count++;
    return count;
}

size_t gw_cp_decode(const char *s, size_t pos, size_t end, unsigned long *cp)
{
    size_t next = gw_cp_next(s, pos, end);
    if (gw_utf8_decode(s + pos, next - pos, cp) != next - pos)
        *cp = 0xFFFD;
    return next;
}

/* Python's \d and int()/float() accept every Unicode decimal digit (category Nd), not just 0-9:
 * werkzeug's <int:n> matches "/x/٣٤" and gives 34. These are the Nd runs of Unicode 14.0 (Python
 * 3.11), generated with re.match(r"\d", chr(cp)); every run is whole blocks of 0..9. */
static const unsigned long decimal_runs[][2] = {
    {0x0030, 0x0039},   {0x0660, 0x0669},   {0x06F0, 0x06F9},   {0x07C0, 0x07C9},
    {0x0966, 0x096F},   {0x09E6, 0x09EF},   {0x0A66, 0x0A6F},   {0x0AE6, 0x0AEF},
    {0x0B66, 0x0B6F},   {0x0BE6, 0x0BEF},   {0x0C66, 0x0C6F},   {0x0CE6, 0x0CEF},
    {0x0D66, 0x0D6F},   {0x0DE6, 0x0DEF},   {0x0E50, 0x0E59},   {0x0ED0, 0x0ED9},
    {0x0F20, 0x0F29},   {0x1040, 0x1049},   {0x1090, 0x1099},   {0x17E0, 0x17E9},
    {0x1810, 0x1819},   {0x1946, 0x194F},   {0x19D0, 0x19D9},   {0x1A80, 0x1A89},
    {0x1A90, 0x1A99},   {0x1B50, 0x1B59},   {0x1BB0, 0x1BB9},   {0x1C40, 0x1C49},
    {0x1C50, 0x1C59},   {0xA620, 0xA629},   {0xA8D0, 0xA8D9},   {0xA900, 0xA909},
    {0xA9D0, 0xA9D9},   {0xA9F0, 0xA9F9},   {0xAA50, 0xAA59},   {0xABF0, 0xABF9},
    {0xFF10, 0xFF19},   {0x104A0, 0x104A9}, {0x10D30, 0x10D39}, {0x11066, 0x1106F},
    {0x110F0, 0x110F9}, {0x11136, 0x1113F}, {0x111D0, 0x111D9}, {0x112F0, 0x112F9},
    {0x11450, 0x11459}, {0x114D0, 0x114D9}, {0x11650, 0x11659}, {0x116C0, 0x116C9},
    {0x11730, 0x11739}, {0x118E0, 0x118E9}, {0x11950, 0x11959}, {0x11C50, 0x11C59},
    {0x11D50, 0x11D59}, {0x11DA0, 0x11DA9}, {0x16A60, 0x16A69}, {0x16AC0, 0x16AC9},
    {0x16B50, 0x16B59}, {0x1D7CE, 0x1D7FF}, {0x1E140, 0x1E149}, {0x1E2F0, 0x1E2F9},
    {0x1E950, 0x1E959}, {0x1FBF0, 0x1FBF9},
};

int gw_py_decimal_value(unsigned long cp)
{
    if (cp < 0x80)
        return cp >= '0' && cp <= '9' ? (int)(cp - '0') : -1;
    size_t lo = 0;
    size_t hi = ARRAY_LEN(decimal_runs);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp < decimal_runs[mid][0])
            hi = mid;
        else if (cp > decimal_runs[mid][1])
            lo = mid + 1;
        else
            return (int)((cp - decimal_runs[mid][0]) % 10);
    }
    return -1;
}

int gw_py_is_digit(unsigned long cp)
{
    return gw_py_decimal_value(cp) >= 0;
}

int gw_py_is_space(unsigned long cp)
{
    if (cp < 0x80)
        return cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1F);
    return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

/* Outside ASCII every non-space code point counts as a word character: \w only matters for
 * converter arguments written without quotes, where the difference cannot change a match. */
int gw_py_is_word(unsigned long cp)
{
    if (cp < 0x80)
        return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') ||
               cp == '_';
    return !gw_py_is_space(cp);
}

size_t gw_py_run_end(const char *s, size_t pos, size_t end, int (*pred)(unsigned long))
{
    while (pos < end) {
        unsigned long cp;
        size_t next = gw_cp_decode(s, pos, end, &cp);
        if (!pred(cp))
            break;
        pos = next;
    }
    return pos;
}

size_t gw_py_digit_at(const char *s, size_t pos, size_t end)
{
    if (pos >= end)
        return pos;
    unsigned long cp;
    size_t next = gw_cp_decode(s, pos, end, &cp);
    return gw_py_is_digit(cp) ? next : pos;
}

size_t gw_py_digits_end(const char *s, size_t pos, size_t end)
{
    return gw_py_run_end(s, pos, end, gw_py_is_digit);
}

void gw_py_re_escape(struct gw_strbuf *sb, const char *s, size_t n)
{
    /* CPython's table exactly: the key of a dynamic part must be werkzeug's regex text. */
    static const char special[] = "()[]{}?*+-|^$\\.&~# \t\n\r\v\f";
    for (size_t i = 0; i < n; i++) {
        if (memchr(special, s[i], sizeof(special) - 1) != NULL && s[i] != '\0')
            gw_strbuf_add(sb, "\\", 1);
        gw_strbuf_add(sb, s + i, 1);
    }
}
