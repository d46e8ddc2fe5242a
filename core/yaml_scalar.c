/* yaml_scalar.c - YAML 1.1 implicit types, PyYAML's SafeLoader resolver patterns written out. */
#include "core/yaml_scalar.h"

#include "core/strbuf.h"
#include "core/text.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool all_chars_in(const char *s, size_t n, const char *set)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\0' || strchr(set, s[i]) == NULL)
            return false;
    }
    return true;
}

static bool match_one_of(const char *s, const char *const *words)
{
    for (size_t i = 0; words[i] != NULL; i++) {
        if (strcmp(s, words[i]) == 0)
            return true;
    }
    return false;
}

static const char *const null_words[] = {"", "~", "null", "Null", "NULL", NULL};
static const char *const true_words[] = {"yes",  "Yes", "YES", "true", "True",
                                         "TRUE", "on",  "On",  "ON",   NULL};
static const char *const false_words[] = {"no",    "No",  "NO",  "false", "False",
                                          "FALSE", "off", "Off", "OFF",   NULL};

bool gw_yaml_is_null(const char *text)
{
    return match_one_of(text, null_words);
}

bool gw_yaml_resolve_bool(const char *text, bool *out)
{
    if (match_one_of(text, true_words)) {
        *out = true;
        return true;
    }
    if (match_one_of(text, false_words)) {
        *out = false;
        return true;
    }
    return false;
}

/* Matches (?::[0-5]?[0-9])+ to the end of s, the sexagesimal tail of "1:30". */
static bool match_sexagesimal_tail(const char *s, size_t n)
{
    size_t i = 0;
    if (n == 0)
        return false;
    while (i < n) {
        if (s[i] != ':')
            return false;
        i++;
        if (i + 1 < n && s[i] >= '0' && s[i] <= '5' && is_digit(s[i + 1]) &&
            (i + 2 == n || s[i + 2] == ':'))
            i += 2;
        else if (i < n && is_digit(s[i]) && (i + 1 == n || s[i + 1] == ':'))
            i += 1;
        else
            return false;
    }
    return true;
}

/* Parses digits and underscores (already checked) in a base, clamping on overflow. */
static long long parse_digits(const char *s, size_t n, int base)
{
    long long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '_')
            continue;
        int d = gw_hex_value(s[i]);
        if (v > (LLONG_MAX - d) / base)
            return LLONG_MAX;
        v = v * base + d;
    }
    return v;
}

static long long sexagesimal_value(const char *s)
{
    long long v = 0;
    const char *p = s;
    for (;;) {
        size_t n = strcspn(p, ":");
        long long part = parse_digits(p, n, 10);
        if (v > (LLONG_MAX - part) / 60)
            return LLONG_MAX;
        v = v * 60 + part;
        if (p[n] != ':')
            return v;
        p += n + 1;
    }
}

bool gw_yaml_resolve_int(const char *text, long long *out)
{
    const char *s = text;
    bool negative = false;
    if (*s == '-' || *s == '+') {
        negative = *s == '-';
        s++;
    }
    size_t n = strlen(s);
    long long v;
    if (n > 2 && s[0] == '0' && s[1] == 'b' && all_chars_in(s + 2, n - 2, "01_")) {
        v = parse_digits(s + 2, n - 2, 2);
    } else if (n > 2 && s[0] == '0' && s[1] == 'x' &&
               all_chars_in(s + 2, n - 2, "0123456789abcdefABCDEF_")) {
        v = parse_digits(s + 2, n - 2, 16);
    } else if (n == 1 && s[0] == '0') {
        v = 0;
    } else if (n > 1 && s[0] == '0' && all_chars_in(s + 1, n - 1, "01234567_")) {
        v = parse_digits(s + 1, n - 1, 8);
    } else if (n > 0 && s[0] >= '1' && s[0] <= '9') {
        size_t d = strspn(s, "0123456789_");
        if (d == n)
            v = parse_digits(s, n, 10);
        else if (match_sexagesimal_tail(s + d, n - d))
            v = sexagesimal_value(s);
        else
            return false;
    } else {
        return false;
    }
    *out = negative ? -v : v;
    return true;
}

/* Matches [eE][-+][0-9]+ to the end, or nothing at all. */
static bool match_exponent(const char *s)
{
    if (*s == '\0')
        return true;
    if ((s[0] != 'e' && s[0] != 'E') || (s[1] != '-' && s[1] != '+') || !is_digit(s[2]))
        return false;
    return strspn(s + 2, "0123456789") == strlen(s + 2);
}

bool gw_yaml_resolve_float(const char *text, double *out)
{
    const char *s = text;
    bool negative = false;
    bool has_sign = *s == '-' || *s == '+';
    if (has_sign) {
        negative = *s == '-';
        s++;
    }
    if (strcmp(s, ".inf") == 0 || strcmp(s, ".Inf") == 0 || strcmp(s, ".INF") == 0) {
        *out = negative ? -INFINITY : INFINITY;
        return true;
    }
    if (!has_sign && (strcmp(s, ".nan") == 0 || strcmp(s, ".NaN") == 0 || strcmp(s, ".NAN") == 0)) {
        *out = NAN;
        return true;
    }
    size_t d = strspn(s, "0123456789_");
    bool ok = false;
    if (d > 0 && is_digit(s[0]) && s[d] == '.') {
        const char *frac = s + d + 1;
        ok = match_exponent(frac + strspn(frac, "0123456789_"));
    } else if (d == 0 && s[0] == '.' && !has_sign) {
        /* PyYAML's "\.[0-9][0-9_]*": "._5" is a string. */
        size_t f = strspn(s + 1, "0123456789_");
        ok = is_digit(s[1]) && match_exponent(s + 1 + f);
    } else if (d > 0 && is_digit(s[0]) && s[d] == ':') {
        /* "1:30.5", sexagesimal with a fraction; the tail before the '.' is ":[0-5]?[0-9]"s. */
        const char *dot = strchr(s + d, '.');
        ok = dot != NULL && match_sexagesimal_tail(s + d, (size_t)(dot - (s + d))) &&
             strspn(dot + 1, "0123456789_") == strlen(dot + 1);
    }
    if (!ok)
        return false;
    struct gw_strbuf b = {0};
    for (const char *p = s; *p != '\0'; p++) {
        if (*p != '_')
            gw_strbuf_add(&b, p, 1);
    }
    char *digits = gw_strbuf_take(&b);
    /* Sexagesimal parts fold base 60, as PyYAML's construct_yaml_float does. */
    double v = 0.0;
    const char *part = digits;
    for (;;) {
        char *end = NULL;
        v = v * 60.0 + strtod(part, &end);
        if (*end != ':')
            break;
        part = end + 1;
    }
    free(digits);
    *out = negative ? -v : v;
    return true;
}

struct gw_yaml_node *gw_yaml_typed_scalar(const char *text, const char *origin, int line)
{
    struct gw_yaml_node *n = gw_yaml_node_new(GW_YAML_STRING, origin, line, text);
    if (gw_yaml_is_null(text))
        n->kind = GW_YAML_NULL;
    else if (gw_yaml_resolve_bool(text, &n->bval))
        n->kind = GW_YAML_BOOL;
    else if (gw_yaml_resolve_int(text, &n->ival))
        n->kind = GW_YAML_INT;
    else if (gw_yaml_resolve_float(text, &n->fval))
        n->kind = GW_YAML_FLOAT;
    return n;
}
