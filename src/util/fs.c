/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"

int fs_read_fd(int fd, const char *what, char **buf, size_t *len, struct err **err)
{
    size_t cap = 4096, n = 0;
    _cleanup_free_ char *b = malloc(cap);

    if (b == NULL)
        return err_set(err, ENOMEM, "read `%s`", what);
    for (;;) {
        if (n + 1 >= cap) {
            char *nb = realloc(b, cap * 2);
            if (nb == NULL)
                return err_set(err, ENOMEM, "read `%s`", what);
            b = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, b + n, cap - n - 1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return err_sys(err, "read `%s`", what);
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    b[n] = '\0';
    *buf = steal_ptr(&b);
    if (len != NULL)
        *len = n;
    return 0;
}

int fs_read_file(const char *path, char **buf, size_t *len, struct err **err)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

    if (fd < 0)
        return err_sys(err, "open `%s`", path);
    return fs_read_fd(fd, path, buf, len, err);
}

int fs_write_all(int fd, const void *buf, size_t len, const char *what, struct err **err)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return err_sys(err, "write `%s`", what);
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static int fs_write_renamed(const char *path, const void *data, size_t len, mode_t mode, bool sync,
                            struct err **err)
{
    _cleanup_free_ char *tmp = NULL, *dircopy = strdup(path);
    _cleanup_close_ int fd = -1, dfd = -1;

    if (dircopy == NULL || asprintf(&tmp, "%s.tmp-XXXXXX", path) < 0)
        return err_set(err, ENOMEM, "write `%s`", path);
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return err_sys(err, "create temporary file for `%s`", path);
    if (fchmod(fd, mode) < 0) {
        err_sys(err, "chmod `%s`", tmp);
        goto fail;
    }
    if (fs_write_all(fd, data, len, tmp, err) < 0)
        goto fail;
    if (sync && fsync(fd) < 0) {
        err_sys(err, "fsync `%s`", tmp);
        goto fail;
    }
    if (rename(tmp, path) < 0) {
        err_sys(err, "rename `%s` to `%s`", tmp, path);
        goto fail;
    }
    if (!sync)
        return 0;
    /* Make the rename itself durable. */
    dfd = open(dirname(dircopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0)
        fsync(dfd);
    return 0;
fail:
    unlink(tmp);
    return -1;
}

int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, struct err **err)
{
    return fs_write_renamed(path, data, len, mode, true, err);
}

int fs_write_replace(const char *path, const void *data, size_t len, mode_t mode, struct err **err)
{
    return fs_write_renamed(path, data, len, mode, false, err);
}

int fs_write_str(const char *path, const char *s, struct err **err)
{
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);

    if (fd < 0)
        return err_sys(err, "open `%s`", path);
    /* Kernel files take one write; a partial write is an error there. */
    ssize_t w = write(fd, s, strlen(s));
    if (w < 0)
        return err_sys(err, "write `%s` to `%s`", s, path);
    if ((size_t)w != strlen(s))
        return err_set(err, EIO, "write `%s` to `%s`: short write", s, path);
    return 0;
}

int fs_mkdir_p(const char *path, mode_t mode, struct err **err)
{
    _cleanup_free_ char *p = strdup(path);

    if (p == NULL)
        return err_set(err, ENOMEM, "mkdir `%s`", path);
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, mode) < 0 && errno != EEXIST)
            return err_sys(err, "mkdir `%s`", p);
        *s = c;
        if (c == '\0')
            break;
    }
    struct stat st;
    if (stat(path, &st) < 0)
        return err_sys(err, "stat `%s`", path);
    if (!S_ISDIR(st.st_mode))
        return err_set(err, ENOTDIR, "mkdir `%s`", path);
    return 0;
}

