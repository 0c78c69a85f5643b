/*
 * vtl_eval.c — renders a compiled template (vtl_render): walks the nodes, evaluates
 * expressions and references, runs #set, #if and #foreach. Methods and the built-in objects
 * live in vtl_methods.c.
 *
 * One render owns its vtl_ctx: variables, the built-in maps made from the request, the body
 * parsed on first use. Every node and expression costs a step; loops count iterations; any
 * string built and the output are bounded (vtl_limits). Values are jansson references: each
 * function that returns one gives the caller a new reference, NULL being Java's null.
 */
#include "base/alloc.h"
#include "base/buf.h"
#include "base/err.h"
#include "vtl/vtl_int.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Sentinels with jansson's "static" refcount (never freed) and a harmless type. */
static json_t input_obj = {JSON_TRUE, (size_t)-1};
static json_t util_obj = {JSON_TRUE, (size_t)-1};
json_t *const vtl__input = &input_obj;
json_t *const vtl__util = &util_obj;

int vtl__fail(vtl_ctx *x, int line, int col, int code, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return bt_err_set(x->err, code, "line %d, column %d: %s", line, col, msg);
}

int vtl__step(vtl_ctx *x, int line, int col)
{
    if (++x->steps > x->limits.max_steps)
        return vtl__fail(x, line, col, BT_ELIMIT, "the template took more than %zu steps",
                         x->limits.max_steps);
    return 0;
}

void vtl__charge(vtl_ctx *x, size_t n)
{
    x->steps += n / VTL_BYTES_PER_STEP;
}

int vtl__string(vtl_ctx *x, const char *s, size_t n, int line, int col, json_t **out)
{
    *out = NULL;
    vtl__charge(x, n);
    if (n > x->limits.max_output)
        return vtl__fail(x, line, col, BT_ELIMIT, "a string longer than %zu bytes",
                         x->limits.max_output);
    *out = json_stringn_nocheck(s, n);
    return 0;
}

int vtl__body(vtl_ctx *x, int line, int col, json_t **out)
{
    if (!x->body_parsed) {
        x->body_parsed = true;
        const vtl_request *r = x->req;
        size_t n = r->body_len;
        while (n > 0 && r->body != NULL &&
               (r->body[n - 1] == ' ' || r->body[n - 1] == '\n' || r->body[n - 1] == '\r' ||
                r->body[n - 1] == '\t'))
            n--;
        if (n == 0) {
            x->body = json_object(); /* an empty body reads as {} */
        } else {
            json_error_t je;
            x->body = json_loadb(r->body, r->body_len, JSON_DECODE_ANY, &je);
        }
    }
    *out = x->body;
    if (x->body == NULL)
        return vtl__fail(x, line, col, BT_EINVAL, "the request body is not valid JSON");
    return 0;
}

/* ---- expressions ---- */

static int eval(vtl_ctx *x, const vtl_expr *e, json_t **out);
static int render_nodes(vtl_ctx *x, const vtl_node *n, bt_buf *out, size_t base);

/* True when needle is hay or sits inside it (bounded by the step budget). */
static int contains_value(vtl_ctx *x, json_t *hay, json_t *needle, bool *found)
{
    if (hay == needle) {
        *found = true;
        return 0;
    }
    if (!json_is_array(hay) && !json_is_object(hay))
        return 0;
    int rc = vtl__step(x, 0, 0);
    if (rc != 0)
        return rc;
    if (json_is_array(hay)) {
        size_t i;
        json_t *v;
        json_array_foreach(hay, i, v)
        {
            if ((rc = contains_value(x, v, needle, found)) != 0 || *found)
                return rc;
        }
    } else {
        const char *k;
        json_t *v;
        json_object_foreach(hay, k, v)
        {
            if ((rc = contains_value(x, v, needle, found)) != 0 || *found)
                return rc;
        }
    }
    return 0;
}

