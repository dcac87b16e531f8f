/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The container's filesystem (config.md "Root", "Mounts"; config-linux.md "Devices",
 * "Masked Paths", "Readonly Paths", "Rootfs Mount Propagation"). Runs in the
 * container's init, in its new mount namespace. */
#ifndef ISOLA_RUNTIME_MOUNT_H
#define ISOLA_RUNTIME_MOUNT_H

#include <stdbool.h>

#include "runtime/spec.h"

struct mount_ctx {
    const struct spec *spec;
    bool no_pivot;
    bool userns; /* in a new user namespace: devices are bind mounts, locked flags kept */
    /* Called after the mounts and before pivot_root (createContainer hooks). */
    int (*before_pivot)(void *arg, struct err **err);
    void *arg;
};

/* Every mount, the devices, pivot_root (or chroot with --no-pivot), then
 * rootfsPropagation. */
int mount_setup_rootfs(const struct mount_ctx *c, struct err **err);
/* After sysctl (which writes /proc/sys): readonlyPaths, maskedPaths and
 * root.readonly, in runc's order. */
int mount_finalize(const struct mount_ctx *c, struct err **err);

/* Idmapped mounts (mount_idmap.c). In the runtime, before the init is cloned:
 * a detached, idmapped tree per `idmap` mount (spec_mount.idmap_fd), which the
 * init inherits. Released in the runtime once the init exists. */
int mount_idmap_prepare(struct spec *s, struct err **err);
void mount_idmap_release(struct spec *s);
/* In the init: move the prepared tree onto the destination fd dfd. */
int mount_idmap_attach(int dfd, const struct spec_mount *m, struct err **err);

/* linux.devices in a user namespace (mount_dev.c). In the runtime, before the
 * init is cloned: each node made on a private tmpfs, as a detached bind
 * (spec_device.node_fd) the init inherits. Released once the init exists. */
int mount_dev_prepare(struct spec *s, struct err **err);
void mount_dev_release(struct spec *s);
/* In the init: move the prepared node onto the file fd. */
int mount_dev_attach(int fd, const struct spec_device *d, struct err **err);

/* Bind the pty slave at /dev/console (after the rootfs is set up). */
int mount_console(const char *slave, struct err **err);

#endif
