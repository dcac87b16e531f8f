/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * isola build: a Dockerfile to an image in the store. RUN steps run in a
 * container over an overlayfs of the stage's layers, through the ops the
 * caller gives (the engine's: engine/build_step.h composes the spec and runs
 * it with the runtime; image/ knows no runtime); the overlay's upper
 * directory becomes the layer. COPY/ADD layers are made from a
 * staging directory. A layer cache (ROOT/build-cache/<key>) is keyed on the
 * parent chain and the instruction, and for COPY/ADD on the files' contents.
 */
#ifndef ISOLA_IMAGE_BUILD_H
#define ISOLA_IMAGE_BUILD_H

#include <jansson.h>
#include <stdbool.h>

#include "image/registry.h"
#include "image/store.h"

/* One RUN step, for build_step_ops.run. */
struct build_step {
    json_t *image_config; /* the stage's image config so far (config.md) */
    char *const *args;    /* the command, exec form */
    char *const *env;     /* KEY=VALUE of build ARGs not in the config's Env */
    const char *hostname;
    const char *rootfs; /* the step's root: an overlay, mounted, writable */
    const char *dir;    /* a private directory for the bundle and its state */
    const char *id;     /* a container id unique on this host */
};

/* How RUN steps run (a table: the engine has one, tests could have another). */
struct build_step_ops {
    /* Run step to completion, leaving no container behind; *status is its exit code. */
    int (*run)(void *data, const struct build_step *step, int *status, struct err **err);
    /* Kill and delete the containers a dead build left in dir (a step's dir). */
    void (*reap)(void *data, const char *dir);
    void *data;
};

struct build_opts {
    const char *context;
    const char *dockerfile; /* NULL: CONTEXT/Dockerfile */
    /* the Dockerfile itself (build -f -, build - < Dockerfile); dockerfile
     * then only names it in messages */
    const char *dockerfile_text;
    const char *tag;                    /* may be NULL */
    char *const *build_args;            /* KEY=VALUE, NULL-terminated, may be NULL (the front end
                                           turns `--build-arg NAME` into NAME=$NAME) */
    const struct build_step_ops *steps; /* runs RUN steps */
    const char *registry_creds;         /* for pulls of FROM images (registry_opts.creds) */
    const char *target;                 /* stop after this stage (NULL: the last) */
    bool no_cache;
    const struct registry_progress *progress; /* for pulls of FROM images; NULL: silent */
};

/*
 * `isola build -` (Docker's): stdin (fd) is spooled; a tar (plain, gzip,
 * bzip2, xz, zstd) is unpacked as the context into *dir, a private directory
 * under the store's tmp, and its Dockerfile (dockerfile, NULL: `Dockerfile`,
 * resolved inside it) read into *text; anything else is the Dockerfile
 * itself (*text) with an empty context. *dir, when set, is the caller's to
 * remove, also after a failure.
 */
int build_stdin_context(struct store *s, int fd, const char *dockerfile, char **dir, char **text,
                        struct err **err);

/* *digest gets the built image's manifest digest. */
int build_run(struct store *s, const struct build_opts *o, char digest[DIGEST_LEN + 1],
              struct err **err);

/* Kill and delete containers of builds that died (kill -9) and left their
 * state in ROOT/tmp/build-*; call with the store's exclusive lock held
 * (store_lock_exclusive), so no live build is touched. Before store_prune. */
int build_reap_stale(struct store *s, const struct build_step_ops *steps, struct err **err);

#endif
