/*
 * fmt_int.c — $formatInteger and $parseInteger: the fn:format-integer pictures of XPath
 * F&O 3.1 §4.6.1 as JSONata 2.0.6 supports them, and the English number words shared with
 * the date functions. A decimal picture is read right to left: its digits (one Unicode
 * family, '#' optional) and, between them, grouping separators at counted positions;
 * separators that all match and fall at multiples of one size repeat across the number.
 */
#include "jsonata/fmt.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

enum pic_kind { PIC_DECIMAL, PIC_LETTERS, PIC_ROMAN, PIC_WORDS };
enum pic_case { CASE_LOWER, CASE_UPPER, CASE_TITLE };

#define MAX_SEPS 64

typedef struct int_picture {
    enum pic_kind kind;
    enum pic_case letter_case;
    bool ordinal;
    /* decimal */
    uint32_t zero;
    int n_mandatory;
    int n_seps;
    int sep_pos[MAX_SEPS]; /* digits to the right of each separator, right to left */
    uint32_t sep_cp[MAX_SEPS];
    int regular; /* group size when separators repeat, else 0 */
} int_picture;

static int gcd(int a, int b)
{
    return b == 0 ? a : gcd(b, a % b);
}

/* A group size G when every position is a multiple of G and G, 2G, … up to the count all
 * occur, else 0 (XPath's "regular" grouping); one separator character only. */
static int regular_grouping(const int *pos, const uint32_t *cp, int n)
{
    if (n == 0)
        return 0;
    for (int i = 1; i < n; i++)
        if (cp[i] != cp[0])
            return 0;
    int g = pos[0];
    for (int i = 1; i < n; i++)
        g = gcd(g, pos[i]);
    for (int k = 1; k <= n; k++) {
        bool found = false;
        for (int i = 0; i < n; i++)
            if (pos[i] == k * g)
                found = true;
        if (!found)
            return 0;
    }
    return g;
}

static int analyse(const char *picture, int_picture *pic, jfmt_err *err)
{
    memset(pic, 0, sizeof *pic);
    const char *semi = strrchr(picture, ';');
    size_t primary_len = semi ? (size_t)(semi - picture) : strlen(picture);
    if (semi && semi[1] == 'o')
        pic->ordinal = true;
    char *primary = bt_xstrndup(picture, primary_len);
    int rc = 0;
    if (primary[0] == 'A' || primary[0] == 'a') {
        pic->kind = PIC_LETTERS;
        pic->letter_case = primary[0] == 'A' ? CASE_UPPER : CASE_LOWER;
    } else if (primary[0] == 'I' || primary[0] == 'i') {
        pic->kind = PIC_ROMAN;
        pic->letter_case = primary[0] == 'I' ? CASE_UPPER : CASE_LOWER;
    } else if (primary[0] == 'W' || primary[0] == 'w') {
        pic->kind = PIC_WORDS;
        pic->letter_case = strcmp(primary, "Ww") == 0 ? CASE_TITLE
                           : primary[0] == 'W'        ? CASE_UPPER
                                                      : CASE_LOWER;
    } else {
        pic->kind = PIC_DECIMAL;
        uint32_t *cps;
        size_t n = jfmt__decode(primary, &cps);
        int n_digits = 0;
        int64_t zero = -1;
        for (size_t i = n; i-- > 0;) {
            int64_t z = jfmt__digit_zero(cps[i]);
            if (z >= 0) {
                if (zero >= 0 && z != zero) {
                    rc = jfmt__fail(err, "D3131",
                                    "In a decimal digit pattern, all digits must "
                                    "be from the same decimal group");
                    break;
                }
                zero = z;
                pic->n_mandatory++;
                n_digits++;
            } else if (cps[i] == '#') {
                n_digits++;
            } else if (pic->n_seps < MAX_SEPS) {
                pic->sep_pos[pic->n_seps] = n_digits;
                pic->sep_cp[pic->n_seps++] = cps[i];
            }
        }
        free(cps);
        if (rc == 0 && zero < 0)
            rc = jfmt__fail(err, "D3130",
                            "Formatting or parsing an integer as a sequence starting with \"%s\" "
                            "is not supported by this implementation",
                            primary);
        pic->zero = zero < 0 ? '0' : (uint32_t)zero;
        pic->regular = regular_grouping(pic->sep_pos, pic->sep_cp, pic->n_seps);
    }
    free(primary);
    return rc;
}

/* ---- words ---- */

