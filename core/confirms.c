/* confirms.c - unconfirmed publishes, matched to their returns and confirms. */
#include "core/confirms.h"

#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gw_confirms {
    struct gw_confirm *items;
    size_t n, cap;
};

struct gw_confirms *gw_confirms_new(void)
{
    return xcalloc(1, sizeof(struct gw_confirms));
}

void gw_confirms_free(struct gw_confirms *confirms)
{
    if (!confirms)
        return;
    free(confirms->items);
    free(confirms);
}

void gw_confirms_add(struct gw_confirms *confirms, uint64_t tag, int user, const char *key)
{
    if (confirms->n == confirms->cap) {
        confirms->cap = confirms->cap ? confirms->cap * 2 : 64;
        confirms->items = xrealloc(confirms->items, confirms->cap * sizeof(*confirms->items));
    }
    struct gw_confirm *c = &confirms->items[confirms->n++];
    c->tag = tag;
    c->user = key ? user : GW_CONFIRMS_NO_USER;
    size_t n = key ? strnlen(key, sizeof(c->key) - 1) : 0;
    memcpy(c->key, key ? key : "", n);
    c->key[n] = '\0';
}

int gw_confirms_returned(struct gw_confirms *confirms, const char *key)
{
    /* A return comes before the confirm of the same publish, so the publish is still here. */
    for (size_t i = 0; i < confirms->n; i++) {
        struct gw_confirm *c = &confirms->items[i];
        if (c->user == GW_CONFIRMS_NO_USER || strcmp(c->key, key) != 0)
            continue;
        int user = c->user;
        c->user = GW_CONFIRMS_NO_USER; /* its confirm has nothing more to say */
        return user;
    }
    return GW_CONFIRMS_NO_USER;
}

size_t gw_confirms_settle(struct gw_confirms *confirms, uint64_t tag, int multiple,
                          struct gw_confirm **done)
{
    size_t n_done = 0, keep = 0;
    *done = NULL;
    for (size_t i = 0; i < confirms->n; i++) {
        struct gw_confirm *c = &confirms->items[i];
        int covered = multiple ? c->tag <= tag : c->tag == tag;
        if (!covered) {
            confirms->items[keep++] = *c;
        } else if (c->user != GW_CONFIRMS_NO_USER) {
            *done = xrealloc(*done, (n_done + 1) * sizeof(**done));
            (*done)[n_done++] = *c;
        }
    }
    confirms->n = keep;
    return n_done;
}

void gw_confirms_clear(struct gw_confirms *confirms)
{
    confirms->n = 0;
}
