/*
 * validate_choice.c — the Choice state: its Choices list and Default, and each rule, nested
 * through And/Or/Not: exactly one comparison operator (choice_ops.def), operand types,
 * Variable as a reference path, and only Condition in JSONata. Called by the walk
 * (validate.c). Rule nesting is bounded by MAX_NESTING.
 */
#include "asl/validate_int.h"
#include "path/jsonpath.h"

#include <string.h>

/* Choice comparison operators (JSONPath, choice_ops.def) and what their operand must be. */
enum op_kind { OP_STRING, OP_NUMBER, OP_BOOLEAN, OP_TIMESTAMP, OP_PATH };

static const struct {
    const char *name;
    enum op_kind kind;
} choice_ops[] = {
#define OP_NO_PATH(name)
#define OP_WITH_PATH(name)                          {name "Path", OP_PATH},
#define CHOICE_OP(name, family, cmp, operand, path) {#name, OP_##operand}, OP_##path(#name)
#include "asl/choice_ops.def"
#undef CHOICE_OP
#undef OP_WITH_PATH
#undef OP_NO_PATH
};

/* ---- Choice rules ------------------------------------------------------------------- */

static void check_rule(vctx *v, json_t *rule, bool top, bool jsonata, json_t *scope, int depth);

static void check_rule_list(vctx *v, json_t *rule, const char *key, bool jsonata, json_t *scope,
                            int depth)
{
    json_t *list = json_object_get(rule, key);
    if (!json_is_array(list)) {
        validate__expected_type(v, key, "ARRAY");
        return;
    }
    size_t mark = validate__ptr_key(v, key);
    if (json_array_size(list) == 0)
        validate__report(v, SCHEMA, "The field '%s' must not be empty", key);
    size_t i;
    json_t *el;
    json_array_foreach(list, i, el)
    {
        size_t m2 = validate__ptr_index(v, i);
        check_rule(v, el, false, jsonata, scope, depth + 1);
        validate__ptr_pop(v, m2);
    }
    validate__ptr_pop(v, mark);
}

static void check_rule(vctx *v, json_t *rule, bool top, bool jsonata, json_t *scope, int depth)
{
    if (depth > MAX_NESTING) {
        validate__report(v, "TOO_DEEPLY_NESTED", "Choice rules are nested more than %d levels deep",
                         MAX_NESTING);
        return;
    }
    if (!json_is_object(rule)) {
        validate__report(v, SCHEMA, "Expected value of type [OBJECT]");
        return;
    }
    if (top) {
        static const char *const required[] = {"Next"};
        validate__require_fields(v, rule, required, N_ELEMS(required));
        validate__check_target(v, rule, "Next", scope);
        validate__check_assign(v, rule, jsonata);
    }
    if (jsonata) {
        /* Condition/Output hold JSONata expressions; only the shape is checked. */
        const char *key;
        json_t *val;
        json_object_foreach(rule, key, val)
        {
            if (strcmp(key, "Condition") != 0 && strcmp(key, "Comment") != 0 &&
                !(top && (strcmp(key, "Next") == 0 || strcmp(key, "Assign") == 0 ||
                          strcmp(key, "Output") == 0)))
                validate__report(v, SCHEMA, "Field '%s' is not supported", key);
        }
        if (top) {
            static const char *const required[] = {"Condition"};
            validate__require_fields(v, rule, required, N_ELEMS(required));
        }
        return;
    }

    size_t n_ops = 0;
    const char *key;
    json_t *val;
    json_object_foreach(rule, key, val)
    {
        bool known = false;
        for (size_t i = 0; i < N_ELEMS(choice_ops); i++) {
            if (strcmp(key, choice_ops[i].name) != 0)
                continue;
            known = true;
            n_ops++;
            switch (choice_ops[i].kind) {
            case OP_STRING:
                validate__get_string(v, rule, key);
                break;
            case OP_NUMBER:
                if (!json_is_number(val))
                    validate__expected_type(v, key, "NUMBER");
                break;
            case OP_BOOLEAN:
                validate__check_bool(v, rule, key);
                break;
            case OP_TIMESTAMP:
                validate__check_timestamp(v, rule, key);
                break;
            case OP_PATH:
                validate__check_path(v, rule, key, JPATH_REFERENCE, false);
                break;
            }
            break;
        }
        if (known)
            continue;
        if (strcmp(key, "And") == 0 || strcmp(key, "Or") == 0) {
            n_ops++;
            check_rule_list(v, rule, key, jsonata, scope, depth);
        } else if (strcmp(key, "Not") == 0) {
            n_ops++;
            size_t mark = validate__ptr_key(v, key);
            check_rule(v, val, false, jsonata, scope, depth + 1);
            validate__ptr_pop(v, mark);
        } else if (strcmp(key, "Condition") == 0 || strcmp(key, "Output") == 0) {
            validate__report(
                v, SCHEMA,
                "The QueryLanguage is set to 'JSONPath', but field '%s' is only supported "
                "for the 'JSONata' QueryLanguage",
                key);
        } else if (strcmp(key, "Variable") == 0 || strcmp(key, "Comment") == 0) {
            validate__get_string(v, rule, key);
        } else if (!(top && (strcmp(key, "Next") == 0 || strcmp(key, "Assign") == 0))) {
            validate__report(v, SCHEMA, "Field '%s' is not supported", key);
        }
    }
    bool composite =
        json_object_get(rule, "And") || json_object_get(rule, "Or") || json_object_get(rule, "Not");
    if (n_ops != 1) {
        validate__report(v, SCHEMA,
                         "A choice rule must contain exactly one comparison operator or one of "
                         "'And', 'Or', 'Not'");
    } else if (composite) {
        if (json_object_get(rule, "Variable"))
            validate__report(v, SCHEMA, "Field 'Variable' is not supported");
    } else {
        static const char *const required[] = {"Variable"};
        if (validate__require_fields(v, rule, required, N_ELEMS(required)))
            validate__check_path(v, rule, "Variable", JPATH_REFERENCE, false);
    }
}

void validate__check_choice(vctx *v, json_t *state, json_t *scope, bool jsonata)
{
    static const char *const required[] = {"Choices"};
    if (!validate__require_fields(v, state, required, N_ELEMS(required))) {
        validate__check_target(v, state, "Default", scope);
        return;
    }
    json_t *choices = json_object_get(state, "Choices");
    if (!json_is_array(choices)) {
        validate__expected_type(v, "Choices", "ARRAY");
        validate__check_target(v, state, "Default", scope);
        return;
    }
    size_t mark = validate__ptr_key(v, "Choices");
    if (json_array_size(choices) == 0)
        validate__report(v, SCHEMA, "The field 'Choices' must not be empty");
    size_t i;
    json_t *rule;
    json_array_foreach(choices, i, rule)
    {
        size_t m2 = validate__ptr_index(v, i);
        check_rule(v, rule, true, jsonata, scope, 1);
        validate__ptr_pop(v, m2);
    }
    validate__ptr_pop(v, mark);
    validate__check_target(v, state, "Default", scope);
}
