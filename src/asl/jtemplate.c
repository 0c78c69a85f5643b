/*
 * jtemplate.c — JSONata-mode field values (jtemplate.h): a tree of literal parts and
 * compiled expressions. A subtree without expressions is kept as one constant, so the
 * common case (a literal, or one expression) costs one node and evaluation copies nothing
 * it does not have to.
 */
#include "asl/jtemplate.h"
#include "base/alloc.h"
#include "base/buf.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef enum { JT_CONST, JT_EXPR, JT_OBJECT, JT_ARRAY } jt_node;

struct asl_jt {
    jt_node node;
    json_t *value; /* JT_CONST */
    jn_expr *expr; /* JT_EXPR */
    char *text;    /* JT_EXPR: the expression, trimmed */
    size_t n;      /* JT_OBJECT, JT_ARRAY */
    char **keys;   /* JT_OBJECT */
    asl_jt **kids;
    asl_jt_reads reads; /* the root's: what all its expressions read */
    /* JT_EXPR of the form $var.field…: the names (jn_expr_name_path), so that evaluation
     * can hand out the binding's own JSON instead of a converted copy */
    size_t n_path;
    char **path;
    size_t *path_lens;
};

#define MAX_PATH 16

void asl_jt_problem_fini(asl_jt_problem *p)
{
    free(p->field);
    p->field = NULL;
    jn_error_fini(&p->err);
}

bool asl_jt_is_expr(const json_t *v)
{
    if (!json_is_string(v))
        return false;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    return n >= 4 && memcmp(s, "{%", 2) == 0 && memcmp(s + n - 2, "%}", 2) == 0;
}

static bool has_expr(json_t *v, int depth)
{
    if (depth > 2048)
        return false;
    if (asl_jt_is_expr(v))
        return true;
    const char *k;
    json_t *x;
    size_t i;
    if (json_is_object(v)) {
        json_object_foreach(v, k, x)
        {
            if (has_expr(x, depth + 1))
                return true;
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, x)
        {
            if (has_expr(x, depth + 1))
                return true;
        }
    }
    return false;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void field_push(bt_buf *b, const char *key, size_t index)
{
    if (key) {
        bt_buf_putc(b, '/');
        bt_buf_puts(b, key);
    } else {
        bt_buf_printf(b, "[%zu]", index);
    }
}

static int compile_node(json_t *v, asl_jt **out, bt_buf *where, asl_jt_problem *p)
{
    asl_jt *t = bt_xcalloc(1, sizeof(*t));
    *out = t;
    if (!has_expr(v, 0)) {
        t->node = JT_CONST;
        t->value = json_deep_copy(v);
        if (t->value == NULL) /* deeper than jansson copies: keep the caller's own */
            t->value = json_incref(v);
        return 0;
    }
    if (asl_jt_is_expr(v)) {
        const char *s = json_string_value(v) + 2;
        size_t n = json_string_length(v) - 4;
        while (n && is_space(*s))
            s++, n--;
        while (n && is_space(s[n - 1]))
            n--;
        t->node = JT_EXPR;
        t->text = bt_xstrndup(s, n);
        if (jn_compile(t->text, n, &t->expr, &p->err) != 0) {
            p->kind = ASL_JT_SYNTAX;
            p->field = bt_xstrdup(where->data ? where->data : "");
            p->expr = NULL;
            return -1;
        }
        const char *names[MAX_PATH];
        size_t lens[MAX_PATH];
        t->n_path = jn_expr_name_path(t->expr, names, lens, MAX_PATH);
        if (t->n_path) {
            t->path = bt_xcalloc(t->n_path, sizeof(char *));
            t->path_lens = bt_xcalloc(t->n_path, sizeof(size_t));
            for (size_t i = 0; i < t->n_path; i++) {
                t->path[i] = bt_xstrndup(names[i], lens[i]);
                t->path_lens[i] = lens[i];
            }
        }
        return 0;
    }
    int rc = 0;
    if (json_is_object(v)) {
        t->node = JT_OBJECT;
        t->n = json_object_size(v);
        t->keys = bt_xcalloc(t->n ? t->n : 1, sizeof(char *));
        t->kids = bt_xcalloc(t->n ? t->n : 1, sizeof(asl_jt *));
        size_t i = 0;
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x)
        {
            size_t mark = where->len;
            field_push(where, k, 0);
            t->keys[i] = bt_xstrdup(k);
            rc = compile_node(x, &t->kids[i], where, p);
            where->len = mark;
            where->data[mark] = '\0';
            i++;
            if (rc != 0)
                break;
        }
        t->n = i;
    } else {
        t->node = JT_ARRAY;
        t->n = json_array_size(v);
        t->kids = bt_xcalloc(t->n ? t->n : 1, sizeof(asl_jt *));
        for (size_t i = 0; i < t->n; i++) {
            size_t mark = where->len;
            field_push(where, NULL, i);
            rc = compile_node(json_array_get(v, i), &t->kids[i], where, p);
            where->len = mark;
            where->data[mark] = '\0';
            if (rc != 0) {
                t->n = i + 1;
                break;
            }
        }
    }
    return rc;
}

