/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Private to build.c and build_copy.c: the state of a build and its helpers. */
#ifndef ISOLA_IMAGE_BUILD_PRIV_H
#define ISOLA_IMAGE_BUILD_PRIV_H

#include <jansson.h>
#include <stdbool.h>

#include "image/build.h"
#include "image/dockerfile.h"
#include "image/manifest.h"

struct stage {
    char *name;
    json_t *config; /* image config (config.md) */
    json_t *layers; /* layer descriptors, bottom first */
    json_t *vars;   /* ARG and ENV values for expansion */
    json_t *shell;  /* SHELL, default ["/bin/sh","-c"] */
    char key[DIGEST_LEN + 1];
    bool cmd_set;
};

struct ctx {
    struct store *s;
    const struct build_opts *o;
    const struct dockerfile *df;
    json_t *global_args; /* ARGs before the first FROM */
    json_t *build_args;  /* --build-arg */
    json_t *ignore;      /* .dockerignore patterns */
    struct stage *stages;
    size_t n_stages;
    int runs;
};

/* file:line:column of an instruction, for messages. */
#define AT(in) ctx->df->path, (in)->line, (in)->col

/* Next cache key: sha256 of the previous key and `what`. */
void build_chain(struct stage *st, const char *what);
/* Prefix *err with the instruction's place and name; returns -1. */
int build_insn_err(struct ctx *ctx, const struct df_insn *in, struct err **err);
/* The image config's "config" object (created if missing). */
json_t *build_cfg(struct stage *st);
void build_history(struct stage *st, const char *by, bool empty);
int build_descs(json_t *layers, struct desc **out, struct err **err);
/* A cached layer for st->key (added to st), or false. */
bool build_cache_get(struct ctx *ctx, struct stage *st);
/* The layer made of dir (an overlay upper directory when overlay) added to st
 * and cached under st->key. */
int build_commit_layer(struct ctx *ctx, struct stage *st, const char *dir, bool overlay,
                       struct err **err);

/* build_health.c: HEALTHCHECK into the config's Healthcheck. */
int build_healthcheck(struct ctx *ctx, struct stage *st, const struct df_insn *in,
                      struct err **err);

/* build_copy.c: COPY and ADD, and .dockerignore. */
int build_copy_load_ignore(struct ctx *ctx, struct err **err);
int build_copy_run(struct ctx *ctx, struct stage *st, const struct df_insn *in, bool add,
                   struct err **err);

#endif
