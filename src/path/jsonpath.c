/*
 * jsonpath.c — compiles the JSONPath dialect of jsonpath.h (Jayway semantics): jpath_compile
 * and its path parser, the normalized form, the accessors and jpath_free. Called by payload
 * templates, I/O processing, Choice rules and the validator. A path is parsed once into a
 * flat array of segments (jsonpath_int.h) that jsonpath_eval.c walks; tokens come from
 * jsonpath_lex.c and the expressions inside [?(...)] from jsonpath_filter.c.
 * Invariant: a compiled jpath is never written after jpath_compile returns.
 */
#include "base/alloc.h"
#include "base/buf.h"
#include "base/err.h"
#include "path/jsonpath_int.h"

#include <stdlib.h>
#include <string.h>

#define MAX_SEGMENTS 256

/* ---------------------------------------------------------------- freeing */

static void seg_fini(seg *s)
{
    free(s->name);
    for (size_t i = 0; i < s->n_names; i++)
        free(s->names[i]);
    free(s->names);
    free(s->indexes);
    jpath__fexpr_free(s->filter);
}

void jpath_free(jpath *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n_segs; i++)
        seg_fini(&p->segs[i]);
    free(p->segs);
    free(p->text);
    free(p->normalized);
    free(p->var);
    free(p);
}

/* ---------------------------------------------------------------- parser */

