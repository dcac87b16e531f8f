/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "util/duration.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int64_t ns;
} units[] = {
    {"ns", 1},       {"us", 1000},        {"\xc2\xb5s", 1000}, /* µs */
    {"ms", 1000000}, {"s", 1000000000LL}, {"m", 60 * 1000000000LL}, {"h", 3600 * 1000000000LL},
};

int duration_parse(const char *s, int64_t *ns, struct err **err)
{
    const char *p = s;
    int64_t total = 0;

    if (s == NULL || *s == '\0')
        return err_val(err, EINVAL, "duration `%s`: empty", s ? s : "");
    if (strcmp(s, "0") == 0) {
        *ns = 0;
        return 0;
    }
    while (*p) {
        uint64_t whole = 0, frac = 0, scale = 1;
        bool digits = false;
        for (; *p >= '0' && *p <= '9'; p++, digits = true) {
            if (whole > (UINT64_MAX - 9) / 10)
                return err_val(err, ERANGE, "duration `%s`: out of range", s);
            whole = whole * 10 + (uint64_t)(*p - '0');
        }
        if (*p == '.')
            for (p++; *p >= '0' && *p <= '9'; p++, digits = true)
                if (scale < 1000000000000000000ULL) {
                    frac = frac * 10 + (uint64_t)(*p - '0');
                    scale *= 10;
                }
        if (!digits)
            return err_val(err, EINVAL, "duration `%s`: expected a number at `%s`", s, p);
        size_t best = 0, best_len = 0;
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
            size_t l = strlen(units[i].name);
            if (strncmp(p, units[i].name, l) == 0 && l > best_len)
                best = i, best_len = l;
        }
        if (best_len == 0)
            return err_val(err, EINVAL,
                           "duration `%s`: missing or unknown unit at `%s` (ns, us, ms, s, m, h)",
                           s, p);
        p += best_len;
        uint64_t u = (uint64_t)units[best].ns;
        if (whole > (uint64_t)INT64_MAX / u)
            return err_val(err, ERANGE, "duration `%s`: out of range", s);
        uint64_t v =
            whole * u + (uint64_t)((long double)frac * (long double)u / (long double)scale);
        if (v > (uint64_t)INT64_MAX - (uint64_t)total)
            return err_val(err, ERANGE, "duration `%s`: out of range", s);
        total += (int64_t)v;
    }
    *ns = total;
    return 0;
}

/* Go's Duration.String() for non-negative values. */
void duration_format(int64_t ns, char *buf, size_t len)
{
    char frac[16];

    if (ns <= 0) {
        snprintf(buf, len, "0s");
        return;
    }
    if (ns < 1000000000LL) {
        /* ns, µs or ms with the fraction's trailing zeros trimmed */
        const char *u = ns < 1000 ? "ns" : ns < 1000000 ? "\xc2\xb5s" : "ms";
        int64_t div = ns < 1000 ? 1 : ns < 1000000 ? 1000 : 1000000;
        int64_t f = ns % div;
        int w = div == 1 ? 0 : div == 1000 ? 3 : 6;
        frac[0] = '\0';
        if (f) {
            snprintf(frac, sizeof(frac), ".%0*lld", w, (long long)f);
            for (size_t n = strlen(frac); frac[n - 1] == '0'; n--)
                frac[n - 1] = '\0';
        }
        snprintf(buf, len, "%lld%s%s", (long long)(ns / div), frac, u);
        return;
    }
    int64_t h = ns / (3600 * 1000000000LL), m = ns / (60 * 1000000000LL) % 60;
    int64_t s = ns / 1000000000LL % 60, f = ns % 1000000000LL;
    frac[0] = '\0';
    if (f) {
        snprintf(frac, sizeof(frac), ".%09lld", (long long)f);
        for (size_t n = strlen(frac); frac[n - 1] == '0'; n--)
            frac[n - 1] = '\0';
    }
    if (h)
        snprintf(buf, len, "%lldh%lldm%lld%ss", (long long)h, (long long)m, (long long)s, frac);
    else if (m)
        snprintf(buf, len, "%lldm%lld%ss", (long long)m, (long long)s, frac);
    else
        snprintf(buf, len, "%lld%ss", (long long)s, frac);
}
