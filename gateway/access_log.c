#include "access_log.h"

#include "core/json.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "core/text.h"
#include "core/utf8.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A line being written into a fixed buffer: what does not fit is cut, as gw_log_write cuts. */
struct line {
    char text[GW_LOG_LINE_MAX];
    size_t len;
};

static void put(struct line *l, const char *s, size_t n)
{
    size_t room = sizeof(l->text) - 1 - l->len; /* one byte kept for the '\n' */
    if (n > room)
        n = room;
    memcpy(l->text + l->len, s, n);
    l->len += n;
}

static void puts_(struct line *l, const char *s)
{
    put(l, s, strlen(s));
}

/* What a client sent (its method, its path), written so that it cannot forge a line: control
 * bytes (a CR that sends a terminal's cursor back, an ANSI escape), DEL, the quote that ends the
 * field, the backslash and bytes that are not UTF-8 go as \xNN (libmicrohttpd reads targets that
 * hold them). */
static void put_client_text(struct line *l, const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        unsigned long cp;
        size_t len = c < 0x80 ? 1 : gw_utf8_decode(s + i, n - i, &cp);
        if (len == 0 || c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
            char esc[5];
            snprintf(esc, sizeof(esc), "\\x%02x", c);
            put(l, esc, 4);
            i++;
            continue;
        }
        put(l, s + i, len);
        i += len;
    }
}

/* s[0..n) as a JSON string: ill-formed UTF-8 repaired (U+FFFD), so that the line stays JSON. */
static void json_client_text(struct gw_strbuf *b, const char *s, size_t n)
{
    if (gw_utf8_valid(s, n)) {
        gw_json_write_string(b, s, n, GW_JSON_COMPACT);
        return;
    }
    size_t len;
    char *repaired = gw_utf8_repair(s, n, &len);
    gw_json_write_string(b, repaired, len, GW_JSON_COMPACT);
    free(repaired);
}

/* "%.3f" of a duration in milliseconds (rounded to the microsecond) into buf; returns the length.
 */
static size_t format_ms(char *buf, double ms)
{
    uint64_t us = ms > 0 ? (uint64_t)(ms * 1000.0 + 0.5) : 0;
    size_t n = gw_fmt_u64(buf, us / 1000);
    unsigned frac = (unsigned)(us % 1000);
    buf[n++] = '.';
    buf[n++] = (char)('0' + frac / 100);
    buf[n++] = (char)('0' + frac / 10 % 10);
    buf[n++] = (char)('0' + frac % 10);
    buf[n] = '\0';
    return n;
}

/* <prefix><remote> "<method> <path>" <status> <ms>ms <call_id>[ trace_id=.. span_id=..][ (client
 * gone)], built by hand: printf was a fifth of a request's instructions (bench/README.md). */
static void write_text(const struct gw_access *a, bool traced)
{
    struct line l;
    l.len = gw_log_prefix(l.text, sizeof(l.text), GW_LOG_INFO, "access");
    char number[GW_U64_DIGITS + 8];
    puts_(&l, a->remote);
    put(&l, " \"", 2);
    put_client_text(&l, a->method, strlen(a->method));
    put(&l, " ", 1);
    put_client_text(&l, a->path, strnlen(a->path, a->path_len));
    put(&l, "\" ", 2);
    put(&l, number, gw_fmt_i64(number, a->status));
    put(&l, " ", 1);
    put(&l, number, format_ms(number, a->duration_ms));
    put(&l, "ms ", 3);
    puts_(&l, a->call_id ? a->call_id : "-");
    if (traced) {
        puts_(&l, " trace_id=");
        puts_(&l, a->trace_id);
        puts_(&l, " span_id=");
        puts_(&l, a->span_id);
    }
    if (a->client_gone)
        puts_(&l, " (client gone)");
    l.text[l.len++] = '\n';
    gw_log_emit(GW_LOG_INFO, l.text, l.len);
}

void gw_log_access(const struct gw_access *a)
{
    if (GW_LOG_INFO < gw_log_threshold)
        return;
    bool traced = a->trace_id && a->span_id;
    if (gw_log_format == GW_LOG_TEXT) {
        write_text(a, traced);
        return;
    }
    char ts[96];
    gw_log_timestamp(ts, sizeof(ts));
    struct gw_strbuf b = {0};
    gw_strbuf_adds(&b, "{\"ts\":\"");
    gw_strbuf_adds(&b, ts);
    gw_strbuf_adds(&b, "\",\"level\":\"info\",\"component\":\"access\"");
    if (gw_log_worker) {
        char worker[32];
        snprintf(worker, sizeof(worker), ",\"worker\":%d", gw_log_worker);
        gw_strbuf_adds(&b, worker);
    }
    gw_strbuf_adds(&b, ",\"remote\":");
    gw_json_write_string(&b, a->remote, strlen(a->remote), GW_JSON_COMPACT);
    gw_strbuf_adds(&b, ",\"method\":");
    json_client_text(&b, a->method, strlen(a->method));
    gw_strbuf_adds(&b, ",\"path\":");
    json_client_text(&b, a->path, strnlen(a->path, a->path_len));
    char duration[GW_U64_DIGITS + 8];
    gw_strbuf_adds(&b, ",\"status\":");
    gw_strbuf_add_u64(&b, a->status > 0 ? (uint64_t)a->status : 0);
    gw_strbuf_adds(&b, ",\"duration_ms\":");
    gw_strbuf_add(&b, duration, format_ms(duration, a->duration_ms));
    gw_strbuf_adds(&b, ",\"call_id\":");
    if (a->call_id)
        gw_json_write_string(&b, a->call_id, strlen(a->call_id), GW_JSON_COMPACT);
    else
        gw_strbuf_adds(&b, "null");
    if (traced) {
        /* Hex digits only: no escaping needed. */
        gw_strbuf_adds(&b, ",\"trace_id\":\"");
        gw_strbuf_adds(&b, a->trace_id);
        gw_strbuf_adds(&b, "\",\"span_id\":\"");
        gw_strbuf_adds(&b, a->span_id);
        gw_strbuf_adds(&b, "\"");
    }
    gw_strbuf_adds(&b, a->client_gone ? ",\"client_gone\":true}\n" : ",\"client_gone\":false}\n");
    gw_log_emit(GW_LOG_INFO, b.data, b.len);
    free(b.data);
}
