/*
 * state_flow.c — the states that only move data and control: Pass, Choice, Wait, Succeed
 * and Fail. Each enter function runs after the Entered event and InputPath (run.c), and
 * ends by asking for the EXIT phase, arming a timer, or failing the run.
 */
#include "base/alloc.h"
#include "base/err.h"
#include "base/json.h"
#include "base/timefmt.h"
#include "engine/exec_int.h"

#include <stdlib.h>

void exec__enter_Pass(run *r)
{
    const asl_state *st = r->st;
    bt_fault f;
    bt_fault_init(&f);
    json_t *res;
    if (exec__pipeline_of(st)->arguments(r, st->parameters, r->effective, &res, &f) != 0) {
        exec__handle_error(r, &f);
        bt_fault_fini(&f);
        return;
    }
    if (exec__probing(r))
        exec__probe_arguments(r, res);
    if (st->result) {
        json_decref(res);
        res = json_incref(st->result);
    }
    exec__set_json(&r->result, res); /* its size is checked on the way out */
    exec__go_exit(r);
}

/* JSONata: the first rule whose Condition is true; its Output and Assign, or the state's. */
static void choice_jsonata(run *r)
{
    const asl_state *st = r->st;
    bt_fault f;
    bt_fault_init(&f);
    exec__jvals jv = {.input = r->effective};
    for (size_t i = 0; i < st->n_choices; i++) {
        const asl_choice *c = &st->choices[i];
        json_t *v = NULL;
        if (c->condition == NULL || exec__jt_eval(r, c->condition, "Condition", &jv, &v, &f) != 0)
            goto error;
        if (!json_is_boolean(v)) {
            exec__jt_type_fault(r, c->condition, "Condition", "boolean", v, &f);
            json_decref(v);
            goto error;
        }
        bool matched = json_is_true(v);
        json_decref(v);
        if (matched) {
            r->next = c->next;
            r->j_exit_set = true;
            r->j_exit_assign = c->jassign ? c->jassign : st->jn->assign;
            r->j_exit_output = c->output ? c->output : st->jn->output;
            exec__go_exit(r);
            return;
        }
    }
    if (st->default_next == ASL_NO_STATE) {
        bt_fault_set(&f, "States.NoChoiceMatched", "No Matches!");
        goto error;
    }
    r->next = st->default_next;
    exec__go_exit(r);
    return;

error:
    exec__handle_error(r, &f);
    bt_fault_fini(&f);
}

void exec__enter_Choice(run *r)
{
    const asl_state *st = r->st;
    if (st->jn) {
        choice_jsonata(r);
        return;
    }
    bt_fault f;
    bt_fault_init(&f);
    exec__envs v;
    exec__env_init(&v, r, r->effective);
    for (size_t i = 0; i < st->n_choices; i++) {
        bool matched = false;
        if (choice_rule_eval(st->choices[i].rule, &v.paths, &matched, &f) != 0) {
            exec__locate_fault(r, &f);
            goto error;
        }
        if (matched) {
            r->next = st->choices[i].next;
            r->exit_assign = st->choices[i].assign ? st->choices[i].assign : st->assign;
            exec__go_exit(r);
            return;
        }
    }
    if (st->default_next == ASL_NO_STATE) {
        bt_fault_set(&f, "States.NoChoiceMatched", "No Matches!");
        goto error;
    }
    r->next = st->default_next;
    r->exit_assign = st->assign;
    exec__go_exit(r);
    return;

error:
    exec__handle_error(r, &f);
    bt_fault_fini(&f);
}

/* JSONata: Seconds or Timestamp, each a literal or an expression over $states.input. */
static int wait_until_jsonata(run *r, int64_t *when, bt_fault *f)
{
    const asl_jfields *j = r->st->jn;
    if (j->seconds) {
        int64_t secs = 0;
        if (exec__jt_int(r, j->seconds, "Seconds", 0, EXEC_MAX_SECONDS, &secs, f) != 0)
            return BT_EFAULT;
        *when = exec__add_ms(r->e->now_ms, exec__seconds_ms(secs));
        return 0;
    }
    *when = r->e->now_ms;
    if (j->timestamp == NULL)
        return 0;
    exec__jvals jv = {.input = r->effective};
    json_t *v = NULL;
    if (exec__jt_eval(r, j->timestamp, "Timestamp", &jv, &v, f) != 0)
        return BT_EFAULT;
    int rc = 0;
    if (!json_is_string(v) || !bt_time_parse_rfc3339(json_string_value(v), when)) {
        char *s = json_is_string(v) ? bt_xstrdup(json_string_value(v)) : exec__json_text(v);
        exec__query_fault_at(r, f, "Timestamp",
                             "The Timestamp field cannot be parsed as an ISO-8601 extended offset "
                             "date-time format string: %s",
                             s);
        free(s);
        rc = BT_EFAULT;
    }
    json_decref(v);
    return rc;
}

