/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The container's filesystem. Every destination is resolved inside the rootfs
 * with openat2(RESOLVE_IN_ROOT) (fs_open_in_root / fs_mkdir_in_root), and the
 * mount targets the resulting fd through /proc/self/fd/N, so a symlink in the
 * image can never redirect a mount to the host (runc's CVE-2021-30465 class).
 */
#include "runtime/mount.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <sched.h>
#include <libgen.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "runtime/cgroup.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define FDPATH(buf, fd) (snprintf((buf), sizeof(buf), "/proc/self/fd/%d", (fd)), (buf))

static int sys_mount_setattr(int dfd, const char *path, unsigned int flags, struct mount_attr *attr)
{
    return (int)syscall(SYS_mount_setattr, dfd, path, flags, attr, sizeof(*attr));
}

static int sys_pivot_root(const char *new_root, const char *put_old)
{
    return (int)syscall(SYS_pivot_root, new_root, put_old);
}

/* Flags the kernel locks on a mount inherited into a user namespace: keep them
 * on a remount or it fails with EPERM. */
static unsigned long locked_flags(const char *path)
{
    struct statvfs sv;
    unsigned long f = 0;

    if (statvfs(path, &sv) < 0)
        return 0;
    if (sv.f_flag & ST_NOSUID)
        f |= MS_NOSUID;
    if (sv.f_flag & ST_NODEV)
        f |= MS_NODEV;
    if (sv.f_flag & ST_NOEXEC)
        f |= MS_NOEXEC;
    if (sv.f_flag & ST_RDONLY)
        f |= MS_RDONLY;
    return f;
}

/* Where a missing destination is to be created: dest itself, or, when dest
 * (after earlier links) is a dangling symlink, the path it points to, read as
 * if the rootfs were / (crun creates the target the same way). *out is
 * allocated. */
static int follow_dangling(int rootfd, const char *dest, char **out, struct err **err)
{
    _cleanup_free_ char *cur = strdup(dest);

    for (int hops = 0; cur != NULL && hops < 40; hops++) {
        char target[PATH_MAX];
        _cleanup_free_ char *parent = strdup(cur);
        if (parent == NULL)
            break;
        char *slash = strrchr(parent, '/');
        const char *name = slash + 1;
        *slash = '\0';
        _cleanup_close_ int pfd =
            fs_open_in_root(rootfd, parent[0] ? parent : "/", O_PATH | O_DIRECTORY, 0, NULL);
        ssize_t n = pfd >= 0 ? readlinkat(pfd, name, target, sizeof(target) - 1) : -1;
        if (n <= 0) {
            *out = steal_ptr(&cur);
            return 0;
        }
        target[n] = '\0';
        free(cur);
        cur = NULL;
        if (target[0] == '/' ? asprintf(&cur, "%s", target) < 0
                             : asprintf(&cur, "%s/%s", parent, target) < 0)
            cur = NULL;
    }
    if (cur == NULL)
        return err_set(err, ENOMEM, "%s", dest);
    return err_val(err, ELOOP, "resolve `%s` inside the root: too many symlinks", dest);
}

/* Open (creating if needed) dest inside the root as a directory or a file. */
static int open_dest(int rootfd, const char *dest_in, bool dir, struct err **err)
{
    struct err *e = NULL;
    _cleanup_free_ char *dest = NULL;
    int fd;

    fd = fs_open_in_root(rootfd, dest_in, O_PATH, 0, &e);
    if (fd >= 0 && dir) {
        close(fd);
        return fs_mkdir_in_root(rootfd, dest_in, 0755, err);
    }
    if (fd >= 0)
        return fd;
    if (e->code != ENOENT) {
        if (dir) {
            err_free(&e);
            return fs_mkdir_in_root(rootfd, dest_in, 0755, err);
        }
        *err = e;
        return -1;
    }
    err_free(&e);
    if (follow_dangling(rootfd, dest_in, &dest, err) < 0)
        return -1;
    if (dir)
        return fs_mkdir_in_root(rootfd, dest, 0755, err);
    _cleanup_free_ char *parent = strdup(dest);
    if (parent == NULL)
        return err_set(err, ENOMEM, "%s", dest);
    _cleanup_close_ int pfd = fs_mkdir_in_root(rootfd, dirname(parent), 0755, err);
    if (pfd < 0)
        return -1;
    fd = fs_open_in_root(rootfd, dest, O_CREAT | O_WRONLY | O_NOFOLLOW, 0644, err);
    if (fd < 0)
        return -1;
    close(fd);
    return fs_open_in_root(rootfd, dest, O_PATH, 0, err);
}

static const char *atime_name(unsigned long ms)
{
    if (ms & MS_NOATIME)
        return "noatime";
    if (ms & MS_RELATIME)
        return "relatime";
    return "strictatime";
}

/* Inside a user namespace the kernel locks the atime setting of a mount that
 * came from the host (mount_namespaces(7), MNT_LOCK_ATIME): say so rather than
 * a bare EPERM (runc fails the same way; crun 1.8.1 drops the option). */
static int locked_atime_error(const char *path, const struct spec_mount *m, unsigned long asked,
                              struct err **err)
{
    struct statvfs sv;
    unsigned long have;

    if (errno != EPERM || statvfs(path, &sv) < 0)
        return 0;
    have = (sv.f_flag & ST_NOATIME) ? MS_NOATIME : (sv.f_flag & ST_RELATIME) ? MS_RELATIME : 0;
    asked &= MS_NOATIME | MS_RELATIME | MS_STRICTATIME;
    if (asked == 0 || (asked & (MS_NOATIME | MS_RELATIME)) == have)
        return 0;
    return err_val(err, EPERM,
                   "remount `%s`: in a user namespace the kernel keeps the source mount's atime "
                   "setting (`%s`); `%s` cannot be set (drop the option, or mount the source "
                   "with it on the host)",
                   m->destination, atime_name(have), atime_name(asked));
}

static int apply_after(int rootfd, const struct spec_mount *m, bool userns, struct err **err)
{
    char p[64];
    _cleanup_close_ int fd = fs_open_in_root(rootfd, m->destination, O_PATH, 0, err);

    if (fd < 0)
        return -1;
    /* A bind mount takes its flags only on a remount (mount(2) "MS_BIND"). */
    unsigned long fl = m->flags & ~(MS_REMOUNT | MS_SILENT);
    if (m->bind && fl != 0) {
        unsigned long keep = userns ? (locked_flags(FDPATH(p, fd)) & ~MS_RDONLY) : 0;
        if (mount(NULL, FDPATH(p, fd), NULL, MS_BIND | MS_REMOUNT | fl | keep, NULL) < 0) {
            if (userns && locked_atime_error(FDPATH(p, fd), m, fl, err) < 0)
                return -1;
            return err_sys(err, "remount `%s` with its options", m->destination);
        }
    }
    if (m->propagation && mount(NULL, FDPATH(p, fd), NULL, m->propagation, NULL) < 0)
        return err_sys(err, "set the propagation of `%s`", m->destination);
    if (m->attr_set || m->attr_clr) {
        struct mount_attr a = {.attr_set = m->attr_set, .attr_clr = m->attr_clr};
        if ((m->attr_set | m->attr_clr) &
            (MOUNT_ATTR_RELATIME | MOUNT_ATTR_NOATIME | MOUNT_ATTR_STRICTATIME))
            a.attr_clr |= MOUNT_ATTR__ATIME;
        if (sys_mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a) < 0) {
            unsigned long asked = (a.attr_set & MOUNT_ATTR_NOATIME)    ? MS_NOATIME
                                  : (a.attr_set & MOUNT_ATTR_RELATIME) ? MS_RELATIME
                                  : (a.attr_clr & MOUNT_ATTR__ATIME)   ? MS_STRICTATIME
                                                                       : 0;
            if (userns && locked_atime_error(FDPATH(p, fd), m, asked, err) < 0)
                return -1;
            return err_sys(err, "mount_setattr `%s` (recursive options)", m->destination);
        }
    }
    return 0;
}

