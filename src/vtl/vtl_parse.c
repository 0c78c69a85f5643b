/*
 * vtl_parse.c — template text → syntax tree (vtl_int.h), once per template (vtl_compile).
 * Text, references ($x, $!x, ${x}, chains of .prop, .method(args) and [index]), the
 * directives #set #if #elseif #else #end #foreach #break #stop, ## and #* *# comments and
 * #[[ unparsed ]]#, and the expressions inside directives and arguments.
 *
 * Whitespace is gobbled as Velocity's "lines" mode does: a directive or comment alone on its
 * line takes the line's indentation and newline with it, so a JSON template's #set and #if
 * lines leave no blank lines behind. A '#' or '$' that starts nothing (#fff, $5) is text.
 * Every recursion counts depth, bounded by VTL_MAX_DEPTH.
 */
#include "base/alloc.h"
#include "base/buf.h"
#include "base/err.h"
#include "vtl/vtl_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef struct parser {
    const char *s;
    size_t pos, end; /* end: where reading stops (the closing quote inside a string) */
    size_t lc_pos;   /* line/column cache: lc_line, lc_col are those of lc_pos */
    int lc_line, lc_col;
    bt_err *err;
    int depth;
    bool failed;
    vtl_expr *elseif_cond; /* an #elseif's condition, parsed where the directive stood */
    bool in_string;        /* inside an interpolated string: no line gobbling; "" is one quote */
} parser;

enum term { T_EOF, T_END, T_ELSE, T_ELSEIF };

static void where(parser *p, size_t pos, int *line, int *col)
{
    if (pos < p->lc_pos) {
        p->lc_pos = 0;
        p->lc_line = 1;
        p->lc_col = 1;
    }
    for (; p->lc_pos < pos; p->lc_pos++) {
        if (p->s[p->lc_pos] == '\n') {
            p->lc_line++;
            p->lc_col = 1;
        } else {
            p->lc_col++;
        }
    }
    *line = p->lc_line;
    *col = p->lc_col;
}

__attribute__((format(printf, 3, 4))) static void fail_at(parser *p, size_t pos, const char *fmt,
                                                          ...)
{
    if (p->failed)
        return;
    p->failed = true;
    int line, col;
    where(p, pos, &line, &col);
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    bt_err_set(p->err, BT_EINVAL, "line %d, column %d: %s", line, col, msg);
}

static bool enter(parser *p)
{
    if (++p->depth > VTL_MAX_DEPTH) {
        if (!p->failed) {
            int line, col;
            where(p, p->pos, &line, &col);
            p->failed = true;
            bt_err_set(p->err, BT_ELIMIT, "line %d, column %d: nested deeper than %d levels", line,
                       col, VTL_MAX_DEPTH);
        }
        return false;
    }
    return true;
}

