/*
 * jsonata_int.h — what the files of src/jsonata/ share: tokens, the syntax tree, the
 * evaluation context, environments and function values.
 *
 * Errors unwind with longjmp: the compiler to jn_compile, the evaluator to jn_eval. All
 * memory of a compilation or an evaluation comes from its arena, so nothing leaks when a
 * jump skips the frames that allocated it.
 */
#ifndef BT_JSONATA_INT_H
#define BT_JSONATA_INT_H

#include "jsonata/builtin.h"
#include "jsonata/jsonata.h"
#include "jsonata/value.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- tokens (lexer.c) ---- */

typedef enum jn_tok_type {
    TK_END,
    TK_NAME,
    TK_VARIABLE,
    TK_OPERATOR,
    TK_STRING,
    TK_NUMBER,
    TK_VALUE, /* true, false, null */
    TK_REGEX,
} jn_tok_type;

typedef struct jn_token {
    jn_tok_type type;
    const char *text; /* operator text, name, string value (decoded), regex pattern */
    size_t len;
    double num;
    int value;         /* TK_VALUE: 0 null, 1 true, 2 false */
    const char *flags; /* regex flags */
    long position;     /* offset after the token, in characters */
} jn_token;

typedef struct jn_lexer {
    const char *src;
    size_t len, pos;
    jn_arena *arena;
    jmp_buf *jmp;
    jn_error *err;
} jn_lexer;

void jn__lex_next(jn_lexer *lx, bool infix, jn_token *t);
_Noreturn void jn__syntax_error(jn_arena *a, jmp_buf *jmp, jn_error *err, const char *code,
                                long position, const char *token, const char *fmt, ...);

/* ---- the syntax tree (parser.c builds it, ast.c rewrites it as the evaluator wants) ---- */

typedef enum jn_node_type {
    NT_STRING,
    NT_NUMBER,
    NT_VALUE,
    NT_REGEX,
    NT_NAME,
    NT_VARIABLE,
    NT_WILDCARD,
    NT_DESCENDANT,
    NT_PARENT,
    NT_PATH,
    NT_BINARY, /* op: + - * / % = != < <= > >= & and or in .. and, before rewriting, . [ { ^ @ # */
    NT_NEGATE,
    NT_ARRAY,
    NT_OBJECT,
    NT_BLOCK,
    NT_CONDITION,
    NT_BIND,
    NT_CALL,
    NT_PARTIAL,
    NT_LAMBDA,
    NT_APPLY,
    NT_TRANSFORM,
    NT_SORT,
    NT_HOLE,   /* '?' in a partial application */
    NT_FILTER, /* a stage: [expr] */
    NT_INDEX,  /* a stage: #$i */
    NT_END,
    NT_OPERATOR, /* an operator token used as an operand (before rewriting) */
} jn_node_type;

typedef enum jn_op {
    OP_NONE,
    OP_DOT,
    OP_LBRACKET,
    OP_LBRACE,
    OP_CARET,
    OP_AT,
    OP_HASH,
    OP_BIND,
    OP_APPLY,
    OP_PLUS,
    OP_MINUS,
    OP_MUL,
    OP_DIV,
    OP_MOD,
    OP_EQ,
    OP_NE,
    OP_LT,
    OP_LE,
    OP_GT,
    OP_GE,
    OP_CONCAT,
    OP_AND,
    OP_OR,
    OP_IN,
    OP_RANGE,
} jn_op;

typedef struct jn_slot {
    const char *label; /* "!0" … */
    int level;
    int index;
} jn_slot;

typedef struct jn_sig jn_sig;
typedef struct jn_node jn_node;

typedef struct jn_nodes {
    jn_node **v;
    size_t len, cap;
} jn_nodes;

struct jn_node {
    jn_node_type type;
    jn_op op;
    long position;
    const char *str; /* strings, names, variables (without '$'), operator text */
    size_t len;
    double num;
    jn_val *lit;     /* literal value */
    jn_node *lhs;    /* binary lhs, condition, procedure, pattern, bind's variable, negate's arg */
    jn_node *rhs;    /* binary rhs, then, update, bind's value, lambda body */
    jn_node *els;    /* else, delete */
    jn_nodes items;  /* path steps, array items, block expressions, arguments, params, sort terms */
    jn_nodes pairs;  /* object constructor: key, value, key, value … */
    jn_nodes stages; /* filters and index stages of a path step */
    jn_nodes predicates; /* filters of a non-step expression */
    jn_node *group;      /* group-by: an NT_OBJECT */
    const char *focus;   /* @$name */
    const char *index;   /* #$name */
    jn_slot *ancestor;   /* a step whose input a % refers to */
    jn_slot *slot;       /* NT_PARENT */
    jn_slot **seeking;   /* slots of % not yet resolved */
    size_t n_seeking, cap_seeking;
    jn_sig *sig;    /* lambda's signature */
    pcre2_code *re; /* NT_REGEX */
    bool keep_array, cons_array, tuple, keep_singleton, thunk, descending;
    bool binds; /* lambda: its body binds a variable in the call's own frame */
};

