/*
 * parser.c — JSONata's grammar as a top-down operator-precedence (Pratt) parser. Each
 * operator has a left binding power; prefix forms (literals, names, '-', '*', '**', '%',
 * '(' blocks, '[' arrays, '{' objects, '|' transforms) and infix forms (binary operators,
 * '(' calls, '[' predicates, '{' group-by, '^(' order-by, ':=', '@', '#', '?' conditions)
 * build a raw tree that ast.c then rewrites. Syntax errors carry the reference's codes
 * (S0201 …) and the position just after the offending token.
 */
#include "jsonata/jsonata_int.h"

#include <string.h>

typedef struct parser {
    jn_compiler *c;
    jn_lexer lx;
    jn_token tok; /* the current token ("node" in the reference) */
    int depth;    /* nesting of expression(), bounded so that no text can exhaust the stack */
} parser;

#define MAX_PARSE_DEPTH 500

#define PERR(p, code, pos, tok, ...)                                                               \
    jn__syntax_error((p)->c->arena, (p)->c->jmp, (p)->c->err, code, (long)(pos), tok, __VA_ARGS__)

jn_node *jn__new_node(jn_arena *a, jn_node_type type, long position)
{
    jn_node *n = jn_alloc0(a, sizeof *n);
    n->type = type;
    n->position = position;
    return n;
}

void jn__push_node(jn_arena *a, jn_nodes *list, jn_node *n)
{
    if (list->len == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 4;
        jn_node **v = jn_alloc(a, cap * sizeof *v);
        if (list->len)
            memcpy(v, list->v, list->len * sizeof *v);
        list->v = v;
        list->cap = cap;
    }
    list->v[list->len++] = n;
}

static bool is_op(const jn_token *t, const char *op)
{
    return t->type == TK_OPERATOR && strcmp(t->text, op) == 0;
}

static const char *tok_text(const jn_token *t)
{
    switch (t->type) {
    case TK_END:
        return "(end)";
    case TK_NUMBER:
        return "number";
    case TK_VALUE:
        return t->value == 1 ? "true" : t->value == 2 ? "false" : "null";
    default:
        return t->text ? t->text : "";
    }
}

static int lbp(const jn_token *t)
{
    if (t->type != TK_OPERATOR)
        return 0;
    static const struct {
        const char *op;
        int bp;
    } table[] = {{".", 75},   {"[", 80},  {"{", 70},  {"(", 80},  {"@", 80},  {"#", 80},  {"?", 20},
                 {"+", 50},   {"-", 50},  {"*", 60},  {"/", 60},  {"%", 60},  {"=", 40},  {"<", 40},
                 {">", 40},   {"^", 40},  {"!=", 40}, {"<=", 40}, {">=", 40}, {"~>", 40}, {"&", 50},
                 {"and", 30}, {"or", 25}, {"in", 40}, {":=", 10}};
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].op, t->text) == 0)
            return table[i].bp;
    return 0;
}

static bool known_op(const char *op)
{
    static const char *const known[] = {
        ".",  "[",  "]",  "{",  "}",  "(",  ")", ",",   "@",  "#", ";", ":",
        "?",  "+",  "-",  "*",  "/",  "%",  "|", "=",   "<",  ">", "^", "**",
        "..", ":=", "!=", "<=", ">=", "~>", "&", "and", "or", "in"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(known[i], op) == 0)
            return true;
    return false;
}

/* Moves to the next token, first checking that the current one is `id` (when given). */
static void advance(parser *p, const char *id, bool infix)
{
    if (id != NULL && !is_op(&p->tok, id)) {
        if (p->tok.type == TK_END)
            PERR(p, "S0203", p->tok.position, "(end)", "Expected \"%s\" before end of expression",
                 id);
        PERR(p, "S0202", p->tok.position, tok_text(&p->tok), "Expected \"%s\", got \"%s\"", id,
             tok_text(&p->tok));
    }
    jn__lex_next(&p->lx, infix, &p->tok);
    if (p->tok.type == TK_OPERATOR && !known_op(p->tok.text))
        PERR(p, "S0204", p->tok.position, p->tok.text, "Unknown operator: \"%s\"", p->tok.text);
}

static jn_node *expression(parser *p, int rbp);

