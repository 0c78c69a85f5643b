/*
 * fmt_number.c — $formatNumber: XPath F&O 3.1 §4.7 fn:format-number pictures with the
 * decimal-format properties of JSONata's options object. A sub-picture splits into prefix,
 * active part (mantissa, optional exponent) and suffix; the mantissa's digits set the
 * integer and fraction sizes and the grouping positions. Rounding is half to even on the
 * number's shortest decimal digits (so 2.675 rounds to 2.68, as in the reference), and an
 * exponent is found by scaling the mantissa by tens into [10^(s-1), 10^s] for s mandatory
 * integer digits.
 */
#include "jsonata/fmt.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

#define MAX_GROUPS 32

typedef struct props {
    uint32_t decimal, grouping, exponent, minus, percent, per_mille, zero, digit, pattern;
} props;

typedef struct sub_picture {
    const uint32_t *prefix, *suffix;
    size_t n_prefix, n_suffix;
    bool has_percent, has_per_mille, has_exponent;
    int min_int, max_frac, min_frac, min_exp, scaling;
    int n_int_groups, int_groups[MAX_GROUPS];   /* digits to the right of each separator */
    int n_frac_groups, frac_groups[MAX_GROUPS]; /* digits to the left, within the fraction */
    int regular;
} sub_picture;

static uint32_t first_cp(const char *s, uint32_t dflt)
{
    if (!s || !*s)
        return dflt;
    uint32_t *cps;
    size_t n = jfmt__decode(s, &cps);
    uint32_t c = n > 0 ? cps[0] : dflt;
    free(cps);
    return c;
}

bool jfmt_number_opts_set(jfmt_number_opts *o, const char *key, const char *value)
{
    static const struct {
        const char *key;
        size_t offset;
    } names[] = {
        {"decimal-separator", offsetof(jfmt_number_opts, decimal_separator)},
        {"grouping-separator", offsetof(jfmt_number_opts, grouping_separator)},
        {"exponent-separator", offsetof(jfmt_number_opts, exponent_separator)},
        {"infinity", offsetof(jfmt_number_opts, infinity)},
        {"NaN", offsetof(jfmt_number_opts, nan)},
        {"minus-sign", offsetof(jfmt_number_opts, minus_sign)},
        {"percent", offsetof(jfmt_number_opts, percent)},
        {"per-mille", offsetof(jfmt_number_opts, per_mille)},
        {"zero-digit", offsetof(jfmt_number_opts, zero_digit)},
        {"digit", offsetof(jfmt_number_opts, digit)},
        {"pattern-separator", offsetof(jfmt_number_opts, pattern_separator)},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(names[i].key, key) == 0) {
            memcpy((char *)o + names[i].offset, &value, sizeof value);
            return true;
        }
    return false;
}

static bool is_family(const props *p, uint32_t c)
{
    return c >= p->zero && c <= p->zero + 9;
}

/* Active in the sense that bounds prefix and suffix: the mantissa's characters. */
static bool is_active(const props *p, uint32_t c)
{
    return c == p->decimal || c == p->grouping || c == p->digit || is_family(p, c);
}