/* When the Wait ends: Timestamp(Path) as given, Seconds(Path) from now, both bounded. */
static int wait_until(run *r, int64_t *when, bt_fault *f)
{
    const asl_state *st = r->st;
    exec *e = r->e;
    if (st->jn)
        return wait_until_jsonata(r, when, f);
    if (st->has_timestamp) {
        *when = st->timestamp_ms;
        return 0;
    }
    exec__envs v;
    exec__env_init(&v, r, r->effective);
    if (st->timestamp_path) {
        json_t *val = NULL;
        if (jpath_eval(st->timestamp_path, &v.paths, &val) != 0) {
            exec__runtime_fault(r, f,
                                "The TimestampPath parameter does not reference an input value: %s",
                                jpath_text(st->timestamp_path));
            return BT_EFAULT;
        }
        int64_t ms;
        if (!json_is_string(val) || !bt_time_parse_rfc3339(json_string_value(val), &ms)) {
            char *s =
                json_is_string(val) ? bt_xstrdup(json_string_value(val)) : exec__json_text(val);
            exec__runtime_fault(r, f,
                                "The TimestampPath parameter does not reference a valid ISO-8601 "
                                "extended offset date-time format string: %s == %s",
                                jpath_text(st->timestamp_path), s);
            free(s);
            json_decref(val);
            return BT_EFAULT;
        }
        json_decref(val);
        *when = ms;
        return 0;
    }
    const asl_intopt *o = &st->wait_seconds;
    int64_t secs = o->value;
    if (o->path) {
        json_t *val = NULL;
        if (jpath_eval(o->path, &v.paths, &val) != 0) {
            exec__runtime_fault(r, f,
                                "The SecondsPath parameter does not reference an input value: %s",
                                jpath_text(o->path));
            return BT_EFAULT;
        }
        char *s = exec__json_text(val);
        int rc = 0;
        if (!json_is_integer(val)) {
            exec__runtime_fault(
                r, f, "The SecondsPath parameter cannot be parsed as a long value: %s == %s",
                jpath_text(o->path), s);
            rc = BT_EFAULT;
        } else if ((secs = json_integer_value(val)) < 0) {
            exec__runtime_fault(r, f,
                                "The SecondsPath parameter references a negative value: %s == %s",
                                jpath_text(o->path), s);
            rc = BT_EFAULT;
        } else if (secs > EXEC_MAX_SECONDS) {
            /* AWS's bound of Seconds (99999999) holds for a value read at run time too */
            exec__runtime_fault(r, f,
                                "The SecondsPath parameter references a value greater than "
                                "the maximum of %lld seconds: %s == %s",
                                EXEC_MAX_SECONDS, jpath_text(o->path), s);
            rc = BT_EFAULT;
        }
        free(s);
        json_decref(val);
        if (rc != 0)
            return rc;
    }
    *when = exec__add_ms(e->now_ms, exec__seconds_ms(secs));
    return 0;
}

void exec__enter_Wait(run *r)
{
    bt_fault f;
    bt_fault_init(&f);
    int64_t when;
    if (wait_until(r, &when, &f) != 0) {
        exec__handle_error(r, &f);
        bt_fault_fini(&f);
        return;
    }
    r->ph = PH_WAIT_TIMER;
    exec__timer_arm(r->e, &r->timer, when);
}

void exec__enter_Succeed(run *r)
{
    exec__go_exit(r);
}

static int fail_field(run *r, const char *lit, const pexpr *path, const char *field, char **out,
                      bt_fault *f)
{
    *out = NULL;
    if (path == NULL) {
        *out = lit ? bt_xstrdup(lit) : NULL;
        return 0;
    }
    exec__envs v;
    exec__env_init(&v, r, r->effective);
    json_t *val = NULL;
    if (pexpr_eval(path, &v.intr, field, &val, f) != 0) {
        exec__locate_fault(r, f);
        return BT_EFAULT;
    }
    if (json_is_string(val))
        *out = bt_xstrdup(json_string_value(val));
    else
        *out = bt_json_dumps(val);
    json_decref(val);
    if (*out == NULL) {
        exec__runtime_fault(r, f, "The %s value nests deeper than %d levels.", field,
                            BT_JSON_MAX_DEPTH);
        return BT_EFAULT;
    }
    return 0;
}

static int fail_field_jsonata(run *r, const asl_jt *t, const char *field, char **out, bt_fault *f)
{
    *out = NULL;
    if (t == NULL)
        return 0;
    exec__jvals jv = {.input = r->effective};
    json_t *v = NULL;
    if (exec__jt_eval(r, t, field, &jv, &v, f) != 0)
        return BT_EFAULT;
    *out = json_is_string(v) ? bt_xstrdup(json_string_value(v)) : exec__json_text(v);
    json_decref(v);
    return 0;
}

void exec__enter_Fail(run *r)
{
    const asl_state *st = r->st;
    bt_fault f;
    bt_fault_init(&f);
    char *error = NULL, *cause = NULL;
    if (st->jn) {
        if (fail_field_jsonata(r, st->jn->error, "Error", &error, &f) != 0 ||
            fail_field_jsonata(r, st->jn->cause, "Cause", &cause, &f) != 0) {
            free(error);
            exec__handle_error(r, &f);
            bt_fault_fini(&f);
            return;
        }
    } else if (fail_field(r, st->error, st->error_path, "ErrorPath", &error, &f) != 0 ||
               fail_field(r, st->cause, st->cause_path, "CausePath", &cause, &f) != 0) {
        free(error);
        exec__handle_error(r, &f);
        bt_fault_fini(&f);
        return;
    }
    bt_fault_take(&f, error, cause);
    exec__run_fail(r, &f);
    bt_fault_fini(&f);
}