static const char *const few[] = {"zero",    "one",     "two",       "three",    "four",
                                  "five",    "six",     "seven",     "eight",    "nine",
                                  "ten",     "eleven",  "twelve",    "thirteen", "fourteen",
                                  "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
static const char *const decades[] = {"twenty", "thirty",  "forty",  "fifty",
                                      "sixty",  "seventy", "eighty", "ninety"};
static const char *const scales[] = {"thousand", "million", "billion", "trillion"};

static void words_rec(double v, bool after, bt_buf *out)
{
    if (v < 20) {
        if (after)
            bt_buf_puts(out, " and ");
        bt_buf_puts(out, few[(int)v]);
    } else if (v < 100) {
        if (after)
            bt_buf_puts(out, " and ");
        int tens = (int)(v / 10), rest = (int)fmod(v, 10);
        bt_buf_puts(out, decades[tens - 2]);
        if (rest > 0) {
            bt_buf_putc(out, '-');
            bt_buf_puts(out, few[rest]);
        }
    } else if (v < 1000) {
        if (after)
            bt_buf_puts(out, ", ");
        int hundreds = (int)(v / 100);
        double rest = fmod(v, 100);
        bt_buf_puts(out, few[hundreds]);
        bt_buf_puts(out, " hundred");
        if (rest > 0)
            words_rec(rest, true, out);
    } else {
        int mag = (int)floor(log10(v) / 3);
        if (mag > 4)
            mag = 4;
        double factor = pow(10, mag * 3);
        double head = floor(v / factor), rest = v - head * factor;
        if (after)
            bt_buf_puts(out, ", ");
        words_rec(head, false, out);
        bt_buf_putc(out, ' ');
        bt_buf_puts(out, scales[mag - 1]);
        if (rest > 0)
            words_rec(rest, true, out);
    }
}

static const struct {
    const char *cardinal, *ordinal;
} irregular_ordinals[] = {{"one", "first"},     {"two", "second"},   {"three", "third"},
                          {"five", "fifth"},    {"eight", "eighth"}, {"nine", "ninth"},
                          {"twelve", "twelfth"}};

void jfmt__words(double v, bool ordinal, bt_buf *out)
{
    size_t start = out->len;
    words_rec(v, false, out);
    if (!ordinal)
        return;
    size_t last = start;
    for (size_t i = start; i < out->len; i++)
        if (out->data[i] == ' ' || out->data[i] == '-')
            last = i + 1;
    char *word = bt_xstrdup(out->data + last);
    out->len = last;
    out->data[last] = '\0';
    const char *replace = NULL;
    for (size_t i = 0; i < sizeof irregular_ordinals / sizeof irregular_ordinals[0]; i++)
        if (strcmp(word, irregular_ordinals[i].cardinal) == 0)
            replace = irregular_ordinals[i].ordinal;
    if (replace) {
        bt_buf_puts(out, replace);
    } else {
        size_t n = strlen(word);
        if (n > 0 && word[n - 1] == 'y') {
            bt_buf_append(out, word, n - 1);
            bt_buf_puts(out, "ieth");
        } else {
            bt_buf_puts(out, word);
            bt_buf_puts(out, "th");
        }
    }
    free(word);
}

/* The value of one number word (cardinal or ordinal, lower case), or -1. */
static double word_value(const char *w, size_t n)
{
    char buf[32];
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, w, n);
    buf[n] = '\0';
    for (int i = 0; i < 20; i++)
        if (strcmp(buf, few[i]) == 0)
            return i;
    for (int i = 0; i < 8; i++)
        if (strcmp(buf, decades[i]) == 0)
            return (i + 2) * 10;
    if (strcmp(buf, "hundred") == 0)
        return 100;
    for (int i = 0; i < 4; i++)
        if (strcmp(buf, scales[i]) == 0)
            return pow(10, 3 * (i + 1));
    for (size_t i = 0; i < sizeof irregular_ordinals / sizeof irregular_ordinals[0]; i++)
        if (strcmp(buf, irregular_ordinals[i].ordinal) == 0)
            return word_value(irregular_ordinals[i].cardinal,
                              strlen(irregular_ordinals[i].cardinal));
    if (n > 4 && strcmp(buf + n - 4, "ieth") == 0) {
        buf[n - 4] = 'y';
        return word_value(buf, n - 3);
    }
    if (n > 2 && strcmp(buf + n - 2, "th") == 0)
        return word_value(buf, n - 2);
    return -1;
}