/* Without a cgroup namespace, runc's way: bind the container's own cgroup
 * directory of each hierarchy, never the host's whole tree. The target is
 * `name` in the directory dirfd (reopened after the bind to reach the new mount). */
static int mount_one_hierarchy(bool own_ns, const char *type, const char *opts,
                               const char *host_dir, const char *cpath, int dirfd, const char *name,
                               unsigned long flags, struct err **err)
{
    char p[64];
    _cleanup_close_ int fd = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0)
        return err_sys(err, "open `%s`", name);
    if (own_ns) {
        if (mount(type, FDPATH(p, fd), type, flags, opts) < 0)
            return err_sys(err, "mount %s `%s`", type, opts ? opts : "");
        return 0;
    }
    char src[PATH_MAX];
    snprintf(src, sizeof(src), "%s%s", host_dir, cpath);
    if (mount(src, FDPATH(p, fd), NULL, MS_BIND | MS_REC, NULL) < 0)
        return err_sys(err, "bind the container's cgroup `%s`", src);
    _cleanup_close_ int top = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (top < 0 || mount(NULL, FDPATH(p, top), NULL,
                         MS_BIND | MS_REMOUNT |
                             (flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME)),
                         NULL) < 0)
        return err_sys(err, "remount the cgroup bind `%s`", src);
    return 0;
}

