/*
 * fmt_num.c — numbers as JSONata prints them, $formatBase, and the helpers the other
 * fmt_*.c files share (errors, UTF-8, decimal digit families). Shortest digits come from
 * printf's correctly rounded "%.*e" at growing precision, read back with strtod: the
 * first precision that round-trips is the digit count ECMAScript's Number#toString uses.
 */
#include "jsonata/fmt.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

int jfmt__fail(jfmt_err *err, const char *code, const char *fmt, ...)
{
    if (err) {
        snprintf(err->code, sizeof err->code, "%s", code);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return JFMT_ERROR;
}

size_t jfmt__decode(const char *s, uint32_t **cps)
{
    size_t len = strlen(s), n = 0;
    uint32_t *out = bt_xmalloc((len + 1) * sizeof *out);
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t c = *p;
        int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
        bool ok = true;
        for (int i = 1; i <= extra; i++)
            if ((p[i] & 0xC0) != 0x80)
                ok = false;
        if (!ok || extra == 0) {
            out[n++] = c;
            p++;
            continue;
        }
        c &= (uint32_t)(0x3F >> extra);
        for (int i = 1; i <= extra; i++)
            c = (c << 6) | (p[i] & 0x3F);
        out[n++] = c;
        p += extra + 1;
    }
    *cps = out;
    return n;
}

void jfmt__put_cp(bt_buf *out, uint32_t cp)
{
    char b[4];
    if (cp < 0x80) {
        bt_buf_putc(out, (char)cp);
        return;
    }
    if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3F));
        bt_buf_append(out, b, 2);
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        bt_buf_append(out, b, 3);
    } else {
        b[0] = (char)(0xF0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        bt_buf_append(out, b, 4);
    }
}

/* The zeros of Unicode's decimal digit families (general category Nd) in the Basic
 * Multilingual Plane: each family is zero..zero+9. */
static const uint32_t digit_zeros[] = {
    0x0030, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6,
    0x0C66, 0x0CE6, 0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0,
    0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620,
    0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
};

int64_t jfmt__digit_zero(uint32_t cp)
{
    for (size_t i = 0; i < sizeof digit_zeros / sizeof digit_zeros[0]; i++)
        if (cp >= digit_zeros[i] && cp <= digit_zeros[i] + 9)
            return digit_zeros[i];
    return -1;
}

/* The shortest digits when v is m / 10^k, m an integer of at most 15 digits and k at
 * most 22 (both exact as doubles, so the division rounds once, as reading the text
 * m·10^-k would): that decimal reads back as v and has at most DBL_DIG digits, so it is
 * the one a 15-digit rendering of v gives, trailing zeros dropped — the shortest. Most
 * numbers people write are such; 0 when v is not. */
static int short_decimal(double v, char digits[24], int *point)
{
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    if (!(v >= 1e-7 && v < 1e15))
        return 0;
    for (int k = 0; k <= 22; k++) {
        double m = nearbyint(v * pow10[k]);
        if (m >= 1e15)
            return 0;
        if (m / pow10[k] != v)
            continue;
        char tmp[24];
        int n = 0;
        for (uint64_t u = (uint64_t)m; u > 0; u /= 10)
            tmp[n++] = (char)('0' + u % 10);
        *point = n - k;
        int z = 0;
        while (z < n - 1 && tmp[z] == '0')
            z++; /* trailing zeros (tmp is reversed) */
        int len = 0;
        for (int i = n - 1; i >= z; i--)
            digits[len++] = tmp[i];
        digits[len] = '\0';
        return len;
    }
    return 0;
}

int jfmt__shortest(double v, char digits[24], int *point)
{
    int fast = short_decimal(v, digits, point);
    if (fast > 0)
        return fast;
    /* A decimal of at most 15 significant digits survives the trip through a normal
     * double (DBL_DIG), so when 15 digits read back as v, the shortest form is them
     * without their trailing zeros; otherwise 16 or 17, correctly rounded, as JavaScript
     * picks. A subnormal has fewer digits: searched from 1. */
    char tmp[40];
    for (int prec = fabs(v) >= DBL_MIN ? 15 : 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, v);
        if (prec == 17 || strtod(tmp, NULL) == v) {
            int n = 0;
            const char *p = tmp;
            for (; *p && *p != 'e'; p++)
                if (*p >= '0' && *p <= '9')
                    digits[n++] = *p;
            while (n > 1 && digits[n - 1] == '0')
                n--;
            digits[n] = '\0';
            *point = atoi(p + 1) + 1;
            return n;
        }
    }
    return 0; /* not reached */
}

void jfmt_number(double v, bt_buf *out)
{
    if (isnan(v)) {
        bt_buf_puts(out, "NaN");
        return;
    }
    if (isinf(v)) {
        bt_buf_puts(out, v < 0 ? "-Infinity" : "Infinity");
        return;
    }
    if (v == 0) {
        bt_buf_putc(out, '0');
        return;
    }
    if (v < 0) {
        bt_buf_putc(out, '-');
        v = -v;
    }
    char d[24];
    int n_point;
    int k = jfmt__shortest(v, d, &n_point);
    int n = n_point;
    if (k <= n && n <= 21) {
        bt_buf_append(out, d, (size_t)k);
        for (int i = k; i < n; i++)
            bt_buf_putc(out, '0');
    } else if (0 < n && n <= 21) {
        bt_buf_append(out, d, (size_t)n);
        bt_buf_putc(out, '.');
        bt_buf_append(out, d + n, (size_t)(k - n));
    } else if (-6 < n && n <= 0) {
        bt_buf_puts(out, "0.");
        for (int i = 0; i < -n; i++)
            bt_buf_putc(out, '0');
        bt_buf_append(out, d, (size_t)k);
    } else {
        bt_buf_putc(out, d[0]);
        if (k > 1) {
            bt_buf_putc(out, '.');
            bt_buf_append(out, d + 1, (size_t)(k - 1));
        }
        bt_buf_printf(out, "e%c%d", n - 1 < 0 ? '-' : '+', abs(n - 1));
    }
}

void jfmt_number_string(double v, bt_buf *out)
{
    if (isfinite(v) && v != 0) {
        char tmp[40];
        snprintf(tmp, sizeof tmp, "%.14e", v);
        v = strtod(tmp, NULL);
    }
    jfmt_number(v, out);
}

int jfmt_format_base(double value, bool has_radix, double radix, bt_buf *out, jfmt_err *err)
{
    double r = has_radix ? nearbyint(radix) : 10; /* rounded half to even, as the value */
    if (!(r >= 2 && r <= 36))
        return jfmt__fail(err, "D3100",
                          "The radix of the formatBase function must be between 2 and 36. It "
                          "was given %.17g",
                          r);
    value = nearbyint(value); /* the default rounding mode: half to even */
    if (!isfinite(value)) {
        jfmt_number(value, out);
        return 0;
    }
    int base = (int)r;
    bool negative = value < 0;
    double a = fabs(value);
    char tmp[1100];
    size_t n = 0;
    do {
        double q = floor(a / base);
        int digit = (int)(a - q * base);
        if (digit < 0 || digit >= base) /* beyond 2^53 the quotient may be off by one */
            digit = 0;
        tmp[n++] = "0123456789abcdefghijklmnopqrstuvwxyz"[digit];
        a = q;
    } while (a >= 1 && n < sizeof tmp);
    if (negative)
        bt_buf_putc(out, '-');
    while (n > 0)
        bt_buf_putc(out, tmp[--n]);
    return 0;
}
