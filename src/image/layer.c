/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "image/archive_dl.h"
#include "image/layer.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"
#include "util/log.h"

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

static void archive_freep(struct archive **a)
{
    if (*a)
        sym_archive_read_free(*a);
    *a = NULL;
}

/*
 * Clean an entry name: drop leading "./" and repeated or trailing slashes;
 * refuse absolute names and `..` components. "" is the root itself.
 */
static int clean_name(const char *in, char *out, size_t outlen, struct err **err)
{
    size_t o = 0;
    const char *p = in;

    if (in[0] == '/')
        return err_val(err, EPERM, "entry `%s`: absolute path refused", in);
    while (*p) {
        const char *end = strchrnul(p, '/');
        size_t n = (size_t)(end - p);
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return err_val(err, EPERM, "entry `%s`: `..` refused", in);
        if (n > 0 && !(n == 1 && p[0] == '.')) {
            if (o + n + 2 > outlen)
                return err_val(err, ENAMETOOLONG, "entry `%.64s...`: name too long", in);
            if (o > 0)
                out[o++] = '/';
            memcpy(out + o, p, n);
            o += n;
        }
        p = *end ? end + 1 : end;
    }
    out[o] = '\0';
    return 0;
}

/* Split "a/b/c" into parent fd (created as needed inside root) and "c". */
static int open_parent(int rootfd, char *name, const char **base, struct err **err)
{
    char *slash = strrchr(name, '/');
    int fd;

    if (slash == NULL) {
        *base = name;
        return fs_mkdir_in_root(rootfd, "", 0755, err);
    }
    *slash = '\0';
    fd = fs_mkdir_in_root(rootfd, name, 0755, err);
    *slash = '/';
    *base = slash + 1;
    return fd;
}

static char *fd_path(int dfd, const char *name)
{
    char *p = NULL;

    if (asprintf(&p, "/proc/self/fd/%d/%s", dfd, name) < 0)
        return NULL;
    return p;
}

/* Remove name in dfd, whatever it is (directories recursively). */
static int remove_at(int dfd, const char *name, struct err **err)
{
    struct stat st;
    _cleanup_free_ char *p = NULL;

    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : err_sys(err, "stat `%s`", name);
    if (!S_ISDIR(st.st_mode)) {
        if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
            return err_sys(err, "remove `%s`", name);
        return 0;
    }
    p = fd_path(dfd, name);
    if (p == NULL)
        return err_set(err, ENOMEM, "remove `%s`", name);
    return fs_rm_rf(p, err);
}

/* Opaque directory in flatten mode: drop what earlier layers put in dir. */
static int clear_dir(int rootfd, const char *dir, json_t *created, struct err **err)
{
    _cleanup_close_ int dfd =
        fs_open_in_root(rootfd, *dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, err);
    _cleanup_closedir_ DIR *d = NULL;
    struct dirent *de;

    if (dfd < 0)
        return -1;
    d = fdopendir(dfd);
    if (d == NULL)
        return err_sys(err, "open `%s`", dir);
    dfd = -1;
    while ((de = readdir(d)) != NULL) {
        _cleanup_free_ char *full = NULL;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (asprintf(&full, "%s%s%s", dir, *dir ? "/" : "", de->d_name) < 0)
            return err_set(err, ENOMEM, "clear `%s`", dir);
        if (json_object_get(created, full))
            continue;
        if (remove_at(dirfd(d), de->d_name, err) < 0)
            return -1;
    }
    return 0;
}