static int mount_cgroup(int rootfd, int dfd, const struct spec_mount *m, bool own_ns,
                        struct err **err)
{
    char p[64];
    unsigned long fl = (m->flags & ~MS_RDONLY) | MS_NOSUID | MS_NODEV | MS_NOEXEC;
    const char *layout = cgroup_layout_name();

    if (strcmp(layout, "v2") == 0) {
        char self[PATH_MAX] = "/";
        _cleanup_fclose_ FILE *f2 = fopen("/proc/self/cgroup", "re");
        if (f2 != NULL && fgets(self, sizeof(self), f2) != NULL && strncmp(self, "0::", 3) == 0) {
            memmove(self, self + 3, strlen(self + 3) + 1);
            self[strcspn(self, "\n")] = '\0';
        }
        _cleanup_close_ int parent = openat(dfd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_free_ char *copy = strdup(m->destination);
        const char *base = copy ? strrchr(copy, '/') + 1 : "";
        if (parent < 0 || copy == NULL || base[0] == '\0')
            return err_sys(err, "open the parent of `%s`", m->destination);
        if (mount_one_hierarchy(own_ns, "cgroup2", NULL, "/sys/fs/cgroup", self, parent, base,
                                m->flags | MS_NOSUID | MS_NODEV | MS_NOEXEC, err) < 0)
            return err_wrap(err, "mount cgroup2 at `%s`", m->destination);
        return 0;
    }
    /* v1 / hybrid: a tmpfs holding one mount per hierarchy, as runc and crun do. */
    if (mount("tmpfs", FDPATH(p, dfd), "tmpfs", fl, "mode=755") < 0)
        return err_sys(err, "mount tmpfs at `%s`", m->destination);
    _cleanup_close_ int tfd = fs_open_in_root(rootfd, m->destination, O_PATH | O_DIRECTORY, 0, err);
    if (tfd < 0)
        return -1;
    _cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
    if (f == NULL)
        return err_sys(err, "open /proc/self/cgroup");
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (c2 == NULL)
            continue;
        *c2 = '\0';
        const char *ctrl = c1 + 1;
        char *cpath = c2 + 1;
        cpath[strcspn(cpath, "\n")] = '\0';
        const char *type = "cgroup", *opts = ctrl;
        char name[128], host_dir[PATH_MAX];
        if (ctrl[0] == '\0') {
            if (!fs_exists("/sys/fs/cgroup/unified"))
                continue;
            type = "cgroup2";
            opts = NULL;
            snprintf(name, sizeof(name), "unified");
        } else {
            snprintf(name, sizeof(name), "%s", strncmp(ctrl, "name=", 5) == 0 ? ctrl + 5 : ctrl);
        }
        snprintf(host_dir, sizeof(host_dir), "/sys/fs/cgroup/%s", name);
        if (!own_ns && !fs_exists(host_dir))
            continue;
        if (mkdirat(tfd, name, 0755) < 0 && errno != EEXIST)
            return err_sys(err, "mkdir `%s/%s`", m->destination, name);
        if (mount_one_hierarchy(own_ns, type, opts, host_dir, cpath, tfd, name,
                                m->flags | MS_NOSUID | MS_NODEV | MS_NOEXEC, err) < 0)
            return err_wrap(err, "`%s/%s`", m->destination, name);
        if (strchr(name, ',') != NULL) {
            char *save = NULL;
            for (char *t = strtok_r(name, ",", &save); t; t = strtok_r(NULL, ",", &save))
                if (symlinkat(c1 + 1, tfd, t) < 0 && errno != EEXIST)
                    return err_sys(err, "symlink `%s/%s`", m->destination, t);
        }
    }
    if (m->flags & MS_RDONLY) {
        if (mount(NULL, FDPATH(p, tfd), NULL, MS_REMOUNT | MS_RDONLY | fl, "mode=755") < 0)
            return err_sys(err, "remount `%s` read-only", m->destination);
    }
    return 0;
}

