/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * isola compare's charts through cairo (compare_out.h): one panel per
 * measure, the models side by side as bars of the median with a whisker from
 * the smallest to the largest run; SVG or PNG, or HTML with the SVG inline and
 * the report's tables. The font is DejaVu Sans (fonts-dejavu-core) through
 * fontconfig; cairo's SVG carries the glyphs as outlines, so the file renders
 * the same anywhere.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cairo_dl.h"
#include "cli/compare_out.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define PANEL_W 440.0
#define PANEL_H 250.0
#define COLS    2
#define HEAD_H  80.0
#define FOOT_H  28.0

static const double palette[][3] = {
    {0.16, 0.44, 0.70}, /* container */
    {0.90, 0.49, 0.13}, /* vm-container */
    {0.20, 0.63, 0.17}, /* vm */
    {0.58, 0.40, 0.74},
};

/* The two faces of a drawing (draw() makes and destroys them). */
static cairo_font_face_t *face_normal, *face_bold;

static void text(cairo_t *cr, double x, double y, double size, bool bold, const char *s,
                 int align /* -1 left, 0 centre, 1 right */)
{
    cairo_text_extents_t ext;

    sym_cairo_set_font_face(cr, bold ? face_bold : face_normal);
    sym_cairo_set_font_size(cr, size);
    sym_cairo_text_extents(cr, s, &ext);
    double dx = align < 0 ? 0 : (align == 0 ? ext.width / 2 + ext.x_bearing : ext.x_advance);
    sym_cairo_move_to(cr, x - dx, y);
    sym_cairo_show_text(cr, s);
}

/* A round axis top above v: 1, 2 or 5 times a power of ten. */
static double nice_top(double v)
{
    if (v <= 0)
        return 1;
    double p = pow(10, floor(log10(v)));
    for (double m = 1; m <= 10; m = m == 1 ? 2 : (m == 2 ? 5 : 10))
        if (m * p >= v)
            return m * p;
    return 10 * p;
}

static void fmt_axis(double v, enum compare_unit u, char *buf, size_t len, const char **unit)
{
    *unit = "";
    switch (u) {
    case CMP_BYTES:
        if (v >= 1073741824.0) {
            snprintf(buf, len, "%.3g", v / 1073741824.0);
            *unit = "GiB";
        } else if (v >= 1048576.0) {
            snprintf(buf, len, "%.3g", v / 1048576.0);
            *unit = "MiB";
        } else {
            snprintf(buf, len, "%.3g", v / 1024.0);
            *unit = "KiB";
        }
        break;
    case CMP_MS:
        snprintf(buf, len, "%.4g", v);
        *unit = "ms";
        break;
    case CMP_US:
        snprintf(buf, len, "%.4g", v);
        *unit = "us";
        break;
    default:
        snprintf(buf, len, "%.4g", v);
    }
}

/* The median, min and max of measure ms for model m; false when none. */
static bool values(json_t *m, const struct compare_measure *ms, double *med, double *lo, double *hi)
{
    json_t *v = json_object_get(json_object_get(m, ms->k1), ms->k2);

    if (json_is_number(v)) {
        *med = *lo = *hi = json_number_value(v);
        return true;
    }
    json_t *md = json_object_get(v, "median");
    if (!json_is_number(md))
        return false;
    *med = json_number_value(md);
    *lo = json_number_value(json_object_get(v, "min"));
    *hi = json_number_value(json_object_get(v, "max"));
    return true;
}