static seg *add_seg(parser *ps, jpath *p, seg_kind kind, bool descend)
{
    if (p->n_segs >= MAX_SEGMENTS) {
        jpath__fail(ps, "path has more than %d segments", MAX_SEGMENTS);
        return NULL;
    }
    p->segs = bt_xrealloc(p->segs, (p->n_segs + 1) * sizeof *p->segs);
    seg *s = &p->segs[p->n_segs++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->descend = descend;
    s->step = 1;
    return s;
}

static int reject_in_reference(parser *ps, const char *what)
{
    if (ps->flags & JPATH_REFERENCE)
        return jpath__fail(ps, "%s is not allowed in a reference path", what);
    return 0;
}

static int parse_filter(parser *ps, jpath *p, bool descend)
{
    /* at '?' */
    if (reject_in_reference(ps, "a filter expression") != 0)
        return BT_EINVAL;
    ps->pos++;
    jpath__skip_ws(ps);
    if (jpath__cur(ps) != '(')
        return jpath__fail(ps, "expected '(' after '[?'");
    ps->pos++;
    fexpr *e = jpath__parse_or(ps);
    if (e == NULL)
        return BT_EINVAL;
    jpath__skip_ws(ps);
    if (jpath__cur(ps) != ')') {
        jpath__fexpr_free(e);
        return jpath__fail(ps, "expected ')' to close the filter");
    }
    ps->pos++;
    jpath__skip_ws(ps);
    if (jpath__cur(ps) != ']') {
        jpath__fexpr_free(e);
        return jpath__fail(ps, "expected ']' to close the filter");
    }
    ps->pos++;
    seg *s = add_seg(ps, p, SEG_FILTER, descend);
    if (s == NULL) {
        jpath__fexpr_free(e);
        return BT_EINVAL;
    }
    s->filter = e;
    return 0;
}

static int parse_bracket_names(parser *ps, jpath *p, bool descend)
{
    char **names = NULL;
    size_t n = 0;
    for (;;) {
        size_t len;
        char *name = jpath__parse_quoted(ps, &len);
        if (name == NULL)
            goto bad;
        names = bt_xrealloc(names, (n + 1) * sizeof *names);
        names[n++] = name;
        jpath__skip_ws(ps);
        if (jpath__cur(ps) == ']') {
            ps->pos++;
            break;
        }
        if (jpath__cur(ps) != ',') {
            jpath__fail(ps, "expected ',' or ']' after a quoted name");
            goto bad;
        }
        ps->pos++;
        jpath__skip_ws(ps);
        if (jpath__cur(ps) != '\'' && jpath__cur(ps) != '"') {
            jpath__fail(ps, "expected a quoted name after ','");
            goto bad;
        }
    }
    if (n > 1 && reject_in_reference(ps, "a union") != 0)
        goto bad;
    seg *s = add_seg(ps, p, n == 1 ? SEG_NAME : SEG_NAMES, descend);
    if (s == NULL)
        goto bad;
    if (n == 1) {
        s->name = names[0];
        free(names);
    } else {
        s->names = names;
        s->n_names = n;
    }
    return 0;
bad:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return BT_EINVAL;
}

static int parse_bracket_numbers(parser *ps, jpath *p, bool descend)
{
    long long first = 0;
    bool has_first = false;
    if (jpath__cur(ps) != ':') {
        if (jpath__parse_int(ps, &first) != 0)
            return BT_EINVAL;
        has_first = true;
        jpath__skip_ws(ps);
    }
    if (jpath__cur(ps) == ':') {
        if (reject_in_reference(ps, "a slice") != 0)
            return BT_EINVAL;
        long long end = 0, step = 1;
        bool has_end = false;
        ps->pos++;
        jpath__skip_ws(ps);
        if (jpath__cur(ps) == '-' || jpath__is_digit(jpath__cur(ps))) {
            if (jpath__parse_int(ps, &end) != 0)
                return BT_EINVAL;
            has_end = true;
            jpath__skip_ws(ps);
        }
        if (jpath__cur(ps) == ':') {
            ps->pos++;
            jpath__skip_ws(ps);
            if (jpath__cur(ps) == '-' || jpath__is_digit(jpath__cur(ps))) {
                if (jpath__parse_int(ps, &step) != 0)
                    return BT_EINVAL;
                if (step == 0)
                    return jpath__fail(ps, "slice step must not be 0");
                jpath__skip_ws(ps);
            }
        }
        if (jpath__cur(ps) != ']')
            return jpath__fail(ps, "expected ']' to close the slice");
        ps->pos++;
        seg *s = add_seg(ps, p, SEG_SLICE, descend);
        if (s == NULL)
            return BT_EINVAL;
        s->has_start = has_first;
        s->start = first;
        s->has_end = has_end;
        s->end = end;
        s->step = step;
        return 0;
    }
    if (jpath__cur(ps) == ']') {
        ps->pos++;
        if (first < 0 && reject_in_reference(ps, "a negative index") != 0)
            return BT_EINVAL;
        seg *s = add_seg(ps, p, SEG_INDEX, descend);
        if (s == NULL)
            return BT_EINVAL;
        s->index = first;
        return 0;
    }
    if (jpath__cur(ps) != ',')
        return jpath__fail(ps, "expected ']', ',' or ':' after an index");
    if (reject_in_reference(ps, "a union") != 0)
        return BT_EINVAL;
    long long *idx = bt_xmalloc(sizeof *idx);
    size_t n = 1;
    idx[0] = first;
    while (jpath__cur(ps) == ',') {
        ps->pos++;
        jpath__skip_ws(ps);
        long long v;
        if (jpath__parse_int(ps, &v) != 0) {
            free(idx);
            return BT_EINVAL;
        }
        idx = bt_xrealloc(idx, (n + 1) * sizeof *idx);
        idx[n++] = v;
        jpath__skip_ws(ps);
    }
    if (jpath__cur(ps) != ']') {
        free(idx);
        return jpath__fail(ps, "expected ',' or ']' in an index union");
    }
    ps->pos++;
    seg *s = add_seg(ps, p, SEG_INDEXES, descend);
    if (s == NULL) {
        free(idx);
        return BT_EINVAL;
    }
    s->indexes = idx;
    s->n_indexes = n;
    return 0;
}

static int parse_bracket(parser *ps, jpath *p, bool descend)
{
    /* at '[' */
    ps->pos++;
    jpath__skip_ws(ps);
    char c = jpath__cur(ps);
    if (c == '?')
        return parse_filter(ps, p, descend);
    if (c == '*') {
        if (reject_in_reference(ps, "a wildcard") != 0)
            return BT_EINVAL;
        ps->pos++;
        jpath__skip_ws(ps);
        if (jpath__cur(ps) != ']')
            return jpath__fail(ps, "expected ']' after '[*'");
        ps->pos++;
        return add_seg(ps, p, SEG_WILD, descend) ? 0 : BT_EINVAL;
    }
    if (c == '\'' || c == '"')
        return parse_bracket_names(ps, p, descend);
    if (c == '-' || c == ':' || jpath__is_digit(c))
        return parse_bracket_numbers(ps, p, descend);
    if (jpath__at_end(ps))
        return jpath__fail(ps, "unterminated '['");
    return jpath__fail(ps, "unexpected character '%c' after '['", c);
}

static int parse_dot_name(parser *ps, jpath *p, bool descend, bool in_filter)
{
    size_t start = ps->pos;
    while (!jpath__at_end(ps)) {
        char c = jpath__cur(ps);
        if (c == '.' || c == '[')
            break;
        if (in_filter && jpath__is_filter_stop(c) && c != '(')
            break;
        if (jpath__is_space(c))
            return jpath__fail(ps, "use bracket notation ['...'] for a name containing whitespace");
        if (c == '(')
            return jpath__fail(ps, "JSONPath functions are not supported");
        if ((unsigned char)c < 0x20 || c == 0x7f)
            return jpath__fail(ps, "control character in a name");
        ps->pos++;
    }
    if (ps->pos == start)
        return jpath__fail(ps, "expected a name");
    seg *s = add_seg(ps, p, SEG_NAME, descend);
    if (s == NULL)
        return BT_EINVAL;
    s->name = bt_xstrndup(ps->s + start, ps->pos - start);
    return 0;
}

/* Parses segments until the end of text (or, in a filter, until an operand ends). */
int jpath__parse_segments(parser *ps, jpath *p, bool in_filter)
{
    while (!jpath__at_end(ps)) {
        char c = jpath__cur(ps);
        if (in_filter && (jpath__is_filter_stop(c) && c != ']'))
            return 0;
        if (in_filter && c == ']')
            return 0;
        bool descend = false;
        if (c == '.') {
            ps->pos++;
            if (jpath__cur(ps) == '.') {
                if (reject_in_reference(ps, "recursive descent '..'") != 0)
                    return BT_EINVAL;
                descend = true;
                ps->pos++;
                if (jpath__cur(ps) == '.')
                    return jpath__fail(ps, "unexpected '.'");
            }
            if (jpath__at_end(ps) || (in_filter && jpath__is_filter_stop(jpath__cur(ps))))
                return jpath__fail(ps, "path must not end with '%s'", descend ? ".." : ".");
            c = jpath__cur(ps);
            if (c == '[') {
                if (parse_bracket(ps, p, descend) != 0)
                    return BT_EINVAL;
            } else if (c == '*') {
                if (reject_in_reference(ps, "a wildcard") != 0)
                    return BT_EINVAL;
                ps->pos++;
                if (add_seg(ps, p, SEG_WILD, descend) == NULL)
                    return BT_EINVAL;
            } else if (c == '.') {
                return jpath__fail(ps, "unexpected '.'");
            } else if (parse_dot_name(ps, p, descend, in_filter) != 0) {
                return BT_EINVAL;
            }
        } else if (c == '[') {
            if (parse_bracket(ps, p, false) != 0)
                return BT_EINVAL;
        } else if ((unsigned char)c < 0x20 || c == 0x7f) {
            return jpath__fail(ps, "unexpected control character");
        } else {
            return jpath__fail(ps, "unexpected character '%c'", c);
        }
    }
    return 0;
}

static void append_normalized(bt_buf *b, const jpath *p)
{
    bt_buf_puts(b, p->root == ROOT_CURRENT ? "@" : "$");
    for (size_t i = 0; i < p->n_segs; i++) {
        const seg *s = &p->segs[i];
        if (s->descend)
            bt_buf_puts(b, "..");
        switch (s->kind) {
        case SEG_NAME:
            bt_buf_printf(b, "['%s']", s->name);
            break;
        case SEG_INDEX:
            bt_buf_printf(b, "[%lld]", s->index);
            break;
        case SEG_WILD:
            bt_buf_puts(b, "[*]");
            break;
        case SEG_NAMES:
            bt_buf_putc(b, '[');
            for (size_t k = 0; k < s->n_names; k++)
                bt_buf_printf(b, "%s'%s'", k ? "," : "", s->names[k]);
            bt_buf_putc(b, ']');
            break;
        case SEG_INDEXES:
            bt_buf_putc(b, '[');
            for (size_t k = 0; k < s->n_indexes; k++)
                bt_buf_printf(b, "%s%lld", k ? "," : "", s->indexes[k]);
            bt_buf_putc(b, ']');
            break;
        case SEG_SLICE:
            bt_buf_putc(b, '[');
            if (s->has_start)
                bt_buf_printf(b, "%lld", s->start);
            bt_buf_putc(b, ':');
            if (s->has_end)
                bt_buf_printf(b, "%lld", s->end);
            if (s->step != 1)
                bt_buf_printf(b, ":%lld", s->step);
            bt_buf_putc(b, ']');
            break;
        case SEG_FILTER:
            bt_buf_puts(b, "[?]");
            break;
        }
    }
}

/* Sets the derived flags once the segments are known. */
void jpath__finish_path(jpath *p)
{
    p->definite = true;
    p->merge_tail = false;
    for (size_t i = 0; i < p->n_segs; i++) {
        const seg *s = &p->segs[i];
        bool last = i + 1 == p->n_segs;
        if (s->descend ||
            (s->kind != SEG_NAME && s->kind != SEG_INDEX && !(s->kind == SEG_NAMES && last)))
            p->definite = false;
    }
    if (p->definite && p->n_segs > 0 && p->segs[p->n_segs - 1].kind == SEG_NAMES)
        p->merge_tail = true;
    p->identity = p->root == JPATH_ROOT_INPUT && p->n_segs == 0;
}

/* ---------------------------------------------------------------- compile */

int jpath_compile(const char *text, unsigned flags, jpath **out, char **errmsg)
{
    *out = NULL;
    if (errmsg != NULL)
        *errmsg = NULL;
    parser ps = {.s = text, .len = text ? strlen(text) : 0, .flags = flags};
    jpath *p = bt_xcalloc(1, sizeof *p);
    if (text == NULL) {
        jpath__fail(&ps, "no path");
        goto bad;
    }
    if (!jpath__valid_utf8(text, ps.len)) {
        jpath__fail(&ps, "path is not valid UTF-8");
        goto bad;
    }
    if (jpath__cur(&ps) != '$') {
        jpath__fail(&ps, "a path must start with '$'");
        goto bad;
    }
    ps.pos = 1;
    p->root = JPATH_ROOT_INPUT;
    if (jpath__cur(&ps) == '$') {
        if (flags & JPATH_NO_CONTEXT) {
            jpath__fail(&ps, "the context object '$$' is not allowed here");
            goto bad;
        }
        p->root = JPATH_ROOT_CONTEXT;
        ps.pos++;
    } else if (jpath__is_ident_start(jpath__cur(&ps))) {
        if (flags & JPATH_NO_VARS) {
            jpath__fail(&ps, "variables are not allowed here");
            goto bad;
        }
        size_t start = ps.pos;
        while (jpath__is_ident_char(jpath__cur(&ps)))
            ps.pos++;
        p->root = JPATH_ROOT_VAR;
        p->var = bt_xstrndup(text + start, ps.pos - start);
    }
    if (jpath__parse_segments(&ps, p, false) != 0)
        goto bad;
    jpath__finish_path(p);
    p->text = bt_xstrdup(text);
    bt_buf b;
    bt_buf_init(&b);
    append_normalized(&b, p);
    p->normalized = bt_buf_steal(&b);
    *out = p;
    return 0;
bad:
    if (errmsg != NULL)
        *errmsg = ps.err;
    else
        free(ps.err);
    jpath_free(p);
    return BT_EINVAL;
}

const char *jpath_text(const jpath *p)
{
    return p->text;
}

const char *jpath_normalized(const jpath *p)
{
    return p->normalized;
}

jpath_root jpath_root_kind(const jpath *p)
{
    return (jpath_root)p->root;
}

const char *jpath_var_name(const jpath *p)
{
    return p->root == JPATH_ROOT_VAR ? p->var : NULL;
}

bool jpath_is_definite(const jpath *p)
{
    return p->definite;
}

bool jpath_is_identity(const jpath *p)
{
    return p->identity;
}
