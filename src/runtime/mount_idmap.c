/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Idmapped bind mounts (runtime-spec config.md "Mounts": uidMappings,
 * gidMappings, options idmap/ridmap; mount_setattr(2) MOUNT_ATTR_IDMAP).
 *
 * Idmapping a mount needs CAP_SYS_ADMIN over the user namespace that carries
 * the mapping and over the file system's own user namespace, which a container
 * init inside its user namespace does not have. So the runtime prepares each
 * tree before the init is cloned (open_tree(OPEN_TREE_CLONE), then
 * mount_setattr with a user namespace holding the mount's mapping), the init
 * inherits the fds and move_mount()s them into place: crun's and runc 1.2's way.
 */
#include "runtime/mount.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs.h"
#include "util/proc.h"

#ifndef OVERLAYFS_SUPER_MAGIC
#define OVERLAYFS_SUPER_MAGIC 0x794c7630
#endif

static int sys_open_tree(int dfd, const char *path, unsigned int flags)
{
    return (int)syscall(SYS_open_tree, dfd, path, flags);
}

static int sys_mount_setattr(int dfd, const char *path, unsigned int flags, struct mount_attr *attr)
{
    return (int)syscall(SYS_mount_setattr, dfd, path, flags, attr, sizeof(*attr));
}

static int sys_move_mount(int from_dfd, const char *from, int to_dfd, const char *to,
                          unsigned int flags)
{
    return (int)syscall(SYS_move_mount, from_dfd, from, to_dfd, to, flags);
}

/* A name for the file system of fd, for error messages. */
static const char *fs_name(int fd, char *buf, size_t len)
{
    static const struct {
        unsigned long magic;
        const char *name;
    } names[] = {
        {EXT4_SUPER_MAGIC, "ext4"},
        {TMPFS_MAGIC, "tmpfs"},
        {XFS_SUPER_MAGIC, "xfs"},
        {BTRFS_SUPER_MAGIC, "btrfs"},
        {OVERLAYFS_SUPER_MAGIC, "overlay"},
        {NFS_SUPER_MAGIC, "nfs"},
        {V9FS_MAGIC, "9p"},
        {FUSE_SUPER_MAGIC, "fuse"},
        {PROC_SUPER_MAGIC, "proc"},
        {SYSFS_MAGIC, "sysfs"},
        {RAMFS_MAGIC, "ramfs"},
        {SQUASHFS_MAGIC, "squashfs"},
    };
    struct statfs sf;

    if (fstatfs(fd, &sf) < 0)
        return "unknown";
    for (size_t i = 0; i < ARRAY_SIZE(names); i++)
        if ((unsigned long)sf.f_type == names[i].magic)
            return names[i].name;
    snprintf(buf, len, "magic 0x%lx", (unsigned long)sf.f_type);
    return buf;
}

static int write_map(pid_t pid, const char *file, const struct spec_idmap *map, size_t n,
                     struct err **err)
{
    char path[64], buf[4096];
    size_t off = 0;

    for (size_t i = 0; i < n && off < sizeof(buf); i++)
        off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%u %u %u\n", map[i].container_id,
                                map[i].host_id, map[i].size);
    if (off >= sizeof(buf))
        return err_val(err, E2BIG, "%s: too many mappings", file);
    snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
    return fs_write_str(path, buf, err);
}

/* An fd of a new user namespace carrying the given mapping: a child unshares
 * it and waits while we write its maps, then is killed. */