static void panel(cairo_t *cr, double x0, double y0, json_t *models,
                  const struct compare_measure *ms)
{
    size_t nm = json_array_size(models), i;
    json_t *m;
    double top = 0, med, lo, hi;

    /* frame and title */
    sym_cairo_set_source_rgb(cr, 0.97, 0.97, 0.97);
    sym_cairo_rectangle(cr, x0 + 6, y0 + 6, PANEL_W - 12, PANEL_H - 12);
    sym_cairo_fill(cr);
    sym_cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    text(cr, x0 + 18, y0 + 26, 14, true, ms->chart, -1);

    json_array_foreach (models, i, m)
        if (values(m, ms, &med, &lo, &hi))
            top = fmax(top, fmax(med, hi));
    /* round numbers in the unit shown */
    double scale = 1;
    if (ms->unit == CMP_BYTES)
        scale = top >= 1073741824.0 ? 1073741824.0 : (top >= 1048576.0 ? 1048576.0 : 1024.0);
    top = nice_top(top / scale) * scale;

    double ax = x0 + 70, ay = y0 + 58, aw = PANEL_W - 100, ah = PANEL_H - 118;
    char lab[32];
    const char *unit;
    /* axis and grid: 0, top/2, top */
    sym_cairo_set_line_width(cr, 1);
    for (int t = 0; t <= 2; t++) {
        double v = top * t / 2, y = ay + ah - ah * t / 2;
        sym_cairo_set_source_rgb(cr, 0.82, 0.82, 0.82);
        sym_cairo_move_to(cr, ax, y + 0.5);
        sym_cairo_line_to(cr, ax + aw, y + 0.5);
        sym_cairo_stroke(cr);
        fmt_axis(v, ms->unit, lab, sizeof(lab), &unit);
        sym_cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
        text(cr, ax - 8, y + 4, 11, false, lab, 1);
    }
    fmt_axis(top, ms->unit, lab, sizeof(lab), &unit);
    if (*unit)
        text(cr, ax - 8, ay - 12, 11, false, unit, 1);

    double slot = aw / (double)(nm ? nm : 1), bw = fmin(70, slot * 0.55);
    json_array_foreach (models, i, m) {
        const char *name = json_string_value(json_object_get(m, "name"));
        const char *st = json_string_value(json_object_get(m, "status"));
        double cx = ax + slot * ((double)i + 0.5);
        const double *col = palette[i % ARRAY_SIZE(palette)];

        sym_cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        text(cr, cx, ay + ah + 18, 12, false, name, 0);
        if (!values(m, ms, &med, &lo, &hi)) {
            /* not run, failed, or not measured: said, never left out */
            sym_cairo_set_source_rgb(cr, 0.55, 0.2, 0.2);
            text(cr, cx, ay + ah - 10, 11, false, st && strcmp(st, "ok") != 0 ? st : "not measured",
                 0);
            continue;
        }
        double h = ah * med / top, yl = ay + ah - ah * lo / top, yh = ay + ah - ah * hi / top;
        sym_cairo_set_source_rgb(cr, col[0], col[1], col[2]);
        sym_cairo_rectangle(cr, cx - bw / 2, ay + ah - h, bw, h);
        sym_cairo_fill(cr);
        /* the spread: min..max of the runs */
        sym_cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        sym_cairo_set_line_width(cr, 1.5);
        sym_cairo_move_to(cr, cx, yl);
        sym_cairo_line_to(cr, cx, yh);
        sym_cairo_move_to(cr, cx - 8, yl);
        sym_cairo_line_to(cr, cx + 8, yl);
        sym_cairo_move_to(cr, cx - 8, yh);
        sym_cairo_line_to(cr, cx + 8, yh);
        sym_cairo_stroke(cr);
        char cell[96];
        compare_cell(m, ms, cell, sizeof(cell));
        char *paren = strstr(cell, " (");
        if (paren)
            *paren = '\0';
        text(cr, cx, fmin(ay + ah - h, yh) - 6, 11, true, cell, 0);
    }
}

