/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "cli/cli_fmt.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli_template.h"
#include "util/cleanup.h"

int cli_template_print(const char *prog, const char *tpl, json_t *obj)
{
    _cleanup_err_ struct err *e = NULL;
    _cleanup_free_ char *s = NULL;

    if (cli_template_render(tpl, obj, NULL, false, &s, &e) < 0) {
        fprintf(stderr, "%s: %s\n", prog, e->msg);
        return -1;
    }
    printf("%s\n", s);
    return 0;
}

int cli_kv_add(json_t *obj, const char *kv)
{
    const char *eq = strchr(kv, '=');
    _cleanup_free_ char *k = eq ? strndup(kv, (size_t)(eq - kv)) : strdup(kv);

    if (k == NULL || !*k)
        return -1;
    return json_object_set_new(obj, k, json_string(eq ? eq + 1 : ""));
}

void cli_human_size(int64_t n, char *buf, size_t len)
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
    double v = n > 0 ? (double)n : 0;
    size_t u = 0;

    while (v >= 1000 && u + 1 < ARRAY_SIZE(units)) {
        v /= 1000;
        u++;
    }
    snprintf(buf, len, "%.4g%s", v, units[u]);
}
