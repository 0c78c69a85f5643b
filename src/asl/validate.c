/*
 * validate.c — CreateStateMachine's definition check: walks the JSON of a definition once
 * and records every problem in a bt_diag with AWS's code, wording and location. This file
 * holds the entry points and the walk (machines, states, transitions, reachability,
 * QueryLanguage); the checks it calls live in the other validate_*.c files.
 *
 * Called by the API layer (Create/Update/ValidateStateMachineDefinition), the CLI and the
 * compiler's callers before asl_compile, which may then assume a well-formed definition.
 * Every recursion (sub-machines, Choice rules, templates) is depth-limited, so any input is
 * checked in bounded stack.
 */
#include "asl/validate_int.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/err.h"

#include <stdlib.h>
#include <string.h>

#define MAX_STATE_NAME_CHARS 80

/* The "Type" values, in states.def order (AWS lists them so in its error message). */
static const char *const state_type_names[] = {
#define ASL_STATE(e, name) #name,
#include "asl/states.def"
#undef ASL_STATE
};

/* ---- transitions -------------------------------------------------------------------- */

/* A transition target (Next, Default): a string naming a state of the same scope. */
void validate__check_target(vctx *v, json_t *obj, const char *key, json_t *scope)
{
    json_t *val = json_object_get(obj, key);
    if (!val)
        return;
    if (!json_is_string(val)) {
        validate__expected_type(v, key, "STRING");
        return;
    }
    if (!json_object_get(scope, json_string_value(val)))
        validate__report_at(v, key, MISSING_TARGET, "Missing 'Next' target: %s",
                            json_string_value(val));
}

/* ---- states ------------------------------------------------------------------------- */

static unsigned type_bit(const char *type)
{
    for (unsigned i = 0; i < N_ELEMS(state_type_names); i++)
        if (strcmp(type, state_type_names[i]) == 0)
            return 1u << i;
    return 0;
}

/* The state's language: its own QueryLanguage when valid, else the machine's. */
static bool state_is_jsonata(vctx *v, json_t *state)
{
    json_t *ql = json_object_get(state, "QueryLanguage");
    if (!json_is_string(ql))
        return v->top_jsonata;
    const char *s = json_string_value(ql);
    if (strcmp(s, "JSONata") == 0)
        return true;
    if (strcmp(s, "JSONPath") == 0)
        return false;
    return v->top_jsonata;
}

static void check_query_language(vctx *v, json_t *owner, bool is_state)
{
    static const char *const langs[] = {"JSONPath", "JSONata"};
    json_t *ql = json_object_get(owner, "QueryLanguage");
    if (!ql)
        return;
    validate__check_enum(v, owner, "QueryLanguage", langs, N_ELEMS(langs));
    if (!json_is_string(ql))
        return;
    const char *s = json_string_value(ql);
    if (is_state && v->top_jsonata && strcmp(s, "JSONPath") == 0)
        validate__report(
            v, SCHEMA,
            "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state "
            "machine");
}

static void check_next_end(vctx *v, json_t *state, json_t *scope)
{
    json_t *next = json_object_get(state, "Next");
    json_t *end = json_object_get(state, "End");
    validate__check_bool(v, state, "End");
    bool is_end = json_is_true(end);
    if (next && is_end)
        validate__report(v, SCHEMA, "A state cannot have both 'Next' and 'End'");
    else if (!next && !is_end)
        validate__report(v, SCHEMA, "A state must have either 'Next' or 'End' set to true");
    validate__check_target(v, state, "Next", scope);
}