static int userns_fd(const struct spec_mount *m, const struct spec *s, struct err **err)
{
    const struct spec_idmap *um = m->nuidmap ? m->uidmap : s->uidmap;
    const struct spec_idmap *gm = m->nuidmap ? m->gidmap : s->gidmap;
    size_t nu = m->nuidmap ? m->nuidmap : s->nuidmap;
    size_t ng = m->nuidmap ? m->ngidmap : s->ngidmap;
    int pfd[2];
    char path[64];

    if (pipe2(pfd, O_CLOEXEC) < 0)
        return err_sys(err, "pipe");
    _cleanup_close_ int rd = pfd[0], wr = pfd[1];
    _cleanup_pid_ pid_t pid =
        (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0);
    if (pid < 0)
        return err_sys(err, "clone a user namespace for the mapping");
    if (pid == 0) {
        char c;
        close(wr);
        /* wait until the parent is done: EOF when it closes or dies */
        while (read(rd, &c, 1) < 0 && errno == EINTR)
            ;
        _exit(0);
    }
    if (write_map(pid, "uid_map", um, nu, err) < 0 || write_map(pid, "gid_map", gm, ng, err) < 0)
        return err_wrap(err, "write the mapping");
    snprintf(path, sizeof(path), "/proc/%d/ns/user", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_sys(err, "open `%s`", path);
    return fd;
}

static int prepare_one(struct spec_mount *m, const struct spec *s, struct err **err)
{
    char buf[32];

    const struct spec_ns *u = spec_ns_find(s, CLONE_NEWUSER);
    _cleanup_close_ int ufd = -1;

    if (m->nuidmap == 0 && u != NULL && u->path != NULL) {
        /* a joined user namespace: its own mapping */
        ufd = open(u->path, O_RDONLY | O_CLOEXEC);
        if (ufd < 0)
            return err_sys(err, "idmapped mount `%s`: open the user namespace `%s`", m->destination,
                           u->path);
    } else if (m->nuidmap == 0 && s->nuidmap == 0) {
        return err_val(err, EINVAL,
                       "idmapped mount `%s`: no uidMappings/gidMappings on the mount and no "
                       "user namespace whose mapping it could take",
                       m->destination);
    } else {
        ufd = userns_fd(m, s, err);
    }
    if (ufd < 0)
        return err_wrap(err, "idmapped mount `%s`", m->destination);
    _cleanup_close_ int tree = sys_open_tree(
        AT_FDCWD, m->source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (m->rec ? AT_RECURSIVE : 0));
    if (tree < 0)
        return err_sys(err, "idmapped mount `%s`: open_tree `%s`", m->destination, m->source);
    struct mount_attr a = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)ufd};
    if (sys_mount_setattr(tree, "", AT_EMPTY_PATH | (m->ridmap ? AT_RECURSIVE : 0), &a) < 0) {
        if (errno == EINVAL)
            return err_val(err, ENOTSUP,
                           "idmapped mount `%s`: the kernel cannot idmap `%s` (a %s file "
                           "system%s): mount_setattr MOUNT_ATTR_IDMAP: %s",
                           m->destination, m->source, fs_name(tree, buf, sizeof(buf)),
                           m->ridmap ? ", or one of its submounts" : "", strerror(EINVAL));
        return err_sys(err, "idmapped mount `%s`: mount_setattr MOUNT_ATTR_IDMAP on `%s`",
                       m->destination, m->source);
    }
    m->idmap_fd = steal_fd(&tree);
    return 0;
}

int mount_idmap_prepare(struct spec *s, struct err **err)
{
    for (size_t i = 0; i < s->nmounts; i++)
        s->mounts[i].idmap_fd = -1;
    for (size_t i = 0; i < s->nmounts; i++) {
        if (!s->mounts[i].idmap)
            continue;
        if (prepare_one(&s->mounts[i], s, err) < 0) {
            mount_idmap_release(s);
            return err_wrap(err, "mounts[%zu]", i);
        }
    }
    return 0;
}

void mount_idmap_release(struct spec *s)
{
    for (size_t i = 0; i < s->nmounts; i++)
        if (s->mounts[i].idmap && s->mounts[i].idmap_fd >= 0) {
            close(s->mounts[i].idmap_fd);
            s->mounts[i].idmap_fd = -1;
        }
}

int mount_idmap_attach(int dfd, const struct spec_mount *m, struct err **err)
{
    if (m->idmap_fd < 0)
        return err_val(err, EINVAL, "idmapped mount `%s` was not prepared", m->destination);
    if (sys_move_mount(m->idmap_fd, "", dfd, "",
                       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        return err_sys(err, "move the idmapped mount of `%s` to `%s`", m->source, m->destination);
    return 0;
}
