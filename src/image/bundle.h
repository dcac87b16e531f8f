/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Image -> OCI runtime bundle (image-spec conversion.md): DIR/rootfs (overlayfs
 * of the image's layers with a private upper layer, or a copy) and
 * DIR/config.json for isola-oci or any runc-compatible runtime.
 */
#ifndef ISOLA_IMAGE_BUNDLE_H
#define ISOLA_IMAGE_BUNDLE_H

#include <stdbool.h>

#include "image/image.h"
#include "image/store.h"

struct bundle_opts {
    char *const *args;      /* replaces the image's Cmd (NULL: keep it) */
    const char *entrypoint; /* replaces the Entrypoint (NULL: keep, "": none) */
    char *const *env;       /* extra KEY=VALUE, after the image's */
    const char *user;       /* replaces User */
    const char *workdir;    /* replaces WorkingDir */
    const char *hostname;
    bool copy; /* copy the layers instead of overlayfs */
    bool terminal;
};

/*
 * The runtime spec (config.json) for img, whose root is rootfs (for user
 * names, looked up in its /etc/passwd and /etc/group). *out is new.
 */
int bundle_spec(json_t *image_config, const char *name, const char *rootfs,
                const struct bundle_opts *o, json_t **out, struct err **err);

/* Create the bundle in dir (created if missing, must not hold a bundle). */
int bundle_create(struct store *s, const char *image, const char *dir, const struct bundle_opts *o,
                  struct err **err);

/* Unmount dir/rootfs if mounted and remove dir. */
int bundle_remove(const char *dir, struct err **err);

#endif
