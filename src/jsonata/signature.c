/*
 * signature.c — function signatures (docs.jsonata.org/embedding-extending): parsing
 * "<s-nn?:s>" and checking arguments against it.
 *
 * Each parameter becomes a character class over one-letter type symbols (s n b l a o f,
 * m for a missing value); the arguments' symbols are matched against the whole pattern
 * as a regular expression, so optional ('?'), repeated ('+') and context ('-') parameters
 * resolve as the reference resolves them.
 */
#include "jsonata/jsonata_int.h"

#include "base/alloc.h"
#include "base/buf.h"

#include <stdio.h>
#include <string.h>

static void *sig_alloc(jn_arena *a, size_t n)
{
    return a ? jn_alloc0(a, n) : bt_xcalloc(1, n);
}

static size_t closing(const char *s, size_t len, size_t start, char open, char close)
{
    int depth = 1;
    for (size_t i = start + 1; i < len; i++) {
        if (s[i] == open)
            depth++;
        else if (s[i] == close && --depth == 0)
            return i;
    }
    return len;
}

/* A symbol's bit in jn_sig_param.mask. */
static unsigned sig_bit(char c)
{
    switch (c) {
    case 's':
        return 1u << 0;
    case 'n':
        return 1u << 1;
    case 'b':
        return 1u << 2;
    case 'l':
        return 1u << 3;
    case 'a':
        return 1u << 4;
    case 'o':
        return 1u << 5;
    case 'f':
        return 1u << 6;
    case 'm':
        return 1u << 7;
    default:
        return 0;
    }
}

/* The symbols of the class param_regex writes. */
static unsigned param_mask(const jn_sig_param *p)
{
    unsigned m = 0;
    switch (p->type) {
    case 'a':
    case 'x':
        for (const char *c = "asnblfom"; *c; c++)
            m |= sig_bit(*c);
        return m;
    case 'f':
        return sig_bit('f');
    case 'j':
        for (const char *c = "asnblom"; *c; c++)
            m |= sig_bit(*c);
        return m;
    case '(':
        for (const char *c = p->choice; *c; c++)
            m |= sig_bit(*c);
        return m | sig_bit('m');
    default:
        return sig_bit(p->type) | sig_bit('m');
    }
}

static void param_regex(const jn_sig_param *p, bt_buf *b)
{
    switch (p->type) {
    case 'a':
    case 'x':
        bt_buf_puts(b, "[asnblfom]");
        break;
    case 'f':
        bt_buf_puts(b, "f");
        break;
    case 'j':
        bt_buf_puts(b, "[asnblom]");
        break;
    case '(':
        bt_buf_printf(b, "[%sm]", p->choice);
        break;
    default:
        bt_buf_printf(b, "[%cm]", p->type);
    }
    if (p->context || p->optional)
        bt_buf_putc(b, '?');
    if (p->plus)
        bt_buf_putc(b, '+');
}

jn_sig *jn__sig_parse(jn_arena *a, const char *text, size_t len, const char **code, size_t *offset)
{
    jn_sig *sig = sig_alloc(a, sizeof *sig);
    jn_sig_param *params = sig_alloc(a, (len + 1) * sizeof *params);
    size_t n = 0;
    size_t i = 1; /* after '<' */
    for (; i < len; i++) {
        char ch = text[i];
        if (ch == ':' || ch == '>')
            break;
        switch (ch) {
        case 's':
        case 'n':
        case 'b':
        case 'l':
        case 'o':
        case 'a':
        case 'f':
        case 'j':
        case 'x':
            params[n++].type = ch;
            break;
        case '-':
            if (n > 0)
                params[n - 1].context = true;
            break;
        case '?':
            if (n > 0)
                params[n - 1].optional = true;
            break;
        case '+':
            if (n > 0)
                params[n - 1].plus = true;
            break;
        case '(': {
            size_t end = closing(text, len, i, '(', ')');
            if (memchr(text + i, '<', end - i) != NULL || end - i - 1 >= sizeof params->choice) {
                *code = "S0402";
                *offset = i;
                return NULL;
            }
            params[n].type = '(';
            memcpy(params[n].choice, text + i + 1, end - i - 1);
            n++;
            i = end;
            break;
        }
        case '<': {
            if (n == 0 || (params[n - 1].type != 'a' && params[n - 1].type != 'f')) {
                *code = "S0401";
                *offset = i;
                return NULL;
            }
            size_t end = closing(text, len, i, '<', '>');
            size_t sl = end - i - 1;
            if (sl >= sizeof params->subtype)
                sl = sizeof params->subtype - 1;
            memcpy(params[n - 1].subtype, text + i + 1, sl);
            i = end;
            break;
        }
        default:
            break;
        }
    }
    for (size_t k = 0; k < n; k++)
        params[k].mask = param_mask(&params[k]);
    sig->params = params;
    sig->n_params = n;
    bt_buf b;
    bt_buf_init(&b);
    bt_buf_putc(&b, '^');
    for (size_t k = 0; k < n; k++) {
        bt_buf_putc(&b, '(');
        param_regex(&params[k], &b);
        bt_buf_putc(&b, ')');
    }
    bt_buf_putc(&b, '$');
    int ec;
    PCRE2_SIZE eo;
    sig->re = pcre2_compile((PCRE2_SPTR)b.data, b.len, 0, &ec, &eo, NULL);
    sig->text = a ? jn_strndup(a, text, len) : bt_xstrndup(text, len);
    bt_buf_fini(&b);
    if (sig->re == NULL) {
        *code = "S0401";
        *offset = 0;
        return NULL;
    }
    return sig;
}