static char peek(const parser *p, size_t ahead)
{
    return p->pos + ahead < p->end ? p->s[p->pos + ahead] : '\0';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Velocity 1.7's identifiers: a letter or '_', then letters, digits, '_' and '-'. */
static bool ident_start(char c)
{
    return is_alpha(c) || c == '_';
}

static bool ident_char(char c)
{
    return is_alpha(c) || is_digit(c) || c == '_' || c == '-';
}

static char *read_ident(parser *p)
{
    size_t start = p->pos;
    while (ident_char(peek(p, 0)))
        p->pos++;
    return bt_xstrndup(p->s + start, p->pos - start);
}

static void skip_ws(parser *p)
{
    for (char c = peek(p, 0); c == ' ' || c == '\t' || c == '\n' || c == '\r'; c = peek(p, 0))
        p->pos++;
}

static bool expect(parser *p, char c, const char *what)
{
    skip_ws(p);
    if (peek(p, 0) != c) {
        fail_at(p, p->pos, "expected %s", what);
        return false;
    }
    p->pos++;
    return true;
}

static vtl_expr *new_expr(parser *p, expr_kind kind, size_t pos)
{
    vtl_expr *e = bt_xcalloc(1, sizeof(*e));
    e->kind = kind;
    where(p, pos, &e->line, &e->col);
    return e;
}

static vtl_node *new_node(parser *p, node_kind kind, size_t pos)
{
    vtl_node *n = bt_xcalloc(1, sizeof(*n));
    n->kind = kind;
    where(p, pos, &n->line, &n->col);
    return n;
}

void vtl__free_expr(vtl_expr *e)
{
    if (e == NULL)
        return;
    json_decref(e->lit);
    vtl__free_nodes(e->parts);
    for (size_t i = 0; i < e->n_items; i++)
        vtl__free_expr(e->items[i]);
    free(e->items);
    free(e->name);
    free(e->src);
    for (size_t i = 0; i < e->n_segs; i++) {
        free(e->segs[i].name);
        for (size_t j = 0; j < e->segs[i].n_args; j++)
            vtl__free_expr(e->segs[i].args[j]);
        free(e->segs[i].args);
    }
    free(e->segs);
    free(e);
}

void vtl__free_nodes(vtl_node *n)
{
    while (n != NULL) {
        vtl_node *next = n->next;
        free(n->text);
        vtl__free_expr(n->expr);
        vtl__free_expr(n->target);
        free(n->var);
        vtl__free_nodes(n->body);
        vtl__free_nodes(n->otherwise);
        free(n);
        n = next;
    }
}

static void push_item(vtl_expr ***items, size_t *n, vtl_expr *e)
{
    *items = bt_xrealloc(*items, (*n + 1) * sizeof(**items));
    (*items)[(*n)++] = e;
}

/* ---- expressions ---- */

static vtl_expr *parse_expr(parser *p);
static vtl_expr *parse_ref(parser *p, bool in_text);
static vtl_node *parse_text_until(parser *p);

/* Arguments of a method call, at '('. */
static bool parse_args(parser *p, vtl_seg *seg)
{
    p->pos++;
    skip_ws(p);
    if (peek(p, 0) == ')') {
        p->pos++;
        return true;
    }
    for (;;) {
        vtl_expr *a = parse_expr(p);
        if (a == NULL)
            return false;
        push_item(&seg->args, &seg->n_args, a);
        skip_ws(p);
        if (peek(p, 0) == ',') {
            p->pos++;
            continue;
        }
        return expect(p, ')', "',' or ')' after a method argument");
    }
}

/* Scans a quoted literal at its opening quote: sets [*body, *body_end) and moves past the
 * closing quote. Inside, a doubled quote stands for one and a backslash keeps the next
 * character from closing the string (both characters stay: Velocity does not unescape). */
static bool scan_quoted(parser *p, size_t *body, size_t *body_end)
{
    char q = p->s[p->pos];
    size_t start = p->pos++;
    *body = p->pos;
    for (;;) {
        char c = peek(p, 0);
        if (c == '\0' && p->pos >= p->end) {
            fail_at(p, start, "unterminated string");
            return false;
        }
        if (c == '\\' && p->pos + 1 < p->end) {
            p->pos += 2;
        } else if (c == q && peek(p, 1) == q) {
            p->pos += 2;
        } else if (c == q) {
            *body_end = p->pos++;
            return true;
        } else {
            p->pos++;
        }
    }
}

static char *undouble(const char *s, size_t n, char q, size_t *len)
{
    char *out = bt_xmalloc(n + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n) {
            out[j++] = s[i++];
            out[j++] = s[i];
        } else {
            out[j++] = s[i];
            if (s[i] == q && i + 1 < n && s[i + 1] == q)
                i++;
        }
    }
    out[j] = '\0';
    *len = j;
    return out;
}

static vtl_expr *parse_string(parser *p)
{
    size_t start = p->pos, body, body_end;
    char q = p->s[p->pos];
    if (!scan_quoted(p, &body, &body_end))
        return NULL;
    bool interpolate = false;
    if (q == '"') {
        for (size_t i = body; i < body_end; i++) {
            if (p->s[i] == '$')
                interpolate = true;
        }
    }
    if (!interpolate) {
        size_t len;
        char *text = undouble(p->s + body, body_end - body, q, &len);
        vtl_expr *e = new_expr(p, E_LITERAL, start);
        e->lit = json_stringn_nocheck(text, len);
        free(text);
        return e;
    }
    size_t after = p->pos, saved_end = p->end;
    p->pos = body;
    p->end = body_end;
    vtl_node *parts = parse_text_until(p);
    p->pos = after;
    p->end = saved_end;
    if (p->failed) {
        vtl__free_nodes(parts);
        return NULL;
    }
    vtl_expr *e = new_expr(p, E_STRING, start);
    e->parts = parts;
    return e;
}