int vtl__check_cycle(vtl_ctx *x, json_t *container, json_t *value, int line, int col)
{
    bool found = false;
    int rc = contains_value(x, value, container, &found);
    if (rc == 0 && found)
        rc = vtl__fail(x, line, col, BT_EINVAL, "a list or map cannot contain itself");
    return rc;
}

static json_t *root_value(vtl_ctx *x, const char *name)
{
    json_t *v = json_object_get(x->vars, name);
    if (v != NULL)
        return json_incref(v);
    if (strcmp(name, "input") == 0)
        return vtl__input;
    if (strcmp(name, "util") == 0)
        return vtl__util;
    if (strcmp(name, "context") == 0)
        return json_incref(x->context);
    if (strcmp(name, "stageVariables") == 0)
        return json_incref(x->stage);
    return NULL;
}

static json_t *index_value(json_t *target, json_t *idx)
{
    if (json_is_array(target) && json_is_integer(idx)) {
        json_int_t i = json_integer_value(idx);
        if (i < 0 || (size_t)i >= json_array_size(target))
            return NULL;
        return json_incref(json_array_get(target, (size_t)i));
    }
    if (json_is_object(target) && json_is_string(idx))
        return json_incref(json_object_get(target, json_string_value(idx)));
    return NULL;
}

/* Applies segment s to *cur (consumed), leaving the result in *cur. */
static int apply_seg(vtl_ctx *x, const vtl_seg *s, json_t **cur)
{
    int rc = vtl__step(x, s->line, s->col);
    if (rc != 0)
        return rc;
    json_t *target = *cur, *next = NULL;
    json_t *args[8] = {0};
    size_t n = s->n_args < 8 ? s->n_args : 8;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = eval(x, s->args[i], &args[i]);
    if (rc == 0) {
        if (s->kind == SEG_PROP)
            next = vtl__property(x, target, s->name);
        else if (s->kind == SEG_INDEX)
            next = index_value(target, args[0]);
        else if (s->n_args <= 8)
            rc = vtl__call(x, target, s, args, n, &next);
    }
    for (size_t i = 0; i < n; i++)
        json_decref(args[i]);
    json_decref(target);
    if (next != NULL && json_is_null(next)) {
        json_decref(next);
        next = NULL;
    }
    *cur = next;
    return rc;
}

/* Evaluates reference e up to (not including) segment `upto`. */
static int eval_ref_upto(vtl_ctx *x, const vtl_expr *e, size_t upto, json_t **out)
{
    json_t *cur = root_value(x, e->name);
    int rc = 0;
    for (size_t i = 0; i < upto && cur != NULL && rc == 0; i++)
        rc = apply_seg(x, &e->segs[i], &cur);
    if (rc != 0) {
        json_decref(cur);
        cur = NULL;
    }
    *out = cur;
    return rc;
}

static int eval_range(vtl_ctx *x, const vtl_expr *e, json_t **out)
{
    json_t *lo = NULL, *hi = NULL;
    int rc = eval(x, e->items[0], &lo);
    if (rc == 0)
        rc = eval(x, e->items[1], &hi);
    if (rc == 0 && json_is_integer(lo) && json_is_integer(hi)) {
        json_int_t a = json_integer_value(lo), b = json_integer_value(hi);
        json_int_t span = a <= b ? b - a : a - b;
        if (span < 0 || (size_t)span >= x->limits.max_iterations) {
            rc = vtl__fail(x, e->line, e->col, BT_ELIMIT, "a range of more than %zu numbers",
                           x->limits.max_iterations);
        } else {
            *out = json_array();
            for (json_int_t i = 0; i <= span; i++)
                json_array_append_new(*out, json_integer(a <= b ? a + i : a - i));
        }
    }
    json_decref(lo);
    json_decref(hi);
    return rc;
}

static bool both_numbers(const json_t *a, const json_t *b)
{
    return json_is_number(a) && json_is_number(b);
}

