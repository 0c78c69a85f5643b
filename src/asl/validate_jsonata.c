/*
 * validate_jsonata.c — the expressions of a JSONata-mode state: every "{% … %}" string in a
 * field that takes one is compiled at definition time, as CreateStateMachine does, and one
 * that does not parse is reported with AWS's code INVALID_JSONATA_EXPRESSION and the
 * parser's message at the field's location (AWS's answer as quoted in
 * https://github.com/floci-io/floci/issues/2745). Called by check_state (validate.c).
 *
 * An expression that parses is then refused, code UNSUPPORTED_JSONATA_EXPRESSION, for what
 * it reads from a top-level context that Step Functions never gives (it evaluates with no
 * context item; the input is $states.input): a path starting from a name, "Reference to
 * 'phone' at the top level is not supported."; the context item, "Reference to '$' at the
 * top level is not supported."; the root, "Reference to '$$' is not supported."; and
 * $states.errorOutput outside a Catch entry's Output and Assign, "Field
 * '$states.errorOutput' does not exist." — one problem per distinct reference, in the order
 * written (texts and locations as AWS's ValidateStateMachineDefinition gives them, recorded
 * in floci's StepFunctionsTopLevelReferenceIntegrationTest,
 * https://github.com/floci-io/floci).
 */
#include "asl/jtemplate.h"
#include "asl/validate_int.h"
#include "base/json.h"

#include <stdlib.h>
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

typedef struct refs_ctx {
    vctx *v;
    bool error_output; /* $states.errorOutput exists here (a Catch entry's Output, Assign) */
} refs_ctx;

static void on_ref(void *arg, jn_ref_kind kind, const char *text, size_t len)
{
    refs_ctx *rc = arg;
    switch (kind) {
    case JN_REF_NAME:
    case JN_REF_CONTEXT:
        validate__report(rc->v, "UNSUPPORTED_JSONATA_EXPRESSION",
                         "Reference to '%.*s' at the top level is not supported.", (int)len, text);
        break;
    case JN_REF_ROOT:
        validate__report(rc->v, "UNSUPPORTED_JSONATA_EXPRESSION",
                         "Reference to '$$' is not supported.");
        break;
    case JN_REF_FIELD:
        if (!rc->error_output && len == 19 && memcmp(text, "$states.errorOutput", 19) == 0)
            validate__report(rc->v, "UNSUPPORTED_JSONATA_EXPRESSION",
                             "Field '$states.errorOutput' does not exist.");
        break;
    }
}

/* Every "{% … %}" string in val (which compiled): its top-level references, each at the
 * location of its string. */
static void check_refs(refs_ctx *rc, json_t *val, int depth)
{
    if (depth > BT_JSON_MAX_DEPTH)
        return;
    if (asl_jt_is_expr(val)) {
        const char *s = json_string_value(val) + 2;
        size_t n = json_string_length(val) - 4;
        jn_expr *e;
        jn_error err;
        if (jn_compile(s, n, &e, &err) != 0) { /* not reached: the template compiled */
            jn_error_fini(&err);
            return;
        }
        jn_expr_top_refs(e, on_ref, rc);
        jn_expr_free(e);
    } else if (json_is_object(val)) {
        const char *k;
        json_t *x;
        json_object_foreach(val, k, x)
        {
            size_t mark = validate__ptr_key(rc->v, k);
            check_refs(rc, x, depth + 1);
            validate__ptr_pop(rc->v, mark);
        }
    } else if (json_is_array(val)) {
        size_t i;
        json_t *x;
        json_array_foreach(val, i, x)
        {
            size_t mark = validate__ptr_index(rc->v, i);
            check_refs(rc, x, depth + 1);
            validate__ptr_pop(rc->v, mark);
        }
    }
}

static void check_value(vctx *v, json_t *obj, const char *key, bool error_output)
{
    json_t *val = json_object_get(obj, key);
    if (val == NULL)
        return;
    asl_jt *t = NULL;
    asl_jt_problem p;
    if (asl_jt_compile(val, &t, &p) == 0) {
        asl_jt_free(t);
        refs_ctx rc = {v, error_output};
        size_t mark = validate__ptr_key(v, key);
        check_refs(&rc, val, 1);
        validate__ptr_pop(v, mark);
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
                       size_t n_keys, bool error_output)
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
            check_value(v, el, keys[k], error_output);
        validate__ptr_pop(v, m2);
    }
    validate__ptr_pop(v, mark);
}

void validate__check_jsonata(vctx *v, json_t *state)
{
    for (size_t i = 0; i < N_ELEMS(expression_fields); i++)
        check_value(v, state, expression_fields[i], false);
    static const char *const rule_keys[] = {"Condition", "Output", "Assign"};
    static const char *const catch_keys[] = {"Output", "Assign"};
    check_list(v, state, "Choices", rule_keys, N_ELEMS(rule_keys), false);
    check_list(v, state, "Catch", catch_keys, N_ELEMS(catch_keys), true);
}
