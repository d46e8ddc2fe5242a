/* openapi_schema.c - the JSON Schemas of the OpenAPI document: a converter's values, and a route's
 * own schemas placed where their references still hold (see openapi_schema.h). */
#include "routes/openapi_schema.h"

#include "core/util.h"
#include "core/xalloc.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The largest fixed_digits whose bounds a 64-bit integer holds (10^18 - 1). */
#define MAX_BOUNDED_DIGITS 18

const char *gw_openapi_converter_name(enum gw_conv_kind kind)
{
    static const char *const names[] = {
        [GW_CONV_STRING] = "string", [GW_CONV_ANY] = "any",     [GW_CONV_PATH] = "path",
        [GW_CONV_INT] = "int",       [GW_CONV_FLOAT] = "float", [GW_CONV_UUID] = "uuid"};
    return (size_t)kind < ARRAY_LEN(names) ? names[kind] : "string";
}

static double bound_double(const struct gw_rule_bound *b)
{
    return b->is_int ? (double)b->i : b->d;
}

static json_t *bound_json(const struct gw_rule_bound *b)
{
    return b->is_int ? json_integer(b->i) : json_real(b->d);
}

static long long power_of_ten(long long n)
{
    long long p = 1;
    while (n-- > 0)
        p *= 10;
    return p;
}

/* int and float: the bounds werkzeug checks, no negative value unless signed, and for int's
 * fixed_digits the range its digits can write (the sign counts as one of them). */
static void number_bounds(const struct gw_rule_conv *conv, json_t *schema)
{
    struct gw_rule_bound lo = conv->min;
    struct gw_rule_bound hi = conv->max;
    if (!conv->is_signed && (!lo.set || bound_double(&lo) < 0))
        lo = (struct gw_rule_bound){.set = 1, .is_int = 1, .i = 0};
    if (conv->kind == GW_CONV_INT && conv->fixed_digits > 0 &&
        conv->fixed_digits <= MAX_BOUNDED_DIGITS) {
        long long top = power_of_ten(conv->fixed_digits) - 1;
        long long bottom = conv->is_signed ? -(power_of_ten(conv->fixed_digits - 1) - 1) : 0;
        if (!hi.set || bound_double(&hi) > (double)top)
            hi = (struct gw_rule_bound){.set = 1, .is_int = 1, .i = top};
        if (!lo.set || bound_double(&lo) < (double)bottom)
            lo = (struct gw_rule_bound){.set = 1, .is_int = 1, .i = bottom};
    }
    if (lo.set)
        json_object_set_new(schema, "minimum", bound_json(&lo));
    if (hi.set)
        json_object_set_new(schema, "maximum", bound_json(&hi));
}

json_t *gw_openapi_converter_schema(const struct gw_rule_conv *conv)
{
    json_t *schema = json_object();
    switch (conv->kind) {
    case GW_CONV_INT:
    case GW_CONV_FLOAT:
        json_object_set_new(schema, "type",
                            json_string(conv->kind == GW_CONV_INT ? "integer" : "number"));
        number_bounds(conv, schema);
        break;
    case GW_CONV_UUID:
        json_object_set_new(schema, "type", json_string("string"));
        json_object_set_new(schema, "format", json_string("uuid"));
        break;
    case GW_CONV_ANY: {
        json_t *items = json_array();
        for (size_t i = 0; i < conv->nitems; i++) {
            bool seen = false;
            for (size_t j = 0; j < i; j++)
                seen = seen || strcmp(conv->items[i], conv->items[j]) == 0;
            if (!seen) /* an enum's values are unique; werkzeug keeps duplicates in its regex */
                json_array_append_new(items, json_string(conv->items[i]));
        }
        json_object_set_new(schema, "type", json_string("string"));
        json_object_set_new(schema, "enum", items);
        break;
    }
    case GW_CONV_PATH:
        json_object_set_new(schema, "type", json_string("string"));
        json_object_set_new(schema, "minLength", json_integer(1));
        break;
    case GW_CONV_STRING:
        json_object_set_new(schema, "type", json_string("string"));
        json_object_set_new(schema, "minLength", json_integer((json_int_t)conv->minlen));
        if (conv->has_maxlen)
            json_object_set_new(schema, "maxLength", json_integer((json_int_t)conv->maxlen));
        json_object_set_new(schema, "pattern", json_string("^[^/]*$"));
        break;
    }
    return schema;
}

