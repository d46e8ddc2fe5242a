/* rule_refusal.h - the check the rule, converter and argument tests share: a route the table
 * refuses at add time, with its message, and leaves nothing behind. */
#ifndef ENOKI_TEST_RULE_REFUSAL_H
#define ENOKI_TEST_RULE_REFUSAL_H

struct refusal {
    const char *rule;
    const char *message; /* expected err text (a prefix of it) */
};

/* Asserts that gw_route_table_add refuses c->rule with GW_ERULE and an err starting with
 * c->message, and that the table then matches nothing. */
void assert_rule_refused(const struct refusal *c);

#endif
