/*
 * validate_jsonata.c — the expressions of a JSONata-mode state: every "{% … %}" string in a
 * field that takes one is compiled at definition time, as CreateStateMachine does, and one
 * that does not parse is reported with AWS's code INVALID_JSONATA_EXPRESSION and the
 * parser's message at the field's location (AWS's answer as quoted in
 * https://github.com/floci-io/floci/issues/2745). Called by check_state (validate.c).
 */
#include "asl/jtemplate.h"
#include "asl/validate_int.h"

#include <string.h>

/* Fields of a JSONata state whose values are data, expressions allowed anywhere inside. */
static const char *const expression_fields[] = {
    "Arguments",
    "Output",
    "Assign",
    "Items",
    "ItemSelector",
    "MaxConcurrency",
    "ToleratedFailureCount",
    "ToleratedFailurePercentage",
    "Seconds",
    "Timestamp",
    "TimeoutSeconds",
    "HeartbeatSeconds",
    "Error",
    "Cause",
    "Credentials",
};

static void check_value(vctx *v, json_t *obj, const char *key)
{
    json_t *val = json_object_get(obj, key);
    if (val == NULL)
        return;
    asl_jt *t = NULL;
    asl_jt_problem p;
    if (asl_jt_compile(val, &t, &p) == 0) {
        asl_jt_free(t);
        return;
    }
    size_t mark = validate__ptr_key(v, key);
    bt_buf_puts(&v->ptr, p.field); /* "/name" or "[i]" below the field, as the pointer goes */
    validate__report(v, "INVALID_JSONATA_EXPRESSION", "%s",
                     p.err.message ? p.err.message : "Invalid JSONata expression");
    validate__ptr_pop(v, mark);
    asl_jt_problem_fini(&p);
}

static void check_list(vctx *v, json_t *state, const char *list, const char *const *keys,
                       size_t n_keys)
{
    json_t *arr = json_object_get(state, list);
    if (!json_is_array(arr))
        return;
    size_t mark = validate__ptr_key(v, list);
    size_t i;
    json_t *el;
    json_array_foreach(arr, i, el)
    {
        if (!json_is_object(el))
            continue;
        size_t m2 = validate__ptr_index(v, i);
        for (size_t k = 0; k < n_keys; k++)
            check_value(v, el, keys[k]);
        validate__ptr_pop(v, m2);
    }
    validate__ptr_pop(v, mark);
}

void validate__check_jsonata(vctx *v, json_t *state)
{
    for (size_t i = 0; i < N_ELEMS(expression_fields); i++)
        check_value(v, state, expression_fields[i]);
    static const char *const rule_keys[] = {"Condition", "Output", "Assign"};
    static const char *const catch_keys[] = {"Output", "Assign"};
    check_list(v, state, "Choices", rule_keys, N_ELEMS(rule_keys));
    check_list(v, state, "Catch", catch_keys, N_ELEMS(catch_keys));
}
