/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Image -> OCI runtime bundle (image-spec conversion.md): DIR/rootfs (overlayfs
 * of the image's layers with a private upper layer, or a copy) and
 * DIR/config.json (composed by the engine, engine/compose.h) for isola-oci or any
 * runc-compatible runtime.
 */
#ifndef ISOLA_IMAGE_BUNDLE_H
#define ISOLA_IMAGE_BUNDLE_H

#include <stdbool.h>

#include "image/image.h"
#include "image/store.h"

/*
 * The root filesystem of a bundle for image in dir (created if missing, must
 * not hold a bundle): dir/rootfs, an overlay of the layers (*mounted true) or a
 * copy. *config gets the image config, *name the name to show for it (its
 * reference, or its config digest). config.json is the caller's: the engine
 * composes it (engine/compose.h).
 */
int bundle_rootfs(struct store *s, const char *image, const char *dir, bool copy, json_t **config,
                  char **name, bool *mounted, struct err **err);

/* Unmount dir/rootfs if mounted and remove dir. */
int bundle_remove(const char *dir, struct err **err);

#endif
