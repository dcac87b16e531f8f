/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * linux.devices in a user namespace (config-linux.md "Devices"). The init
 * cannot mknod there, and binding the host's node at the same path binds
 * whatever the host has there (another device, or nothing). So the runtime,
 * before the init is cloned, makes each node with the configured type and
 * numbers on a private, detached tmpfs (fsopen/fsmount: no path on the host)
 * and clones a detached bind of it (open_tree); the init inherits the fds and
 * move_mount()s each onto its path. crun does the same with a tmpfs of its own.
 */
#include "runtime/mount.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "util/cleanup.h"

static int sys_fsopen(const char *fs, unsigned int flags)
{
    return (int)syscall(SYS_fsopen, fs, flags);
}

static int sys_fsconfig(int fd, unsigned int cmd, const char *key, const void *value, int aux)
{
    return (int)syscall(SYS_fsconfig, fd, cmd, key, value, aux);
}

static int sys_fsmount(int fd, unsigned int flags, unsigned int attrs)
{
    return (int)syscall(SYS_fsmount, fd, flags, attrs);
}

static int sys_open_tree(int dfd, const char *path, unsigned int flags)
{
    return (int)syscall(SYS_open_tree, dfd, path, flags);
}

static int sys_move_mount(int from_dfd, const char *from, int to_dfd, const char *to,
                          unsigned int flags)
{
    return (int)syscall(SYS_move_mount, from_dfd, from, to_dfd, to, flags);
}

/* A container id as the host sees it through the user namespace's map; ids
 * the map does not cover stay as they are (and show as nobody inside). */
static uint32_t to_host(const struct spec_idmap *map, size_t n, uint32_t id)
{
    for (size_t i = 0; i < n; i++)
        if (id >= map[i].container_id && id - map[i].container_id < map[i].size)
            return map[i].host_id + (id - map[i].container_id);
    return id;
}

static bool needs_node(const struct spec *s, const struct spec_device *d)
{
    return spec_ns_find(s, CLONE_NEWUSER) != NULL && d->type != S_IFIFO;
}

int mount_dev_prepare(struct spec *s, struct err **err)
{
    bool any = false;

    for (size_t i = 0; i < s->ndevices; i++) {
        s->devices[i].node_fd = -1;
        any = any || needs_node(s, &s->devices[i]);
    }
    if (!any)
        return 0;
    _cleanup_close_ int fs = sys_fsopen("tmpfs", FSOPEN_CLOEXEC);
    if (fs < 0)
        return err_sys(err, "linux.devices: fsopen tmpfs for the device nodes");
    if (sys_fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0755", 0) < 0 ||
        sys_fsconfig(fs, FSCONFIG_SET_STRING, "size", "64k", 0) < 0 ||
        sys_fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
        return err_sys(err, "linux.devices: create the tmpfs for the device nodes");
    _cleanup_close_ int mnt =
        sys_fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
    if (mnt < 0)
        return err_sys(err, "linux.devices: fsmount the tmpfs for the device nodes");
    for (size_t i = 0; i < s->ndevices; i++) {
        struct spec_device *d = &s->devices[i];
        char name[32];
        if (!needs_node(s, d))
            continue;
        snprintf(name, sizeof(name), "%zu", i);
        if (mknodat(mnt, name, d->type | d->mode, makedev(d->major, d->minor)) < 0 ||
            fchmodat(mnt, name, d->mode, 0) < 0 ||
            fchownat(mnt, name, to_host(s->uidmap, s->nuidmap, d->uid),
                     to_host(s->gidmap, s->ngidmap, d->gid), AT_SYMLINK_NOFOLLOW) < 0) {
            err_sys(err, "linux.devices[%zu]: make the node for `%s`", i, d->path);
            mount_dev_release(s);
            return -1;
        }
        d->node_fd = sys_open_tree(mnt, name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (d->node_fd < 0) {
            err_sys(err, "linux.devices[%zu]: open_tree the node for `%s`", i, d->path);
            mount_dev_release(s);
            return -1;
        }
    }
    return 0;
}

void mount_dev_release(struct spec *s)
{
    for (size_t i = 0; i < s->ndevices; i++)
        if (needs_node(s, &s->devices[i]) && s->devices[i].node_fd >= 0) {
            close(s->devices[i].node_fd);
            s->devices[i].node_fd = -1;
        }
}

int mount_dev_attach(int fd, const struct spec_device *d, struct err **err)
{
    if (sys_move_mount(d->node_fd, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) <
        0)
        return err_sys(err, "linux.devices: move the node for `%s` into place", d->path);
    return 0;
}
