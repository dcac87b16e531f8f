/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola compare's table as text, markdown or HTML (compare_out.h). */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "cli/compare_out.h"
#include "util/cleanup.h"

const struct compare_measure compare_measures[] = {
    {"start, cold", "start", "coldMs", CMP_MS, NULL, NULL},
    {"start, warm", "start", "warmMs", CMP_MS, NULL, "Start (launch to ready), ms"},
    {"memory, PSS idle", "memory", "pssBytes", CMP_BYTES, NULL,
     "Memory of one idle instance (PSS)"},
    {"memory, charged", "memory", "chargedBytes", CMP_BYTES, NULL, NULL},
    {"memory, peak at start", "memory", "peakBytes", CMP_BYTES, NULL, "Peak memory during start"},
    {"disk, unique", "disk", "uniqueBytes", CMP_BYTES, NULL, "Disk unique to one instance"},
    {"disk, shared", "disk", "sharedBytes", CMP_BYTES, NULL, NULL},
    {"density, instances", "density", "instances", CMP_COUNT, NULL, "Density: instances in budget"},
    {"density, scale 1->N", "density", "scaleMs", CMP_MS, NULL, NULL},
    {"CPU loop", "overhead", "cpuMs", CMP_MS, "cpuMs", "CPU loop, ms"},
    {"syscall loop", "overhead", "syscallMs", CMP_MS, "syscallMs", "Syscall loop, ms"},
    {"file I/O", "overhead", "fileIoMs", CMP_MS, "fileIoMs", "File I/O (8 MiB, fsync), ms"},
    {"TCP round trip", "overhead", "tcpRttUs", CMP_US, "tcpRttUs",
     "TCP round trip on loopback, us"},
    {"kernel shared", "isolation", "sharedKernel", CMP_TEXT, NULL, NULL},
    {"kernel", "isolation", "kernel", CMP_TEXT, NULL, NULL},
};
const size_t compare_n_measures = ARRAY_SIZE(compare_measures);

static void fmt_val(double v, enum compare_unit u, char *buf, size_t len)
{
    switch (u) {
    case CMP_MS:
        snprintf(buf, len, v >= 10000 ? "%.1f s" : "%.0f ms", v >= 10000 ? v / 1000 : v);
        break;
    case CMP_US:
        snprintf(buf, len, "%.0f us", v);
        break;
    case CMP_BYTES:
        if (v >= 1073741824.0)
            snprintf(buf, len, "%.2f GiB", v / 1073741824.0);
        else if (v >= 1048576.0)
            snprintf(buf, len, "%.1f MiB", v / 1048576.0);
        else
            snprintf(buf, len, "%.0f KiB", v / 1024.0);
        break;
    default:
        snprintf(buf, len, "%.0f", v);
    }
}

static bool model_ok(json_t *m)
{
    const char *st = json_string_value(json_object_get(m, "status"));
    return st && strcmp(st, "ok") == 0;
}

void compare_cell(json_t *m, const struct compare_measure *ms, char *buf, size_t len)
{
    const char *st = json_string_value(json_object_get(m, "status"));
    json_t *v = json_object_get(json_object_get(m, ms->k1), ms->k2);

    if (!model_ok(m) && (!v || json_is_null(v))) {
        snprintf(buf, len, "%s", st ? st : "-");
        return;
    }
    if (ms->unit == CMP_TEXT) {
        if (json_is_boolean(v))
            snprintf(buf, len, "%s", json_is_true(v) ? "yes" : "no");
        else
            snprintf(buf, len, "%s", json_is_string(v) ? json_string_value(v) : "-");
        return;
    }
    if (json_is_number(v)) {
        fmt_val(json_number_value(v), ms->unit, buf, len);
        return;
    }
    json_t *md = json_object_get(v, "median");
    if (!json_is_number(md)) {
        snprintf(buf, len, "-");
        return;
    }
    char a[32], lo[32], hi[32];
    fmt_val(json_number_value(md), ms->unit, a, sizeof(a));
    double mn = json_number_value(json_object_get(v, "min"));
    double mx = json_number_value(json_object_get(v, "max"));
    int n = (int)json_integer_value(json_object_get(v, "n"));
    size_t w = (size_t)snprintf(buf, len, "%s", a);
    if (n > 1 && w < len) {
        fmt_val(mn, ms->unit, lo, sizeof(lo));
        fmt_val(mx, ms->unit, hi, sizeof(hi));
        w += (size_t)snprintf(buf + w, len - w, " (%s..%s)", lo, hi);
    }
    json_t *rel =
        ms->rel
            ? json_object_get(json_object_get(json_object_get(m, "overhead"), "relative"), ms->rel)
            : NULL;
    if (json_is_number(rel) && w < len)
        snprintf(buf + w, len - w, " x%.2f", json_number_value(rel));
}