typedef struct jn_compiler {
    jn_arena *arena;
    jmp_buf *jmp;
    jn_error *err;
    int ancestor_label, ancestor_index;
    int depth;          /* of the tree walk in ast.c */
    jn_slot **ancestry; /* by slot index */
    size_t n_ancestry, cap_ancestry;
    pcre2_code **regexes; /* to free with the expression */
    size_t n_regexes, cap_regexes;
} jn_compiler;

jn_node *jn__parse(jn_compiler *c, const char *src, size_t len);
jn_node *jn__process(jn_compiler *c, jn_node *raw);
void jn__push_node(jn_arena *a, jn_nodes *list, jn_node *n);
jn_node *jn__new_node(jn_arena *a, jn_node_type type, long position);

struct jn_expr {
    jn_arena arena;
    jn_node *root;
    char *text;
    pcre2_code **regexes;
    size_t n_regexes;
};

/* ---- signatures (signature.c) ---- */

typedef struct jn_sig_param {
    char type;        /* b n s l a o f j x or '(' for a choice */
    char choice[16];  /* the types of a choice */
    char subtype[16]; /* a<n>: the item type; f<…>: ignored */
    bool optional, context, plus;
    unsigned mask; /* the symbols it accepts (sig_bit in signature.c) */
} jn_sig_param;

struct jn_sig {
    jn_sig_param *params;
    size_t n_params;
    pcre2_code *re;
    char *text;
};

/* Parses text ("<s-nn?:s>") into a (NULL: the heap); NULL and code, offset on a syntax
 * error. The matcher (re) is the caller's to free. */
jn_sig *jn__sig_parse(jn_arena *a, const char *text, size_t len, const char **code, size_t *offset);

/* casing.c: the code points (up to three, into out) JavaScript's toUpperCase turns cp into
 * when they are more than one ("ß" → "SS"); 0 when cp maps one to one. */
size_t jn__special_upper(uint32_t cp, uint32_t out[3]);

/* ---- evaluation ---- */

typedef struct jn_binding {
    const char *name;
    size_t len;
    jn_val *val;
} jn_binding;

typedef struct jn_env {
    struct jn_env *parent;
    jn_binding *b;
    size_t len, cap;
} jn_env;

typedef enum jn_fn_kind {
    FN_LAMBDA,
    FN_BUILTIN,
    FN_PARTIAL,
    FN_REGEX,
    FN_TRANSFORM,
} jn_fn_kind;

typedef struct jn_fn {
    jn_fn_kind kind;
    const jn_node *node;       /* lambda, transform */
    jn_val *input;             /* lambda's context */
    jn_env *env;               /* closure */
    const jn_builtin *builtin; /* FN_BUILTIN */
    const jn_sig *sig;         /* signature (builtin's or lambda's) */
    jn_val *target;            /* FN_PARTIAL: the function applied */
    jn_val **args;             /* FN_PARTIAL: arguments, holes are jn__hole */
    size_t n_args;
    pcre2_code *re; /* FN_REGEX */
    bool thunk;
} jn_fn;

extern jn_val jn__hole;
/* What a lambda body's call in tail position evaluates to: the call itself (node, input,
 * env) waits in the context, and jn__apply's trampoline makes it. */
extern jn_val jn__thunk;

struct jn_lib {
    const jn_builtin **fns;
    size_t n_fns, cap_fns;
    const jn_sig **sigs;
    char **var_names;
    json_t **var_values;
    size_t n_vars, cap_vars;
    bool is_static;
    /* The signatures this library parsed (jn_lib_add, and jn_lib_new from a library that
     * is not the standard one), in sig_arena, with their matchers: freed with it. */
    jn_arena *sig_arena;
    jn_sig **owned;
    size_t n_owned;
    /* the functions as values (shared, read-only) and a hash index of their names, which
     * jn__lib_index builds once the table changes */
    jn_val *fn_values;
    jn_fn *fn_data;
    uint32_t *fn_index; /* open addressing over fns (i + 1) */
    size_t fn_icap;
};

/* (Re)builds lib's function values and name index (eval.c). */
void jn__lib_index(jn_lib *lib);

struct jn_ctx {
    jn_arena *arena;
    jmp_buf *jmp;
    jn_error *err;
    const jn_lib *lib;
    jn_env *root;
    unsigned depth, max_depth;
    unsigned ticks;
    double deadline_ms; /* 0: none */
    double now_ms;      /* 0 until jn_ctx_now_ms reads the clock */
    const char *stack_base;
    size_t max_stack;
    /* the call in progress (for errors and '-' context) */
    long position;
    const char *token;
    jn_val *input;
    jn_env *env;
    const jn_node *tail_node; /* the pending tail call (see jn__thunk) */
    jn_val *tail_input;
    jn_env *tail_env;
    pcre2_general_context *pcre_gc;
    pcre2_match_data *md;     /* regex matches (results are copied out) */
    pcre2_match_data *sig_md; /* signature checks */
};

