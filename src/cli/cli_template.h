/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Go-template subset that Docker users type in --format, evaluated on a
 * JSON object (what every command already builds for --format json):
 *
 *   {{.Field}} {{.A.B.C}} {{.}}            fields, nested (inspect documents)
 *   {{json .}} {{json .Config}}            compact JSON
 *   {{lower X}} {{upper X}} {{title X}}    and {{X | lower}} pipes
 *   {{index X "key"}} {{index X 0}} {{join X ", "}} {{len X}} {{truncate X N}}
 *   {{.Label "key"}}                        a label (ps, volume ls, network ls)
 *   \t and \n in the text, as Docker's CLI replaces them
 *
 * Values print as Go's fmt does: strings as they are, true/false, numbers,
 * [a b] for arrays, map[k:v] for objects (keys sorted); a top-level .Labels
 * object as k=v,k=v (Docker's list contexts). An unknown field is Docker's
 * "template: :1:N: executing "" at <.X>: can't evaluate field X".
 *
 * "table TEMPLATE" adds a header line (each field's column title) and aligns
 * the tab-separated cells as Docker's tabwriter does (min width 10, padding 3).
 */
#ifndef ISOLA_CLI_CLI_TEMPLATE_H
#define ISOLA_CLI_CLI_TEMPLATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "util/err.h"

/* A column title for a field (Docker's header words): {"ID", "CONTAINER ID"};
 * a field not listed gets its name split at capitals and upper-cased
 * (CreatedAt: "CREATED AT"). Arrays end with {NULL, NULL}. */
struct cli_header {
    const char *field;
    const char *title;
};

/* Render tpl with obj as `.` into *out (malloc'ed, no newline added); with
 * headers != NULL, each field is its column title instead (the table's
 * header line). */
int cli_template_render(const char *tpl, json_t *obj, const struct cli_header *headers, bool header,
                        char **out, struct err **err);

enum cli_format_kind {
    CLI_FORMAT_DEFAULT,  /* no --format, or "table": the command's own table */
    CLI_FORMAT_JSON,     /* "json": one compact object a line */
    CLI_FORMAT_TEMPLATE, /* a template, with `table` a header and columns */
};

struct cli_format {
    enum cli_format_kind kind;
    bool table;
    const char *tpl;
    const struct cli_header *headers;
    char **lines; /* a table's rows until cli_format_end */
    size_t n, cap;
};

void cli_format_init(struct cli_format *f, const char *format, const struct cli_header *headers);
/* One object: printed (json, template) or kept for the table; an error is
 * printed after `prog: ` and -1 returned (exit 125, as Docker's CLI). */
int cli_format_row(struct cli_format *f, const char *prog, json_t *obj);
/* A table: the header (rows or none) and the aligned rows. */
int cli_format_end(struct cli_format *f, const char *prog);
void cli_format_free(struct cli_format *f);

/* Go's tabwriter as Docker's formatter uses it: lines whose cells end with
 * `\t`, each column as wide as its widest cell + 3, at least 10. */
void cli_tabwrite(FILE *fp, char *const *lines, size_t n);

#endif
