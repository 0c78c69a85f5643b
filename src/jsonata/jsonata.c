/*
 * jsonata.c — the public interface: compiling, evaluating with limits, and the function
 * libraries (the standard one and callers' copies of it).
 */
#include "jsonata/jsonata_int.h"

#include "base/alloc.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void jn_error_fini(jn_error *err)
{
    if (err == NULL)
        return;
    free(err->message);
    free(err->token);
    err->message = NULL;
    err->token = NULL;
}

static void error_clear(jn_error *err)
{
    memset(err, 0, sizeof *err);
    err->position = -1;
}

int jn_compile(const char *text, size_t len, jn_expr **out, jn_error *err)
{
    jn_expr *e = bt_xcalloc(1, sizeof *e);
    jn_arena_init(&e->arena, 0);
    e->text = bt_xstrndup(text, len);
    jmp_buf jmp;
    jn_compiler c = {.arena = &e->arena, .jmp = &jmp, .err = err};
    error_clear(err);
    *out = NULL;
    if (setjmp(jmp) != 0) {
        if (err->position >= 0)
            err->position = (long)jn_u16_len(e->text, (size_t)err->position);
        for (size_t i = 0; i < c.n_regexes; i++)
            pcre2_code_free(c.regexes[i]);
        jn_arena_fini(&e->arena);
        free(e->text);
        free(e);
        return -1;
    }
    jn_node *raw = jn__parse(&c, e->text, len);
    e->root = jn__process(&c, raw);
    e->regexes = c.regexes;
    e->n_regexes = c.n_regexes;
    *out = e;
    return 0;
}

void jn_expr_free(jn_expr *e)
{
    if (e == NULL)
        return;
    for (size_t i = 0; i < e->n_regexes; i++)
        pcre2_code_free(e->regexes[i]);
    jn_arena_fini(&e->arena);
    free(e->text);
    free(e);
}

const char *jn_expr_text(const jn_expr *e)
{
    return e->text;
}

/* ---- libraries ---- */

static int cmp_builtin(const void *a, const void *b)
{
    const jn_builtin *x = *(const jn_builtin *const *)a, *y = *(const jn_builtin *const *)b;
    return strcmp(x->name, y->name);
}

/* b's parsed signature, in arena a (NULL: the heap, for the standard library's, which
 * lives as long as the process). */
static jn_sig *parse_sig(jn_arena *a, const jn_builtin *b)
{
    if (b->signature == NULL)
        return NULL;
    const char *code;
    size_t off;
    jn_sig *s = jn__sig_parse(a, b->signature, strlen(b->signature), &code, &off);
    if (s == NULL) {
        fprintf(stderr, "jsonata: bad signature %s for $%s\n", b->signature, b->name);
        abort();
    }
    return s;
}

/* b's signature parsed for lib, which owns it. */
static const jn_sig *lib_sig(jn_lib *lib, const jn_builtin *b)
{
    if (b->signature == NULL)
        return NULL;
    if (lib->sig_arena == NULL) {
        lib->sig_arena = bt_xmalloc(sizeof *lib->sig_arena);
        jn_arena_init(lib->sig_arena, 0);
    }
    jn_sig *sig = parse_sig(lib->sig_arena, b);
    lib->owned = bt_xrealloc(lib->owned, (lib->n_owned + 1) * sizeof *lib->owned);
    lib->owned[lib->n_owned++] = sig;
    return sig;
}

static void lib_put(jn_lib *lib, const jn_builtin *b, const jn_sig *sig)
{
    for (size_t i = 0; i < lib->n_fns; i++)
        if (strcmp(lib->fns[i]->name, b->name) == 0) {
            lib->fns[i] = b;
            lib->sigs[i] = sig;
            return;
        }
    if (lib->n_fns == lib->cap_fns) {
        lib->cap_fns = lib->cap_fns ? lib->cap_fns * 2 : 64;
        lib->fns = bt_xrealloc(lib->fns, lib->cap_fns * sizeof *lib->fns);
        lib->sigs = bt_xrealloc(lib->sigs, lib->cap_fns * sizeof *lib->sigs);
    }
    lib->fns[lib->n_fns] = b;
    lib->sigs[lib->n_fns] = sig;
    lib->n_fns++;
}

static void lib_sort(jn_lib *lib)
{
    /* sort fns and sigs together: pair them up */
    size_t n = lib->n_fns;
    struct pair {
        const jn_builtin *b;
        const jn_sig *s;
    } *p = bt_xmalloc((n + 1) * sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] = (struct pair){lib->fns[i], lib->sigs[i]};
    qsort(p, n, sizeof *p, cmp_builtin);
    for (size_t i = 0; i < n; i++) {
        lib->fns[i] = p[i].b;
        lib->sigs[i] = p[i].s;
    }
    free(p);
}

static jn_lib standard;
static pthread_once_t standard_once = PTHREAD_ONCE_INIT;

