/*
 * eval.c — the evaluator: one function per kind of node, environments (frames of
 * bindings), function application with signature checking and the trampoline that runs
 * tail calls in constant stack, and the limits (depth, time, stack) checked on entry to
 * every node.
 */
#include "jsonata/jsonata_int.h"

#include "base/alloc.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

jn_val jn__hole = {.type = JN_NULL};
static jn_fn thunk_fn = {.kind = FN_LAMBDA, .thunk = true};
jn_val jn__thunk = {.type = JN_FUNCTION, .u.fn = &thunk_fn};

double jn__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)(ts.tv_nsec / 1000000);
}

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

const char *jn__describe(jn_ctx *cx, const jn_val *v)
{
    if (v == NULL)
        return "undefined";
    if (jn_is_fn(v))
        return "a function";
    json_t *j = jn_to_json(v);
    char *s = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
    json_decref(j);
    if (s == NULL)
        return "a value";
    size_t n = strlen(s);
    if (n > 100) {
        memcpy(s + 97, "...", 4);
        n = 100;
    }
    char *r = jn_strndup(cx->arena, s, n);
    free(s);
    return r;
}

_Noreturn void jn__throw_at(jn_ctx *cx, const char *code, long position, const char *token,
                            const jn_val *value, const char *fmt, ...)
{
    (void)value;
    va_list ap;
    va_start(ap, fmt);
    char buf[600];
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    snprintf(cx->err->code, sizeof cx->err->code, "%s", code);
    cx->err->message = bt_xstrdup(buf);
    cx->err->position = position;
    cx->err->token = token ? bt_xstrdup(token) : NULL;
    longjmp(*cx->jmp, 1);
}

_Noreturn void jn_throw(jn_ctx *cx, const char *code, const jn_val *value, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char buf[600];
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    jn__throw_at(cx, code, cx->position, cx->token, value, "%s", buf);
}

jn_arena *jn_ctx_arena(jn_ctx *cx)
{
    return cx->arena;
}

jn_val *jn_ctx_input(jn_ctx *cx)
{
    return cx->input;
}

double jn_ctx_now_ms(jn_ctx *cx)
{
    if (cx->now_ms == 0) /* read once, when first asked: every $now() of it agrees */
        cx->now_ms = jn__now_ms();
    return cx->now_ms;
}

/* ---- environments ---- */

jn_env *jn__env_new(jn_ctx *cx, jn_env *parent)
{
    jn_env *e = jn_alloc(cx->arena, sizeof *e);
    e->parent = parent;
    e->b = NULL;
    e->len = e->cap = 0;
    return e;
}

void jn__env_bind(jn_ctx *cx, jn_env *env, const char *name, size_t len, jn_val *v)
{
    for (size_t i = 0; i < env->len; i++)
        if (env->b[i].len == len && memcmp(env->b[i].name, name, len) == 0) {
            env->b[i].val = v;
            return;
        }
    if (env->len == env->cap) {
        size_t cap = env->cap ? env->cap * 2 : 4;
        jn_binding *b = jn_alloc(cx->arena, cap * sizeof *b);
        if (env->len)
            memcpy(b, env->b, env->len * sizeof *b);
        env->b = b;
        env->cap = cap;
    }
    env->b[env->len++] = (jn_binding){name, len, v};
}

static uint32_t name_hash(const char *k, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)k[i]) * 16777619u;
    return h;
}

void jn__lib_index(jn_lib *lib)
{
    free(lib->fn_values);
    free(lib->fn_data);
    free(lib->fn_index);
    size_t n = lib->n_fns, icap = 16;
    while (icap < 2 * n + 2)
        icap *= 2;
    lib->fn_values = bt_xcalloc(n + 1, sizeof *lib->fn_values);
    lib->fn_data = bt_xcalloc(n + 1, sizeof *lib->fn_data);
    lib->fn_index = bt_xcalloc(icap, sizeof *lib->fn_index);
    lib->fn_icap = icap;
    for (size_t i = 0; i < n; i++) {
        lib->fn_data[i] = (jn_fn){.kind = FN_BUILTIN, .builtin = lib->fns[i], .sig = lib->sigs[i]};
        lib->fn_values[i] = (jn_val){.type = JN_FUNCTION, .u.fn = &lib->fn_data[i]};
        const char *name = lib->fns[i]->name;
        size_t h = name_hash(name, strlen(name)) & (icap - 1);
        while (lib->fn_index[h] != 0)
            h = (h + 1) & (icap - 1);
        lib->fn_index[h] = (uint32_t)(i + 1);
    }
}