static void on_ref(void *ud, const char *name, size_t len, const char *field, size_t flen)
{
    asl_jt_reads *r = ud;
    if (len == 0 || (len == 1 && name[0] == '$'))
        return; /* $ and $$: the context item, not a binding */
    if (len == 6 && memcmp(name, "states", 6) == 0) {
        static const struct {
            const char *name;
            unsigned bit;
        } members[] = {{"input", ASL_JT_INPUT},
                       {"result", ASL_JT_RESULT},
                       {"errorOutput", ASL_JT_ERROR_OUTPUT},
                       {"context", ASL_JT_CONTEXT}};
        if (field == NULL) {
            r->states = ASL_JT_STATES;
            return;
        }
        for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++)
            if (strlen(members[i].name) == flen && memcmp(members[i].name, field, flen) == 0)
                r->states |= members[i].bit;
        return;
    }
    for (size_t i = 0; i < r->n_vars; i++)
        if (strlen(r->vars[i]) == len && memcmp(r->vars[i], name, len) == 0)
            return;
    r->vars = bt_xrealloc(r->vars, (r->n_vars + 1) * sizeof(char *));
    r->vars[r->n_vars++] = bt_xstrndup(name, len);
}

static void collect_reads(const asl_jt *t, asl_jt_reads *r)
{
    if (t->node == JT_EXPR)
        jn_expr_refs(t->expr, on_ref, r);
    for (size_t i = 0; i < t->n; i++)
        collect_reads(t->kids[i], r);
}

const asl_jt_reads *asl_jt_reads_of(const asl_jt *t)
{
    return &t->reads;
}

int asl_jt_compile(json_t *v, asl_jt **out, asl_jt_problem *p)
{
    memset(p, 0, sizeof(*p));
    p->err.position = -1;
    bt_buf where;
    bt_buf_init(&where);
    bt_buf_puts(&where, "");
    int rc = compile_node(v, out, &where, p);
    bt_buf_fini(&where);
    if (rc != 0) {
        asl_jt_free(*out);
        *out = NULL;
    } else {
        collect_reads(*out, &(*out)->reads);
    }
    return rc;
}

void asl_jt_free(asl_jt *t)
{
    if (t == NULL)
        return;
    json_decref(t->value);
    jn_expr_free(t->expr);
    free(t->text);
    for (size_t i = 0; i < t->n; i++) {
        if (t->keys)
            free(t->keys[i]);
        asl_jt_free(t->kids[i]);
    }
    free(t->keys);
    free(t->kids);
    for (size_t i = 0; i < t->reads.n_vars; i++)
        free(t->reads.vars[i]);
    for (size_t i = 0; i < t->n_path; i++)
        free(t->path[i]);
    free(t->path);
    free(t->path_lens);
    free(t->reads.vars);
    free(t);
}

json_t *asl_jt_constant(const asl_jt *t)
{
    return t->node == JT_CONST ? t->value : NULL;
}

const char *asl_jt_expr_text(const asl_jt *t)
{
    return t->node == JT_EXPR ? t->text : NULL;
}

/* What one evaluation binds: a JSON object, or an array of variables. */
typedef struct jt_binds {
    const json_t *object;
    const jn_var *vars;
    size_t n_vars;
} jt_binds;

/* The JSON a $var.field… expression selects from the bindings, or NULL where jn_eval must
 * decide (a name not bound, a step over something other than an object, an undefined
 * value). A variable composed of members (jn_var.members) is walked member by member. */
static const json_t *select_path(const asl_jt *t, const jt_binds *b)
{
    size_t i = 0;
    const json_t *v = NULL;
    if (b->object) {
        v = json_object_getn(b->object, t->path[0], t->path_lens[0]);
        i = 1;
    } else {
        const jn_var *vars = b->vars;
        size_t n = b->n_vars;
        for (;;) {
            const jn_var *found = NULL;
            for (size_t k = n; k-- > 0 && found == NULL;) /* the last binding of a name wins */
                if (strlen(vars[k].name) == t->path_lens[i] &&
                    memcmp(vars[k].name, t->path[i], t->path_lens[i]) == 0)
                    found = &vars[k];
            if (found == NULL)
                return NULL;
            i++;
            if (found->members == NULL) {
                v = found->value;
                break;
            }
            if (i == t->n_path)
                return NULL; /* the composed object itself */
            vars = found->members;
            n = found->n_members;
        }
    }
    for (; v != NULL && i < t->n_path; i++) {
        if (!json_is_object(v))
            return NULL;
        v = json_object_getn(v, t->path[i], t->path_lens[i]);
    }
    return v;
}