/* A reference into the schema's own document: "#" or "#/..." ("#/$defs/Item", as pydantic writes
 * them), not an anchor ("#name") and not one that already means the OpenAPI document's
 * components. */
static bool own_ref(const json_t *value)
{
    const char *v = json_string_value(value);
    return v && v[0] == '#' && (v[1] == '\0' || (v[1] == '/' && strncmp(v, "#/components/", 13)));
}

/* Keywords whose values are data, not schemas: a "$ref" member there is not a reference. */
static bool data_keyword(const char *key)
{
    return !strcmp(key, "const") || !strcmp(key, "default") || !strcmp(key, "enum") ||
           !strcmp(key, "examples") || !strcmp(key, "example");
}

/* Keywords whose values map names (a property's, a definition's) to schemas. */
static bool names_keyword(const char *key)
{
    return !strcmp(key, "properties") || !strcmp(key, "patternProperties") ||
           !strcmp(key, "$defs") || !strcmp(key, "definitions") || !strcmp(key, "dependentSchemas");
}

/* Whether schema has an own reference; with base, each is also made to point under base
 * ("#/components/schemas/X"), in place. names: schema's keys are names, each value a schema. */
static bool own_refs(json_t *schema, const char *base, bool names);

/* Whether value is an own reference; with base, it is made to point under base. */
static bool move_ref(json_t *value, const char *base)
{
    if (!own_ref(value))
        return false;
    if (base) {
        char *moved = xasprintf("%s%s", base, json_string_value(value) + 1);
        json_string_set(value, moved);
        free(moved);
    }
    return true;
}

/* A discriminator's mapping: its values are references too (OpenAPI's Discriminator Object). */
static bool mapping_refs(json_t *mapping, const char *base)
{
    const char *key;
    json_t *value;
    bool found = false;
    json_object_foreach(mapping, key, value)
    {
        found = move_ref(value, base) || found;
    }
    return found;
}

static bool own_refs(json_t *schema, const char *base, bool names)
{
    const char *key;
    json_t *value;
    size_t i;
    bool found = false;
    if (json_is_object(schema)) {
        /* A schema with an $id of its own is the base of its references: they hold where it is. */
        if (!names && json_object_get(schema, "$id"))
            return false;
        json_object_foreach(schema, key, value)
        {
            bool own;
            if (!names && strcmp(key, "$ref") == 0)
                own = move_ref(value, base);
            else if (!names && strcmp(key, "discriminator") == 0)
                own = mapping_refs(json_object_get(value, "mapping"), base);
            else
                own = (names || !data_keyword(key)) &&
                      own_refs(value, base, !names && names_keyword(key));
            found = found || own;
            if (found && !base)
                return true;
        }
    } else if (json_is_array(schema)) {
        json_array_foreach(schema, i, value)
        {
            found = own_refs(value, base, false) || found;
            if (found && !base)
                return true;
        }
    }
    return found;
}

json_t *gw_openapi_place_schema(json_t *schemas, const json_t *schema, const char *name)
{
    json_t *copy = json_deep_copy(schema);
    if (!own_refs(copy, NULL, false))
        return copy;
    char *key = xstrdup(name);
    for (int n = 2;; n++) {
        char *base = xasprintf("#/components/schemas/%s", key);
        json_t *placed = json_deep_copy(copy);
        own_refs(placed, base, false);
        const json_t *there = json_object_get(schemas, key);
        if (!there || json_equal(there, placed)) {
            json_object_set_new(schemas, key, placed);
            json_decref(copy);
            json_t *ref = json_pack("{s:s}", "$ref", base);
            free(base);
            free(key);
            return ref;
        }
        json_decref(placed);
        free(base);
        free(key);
        key = xasprintf("%s.%d", name, n);
    }
}