static int write_data(struct archive *a, int fd, const char *name, struct err **err)
{
    const void *buf;
    size_t len;
    la_int64_t off;
    int r;

    while ((r = sym_archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
        const char *p = buf;
        while (len > 0) {
            ssize_t w = pwrite(fd, p, len, off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                return err_sys(err, "write `%s`", name);
            p += w;
            off += w;
            len -= (size_t)w;
        }
    }
    if (r != ARCHIVE_EOF)
        return err_val(err, EIO, "read data of `%s`: %s", name, sym_archive_error_string(a));
    return 0;
}

static int set_xattrs(struct archive_entry *ent, int dfd, const char *base, int fd,
                      struct err **err)
{
    const char *key;
    const void *val;
    size_t len;

    if (sym_archive_entry_xattr_reset(ent) == 0)
        return 0;
    while (sym_archive_entry_xattr_next(ent, &key, &val, &len) == ARCHIVE_OK) {
        int r;
        /* An archive must not forge overlayfs metadata (whiteouts, redirects). */
        if (strncmp(key, "trusted.overlay.", 16) == 0)
            continue;
        if (fd >= 0) {
            r = fsetxattr(fd, key, val, len, 0);
        } else {
            _cleanup_free_ char *p = fd_path(dfd, base);
            r = p ? lsetxattr(p, key, val, len, 0) : -1;
        }
        if (r < 0 && errno != ENOTSUP && errno != EPERM)
            return err_sys(err, "set xattr %s on `%s`", key, base);
    }
    return 0;
}

static int extract_entry(struct archive *a, struct archive_entry *ent, int rootfd,
                         const struct layer_opts *o, json_t *created, struct err **err)
{
    char name[PATH_MAX];
    const char *base;
    _cleanup_close_ int dfd = -1, fd = -1;
    mode_t mode = sym_archive_entry_mode(ent);
    mode_t type = sym_archive_entry_filetype(ent);
    const char *hard = sym_archive_entry_hardlink(ent);
    struct stat st;
    bool exists;

    if (clean_name(sym_archive_entry_pathname(ent), name, sizeof(name), err) < 0)
        return -1;
    if (name[0] == '\0')
        return 0; /* "./": the root's own metadata is not the layer's to set */
    dfd = open_parent(rootfd, name, &base, err);
    if (dfd < 0)
        return -1;

    if (strcmp(base, WH_OPAQUE) == 0) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "%.*s", (int)(base - name > 0 ? base - name - 1 : 0), name);
        if (o->flatten)
            return clear_dir(rootfd, dir, created, err);
        _cleanup_free_ char *p = fd_path(dfd, ".");
        if (p == NULL || setxattr(p, "trusted.overlay.opaque", "y", 1, 0) < 0)
            return err_sys(err, "mark `%s` opaque", dir);
        return 0;
    }
    if (strncmp(base, WH_PREFIX, strlen(WH_PREFIX)) == 0) {
        const char *victim = base + strlen(WH_PREFIX);
        if (*victim == '\0' || strcmp(victim, ".") == 0 || strcmp(victim, "..") == 0)
            return err_val(err, EPERM, "entry `%s`: bad whiteout", name);
        if (o->flatten)
            return remove_at(dfd, victim, err);
        if (remove_at(dfd, victim, err) < 0)
            return -1;
        if (mknodat(dfd, victim, S_IFCHR | 0, makedev(0, 0)) < 0)
            return err_sys(err, "create whiteout for `%s`", name);
        return 0;
    }

    exists = fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0;
    if (exists && !(type == AE_IFDIR && S_ISDIR(st.st_mode)) && remove_at(dfd, base, err) < 0)
        return -1;
    if (created)
        json_object_set_new(created, name, json_true());

    if (hard) {
        char target[PATH_MAX];
        _cleanup_close_ int tfd = -1;
        if (clean_name(hard, target, sizeof(target), err) < 0)
            return err_wrap(err, "hard link `%s`", name);
        tfd = fs_open_in_root(rootfd, target, O_PATH | O_NOFOLLOW, 0, err);
        if (tfd < 0)
            return err_wrap(err, "hard link `%s`", name);
        if (linkat(tfd, "", dfd, base, AT_EMPTY_PATH) < 0)
            return err_sys(err, "hard link `%s` to `%s`", name, target);
        return 0;
    }
    switch (type) {
    case AE_IFREG:
        fd = openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
            return err_sys(err, "create `%s`", name);
        if (write_data(a, fd, name, err) < 0)
            return -1;
        if (ftruncate(fd, sym_archive_entry_size(ent)) < 0)
            return err_sys(err, "truncate `%s`", name);
        break;
    case AE_IFDIR:
        if (!exists && mkdirat(dfd, base, 0700) < 0)
            return err_sys(err, "mkdir `%s`", name);
        fd = openat(dfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return err_sys(err, "open `%s`", name);
        break;
    case AE_IFLNK:
        if (symlinkat(sym_archive_entry_symlink(ent), dfd, base) < 0)
            return err_sys(err, "symlink `%s`", name);
        break;
    case AE_IFIFO:
        if (mknodat(dfd, base, S_IFIFO | 0600, 0) < 0)
            return err_sys(err, "mkfifo `%s`", name);
        break;
    case AE_IFCHR:
    case AE_IFBLK:
        if (!o->allow_devices)
            return err_val(err, EPERM, "entry `%s`: device nodes are not allowed", name);
        if (mknodat(dfd, base, type | 0600, sym_archive_entry_rdev(ent)) < 0)
            return err_sys(err, "mknod `%s`", name);
        break;
    default:
        return err_val(err, ENOTSUP, "entry `%s`: unsupported file type 0%o", name, type);
    }
    if (fchownat(dfd, base, (uid_t)sym_archive_entry_uid(ent), (gid_t)sym_archive_entry_gid(ent),
                 AT_SYMLINK_NOFOLLOW) < 0)
        return err_sys(err, "chown `%s`", name);
    if (type != AE_IFLNK) {
        int r = fd >= 0 ? fchmod(fd, mode & 07777) : fchmodat(dfd, base, mode & 07777, 0);
        if (r < 0)
            return err_sys(err, "chmod `%s`", name);
    }
    if (set_xattrs(ent, dfd, base, fd, err) < 0)
        return -1;
    if (type != AE_IFDIR) {
        struct timespec ts[2] = {
            {sym_archive_entry_atime(ent), sym_archive_entry_atime_nsec(ent)},
            {sym_archive_entry_mtime(ent), sym_archive_entry_mtime_nsec(ent)},
        };
        if (!sym_archive_entry_atime_is_set(ent))
            ts[0] = ts[1];
        utimensat(dfd, base, ts, AT_SYMLINK_NOFOLLOW);
    }
    return 0;
}

int layer_extract_fd(int fd, const char *what, int rootfd, const struct layer_opts *o,
                     struct err **err)
{
    __attribute__((cleanup(archive_freep))) struct archive *a = NULL;
    _cleanup_json_ json_t *created = NULL;
    struct archive_entry *ent;
    int r;

    if (archive_dl_load(err) < 0)
        return err_wrap(err, "%s", what);
    a = sym_archive_read_new();
    created = o->flatten ? json_object() : NULL;
    if (a == NULL)
        return err_set(err, ENOMEM, "%s", what);
    sym_archive_read_support_filter_gzip(a);
    sym_archive_read_support_filter_zstd(a);
    sym_archive_read_support_filter_none(a);
    if (o->any_filter) {
        sym_archive_read_support_filter_bzip2(a);
        sym_archive_read_support_filter_xz(a);
    }
    sym_archive_read_support_format_tar(a);
    sym_archive_read_support_format_gnutar(a);
    if (sym_archive_read_open_fd(a, fd, 1 << 16) != ARCHIVE_OK)
        return err_val(err, EINVAL, "%s: %s", what, sym_archive_error_string(a));
    while ((r = sym_archive_read_next_header(a, &ent)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
        if (extract_entry(a, ent, rootfd, o, created, err) < 0)
            return err_wrap(err, "%s", what);
    }
    if (r != ARCHIVE_EOF)
        return err_val(err, EINVAL, "%s: %s", what, sym_archive_error_string(a));
    return 0;
}

static char *layer_dir(struct store *s, const char *digest)
{
    char *p = NULL;

    if (asprintf(&p, "%s/layers/sha256/%s", s->root, digest_hex(digest)) < 0)
        return NULL;
    return p;
}

/* Unpack a layer blob once into ROOT/layers/sha256/<hex> (a no-op when it is
 * there); *path (optional) gets its directory. */
static int layer_unpack(struct store *s, const struct desc *layer, bool allow_devices, char **path,
                        struct err **err)
{
    _cleanup_free_ char *dst = layer_dir(s, layer->digest), *tmp = NULL;
    _cleanup_close_ int fd = -1, rootfd = -1;
    struct layer_opts o = {.flatten = false, .allow_devices = allow_devices};

    if (dst == NULL)
        return err_set(err, ENOMEM, "layer %s", layer->digest);
    if (!fs_exists(dst)) {
        fd = store_blob_open(s, layer->digest, layer->size, err);
        if (fd < 0 || store_mkdtemp(s, "layer", &tmp, err) < 0)
            return err_wrap(err, "unpack layer %s", layer->digest);
        rootfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0 || chmod(tmp, 0755) < 0) {
            err_sys(err, "open `%s`", tmp);
            goto fail;
        }
        if (layer_extract_fd(fd, layer->digest, rootfd, &o, err) < 0)
            goto fail;
        syncfs(rootfd);
        /* Another process may have unpacked it meanwhile: keep theirs. */
        if (rename(tmp, dst) < 0) {
            if (errno != EEXIST && errno != ENOTEMPTY) {
                err_sys(err, "rename `%s` to `%s`", tmp, dst);
                goto fail;
            }
            fs_rm_rf(tmp, NULL);
        }
    }
    if (path)
        *path = steal_ptr(&dst);
    return 0;
fail:
    fs_rm_rf(tmp, NULL);
    return err_wrap(err, "unpack layer %s", layer->digest);
}

static int rootfs_copy(struct store *s, const struct desc *layers, size_t n, const char *rootfs,
                       struct err **err)
{
    _cleanup_close_ int rootfd = -1;
    struct layer_opts o = {.flatten = true, .allow_devices = false};

    if (fs_mkdir_p(rootfs, 0755, err) < 0)
        return -1;
    rootfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return err_sys(err, "open `%s`", rootfs);
    for (size_t i = 0; i < n; i++) {
        _cleanup_close_ int fd = store_blob_open(s, layers[i].digest, layers[i].size, err);
        if (fd < 0 || layer_extract_fd(fd, layers[i].digest, rootfd, &o, err) < 0)
            return err_wrap(err, "copy the image into `%s`", rootfs);
    }
    return 0;
}

int layer_rootfs(struct store *s, const struct image *img, const char *dir, bool copy,
                 bool *mounted, struct err **err)
{
    return layer_rootfs_descs(s, img->m.layers, img->m.n_layers, dir, copy, mounted, err);
}

int layer_rootfs_descs(struct store *s, const struct desc *layers, size_t nl, const char *dir,
                       bool copy, bool *mounted, struct err **err)
{
    _cleanup_free_ char *rootfs = NULL, *upper = NULL, *work = NULL, *empty = NULL;
    _cleanup_free_ char *opts = NULL;
    size_t len = 0;

    *mounted = false;
    if (asprintf(&rootfs, "%s/rootfs", dir) < 0 || asprintf(&upper, "%s/upper", dir) < 0 ||
        asprintf(&work, "%s/work", dir) < 0 || asprintf(&empty, "%s/empty", dir) < 0)
        return err_set(err, ENOMEM, "rootfs");
    if (copy)
        return rootfs_copy(s, layers, nl, rootfs, err);
    if (fs_mkdir_p(rootfs, 0755, err) < 0 || fs_mkdir_p(upper, 0755, err) < 0 ||
        fs_mkdir_p(work, 0700, err) < 0)
        return -1;
    /* lowerdir lists the top layer first (overlayfs.rst "Multiple lower layers"). */
    for (size_t i = nl; i-- > 0;) {
        _cleanup_free_ char *p = NULL;
        if (layer_unpack(s, &layers[i], false, &p, err) < 0)
            return -1;
        if (strpbrk(p, ":,") != NULL)
            return err_val(err, EINVAL, "layer path `%s` cannot be given to overlayfs", p);
        char *n = realloc(opts, len + strlen(p) + 32);
        if (n == NULL)
            return err_set(err, ENOMEM, "rootfs");
        opts = n;
        len += (size_t)sprintf(opts + len, "%s%s", len ? ":" : "lowerdir=", p);
    }
    if (nl == 0) {
        if (fs_mkdir_p(empty, 0755, err) < 0 || asprintf(&opts, "lowerdir=%s", empty) < 0)
            return -1;
        len = strlen(opts);
    }
    {
        _cleanup_free_ char *all = NULL;
        if (asprintf(&all, "%s,upperdir=%s,workdir=%s", opts, upper, work) < 0)
            return err_set(err, ENOMEM, "rootfs");
        if (strlen(all) >= 4096)
            return err_val(err, E2BIG, "too many layers for one overlayfs mount");
        if (mount("overlay", rootfs, "overlay", 0, all) == 0) {
            *mounted = true;
            return 0;
        }
        if (errno != ENODEV && errno != EPERM && errno != EINVAL && errno != ENOTSUP)
            return err_sys(err, "mount overlayfs on `%s`", rootfs);
        log_warn("overlayfs on `%s` failed (%s); copying the image instead", rootfs,
                 strerror(errno));
    }
    rmdir(upper);
    rmdir(work);
    return rootfs_copy(s, layers, nl, rootfs, err);
}