static int rm_rf_at(int dfd, const char *name, const char *path, dev_t dev, struct err **err)
{
    struct stat st;

    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return 0;
        return err_sys(err, "stat `%s`", path);
    }
    if (!S_ISDIR(st.st_mode)) {
        if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
            return err_sys(err, "unlink `%s`", path);
        return 0;
    }
    if (st.st_dev != dev)
        return err_set(err, EBUSY, "remove `%s`: a different filesystem is mounted there", path);
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return err_sys(err, "open `%s`", path);
    _cleanup_closedir_ DIR *d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return err_sys(err, "opendir `%s`", path);
    }
    struct dirent *de;
    while ((errno = 0, de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        _cleanup_free_ char *sub = NULL;
        if (asprintf(&sub, "%s/%s", path, de->d_name) < 0)
            return err_set(err, ENOMEM, "remove `%s`", path);
        if (rm_rf_at(dirfd(d), de->d_name, sub, dev, err) < 0)
            return -1;
    }
    if (errno != 0)
        return err_sys(err, "readdir `%s`", path);
    if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        return err_sys(err, "rmdir `%s`", path);
    return 0;
}

int fs_rm_rf(const char *path, struct err **err)
{
    struct stat st;

    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        return err_sys(err, "stat `%s`", path);
    }
    return rm_rf_at(AT_FDCWD, path, path, st.st_dev, err);
}

static int openat2_(int dfd, const char *path, int flags, mode_t mode, unsigned long long resolve)
{
    struct open_how how = {
        .flags = (unsigned long long)flags | O_CLOEXEC,
        .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
        .resolve = resolve,
    };
    int fd;

    do
        fd = (int)syscall(SYS_openat2, dfd, path, &how, sizeof(how));
    while (fd < 0 && errno == EAGAIN); /* a concurrent rename raced the lookup */
    return fd;
}

int fs_open_in_root(int rootfd, const char *path, int flags, mode_t mode, struct err **err)
{
    int fd = openat2_(rootfd, path, flags, mode, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);

    if (fd < 0)
        return err_sys(err, "open `%s` inside the root", path);
    return fd;
}

int fs_open_beneath(int rootfd, const char *path, int flags, mode_t mode, struct err **err)
{
    int fd = openat2_(rootfd, path, flags, mode, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);

    if (fd < 0) {
        if (errno == EXDEV)
            return err_set(err, EXDEV, "open `%s`: the path leads outside its root", path);
        return err_sys(err, "open `%s` beneath its root", path);
    }
    return fd;
}

int fs_mkdir_in_root(int rootfd, const char *path, mode_t mode, struct err **err)
{
    _cleanup_free_ char *p = strdup(path);
    _cleanup_close_ int cur = -1;
    size_t len;

    if (p == NULL)
        return err_set(err, ENOMEM, "mkdir `%s`", path);
    cur = openat2_(rootfd, "/", O_PATH | O_DIRECTORY, 0, RESOLVE_IN_ROOT);
    if (cur < 0)
        return err_sys(err, "open the root for `%s`", path);
    len = strlen(p);
    /* Walk the prefixes of path; each is resolved from the root with
     * RESOLVE_IN_ROOT, so `..` and symlinks (absolute or not) stay inside it.
     * A missing component is created in the directory its parent resolved to. */
    for (size_t i = 0; i <= len; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        if (i == 0 || p[i - 1] == '/')
            continue;
        char saved = p[i];
        p[i] = '\0';
        char *name = strrchr(p, '/');
        name = name ? name + 1 : p;
        int next =
            openat2_(rootfd, p, O_PATH | O_DIRECTORY, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
        if (next < 0 && errno == ENOENT) {
            if (mkdirat(cur, name, mode) < 0 && errno != EEXIST)
                return err_sys(err, "mkdir `%s` inside the root", p);
            next = openat2_(rootfd, p, O_PATH | O_DIRECTORY, 0,
                            RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
        }
        if (next < 0)
            return err_sys(err, "open `%s` inside the root", p);
        close(cur);
        cur = next;
        p[i] = saved;
    }
    return steal_fd(&cur);
}

bool fs_exists(const char *path)
{
    return access(path, F_OK) == 0;
}
