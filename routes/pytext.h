/* pytext.h - Python's view of UTF-8 text, for the werkzeug rule modules: stepping over code points,
 * the character classes \d, \s and \w as Python's re module has them, and re.escape.
 *
 * Pure functions over borrowed bytes. Positions are byte offsets; a "code point" is a lead byte and
 * the continuation bytes after it, so stepping is total even over bytes that are not UTF-8.
 */
#ifndef ENOKI_ROUTE_PYTEXT_H
#define ENOKI_ROUTE_PYTEXT_H

#include <stddef.h>

struct gw_strbuf;

/* The three steppers are inline because part matching calls them once per candidate end, and the
 * build has no link-time optimisation to inline them across files. */

/* Whether c is a UTF-8 continuation byte (10xxxxxx). */
static inline int gw_cp_is_cont(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

/* The position after the code point at pos (pos < end). A stray continuation byte sticks to the
 * code point before it, which keeps stepping total and symmetric with gw_cp_prev. */
static inline size_t gw_cp_next(const char *s, size_t pos, size_t end)
{
    pos++;
    while (pos < end && gw_cp_is_cont((unsigned char)s[pos]))
        pos++;
    return pos;
}

/* The start of the code point before pos (start < pos), never before start. */
static inline size_t gw_cp_prev(const char *s, size_t start, size_t pos)
{
    pos--;
    while (pos > start && gw_cp_is_cont((unsigned char)s[pos]))
        pos--;
    return pos;
}

/* The number of code points in s[0..n). */
size_t gw_cp_count(const char *s, size_t n);

/* Decodes the code point at pos (pos < end) into *cp, an ill-formed one as U+FFFD, and returns the
 * position after it (gw_cp_next). */
size_t gw_cp_decode(const char *s, size_t pos, size_t end, unsigned long *cp);

/* The value 0..9 of a Unicode decimal digit (category Nd, Python's \d and int()), or -1. */
int gw_py_decimal_value(unsigned long cp);

/* Python's \d, \s (str.isspace) and \w; \w is approximate outside ASCII (see pytext.c). Each
 * returns 1 or 0. */
int gw_py_is_digit(unsigned long cp);
int gw_py_is_space(unsigned long cp);
int gw_py_is_word(unsigned long cp);

/* The end of the run of code points from pos (up to end) that satisfy pred. */
size_t gw_py_run_end(const char *s, size_t pos, size_t end, int (*pred)(unsigned long));

/* The position after the decimal digit at pos, or pos itself when there is none (pos == end
 * included). */
size_t gw_py_digit_at(const char *s, size_t pos, size_t end);

/* The end of the run of decimal digits from pos: gw_py_run_end(s, pos, end, gw_py_is_digit). */
size_t gw_py_digits_end(const char *s, size_t pos, size_t end);

/* Appends re.escape(s[0..n)) (Python 3.7+) to sb: a backslash before each of ()[]{}?*+-|^$\.&~#
 * and whitespace. */
void gw_py_re_escape(struct gw_strbuf *sb, const char *s, size_t n);

#endif