/* Whether JSONata gives v back unchanged: converted to its values and back, a number
 * becomes an integer when it is one below 2^53 (so 1.0 becomes 1 and 2^53 + 1 a real),
 * and an object puts its array-index keys first (jsonata/value.c); v passes when none of
 * that can apply (keys starting with a digit are refused outright). */
static bool jsonata_keeps(const json_t *v, int depth)
{
    if (depth > 512)
        return false;
    switch (json_typeof(v)) {
    case JSON_INTEGER: {
        json_int_t i = json_integer_value(v);
        return i > -9007199254740992LL && i < 9007199254740992LL;
    }
    case JSON_REAL: {
        double d = json_real_value(v);
        return d != floor(d) || fabs(d) >= 9007199254740992.0;
    }
    case JSON_OBJECT: {
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)(uintptr_t)v, k, x)
        {
            if ((k[0] >= '0' && k[0] <= '9') || !jsonata_keeps(x, depth + 1))
                return false;
        }
        return true;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            if (!jsonata_keeps(x, depth + 1))
                return false;
        }
        return true;
    }
    default:
        return true;
    }
}

static int eval_node(const asl_jt *t, const json_t *context, const jt_binds *bindings,
                     const jn_lib *lib, const jn_limits *limits, json_t **out, bt_buf *where,
                     asl_jt_problem *p)
{
    switch (t->node) {
    case JT_CONST:
        *out = json_incref(t->value);
        return 0;
    case JT_EXPR: {
        json_t *res = NULL;
        if (t->n_path) {
            const json_t *v = select_path(t, bindings);
            if (v != NULL && jsonata_keeps(v, 0)) {
                *out = json_incref((json_t *)(uintptr_t)v);
                return 0;
            }
        }
        int rc = bindings->object
                     ? jn_eval(t->expr, context, bindings->object, lib, limits, &res, &p->err)
                     : jn_eval_vars(t->expr, context, bindings->vars, bindings->n_vars, lib, limits,
                                    &res, &p->err);
        if (rc != 0) {
            p->kind = ASL_JT_ERROR;
        } else if (res == NULL) {
            p->kind = ASL_JT_UNDEFINED;
        } else {
            *out = res;
            return 0;
        }
        p->expr = t->text;
        p->field = bt_xstrdup(where->data ? where->data : "");
        return -1;
    }
    case JT_OBJECT: {
        json_t *o = json_object();
        for (size_t i = 0; i < t->n; i++) {
            size_t mark = where->len;
            field_push(where, t->keys[i], 0);
            json_t *x = NULL;
            int rc = eval_node(t->kids[i], context, bindings, lib, limits, &x, where, p);
            where->len = mark;
            where->data[mark] = '\0';
            if (rc != 0) {
                json_decref(o);
                return rc;
            }
            json_object_set_new(o, t->keys[i], x);
        }
        *out = o;
        return 0;
    }
    case JT_ARRAY: {
        json_t *a = json_array();
        for (size_t i = 0; i < t->n; i++) {
            size_t mark = where->len;
            field_push(where, NULL, i);
            json_t *x = NULL;
            int rc = eval_node(t->kids[i], context, bindings, lib, limits, &x, where, p);
            where->len = mark;
            where->data[mark] = '\0';
            if (rc != 0) {
                json_decref(a);
                return rc;
            }
            json_array_append_new(a, x);
        }
        *out = a;
        return 0;
    }
    }
    return -1;
}

/* The context item: an empty object rather than undefined, since AWS gives expressions no
 * input of their own and paths that start from a variable ($states.input.x) must still
 * navigate. Made once; evaluations only read it. */
static json_t *empty_context;
static pthread_once_t empty_once = PTHREAD_ONCE_INIT;

static void empty_init(void)
{
    empty_context = json_object();
}

static int eval_root(const asl_jt *t, const jt_binds *b, const jn_lib *lib, const jn_limits *limits,
                     json_t **out, asl_jt_problem *p)
{
    memset(p, 0, sizeof(*p));
    p->err.position = -1;
    *out = NULL;
    if (t->node == JT_CONST) {
        *out = json_incref(t->value);
        return 0;
    }
    pthread_once(&empty_once, empty_init);
    bt_buf where; /* the location below the field: grows only inside objects and arrays */
    bt_buf_init(&where);
    int rc = eval_node(t, empty_context, b, lib, limits, out, &where, p);
    bt_buf_fini(&where);
    return rc;
}

int asl_jt_eval(const asl_jt *t, const json_t *bindings, const jn_lib *lib, const jn_limits *limits,
                json_t **out, asl_jt_problem *p)
{
    jt_binds b = {.object = bindings}; /* NULL: no variables (jn_eval_vars with none) */
    return eval_root(t, &b, lib, limits, out, p);
}

int asl_jt_eval_vars(const asl_jt *t, const jn_var *vars, size_t n_vars, const jn_lib *lib,
                     const jn_limits *limits, json_t **out, asl_jt_problem *p)
{
    jt_binds b = {.vars = vars, .n_vars = n_vars};
    return eval_root(t, &b, lib, limits, out, p);
}
