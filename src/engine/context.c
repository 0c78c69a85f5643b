/*
 * context.c — what expressions of a state can read besides its input: the context object
 * "$$" (Execution, StateMachine, State, Task, Map.Item), variables with their scoping (a
 * run sees its own scope and its parents', except across a distributed Map), and the
 * execution's seeded randomness for States.UUID / MathRandom.
 */
#include "base/timefmt.h"
#include "engine/exec_int.h"

static json_t *var_lookup(void *ud, const char *name)
{
    run *r = ud;
    for (; r; r = r->parent) {
        if (r->vars) {
            json_t *v = json_object_get(r->vars, name);
            if (v)
                return v;
        }
        if (r->isolated)
            break;
    }
    return NULL;
}

static uint64_t env_random(void *ud)
{
    return bt_rand_next(&((exec *)ud)->rng);
}

void exec__env_init(exec__envs *v, run *r, json_t *input)
{
    v->paths.input = input;
    v->paths.context = r->ctx;
    v->paths.var = var_lookup;
    v->paths.var_ud = r;
    v->intr.paths = &v->paths;
    v->intr.random = env_random;
    v->intr.random_ud = r->e;
}

json_t *exec__time_string(int64_t ms)
{
    char buf[40];
    bt_time_format(ms, buf, sizeof(buf));
    return json_string(buf);
}

void exec__build_context(run *r, json_t *map_item_value, size_t map_index)
{
    exec *e = r->e;
    json_t *c = json_object();
    json_object_set(c, "Execution", e->ctx_execution);
    json_object_set(c, "StateMachine", e->ctx_machine);
    json_t *s = json_object();
    json_object_set_new(s, "EnteredTime", exec__time_string(r->entered_ms));
    json_object_set_new(s, "Name", json_string(r->st->name));
    if (r->st->type == ASL_TASK || r->st->type == ASL_PARALLEL || r->st->type == ASL_MAP)
        json_object_set_new(s, "RetryCount", json_integer(r->retry_count));
    json_object_set_new(c, "State", s);
    if (r->task_mem.token[0]) {
        json_t *t = json_object();
        json_object_set_new(t, "Token", json_string(r->task_mem.token));
        json_object_set_new(c, "Task", t);
    }
    if (map_item_value) {
        json_t *item = json_object();
        json_object_set_new(item, "Index", json_integer((json_int_t)map_index));
        json_object_set(item, "Value", map_item_value);
        json_t *mp = json_object();
        json_object_set_new(mp, "Item", item);
        json_object_set_new(c, "Map", mp);
    }
    exec__set_json(&r->ctx, c);
}

void exec__context_init(exec *e)
{
    json_t *x = json_object();
    json_object_set_new(x, "Id", json_string(e->arn));
    json_object_set(x, "Input", e->input);
    json_object_set_new(x, "Name", json_string(e->name));
    json_object_set_new(x, "RoleArn", json_string(e->role_arn));
    json_object_set_new(x, "StartTime", exec__time_string(e->start_ms));
    if (!e->express) /* Express executions cannot be redriven: AWS's context has no count */
        json_object_set_new(x, "RedriveCount", json_integer(0));
    e->ctx_execution = x;
    json_t *sm = json_object();
    json_object_set_new(sm, "Id", json_string(e->sm_arn));
    json_object_set_new(sm, "Name", json_string(e->sm_name));
    e->ctx_machine = sm;
}
