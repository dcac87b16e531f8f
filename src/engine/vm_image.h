/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An image's root file system as a VM's root disk (isola vm run --image;
 * docs/vm.md, "VMs from images"):
 *
 *   <state_root>/vm-disks/<digest>.ext4   ext4 made with mke2fs -d from the
 *                                         image's flattened root, once per
 *                                         image config digest (read-only cache)
 *   <state_root>/vm-disks/<digest>.json   {"init": [...]}: the image's own init
 *   <bundle>/root.ext4                    the VM's copy, written by the guest
 *
 * The VM's copy is `cp --reflink=auto --sparse=always` of the cached file: a
 * copy-on-write clone where the host's file system can (btrfs, xfs), else a
 * sparse copy of the used blocks. A VM never writes the cache, and removing the
 * VM removes its copy with its bundle.
 */
#ifndef ISOLA_ENGINE_VM_IMAGE_H
#define ISOLA_ENGINE_VM_IMAGE_H

#include <jansson.h>

#include "image/store.h"
#include "util/err.h"

/* The root disk of image at dest (a new file), the image's config digest in
 * *digest and the init to run, as argv, in *init (caller frees both):
 * /sbin/init when the image has one, else the image's Entrypoint + Cmd.
 * mke2fs is mkfs_exe ("mke2fs" from PATH when NULL). */
int vm_image_disk(struct store *s, const char *state_root, const char *image, const char *dest,
                  const char *mkfs_exe, char **digest, json_t **init, struct err **err);

#endif
