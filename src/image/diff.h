/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A directory tree -> an uncompressed layer tar in the store (image-spec
 * layer.md "Changesets"). With overlay set, the tree is an overlayfs upper
 * directory: 0/0 character devices become `.wh.NAME` entries and directories
 * marked trusted.overlay.opaque=y get a `.wh..wh..opq` entry.
 */
#ifndef ISOLA_IMAGE_DIFF_H
#define ISOLA_IMAGE_DIFF_H

#include <stdbool.h>

#include "image/store.h"

/* Entries are written in sorted order; the layer's digest is its diff_id. */
int diff_dir_to_layer(struct store *s, const char *dir, bool overlay, char digest[DIGEST_LEN + 1],
                      int64_t *size, struct err **err);

#endif