static void check_state(vctx *v, const char *name, json_t *state, json_t *scope, int depth)
{
    size_t chars = validate__utf8_chars(name);
    if (chars == 0 || chars > MAX_STATE_NAME_CHARS)
        validate__report(v, "INVALID_STATE_NAME",
                         "State name must be between 1 and %d characters long",
                         MAX_STATE_NAME_CHARS);
    if (json_object_get(v->names, name))
        validate__report(v, "DUPLICATE_STATE_NAME", "Duplicate State name: %s", name);
    else
        json_object_set_new(v->names, name, json_true());

    if (!json_is_object(state)) {
        validate__report(v, SCHEMA, "Expected value of type [OBJECT]");
        return;
    }
    static const char *const required[] = {"Type"};
    if (!validate__require_fields(v, state, required, N_ELEMS(required)))
        return;
    const char *type = validate__get_string(v, state, "Type");
    if (!type)
        return;
    unsigned bit = type_bit(type);
    if (!bit) {
        validate__check_enum(v, state, "Type", state_type_names, N_ELEMS(state_type_names));
        return;
    }

    check_query_language(v, state, true);
    bool jsonata = state_is_jsonata(v, state);
    validate__check_fields(v, state, bit, jsonata);
    if (jsonata)
        validate__check_jsonata(v, state);
    validate__get_string(v, state, "Comment");

    if (bit & (T_PASS | T_TASK | T_WAIT | T_PARALLEL | T_MAP))
        check_next_end(v, state, scope);
    if (!jsonata) {
        validate__check_path(v, state, "InputPath", 0, true);
        validate__check_path(v, state, "OutputPath", 0, true);
        validate__check_path(v, state, "ResultPath",
                             JPATH_REFERENCE | JPATH_NO_CONTEXT | JPATH_NO_VARS, true);
        validate__check_template_field(v, state, "Parameters", false);
        validate__check_template_field(v, state, "ResultSelector", true);
    }
    if (bit & ~(unsigned)(T_SUCCEED | T_FAIL))
        validate__check_assign(v, state, jsonata);
    if (bit & (T_TASK | T_PARALLEL | T_MAP)) {
        validate__check_retry(v, state, jsonata);
        validate__check_catch(v, state, scope, jsonata);
    }

    switch (bit) {
    case T_TASK:
        validate__check_task(v, state, jsonata);
        break;
    case T_CHOICE:
        validate__check_choice(v, state, scope, jsonata);
        break;
    case T_WAIT:
        validate__check_wait(v, state, jsonata);
        break;
    case T_FAIL:
        validate__check_fail(v, state, jsonata);
        break;
    case T_PARALLEL:
        validate__check_parallel(v, state, depth);
        break;
    case T_MAP:
        validate__check_map(v, state, jsonata, depth);
        break;
    default:
        break;
    }
}

/* ---- scopes: reachability and terminal states --------------------------------------- */

static void mark_target(json_t *scope, json_t *reached, json_t *queue, json_t *target)
{
    if (!json_is_string(target))
        return;
    const char *name = json_string_value(target);
    if (!json_object_get(scope, name) || json_object_get(reached, name))
        return;
    json_object_set_new(reached, name, json_true());
    json_array_append(queue, target);
}

/* Reports states no transition reaches from StartAt (AWS: "is not reachable."). */
static void check_reachable(vctx *v, json_t *scope, json_t *start)
{
    json_t *reached = json_object();
    json_t *queue = json_array();
    mark_target(scope, reached, queue, start);
    for (size_t qi = 0; qi < json_array_size(queue); qi++) {
        json_t *state = json_object_get(scope, json_string_value(json_array_get(queue, qi)));
        if (!json_is_object(state))
            continue;
        mark_target(scope, reached, queue, json_object_get(state, "Next"));
        mark_target(scope, reached, queue, json_object_get(state, "Default"));
        static const char *const lists[] = {"Choices", "Catch"};
        for (size_t l = 0; l < N_ELEMS(lists); l++) {
            size_t i;
            json_t *el;
            json_array_foreach(json_object_get(state, lists[l]), i, el)
            {
                mark_target(scope, reached, queue, json_object_get(el, "Next"));
            }
        }
    }
    const char *name;
    json_t *state;
    json_object_foreach(scope, name, state)
    {
        if (json_object_get(reached, name))
            continue;
        size_t mark = validate__ptr_key(v, "States");
        size_t m2 = validate__ptr_key(v, name);
        validate__report(v, MISSING_TARGET, "State \"%s\" is not reachable.", name);
        validate__ptr_pop(v, m2);
        validate__ptr_pop(v, mark);
    }
    json_decref(queue);
    json_decref(reached);
}

static bool has_terminal_state(json_t *scope)
{
    const char *name;
    json_t *state;
    json_object_foreach(scope, name, state)
    {
        const char *type = json_string_value(json_object_get(state, "Type"));
        if (json_is_true(json_object_get(state, "End")) ||
            (type && (strcmp(type, "Succeed") == 0 || strcmp(type, "Fail") == 0)))
            return true;
    }
    return false;
}

/*
 * A state machine or sub-machine (Parallel branch, Map ItemProcessor) rooted at the current
 * pointer. Each is its own scope for transitions.
 */