static void standard_init(void)
{
    const jn_builtin *tables[] = {jn__fn_string, jn__fn_numeric, jn__fn_array, jn__fn_object,
                                  jn__fn_hof,    jn__fn_misc,    jn__fn_format};
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
        for (const jn_builtin *b = tables[t]; b->name != NULL; b++)
            lib_put(&standard, b, parse_sig(NULL, b));
    lib_sort(&standard);
    standard.is_static = true;
    jn__lib_index(&standard);
}

const jn_lib *jn_lib_standard(void)
{
    pthread_once(&standard_once, standard_init);
    return &standard;
}

jn_lib *jn_lib_new(const jn_lib *base)
{
    if (base == NULL)
        base = jn_lib_standard();
    jn_lib *lib = bt_xcalloc(1, sizeof *lib);
    /* The standard library's signatures live as long as the process; another library's
     * die with it, so this one parses its own. */
    for (size_t i = 0; i < base->n_fns; i++)
        lib_put(lib, base->fns[i], base->is_static ? base->sigs[i] : lib_sig(lib, base->fns[i]));
    for (size_t i = 0; i < base->n_vars; i++)
        jn_lib_set_var(lib, base->var_names[i], base->var_values[i]);
    jn__lib_index(lib);
    return lib;
}

void jn_lib_free(jn_lib *lib)
{
    if (lib == NULL || lib->is_static)
        return;
    free(lib->fns);
    free(lib->sigs);
    free(lib->fn_values);
    free(lib->fn_data);
    free(lib->fn_index);
    for (size_t i = 0; i < lib->n_vars; i++) {
        free(lib->var_names[i]);
        json_decref(lib->var_values[i]);
    }
    free(lib->var_names);
    free(lib->var_values);
    for (size_t i = 0; i < lib->n_owned; i++)
        pcre2_code_free(lib->owned[i]->re);
    free(lib->owned);
    if (lib->sig_arena) {
        jn_arena_fini(lib->sig_arena);
        free(lib->sig_arena);
    }
    free(lib);
}

void jn_lib_add(jn_lib *lib, const jn_builtin *b)
{
    const jn_sig *sig = NULL;
    for (size_t i = 0; i < lib->n_fns; i++)
        if (lib->fns[i] == b)
            sig = lib->sigs[i];
    lib_put(lib, b, sig ? sig : lib_sig(lib, b));
    lib_sort(lib);
    jn__lib_index(lib);
}

int jn_lib_remove(jn_lib *lib, const char *name)
{
    for (size_t i = 0; i < lib->n_fns; i++)
        if (strcmp(lib->fns[i]->name, name) == 0) {
            memmove(lib->fns + i, lib->fns + i + 1, (lib->n_fns - i - 1) * sizeof *lib->fns);
            memmove(lib->sigs + i, lib->sigs + i + 1, (lib->n_fns - i - 1) * sizeof *lib->sigs);
            lib->n_fns--;
            jn__lib_index(lib);
            return 0;
        }
    return -1;
}

void jn_lib_set_var(jn_lib *lib, const char *name, const json_t *v)
{
    for (size_t i = 0; i < lib->n_vars; i++)
        if (strcmp(lib->var_names[i], name) == 0) {
            json_decref(lib->var_values[i]);
            lib->var_values[i] = json_deep_copy(v);
            return;
        }
    if (lib->n_vars == lib->cap_vars) {
        lib->cap_vars = lib->cap_vars ? lib->cap_vars * 2 : 8;
        lib->var_names = bt_xrealloc(lib->var_names, lib->cap_vars * sizeof *lib->var_names);
        lib->var_values = bt_xrealloc(lib->var_values, lib->cap_vars * sizeof *lib->var_values);
    }
    lib->var_names[lib->n_vars] = bt_xstrdup(name);
    lib->var_values[lib->n_vars] = json_deep_copy(v);
    lib->n_vars++;
}

/* ---- evaluation ---- */

static void *arena_malloc(PCRE2_SIZE size, void *ud)
{
    return jn_alloc((jn_arena *)ud, size);
}

static void arena_free(void *p, void *ud)
{
    (void)p;
    (void)ud;
}

typedef struct eval_state {
    jn_ctx cx;
    jmp_buf jmp;
} eval_state;

static void on_memory_limit(void *ud)
{
    jn_ctx *cx = ud;
    cx->arena->limit = 0; /* room for the message */
    jn__throw_at(cx, "U1002", -1, NULL, NULL,
                 "Memory limit exceeded: the evaluation needs more than its allowance");
}