static char symbol(const jn_val *v)
{
    switch (jn_typeof(v)) {
    case JN_FUNCTION:
        return 'f';
    case JN_STRING:
        return 's';
    case JN_NUMBER:
        return 'n';
    case JN_BOOL:
        return 'b';
    case JN_NULL:
        return 'l';
    case JN_ARRAY:
        return 'a';
    case JN_OBJECT:
        return 'o';
    default:
        return 'm';
    }
}

static bool class_has(const jn_sig_param *p, char s)
{
    bt_buf b;
    bt_buf_init(&b);
    param_regex(p, &b);
    /* the class without the trailing modifiers */
    bool r = memchr(b.data, s, b.len) != NULL && s != '?' && s != '+';
    bt_buf_fini(&b);
    return r;
}

_Noreturn static void validation_error(jn_ctx *cx, const jn_sig *sig, jn_val **args,
                                       const char *supplied)
{
    bt_buf b;
    bt_buf_init(&b);
    bt_buf_putc(&b, '^');
    size_t good = 0;
    for (size_t i = 0; i < sig->n_params; i++) {
        param_regex(&sig->params[i], &b);
        int ec;
        PCRE2_SIZE eo;
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)b.data, b.len, 0, &ec, &eo, NULL);
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
        int rc = pcre2_match(re, (PCRE2_SPTR)supplied, strlen(supplied), 0, 0, md, NULL);
        size_t end = rc >= 0 ? pcre2_get_ovector_pointer(md)[1] : 0;
        pcre2_match_data_free(md);
        pcre2_code_free(re);
        if (rc < 0)
            break;
        good = end;
    }
    bt_buf_fini(&b);
    jn_val *bad = good < strlen(supplied) ? args[good] : NULL;
    jn__throw_at(cx, "T0410", cx->position, cx->token, bad,
                 "Argument %zu of function %s does not match function signature", good + 1,
                 cx->token ? cx->token : "");
}

/*
 * The pattern's match, as PCRE2 finds it, without PCRE2: parameter k from position at on,
 * its group's span into ov[2k+2], ov[2k+3]. Each parameter is its class once, '?' greedy
 * (one, then none), '+' greedy (as many as there are, then fewer), or '?+' possessive
 * (one when there is one, never given back). 1 matched, 0 not, -1 too many steps (then
 * PCRE2 decides, with its own limits).
 */
static int match_from(const jn_sig *sig, size_t k, const char *s, size_t len, size_t at, size_t *ov,
                      unsigned *steps)
{
    if (++*steps > 10000)
        return -1;
    if (k == sig->n_params)
        return at == len;
    const jn_sig_param *p = &sig->params[k];
    bool opt = p->context || p->optional, many = p->plus && !opt;
    size_t run = 0;
    while (at + run < len && (many || run < 1) && (p->mask & sig_bit(s[at + run])))
        run++;
    size_t hi = run, lo = opt ? (p->plus ? run : 0) : 1;
    for (size_t t = hi; t >= lo && t <= hi; t--) {
        ov[2 * k + 2] = at;
        ov[2 * k + 3] = at + t;
        int r = match_from(sig, k + 1, s, len, at + t, ov, steps);
        if (r != 0)
            return r;
        if (t == 0)
            break;
    }
    return 0;
}

