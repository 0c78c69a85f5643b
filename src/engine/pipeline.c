/*
 * pipeline.c — payload processing in JSONPath mode, behind exec__pipeline:
 * InputPath → Parameters → (the state's work) → ResultSelector → ResultPath → OutputPath,
 * Assign, and a catcher's ResultPath. A second query language fills a table of its own.
 *
 * Every document is built new or copy-on-write (jpath_put copies only the objects along
 * the path), never modified in place. Alongside each output goes an upper bound of its size
 * and depth, so that run.c walks a document for the 256 KiB and depth limits only when the
 * bound says it could be over.
 */
#include "base/err.h"
#include "base/json.h"
#include "engine/exec_int.h"

#include <stdlib.h>
#include <string.h>

static size_t add_sat(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static size_t max_sz(size_t a, size_t b)
{
    return a > b ? a : b;
}

/* Is the output of p over v a part of v (so no larger and no deeper than v)? */
static bool path_narrows(const asl_pathopt *p)
{
    return p->kind == ASL_PATH_DEFAULT ||
           (p->kind == ASL_PATH_SET && jpath_root_kind(p->path) == JPATH_ROOT_INPUT &&
            jpath_is_definite(p->path));
}

static int apply_path(run *r, const asl_pathopt *p, json_t *in, json_t **out, bt_fault *f)
{
    if (p->kind == ASL_PATH_DEFAULT) {
        *out = json_incref(in);
        return 0;
    }
    if (p->kind == ASL_PATH_NULL) {
        *out = json_object();
        return 0;
    }
    if (jpath_is_identity(p->path)) {
        *out = json_incref(in);
        return 0;
    }
    exec__envs v;
    exec__env_init(&v, r, in);
    if (jpath_eval(p->path, &v.paths, out) == 0)
        return 0;
    char *why = jpath_miss_message(p->path, &v.paths);
    exec__runtime_fault(r, f, "Invalid path '%s' : %s", jpath_text(p->path), why);
    free(why);
    return BT_EFAULT;
}

static int eval_payload(run *r, const payload *p, json_t *in, json_t **out, bt_fault *f)
{
    exec__envs v;
    exec__env_init(&v, r, in);
    int rc = payload_eval(p, &v.intr, out, f);
    if (rc != 0)
        exec__locate_fault(r, f);
    return rc;
}

static int jp_input(run *r, bt_fault *f)
{
    json_t *eff = NULL;
    if (r->st->type == ASL_FAIL) {
        eff = json_incref(r->input);
    } else if (apply_path(r, &r->st->input_path, r->input, &eff, f) != 0) {
        return BT_EFAULT;
    }
    exec__set_json(&r->effective, eff);
    return 0;
}

static int jp_arguments(run *r, const payload *tmpl, json_t *in, json_t **out, bt_fault *f)
{
    if (tmpl == NULL) {
        *out = json_incref(in);
        return 0;
    }
    return eval_payload(r, tmpl, in, out, f);
}

static int jp_result(run *r, json_t **out, exec__bound *bound, bt_fault *f)
{
    const asl_state *st = r->st;
    *bound = BOUND_UNKNOWN;
    if (st->type == ASL_CHOICE || st->type == ASL_WAIT || st->type == ASL_SUCCEED) {
        *out = json_incref(r->effective);
        if (path_narrows(&st->input_path))
            *bound = r->in_bound;
        return 0;
    }
    json_t *res = json_incref(r->result);
    if (st->result_selector) {
        json_t *sel = NULL;
        if (eval_payload(r, st->result_selector, res, &sel, f) != 0) {
            json_decref(res);
            return BT_EFAULT;
        }
        json_decref(res);
        res = sel;
    }
    exec__set_json(&r->assign_input, json_incref(res));
    size_t res_depth = 0;
    size_t res_size = payload_measure(res, PAYLOAD_MAX_BYTES, &res_depth);
    int rc = 0;
    if (st->result_path.kind == ASL_PATH_NULL) {
        *out = json_incref(r->input);
        *bound = r->in_bound;
    } else if (st->result_path.kind == ASL_PATH_DEFAULT ||
               jpath_is_identity(st->result_path.path)) {
        *out = json_incref(res);
        *bound = (exec__bound){res_size, res_depth};
    } else if (jpath_put(st->result_path.path, r->input, res, out) == 0) {
        /* each created key costs at most its name plus 7 bytes of punctuation and one
         * level of nesting */
        size_t plen = strlen(jpath_text(st->result_path.path));
        bound->size = add_sat(add_sat(r->in_bound.size, res_size), 8 * plen);
        bound->depth = max_sz(r->in_bound.depth, add_sat(res_depth, plen));
    } else {
        char *in = exec__json_text(r->input), *rv = exec__json_text(res);
        bt_fault_set(f, "States.ResultPathMatchFailure",
                     "Unable to apply ResultPath \"%s\" to input \"%s\" with result \"%s\"",
                     jpath_text(st->result_path.path), in, rv);
        free(in);
        free(rv);
        rc = BT_EFAULT;
    }
    json_decref(res);
    return rc;
}

static int jp_output(run *r, json_t *in, json_t **out, exec__bound *bound, bt_fault *f)
{
    const asl_pathopt *p = &r->st->output_path;
    if (apply_path(r, p, in, out, f) != 0)
        return BT_EFAULT;
    if (p->kind == ASL_PATH_NULL)
        *bound = (exec__bound){2, 1};
    else if (!path_narrows(p))
        *bound = BOUND_UNKNOWN;
    return 0;
}

static int jp_catch_result(run *r, const asl_catcher *c, json_t *eo, json_t **out, bt_fault *f)
{
    if (c->result_path.kind == ASL_PATH_NULL) {
        *out = json_incref(r->input);
        return 0;
    }
    if (c->result_path.kind == ASL_PATH_DEFAULT || jpath_is_identity(c->result_path.path)) {
        *out = json_incref(eo);
        return 0;
    }
    if (jpath_put(c->result_path.path, r->input, eo, out) == 0)
        return 0;
    return bt_fault_set(f, "States.ResultPathMatchFailure",
                        "Unable to apply ResultPath \"%s\" to the state input",
                        jpath_text(c->result_path.path));
}

static int jp_assign(run *r, const payload *assign, json_t *in, json_t **out, bt_fault *f)
{
    return eval_payload(r, assign, in, out, f);
}

const exec__pipeline exec__jsonpath = {
    .input = jp_input,
    .arguments = jp_arguments,
    .result = jp_result,
    .output = jp_output,
    .catch_result = jp_catch_result,
    .assign = jp_assign,
};
