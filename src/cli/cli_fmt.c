/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "cli/cli_fmt.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util/cleanup.h"

static void print_labels(json_t *labels)
{
    const char *k;
    json_t *v;
    bool first = true;

    json_object_foreach (labels, k, v) {
        printf("%s%s=%s", first ? "" : ",", k, json_string_value(v));
        first = false;
    }
}

int cli_template_print(const char *prog, const char *tpl, json_t *obj)
{
    const char *p = tpl;
    json_t *labels = json_object_get(obj, "LabelsObj");

    if (labels == NULL)
        labels = json_object_get(obj, "Labels");
    while (*p) {
        if (p[0] == '\\' && (p[1] == 't' || p[1] == 'n')) {
            putchar(p[1] == 't' ? '\t' : '\n');
            p += 2;
            continue;
        }
        if (strncmp(p, "{{", 2) != 0) {
            putchar(*p++);
            continue;
        }
        const char *end = strstr(p, "}}");
        if (end == NULL) {
            fprintf(stderr, "%s: template: `{{` without `}}`\n", prog);
            return -1;
        }
        _cleanup_free_ char *expr = strndup(p + 2, (size_t)(end - p - 2));
        if (expr == NULL)
            return -1;
        char *x = expr;
        while (*x == ' ')
            x++;
        size_t xl = strlen(x);
        while (xl && x[xl - 1] == ' ')
            x[--xl] = '\0';
        json_t *v = x[0] == '.' ? json_object_get(obj, x + 1) : NULL;
        if (strcmp(x, "json .") == 0) {
            _cleanup_free_ char *s = json_dumps(obj, JSON_COMPACT);
            fputs(s ? s : "", stdout);
        } else if (strcmp(x, ".Labels") == 0) {
            print_labels(labels);
        } else if (strncmp(x, ".Label \"", 8) == 0 && xl > 9 && x[xl - 1] == '"') {
            x[xl - 1] = '\0';
            json_t *lv = json_object_get(labels, x + 8);
            fputs(lv ? json_string_value(lv) : "", stdout);
        } else if (json_is_string(v)) {
            fputs(json_string_value(v), stdout);
        } else if (json_is_boolean(v)) {
            fputs(json_is_true(v) ? "true" : "false", stdout);
        } else if (v != NULL) {
            _cleanup_free_ char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            fputs(s ? s : "", stdout);
        } else {
            fprintf(stderr, "%s: template: unknown field `%s`\n", prog, x);
            return -1;
        }
        p = end + 2;
    }
    putchar('\n');
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