void validate__check_machine(vctx *v, json_t *machine, bool is_processor, int depth)
{
    static const char *const top_allowed[] = {"StartAt", "States",         "Comment",
                                              "Version", "TimeoutSeconds", "QueryLanguage"};
    static const char *const branch_allowed[] = {"StartAt", "States", "Comment"};
    static const char *const processor_allowed[] = {"StartAt", "States", "Comment",
                                                    "ProcessorConfig"};
    static const char *const required[] = {"States", "StartAt"};
    bool top = depth == 0;

    if (depth > MAX_NESTING) {
        validate__report(v, "TOO_DEEPLY_NESTED", "The states are nested more than %d levels deep",
                         MAX_NESTING);
        return;
    }
    if (top)
        validate__only_fields(v, machine, top_allowed, N_ELEMS(top_allowed));
    else if (is_processor)
        validate__only_fields(v, machine, processor_allowed, N_ELEMS(processor_allowed));
    else
        validate__only_fields(v, machine, branch_allowed, N_ELEMS(branch_allowed));
    validate__require_fields(v, machine, required, N_ELEMS(required));
    validate__get_string(v, machine, "Comment");
    if (top) {
        static const char *const versions[] = {"1.0"};
        validate__check_enum(v, machine, "Version", versions, N_ELEMS(versions));
        validate__check_int(v, machine, "TimeoutSeconds", 1, MAX_SECONDS, NULL);
        check_query_language(v, machine, false);
    }

    json_t *start = json_object_get(machine, "StartAt");
    if (start && !json_is_string(start))
        validate__expected_type(v, "StartAt", "STRING");
    json_t *scope = json_object_get(machine, "States");
    if (!scope)
        return;
    if (!json_is_object(scope)) {
        validate__expected_type(v, "States", "OBJECT");
        return;
    }

    size_t mark = validate__ptr_key(v, "States");
    const char *name;
    json_t *state;
    json_object_foreach(scope, name, state)
    {
        size_t m2 = validate__ptr_key(v, name);
        check_state(v, name, state, scope, depth);
        validate__ptr_pop(v, m2);
    }
    validate__ptr_pop(v, mark);

    if (json_is_string(start) && !json_object_get(scope, json_string_value(start)))
        validate__report_at(v, "StartAt", MISSING_TARGET, "Missing 'Next' target: %s",
                            json_string_value(start));
    if (top && !has_terminal_state(scope)) {
        bt_diag_add(v->diag, "MISSING_END_STATE", NULL, "Workflow has no terminal state");
        return;
    }
    if (json_is_string(start))
        check_reachable(v, scope, start);
}

/* ---- entry points ------------------------------------------------------------------- */

int asl_validate(json_t *definition, bt_diag *diag)
{
    size_t before = diag->len;
    if (!json_is_object(definition)) {
        bt_diag_add(diag, SCHEMA, NULL, "Definition must be a valid JSON object");
        return BT_EINVAL;
    }
    vctx v = {.diag = diag, .names = json_object()};
    bt_buf_init(&v.ptr);
    json_t *ql = json_object_get(definition, "QueryLanguage");
    v.top_jsonata = json_is_string(ql) && strcmp(json_string_value(ql), "JSONata") == 0;

    validate__check_machine(&v, definition, false, 0);

    json_decref(v.names);
    bt_buf_fini(&v.ptr);
    return diag->len == before ? 0 : BT_EINVAL;
}

static bool all_space(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\n' && text[i] != '\r')
            return false;
    return true;
}

int asl_validate_text(const char *text, size_t len, json_t **out, bt_diag *diag)
{
    *out = NULL;
    if (len > ASL_MAX_DEFINITION_BYTES) {
        bt_diag_add(diag, SCHEMA, NULL, "Definition must be at most %d bytes long",
                    ASL_MAX_DEFINITION_BYTES);
        return BT_EINVAL;
    }
    if (all_space(text, len)) {
        bt_diag_add(diag, SCHEMA, NULL, "Definition must be a valid JSON object");
        return BT_EINVAL;
    }
    json_error_t err;
    json_t *def = json_loadb(text, len, JSON_DECODE_ANY, &err);
    if (!def) {
        bt_diag_add(diag, "INVALID_JSON_DESCRIPTION", NULL, "%s at line %d, column %d", err.text,
                    err.line, err.column);
        return BT_EINVAL;
    }
    int rc = asl_validate(def, diag);
    if (rc != 0) {
        json_decref(def);
        return rc;
    }
    *out = def;
    return 0;
}