static json_t *arith(binop op, const json_t *a, const json_t *b)
{
    if (!both_numbers(a, b))
        return NULL;
    if (json_is_integer(a) && json_is_integer(b)) {
        json_int_t p = json_integer_value(a), q = json_integer_value(b), r;
        switch (op) {
        case OP_ADD:
            if (!__builtin_add_overflow(p, q, &r))
                return json_integer(r);
            break;
        case OP_SUB:
            if (!__builtin_sub_overflow(p, q, &r))
                return json_integer(r);
            break;
        case OP_MUL:
            if (!__builtin_mul_overflow(p, q, &r))
                return json_integer(r);
            break;
        case OP_DIV:
            if (q == 0 || (q == -1 && p == INT64_MIN))
                return NULL;
            return json_integer(p / q);
        default:
            if (q == 0 || q == -1)
                return q == 0 ? NULL : json_integer(0);
            return json_integer(p % q);
        }
    }
    double p = json_number_value(a), q = json_number_value(b);
    switch (op) {
    case OP_ADD:
        return json_real(p + q);
    case OP_SUB:
        return json_real(p - q);
    case OP_MUL:
        return json_real(p * q);
    case OP_DIV:
        return q == 0 ? NULL : json_real(p / q);
    default:
        return q == 0 ? NULL : json_real(p - q * (double)(long long)(p / q));
    }
}

static json_t *compare(binop op, const json_t *a, const json_t *b)
{
    int c;
    if (both_numbers(a, b)) {
        if (json_is_integer(a) && json_is_integer(b)) {
            json_int_t p = json_integer_value(a), q = json_integer_value(b);
            c = p < q ? -1 : p > q;
        } else {
            double p = json_number_value(a), q = json_number_value(b);
            c = p < q ? -1 : p > q;
        }
    } else if (json_is_string(a) && json_is_string(b)) {
        c = strcmp(json_string_value(a), json_string_value(b));
    } else {
        return json_false();
    }
    bool r = op == OP_LT ? c < 0 : op == OP_LE ? c <= 0 : op == OP_GT ? c > 0 : c >= 0;
    return json_boolean(r);
}

static int eval_binary(vtl_ctx *x, const vtl_expr *e, json_t **out)
{
    json_t *a = NULL, *b = NULL;
    int rc = eval(x, e->items[0], &a);
    if (rc != 0)
        return rc;
    if (e->op == OP_OR || e->op == OP_AND) {
        bool t = vtl__truthy(a);
        json_decref(a);
        if (t == (e->op == OP_OR)) {
            *out = json_boolean(t);
            return 0;
        }
        rc = eval(x, e->items[1], &b);
        *out = rc == 0 ? json_boolean(vtl__truthy(b)) : NULL;
        json_decref(b);
        return rc;
    }
    rc = eval(x, e->items[1], &b);
    if (rc == 0) {
        switch (e->op) {
        case OP_EQ:
        case OP_NE: {
            bool same;
            rc = vtl__equal(a, b, x->limits.max_output, &same);
            if (rc != 0)
                rc = vtl__fail(x, e->line, e->col, BT_ELIMIT, "a comparison of more than %zu bytes",
                               x->limits.max_output);
            else
                *out = json_boolean(same == (e->op == OP_EQ));
            break;
        }
        case OP_LT:
        case OP_LE:
        case OP_GT:
        case OP_GE:
            *out = compare(e->op, a, b);
            break;
        default:
            *out = arith(e->op, a, b);
            break;
        }
    }
    json_decref(a);
    json_decref(b);
    return rc;
}