static vtl_expr *parse_number(parser *p)
{
    size_t start = p->pos;
    while (is_digit(peek(p, 0)))
        p->pos++;
    bool real = false;
    if (peek(p, 0) == '.' && is_digit(peek(p, 1))) {
        real = true;
        p->pos++;
        while (is_digit(peek(p, 0)))
            p->pos++;
    }
    char buf[64];
    size_t n = p->pos - start;
    if (n >= sizeof(buf)) {
        fail_at(p, start, "number too long");
        return NULL;
    }
    memcpy(buf, p->s + start, n);
    buf[n] = '\0';
    vtl_expr *e = new_expr(p, E_LITERAL, start);
    if (real) {
        e->lit = json_real(strtod(buf, NULL));
    } else {
        errno = 0;
        long long v = strtoll(buf, NULL, 10);
        if (errno != 0) {
            free(e);
            fail_at(p, start, "integer out of range");
            return NULL;
        }
        e->lit = json_integer(v);
    }
    return e;
}

/* [a, b], [a..b] or [] at '['. */
static vtl_expr *parse_list(parser *p)
{
    size_t start = p->pos++;
    vtl_expr *e = new_expr(p, E_LIST, start);
    skip_ws(p);
    if (peek(p, 0) == ']') {
        p->pos++;
        return e;
    }
    for (;;) {
        vtl_expr *item = parse_expr(p);
        if (item == NULL)
            goto fail;
        push_item(&e->items, &e->n_items, item);
        skip_ws(p);
        if (e->n_items == 1 && peek(p, 0) == '.' && peek(p, 1) == '.') {
            p->pos += 2;
            e->kind = E_RANGE;
            vtl_expr *hi = parse_expr(p);
            if (hi == NULL)
                goto fail;
            push_item(&e->items, &e->n_items, hi);
            if (!expect(p, ']', "']' after a range"))
                goto fail;
            return e;
        }
        if (peek(p, 0) == ',') {
            p->pos++;
            continue;
        }
        if (!expect(p, ']', "',' or ']' in a list"))
            goto fail;
        return e;
    }
fail:
    vtl__free_expr(e);
    return NULL;
}

/* {k: v, …} at '{'. */
static vtl_expr *parse_map(parser *p)
{
    size_t start = p->pos++;
    vtl_expr *e = new_expr(p, E_MAP, start);
    skip_ws(p);
    if (peek(p, 0) == '}') {
        p->pos++;
        return e;
    }
    for (;;) {
        vtl_expr *k = parse_expr(p);
        if (k == NULL)
            goto fail;
        push_item(&e->items, &e->n_items, k);
        if (!expect(p, ':', "':' after a map key"))
            goto fail;
        vtl_expr *v = parse_expr(p);
        if (v == NULL)
            goto fail;
        push_item(&e->items, &e->n_items, v);
        skip_ws(p);
        if (peek(p, 0) == ',') {
            p->pos++;
            continue;
        }
        if (!expect(p, '}', "',' or '}' in a map"))
            goto fail;
        return e;
    }
fail:
    vtl__free_expr(e);
    return NULL;
}

/* A word at p->pos equal to w and not followed by an identifier character. */
static bool at_word(const parser *p, const char *w)
{
    size_t n = strlen(w);
    if (p->pos + n > p->end || strncmp(p->s + p->pos, w, n) != 0)
        return false;
    return !ident_char(p->pos + n < p->end ? p->s[p->pos + n] : '\0');
}

static vtl_expr *parse_unary(parser *p);

