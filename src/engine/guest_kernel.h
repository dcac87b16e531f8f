/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest side of a microVM workload, built on the host (docs/microvm.md):
 * the kernel (a prepared Debian kernel directory), the initramfs (the agent as
 * /init and the modules it loads, cached per kernel version and agent), and
 * the read-only root image (ext4, cached per image).
 */
#ifndef ISOLA_ENGINE_GUEST_KERNEL_H
#define ISOLA_ENGINE_GUEST_KERNEL_H

#include <limits.h>
#include <stddef.h>

#include "util/err.h"

/* A prepared kernel directory: DIR/vmlinuz and DIR/lib/modules/KVER (the
 * layout of scripts/testhost/prepare, from Debian's linux-image-amd64). */
struct guest_kernel {
    char vmlinuz[PATH_MAX];
    char moddir[PATH_MAX]; /* DIR/lib/modules/KVER */
    char kver[256];
};

int guest_kernel_open(const char *dir, struct guest_kernel *k, struct err **err);

/* The initramfs for k with agent as /init, in cache_dir (made if missing;
 * keyed by the kernel version and the agent's size and mtime). out: its path. */
int guest_initrd_get(const struct guest_kernel *k, const char *agent, const char *cache_dir,
                     char *out, size_t len, struct err **err);

/* The read-only ext4 image of rootfs: cache_dir/rootfs-KEY.ext4 when key (an
 * image digest) is given and the image exists, else made there (mode 0444);
 * without a key, made at fallback. out: its path. */
int guest_rootimg_get(const char *rootfs, const char *key, const char *cache_dir,
                      const char *fallback, char *out, size_t len, struct err **err);

#endif