jn_val *jn__eval(jn_ctx *cx, const jn_node *n, jn_val *input, jn_env *env);
/* Raises U1001 when the evaluation has used more C stack than its limit allows: every
 * recursive walk over values calls it, so a deeply nested value cannot crash. */
void jn__check_stack(jn_ctx *cx);
/* Raises U1001 when the evaluation is past its time limit. */
void jn__check_time(jn_ctx *cx);
/* A step of a walk over values (native code, no evaluation step between): every 256th
 * checks the time. */
static inline void jn__tick(jn_ctx *cx)
{
    if (cx->deadline_ms != 0 && (++cx->ticks & 255) == 0)
        jn__check_time(cx);
}
/* jn_truthy for the evaluator: a value nested too deeply for the stack, or shared so often
 * that the walk outlasts the time limit, is an error (U1001), not a crash or a hang. */
int jn__truthy(jn_ctx *cx, const jn_val *v);
/* Raises U1002 when bytes more (outside the arena: text being built) would take the
 * evaluation beyond its memory limit. */
void jn__budget(jn_ctx *cx, size_t bytes);
/* Deep equality that also meets the time limit (a value may share parts many times). */
bool jn__equal(jn_ctx *cx, const jn_val *x, const jn_val *y);
jn_val *jn__apply(jn_ctx *cx, jn_val *fn, jn_val **args, size_t nargs, jn_val *input, jn_env *env);
jn_env *jn__env_new(jn_ctx *cx, jn_env *parent);
void jn__env_bind(jn_ctx *cx, jn_env *env, const char *name, size_t len, jn_val *v);
jn_val *jn__env_lookup(jn_ctx *cx, jn_env *env, const char *name, size_t len, bool *found);
_Noreturn void jn__throw_at(jn_ctx *cx, const char *code, long position, const char *token,
                            const jn_val *value, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
jn_val *jn__builtin_value(jn_ctx *cx, const jn_builtin *b, const jn_sig *sig);
jn_val **jn__validate(jn_ctx *cx, const jn_sig *sig, jn_val **args, size_t nargs, jn_val *context,
                      size_t *out_n);
/* The value's text for messages (JSON-ish, truncated). */
const char *jn__describe(jn_ctx *cx, const jn_val *v);

/* paths (path.c) */
jn_val *jn__eval_path(jn_ctx *cx, const jn_node *n, jn_val *input, jn_env *env);
jn_val *jn__eval_filter(jn_ctx *cx, const jn_node *pred, jn_val *input, jn_env *env);
jn_val *jn__eval_group(jn_ctx *cx, const jn_node *obj, jn_val *input, jn_env *env);
jn_val *jn__lookup(jn_ctx *cx, jn_val *input, const char *key, size_t klen);
jn_val *jn__append(jn_ctx *cx, jn_val *a, jn_val *b);
jn_val *jn__flatten(jn_ctx *cx, jn_val *v, jn_val *into);

jn_val *jn__wildcard(jn_ctx *cx, jn_val *input);
jn_val *jn__descendants(jn_ctx *cx, jn_val *input);

/* regex (regex.c) */
pcre2_code *jn__regex_compile(const char *pattern, size_t len, const char *flags, int *errcode,
                              size_t *erroffset);
/* Finds the next match in s from byte offset start. true and the match's byte offsets
 * (ovector[2*i], ovector[2*i+1]; PCRE2_UNSET for a group that did not take part). */
bool jn__regex_match(jn_ctx *cx, pcre2_code *re, const char *s, size_t len, size_t start,
                     size_t **ovector, size_t *ngroups);
/* A regex called as a function: its first match in str as {match, start, end, groups}. */
jn_val *jn__regex_call(jn_ctx *cx, jn_val *fn, jn_val *str);

/* the library tables */
extern const jn_builtin jn__fn_string[];
extern const jn_builtin jn__fn_numeric[];
extern const jn_builtin jn__fn_array[];
extern const jn_builtin jn__fn_object[];
extern const jn_builtin jn__fn_hof[];
extern const jn_builtin jn__fn_misc[];
extern const jn_builtin jn__fn_format[];

/* helpers shared by the library */
double jn__now_ms(void);
jn_val *jn__sort(jn_ctx *cx, jn_val *arr, jn_val *fn, const jn_node *terms_node, jn_env *env,
                 bool tuples);
bool jn__is_array_of(const jn_val *v, jn_type t);
/* $fromMillis(ms, picture, timezone) (fn_format.c; picture, timezone: strings or NULL), for
 * $now's picture forms. */
jn_val *jn__from_millis(jn_ctx *cx, double ms, jn_val *picture, jn_val *timezone);

#endif