jn_val **jn__validate(jn_ctx *cx, const jn_sig *sig, jn_val **args, size_t nargs, jn_val *context,
                      size_t *out_n)
{
    char stack_sym[64];
    char *supplied = nargs < sizeof stack_sym ? stack_sym : jn_alloc(cx->arena, nargs + 1);
    for (size_t i = 0; i < nargs; i++)
        supplied[i] = symbol(args[i]);
    supplied[nargs] = '\0';
    size_t ov_stack[2 * 16 + 2];
    size_t *ov =
        sig->n_params < 16 ? ov_stack : jn_alloc(cx->arena, (2 * sig->n_params + 2) * sizeof *ov);
    unsigned steps = 0;
    int m = match_from(sig, 0, supplied, nargs, 0, ov, &steps);
    if (m < 0) {
        if (cx->sig_md == NULL || pcre2_get_ovector_count(cx->sig_md) < sig->n_params + 1)
            cx->sig_md = pcre2_match_data_create((uint32_t)sig->n_params + 8, cx->pcre_gc);
        int rc = pcre2_match(sig->re, (PCRE2_SPTR)supplied, nargs, 0, 0, cx->sig_md, NULL);
        if (rc >= 0)
            ov = pcre2_get_ovector_pointer(cx->sig_md);
        m = rc >= 0;
    }
    if (m == 0)
        validation_error(cx, sig, args, supplied);
    size_t cap = sig->n_params + nargs + 1;
    jn_val **out = jn_alloc(cx->arena, cap * sizeof *out);
    size_t n = 0, ai = 0;
    for (size_t k = 0; k < sig->n_params; k++) {
        const jn_sig_param *p = &sig->params[k];
        size_t ms = ov[2 * (k + 1)], me = ov[2 * (k + 1) + 1];
        if (ms == PCRE2_UNSET || ms == me) {
            if (p->context) {
                char cs = symbol(context);
                if (class_has(p, cs)) {
                    out[n++] = context;
                } else {
                    jn__throw_at(cx, "T0411", cx->position, cx->token, context,
                                 "Context value is not a compatible type with argument %zu of "
                                 "function %s",
                                 ai + 1, cx->token ? cx->token : "");
                }
            } else {
                out[n++] = ai < nargs ? args[ai] : NULL;
                ai++;
            }
            continue;
        }
        for (size_t j = ms; j < me; j++) {
            char single = supplied[j];
            jn_val *arg = args[ai];
            if (p->type == 'a') {
                if (single == 'm') {
                    arg = NULL;
                } else {
                    bool ok = true;
                    if (p->subtype[0] != '\0') {
                        if (single != 'a' && (me - ms != 1 || single != p->subtype[0])) {
                            ok = false;
                        } else if (single == 'a' && arg->u.arr.len > 0) {
                            char it = symbol(arg->u.arr.items[0]);
                            if (it != p->subtype[0]) {
                                ok = false;
                            } else {
                                for (size_t q = 0; q < arg->u.arr.len; q++)
                                    if (symbol(arg->u.arr.items[q]) != it)
                                        ok = false;
                            }
                        }
                    }
                    if (!ok)
                        jn__throw_at(cx, "T0412", cx->position, cx->token, arg,
                                     "Argument %zu of function %s must be an array of %s", ai + 1,
                                     cx->token ? cx->token : "",
                                     p->subtype[0] == 'n'   ? "numbers"
                                     : p->subtype[0] == 's' ? "strings"
                                     : p->subtype[0] == 'b' ? "booleans"
                                     : p->subtype[0] == 'o' ? "objects"
                                     : p->subtype[0] == 'f' ? "functions"
                                                            : "arrays");
                    if (single != 'a') {
                        jn_val *w = jn_array(cx->arena, 1);
                        jn_push(cx->arena, w, arg);
                        arg = w;
                    }
                }
            }
            out[n++] = arg;
            ai++;
        }
    }
    *out_n = n;
    return out;
}