static vtl_expr *parse_primary(parser *p)
{
    skip_ws(p);
    size_t start = p->pos;
    char c = peek(p, 0);
    if (c == '$')
        return parse_ref(p, false);
    if (c == '\'' || c == '"')
        return parse_string(p);
    if (is_digit(c))
        return parse_number(p);
    if (c == '[')
        return parse_list(p);
    if (c == '{')
        return parse_map(p);
    if (c == '(') {
        p->pos++;
        vtl_expr *e = parse_expr(p);
        if (e != NULL && !expect(p, ')', "')'")) {
            vtl__free_expr(e);
            return NULL;
        }
        return e;
    }
    static const char *const words[] = {"true", "false", "null"};
    for (size_t i = 0; i < 3; i++) {
        if (at_word(p, words[i])) {
            p->pos += strlen(words[i]);
            vtl_expr *e = new_expr(p, E_LITERAL, start);
            e->lit = i == 2 ? NULL : json_boolean(i == 0);
            return e;
        }
    }
    if (c == '\0')
        fail_at(p, start, "expression expected, found the end");
    else
        fail_at(p, start, "unexpected '%c' in an expression", c);
    return NULL;
}

static vtl_expr *parse_unary(parser *p)
{
    skip_ws(p);
    size_t start = p->pos;
    expr_kind kind;
    if (peek(p, 0) == '!') {
        p->pos++;
        kind = E_NOT;
    } else if (at_word(p, "not")) {
        p->pos += 3;
        kind = E_NOT;
    } else if (peek(p, 0) == '-') {
        p->pos++;
        kind = E_NEG;
    } else {
        return parse_primary(p);
    }
    if (!enter(p))
        return NULL;
    vtl_expr *a = parse_unary(p);
    p->depth--;
    if (a == NULL)
        return NULL;
    vtl_expr *e = new_expr(p, kind, start);
    push_item(&e->items, &e->n_items, a);
    return e;
}

/* Operators by precedence level, lowest first; each level is left-associative. */
typedef struct opdef {
    const char *text;
    bool word;
    binop op;
} opdef;

static const opdef LEVELS[][7] = {
    {{"||", false, OP_OR}, {"or", true, OP_OR}},
    {{"&&", false, OP_AND}, {"and", true, OP_AND}},
    {{"==", false, OP_EQ}, {"!=", false, OP_NE}, {"eq", true, OP_EQ}, {"ne", true, OP_NE}},
    {{"<=", false, OP_LE},
     {">=", false, OP_GE},
     {"<", false, OP_LT},
     {">", false, OP_GT},
     {"le", true, OP_LE},
     {"ge", true, OP_GE},
     {"lt", true, OP_LT}},
    {{"+", false, OP_ADD}, {"-", false, OP_SUB}},
    {{"*", false, OP_MUL}, {"/", false, OP_DIV}, {"%", false, OP_MOD}},
};
#define N_LEVELS (sizeof(LEVELS) / sizeof(LEVELS[0]))

static const opdef *match_op(parser *p, size_t level)
{
    skip_ws(p);
    for (size_t i = 0; i < 7 && LEVELS[level][i].text != NULL; i++) {
        const opdef *o = &LEVELS[level][i];
        size_t n = strlen(o->text);
        if (o->word ? at_word(p, o->text)
                    : (p->pos + n <= p->end && strncmp(p->s + p->pos, o->text, n) == 0))
            return o;
    }
    if (level == 3 && at_word(p, "gt")) {
        static const opdef gt = {"gt", true, OP_GT};
        return &gt;
    }
    return NULL;
}

static vtl_expr *parse_level(parser *p, size_t level)
{
    if (level == N_LEVELS)
        return parse_unary(p);
    if (!enter(p))
        return NULL;
    vtl_expr *left = parse_level(p, level + 1);
    while (left != NULL) {
        const opdef *o = match_op(p, level);
        if (o == NULL)
            break;
        size_t at = p->pos;
        p->pos += strlen(o->text);
        vtl_expr *right = parse_level(p, level + 1);
        if (right == NULL) {
            vtl__free_expr(left);
            left = NULL;
            break;
        }
        vtl_expr *e = new_expr(p, E_BINARY, at);
        e->op = o->op;
        push_item(&e->items, &e->n_items, left);
        push_item(&e->items, &e->n_items, right);
        left = e;
    }
    p->depth--;
    return left;
}