static int draw(cairo_surface_t *sf, json_t *report, double W, double H, struct err **err)
{
    cairo_t *cr = sym_cairo_create(sf);

    face_normal = sym_cairo_toy_font_face_create("DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                                                 CAIRO_FONT_WEIGHT_NORMAL);
    face_bold = sym_cairo_toy_font_face_create("DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                                               CAIRO_FONT_WEIGHT_BOLD);
    json_t *models = json_object_get(report, "models"), *mach = json_object_get(report, "machine");
    char line[512];
    size_t k = 0;

    sym_cairo_set_source_rgb(cr, 1, 1, 1);
    sym_cairo_paint(cr);
    sym_cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    snprintf(line, sizeof(line), "isola compare %s",
             json_string_value(json_object_get(report, "image")));
    text(cr, 16, 28, 18, true, line, -1);
    snprintf(line, sizeof(line), "%s, %d cores, Linux %s, %s",
             json_string_value(json_object_get(mach, "cpu")),
             (int)json_integer_value(json_object_get(mach, "cores")),
             json_string_value(json_object_get(mach, "kernel")),
             json_string_value(json_object_get(mach, "summary")));
    text(cr, 16, 50, 11, false, line, -1);
    snprintf(line, sizeof(line),
             "bars: the median of %d runs; whiskers: the smallest to the largest",
             (int)json_integer_value(json_object_get(report, "runs")));
    text(cr, 16, 66, 11, false, line, -1);
    for (size_t i = 0; i < compare_n_measures; i++) {
        if (!compare_measures[i].chart)
            continue;
        panel(cr, (double)(k % COLS) * PANEL_W, HEAD_H + (double)(k / COLS) * PANEL_H, models,
              &compare_measures[i]);
        k++;
    }
    /* why a model is missing from the bars */
    json_t *m;
    size_t i;
    double y = H - FOOT_H + 4;
    json_array_foreach (models, i, m) {
        const char *st = json_string_value(json_object_get(m, "status"));
        const char *reason = json_string_value(json_object_get(m, "reason"));
        if (st && strcmp(st, "ok") != 0 && reason) {
            snprintf(line, sizeof(line), "%s: %s: %s",
                     json_string_value(json_object_get(m, "name")), st, reason);
            sym_cairo_set_source_rgb(cr, 0.4, 0.1, 0.1);
            text(cr, 16, y, 10, false, line, -1);
            y += 14;
        }
    }
    (void)W;
    cairo_status_t s = sym_cairo_status(cr);
    sym_cairo_destroy(cr);
    sym_cairo_font_face_destroy(face_normal);
    sym_cairo_font_face_destroy(face_bold);
    face_normal = face_bold = NULL;
    if (s != CAIRO_STATUS_SUCCESS)
        return err_val(err, EIO, "draw the charts: %s", sym_cairo_status_to_string(s));
    return 0;
}

static void size_of(json_t *report, double *W, double *H)
{
    size_t panels = 0, notrun = 0, i;
    json_t *m;

    for (size_t j = 0; j < compare_n_measures; j++)
        panels += compare_measures[j].chart != NULL;
    json_array_foreach (json_object_get(report, "models"), i, m) {
        const char *st = json_string_value(json_object_get(m, "status"));
        notrun += st && strcmp(st, "ok") != 0;
    }
    *W = PANEL_W * COLS;
    *H = HEAD_H + PANEL_H * (double)((panels + COLS - 1) / COLS) + FOOT_H + 14.0 * (double)notrun;
}

struct membuf {
    char *p;
    size_t n, cap;
};

static cairo_status_t mem_write(void *closure, const unsigned char *data, unsigned int len)
{
    struct membuf *b = closure;
    if (b->n + len + 1 > b->cap) {
        size_t cap = (b->n + len + 1) * 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return CAIRO_STATUS_NO_MEMORY;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, len);
    b->n += len;
    b->p[b->n] = '\0';
    return CAIRO_STATUS_SUCCESS;
}

static int finish(cairo_surface_t *sf, const char *what, struct err **err)
{
    sym_cairo_surface_finish(sf);
    cairo_status_t s = sym_cairo_surface_status(sf);
    sym_cairo_surface_destroy(sf);
    if (s != CAIRO_STATUS_SUCCESS)
        return err_val(err, EIO, "write %s: %s", what, sym_cairo_status_to_string(s));
    return 0;
}

static int write_html(json_t *report, const char *path, double W, double H, struct err **err)
{
    struct membuf svg = {0};
    cairo_surface_t *sf = sym_cairo_svg_surface_create_for_stream(mem_write, &svg, W, H);
    int rc = draw(sf, report, W, H, err);

    if (finish(sf, path, rc < 0 ? NULL : err) < 0 || rc < 0) {
        free(svg.p);
        return -1;
    }
    _cleanup_free_ char *tmp = NULL;
    if (asprintf(&tmp, "%s.tmp", path) < 0) {
        free(svg.p);
        return err_set(err, ENOMEM, "write %s", path);
    }
    FILE *f = fopen(tmp, "we");
    if (!f) {
        free(svg.p);
        return err_sys(err, "open %s", tmp);
    }
    fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>isola compare</title>\n"
          "<style>body{font-family:'DejaVu Sans',sans-serif;margin:2em;max-width:1000px}"
          "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
          "padding:4px 8px;text-align:left;font-size:90%}th{background:#eee}</style>\n"
          "</head><body>\n<h1>isola compare</h1>\n",
          f);
    /* the SVG inline, without its XML declaration */
    const char *body = svg.p ? strstr(svg.p, "<svg") : NULL;
    if (body)
        fputs(body, f);
    fputc('\n', f);
    compare_print(report, CMP_FMT_HTML, f);
    fputs("</body></html>\n", f);
    free(svg.p);
    if (fflush(f) != 0 || ferror(f)) {
        fclose(f);
        unlink(tmp);
        return err_sys(err, "write %s", tmp);
    }
    fclose(f);
    if (rename(tmp, path) < 0) {
        unlink(tmp);
        return err_sys(err, "rename %s to %s", tmp, path);
    }
    return 0;
}

int compare_chart_write(json_t *report, const char *path, struct err **err)
{
    const char *dot = strrchr(path, '.');
    double W, H;

    if (cairo_dl_load(err) < 0)
        return err_wrap(err, "charts %s", path);
    size_of(report, &W, &H);
    if (dot && strcmp(dot, ".html") == 0)
        return write_html(report, path, W, H, err);
    if (dot && strcmp(dot, ".svg") == 0) {
        cairo_surface_t *sf = sym_cairo_svg_surface_create(path, W, H);
        int rc = draw(sf, report, W, H, err);
        if (finish(sf, path, rc < 0 ? NULL : err) < 0 || rc < 0)
            return -1;
        return 0;
    }
    if (dot && strcmp(dot, ".png") == 0) {
        cairo_surface_t *sf = sym_cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)W, (int)H);
        int rc = draw(sf, report, W, H, err);
        if (rc == 0) {
            cairo_status_t s = sym_cairo_surface_write_to_png(sf, path);
            if (s != CAIRO_STATUS_SUCCESS)
                rc = err_val(err, EIO, "write %s: %s", path, sym_cairo_status_to_string(s));
        }
        sym_cairo_surface_destroy(sf);
        return rc;
    }
    return err_val(err, EINVAL, "charts %s: expected a file ending in .svg, .png or .html", path);
}
