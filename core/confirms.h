/* confirms.h - the publishes the broker has not confirmed yet, in tag order, and whom each one's
 * return and confirm are for (core/broker's bookkeeping of publisher confirms). Pure. */
#ifndef ENOKI_CONFIRMS_H
#define ENOKI_CONFIRMS_H

#include <stddef.h>
#include <stdint.h>

/* No user: nobody is told of the publish's return or confirm. */
#define GW_CONFIRMS_NO_USER (-1)

/* The longest key a publish is matched by, with its NUL (core/broker.h's GW_BROKER_KEY_MAX). */
#define GW_CONFIRMS_KEY_MAX 64

struct gw_confirm {
    uint64_t tag;
    int user; /* told of its return and confirm, or GW_CONFIRMS_NO_USER */
    char key[GW_CONFIRMS_KEY_MAX];
};

struct gw_confirms;

/* Never NULL. */
struct gw_confirms *gw_confirms_new(void);
void gw_confirms_free(struct gw_confirms *confirms);

/* Files the publish of delivery tag for user by key (key NULL: nobody is told). */
void gw_confirms_add(struct gw_confirms *confirms, uint64_t tag, int user, const char *key);

/* The publish with key came back unrouted: its user (GW_CONFIRMS_NO_USER if none is waiting), who
 * is then not told of its confirm. */
int gw_confirms_returned(struct gw_confirms *confirms, const char *key);

/* The broker confirmed tag (and every earlier one when multiple): they are taken out, and those
 * with a user to tell are copied into *done (new; free it), their number returned. */
size_t gw_confirms_settle(struct gw_confirms *confirms, uint64_t tag, int multiple,
                          struct gw_confirm **done);

/* Forgets them all (the connection is gone). */
void gw_confirms_clear(struct gw_confirms *confirms);

#endif
