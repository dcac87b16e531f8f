/* SPDX-License-Identifier: GPL-2.0-or-later */
/* User-given sizes: see size.h. */
#include "util/size.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

static int size_shift(char c)
{
    static const char units[] = "bkmgtp";
    const char *u = strchr(units, tolower((unsigned char)c));

    return c && u ? (int)(u - units) * 10 : -1;
}

int size_parse(const char *s, uint64_t unit, int64_t *bytes, struct err **err)
{
    const char *p = s;
    uint64_t whole = 0, frac = 0, frac_div = 1, mul = unit ? unit : 1;
    int shift;

    if (!isdigit((unsigned char)*p))
        return err_val(err, EINVAL,
                       "size `%s`: expected a number with an optional unit (64m, 1.5g)", s);
    for (; isdigit((unsigned char)*p); p++) {
        if (whole > (UINT64_MAX - 9) / 10)
            return err_val(err, ERANGE, "size `%s` is too large", s);
        whole = whole * 10 + (uint64_t)(*p - '0');
    }
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return err_val(err, EINVAL, "size `%s`: expected digits after `.`", s);
        for (; isdigit((unsigned char)*p); p++)
            if (frac_div < 1000000000000ULL) {
                frac = frac * 10 + (uint64_t)(*p - '0');
                frac_div *= 10;
            }
    }
    if (*p == ' ')
        p++;
    if ((shift = size_shift(*p)) >= 0) {
        mul = 1ULL << shift;
        p++;
    }
    if (*p == 'i' || *p == 'I')
        p++;
    if (*p == 'b' || *p == 'B')
        p++;
    if (*p != '\0')
        return err_val(err, EINVAL, "size `%s`: unknown unit `%s` (b, k, m, g, t, p)", s, p);
    if (whole > (uint64_t)INT64_MAX / mul)
        return err_val(err, ERANGE, "size `%s` is too large", s);
    uint64_t v = whole * mul;
    /* The fraction, frac/frac_div of mul, rounded down as Docker's int64(). */
    if (frac) {
        uint64_t add = (uint64_t)((unsigned __int128)mul * frac / frac_div);
        if (add > (uint64_t)INT64_MAX - v)
            return err_val(err, ERANGE, "size `%s` is too large", s);
        v += add;
    }
    *bytes = (int64_t)v;
    return 0;
}
