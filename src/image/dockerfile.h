/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Dockerfile parsing (Docker's "Dockerfile reference"): one instruction per
 * logical line (backslash continues a line, `#` starts a comment line), shell
 * form or JSON exec form, `--flag=value` options. Errors name file:line:column.
 */
#ifndef ISOLA_IMAGE_DOCKERFILE_H
#define ISOLA_IMAGE_DOCKERFILE_H

#include <jansson.h>
#include <stdbool.h>

#include "util/err.h"

struct df_insn {
    char *cmd;     /* upper case: FROM, RUN, ... */
    char *rest;    /* the text after the instruction word (flags removed) */
    json_t *argv;  /* exec form (JSON array of strings), or NULL for shell form */
    json_t *flags; /* {"from":"x","chown":"u:g"} */
    int line, col; /* where `rest` starts */
};

struct dockerfile {
    char *path;
    size_t n;
    struct df_insn *insns;
};

int dockerfile_parse(const char *path, const char *text, struct dockerfile *df, struct err **err);
void dockerfile_release(struct dockerfile *df);

/*
 * Expand $VAR, ${VAR}, ${VAR:-default} and ${VAR:+alt} from vars (a JSON object
 * of strings); `\$` is a literal dollar. *out is new.
 */
int dockerfile_expand(const char *in, json_t *vars, char **out, const char *where,
                      struct err **err);

/* Split shell-form words (quotes respected), for COPY/EXPOSE/VOLUME/ARG... */
int dockerfile_words(const char *in, char ***out, struct err **err);

#endif
