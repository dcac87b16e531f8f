/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Moving images in and out of the store: OCI image layouts (image-spec
 * image-layout.md) as a directory or a tar, and docker-archive (the format of
 * `docker save`: manifest.json listing Config, RepoTags and Layers).
 */
#ifndef ISOLA_IMAGE_TRANSFER_H
#define ISOLA_IMAGE_TRANSFER_H

#include "image/store.h"

/* The path that means stdin (load, import) or stdout (save), as Docker's `-`. */
#define TRANSFER_STDIO "-"

enum transfer_format {
    FMT_AUTO = 0,
    FMT_OCI_DIR,     /* OCI layout directory */
    FMT_OCI_ARCHIVE, /* OCI layout in a tar */
    FMT_DOCKER,      /* docker-archive tar */
};

int transfer_parse_format(const char *s, enum transfer_format *f, struct err **err);

/*
 * Load every image of path (a directory or a tar, OCI layout or docker-archive)
 * into the store. tag (may be NULL) names the image (only valid for a single
 * image). platform NULL: linux/amd64. The names loaded are appended to *names
 * (strv). Blobs are checked against their digests; nothing is tagged unless all
 * of its blobs are in the store.
 */
int transfer_load(struct store *s, const char *path, const char *tag, const char *platform,
                  char ***names, struct err **err);

/*
 * A root filesystem (a directory, or a tar, compressed or not) as a new
 * single-layer image named name (`docker import`). cmd (may be NULL) becomes
 * the config's Cmd. *digest gets the manifest digest.
 */
int transfer_import(struct store *s, const char *path, const char *name, char *const cmd[],
                    char digest[DIGEST_LEN + 1], struct err **err);

/* Write the images `refs` (NULL-terminated) to path in format f. */
int transfer_save(struct store *s, char *const refs[], const char *path, enum transfer_format f,
                  struct err **err);

#endif