static vtl_expr *parse_expr(parser *p)
{
    return parse_level(p, 0);
}

/*
 * A reference at '$'. In text (in_text), something that is not a reference ("$5", "$ ")
 * returns NULL with p->pos unchanged and no error, and an index that does not parse
 * ends the reference before its '['.
 */
static vtl_expr *parse_ref(parser *p, bool in_text)
{
    size_t start = p->pos, i = 1;
    bool quiet = false, formal = false;
    if (peek(p, i) == '!') {
        quiet = true;
        i++;
    }
    if (peek(p, i) == '{') {
        formal = true;
        i++;
    }
    if (!ident_start(peek(p, i))) {
        if (!in_text)
            fail_at(p, start, "a reference needs a name after '$'");
        return NULL;
    }
    if (!enter(p))
        return NULL;
    p->pos += i;
    vtl_expr *e = new_expr(p, E_REF, start);
    e->quiet = quiet;
    e->name = read_ident(p);
    for (;;) {
        char c = peek(p, 0);
        if (c == '.' && ident_start(peek(p, 1))) {
            size_t at = p->pos++;
            vtl_seg seg = {.kind = SEG_PROP, .name = read_ident(p)};
            where(p, at, &seg.line, &seg.col);
            e->segs = bt_xrealloc(e->segs, (e->n_segs + 1) * sizeof(*e->segs));
            e->segs[e->n_segs++] = seg;
            if (peek(p, 0) == '(') {
                e->segs[e->n_segs - 1].kind = SEG_METHOD;
                if (!parse_args(p, &e->segs[e->n_segs - 1]))
                    goto fail;
            }
        } else if (c == '[') {
            size_t at = p->pos;
            bool was_failed = p->failed;
            bt_err saved;
            if (p->err != NULL)
                saved = *p->err;
            p->pos++;
            vtl_expr *idx = parse_expr(p);
            if (idx != NULL && !expect(p, ']', "']' after an index")) {
                vtl__free_expr(idx);
                idx = NULL;
            }
            if (idx == NULL) {
                if (!in_text || p->depth > VTL_MAX_DEPTH)
                    goto fail;
                p->failed = was_failed;
                if (p->err != NULL)
                    *p->err = saved;
                p->pos = at;
                break;
            }
            vtl_seg seg = {.kind = SEG_INDEX};
            where(p, at, &seg.line, &seg.col);
            push_item(&seg.args, &seg.n_args, idx);
            e->segs = bt_xrealloc(e->segs, (e->n_segs + 1) * sizeof(*e->segs));
            e->segs[e->n_segs++] = seg;
        } else {
            break;
        }
    }
    if (formal) {
        if (peek(p, 0) != '}') {
            fail_at(p, p->pos, "expected '}' to close ${");
            goto fail;
        }
        p->pos++;
    }
    e->src = bt_xstrndup(p->s + start, p->pos - start);
    p->depth--;
    return e;
fail:
    p->depth--;
    vtl__free_expr(e);
    return NULL;
}

/* ---- text and directives ---- */

typedef struct builder {
    vtl_node *head, **tail;
    bt_buf text;
    size_t text_pos; /* where the pending text started */
} builder;

static void builder_init(builder *b)
{
    b->head = NULL;
    b->tail = &b->head;
    bt_buf_init(&b->text);
    b->text_pos = 0;
}

static void builder_add(builder *b, vtl_node *n)
{
    *b->tail = n;
    b->tail = &n->next;
}

static void flush_text(parser *p, builder *b)
{
    if (b->text.len == 0)
        return;
    vtl_node *n = new_node(p, N_TEXT, b->text_pos);
    n->len = b->text.len;
    n->text = bt_buf_steal(&b->text);
    builder_add(b, n);
}