static void on_tick(void *ud)
{
    jn__check_time(ud);
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void bind_var(jn_ctx *cx, jn_env *env, jn_val *obj, const jn_var *v, int depth)
{
    jn_val *x;
    if (v->members != NULL) {
        if (depth > JN_MAX_NESTING)
            jn__throw_at(cx, "U1001", -1, NULL, NULL, "The bindings nest too deeply");
        x = jn_object(cx->arena);
        for (size_t i = 0; i < v->n_members; i++)
            bind_var(cx, NULL, x, &v->members[i], depth + 1);
    } else if (v->value != NULL) {
        x = jn_from_json_borrow(cx->arena, v->value);
    } else {
        return; /* undefined: not bound */
    }
    if (env != NULL)
        jn__env_bind(cx, env, v->name, strlen(v->name), x);
    else if (x != NULL)
        jn_obj_set(cx->arena, obj, v->name, strlen(v->name), x);
}

static int eval_with(const jn_expr *e, const json_t *input, const json_t *bindings,
                     const jn_var *vars, size_t n_vars, const jn_lib *lib, const jn_limits *limits,
                     json_t **result, jn_error *err)
{
    jn_limits lim = limits ? *limits : JN_LIMITS_DEFAULT;
    if (lim.max_stack == 0)
        lim.max_stack = JN_LIMITS_DEFAULT.max_stack;
    jn_arena arena;
    _Alignas(16) char first[8192]; /* the arena's first chunk */
    jn_arena_init_buf(&arena, lim.max_memory, first, sizeof first);
    eval_state state; /* in memory, as arena is: both are read after a longjmp */
    memset(&state.cx, 0, sizeof state.cx);
    eval_state *st = &state;
    jn_ctx *cx = &st->cx;
    char base;
    cx->arena = &arena;
    cx->jmp = &st->jmp;
    cx->err = err;
    cx->lib = lib ? lib : jn_lib_standard();
    cx->max_depth = lim.max_depth;
    cx->max_stack = lim.max_stack;
    cx->stack_base = &base;
    cx->position = -1;
    if (lim.time_limit_ms)
        cx->deadline_ms = mono_now() + lim.time_limit_ms;
    arena.on_limit = on_memory_limit;
    arena.on_tick = on_tick;
    arena.ud = cx;
    error_clear(err);
    *result = NULL;
    int rc = 0;
    if (setjmp(st->jmp) != 0) {
        if (err->position >= 0 && (size_t)err->position <= strlen(e->text))
            err->position = (long)jn_u16_len(e->text, (size_t)err->position);
        rc = -1;
        goto out;
    }
    cx->pcre_gc = pcre2_general_context_create(arena_malloc, arena_free, &arena);
    jn_env *root = jn__env_new(cx, NULL);
    cx->root = root;
    for (size_t i = 0; i < cx->lib->n_vars; i++)
        jn__env_bind(cx, root, cx->lib->var_names[i], strlen(cx->lib->var_names[i]),
                     jn_from_json_borrow(&arena, cx->lib->var_values[i]));
    if (bindings != NULL && json_is_object(bindings)) {
        for (void *it = json_object_iter((json_t *)(uintptr_t)bindings); it != NULL;
             it = json_object_iter_next((json_t *)(uintptr_t)bindings, it)) {
            const char *k = json_object_iter_key(it);
            jn__env_bind(cx, root, k, strlen(k),
                         jn_from_json_borrow(&arena, json_object_iter_value(it)));
        }
    }
    for (size_t i = 0; i < n_vars; i++)
        bind_var(cx, root, NULL, &vars[i], 0);
    jn_val *in = input ? jn_from_json_borrow(&arena, input) : NULL; /* read only */
    jn__env_bind(cx, root, "$", 1, in);
    if (jn_is_arr(in)) {
        jn_val *w = jn_seq(&arena);
        jn_push(&arena, w, in);
        w->flags |= JN_ARR_OUTER;
        in = w;
    }
    jn_env *env = jn__env_new(cx, root);
    cx->env = env;
    jn_val *r = jn__eval(cx, e->root, in, env);
    if (jn_is_fn(r)) {
        *result = json_string("");
    } else {
        bool too_deep;
        /* jansson spends about 64 bytes a value: the result must fit the memory limit too */
        *result = jn_to_json_checked(r, lim.max_memory / 64, &too_deep);
        if (too_deep)
            jn__throw_at(cx, "U1002", -1, NULL, NULL,
                         "The result nests too deeply or is too big to be returned as JSON");
    }
out:
    if (cx->pcre_gc)
        pcre2_general_context_free(cx->pcre_gc);
    jn_arena_fini(&arena);
    return rc;
}

int jn_eval(const jn_expr *e, const json_t *input, const json_t *bindings, const jn_lib *lib,
            const jn_limits *limits, json_t **result, jn_error *err)
{
    return eval_with(e, input, bindings, NULL, 0, lib, limits, result, err);
}

int jn_eval_vars(const jn_expr *e, const json_t *input, const jn_var *vars, size_t n_vars,
                 const jn_lib *lib, const jn_limits *limits, json_t **result, jn_error *err)
{
    return eval_with(e, input, NULL, vars, n_vars, lib, limits, result, err);
}