static int analyse(const props *p, const uint32_t *s, size_t n, sub_picture *sp, jfmt_err *err)
{
    memset(sp, 0, sizeof *sp);
    size_t start = 0, end = n;
    while (start < n && !is_active(p, s[start]))
        start++;
    while (end > start && !is_active(p, s[end - 1]))
        end--;
    sp->prefix = s;
    sp->n_prefix = start;
    sp->suffix = s + end;
    sp->n_suffix = n - end;

    int n_decimal = 0, n_percent = 0, n_per_mille = 0;
    for (size_t i = 0; i < n; i++) {
        n_percent += s[i] == p->percent;
        n_per_mille += s[i] == p->per_mille;
    }
    for (size_t i = start; i < end; i++)
        n_decimal += s[i] == p->decimal;
    if (n_decimal > 1)
        return jfmt__fail(err, "D3081",
                          "A sub-picture must not contain more than one instance "
                          "of the 'decimal-separator' character");
    if (n_percent > 1)
        return jfmt__fail(err, "D3082",
                          "A sub-picture must not contain more than one instance "
                          "of the 'percent' character");
    if (n_per_mille > 1)
        return jfmt__fail(err, "D3083",
                          "A sub-picture must not contain more than one instance "
                          "of the 'per-mille' character");
    if (n_percent && n_per_mille)
        return jfmt__fail(err, "D3084",
                          "A sub-picture must not contain both a 'percent' and a "
                          "'per-mille' character");
    sp->has_percent = n_percent > 0;
    sp->has_per_mille = n_per_mille > 0;

    /* The exponent separator may close the active part or open the suffix. */
    size_t exp_pos = n;
    for (size_t i = start; i <= end && i < n; i++)
        if (s[i] == p->exponent) {
            exp_pos = i;
            break;
        }
    size_t mant_end = exp_pos < n ? exp_pos : end;
    sp->has_exponent = exp_pos < n;

    bool any_digit = false;
    for (size_t i = start; i < mant_end; i++)
        if (s[i] == p->digit || is_family(p, s[i]))
            any_digit = true;
    if (!any_digit)
        return jfmt__fail(err, "D3085",
                          "The mantissa part of a sub-picture must contain at least "
                          "one character that is either an 'optional digit "
                          "character' or a member of the 'decimal digit family'");
    for (size_t i = start; i < end; i++)
        if (!is_active(p, s[i]) && !(i == exp_pos) && !(sp->has_exponent && i > exp_pos))
            return jfmt__fail(err, "D3086",
                              "The sub-picture must not contain a passive character that is "
                              "preceded by an active character and that is followed by another "
                              "active character");
    size_t dec_pos = mant_end;
    for (size_t i = start; i < mant_end; i++)
        if (s[i] == p->decimal)
            dec_pos = i;
    for (size_t i = start; i + 1 < mant_end; i++) {
        if ((s[i] == p->grouping && s[i + 1] == p->decimal) ||
            (s[i] == p->decimal && s[i + 1] == p->grouping))
            return jfmt__fail(err, "D3087",
                              "A sub-picture must not contain a 'grouping-separator' "
                              "character that appears adjacent to a "
                              "'decimal-separator' character");
        if (s[i] == p->grouping && s[i + 1] == p->grouping)
            return jfmt__fail(err, "D3089",
                              "The sub-picture must not contain two adjacent "
                              "instances of the 'grouping-separator' character");
    }
    if (dec_pos > start && s[dec_pos - 1] == p->grouping)
        return jfmt__fail(err, "D3088",
                          "The integer part of a sub-picture must not end with a "
                          "member of the 'grouping-separator' character");
    bool seen_mandatory = false;
    for (size_t i = start; i < dec_pos; i++) {
        if (is_family(p, s[i]))
            seen_mandatory = true;
        else if (s[i] == p->digit && seen_mandatory)
            return jfmt__fail(err, "D3090",
                              "The integer part of the sub-picture must not contain a member of "
                              "the 'decimal digit family' that is followed by an instance of the "
                              "'optional digit character'");
    }
    bool seen_optional = false;
    for (size_t i = dec_pos + 1; i < mant_end; i++) {
        if (s[i] == p->digit)
            seen_optional = true;
        else if (is_family(p, s[i]) && seen_optional)
            return jfmt__fail(err, "D3091",
                              "The fractional part of the sub-picture must not contain an "
                              "instance of the 'optional digit character' that is followed by a "
                              "member of the 'decimal digit family'");
    }
    if (sp->has_exponent) {
        if (n_percent || n_per_mille)
            return jfmt__fail(err, "D3092",
                              "A sub-picture that contains a 'percent' or "
                              "'per-mille' character must not contain a character "
                              "treated as an 'exponent-separator'");
        size_t exp_digits = 0;
        bool ok = true;
        for (size_t i = exp_pos + 1; i < end; i++) {
            if (is_family(p, s[i]))
                exp_digits++;
            else
                ok = false;
        }
        if (!ok || exp_digits == 0)
            return jfmt__fail(err, "D3093",
                              "The exponent part of the sub-picture must comprise "
                              "only of one or more characters that are members of "
                              "the 'decimal digit family'");
        sp->min_exp = (int)exp_digits;
    }

    /* sizes and grouping positions */
    int digits_right = 0;
    for (size_t i = dec_pos; i-- > start;) {
        if (is_family(p, s[i])) {
            sp->min_int++;
            digits_right++;
        } else if (s[i] == p->digit) {
            digits_right++;
        } else if (s[i] == p->grouping && sp->n_int_groups < MAX_GROUPS) {
            sp->int_groups[sp->n_int_groups++] = digits_right;
        }
    }
    int digits_left = 0;
    for (size_t i = dec_pos + 1; i < mant_end; i++) {
        if (is_family(p, s[i])) {
            sp->min_frac++;
            sp->max_frac++;
            digits_left++;
        } else if (s[i] == p->digit) {
            sp->max_frac++;
            digits_left++;
        } else if (s[i] == p->grouping && sp->n_frac_groups < MAX_GROUPS) {
            sp->frac_groups[sp->n_frac_groups++] = digits_left;
        }
    }
    if (sp->n_int_groups > 0) {
        int g = sp->int_groups[0];
        for (int i = 1; i < sp->n_int_groups; i++) {
            int a = g, b = sp->int_groups[i];
            while (b) {
                int t = a % b;
                a = b;
                b = t;
            }
            g = a;
        }
        sp->regular = g;
        for (int k = 1; k <= sp->n_int_groups && g > 0; k++) {
            bool found = false;
            for (int i = 0; i < sp->n_int_groups; i++)
                found |= sp->int_groups[i] == k * g;
            if (!found)
                sp->regular = 0;
        }
    }
    sp->scaling = sp->min_int;
    bool has_decimal = dec_pos < mant_end;
    if (sp->min_int == 0 && !has_decimal && !sp->has_exponent)
        sp->min_int = 1;
    if (sp->min_int == 0 && sp->max_frac == 0) {
        if (sp->has_exponent) {
            sp->min_frac = 1;
            sp->max_frac = 1;
        } else {
            sp->min_int = 1;
        }
    }
    if (sp->has_exponent && sp->min_int == 0) {
        bool optional_int = false;
        for (size_t i = start; i < dec_pos; i++)
            optional_int |= s[i] == p->digit;
        if (optional_int)
            sp->min_int = 1;
    }
    return 0;
}