static void add_char(builder *b, size_t pos, char c)
{
    if (b->text.len == 0)
        b->text_pos = pos;
    bt_buf_putc(&b->text, c);
}

/* Whether only spaces and tabs stand between the line's start and pos; *indent gets their
 * count. */
static bool at_line_start(const parser *p, size_t pos, size_t *indent)
{
    size_t i = pos;
    while (i > 0 && (p->s[i - 1] == ' ' || p->s[i - 1] == '\t'))
        i--;
    *indent = pos - i;
    return i == 0 || p->s[i - 1] == '\n';
}

/* After a directive that began at start: when it stood alone on its line, drop its
 * indentation from the pending text and consume the rest of the line with its newline. */
static void gobble_line(parser *p, builder *b, size_t start)
{
    size_t indent, i = p->pos;
    if (p->in_string || !at_line_start(p, start, &indent) || indent > b->text.len)
        return;
    while (i < p->end && (p->s[i] == ' ' || p->s[i] == '\t'))
        i++;
    if (i < p->end && p->s[i] == '\r' && i + 1 < p->end && p->s[i + 1] == '\n')
        i += 2;
    else if (i < p->end && p->s[i] == '\n')
        i++;
    else if (i != p->end)
        return;
    b->text.len -= indent;
    if (b->text.data != NULL)
        b->text.data[b->text.len] = '\0';
    p->pos = i;
}

static vtl_node *parse_block(parser *p, enum term *term);

/* '(' expr ')' after a directive name. */
static vtl_expr *parse_condition(parser *p, const char *directive)
{
    skip_ws(p);
    if (peek(p, 0) != '(') {
        fail_at(p, p->pos, "expected '(' after #%s", directive);
        return NULL;
    }
    p->pos++;
    vtl_expr *e = parse_expr(p);
    if (e != NULL && !expect(p, ')', "')' to close the condition")) {
        vtl__free_expr(e);
        return NULL;
    }
    return e;
}

static vtl_node *parse_set(parser *p, size_t start)
{
    skip_ws(p);
    if (peek(p, 0) != '(') {
        fail_at(p, p->pos, "expected '(' after #set");
        return NULL;
    }
    p->pos++;
    skip_ws(p);
    if (peek(p, 0) != '$') {
        fail_at(p, p->pos, "#set needs a reference to assign");
        return NULL;
    }
    vtl_node *n = new_node(p, N_SET, start);
    n->target = parse_ref(p, false);
    if (n->target == NULL || !expect(p, '=', "'=' in #set"))
        goto fail;
    n->expr = parse_expr(p);
    if (n->expr == NULL || !expect(p, ')', "')' to close #set"))
        goto fail;
    if (n->target->n_segs > 0 && n->target->segs[n->target->n_segs - 1].kind == SEG_METHOD) {
        fail_at(p, start, "#set cannot assign to a method call");
        goto fail;
    }
    return n;
fail:
    vtl__free_nodes(n);
    return NULL;
}

/* #if/#elseif: condition, body, then the #elseif/#else chain up to and including #end. */
static vtl_node *parse_if(parser *p, builder *outer, size_t start, const char *directive)
{
    vtl_node *n = new_node(p, N_IF, start);
    enum term term;
    if (outer != NULL) {
        n->expr = parse_condition(p, directive);
        if (n->expr == NULL)
            goto fail;
        gobble_line(p, outer, start);
    } else {
        n->expr = p->elseif_cond;
        p->elseif_cond = NULL;
    }
    n->body = parse_block(p, &term);
    if (p->failed)
        goto fail;
    if (term == T_ELSEIF) {
        n->otherwise = parse_if(p, NULL, p->pos, "elseif");
        if (n->otherwise == NULL)
            goto fail;
    } else if (term == T_ELSE) {
        n->otherwise = parse_block(p, &term);
        if (p->failed)
            goto fail;
        if (term != T_END) {
            fail_at(p, start,
                    term == T_EOF ? "#%s has no #end" : "#else followed by #else or #elseif",
                    directive);
            goto fail;
        }
    } else if (term == T_EOF) {
        fail_at(p, start, "#%s has no #end", directive);
        goto fail;
    }
    return n;
fail:
    vtl__free_nodes(n);
    return NULL;
}