static const jn_builtin *lib_find(const jn_lib *lib, const char *name, size_t len, size_t *at)
{
    if (lib->fn_index != NULL) {
        size_t mask = lib->fn_icap - 1;
        for (size_t h = name_hash(name, len) & mask;; h = (h + 1) & mask) {
            uint32_t i = lib->fn_index[h];
            if (i == 0)
                return NULL;
            const char *m = lib->fns[i - 1]->name;
            if (strlen(m) == len && memcmp(m, name, len) == 0) {
                *at = i - 1;
                return lib->fns[i - 1];
            }
        }
    }
    size_t lo = 0, hi = lib->n_fns;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *m = lib->fns[mid]->name;
        size_t ml = strlen(m);
        int c = memcmp(m, name, ml < len ? ml : len);
        if (c == 0)
            c = ml < len ? -1 : ml > len ? 1 : 0;
        if (c == 0) {
            *at = mid;
            return lib->fns[mid];
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

jn_val *jn__builtin_value(jn_ctx *cx, const jn_builtin *b, const jn_sig *sig)
{
    jn_fn *f = jn_alloc0(cx->arena, sizeof *f);
    f->kind = FN_BUILTIN;
    f->builtin = b;
    f->sig = sig;
    jn_val *v = jn_alloc(cx->arena, sizeof *v);
    v->type = JN_FUNCTION;
    v->flags = 0;
    v->u.fn = f;
    return v;
}

jn_val *jn__env_lookup(jn_ctx *cx, jn_env *env, const char *name, size_t len, bool *found)
{
    for (jn_env *e = env; e != NULL; e = e->parent)
        for (size_t i = e->len; i-- > 0;)
            if (e->b[i].len == len && memcmp(e->b[i].name, name, len) == 0) {
                if (found)
                    *found = true;
                return e->b[i].val;
            }
    size_t at;
    const jn_builtin *b = lib_find(cx->lib, name, len, &at);
    if (b != NULL) {
        if (found)
            *found = true;
        if (cx->lib->fn_values != NULL)
            return &cx->lib->fn_values[at];
        return jn__builtin_value(cx, b, cx->lib->sigs[at]);
    }
    if (found)
        *found = false;
    return NULL;
}

/* ---- limits ---- */

void jn__check_stack(jn_ctx *cx)
{
    char here;
    const char *sp = &here;
    size_t used =
        cx->stack_base > sp ? (size_t)(cx->stack_base - sp) : (size_t)(sp - cx->stack_base);
    if (used > cx->max_stack)
        jn__throw_at(cx, "U1001", -1, NULL, NULL,
                     "Stack overflow error: Check for non-terminating recursive function.  "
                     "Consider rewriting as tail-recursive.");
}

void jn__budget(jn_ctx *cx, size_t bytes)
{
    jn_arena *a = cx->arena;
    if (a->limit != 0 && (bytes > a->limit || a->total > a->limit - bytes))
        jn__throw_at(cx, "U1002", -1, NULL, NULL,
                     "Memory limit exceeded: the evaluation needs more than its allowance");
}

void jn__check_time(jn_ctx *cx)
{
    if (cx->deadline_ms != 0 && mono_ms() > cx->deadline_ms)
        jn__throw_at(cx, "U1001", -1, NULL, NULL,
                     "Expression evaluation timeout: Check for infinite loop");
}

static void tick(void *ud)
{
    jn__check_time(ud);
}

bool jn__equal(jn_ctx *cx, const jn_val *x, const jn_val *y)
{
    return jn_deep_equal_ex(x, y, tick, cx);
}

static void enter(jn_ctx *cx)
{
    cx->depth++;
    if (cx->max_depth != 0 && cx->depth > cx->max_depth)
        jn__throw_at(cx, "U1001", -1, NULL, NULL,
                     "Stack overflow error: Check for non-terminating recursive function.  "
                     "Consider rewriting as tail-recursive.");
    jn__check_stack(cx);
    if (cx->deadline_ms != 0 && (++cx->ticks & 255) == 0 && mono_ms() > cx->deadline_ms)
        jn__throw_at(cx, "U1001", -1, NULL, NULL,
                     "Expression evaluation timeout: Check for infinite loop");
}

static bool boolize(jn_ctx *cx, const jn_val *v)
{
    return jn__truthy(cx, v) == 1;
}

/* ---- operators ---- */

static bool is_numeric(jn_ctx *cx, const jn_val *v)
{
    if (!jn_is_num(v))
        return false;
    double d = jn_num(v);
    if (isnan(d))
        return false;
    if (!isfinite(d))
        jn_throw(cx, "D1001", v, "Number out of range");
    return true;
}

static jn_val *numeric(jn_ctx *cx, const jn_node *n, jn_val *l, jn_val *r)
{
    if (l != NULL && !is_numeric(cx, l))
        jn__throw_at(cx, "T2001", n->position, n->str, l,
                     "The left side of the \"%s\" operator must evaluate to a number", n->str);
    if (r != NULL && !is_numeric(cx, r))
        jn__throw_at(cx, "T2002", n->position, n->str, r,
                     "The right side of the \"%s\" operator must evaluate to a number", n->str);
    if (l == NULL || r == NULL)
        return NULL;
    double a = jn_num(l), b = jn_num(r), x = 0;
    switch (n->op) {
    case OP_PLUS:
        x = a + b;
        break;
    case OP_MINUS:
        x = a - b;
        break;
    case OP_MUL:
        x = a * b;
        break;
    case OP_DIV:
        x = a / b;
        break;
    case OP_MOD:
        x = fmod(a, b);
        break;
    default:
        break;
    }
    return jn_number(cx->arena, x);
}

/* Strings in JavaScript's order, by UTF-16 code units. UTF-8's byte order is code point
 * order, which differs only where a character above U+FFFF (a surrogate pair, D800–DFFF)
 * meets one of U+E000–U+FFFF (UTF-8 lead byte EE or EF): "\uFB01" < "😀" is false. */
static int utf16_order(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen, i = 0;
    while (i < n && a[i] == b[i])
        i++;
    if (i == n)
        return alen < blen ? -1 : alen > blen ? 1 : 0;
    unsigned char ca = (unsigned char)a[i], cb = (unsigned char)b[i];
    if ((ca & 0xC0) != 0x80 && (cb & 0xC0) != 0x80) { /* the characters themselves differ */
        bool astral_a = ca >= 0xF0, astral_b = cb >= 0xF0;
        if (astral_a && (cb == 0xEE || cb == 0xEF))
            return -1;
        if (astral_b && (ca == 0xEE || ca == 0xEF))
            return 1;
    }
    return ca < cb ? -1 : 1;
}

static int compare_scalars(const jn_val *l, const jn_val *r)
{
    if (jn_is_num(l)) {
        double a = jn_num(l), b = jn_num(r);
        return a < b ? -1 : a > b ? 1 : a == b ? 0 : 2;
    }
    return utf16_order(l->u.str.s, l->u.str.len, r->u.str.s, r->u.str.len);
}

static jn_val *comparison(jn_ctx *cx, const jn_node *n, jn_val *l, jn_val *r)
{
    jn_type lt = jn_typeof(l), rt = jn_typeof(r);
    bool lc = lt == JN_UNDEFINED || lt == JN_STRING || lt == JN_NUMBER;
    bool rc = rt == JN_UNDEFINED || rt == JN_STRING || rt == JN_NUMBER;
    if (!lc || !rc)
        jn__throw_at(cx, "T2010", n->position, n->str, !lc ? l : r,
                     "The expressions either side of operator \"%s\" must evaluate to numeric or "
                     "string values",
                     n->str);
    if (lt == JN_UNDEFINED || rt == JN_UNDEFINED)
        return NULL;
    if (lt != rt)
        jn__throw_at(cx, "T2009", n->position, n->str, l,
                     "The values %s and %s either side of operator \"%s\" must be of the same "
                     "data type",
                     jn__describe(cx, l), jn__describe(cx, r), n->str);
    int c = compare_scalars(l, r);
    switch (n->op) {
    case OP_LT:
        return jn_bool(c == -1);
    case OP_LE:
        return jn_bool(c == -1 || c == 0);
    case OP_GT:
        return jn_bool(c == 1);
    case OP_GE:
        return jn_bool(c == 1 || c == 0);
    default:
        return NULL;
    }
}

static bool is_integer(const jn_val *v)
{
    if (!jn_is_num(v))
        return false;
    double d = jn_num(v);
    return isfinite(d) && d == floor(d);
}

static jn_val *range(jn_ctx *cx, const jn_node *n, jn_val *l, jn_val *r)
{
    if (l != NULL && !is_integer(l))
        jn__throw_at(cx, "T2003", n->position, "..", l,
                     "The left side of the range operator (..) must evaluate to an integer");
    if (r != NULL && !is_integer(r))
        jn__throw_at(cx, "T2004", n->position, "..", r,
                     "The right side of the range operator (..) must evaluate to an integer");
    if (l == NULL || r == NULL)
        return NULL;
    double a = jn_num(l), b = jn_num(r);
    if (a > b)
        return NULL;
    double size = b - a + 1;
    if (size > 1e7)
        jn__throw_at(cx, "D2014", n->position, "..", NULL,
                     "The size of the sequence allocated by the range operator (..) must not "
                     "exceed 1e7.  Attempted to allocate %.0f.",
                     size);
    size_t sz = (size_t)size;
    jn_val *arr = jn_array(cx->arena, sz);
    for (size_t i = 0; i < sz; i++)
        arr->u.arr.items[i] = jn_number(cx->arena, a + (double)i);
    arr->u.arr.len = sz;
    arr->flags = JN_ARR_SEQ;
    return arr;
}

static jn_val *concat(jn_ctx *cx, jn_val *l, jn_val *r)
{
    jn_val *ls = l ? jn_to_string(cx, l, false) : NULL;
    jn_val *rs = r ? jn_to_string(cx, r, false) : NULL;
    size_t a = ls ? ls->u.str.len : 0, b = rs ? rs->u.str.len : 0;
    char *s = jn_alloc(cx->arena, a + b + 1);
    if (a)
        memcpy(s, ls->u.str.s, a);
    if (b)
        memcpy(s + a, rs->u.str.s, b);
    s[a + b] = '\0';
    return jn_string_ref(cx->arena, s, a + b);
}

static bool strict_equal(const jn_val *a, const jn_val *b)
{
    jn_type t = jn_typeof(a);
    if (t != jn_typeof(b))
        return false;
    switch (t) {
    case JN_NUMBER:
        return jn_num(a) == jn_num(b);
    case JN_STRING:
        return a->u.str.len == b->u.str.len && memcmp(a->u.str.s, b->u.str.s, a->u.str.len) == 0;
    case JN_BOOL:
        return a->u.b == b->u.b;
    case JN_NULL:
        return true;
    default:
        return a == b;
    }
}

static jn_val *binary(jn_ctx *cx, const jn_node *n, jn_val *input, jn_env *env)
{
    jn_val *l = jn__eval(cx, n->lhs, input, env);
    if (n->op == OP_AND) {
        bool lb = boolize(cx, l);
        return jn_bool(lb && boolize(cx, jn__eval(cx, n->rhs, input, env)));
    }
    if (n->op == OP_OR) {
        bool lb = boolize(cx, l);
        return jn_bool(lb || boolize(cx, jn__eval(cx, n->rhs, input, env)));
    }
    jn_val *r = jn__eval(cx, n->rhs, input, env);
    switch (n->op) {
    case OP_PLUS:
    case OP_MINUS:
    case OP_MUL:
    case OP_DIV:
    case OP_MOD:
        return numeric(cx, n, l, r);
    case OP_EQ:
        if (l == NULL || r == NULL)
            return JN_FALSE;
        return jn_bool(jn__equal(cx, l, r));
    case OP_NE:
        if (l == NULL || r == NULL)
            return JN_FALSE;
        return jn_bool(!jn__equal(cx, l, r));
    case OP_LT:
    case OP_LE:
    case OP_GT:
    case OP_GE:
        return comparison(cx, n, l, r);
    case OP_CONCAT:
        return concat(cx, l, r);
    case OP_RANGE:
        return range(cx, n, l, r);
    case OP_IN:
        if (l == NULL || r == NULL)
            return JN_FALSE;
        if (!jn_is_arr(r))
            return jn_bool(strict_equal(l, r));
        for (size_t i = 0; i < r->u.arr.len; i++)
            if (strict_equal(l, r->u.arr.items[i]))
                return JN_TRUE;
        return JN_FALSE;
    default:
        jn__throw_at(cx, "S0201", n->position, n->str, NULL, "Syntax error: %s",
                     n->str ? n->str : "");
    }
}

/* ---- constructors, blocks, conditions ---- */

static jn_val *array_ctor(jn_ctx *cx, const jn_node *n, jn_val *input, jn_env *env)
{
    jn_val *r = jn_array(cx->arena, n->items.len);
    for (size_t i = 0; i < n->items.len; i++) {
        const jn_node *item = n->items.v[i];
        jn_val *v = jn__eval(cx, item, input, env);
        if (v == NULL)
            continue;
        if (item->type == NT_ARRAY || !jn_is_arr(v)) {
            jn_push(cx->arena, r, v);
        } else {
            for (size_t k = 0; k < v->u.arr.len; k++)
                jn_push(cx->arena, r, v->u.arr.items[k]);
        }
    }
    if (n->cons_array)
        r->flags |= JN_ARR_CONS;
    return r;
}

static jn_val *make_fn(jn_ctx *cx, jn_fn_kind kind)
{
    jn_fn *f = jn_alloc0(cx->arena, sizeof *f);
    f->kind = kind;
    jn_val *v = jn_alloc(cx->arena, sizeof *v);
    v->type = JN_FUNCTION;
    v->flags = 0;
    v->u.fn = f;
    return v;
}

static jn_sig *transform_signature;
static pthread_once_t transform_once = PTHREAD_ONCE_INIT;

static void transform_sig_init(void)
{
    const char *code;
    size_t off;
    transform_signature = jn__sig_parse(NULL, "<(oa):o>", 8, &code, &off);
}

/* A transform |…|…| is a function of one object or array. */
static const jn_sig *transform_sig(void)
{
    pthread_once(&transform_once, transform_sig_init);
    return transform_signature;
}

/* ---- function application ---- */

size_t jn_fn_arity(const jn_val *fn)
{
    if (!jn_is_fn(fn))
        return 0;
    const jn_fn *f = fn->u.fn;
    switch (f->kind) {
    case FN_LAMBDA:
        return f->node->items.len;
    case FN_PARTIAL: {
        size_t n = 0;
        for (size_t i = 0; i < f->n_args; i++)
            if (f->args[i] == &jn__hole)
                n++;
        return n;
    }
    case FN_BUILTIN: {
        /* the parameters a JavaScript implementation would declare before its first
         * optional one */
        if (f->sig == NULL)
            return 1;
        size_t n = 0;
        while (n < f->sig->n_params && !f->sig->params[n].optional)
            n++;
        return n;
    }
    default:
        return 1;
    }
}

static jn_val *transform(jn_ctx *cx, jn_fn *f, jn_val *obj);

static jn_val *apply_inner(jn_ctx *cx, jn_val *fn, jn_val **args, size_t nargs, jn_val *input,
                           jn_env *env)
{
    if (!jn_is_fn(fn))
        jn__throw_at(cx, "T1006", cx->position, cx->token, fn,
                     "Attempted to invoke a non-function");
    jn_fn *f = fn->u.fn;
    if (f->sig != NULL)
        args = jn__validate(cx, f->sig, args, nargs, input, &nargs);
    switch (f->kind) {
    case FN_LAMBDA: {
        const jn_nodes *params = &f->node->items;
        if (params->len == 0 && !f->node->binds) /* nothing to bind: no frame of its own */
            return jn__eval(cx, f->node->rhs, f->input, f->env);
        jn_env *e = jn__env_new(cx, f->env);
        e->b = jn_alloc(cx->arena, params->len * sizeof *e->b);
        e->cap = params->len;
        for (size_t i = 0; i < params->len; i++)
            jn__env_bind(cx, e, params->v[i]->str, params->v[i]->len, i < nargs ? args[i] : NULL);
        return jn__eval(cx, f->node->rhs, f->input, e);
    }
    case FN_BUILTIN: {
        jn_val *saved_input = cx->input;
        jn_env *saved_env = cx->env;
        cx->input = input;
        cx->env = env;
        jn_val *r = f->builtin->fn(cx, args, nargs);
        cx->input = saved_input;
        cx->env = saved_env;
        return r;
    }
    case FN_PARTIAL: {
        jn_val **full = jn_alloc(cx->arena, (f->n_args + 1) * sizeof *full);
        size_t k = 0;
        for (size_t i = 0; i < f->n_args; i++)
            full[i] = f->args[i] == &jn__hole ? (k < nargs ? args[k++] : NULL) : f->args[i];
        return jn__apply(cx, f->target, full, f->n_args, input, env);
    }
    case FN_REGEX:
        return jn__regex_call(cx, fn, nargs > 0 ? args[0] : NULL);
    case FN_TRANSFORM:
        return transform(cx, f, nargs > 0 ? args[0] : NULL);
    }
    return NULL;
}

jn_val *jn__apply(jn_ctx *cx, jn_val *fn, jn_val **args, size_t nargs, jn_val *input, jn_env *env)
{
    jn_val *r = apply_inner(cx, fn, args, nargs, input, env);
    while (r == &jn__thunk) {
        const jn_node *call = cx->tail_node->rhs;
        jn_val *t_input = cx->tail_input;
        jn_env *t_env = cx->tail_env;
        jn_val *next = jn__eval(cx, call->lhs, t_input, t_env);
        size_t n = call->items.len;
        jn_val *one[1];
        jn_val **a = n <= 1 ? one : jn_alloc(cx->arena, n * sizeof *a);
        for (size_t i = 0; i < n; i++)
            a[i] = jn__eval(cx, call->items.v[i], t_input, t_env);
        cx->position = call->position;
        cx->token = call->lhs->type == NT_VARIABLE ? call->lhs->str : cx->token;
        r = apply_inner(cx, next, a, n, input, env);
    }
    return r;
}

jn_val *jn_call(jn_ctx *cx, jn_val *fn, jn_val **args, size_t nargs)
{
    long pos = cx->position;
    const char *tok = cx->token;
    jn_val *in = cx->input;
    jn_env *env = cx->env;
    jn_val *r = jn__apply(cx, fn, args, nargs, NULL, env);
    cx->position = pos;
    cx->token = tok;
    cx->input = in;
    cx->env = env;
    return r;
}

static const char *proc_name(const jn_node *proc)
{
    if (proc->type == NT_PATH && proc->items.len > 0 && proc->items.v[0]->type == NT_NAME)
        return proc->items.v[0]->str;
    return proc->str;
}

static jn_val *call(jn_ctx *cx, const jn_node *n, jn_val *input, jn_env *env, jn_val *applyto,
                    bool has_applyto)
{
    jn_val *proc = jn__eval(cx, n->lhs, input, env);
    if (proc == NULL && n->lhs->type == NT_PATH && n->lhs->items.v[0]->type == NT_NAME) {
        bool found;
        jn__env_lookup(cx, env, n->lhs->items.v[0]->str, n->lhs->items.v[0]->len, &found);
        if (found)
            jn__throw_at(cx, "T1005", n->position, n->lhs->items.v[0]->str, NULL,
                         "Attempted to invoke a non-function. Did you mean ${%s}?",
                         n->lhs->items.v[0]->str);
    }
    size_t nargs = n->items.len + (has_applyto ? 1 : 0);
    jn_val **args = jn_alloc(cx->arena, (nargs + 1) * sizeof *args);
    size_t k = 0;
    if (has_applyto)
        args[k++] = applyto;
    for (size_t i = 0; i < n->items.len; i++)
        args[k++] = jn__eval(cx, n->items.v[i], input, env);
    cx->position = n->position;
    cx->token = proc_name(n->lhs);
    return jn__apply(cx, proc, args, nargs, input, env);
}

static jn_val *partial(jn_ctx *cx, const jn_node *n, jn_val *input, jn_env *env)
{
    size_t nargs = n->items.len;
    jn_val **args = jn_alloc(cx->arena, (nargs + 1) * sizeof *args);
    for (size_t i = 0; i < nargs; i++)
        args[i] =
            n->items.v[i]->type == NT_HOLE ? &jn__hole : jn__eval(cx, n->items.v[i], input, env);
    jn_val *proc = jn__eval(cx, n->lhs, input, env);
    if (proc == NULL && n->lhs->type == NT_PATH && n->lhs->items.v[0]->type == NT_NAME) {
        bool found;
        jn__env_lookup(cx, env, n->lhs->items.v[0]->str, n->lhs->items.v[0]->len, &found);
        if (found)
            jn__throw_at(cx, "T1007", n->position, n->lhs->items.v[0]->str, NULL,
                         "Attempted to partially apply a non-function. Did you mean ${%s}?",
                         n->lhs->items.v[0]->str);
    }
    if (!jn_is_fn(proc))
        jn__throw_at(cx, "T1008", n->position, proc_name(n->lhs), NULL,
                     "Attempted to partially apply a non-function");
    jn_val *v = make_fn(cx, FN_PARTIAL);
    v->u.fn->target = proc;
    v->u.fn->args = args;
    v->u.fn->n_args = nargs;
    return v;
}

static jn_val *chain_fns(jn_ctx *cx, jn_val *f, jn_val *g);

static jn_val *apply_op(jn_ctx *cx, const jn_node *n, jn_val *input, jn_env *env)
{
    jn_val *l = jn__eval(cx, n->lhs, input, env);
    if (n->rhs->type == NT_CALL)
        return call(cx, n->rhs, input, env, l, true);
    jn_val *f = jn__eval(cx, n->rhs, input, env);
    if (!jn_is_fn(f))
        jn__throw_at(cx, "T2006", n->position, NULL, f,
                     "The right side of the function application operator ~> must be a "
                     "function");
    if (jn_is_fn(l))
        return chain_fns(cx, l, f);
    cx->position = n->position;
    return jn__apply(cx, f, &l, 1, input, env);
}

static jn_val *chain_fns(jn_ctx *cx, jn_val *f, jn_val *g)
{
    /* f ~> g is a partial application of a two-step composer: (f, g, ?) */
    jn_val *v = make_fn(cx, FN_PARTIAL);
    jn_val *composer = make_fn(cx, FN_BUILTIN);
    extern const jn_builtin jn__compose_builtin;
    composer->u.fn->builtin = &jn__compose_builtin;
    v->u.fn->target = composer;
    v->u.fn->n_args = 3;
    v->u.fn->args = jn_alloc(cx->arena, 3 * sizeof(jn_val *));
    v->u.fn->args[0] = f;
    v->u.fn->args[1] = g;
    v->u.fn->args[2] = &jn__hole;
    return v;
}

static jn_val *compose(jn_ctx *cx, jn_val **args, size_t nargs)
{
    jn_val *x = nargs > 2 ? args[2] : NULL;
    jn_val *y = jn_call(cx, args[0], &x, 1);
    return jn_call(cx, args[1], &y, 1);
}
const jn_builtin jn__compose_builtin = {"(compose)", NULL, compose};

static jn_val *transform(jn_ctx *cx, jn_fn *f, jn_val *obj)
{
    const jn_node *n = f->node;
    if (obj == NULL)
        return NULL;
    jn_val *result = jn_clone(cx->arena, obj);
    if (result == NULL)
        jn_throw(cx, "U1001", obj, "The value nests too deeply to copy");
    jn_val *matches = jn__eval(cx, n->lhs, result, f->env);
    if (matches == NULL)
        return result;
    size_t count = jn_is_arr(matches) ? matches->u.arr.len : 1;
    for (size_t i = 0; i < count; i++) {
        jn_val *m = jn_is_arr(matches) ? matches->u.arr.items[i] : matches;
        jn_val *update = jn__eval(cx, n->rhs, m, f->env);
        if (update != NULL) {
            if (!jn_is_obj(update))
                jn__throw_at(cx, "T2011", n->rhs->position, NULL, update,
                             "The insert/update clause of the transform expression must "
                             "evaluate to an object: %s",
                             jn__describe(cx, update));
            if (jn_is_obj(m)) {
                jn_entry *e;
                for (size_t k = 0; jn_obj_next(update, &k, &e);)
                    jn_obj_set(cx->arena, m, e->key, e->klen, e->val);
            }
        }
        if (n->els != NULL) {
            jn_val *del = jn__eval(cx, n->els, m, f->env);
            if (del != NULL) {
                jn_val *orig = del;
                if (!jn_is_arr(del)) {
                    jn_val *w = jn_array(cx->arena, 1);
                    jn_push(cx->arena, w, del);
                    del = w;
                }
                for (size_t k = 0; k < del->u.arr.len; k++)
                    if (!jn_is_str(del->u.arr.items[k]))
                        jn__throw_at(cx, "T2012", n->els->position, NULL, orig,
                                     "The delete clause of the transform expression must "
                                     "evaluate to a string or array of strings: %s",
                                     jn__describe(cx, orig));
                if (jn_is_obj(m))
                    for (size_t k = 0; k < del->u.arr.len; k++)
                        jn_obj_del(m, del->u.arr.items[k]->u.str.s, del->u.arr.items[k]->u.str.len);
            }
        }
    }
    return result;
}

/* A builtin that returns its argument: resolving a pending tail call where its value is
 * needed at once. */
static jn_val *identity(jn_ctx *cx, jn_val **args, size_t nargs)
{
    (void)cx;
    if (nargs > 0 && args[0] == &jn__thunk)
        return &jn__thunk;
    return nargs > 0 ? args[0] : NULL;
}
static const jn_builtin identity_builtin = {"(identity)", NULL, identity};
static jn_fn identity_fn = {.kind = FN_BUILTIN, .builtin = &identity_builtin};
static jn_val jn__identity = {.type = JN_FUNCTION, .u.fn = &identity_fn};

/* ---- the dispatcher ---- */

jn_val *jn__eval(jn_ctx *cx, const jn_node *n, jn_val *input, jn_env *env)
{
    enter(cx);
    jn_val *r = NULL;
    switch (n->type) {
    case NT_PATH:
        r = jn__eval_path(cx, n, input, env);
        break;
    case NT_BINARY:
        r = binary(cx, n, input, env);
        break;
    case NT_NEGATE: {
        jn_val *v = jn__eval(cx, n->lhs, input, env);
        if (v == NULL)
            r = NULL;
        else if (is_numeric(cx, v))
            r = jn_number(cx->arena, -jn_num(v));
        else
            jn__throw_at(cx, "D1002", n->position, "-", v, "Cannot negate a non-numeric value: %s",
                         jn__describe(cx, v));
        break;
    }
    case NT_NAME:
        r = jn__lookup(cx, input, n->str, n->len);
        break;
    case NT_STRING:
    case NT_NUMBER:
    case NT_VALUE:
        r = n->lit;
        break;
    case NT_WILDCARD:
        r = jn__wildcard(cx, input);
        break;
    case NT_DESCENDANT:
        r = jn__descendants(cx, input);
        break;
    case NT_PARENT:
        r = jn__env_lookup(cx, env, n->slot->label, strlen(n->slot->label), NULL);
        break;
    case NT_CONDITION: {
        jn_val *c = jn__eval(cx, n->lhs, input, env);
        if (boolize(cx, c))
            r = jn__eval(cx, n->rhs, input, env);
        else if (n->els != NULL)
            r = jn__eval(cx, n->els, input, env);
        break;
    }
    case NT_BLOCK: {
        jn_env *e = jn__env_new(cx, env);
        for (size_t i = 0; i < n->items.len; i++)
            r = jn__eval(cx, n->items.v[i], input, e);
        break;
    }
    case NT_BIND:
        r = jn__eval(cx, n->rhs, input, env);
        jn__env_bind(cx, env, n->lhs->str, n->lhs->len, r);
        break;
    case NT_REGEX:
        r = make_fn(cx, FN_REGEX);
        r->u.fn->re = n->re;
        break;
    case NT_VARIABLE:
        if (n->len == 0)
            r = jn_is_arr(input) && (input->flags & JN_ARR_OUTER) ? input->u.arr.items[0] : input;
        else
            r = jn__env_lookup(cx, env, n->str, n->len, NULL);
        break;
    case NT_ARRAY:
        r = array_ctor(cx, n, input, env);
        break;
    case NT_OBJECT:
        r = jn__eval_group(cx, n, input, env);
        break;
    case NT_CALL:
        r = call(cx, n, input, env, NULL, false);
        break;
    case NT_PARTIAL:
        r = partial(cx, n, input, env);
        break;
    case NT_LAMBDA:
        if (n->thunk) {
            cx->tail_node = n;
            cx->tail_input = input;
            cx->tail_env = env;
            r = &jn__thunk;
            break;
        }
        r = make_fn(cx, FN_LAMBDA);
        r->u.fn->node = n;
        r->u.fn->input = input;
        r->u.fn->env = env;
        r->u.fn->sig = n->sig;
        r->u.fn->thunk = n->thunk;
        break;
    case NT_APPLY:
        r = apply_op(cx, n, input, env);
        break;
    case NT_TRANSFORM:
        r = make_fn(cx, FN_TRANSFORM);
        r->u.fn->node = n;
        r->u.fn->env = env;
        r->u.fn->sig = transform_sig();
        break;
    default:
        jn__throw_at(cx, "S0206", n->position, NULL, NULL, "Unknown expression type");
    }
    if (r == &jn__thunk && (n->predicates.len > 0 || n->group != NULL))
        r = jn__apply(cx, &jn__identity, &r, 1, input, env);
    for (size_t i = 0; i < n->predicates.len; i++)
        r = jn__eval_filter(cx, n->predicates.v[i]->lhs, r, env);
    if (n->type != NT_PATH && n->group != NULL)
        r = jn__eval_group(cx, n->group, r, env);
    if (r != NULL && jn_is_seq(r) && !(r->flags & JN_ARR_TUPLES)) {
        if (n->keep_array)
            r->flags |= JN_ARR_KEEP;
        if (r->u.arr.len == 0)
            r = NULL;
        else if (r->u.arr.len == 1 && !(r->flags & JN_ARR_KEEP))
            r = r->u.arr.items[0];
    }
    cx->depth--;
    return r;
}