/* Copy the tree below dir fd `from` into dir fd `to` (tmpcopyup): regular
 * files, directories, symlinks, with modes and owners. */
static int copy_tree(int from, int to, const char *where, int depth, struct err **err)
{
    _cleanup_closedir_ DIR *d = NULL;
    struct dirent *e;
    int dfd = dup(from);

    if (depth > 32)
        return err_val(err, ELOOP, "tmpcopyup `%s`: too deep", where);
    if (dfd < 0 || (d = fdopendir(dfd)) == NULL) {
        if (dfd >= 0)
            close(dfd);
        return err_sys(err, "tmpcopyup: read `%s`", where);
    }
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (fstatat(from, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            return err_sys(err, "tmpcopyup: stat `%s/%s`", where, e->d_name);
        if (S_ISDIR(st.st_mode)) {
            if (mkdirat(to, e->d_name, st.st_mode & 07777) < 0 && errno != EEXIST)
                return err_sys(err, "tmpcopyup: mkdir `%s/%s`", where, e->d_name);
            _cleanup_close_ int a =
                openat(from, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            _cleanup_close_ int b =
                openat(to, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (a < 0 || b < 0)
                return err_sys(err, "tmpcopyup: open `%s/%s`", where, e->d_name);
            if (copy_tree(a, b, where, depth + 1, err) < 0)
                return -1;
        } else if (S_ISLNK(st.st_mode)) {
            char target[PATH_MAX];
            ssize_t n = readlinkat(from, e->d_name, target, sizeof(target) - 1);
            if (n < 0)
                return err_sys(err, "tmpcopyup: readlink `%s/%s`", where, e->d_name);
            target[n] = '\0';
            if (symlinkat(target, to, e->d_name) < 0)
                return err_sys(err, "tmpcopyup: symlink `%s/%s`", where, e->d_name);
        } else if (S_ISREG(st.st_mode)) {
            _cleanup_close_ int a = openat(from, e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
            _cleanup_close_ int b =
                openat(to, e->d_name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 07777);
            if (a < 0 || b < 0)
                return err_sys(err, "tmpcopyup: copy `%s/%s`", where, e->d_name);
            for (off_t done = 0; done < st.st_size;) {
                ssize_t n = sendfile(b, a, NULL, (size_t)(st.st_size - done));
                if (n <= 0)
                    return err_sys(err, "tmpcopyup: copy `%s/%s`", where, e->d_name);
                done += n;
            }
        } else {
            continue; /* devices, fifos, sockets: not copied */
        }
        if (fchownat(to, e->d_name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 &&
            errno != EPERM && errno != EINVAL)
            return err_sys(err, "tmpcopyup: chown `%s/%s`", where, e->d_name);
    }
    return 0;
}

static int do_mount(int rootfd, const struct spec_mount *m, bool userns, bool cgns,
                    struct err **err)
{
    char p[64];
    bool dir = true;
    struct stat st;

    if (m->bind) {
        if (stat(m->source, &st) < 0)
            return err_sys(err, "bind source `%s`", m->source);
        dir = S_ISDIR(st.st_mode);
    }
    _cleanup_close_ int dfd = open_dest(rootfd, m->destination, dir, err);
    if (dfd < 0)
        return -1;
    if (m->bind && m->idmap) {
        if (mount_idmap_attach(dfd, m, err) < 0)
            return -1;
    } else if (m->bind) {
        if (mount(m->source, FDPATH(p, dfd), NULL, MS_BIND | (m->rec ? MS_REC : 0), NULL) < 0)
            return err_sys(err, "bind mount `%s` at `%s`", m->source, m->destination);
    } else if (strcmp(m->type, "cgroup") == 0) {
        return mount_cgroup(rootfd, dfd, m, cgns, err) < 0 ? -1
                                                           : apply_after(rootfd, m, userns, err);
    } else {
        _cleanup_close_ int below = -1;
        if (m->tmpcopyup) {
            below = fs_open_in_root(rootfd, m->destination, O_RDONLY | O_DIRECTORY, 0, err);
            if (below < 0)
                return -1;
        }
        unsigned long fl = m->flags & ~MS_REMOUNT;
        /* a read-only tmpfs is filled first, then made read-only */
        if (mount(m->source, FDPATH(p, dfd), m->type, below >= 0 ? fl & ~MS_RDONLY : fl, m->data) <
            0)
            return err_sys(err, "mount %s at `%s`", m->type, m->destination);
        if (below >= 0) {
            _cleanup_close_ int top =
                fs_open_in_root(rootfd, m->destination, O_RDONLY | O_DIRECTORY, 0, err);
            if (top < 0 || copy_tree(below, top, m->destination, 0, err) < 0)
                return -1;
            if ((fl & MS_RDONLY) && mount(NULL, FDPATH(p, top), NULL, MS_REMOUNT | fl, m->data) < 0)
                return err_sys(err, "remount `%s` read-only", m->destination);
        }
    }
    return apply_after(rootfd, m, userns, err);
}

/* A bound device node is nosuid,noexec, as crun makes it (a mknod'ed one
 * lives on the /dev tmpfs, which carries these flags); the flags the kernel
 * locked on the host's mount are kept. */
static int device_bind_flags(int dfd, const char *name, const char *path, struct err **err)
{
    char p[64];
    _cleanup_close_ int fd = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0)
        return err_sys(err, "open the bound device `%s`", path);
    unsigned long keep = locked_flags(FDPATH(p, fd));
    if (mount(NULL, FDPATH(p, fd), NULL, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NOEXEC | keep,
              NULL) < 0)
        return err_sys(err, "remount the bound device `%s` nosuid,noexec", path);
    return 0;
}

static int make_device(int rootfd, const char *path, mode_t type, dev_t dev, mode_t mode, uid_t uid,
                       gid_t gid, bool bind, const struct spec_device *prepared, struct err **err)
{
    _cleanup_free_ char *copy = strdup(path);
    char p[64];

    if (copy == NULL)
        return err_set(err, ENOMEM, "%s", path);
    char *name = strrchr(copy, '/');
    *name++ = '\0';
    _cleanup_close_ int pfd = fs_mkdir_in_root(rootfd, copy[0] ? copy : "/", 0755, err);
    if (pfd < 0)
        return err_wrap(err, "linux.devices `%s`", path);
    _cleanup_close_ int dfd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return err_sys(err, "open the directory of `%s`", path);
    if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT && errno != EISDIR)
        return err_sys(err, "replace `%s`", path);
    if (!bind) {
        if (mknodat(dfd, name, type | mode, dev) < 0) {
            if (errno != EPERM)
                return err_sys(err, "mknod `%s`", path);
            bind = true; /* no CAP_MKNOD: bind the host's node instead, as runc does */
        } else if (fchownat(dfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
                   fchmodat(dfd, name, mode, 0) < 0) {
            return err_sys(err, "set the owner and mode of `%s`", path);
        }
    }
    if (bind) {
        int fd = openat(dfd, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
            return err_sys(err, "create `%s`", path);
        close(fd);
        _cleanup_close_ int tfd = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (tfd < 0)
            return err_sys(err, "open `%s`", path);
        /* a node the runtime made (mount_dev.c), else the host's at this path */
        if (prepared != NULL)
            return mount_dev_attach(tfd, prepared, err);
        if (mount(path, FDPATH(p, tfd), NULL, MS_BIND, NULL) < 0)
            return err_sys(err, "bind the host's `%s`", path);
        if (device_bind_flags(dfd, name, path, err) < 0)
            return -1;
    }
    return 0;
}

static const struct {
    const char *path;
    unsigned maj, min;
} default_devices[] = {
    {"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
    {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};

/* A /dev bound from elsewhere (often the host's own) is used as it is: no node
 * in it is replaced and no link added, as runc's needsSetupDev decides. */
static bool dev_is_bound(const struct spec *s)
{
    for (size_t i = 0; i < s->nmounts; i++)
        if (s->mounts[i].bind && strcmp(s->mounts[i].destination, "/dev") == 0)
            return true;
    return false;
}

static int setup_dev(int rootfd, const struct mount_ctx *c, struct err **err)
{
    const struct spec *s = c->spec;

    if (dev_is_bound(s))
        return 0;
    for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++) {
        bool listed = false;
        for (size_t k = 0; k < s->ndevices; k++)
            listed = listed || strcmp(s->devices[k].path, default_devices[i].path) == 0;
        if (!listed && make_device(rootfd, default_devices[i].path, S_IFCHR,
                                   makedev(default_devices[i].maj, default_devices[i].min), 0666, 0,
                                   0, c->userns, NULL, err) < 0)
            return -1;
    }
    for (size_t k = 0; k < s->ndevices; k++) {
        const struct spec_device *d = &s->devices[k];
        bool bind = c->userns && d->type != S_IFIFO;
        if (make_device(rootfd, d->path, d->type, makedev(d->major, d->minor), d->mode, d->uid,
                        d->gid, bind, bind && d->node_fd >= 0 ? d : NULL, err) < 0)
            return -1;
    }
    static const char *const links[][2] = {
        {"/proc/self/fd", "fd"},
        {"/proc/self/fd/0", "stdin"},
        {"/proc/self/fd/1", "stdout"},
        {"/proc/self/fd/2", "stderr"},
    };
    _cleanup_close_ int dev = fs_open_in_root(rootfd, "/dev", O_PATH | O_DIRECTORY, 0, err);
    if (dev < 0)
        return -1;
    for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
        if (symlinkat(links[i][0], dev, links[i][1]) < 0 && errno != EEXIST)
            return err_sys(err, "symlink /dev/%s", links[i][1]);
    }
    return 0;
}

/*
 * /dev/ptmx -> pts/ptmx, the multiplexer of the container's own devpts, once
 * every mount is in place: a config may list /dev/pts after other mounts
 * (podman's order is /proc, /dev, /sys, /dev/pts), so it is not there yet when
 * the devices are made. runc's setupPtmx does this after all mounts too. A /dev
 * bind-mounted from the host is left alone, and so is a rootfs without devpts.
 */
static int setup_ptmx(int rootfd, const struct spec *s, struct err **err)
{
    struct stat st;

    if (dev_is_bound(s))
        return 0;
    _cleanup_close_ int dev = fs_open_in_root(rootfd, "/dev", O_PATH | O_DIRECTORY, 0, err);
    if (dev < 0)
        return -1;
    if (fstatat(dev, "pts/ptmx", &st, AT_SYMLINK_NOFOLLOW) < 0)
        return 0;
    unlinkat(dev, "ptmx", 0);
    if (symlinkat("pts/ptmx", dev, "ptmx") < 0 && errno != EEXIST)
        return err_sys(err, "symlink /dev/ptmx");
    return 0;
}

static int bind_self_ro(const char *path, struct err **err)
{
    char p[64];
    _cleanup_close_ int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        return err_sys(err, "linux.readonlyPaths: open `%s`", path);
    }
    if (mount(FDPATH(p, fd), FDPATH(p, fd), NULL, MS_BIND | MS_REC, NULL) < 0)
        return err_sys(err, "linux.readonlyPaths: bind `%s`", path);
    _cleanup_close_ int fd2 = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd2 < 0)
        return err_sys(err, "linux.readonlyPaths: reopen `%s`", path);
    unsigned long keep = locked_flags(FDPATH(p, fd2));
    if (mount(NULL, FDPATH(p, fd2), NULL,
              MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | keep, NULL) < 0)
        return err_sys(err, "linux.readonlyPaths: remount `%s` read-only", path);
    return 0;
}

static int mask_path(const char *path, struct err **err)
{
    char p[64];
    struct stat st;
    _cleanup_close_ int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        return err_sys(err, "linux.maskedPaths: open `%s`", path);
    }
    if (fstat(fd, &st) < 0)
        return err_sys(err, "linux.maskedPaths: stat `%s`", path);
    if (S_ISDIR(st.st_mode)) {
        if (mount("tmpfs", FDPATH(p, fd), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  "size=0,mode=555") < 0)
            return err_sys(err, "linux.maskedPaths: mask `%s`", path);
    } else if (mount("/dev/null", FDPATH(p, fd), NULL, MS_BIND, NULL) < 0) {
        return err_sys(err, "linux.maskedPaths: mask `%s` with /dev/null", path);
    }
    return 0;
}

/* No mount namespace (runc and crun run such a config; runtime-spec requires
 * none): whatever is mounted here would land in the host's mount table and
 * outlive the container, so spec.c refuses mounts and the mount-based fields
 * then, and the process only gets root.path as its root by chroot(2), as both
 * peers do. */
static int setup_root_without_mountns(const struct mount_ctx *c, struct err **err)
{
    const struct spec *s = c->spec;

    if (c->before_pivot && c->before_pivot(c->arg, err) < 0)
        return -1;
    if (chdir(s->rootfs) < 0)
        return err_sys(err, "root.path: chdir into `%s`", s->rootfs);
    if (chroot(".") < 0)
        return err_sys(err, "root.path: chroot into `%s` (no mount namespace)", s->rootfs);
    if (chdir("/") < 0)
        return err_sys(err, "chdir /");
    return 0;
}

/* The propagation of the host's tree in the container's mount namespace, before
 * the rootfs is bound: shared becomes slave (nothing may reach the host), and
 * unbindable becomes private: an unbindable / could not be bound onto itself;
 * rootfsPropagation itself is applied once the root is in place. */
static unsigned long root_propagation_before(unsigned long prop)
{
    if (prop & MS_SHARED)
        return MS_SLAVE | MS_REC;
    if (prop & MS_UNBINDABLE)
        return MS_PRIVATE | MS_REC;
    return prop | MS_REC;
}

int mount_setup_rootfs(const struct mount_ctx *c, struct err **err)
{
    const struct spec *s = c->spec;
    unsigned long prop = s->rootfs_propagation ? s->rootfs_propagation : (MS_SLAVE | MS_REC);

    if (spec_ns_find(s, CLONE_NEWNS) == NULL)
        return setup_root_without_mountns(c, err);

    /* Nothing below may propagate back to the host. */
    if (mount(NULL, "/", NULL, root_propagation_before(prop), NULL) < 0)
        return err_sys(err, "make / %s", "a slave mount");
    if (mount(s->rootfs, s->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
        return err_sys(err, "root.path: bind `%s` onto itself", s->rootfs);
    if (mount(NULL, s->rootfs, NULL, MS_PRIVATE, NULL) < 0)
        return err_sys(err, "root.path: make `%s` private", s->rootfs);
    _cleanup_close_ int rootfd = open(s->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return err_sys(err, "root.path: open `%s`", s->rootfs);

    bool dev_done = false;
    for (size_t i = 0; i < s->nmounts; i++) {
        if (do_mount(rootfd, &s->mounts[i], c->userns, spec_ns_find(s, CLONE_NEWCGROUP) != NULL,
                     err) < 0)
            return err_wrap(err, "mounts[%zu]", i);
        /* devices go in once /dev and its sub-mounts (/dev/pts) exist */
        bool next_in_dev =
            i + 1 < s->nmounts && strncmp(s->mounts[i + 1].destination, "/dev", 4) == 0;
        if (strncmp(s->mounts[i].destination, "/dev", 4) == 0 && !next_in_dev && !dev_done) {
            if (setup_dev(rootfd, c, err) < 0)
                return -1;
            dev_done = true;
        }
    }
    if (!dev_done && setup_dev(rootfd, c, err) < 0)
        return -1;
    if (setup_ptmx(rootfd, s, err) < 0)
        return -1;
    if (c->before_pivot && c->before_pivot(c->arg, err) < 0)
        return -1;

    if (fchdir(rootfd) < 0)
        return err_sys(err, "chdir into `%s`", s->rootfs);
    if (c->no_pivot) {
        if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
            return err_sys(err, "move `%s` to / (--no-pivot)", s->rootfs);
        if (chroot(".") < 0)
            return err_sys(err, "chroot `%s`", s->rootfs);
    } else {
        /* pivot_root(".", ".") stacks the old root on the new one; detach it
         * (pivot_root(2) NOTES). "." would still name the new root's mount
         * (whose tree rslave would turn an `rshared` mount private): work
         * from an fd of the old root, as runc does. */
        _cleanup_close_ int oldroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (oldroot < 0)
            return err_sys(err, "open the old root");
        if (sys_pivot_root(".", ".") < 0)
            return err_sys(err, "pivot_root into `%s`", s->rootfs);
        if (fchdir(oldroot) < 0)
            return err_sys(err, "chdir into the old root");
        if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
            return err_sys(err, "make the old root a slave");
        if (umount2(".", MNT_DETACH) < 0)
            return err_sys(err, "detach the old root");
    }
    if (chdir("/") < 0)
        return err_sys(err, "chdir /");
    if (s->rootfs_propagation && mount(NULL, "/", NULL, s->rootfs_propagation, NULL) < 0)
        return err_sys(err, "linux.rootfsPropagation: apply");
    return 0;
}

int mount_finalize(const struct mount_ctx *c, struct err **err)
{
    const struct spec *s = c->spec;

    for (char **p = s->readonly_paths; p && *p; p++)
        if (bind_self_ro(*p, err) < 0)
            return -1;
    for (char **p = s->masked_paths; p && *p; p++)
        if (mask_path(*p, err) < 0)
            return -1;
    if (s->root_readonly) {
        unsigned long keep = c->userns ? locked_flags("/") : 0;
        if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | keep, NULL) < 0)
            return err_sys(err, "root.readonly: remount / read-only");
    }
    return 0;
}

int mount_console(const char *slave, struct err **err)
{
    int fd = open("/dev/console", O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);

    if (fd < 0) {
        if (errno == EROFS)
            return 0;
        return err_sys(err, "create /dev/console");
    }
    close(fd);
    if (mount(slave, "/dev/console", NULL, MS_BIND, NULL) < 0)
        return err_sys(err, "bind `%s` at /dev/console", slave);
    return 0;
}