static jn_op binop(const char *s)
{
    static const struct {
        const char *s;
        jn_op op;
    } t[] = {{".", OP_DOT}, {"+", OP_PLUS},  {"-", OP_MINUS},  {"*", OP_MUL},   {"/", OP_DIV},
             {"%", OP_MOD}, {"=", OP_EQ},    {"!=", OP_NE},    {"<", OP_LT},    {"<=", OP_LE},
             {">", OP_GT},  {">=", OP_GE},   {"&", OP_CONCAT}, {"and", OP_AND}, {"or", OP_OR},
             {"in", OP_IN}, {"~>", OP_APPLY}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(t[i].s, s) == 0)
            return t[i].op;
    return OP_NONE;
}

static jn_node *object_body(parser *p, jn_node *obj)
{
    if (!is_op(&p->tok, "}")) {
        for (;;) {
            jn_node *k = expression(p, 0);
            advance(p, ":", false);
            jn_node *v = expression(p, 0);
            jn__push_node(p->c->arena, &obj->pairs, k);
            jn__push_node(p->c->arena, &obj->pairs, v);
            if (!is_op(&p->tok, ","))
                break;
            advance(p, ",", false);
        }
    }
    advance(p, "}", true);
    return obj;
}

/* Regexes (literals and signatures' matchers) are freed with the expression. */
static void push_regex(jn_compiler *c, pcre2_code *re)
{
    if (c->n_regexes == c->cap_regexes) {
        size_t cap = c->cap_regexes ? c->cap_regexes * 2 : 8;
        pcre2_code **v = jn_alloc(c->arena, cap * sizeof *v);
        if (c->n_regexes)
            memcpy(v, c->regexes, c->n_regexes * sizeof *v);
        c->regexes = v;
        c->cap_regexes = cap;
    }
    c->regexes[c->n_regexes++] = re;
}

static jn_node *nud(parser *p, jn_token *t)
{
    jn_arena *a = p->c->arena;
    jn_node *n;
    switch (t->type) {
    case TK_END:
        /* an operand missing at the end: reported when the tree is rewritten (S0207), so
         * that an unclosed bracket reports S0203 first, as the reference does */
        return jn__new_node(a, NT_END, t->position);
    case TK_NAME:
        n = jn__new_node(a, NT_NAME, t->position);
        n->str = t->text;
        n->len = t->len;
        return n;
    case TK_VARIABLE:
        n = jn__new_node(a, NT_VARIABLE, t->position);
        n->str = t->text;
        n->len = t->len;
        return n;
    case TK_STRING:
        n = jn__new_node(a, NT_STRING, t->position);
        n->str = t->text;
        n->len = t->len;
        n->lit = jn_string_ref(a, t->text, t->len);
        return n;
    case TK_NUMBER:
        n = jn__new_node(a, NT_NUMBER, t->position);
        n->num = t->num;
        n->lit = jn_number(a, t->num);
        return n;
    case TK_VALUE:
        n = jn__new_node(a, NT_VALUE, t->position);
        n->lit = t->value == 1 ? JN_TRUE : t->value == 2 ? JN_FALSE : JN_NULLV;
        return n;
    case TK_REGEX: {
        n = jn__new_node(a, NT_REGEX, t->position);
        int ec;
        size_t eo;
        n->re = jn__regex_compile(t->text, t->len, t->flags, &ec, &eo);
        if (n->re == NULL)
            PERR(p, "S0303", t->position, t->text, "Invalid regular expression: /%s/", t->text);
        push_regex(p->c, n->re);
        n->str = t->text;
        n->len = t->len;
        return n;
    }
    case TK_OPERATOR:
        break;
    }
    const char *op = t->text;
    long pos = t->position;
    if (strcmp(op, "-") == 0) {
        n = jn__new_node(a, NT_NEGATE, pos);
        n->lhs = expression(p, 70);
        return n;
    }
    if (strcmp(op, "*") == 0)
        return jn__new_node(a, NT_WILDCARD, pos);
    if (strcmp(op, "**") == 0)
        return jn__new_node(a, NT_DESCENDANT, pos);
    if (strcmp(op, "%") == 0)
        return jn__new_node(a, NT_PARENT, pos);
    if (strcmp(op, "and") == 0 || strcmp(op, "or") == 0 || strcmp(op, "in") == 0) {
        n = jn__new_node(a, NT_OPERATOR, pos);
        n->str = op;
        n->len = strlen(op);
        return n;
    }
    if (strcmp(op, "(") == 0) {
        n = jn__new_node(a, NT_BLOCK, pos);
        while (!is_op(&p->tok, ")")) {
            jn__push_node(a, &n->items, expression(p, 0));
            if (!is_op(&p->tok, ";"))
                break;
            advance(p, ";", false);
        }
        advance(p, ")", true);
        return n;
    }
    if (strcmp(op, "[") == 0) {
        n = jn__new_node(a, NT_ARRAY, pos);
        if (!is_op(&p->tok, "]")) {
            for (;;) {
                jn_node *item = expression(p, 0);
                if (is_op(&p->tok, "..")) {
                    jn_node *r = jn__new_node(a, NT_BINARY, p->tok.position);
                    r->op = OP_RANGE;
                    r->lhs = item;
                    advance(p, "..", false);
                    r->rhs = expression(p, 0);
                    item = r;
                }
                jn__push_node(a, &n->items, item);
                if (!is_op(&p->tok, ","))
                    break;
                advance(p, ",", false);
            }
        }
        advance(p, "]", true);
        return n;
    }
    if (strcmp(op, "{") == 0)
        return object_body(p, jn__new_node(a, NT_OBJECT, pos));
    if (strcmp(op, "|") == 0) {
        n = jn__new_node(a, NT_TRANSFORM, pos);
        n->lhs = expression(p, 0);
        advance(p, "|", false);
        n->rhs = expression(p, 0);
        if (is_op(&p->tok, ",")) {
            advance(p, ",", false);
            n->els = expression(p, 0);
        }
        advance(p, "|", false);
        return n;
    }
    PERR(p, "S0211", pos, op, "The symbol \"%s\" cannot be used as a unary operator", op);
}