static vtl_node *parse_foreach(parser *p, builder *outer, size_t start)
{
    vtl_node *n = new_node(p, N_FOREACH, start);
    enum term term;
    skip_ws(p);
    if (peek(p, 0) != '(') {
        fail_at(p, p->pos, "expected '(' after #foreach");
        goto fail;
    }
    p->pos++;
    skip_ws(p);
    if (peek(p, 0) != '$' || !ident_start(peek(p, 1))) {
        fail_at(p, p->pos, "#foreach needs a loop variable ($name)");
        goto fail;
    }
    p->pos++;
    n->var = read_ident(p);
    skip_ws(p);
    if (!at_word(p, "in")) {
        fail_at(p, p->pos, "expected 'in' in #foreach");
        goto fail;
    }
    p->pos += 2;
    n->expr = parse_expr(p);
    if (n->expr == NULL || !expect(p, ')', "')' to close #foreach"))
        goto fail;
    gobble_line(p, outer, start);
    n->body = parse_block(p, &term);
    if (p->failed)
        goto fail;
    if (term != T_END) {
        fail_at(p, start, term == T_EOF ? "#foreach has no #end" : "#else inside #foreach");
        goto fail;
    }
    return n;
fail:
    vtl__free_nodes(n);
    return NULL;
}

/* At '#': handles a comment, an unparsed block or a directive. Returns true when it took
 * something (then *term may say the block ends), false when the '#' is text. */
static bool parse_hash(parser *p, builder *b, enum term *term, bool *done)
{
    size_t start = p->pos;
    if (peek(p, 1) == '#') {
        while (p->pos < p->end && p->s[p->pos] != '\n')
            p->pos++;
        size_t indent;
        if (at_line_start(p, start, &indent) && indent <= b->text.len) {
            b->text.len -= indent;
            if (b->text.data != NULL)
                b->text.data[b->text.len] = '\0';
        }
        if (p->pos < p->end)
            p->pos++;
        return true;
    }
    if (peek(p, 1) == '*') {
        const char *close = NULL;
        for (size_t i = p->pos + 2; i + 1 < p->end; i++) {
            if (p->s[i] == '*' && p->s[i + 1] == '#') {
                close = p->s + i;
                break;
            }
        }
        if (close == NULL) {
            fail_at(p, start, "unterminated #* comment");
            return true;
        }
        p->pos = (size_t)(close - p->s) + 2;
        gobble_line(p, b, start);
        return true;
    }
    if (peek(p, 1) == '[' && peek(p, 2) == '[') {
        const char *close = NULL;
        for (size_t i = p->pos + 3; i + 2 < p->end; i++) {
            if (p->s[i] == ']' && p->s[i + 1] == ']' && p->s[i + 2] == '#') {
                close = p->s + i;
                break;
            }
        }
        if (close == NULL) {
            fail_at(p, start, "unterminated #[[ block");
            return true;
        }
        for (const char *q = p->s + p->pos + 3; q < close; q++)
            add_char(b, (size_t)(q - p->s), *q);
        p->pos = (size_t)(close - p->s) + 3;
        return true;
    }
    size_t i = 1;
    bool braced = peek(p, 1) == '{';
    if (braced)
        i++;
    size_t name_at = p->pos + i, n = 0;
    while (is_alpha(peek(p, i + n)))
        n++;
    if (n == 0)
        return false;
    char name[16] = "";
    if (n < sizeof(name))
        memcpy(name, p->s + name_at, n);
    static const char *const known[] = {"set",     "if",       "elseif", "else",  "end",
                                        "foreach", "break",    "stop",   "macro", "parse",
                                        "include", "evaluate", "define"};
    size_t k;
    for (k = 0; k < sizeof(known) / sizeof(known[0]); k++) {
        if (strcmp(name, known[k]) == 0)
            break;
    }
    if (k == sizeof(known) / sizeof(known[0]))
        return false;
    if (k >= 8) {
        fail_at(p, start, "#%s is not supported in mapping templates", name);
        return true;
    }
    p->pos = name_at + n;
    if (braced) {
        if (peek(p, 0) != '}') {
            fail_at(p, p->pos, "expected '}' after #{%s", name);
            return true;
        }
        p->pos++;
    }
    vtl_node *node = NULL;
    vtl_expr *cond;
    switch (k) {
    case 0:
        node = parse_set(p, start);
        break;
    case 1:
        if (!enter(p))
            return true;
        node = parse_if(p, b, start, "if");
        p->depth--;
        break;
    case 2:
        cond = parse_condition(p, "elseif");
        if (cond == NULL)
            return true;
        vtl__free_expr(p->elseif_cond); /* one left by a failed #elseif inside a string */
        p->elseif_cond = cond;
        gobble_line(p, b, start);
        *term = T_ELSEIF;
        *done = true;
        return true;
    case 3:
    case 4:
        gobble_line(p, b, start);
        *term = k == 2 ? T_ELSEIF : k == 3 ? T_ELSE : T_END;
        *done = true;
        return true;
    case 5:
        if (!enter(p))
            return true;
        node = parse_foreach(p, b, start);
        p->depth--;
        break;
    default:
        node = new_node(p, k == 6 ? N_BREAK : N_STOP, start);
        break;
    }
    if (node == NULL)
        return true;
    if (node->kind == N_SET || node->kind == N_BREAK || node->kind == N_STOP)
        gobble_line(p, b, start);
    flush_text(p, b);
    builder_add(b, node);
    return true;
}

