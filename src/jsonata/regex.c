/*
 * regex.c — JSONata's regular expressions (JavaScript syntax) on PCRE2: /…/i and /…/m,
 * \uXXXX escapes as JavaScript reads them, a back reference to a group that did not take
 * part matching the empty string. Matching allocates from the evaluation's arena.
 */
#include "jsonata/jsonata_int.h"

#include <string.h>

pcre2_code *jn__regex_compile(const char *pattern, size_t len, const char *flags, int *errcode,
                              size_t *erroffset)
{
    uint32_t opts = PCRE2_UTF | PCRE2_ALT_BSUX | PCRE2_MATCH_UNSET_BACKREF;
    for (const char *f = flags; f && *f; f++) {
        if (*f == 'i')
            opts |= PCRE2_CASELESS;
        else if (*f == 'm')
            opts |= PCRE2_MULTILINE;
    }
    PCRE2_SIZE eo = 0;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, len, opts, errcode, &eo, NULL);
    *erroffset = eo;
    if (re != NULL)
        pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    return re;
}

bool jn__regex_match(jn_ctx *cx, pcre2_code *re, const char *s, size_t len, size_t start,
                     size_t **ovector, size_t *ngroups)
{
    jn__check_time(cx); /* one match may take long: each is a point to stop */
    uint32_t groups = 0;
    pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &groups);
    if (cx->md == NULL || pcre2_get_ovector_count(cx->md) < groups + 1)
        cx->md = pcre2_match_data_create(groups + 16, cx->pcre_gc);
    pcre2_match_data *md = cx->md;
    int rc = pcre2_match(re, (PCRE2_SPTR)s, len, start, 0, md, NULL);
    if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT)
        jn_throw(cx, "U1001", NULL,
                 "The regular expression is too expensive to evaluate (backtracking limit)");
    if (rc < 0)
        return false;
    /* a copy: the match data is shared by every match of the evaluation */
    size_t n = groups + 1;
    size_t *ov = jn_alloc(cx->arena, 2 * n * sizeof *ov);
    memcpy(ov, pcre2_get_ovector_pointer(md), 2 * n * sizeof *ov);
    *ovector = ov;
    *ngroups = n;
    return true;
}

/* Calling a regex as a function: the first match as {match, start, end, groups}. */
jn_val *jn__regex_call(jn_ctx *cx, jn_val *fn, jn_val *str)
{
    if (!jn_is_str(str))
        return NULL;
    size_t *ov, ng;
    const char *s = str->u.str.s;
    if (!jn__regex_match(cx, fn->u.fn->re, s, str->u.str.len, 0, &ov, &ng))
        return NULL;
    jn_arena *a = cx->arena;
    jn_val *o = jn_object(a);
    jn_obj_set(a, o, "match", 5, jn_string(a, s + ov[0], ov[1] - ov[0]));
    jn_obj_set(a, o, "start", 5, jn_number(a, (double)jn_byte_to_u16(s, ov[0])));
    jn_obj_set(a, o, "end", 3, jn_number(a, (double)jn_byte_to_u16(s, ov[1])));
    jn_val *groups = jn_array(a, ng);
    for (size_t i = 1; i < ng; i++) {
        if (ov[2 * i] == PCRE2_UNSET)
            jn_push(a, groups, jn_string_ref(a, "", 0));
        else
            jn_push(a, groups, jn_string(a, s + ov[2 * i], ov[2 * i + 1] - ov[2 * i]));
    }
    jn_obj_set(a, o, "groups", 6, groups);
    return o;
}