/* x >= 0 rounded half to even at dp fraction digits: integer digits (no leading zeros, ""
 * for zero) and exactly dp fraction digits. */
static void round_digits(double x, int dp, bt_buf *int_part, bt_buf *frac)
{
    char d[24];
    int point = 0, k = 0;
    bt_buf_reset(int_part);
    bt_buf_reset(frac);
    bt_buf_puts(int_part, "");
    bt_buf_puts(frac, "");
    if (x > 0)
        k = jfmt__shortest(x, d, &point);
    /* the exact digits: int_part . frac */
    for (int i = 0; i < point; i++)
        bt_buf_putc(int_part, i < k ? d[i] : '0');
    for (int i = point; i < 0; i++)
        bt_buf_putc(frac, '0');
    for (int i = point > 0 ? point : 0; i < k; i++)
        bt_buf_putc(frac, d[i]);
    if ((int)frac->len > dp) {
        char next = frac->data[dp];
        bool rest = false;
        for (size_t i = (size_t)dp + 1; i < frac->len; i++)
            rest |= frac->data[i] != '0';
        char last = dp > 0              ? frac->data[dp - 1]
                    : int_part->len > 0 ? int_part->data[int_part->len - 1]
                                        : '0';
        bool up = next > '5' || (next == '5' && (rest || ((last - '0') & 1)));
        frac->len = (size_t)dp;
        frac->data[dp] = '\0';
        if (up) {
            size_t i = frac->len;
            for (; i > 0 && frac->data[i - 1] == '9'; i--)
                frac->data[i - 1] = '0';
            if (i > 0) {
                frac->data[i - 1]++;
            } else {
                size_t j = int_part->len;
                for (; j > 0 && int_part->data[j - 1] == '9'; j--)
                    int_part->data[j - 1] = '0';
                if (j > 0) {
                    int_part->data[j - 1]++;
                } else {
                    bt_buf_putc(int_part, '0');
                    memmove(int_part->data + 1, int_part->data, int_part->len - 1);
                    int_part->data[0] = '1';
                }
            }
        }
    }
    while ((int)frac->len < dp)
        bt_buf_putc(frac, '0');
    size_t z = 0;
    while (z < int_part->len && int_part->data[z] == '0')
        z++;
    memmove(int_part->data, int_part->data + z, int_part->len - z + 1);
    int_part->len -= z;
}

static void put_digit_string(const props *p, const char *s, size_t n, bt_buf *out)
{
    for (size_t i = 0; i < n; i++)
        jfmt__put_cp(out, s[i] >= '0' && s[i] <= '9' ? p->zero + (uint32_t)(s[i] - '0')
                                                     : (uint32_t)(unsigned char)s[i]);
}

static void put_cps(const uint32_t *s, size_t n, bt_buf *out)
{
    for (size_t i = 0; i < n; i++)
        jfmt__put_cp(out, s[i]);
}

