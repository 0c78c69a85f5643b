/*
 * jsonpath_filter.c — parses the filter expressions of [?(...)] into fexpr trees: operands
 * (@ and $ paths, string, number, JSON and boolean literals, /regex/), comparisons, !, &&,
 * || and parentheses; and frees those trees. Called by the path parser (jsonpath.c), which
 * this file calls back for operand paths; relies on jsonpath_lex.c for tokens and on
 * jsonpath_regex.c for =~ operands. Nesting is bounded, so any filter parses in bounded stack.
 */
#include "base/alloc.h"
#include "base/err.h"
#include "path/jsonpath_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NESTING 32

/* ---------------------------------------------------------------- filters */

static void operand_fini(operand *o)
{
    jpath_free(o->path);
    json_decref(o->literal);
    if (o->re != NULL) {
        regfree(o->re);
        free(o->re);
    }
}

void jpath__fexpr_free(fexpr *e)
{
    if (e == NULL)
        return;
    jpath__fexpr_free(e->left);
    jpath__fexpr_free(e->right);
    operand_fini(&e->a);
    operand_fini(&e->b);
    free(e);
}

static bool is_word_end(const parser *ps, size_t at)
{
    return at >= ps->len || !jpath__is_ident_char(ps->s[at]);
}

static int parse_json_literal(parser *ps, operand *o)
{
    size_t start = ps->pos;
    int depth = 0;
    bool in_str = false;
    while (!jpath__at_end(ps)) {
        char c = jpath__cur(ps);
        ps->pos++;
        if (in_str) {
            if (c == '\\')
                ps->pos++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"') {
            in_str = true;
        } else if (c == '[' || c == '{') {
            if (++depth > MAX_NESTING)
                return jpath__fail(ps, "JSON literal nested too deeply");
        } else if (c == ']' || c == '}') {
            if (--depth == 0)
                break;
        }
    }
    if (depth != 0 || ps->pos > ps->len)
        return jpath__fail(ps, "unterminated JSON literal");
    json_error_t jerr;
    json_t *v = json_loadb(ps->s + start, ps->pos - start, 0, &jerr);
    if (v == NULL) {
        ps->pos = start;
        return jpath__fail(ps, "invalid JSON literal");
    }
    o->kind = OPND_LITERAL;
    o->literal = v;
    return 0;
}

static int parse_number_literal(parser *ps, operand *o)
{
    size_t start = ps->pos;
    bool is_real = false;
    if (jpath__cur(ps) == '-')
        ps->pos++;
    if (!jpath__is_digit(jpath__cur(ps)))
        return jpath__fail(ps, "expected a number");
    while (jpath__is_digit(jpath__cur(ps)))
        ps->pos++;
    if (jpath__cur(ps) == '.') {
        is_real = true;
        ps->pos++;
        if (!jpath__is_digit(jpath__cur(ps)))
            return jpath__fail(ps, "expected digits after '.'");
        while (jpath__is_digit(jpath__cur(ps)))
            ps->pos++;
    }
    if (jpath__cur(ps) == 'e' || jpath__cur(ps) == 'E') {
        is_real = true;
        ps->pos++;
        if (jpath__cur(ps) == '+' || jpath__cur(ps) == '-')
            ps->pos++;
        if (!jpath__is_digit(jpath__cur(ps)))
            return jpath__fail(ps, "expected digits in the exponent");
        while (jpath__is_digit(jpath__cur(ps)))
            ps->pos++;
    }
    size_t n = ps->pos - start;
    if (n > 64)
        return jpath__fail(ps, "number literal too long");
    char tmp[72];
    memcpy(tmp, ps->s + start, n);
    tmp[n] = '\0';
    json_t *v = NULL;
    if (!is_real) {
        errno = 0;
        long long ll = strtoll(tmp, NULL, 10);
        if (errno == 0)
            v = json_integer((json_int_t)ll);
    }
    if (v == NULL)
        v = json_real(strtod(tmp, NULL));
    if (v == NULL)
        return jpath__fail(ps, "number literal out of range");
    o->kind = OPND_LITERAL;
    o->literal = v;
    return 0;
}

static int parse_operand(parser *ps, operand *o)
{
    jpath__skip_ws(ps);
    char c = jpath__cur(ps);
    if (c == '@' || c == '$') {
        if (c == '$' && (jpath__peek(ps, 1) == '$' || jpath__is_ident_start(jpath__peek(ps, 1))))
            return jpath__fail(ps, "only '@' and '$' paths may appear in a filter");
        jpath *sp = bt_xcalloc(1, sizeof *sp);
        sp->root = c == '@' ? ROOT_CURRENT : JPATH_ROOT_INPUT;
        ps->pos++;
        o->kind = OPND_PATH;
        o->path = sp;
        if (jpath__parse_segments(ps, sp, true) != 0)
            return BT_EINVAL;
        jpath__finish_path(sp);
        sp->identity = false;
        return 0;
    }
    if (c == '\'' || c == '"') {
        size_t len;
        char *str = jpath__parse_quoted(ps, &len);
        if (str == NULL)
            return BT_EINVAL;
        o->kind = OPND_LITERAL;
        o->literal = json_stringn_nocheck(str, len);
        free(str);
        return 0;
    }
    if (c == '-' || jpath__is_digit(c))
        return parse_number_literal(ps, o);
    if (c == '/')
        return jpath__parse_regex(ps, o);
    if (c == '[' || c == '{')
        return parse_json_literal(ps, o);
    static const struct {
        const char *word;
        size_t len;
    } words[] = {{"true", 4}, {"false", 5}, {"null", 4}};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (ps->len - ps->pos >= words[i].len &&
            memcmp(ps->s + ps->pos, words[i].word, words[i].len) == 0 &&
            is_word_end(ps, ps->pos + words[i].len)) {
            ps->pos += words[i].len;
            o->kind = OPND_LITERAL;
            o->literal = i == 0 ? json_true() : i == 1 ? json_false() : json_null();
            return 0;
        }
    }
    if (jpath__at_end(ps))
        return jpath__fail(ps, "unterminated filter");
    return jpath__fail(ps, "expected a value or a path in the filter");
}