size_t jfmt__parse_words(const char *s, double *v)
{
    /* Values combine as spoken: below 100 they add to the open group, "hundred" and the
     * scales multiply it; a group already past 1000 is closed before a small value. */
    double segs[64];
    int n_segs = 1;
    segs[0] = 0;
    size_t pos = 0, consumed = 0;
    bool any = false;
    for (;;) {
        size_t start = pos;
        while (isalpha((unsigned char)s[pos]))
            pos++;
        size_t n = pos - start;
        char lower[32];
        if (n == 0 || n >= sizeof lower)
            break;
        for (size_t i = 0; i < n; i++)
            lower[i] = (char)tolower((unsigned char)s[start + i]);
        double value = n == 3 && memcmp(lower, "and", 3) == 0 ? -2 : word_value(lower, n);
        if (value == -1)
            break;
        if (value >= 0) {
            if (value < 100) {
                double top = segs[n_segs - 1];
                if (top >= 1000 && n_segs < 64) {
                    segs[n_segs++] = value;
                } else {
                    segs[n_segs - 1] = top + value;
                }
            } else {
                segs[n_segs - 1] *= value;
            }
            any = true;
            consumed = pos;
        }
        /* separators: one space, a hyphen, or ", " */
        if (s[pos] == ',' && s[pos + 1] == ' ')
            pos += 2;
        else if (s[pos] == ' ' || s[pos] == '-')
            pos++;
        else
            break;
    }
    double total = 0;
    for (int i = 0; i < n_segs; i++)
        total += segs[i];
    *v = total;
    return any ? consumed : 0;
}

/* ---- formatting ---- */

static void put_roman(double v, bool upper, bt_buf *out)
{
    static const struct {
        int value;
        const char *upper, *lower;
    } numerals[] = {{1000, "M", "m"}, {900, "CM", "cm"}, {500, "D", "d"}, {400, "CD", "cd"},
                    {100, "C", "c"},  {90, "XC", "xc"},  {50, "L", "l"},  {40, "XL", "xl"},
                    {10, "X", "x"},   {9, "IX", "ix"},   {5, "V", "v"},   {4, "IV", "iv"},
                    {1, "I", "i"}};
    for (size_t i = 0; i < sizeof numerals / sizeof numerals[0]; i++)
        while (v >= numerals[i].value) {
            bt_buf_puts(out, upper ? numerals[i].upper : numerals[i].lower);
            v -= numerals[i].value;
        }
}

static void put_letters(double v, bool upper, bt_buf *out)
{
    char tmp[64];
    size_t n = 0;
    while (v > 0 && n < sizeof tmp) {
        double rem = fmod(v - 1, 26);
        tmp[n++] = (char)((upper ? 'A' : 'a') + (int)rem);
        v = floor((v - 1) / 26);
    }
    while (n > 0)
        bt_buf_putc(out, tmp[--n]);
}

static const char *ordinal_suffix(double v)
{
    double last2 = fmod(v, 100), last = fmod(v, 10);
    if (last2 >= 11 && last2 <= 13)
        return "th";
    return last == 1 ? "st" : last == 2 ? "nd" : last == 3 ? "rd" : "th";
}

static void put_decimal(double v, const int_picture *pic, bt_buf *out)
{
    bt_buf digits;
    bt_buf_init(&digits);
    jfmt_number(v, &digits);
    int len = (int)digits.len;
    /* code points of the padded digit string, then separators inserted right to left */
    int total = len < pic->n_mandatory ? pic->n_mandatory : len;
    uint32_t *cps = bt_xmalloc((size_t)(total * 2 + MAX_SEPS + 1) * sizeof *cps);
    int n = 0;
    for (int i = 0; i < total - len; i++)
        cps[n++] = pic->zero;
    for (int i = 0; i < len; i++) {
        char c = digits.data[i];
        cps[n++] = c >= '0' && c <= '9' ? pic->zero + (uint32_t)(c - '0') : (uint32_t)c;
    }
    bt_buf_fini(&digits);
    int n_digits = n;
    uint32_t *res = bt_xmalloc((size_t)(n * 2 + MAX_SEPS + 1) * sizeof *res);
    int m = 0;
    /* walk from the right, emitting into res reversed */
    for (int k = 0; k <= n_digits; k++) {
        /* separators that fall after k digits from the right */
        if (pic->regular > 0) {
            if (k > 0 && k % pic->regular == 0 && k < n_digits)
                res[m++] = pic->sep_cp[0];
        } else {
            for (int s = 0; s < pic->n_seps; s++)
                if (pic->sep_pos[s] == k)
                    res[m++] = pic->sep_cp[s];
        }
        if (k < n_digits)
            res[m++] = cps[n_digits - 1 - k];
    }
    for (int i = m; i-- > 0;)
        jfmt__put_cp(out, res[i]);
    free(res);
    free(cps);
    if (pic->ordinal)
        bt_buf_puts(out, ordinal_suffix(v));
}