static jn_node *led(parser *p, jn_token *t, jn_node *left)
{
    jn_arena *a = p->c->arena;
    const char *op = t->text;
    long pos = t->position;
    int bp = lbp(t);
    jn_node *n;
    if (strcmp(op, "(") == 0) {
        n = jn__new_node(a, NT_CALL, pos);
        n->lhs = left;
        if (!is_op(&p->tok, ")")) {
            for (;;) {
                if (is_op(&p->tok, "?")) {
                    n->type = NT_PARTIAL;
                    jn__push_node(a, &n->items, jn__new_node(a, NT_HOLE, p->tok.position));
                    advance(p, "?", false);
                } else {
                    jn__push_node(a, &n->items, expression(p, 0));
                }
                if (!is_op(&p->tok, ","))
                    break;
                advance(p, ",", false);
            }
        }
        advance(p, ")", true);
        if (left->type == NT_NAME && ((left->len == 8 && memcmp(left->str, "function", 8) == 0) ||
                                      (left->len == 2 && memcmp(left->str, "\xce\xbb", 2) == 0))) {
            for (size_t i = 0; i < n->items.len; i++) {
                jn_node *arg = n->items.v[i];
                if (arg->type != NT_VARIABLE)
                    PERR(p, "S0208", arg->position, arg->str,
                         "Parameter %zu of function definition must be a variable name (start "
                         "with $)",
                         i + 1);
            }
            n->type = NT_LAMBDA;
            if (is_op(&p->tok, "<")) {
                size_t start = p->lx.pos - 1;
                long sig_pos = p->tok.position;
                int depth = 1;
                while (depth > 0 && !is_op(&p->tok, "{") && p->tok.type != TK_END) {
                    advance(p, NULL, false);
                    if (is_op(&p->tok, ">"))
                        depth--;
                    else if (is_op(&p->tok, "<"))
                        depth++;
                }
                size_t end = p->lx.pos;
                advance(p, ">", false);
                char *sig = jn_alloc(a, end - start + 1);
                size_t k = 0;
                for (size_t i = start; i < end; i++)
                    if (p->lx.src[i] != ' ' && p->lx.src[i] != '\t' && p->lx.src[i] != '\n' &&
                        p->lx.src[i] != '\r')
                        sig[k++] = p->lx.src[i];
                sig[k] = '\0';
                const char *code;
                size_t off;
                n->sig = jn__sig_parse(a, sig, k, &code, &off);
                if (n->sig == NULL)
                    PERR(p, code, sig_pos + (long)off, NULL, "Invalid function signature: %s", sig);
                push_regex(p->c, n->sig->re);
            }
            advance(p, "{", false);
            n->rhs = expression(p, 0);
            advance(p, "}", false);
        }
        return n;
    }
    if (strcmp(op, "[") == 0) {
        if (is_op(&p->tok, "]")) {
            jn_node *step = left;
            while (step->type == NT_BINARY && step->op == OP_LBRACKET && step->lhs != NULL)
                step = step->lhs;
            step->keep_array = true;
            advance(p, "]", false);
            return left;
        }
        n = jn__new_node(a, NT_BINARY, pos);
        n->op = OP_LBRACKET;
        n->lhs = left;
        n->rhs = expression(p, 0);
        advance(p, "]", true);
        return n;
    }
    if (strcmp(op, "^") == 0) {
        n = jn__new_node(a, NT_BINARY, pos);
        n->op = OP_CARET;
        n->lhs = left;
        jn_node *terms = jn__new_node(a, NT_SORT, pos);
        advance(p, "(", false);
        for (;;) {
            jn_node *term = jn__new_node(a, NT_SORT, p->tok.position);
            if (is_op(&p->tok, "<")) {
                advance(p, "<", false);
            } else if (is_op(&p->tok, ">")) {
                term->descending = true;
                advance(p, ">", false);
            }
            term->lhs = expression(p, 0);
            jn__push_node(a, &terms->items, term);
            if (!is_op(&p->tok, ","))
                break;
            advance(p, ",", false);
        }
        advance(p, ")", false);
        n->rhs = terms;
        return n;
    }
    if (strcmp(op, "{") == 0) {
        n = jn__new_node(a, NT_BINARY, pos);
        n->op = OP_LBRACE;
        n->lhs = left;
        n->rhs = object_body(p, jn__new_node(a, NT_OBJECT, pos));
        return n;
    }
    if (strcmp(op, ":=") == 0) {
        if (left->type != NT_VARIABLE)
            PERR(p, "S0212", left->position, left->str,
                 "The left side of := must be a variable name (start with $)");
        n = jn__new_node(a, NT_BINARY, pos);
        n->op = OP_BIND;
        n->lhs = left;
        n->rhs = expression(p, bp - 1);
        return n;
    }
    if (strcmp(op, "@") == 0 || strcmp(op, "#") == 0) {
        n = jn__new_node(a, NT_BINARY, pos);
        n->op = op[0] == '@' ? OP_AT : OP_HASH;
        n->lhs = left;
        n->rhs = expression(p, bp);
        if (n->rhs->type != NT_VARIABLE)
            PERR(p, "S0214", n->rhs->position, op,
                 "The right side of %s must be a variable name (start with $)", op);
        return n;
    }
    if (strcmp(op, "?") == 0) {
        n = jn__new_node(a, NT_CONDITION, pos);
        n->lhs = left;
        n->rhs = expression(p, 0);
        if (is_op(&p->tok, ":")) {
            advance(p, ":", false);
            n->els = expression(p, 0);
        }
        return n;
    }
    n = jn__new_node(a, NT_BINARY, pos);
    n->op = binop(op);
    n->str = op;
    n->lhs = left;
    n->rhs = expression(p, bp);
    return n;
}

static jn_node *expression(parser *p, int rbp)
{
    if (++p->depth > MAX_PARSE_DEPTH)
        PERR(p, "U1001", p->tok.position, NULL, "The expression nests more than %d levels deep",
             MAX_PARSE_DEPTH);
    jn_token t = p->tok;
    advance(p, NULL, true);
    jn_node *left = nud(p, &t);
    while (rbp < lbp(&p->tok)) {
        t = p->tok;
        advance(p, NULL, false);
        left = led(p, &t, left);
    }
    p->depth--;
    return left;
}

jn_node *jn__parse(jn_compiler *c, const char *src, size_t len)
{
    parser p = {.c = c};
    p.lx.src = src;
    p.lx.len = len;
    p.lx.arena = c->arena;
    p.lx.jmp = c->jmp;
    p.lx.err = c->err;
    advance(&p, NULL, false);
    jn_node *e = expression(&p, 0);
    if (p.tok.type != TK_END)
        PERR(&p, "S0201", p.tok.position, tok_text(&p.tok), "Syntax error: \"%s\"",
             tok_text(&p.tok));
    return e;
}
