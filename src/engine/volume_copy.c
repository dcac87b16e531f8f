/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Copy-up of an image directory into a volume (volume_copy.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "engine/volume_copy.h"
#include "util/cleanup.h"

/* Files with more than one link: (dev, ino) -> path below the destination. */
struct link {
    dev_t dev;
    ino_t ino;
    char *path;
};

struct copy {
    int dstroot;
    struct link *links;
    size_t n, cap;
};

static int copy_xattrs(int src, int dst, const char *what, struct err **err)
{
    char names[65536], val[65536];
    ssize_t len = flistxattr(src, names, sizeof(names));

    if (len < 0)
        return errno == ENOTSUP ? 0 : err_sys(err, "listxattr `%s`", what);
    for (char *n = names; n < names + len; n += strlen(n) + 1) {
        ssize_t vl = fgetxattr(src, n, val, sizeof(val));
        if (vl < 0)
            return err_sys(err, "getxattr `%s` %s", what, n);
        if (fsetxattr(dst, n, val, (size_t)vl, 0) < 0 && errno != ENOTSUP)
            return err_sys(err, "setxattr `%s` %s", what, n);
    }
    return 0;
}

/* Owner, then mode (chown clears setuid bits), xattrs (chown clears
 * security.capability), then times. */
static int copy_meta(int src, int dst, const struct stat *st, const char *what, struct err **err)
{
    struct timespec ts[2] = {st->st_atim, st->st_mtim};

    if (fchown(dst, st->st_uid, st->st_gid) < 0)
        return err_sys(err, "chown `%s`", what);
    if (fchmod(dst, st->st_mode & 07777) < 0)
        return err_sys(err, "chmod `%s`", what);
    if (copy_xattrs(src, dst, what, err) < 0)
        return -1;
    if (futimens(dst, ts) < 0)
        return err_sys(err, "utimens `%s`", what);
    return 0;
}

static int copy_data(int src, int dst, const char *what, struct err **err)
{
    char buf[65536];

    for (;;) {
        ssize_t n = copy_file_range(src, NULL, dst, NULL, 1 << 30, 0);
        if (n == 0)
            return 0;
        if (n > 0)
            continue;
        if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
            return err_sys(err, "copy `%s`", what);
        break;
    }
    for (;;) {
        ssize_t n = read(src, buf, sizeof(buf));
        if (n == 0)
            return 0;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return err_sys(err, "read `%s`", what);
        }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(dst, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                return err_sys(err, "write `%s`", what);
            off += w;
        }
    }
}

static int copy_dir(struct copy *c, int src, int dst, const char *rel, struct err **err);

static int copy_entry(struct copy *c, int sdir, int ddir, const char *name, const char *rel,
                      struct err **err)
{
    struct stat st;