static void put_body(const props *p, const sub_picture *sp, double x, bt_buf *out)
{
    int exponent = 0;
    if (sp->has_exponent && x != 0) {
        double max_m = pow(10, sp->scaling), min_m = pow(10, sp->scaling - 1);
        while (x < min_m) {
            x *= 10;
            exponent--;
        }
        while (x > max_m) {
            x /= 10;
            exponent++;
        }
    }
    bt_buf ip, fp;
    bt_buf_init(&ip);
    bt_buf_init(&fp);
    if (x >= 1e21) { /* the reference prints such numbers in exponent form */
        jfmt_number(x, &ip);
    } else {
        round_digits(x, sp->max_frac, &ip, &fp);
    }
    /* fraction: drop trailing zeros down to min_frac; with no mandatory integer digit a
     * fraction that could have digits keeps one (the reference's "1.0" for "#.#") */
    while ((int)fp.len > sp->min_frac && fp.data[fp.len - 1] == '0')
        fp.data[--fp.len] = '\0';
    if (fp.len == 0 && sp->max_frac > 0 && sp->min_int == 0)
        bt_buf_putc(&fp, '0');
    /* integer: pad to min_int */
    bt_buf padded;
    bt_buf_init(&padded);
    for (int i = (int)ip.len; i < sp->min_int; i++)
        bt_buf_putc(&padded, '0');
    bt_buf_append(&padded, ip.data ? ip.data : "", ip.len);
    int len = (int)padded.len;
    for (int i = 0; i < len; i++) {
        int right = len - i; /* digits from here to the point */
        if (i > 0 || sp->regular == 0) {
            bool sep = false;
            if (sp->regular > 0) {
                sep = right % sp->regular == 0;
            } else {
                for (int g = 0; g < sp->n_int_groups; g++)
                    sep |= sp->int_groups[g] == right;
            }
            if (sep)
                jfmt__put_cp(out, p->grouping);
        }
        put_digit_string(p, padded.data + i, 1, out);
    }
    if (sp->regular == 0)
        for (int g = 0; g < sp->n_int_groups; g++)
            if (sp->int_groups[g] == 0)
                jfmt__put_cp(out, p->grouping);
    if (fp.len > 0) {
        jfmt__put_cp(out, p->decimal);
        for (size_t i = 0; i < fp.len; i++) {
            for (int g = 0; g < sp->n_frac_groups; g++)
                if (sp->frac_groups[g] == (int)i && i > 0)
                    jfmt__put_cp(out, p->grouping);
            put_digit_string(p, fp.data + i, 1, out);
        }
        for (int g = 0; g < sp->n_frac_groups; g++)
            if (sp->frac_groups[g] >= (int)fp.len)
                jfmt__put_cp(out, p->grouping);
    }
    if (sp->has_exponent) {
        jfmt__put_cp(out, p->exponent);
        if (exponent < 0)
            jfmt__put_cp(out, p->minus);
        char e[16];
        int n = snprintf(e, sizeof e, "%d", abs(exponent));
        for (int i = n; i < sp->min_exp; i++)
            jfmt__put_cp(out, p->zero);
        put_digit_string(p, e, (size_t)n, out);
    }
    bt_buf_fini(&padded);
    bt_buf_fini(&ip);
    bt_buf_fini(&fp);
}

int jfmt_format_number(double value, const char *picture, const jfmt_number_opts *opts, bt_buf *out,
                       jfmt_err *err)
{
    jfmt_number_opts none = {0};
    if (!opts)
        opts = &none;
    props p = {
        .decimal = first_cp(opts->decimal_separator, '.'),
        .grouping = first_cp(opts->grouping_separator, ','),
        .exponent = first_cp(opts->exponent_separator, 'e'),
        .minus = first_cp(opts->minus_sign, '-'),
        .percent = first_cp(opts->percent, '%'),
        .per_mille = first_cp(opts->per_mille, 0x2030),
        .zero = first_cp(opts->zero_digit, '0'),
        .digit = first_cp(opts->digit, '#'),
        .pattern = first_cp(opts->pattern_separator, ';'),
    };
    uint32_t *cps;
    size_t n = jfmt__decode(picture, &cps);
    size_t split = n;
    int n_split = 0;
    for (size_t i = 0; i < n; i++)
        if (cps[i] == p.pattern) {
            if (n_split++ == 0)
                split = i;
        }
    int rc = 0;
    sub_picture pos, neg;
    if (n_split > 1) {
        rc = jfmt__fail(err, "D3080",
                        "The picture string must only contain a maximum of two sub-pictures");
        goto out;
    }
    rc = analyse(&p, cps, split, &pos, err);
    if (rc == 0 && n_split == 1)
        rc = analyse(&p, cps + split + 1, n - split - 1, &neg, err);
    if (rc < 0)
        goto out;

    /* NaN takes the negative path, as in the reference ("-NaN") */
    bool negative = !(value >= 0);
    const sub_picture *affix = negative && n_split == 1 ? &neg : &pos;
    if (negative && n_split == 0)
        jfmt__put_cp(out, p.minus);
    put_cps(affix->prefix, affix->n_prefix, out);
    /* The reference prints "Infinity" and "NaN" whatever the options say. */
    if (isnan(value)) {
        bt_buf_puts(out, "NaN");
    } else if (isinf(value)) {
        bt_buf_puts(out, "Infinity");
    } else {
        double x = fabs(value);
        if (affix->has_percent)
            x *= 100;
        else if (affix->has_per_mille)
            x *= 1000;
        put_body(&p, &pos, x, out);
    }
    put_cps(affix->suffix, affix->n_suffix, out);
out:
    free(cps);
    return rc;
}