/* Text with references and directives up to a block terminator or p->end. */
static vtl_node *parse_block(parser *p, enum term *term)
{
    builder b;
    builder_init(&b);
    *term = T_EOF;
    bool done = false;
    if (!enter(p))
        return NULL;
    while (!p->failed && !done && p->pos < p->end) {
        char c = p->s[p->pos];
        if (c == '#' && parse_hash(p, &b, term, &done))
            continue;
        if (c == '$') {
            vtl_expr *ref = parse_ref(p, true);
            if (p->failed)
                break;
            if (ref != NULL) {
                flush_text(p, &b);
                vtl_node *n = new_node(p, N_REF, p->pos);
                n->line = ref->line;
                n->col = ref->col;
                n->expr = ref;
                builder_add(&b, n);
                continue;
            }
        }
        if (c == '"' && p->in_string && p->pos + 1 < p->end && p->s[p->pos + 1] == '"')
            p->pos++; /* a doubled quote inside an interpolated string */
        add_char(&b, p->pos, c);
        p->pos++;
    }
    flush_text(p, &b);
    bt_buf_fini(&b.text);
    p->depth--;
    return b.head;
}

/* The parts of an interpolated string body [p->pos, p->end). */
static vtl_node *parse_text_until(parser *p)
{
    enum term term;
    bool saved = p->in_string;
    p->in_string = true;
    vtl_node *parts = parse_block(p, &term);
    p->in_string = saved;
    if (!p->failed && term != T_EOF)
        fail_at(p, p->pos, "#else, #elseif or #end inside a string");
    return parts;
}

int vtl_compile(const char *text, vtl_template **out, bt_err *err)
{
    parser p = {.s = text, .end = strlen(text), .lc_line = 1, .lc_col = 1, .err = err};
    enum term term;
    *out = NULL;
    bt_err_clear(err);
    vtl_node *root = parse_block(&p, &term);
    if (!p.failed && term != T_EOF)
        fail_at(&p, p.pos, "#%s without #if or #foreach",
                term == T_END    ? "end"
                : term == T_ELSE ? "else"
                                 : "elseif");
    if (p.failed) {
        vtl__free_expr(p.elseif_cond);
        vtl__free_nodes(root);
        return err != NULL ? err->code : BT_EINVAL;
    }
    vtl_template *t = bt_xcalloc(1, sizeof(*t));
    t->root = root;
    *out = t;
    return 0;
}

void vtl_free(vtl_template *tpl)
{
    if (tpl == NULL)
        return;
    vtl__free_nodes(tpl->root);
    free(tpl);
}