int jfmt_format_integer(double value, const char *picture, bt_buf *out, jfmt_err *err)
{
    int_picture pic;
    int rc = analyse(picture, &pic, err);
    if (rc < 0)
        return rc;
    value = floor(value);
    if (value < 0) {
        bt_buf_putc(out, '-');
        value = -value;
    }
    switch (pic.kind) {
    case PIC_LETTERS:
        put_letters(value, pic.letter_case == CASE_UPPER, out);
        break;
    case PIC_ROMAN:
        put_roman(value, pic.letter_case == CASE_UPPER, out);
        break;
    case PIC_WORDS: {
        size_t start = out->len;
        jfmt__words(value, pic.ordinal, out);
        bool word_start = true;
        for (size_t i = start; i < out->len; i++) {
            char *c = &out->data[i];
            if (pic.letter_case == CASE_UPPER)
                *c = (char)toupper((unsigned char)*c);
            else if (pic.letter_case == CASE_TITLE && word_start && strncmp(c, "and ", 4) != 0)
                *c = (char)toupper((unsigned char)*c);
            word_start = *c == ' ' || *c == '-';
        }
        break;
    }
    case PIC_DECIMAL:
        put_decimal(value, &pic, out);
        break;
    }
    return 0;
}

/* ---- parsing ---- */

double jfmt__parse_roman(const char *s, size_t n)
{
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        int v = 0, next = 0;
        const char *digits = "IVXLCDM";
        static const int values[] = {1, 5, 10, 50, 100, 500, 1000};
        const char *p = strchr(digits, toupper((unsigned char)s[i]));
        if (!p || !s[i])
            return NAN;
        v = values[p - digits];
        if (i + 1 < n) {
            const char *q = strchr(digits, toupper((unsigned char)s[i + 1]));
            next = q && s[i + 1] ? values[q - digits] : 0;
        }
        total += v < next ? -v : v;
    }
    return total;
}

double jfmt__parse_letters(const char *s, size_t n, bool upper)
{
    double total = 0;
    for (size_t i = 0; i < n; i++)
        total = total * 26 + ((unsigned char)s[i] - (upper ? 'A' : 'a') + 1);
    return total;
}

/* Reads a decimal number written to pic at s: an optional '-', then digits of the
 * picture's family and its separators (dropped), as far as they go. */
static size_t parse_decimal(const char *s, const int_picture *pic, double *v)
{
    uint32_t *cps;
    size_t n = jfmt__decode(s, &cps);
    size_t i = 0;
    bool negative = false;
    if (n > 0 && cps[0] == '-') {
        negative = true;
        i = 1;
    }
    double total = 0;
    bool any = false;
    for (; i < n; i++) {
        if (cps[i] >= pic->zero && cps[i] <= pic->zero + 9) {
            total = total * 10 + (cps[i] - pic->zero);
            any = true;
            continue;
        }
        bool sep = false;
        for (int k = 0; k < pic->n_seps; k++)
            if (cps[i] == pic->sep_cp[k])
                sep = true;
        if (!sep)
            break;
    }
    /* bytes consumed: re-encode the prefix length */
    size_t bytes = 0;
    for (size_t k = 0; k < i; k++)
        bytes += cps[k] < 0x80 ? 1 : cps[k] < 0x800 ? 2 : cps[k] < 0x10000 ? 3 : 4;
    free(cps);
    *v = negative ? -total : total;
    return any ? bytes : 0;
}

int jfmt_parse_integer(const char *string, const char *picture, double *out, jfmt_err *err)
{
    int_picture pic;
    int rc = analyse(picture, &pic, err);
    if (rc < 0)
        return rc;
    *out = NAN;
    size_t n = strlen(string);
    switch (pic.kind) {
    case PIC_LETTERS:
        *out = jfmt__parse_letters(string, n, pic.letter_case == CASE_UPPER);
        break;
    case PIC_ROMAN:
        if (n > 0)
            *out = jfmt__parse_roman(string, n);
        break;
    case PIC_WORDS: {
        double v;
        size_t used = jfmt__parse_words(string, &v);
        if (used > 0 && used == n)
            *out = v;
        break;
    }
    case PIC_DECIMAL: {
        double v;
        size_t used = parse_decimal(string, &pic, &v);
        if (used == 0)
            break;
        if (pic.ordinal) {
            const char *rest = string + used;
            if (!(strncmp(rest, "st", 2) == 0 || strncmp(rest, "nd", 2) == 0 ||
                  strncmp(rest, "rd", 2) == 0 || strncmp(rest, "th", 2) == 0))
                break;
        }
        *out = v;
        break;
    }
    }
    return 0;
}
