/* config_subst.h - nameko's ${VAR:default} substitution (nameko.cli.utils.config, without the
 * optional `regex` module), docs/nameko-wire.md §8.
 *
 * Where it applies is core/yaml_parse's business: plain scalars that gw_config_subst_wanted picks,
 * and quoted ones tagged !env_var or !raw_env_var. Reads the environment (getenv); nothing else.
 */
#ifndef ENOKI_CONFIG_SUBST_H
#define ENOKI_CONFIG_SUBST_H

#include <stdbool.h>
#include <stddef.h>

/* Expands nameko's ${VAR:default} references in text using getenv, as nameko's regex does: the
 * default applies only when VAR is unset; it is everything after the first ':'; text around a
 * reference is kept; a '$' with no name after "${" stays as written. Returns GW_OK and a new string
 * in *out (the caller re-parses it as YAML, so "" becomes null), or GW_ESUBST with a reason in err
 * for a nested reference (nameko refuses one too, without `regex`), *out then NULL. */
int gw_config_substitute(const char *text, char **out, char *err, size_t errlen);

/* Whether nameko's implicit resolver would tag a plain scalar !env_var: `.*\$\{.*\}.*` by re.match,
 * that is "${" and then "}" on the first line ('.' does not match a newline). */
bool gw_config_subst_wanted(const char *text);

#endif
