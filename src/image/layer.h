/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Layers (image-spec layer.md): tar archives, uncompressed, gzip or zstd,
 * unpacked with libarchive. Every entry is created relative to a directory fd
 * whose parents were resolved with openat2(RESOLVE_IN_ROOT) and never follows
 * the final component, so `..`, absolute names and symlinks cannot place a file
 * outside the root; names with `..` or a leading `/` are refused outright.
 *
 * Whiteouts (layer.md "Whiteouts"): in overlay mode a `.wh.NAME` entry becomes
 * an overlayfs whiteout (a 0/0 character device NAME) and `.wh..wh..opq` sets
 * trusted.overlay.opaque=y on its directory; in flatten mode (applying layers on
 * top of each other in one directory) they delete what earlier layers put there.
 */
#ifndef ISOLA_IMAGE_LAYER_H
#define ISOLA_IMAGE_LAYER_H

#include <stdbool.h>

#include "image/image.h"
#include "image/store.h"

struct layer_opts {
    bool flatten;       /* apply whiteouts instead of recording them */
    bool allow_devices; /* create block/char devices from the archive */
    bool any_filter;    /* also bzip2 and xz (ADD of a local archive), not only layer types */
};

/* Extract the (possibly compressed) tar read from fd into the directory rootfd. */
int layer_extract_fd(int fd, const char *what, int rootfd, const struct layer_opts *o,
                     struct err **err);

/*
 * Prepare a container root from img in dir: unpack its layers, then mount
 * overlayfs at dir/rootfs with the layers read-only and dir/upper, dir/work
 * private. Where overlayfs is unavailable (or copy is set), dir/rootfs becomes
 * a private flattened copy. *mounted tells which happened.
 */
int layer_rootfs(struct store *s, const struct image *img, const char *dir, bool copy,
                 bool *mounted, struct err **err);
/* The same for a list of layer descriptors (bottom first). */
int layer_rootfs_descs(struct store *s, const struct desc *layers, size_t n, const char *dir,
                       bool copy, bool *mounted, struct err **err);

#endif