static int parse_cmp_op(parser *ps, cmp_op *op, bool *found)
{
    jpath__skip_ws(ps);
    char c = jpath__cur(ps), d = jpath__peek(ps, 1);
    *found = true;
    if (c == '=' && d == '=') {
        *op = OP_EQ;
        ps->pos += 2;
    } else if (c == '!' && d == '=') {
        *op = OP_NE;
        ps->pos += 2;
    } else if (c == '<' && d == '=') {
        *op = OP_LE;
        ps->pos += 2;
    } else if (c == '>' && d == '=') {
        *op = OP_GE;
        ps->pos += 2;
    } else if (c == '=' && d == '~') {
        *op = OP_MATCH;
        ps->pos += 2;
    } else if (c == '<') {
        *op = OP_LT;
        ps->pos++;
    } else if (c == '>') {
        *op = OP_GT;
        ps->pos++;
    } else if (c == '=') {
        return jpath__fail(ps, "use '==' to compare");
    } else if (jpath__is_ident_start(c)) {
        return jpath__fail(ps, "unsupported filter operator");
    } else {
        *found = false;
    }
    return 0;
}

static fexpr *parse_comparison(parser *ps)
{
    fexpr *e = bt_xcalloc(1, sizeof *e);
    if (parse_operand(ps, &e->a) != 0)
        goto bad;
    bool found;
    if (parse_cmp_op(ps, &e->op, &found) != 0)
        goto bad;
    if (!found) {
        if (e->a.kind != OPND_PATH) {
            jpath__fail(ps, "expected a comparison operator");
            goto bad;
        }
        e->kind = FX_EXISTS;
        return e;
    }
    e->kind = FX_CMP;
    if (parse_operand(ps, &e->b) != 0)
        goto bad;
    bool ra = e->a.kind == OPND_REGEX, rb = e->b.kind == OPND_REGEX;
    if (e->op == OP_MATCH && ra == rb) {
        jpath__fail(ps, "'=~' needs one /regex/ operand");
        goto bad;
    }
    if (e->op != OP_MATCH && (ra || rb)) {
        jpath__fail(ps, "a /regex/ can only be used with '=~'");
        goto bad;
    }
    return e;
bad:
    jpath__fexpr_free(e);
    return NULL;
}

static fexpr *parse_unary(parser *ps)
{
    jpath__skip_ws(ps);
    if (++ps->depth > MAX_NESTING) {
        jpath__fail(ps, "filter nested more than %d levels", MAX_NESTING);
        return NULL;
    }
    fexpr *e = NULL;
    if (jpath__cur(ps) == '!' && jpath__peek(ps, 1) != '=') {
        ps->pos++;
        fexpr *inner = parse_unary(ps);
        if (inner != NULL) {
            e = bt_xcalloc(1, sizeof *e);
            e->kind = FX_NOT;
            e->left = inner;
        }
    } else if (jpath__cur(ps) == '(') {
        ps->pos++;
        e = jpath__parse_or(ps);
        if (e != NULL) {
            jpath__skip_ws(ps);
            if (jpath__cur(ps) != ')') {
                jpath__fail(ps, "expected ')'");
                jpath__fexpr_free(e);
                e = NULL;
            } else {
                ps->pos++;
            }
        }
    } else {
        e = parse_comparison(ps);
    }
    ps->depth--;
    return e;
}

static fexpr *parse_binary(parser *ps, bool is_or)
{
    fexpr *left = is_or ? parse_binary(ps, false) : parse_unary(ps);
    const char *tok = is_or ? "||" : "&&";
    while (left != NULL) {
        jpath__skip_ws(ps);
        if (!(jpath__cur(ps) == tok[0] && jpath__peek(ps, 1) == tok[1]))
            break;
        ps->pos += 2;
        fexpr *right = is_or ? parse_binary(ps, false) : parse_unary(ps);
        if (right == NULL) {
            jpath__fexpr_free(left);
            return NULL;
        }
        fexpr *e = bt_xcalloc(1, sizeof *e);
        e->kind = is_or ? FX_OR : FX_AND;
        e->left = left;
        e->right = right;
        left = e;
    }
    return left;
}

fexpr *jpath__parse_or(parser *ps)
{
    if (++ps->depth > MAX_NESTING) {
        jpath__fail(ps, "filter nested more than %d levels", MAX_NESTING);
        ps->depth--;
        return NULL;
    }
    fexpr *e = parse_binary(ps, true);
    ps->depth--;
    return e;
}
