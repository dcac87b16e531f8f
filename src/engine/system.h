/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the engine's objects take on disk (`isola system df`) and removing the
 * images nothing needs (`isola system prune [-a]`), as Docker's
 * (docs/engine.md, "Containers").
 */
#ifndef ISOLA_ENGINE_SYSTEM_H
#define ISOLA_ENGINE_SYSTEM_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/container.h"
#include "engine/db.h"
#include "image/digest.h"
#include "image/store.h"
#include "util/err.h"

struct sys_image {
    char id[DIGEST_LEN + 1]; /* the config digest, Docker's image ID */
    char **refs;             /* its tags (strv; empty: dangling) */
    char *created;           /* the config's RFC 3339 `created`, "" when absent */
    int64_t size;            /* config + layer blobs, as `isola images` */
    int64_t shared;          /* of which other images reach too */
    int containers;          /* containers (any state) made from it */
};

struct sys_container {
    struct db_container *c;
    int64_t size; /* its writable layer (the overlay's upper dir) */
    int volumes;  /* named volumes it uses */
};

struct sys_volume {
    struct db_volume *v;
    int links; /* containers using it */
    int64_t size;
};

struct sys_df {
    struct sys_image *images;
    size_t n_images;
    int64_t images_size;        /* every blob of every image, counted once */
    int64_t images_reclaimable; /* of those, what no image in use reaches */
    struct sys_container *ctrs;
    size_t n_ctrs;
    struct sys_volume *vols;
    size_t n_vols;
};

/* Docker's `system df` data: sizes are regular files' bytes (a hard-linked
 * inode once), not blocks. */
int sys_df(struct db *db, const struct ctr_env *env, struct store *s, struct sys_df *out,
           struct err **err);
void sys_df_free(struct sys_df *df);

/*
 * Untag the images that `system prune` removes: the dangling ones (no tag),
 * or with `all` every image that no container (in any state) is made from.
 * report(arg, line) gets Docker's lines: "untagged: REF" for each tag and
 * "deleted: sha256:ID" for each image. The caller collects the blobs after
 * (store_prune), which is what frees the space.
 */
int sys_prune_images(struct db *db, struct store *s, bool all,
                     void (*report)(void *arg, const char *line), void *arg, struct err **err);

/* Bytes of the regular files of container id's writable layer. */
int64_t sys_container_size(const struct ctr_env *env, const char *id);
/* Bytes of image image_id's config and layers, as `isola images` (0: not in
 * the store): what `ps -s` adds to a container's size for its virtual size. */
int64_t sys_image_size(struct store *s, const char *image_id);

#endif
