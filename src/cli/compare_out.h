/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * isola compare's outputs, from the report (engine/compare.h): the table of
 * measures (text, markdown, HTML) and the charts (compare_chart.c, cairo).
 */
#ifndef ISOLA_CLI_COMPARE_OUT_H
#define ISOLA_CLI_COMPARE_OUT_H

#include <jansson.h>
#include <stdio.h>

#include "util/err.h"

/* One measure of the report: where it is in a model, how it is shown. */
enum compare_unit { CMP_MS, CMP_US, CMP_BYTES, CMP_COUNT, CMP_TEXT };
struct compare_measure {
    const char *label;   /* "start, warm" */
    const char *k1, *k2; /* model[k1][k2]: a {median, min, max, n} or a value */
    enum compare_unit unit;
    const char *rel;   /* overhead: the key in model.overhead.relative */
    const char *chart; /* the chart's title, NULL: not charted */
};

extern const struct compare_measure compare_measures[];
extern const size_t compare_n_measures;

/* The cell of measure i for model m ("12 ms (10-15)", "not run", "-"). */
void compare_cell(json_t *m, const struct compare_measure *ms, char *buf, size_t len);

enum compare_format { CMP_FMT_TABLE, CMP_FMT_MARKDOWN, CMP_FMT_HTML };
/* The whole report as text: the machine, the measures, the notes, the claims. */
void compare_print(json_t *report, enum compare_format f, FILE *out);

/* Charts: FILE.svg, FILE.png or FILE.html (SVG charts and the tables). */
int compare_chart_write(json_t *report, const char *path, struct err **err);

#endif