static void html_esc(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '<')
            fputs("&lt;", out);
        else if (*s == '>')
            fputs("&gt;", out);
        else if (*s == '&')
            fputs("&amp;", out);
        else if (*s == '"')
            fputs("&quot;", out);
        else
            fputc(*s, out);
    }
}

/* One row of cells in format f; widths for the text table. */
static void row(FILE *out, enum compare_format f, const char *const *cells, size_t n, const int *w,
                bool head)
{
    if (f == CMP_FMT_HTML) {
        fputs("<tr>", out);
        for (size_t i = 0; i < n; i++) {
            fputs(head ? "<th>" : "<td>", out);
            html_esc(out, cells[i]);
            fputs(head ? "</th>" : "</td>", out);
        }
        fputs("</tr>\n", out);
        return;
    }
    if (f == CMP_FMT_MARKDOWN) {
        fputs("|", out);
        for (size_t i = 0; i < n; i++) {
            fputc(' ', out);
            for (const char *c = cells[i]; *c; c++) {
                if (*c == '|')
                    fputc('\\', out);
                fputc(*c, out);
            }
            fputs(" |", out);
        }
        fputc('\n', out);
        if (head) {
            fputs("|", out);
            for (size_t i = 0; i < n; i++)
                fputs(" --- |", out);
            fputc('\n', out);
        }
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (i + 1 < n)
            fprintf(out, "%-*s  ", w[i], cells[i]);
        else
            fprintf(out, "%s", cells[i]);
    fputc('\n', out);
}

static void heading(FILE *out, enum compare_format f, const char *text)
{
    if (f == CMP_FMT_HTML) {
        fputs("<h2>", out);
        html_esc(out, text);
        fputs("</h2>\n", out);
    } else if (f == CMP_FMT_MARKDOWN) {
        fprintf(out, "\n### %s\n\n", text);
    } else {
        fprintf(out, "\n%s\n", text);
    }
}

/* One line of the models' notes: a paragraph, a list item or indented text. */
static void note_line(FILE *out, enum compare_format f, const char *line)
{
    if (f == CMP_FMT_HTML) {
        fputs("<p>", out);
        html_esc(out, line);
        fputs("</p>\n", out);
    } else {
        fprintf(out, "%s%s\n", f == CMP_FMT_MARKDOWN ? "- " : "  ", line);
    }
}

static void table_begin(FILE *out, enum compare_format f)
{
    if (f == CMP_FMT_HTML)
        fputs("<table>\n", out);
}

static void table_end(FILE *out, enum compare_format f)
{
    if (f == CMP_FMT_HTML)
        fputs("</table>\n", out);
}

#define MAXM 8

void compare_print(json_t *report, enum compare_format f, FILE *out)
{
    json_t *models = json_object_get(report, "models"), *m,
           *mach = json_object_get(report, "machine");
    size_t nm = json_array_size(models) < MAXM ? json_array_size(models) : MAXM, i;
    char cells[MAXM + 1][160];
    const char *ptr[MAXM + 1];
    int w[MAXM + 1] = {0};
    char line[1024];
    json_t *a;

    /* the command that made it */
    size_t k = (size_t)snprintf(line, sizeof(line), "isola compare %s",
                                json_string_value(json_object_get(report, "image")));
    json_array_foreach (json_object_get(report, "command"), i, a) {
        const char *arg = json_string_value(a);
        /* as a shell would take it back (no ' inside: "..." then) */
        bool plain = arg[0] && strspn(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                           "0123456789-_./:=,+@%") == strlen(arg);
        const char *q = plain ? "" : (strchr(arg, '\'') ? "\"" : "'");
        if (k < sizeof(line))
            k += (size_t)snprintf(line + k, sizeof(line) - k, " %s%s%s", q, arg, q);
    }
    snprintf(cells[0], sizeof(cells[0]), "%d runs, started = %s",
             (int)json_integer_value(json_object_get(report, "runs")),
             json_string_value(json_object_get(report, "ready")));
    if (f == CMP_FMT_HTML) {
        fputs("<p><code>", out);
        html_esc(out, line);
        fprintf(out, "</code>, %s</p>\n", cells[0]);
    } else if (f == CMP_FMT_MARKDOWN) {
        fprintf(out, "`%s`, %s\n", line, cells[0]);
    } else {
        fprintf(out, "%s (%s)\n", line, cells[0]);
    }
    snprintf(line, sizeof(line), "Machine: %s, %d cores, %.1f GiB, Linux %s, %s; /dev/kvm: %s",
             json_string_value(json_object_get(mach, "cpu")),
             (int)json_integer_value(json_object_get(mach, "cores")),
             (double)json_integer_value(json_object_get(mach, "memoryBytes")) / 1073741824.0,
             json_string_value(json_object_get(mach, "kernel")),
             json_string_value(json_object_get(mach, "summary")),
             json_string_value(json_object_get(mach, "kvm")));
    if (f == CMP_FMT_HTML) {
        fputs("<p>", out);
        html_esc(out, line);
        fputs("</p>\n", out);
    } else {
        fprintf(out, "%s\n", line);
    }

    /* the measures, models side by side */
    heading(out, f, "Measures (median (min..max) over the runs)");
    snprintf(cells[0], sizeof(cells[0]), "MEASURE");
    json_array_foreach (models, i, m)
        if (i < nm)
            snprintf(cells[i + 1], sizeof(cells[i + 1]), "%s",
                     json_string_value(json_object_get(m, "name")));
    /* widths first (text) */
    for (size_t c = 0; c <= nm; c++)
        w[c] = (int)strlen(cells[c]);
    for (size_t r = 0; r < compare_n_measures; r++) {
        if ((int)strlen(compare_measures[r].label) > w[0])
            w[0] = (int)strlen(compare_measures[r].label);
        json_array_foreach (models, i, m) {
            char buf[160];
            if (i >= nm)
                break;
            compare_cell(m, &compare_measures[r], buf, sizeof(buf));
            if ((int)strlen(buf) > w[i + 1])
                w[i + 1] = (int)strlen(buf);
        }
    }
    for (size_t c = 0; c <= nm; c++)
        ptr[c] = cells[c];
    table_begin(out, f);
    row(out, f, ptr, nm + 1, w, true);
    for (size_t r = 0; r < compare_n_measures; r++) {
        snprintf(cells[0], sizeof(cells[0]), "%s", compare_measures[r].label);
        json_array_foreach (models, i, m)
            if (i < nm)
                compare_cell(m, &compare_measures[r], cells[i + 1], sizeof(cells[i + 1]));
        row(out, f, ptr, nm + 1, w, false);
    }
    table_end(out, f);

    /* why a model did not run or stopped, and what was not measured */
    bool any = false;
    json_array_foreach (models, i, m) {
        const char *name = json_string_value(json_object_get(m, "name"));
        const char *st = json_string_value(json_object_get(m, "status"));
        const char *reason = json_string_value(json_object_get(m, "reason"));
        json_t *n;
        size_t j;
        if (!any) {
            heading(out, f, "Models");
            any = true;
        }
        snprintf(line, sizeof(line), "%s: %s%s%s", name, st, reason ? ": " : "",
                 reason ? reason : "");
        note_line(out, f, line);
        json_array_foreach (json_object_get(m, "notes"), j, n) {
            snprintf(line, sizeof(line), "%s: %s", name, json_string_value(n));
            note_line(out, f, line);
        }
        json_t *iso = json_object_get(m, "isolation");
        if (json_is_object(iso)) {
            snprintf(line, sizeof(line), "%s: reaches %s", name,
                     json_string_value(json_object_get(iso, "surface")));
            note_line(out, f, line);
        }
        json_t *st0 = json_object_get(m, "start");
        const char *cn = json_string_value(json_object_get(st0, "coldNote"));
        if (cn && i == 0) {
            snprintf(line, sizeof(line), "start, cold: %s", cn);
            note_line(out, f, line);
        }
    }

    /* the articles' claims */
    heading(out, f, "Claims");
    const char *hd[3] = {"CLAIM", "MEASURED HERE", "VERDICT"};
    int cw[3] = {5, 13, 7};
    json_array_foreach (json_object_get(report, "claims"), i, a) {
        const char *v[3] = {json_string_value(json_object_get(a, "claim")),
                            json_string_value(json_object_get(a, "measured")),
                            json_string_value(json_object_get(a, "verdict"))};
        for (int c = 0; c < 3; c++)
            if (v[c] && (int)strlen(v[c]) > cw[c])
                cw[c] = (int)strlen(v[c]);
    }
    if (cw[1] > 90)
        cw[1] = 90;
    table_begin(out, f);
    row(out, f, hd, 3, cw, true);
    json_array_foreach (json_object_get(report, "claims"), i, a) {
        const char *v[3] = {json_string_value(json_object_get(a, "claim")),
                            json_string_value(json_object_get(a, "measured")),
                            json_string_value(json_object_get(a, "verdict"))};
        row(out, f, v, 3, cw, false);
    }
    table_end(out, f);
}