static int eval(vtl_ctx *x, const vtl_expr *e, json_t **out)
{
    *out = NULL;
    int rc = vtl__step(x, e->line, e->col);
    if (rc != 0)
        return rc;
    if (++x->depth > VTL_MAX_DEPTH * 4) {
        x->depth--;
        return vtl__fail(x, e->line, e->col, BT_ELIMIT, "evaluation nested too deeply");
    }
    switch (e->kind) {
    case E_LITERAL:
        *out = json_incref(e->lit);
        break;
    case E_STRING: {
        bt_buf b;
        bt_buf_init(&b);
        rc = render_nodes(x, e->parts, &b, 0);
        if (rc == 0)
            rc = vtl__string(x, b.data != NULL ? b.data : "", b.len, e->line, e->col, out);
        bt_buf_fini(&b);
        break;
    }
    case E_LIST:
        *out = json_array();
        for (size_t i = 0; i < e->n_items && rc == 0; i++) {
            json_t *v = NULL;
            rc = eval(x, e->items[i], &v);
            json_array_append_new(*out, v != NULL ? v : json_null());
        }
        break;
    case E_RANGE:
        rc = eval_range(x, e, out);
        break;
    case E_MAP:
        *out = json_object();
        for (size_t i = 0; i + 1 < e->n_items && rc == 0; i += 2) {
            json_t *k = NULL, *v = NULL;
            rc = eval(x, e->items[i], &k);
            if (rc == 0)
                rc = eval(x, e->items[i + 1], &v);
            if (rc == 0) {
                bt_buf kb;
                bt_buf_init(&kb);
                rc = k != NULL ? vtl__put_text(&kb, k, x->limits.max_output) : 0;
                if (rc == 0)
                    json_object_setn_new_nocheck(*out, kb.data != NULL ? kb.data : "", kb.len,
                                                 v != NULL ? v : json_null());
                else
                    json_decref(v);
                bt_buf_fini(&kb);
            }
            json_decref(k);
        }
        break;
    case E_REF:
        rc = eval_ref_upto(x, e, e->n_segs, out);
        break;
    case E_NOT: {
        json_t *v = NULL;
        rc = eval(x, e->items[0], &v);
        *out = json_boolean(!vtl__truthy(v));
        json_decref(v);
        break;
    }
    case E_NEG: {
        json_t *v = NULL;
        rc = eval(x, e->items[0], &v);
        if (json_is_integer(v) && json_integer_value(v) != INT64_MIN)
            *out = json_integer(-json_integer_value(v));
        else if (json_is_real(v))
            *out = json_real(-json_real_value(v));
        json_decref(v);
        break;
    }
    case E_BINARY:
        rc = eval_binary(x, e, out);
        break;
    }
    x->depth--;
    if (rc != 0) {
        json_decref(*out);
        *out = NULL;
    }
    if (*out != NULL && json_is_null(*out)) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

/* ---- directives ---- */

static int run_set(vtl_ctx *x, const vtl_node *n)
{
    json_t *v = NULL;
    int rc = eval(x, n->expr, &v);
    if (rc != 0 || v == NULL)
        return rc; /* Velocity 1.7: #set to null leaves the target as it was */
    const vtl_expr *t = n->target;
    if (v == vtl__input || v == vtl__util) {
        v = NULL;
        return 0;
    }
    if (t->n_segs == 0) {
        json_object_set_new(x->vars, t->name, v);
        return 0;
    }
    json_t *container = NULL;
    rc = eval_ref_upto(x, t, t->n_segs - 1, &container);
    const vtl_seg *last = &t->segs[t->n_segs - 1];
    json_t *key = NULL;
    if (rc == 0 && last->kind == SEG_INDEX)
        rc = eval(x, last->args[0], &key);
    if (rc == 0 && container != NULL && container != vtl__input && container != vtl__util &&
        (json_is_object(container) || json_is_array(container)))
        rc = vtl__check_cycle(x, container, v, n->line, n->col);
    if (rc == 0 && container != NULL) {
        if (last->kind == SEG_PROP && json_is_object(container)) {
            json_object_set(container, last->name, v);
        } else if (last->kind == SEG_INDEX && json_is_object(container) && json_is_string(key)) {
            json_object_set_nocheck(container, json_string_value(key), v);
        } else if (last->kind == SEG_INDEX && json_is_array(container) && json_is_integer(key) &&
                   json_integer_value(key) >= 0 &&
                   (size_t)json_integer_value(key) < json_array_size(container)) {
            json_array_set(container, (size_t)json_integer_value(key), v);
        }
    }
    json_decref(key);
    json_decref(container);
    json_decref(v);
    return rc;
}

/* The previous value of a variable a loop shadows, to put back after it. */
static void restore_var(vtl_ctx *x, const char *name, json_t *saved)
{
    if (saved != NULL)
        json_object_set_new(x->vars, name, saved);
    else
        json_object_del(x->vars, name);
}

static int run_foreach(vtl_ctx *x, const vtl_node *n, bt_buf *out, size_t base)
{
    json_t *v = NULL;
    int rc = eval(x, n->expr, &v);
    if (rc != 0 || v == NULL)
        return rc;
    json_t *items;
    if (json_is_array(v)) {
        items = json_copy(v); /* the body may change the list it walks */
    } else if (json_is_object(v)) {
        items = json_array();
        const char *k;
        json_t *item;
        json_object_foreach(v, k, item)
        {
            json_array_append(items, item);
        }
    } else {
        json_decref(v);
        return 0;
    }
    json_decref(v);
    json_t *saved_var = json_incref(json_object_get(x->vars, n->var));
    json_t *saved_foreach = json_incref(json_object_get(x->vars, "foreach"));
    json_t *saved_count = json_incref(json_object_get(x->vars, "velocityCount"));
    size_t len = json_array_size(items);
    for (size_t i = 0; i < len && rc == 0 && !x->stopped; i++) {
        if (++x->iterations > x->limits.max_iterations) {
            rc = vtl__fail(x, n->line, n->col, BT_ELIMIT, "#foreach ran more than %zu iterations",
                           x->limits.max_iterations);
            break;
        }
        json_t *item = json_array_get(items, i);
        if (json_is_null(item))
            json_object_del(x->vars, n->var);
        else
            json_object_set(x->vars, n->var, item);
        json_object_set_new(x->vars, "foreach",
                            json_pack("{sI sI sb sb sb}", "count", (json_int_t)(i + 1), "index",
                                      (json_int_t)i, "hasNext", i + 1 < len, "first", i == 0,
                                      "last", i + 1 == len));
        json_object_set_new(x->vars, "velocityCount", json_integer((json_int_t)(i + 1)));
        rc = render_nodes(x, n->body, out, base);
        if (x->broken) {
            x->broken = false;
            break;
        }
    }
    restore_var(x, n->var, saved_var);
    restore_var(x, "foreach", saved_foreach);
    restore_var(x, "velocityCount", saved_count);
    json_decref(items);
    return rc;
}

static int put_checked(vtl_ctx *x, const vtl_node *n, bt_buf *out, size_t base, const char *s,
                       size_t len)
{
    if (out->len - base + len > x->limits.max_output)
        return vtl__fail(x, n->line, n->col, BT_ELIMIT, "output longer than %zu bytes",
                         x->limits.max_output);
    bt_buf_append(out, s, len);
    return 0;
}

static int render_ref(vtl_ctx *x, const vtl_node *n, bt_buf *out, size_t base)
{
    json_t *v = NULL;
    int rc = eval(x, n->expr, &v);
    if (rc != 0)
        return rc;
    if (v == NULL || v == vtl__input || v == vtl__util) {
        /* Velocity renders a null (or unprintable) reference as written, or not at all
         * with $!. */
        if (n->expr->quiet)
            return 0;
        return put_checked(x, n, out, base, n->expr->src, strlen(n->expr->src));
    }
    size_t before = out->len;
    rc = vtl__put_text(out, v, x->limits.max_output + base);
    json_decref(v);
    if (rc != 0 || out->len - base > x->limits.max_output) {
        out->len = before;
        return vtl__fail(x, n->line, n->col, BT_ELIMIT,
                         "output longer than %zu bytes, or a value nested too deeply",
                         x->limits.max_output);
    }
    return 0;
}

static int render_nodes(vtl_ctx *x, const vtl_node *n, bt_buf *out, size_t base)
{
    int rc = 0;
    if (++x->depth > VTL_MAX_DEPTH * 4) {
        x->depth--;
        return vtl__fail(x, n != NULL ? n->line : 0, n != NULL ? n->col : 0, BT_ELIMIT,
                         "rendering nested too deeply");
    }
    for (; n != NULL && rc == 0 && !x->stopped && !x->broken; n = n->next) {
        if ((rc = vtl__step(x, n->line, n->col)) != 0)
            break;
        switch (n->kind) {
        case N_TEXT:
            rc = put_checked(x, n, out, base, n->text, n->len);
            break;
        case N_REF:
            rc = render_ref(x, n, out, base);
            break;
        case N_SET:
            rc = run_set(x, n);
            break;
        case N_IF: {
            json_t *c = NULL;
            rc = eval(x, n->expr, &c);
            bool t = vtl__truthy(c);
            json_decref(c);
            if (rc == 0)
                rc = render_nodes(x, t ? n->body : n->otherwise, out, base);
            break;
        }
        case N_FOREACH:
            rc = run_foreach(x, n, out, base);
            break;
        case N_BREAK:
            x->broken = true;
            break;
        case N_STOP:
            x->stopped = true;
            break;
        }
    }
    x->depth--;
    return rc;
}

/* ---- the built-in maps ---- */

static json_t *params_object(const vtl_params *ps)
{
    json_t *o = json_object();
    for (size_t i = 0; i < ps->len; i++) {
        const vtl_param *p = &ps->items[i];
        if (p->name != NULL)
            json_object_set_new_nocheck(o, p->name,
                                        json_string_nocheck(p->value != NULL ? p->value : ""));
    }
    return o;
}

static void put_field(json_t *o, const char *name, const char *value)
{
    if (value != NULL)
        json_object_set_new(o, name, json_string_nocheck(value));
}

int vtl_render_limited(const vtl_template *tpl, const vtl_request *req, const vtl_limits *limits,
                       bt_buf *out, bt_err *err)
{
    vtl_ctx x = {.req = req, .err = err};
    bt_err_clear(err);
    if (limits != NULL)
        x.limits = *limits;
    if (x.limits.max_output == 0)
        x.limits.max_output = 10u << 20;
    if (x.limits.max_iterations == 0)
        x.limits.max_iterations = 100000;
    if (x.limits.max_steps == 0)
        x.limits.max_steps = 10000000;
    x.vars = json_object();
    x.context = json_object();
    put_field(x.context, "requestId", req->request_id);
    put_field(x.context, "httpMethod", req->http_method);
    put_field(x.context, "resourcePath", req->resource_path);
    put_field(x.context, "path", req->request_path);
    put_field(x.context, "stage", req->stage);
    json_t *identity = json_object();
    put_field(identity, "sourceIp", req->source_ip);
    put_field(identity, "userAgent", req->user_agent);
    json_object_set_new(x.context, "identity", identity);
    x.stage = params_object(&req->stage_variables);
    x.params = json_object();
    /* AWS's key names: path, querystring, header (not "headers"). */
    json_object_set_new(x.params, "path", params_object(&req->path));
    json_object_set_new(x.params, "querystring", params_object(&req->query));
    json_object_set_new(x.params, "header", params_object(&req->header));
    if (out->data == NULL)
        bt_buf_puts(out, "");
    int rc = render_nodes(&x, tpl->root, out, out->len);
    json_decref(x.vars);
    json_decref(x.context);
    json_decref(x.stage);
    json_decref(x.params);
    json_decref(x.body);
    return rc;
}

int vtl_render(const vtl_template *tpl, const vtl_request *req, bt_buf *out, bt_err *err)
{
    return vtl_render_limited(tpl, req, NULL, out, err);
}
