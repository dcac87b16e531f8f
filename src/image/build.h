/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * isola build: a Dockerfile to an image in the store. RUN steps run in a
 * container (an OCI bundle over overlayfs, run by isola-oci or runc); their
 * overlay upper directory becomes the layer. COPY/ADD layers are made from a
 * staging directory. A layer cache (ROOT/build-cache/<key>) is keyed on the
 * parent chain and the instruction, and for COPY/ADD on the files' contents.
 */
#ifndef ISOLA_IMAGE_BUILD_H
#define ISOLA_IMAGE_BUILD_H

#include <stdbool.h>

#include "image/registry.h"
#include "image/store.h"

struct build_opts {
    const char *context;
    const char *dockerfile;  /* NULL: CONTEXT/Dockerfile */
    const char *tag;         /* may be NULL */
    char *const *build_args; /* KEY=VALUE, NULL-terminated, may be NULL */
    const char *runtime;     /* NULL: $ISOLA_BUILD_RUNTIME, else runc */
    const char *target;      /* stop after this stage (NULL: the last) */
    bool no_cache;
    const struct registry_progress *progress; /* for pulls of FROM images; NULL: silent */
};

/* *digest gets the built image's manifest digest. */
int build_run(struct store *s, const struct build_opts *o, char digest[DIGEST_LEN + 1],
              struct err **err);

/* Kill and delete containers of builds that died (kill -9) and left their
 * state in ROOT/tmp/build-*; call with the store's exclusive lock held
 * (store_lock_exclusive), so no live build is touched. Before store_prune. */
int build_reap_stale(struct store *s, struct err **err);

#endif