    if (fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return err_sys(err, "stat `%s`", rel);
    if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
        for (size_t i = 0; i < c->n; i++)
            if (c->links[i].dev == st.st_dev && c->links[i].ino == st.st_ino) {
                /* the path names directories this copy made, no symlink */
                if (linkat(c->dstroot, c->links[i].path, ddir, name, 0) < 0)
                    return err_sys(err, "link `%s` to `%s`", rel, c->links[i].path);
                return 0;
            }
    }
    if (S_ISDIR(st.st_mode)) {
        _cleanup_close_ int s = -1, d = -1;
        if (mkdirat(ddir, name, 0700) < 0)
            return err_sys(err, "mkdir `%s`", rel);
        s = openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        d = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (s < 0 || d < 0)
            return err_sys(err, "open `%s`", rel);
        if (copy_dir(c, s, d, rel, err) < 0)
            return -1;
        return copy_meta(s, d, &st, rel, err);
    } else if (S_ISREG(st.st_mode)) {
        _cleanup_close_ int s = -1, d = -1;
        s = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (s < 0)
            return err_sys(err, "open `%s`", rel);
        d = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (d < 0)
            return err_sys(err, "create `%s`", rel);
        if (copy_data(s, d, rel, err) < 0 || copy_meta(s, d, &st, rel, err) < 0)
            return -1;
    } else if (S_ISLNK(st.st_mode)) {
        char target[PATH_MAX];
        struct timespec ts[2] = {st.st_atim, st.st_mtim};
        ssize_t n = readlinkat(sdir, name, target, sizeof(target) - 1);
        if (n < 0)
            return err_sys(err, "readlink `%s`", rel);
        target[n] = '\0';
        if (symlinkat(target, ddir, name) < 0)
            return err_sys(err, "symlink `%s`", rel);
        if (fchownat(ddir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
            return err_sys(err, "chown `%s`", rel);
        utimensat(ddir, name, ts, AT_SYMLINK_NOFOLLOW);
        return 0;
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode)) {
        _cleanup_close_ int s = -1, d = -1;
        if (mknodat(ddir, name, st.st_mode & (S_IFMT | 0600), st.st_rdev) < 0)
            return err_sys(err, "mknod `%s`", rel);
        /* O_PATH: opening a fifo or a device for I/O could block or act */
        s = openat(sdir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        d = openat(ddir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (s < 0 || d < 0)
            return err_sys(err, "open `%s`", rel);
        struct timespec ts[2] = {st.st_atim, st.st_mtim};
        if (fchownat(d, "", st.st_uid, st.st_gid, AT_EMPTY_PATH) < 0)
            return err_sys(err, "chown `%s`", rel);
        if (fchmodat(ddir, name, st.st_mode & 07777, 0) < 0)
            return err_sys(err, "chmod `%s`", rel);
        utimensat(ddir, name, ts, AT_SYMLINK_NOFOLLOW);
    } else {
        return 0; /* sockets: meaningless outside the process that bound them */
    }
    if (st.st_nlink > 1) {
        if (c->n == c->cap) {
            size_t cap = c->cap ? 2 * c->cap : 16;
            struct link *nl = realloc(c->links, cap * sizeof(*nl));
            if (nl == NULL)
                return err_set(err, ENOMEM, "copy `%s`", rel);
            c->links = nl;
            c->cap = cap;
        }
        if ((c->links[c->n].path = strdup(rel)) == NULL)
            return err_set(err, ENOMEM, "copy `%s`", rel);
        c->links[c->n].dev = st.st_dev;
        c->links[c->n].ino = st.st_ino;
        c->n++;
    }
    return 0;
}

static int copy_dir(struct copy *c, int src, int dst, const char *rel, struct err **err)
{
    int dup_fd = fcntl(src, F_DUPFD_CLOEXEC, 0);
    _cleanup_closedir_ DIR *d = NULL;
    struct dirent *de;

    if (dup_fd < 0)
        return err_sys(err, "dup `%s`", rel);
    if ((d = fdopendir(dup_fd)) == NULL) {
        close(dup_fd);
        return err_sys(err, "opendir `%s`", rel);
    }
    while ((errno = 0, de = readdir(d)) != NULL) {
        _cleanup_free_ char *sub = NULL;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (asprintf(&sub, "%s%s%s", rel, *rel ? "/" : "", de->d_name) < 0)
            return err_set(err, ENOMEM, "copy `%s`", rel);
        if (copy_entry(c, src, dst, de->d_name, sub, err) < 0)
            return -1;
    }
    if (errno != 0)
        return err_sys(err, "readdir `%s`", rel);
    return 0;
}

int volume_copy_tree(int srcfd, int dstfd, struct err **err)
{
    struct copy c = {.dstroot = dstfd};
    struct stat st;
    int r;

    if (fstat(srcfd, &st) < 0)
        return err_sys(err, "stat the source directory");
    r = copy_dir(&c, srcfd, dstfd, "", err);
    if (r == 0)
        r = copy_meta(srcfd, dstfd, &st, ".", err);
    for (size_t i = 0; i < c.n; i++)
        free(c.links[i].path);
    free(c.links);
    return r;
}
