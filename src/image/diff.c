/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "image/archive_dl.h"
#include "image/diff.h"
#include "util/cleanup.h"
#include "util/js.h"

struct walk {
    struct archive *a;
    struct blob_writer *w;
    struct err *werr;
    bool overlay;
    json_t *inodes; /* "dev:ino" -> first path, for hard links */
};

static la_ssize_t on_write(struct archive *a, void *ud, const void *buf, size_t len)
{
    struct walk *k = ud;

    if (k->werr == NULL && store_blob_writer_write(k->w, buf, len, &k->werr) < 0)
        return -1;
    return (la_ssize_t)len;
}

static int header(struct walk *k, struct archive_entry *e, const char *name, struct err **err)
{
    if (sym_archive_write_header(k->a, e) != ARCHIVE_OK)
        return err_val(err, EIO, "layer entry `%s`: %s", name, sym_archive_error_string(k->a));
    return 0;
}

static int empty_file(struct walk *k, const char *name, struct err **err)
{
    struct archive_entry *e = sym_archive_entry_new();
    int r;

    sym_archive_entry_set_pathname(e, name);
    sym_archive_entry_set_filetype(e, AE_IFREG);
    sym_archive_entry_set_perm(e, 0);
    sym_archive_entry_set_size(e, 0);
    r = header(k, e, name, err);
    sym_archive_entry_free(e);
    return r;
}

static void copy_xattrs(struct archive_entry *e, int dfd, const char *base)
{
    char path[64 + 256], names[4096], val[4096];
    ssize_t n;

    snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dfd, base);
    n = llistxattr(path, names, sizeof(names));
    for (ssize_t i = 0; i < n; i += (ssize_t)strlen(names + i) + 1) {
        const char *key = names + i;
        if (strncmp(key, "trusted.overlay.", 16) == 0)
            continue;
        ssize_t vl = lgetxattr(path, key, val, sizeof(val));
        if (vl >= 0)
            sym_archive_entry_xattr_add_entry(e, key, val, (size_t)vl);
    }
}

static int walk_dir(struct walk *k, int dfd, const char *prefix, struct err **err);

static int walk_entry(struct walk *k, int dfd, const char *base, const char *name, struct err **err)
{
    struct stat st;
    struct archive_entry *e;
    int r = 0;

    if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return err_sys(err, "stat `%s`", name);
    if (k->overlay && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
        /* layer.md "Whiteouts": .wh.NAME removes NAME from lower layers. */
        char wh[PATH_MAX];
        const char *slash = strrchr(name, '/');
        snprintf(wh, sizeof(wh), "%.*s.wh.%s", slash ? (int)(slash - name + 1) : 0, name, base);
        return empty_file(k, wh, err);
    }
    e = sym_archive_entry_new();
    sym_archive_entry_copy_stat(e, &st);
    sym_archive_entry_set_pathname(e, name);
    sym_archive_entry_set_uname(e, "");
    sym_archive_entry_set_gname(e, "");
    if (S_ISLNK(st.st_mode)) {
        char target[PATH_MAX];
        ssize_t n = readlinkat(dfd, base, target, sizeof(target) - 1);
        if (n < 0) {
            sym_archive_entry_free(e);
            return err_sys(err, "readlink `%s`", name);
        }
        target[n] = '\0';
        sym_archive_entry_set_symlink(e, target);
    }
    copy_xattrs(e, dfd, base);
    if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
        char key[64];
        snprintf(key, sizeof(key), "%llu:%llu", (unsigned long long)st.st_dev,
                 (unsigned long long)st.st_ino);
        const char *first = json_string_value(json_object_get(k->inodes, key));
        if (first) {
            sym_archive_entry_set_hardlink(e, first);
            sym_archive_entry_set_size(e, 0);
            r = header(k, e, name, err);
            sym_archive_entry_free(e);
            return r;
        }
        json_object_set_new(k->inodes, key, json_string(name));
    }
    if (S_ISDIR(st.st_mode) || !S_ISREG(st.st_mode))
        sym_archive_entry_set_size(e, 0);
    r = header(k, e, name, err);
    sym_archive_entry_free(e);
    if (r < 0)
        return -1;
    if (S_ISREG(st.st_mode)) {
        _cleanup_close_ int fd = openat(dfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        char buf[65536];
        ssize_t n;
        if (fd < 0)
            return err_sys(err, "open `%s`", name);
        while ((n = read(fd, buf, sizeof(buf))) > 0)
            if (sym_archive_write_data(k->a, buf, (size_t)n) != n)
                return err_val(err, EIO, "layer entry `%s`: %s", name,
                               sym_archive_error_string(k->a));
        if (n < 0)
            return err_sys(err, "read `%s`", name);
    }
    if (S_ISDIR(st.st_mode)) {
        _cleanup_close_ int sub =
            openat(dfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        char opq[8] = "";
        if (sub < 0)
            return err_sys(err, "open `%s`", name);
        if (k->overlay && fgetxattr(sub, "trusted.overlay.opaque", opq, sizeof(opq) - 1) > 0 &&
            opq[0] == 'y') {
            char wh[PATH_MAX];
            snprintf(wh, sizeof(wh), "%s/.wh..wh..opq", name);
            if (empty_file(k, wh, err) < 0)
                return -1;
        }
        return walk_dir(k, sub, name, err);
    }
    return 0;
}

static int walk_dir(struct walk *k, int dfd, const char *prefix, struct err **err)
{
    struct dirent **list = NULL;
    char self[64];
    int n, r = 0;

    snprintf(self, sizeof(self), "/proc/self/fd/%d", dfd);
    n = scandir(self, &list, NULL, alphasort);
    if (n < 0)
        return err_sys(err, "read directory `%s`", *prefix ? prefix : "/");
    for (int i = 0; i < n; i++) {
        const char *b = list[i]->d_name;
        if (r == 0 && strcmp(b, ".") != 0 && strcmp(b, "..") != 0) {
            _cleanup_free_ char *name = NULL;
            if (asprintf(&name, "%s%s%s", prefix, *prefix ? "/" : "", b) < 0)
                r = err_set(err, ENOMEM, "layer");
            else
                r = walk_entry(k, dfd, b, name, err);
        }
        free(list[i]);
    }
    free(list);
    return r;
}

int diff_dir_to_layer(struct store *s, const char *dir, bool overlay, char digest[DIGEST_LEN + 1],
                      int64_t *size, struct err **err)
{
    struct walk k = {.overlay = overlay, .inodes = json_object()};
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int r = -1;

    if (dfd < 0) {
        json_decref(k.inodes);
        return err_sys(err, "open `%s`", dir);
    }
    if (archive_dl_load(err) < 0) {
        json_decref(k.inodes);
        return err_wrap(err, "layer from `%s`", dir);
    }
    if (store_blob_writer_new(s, dir, &k.w, err) < 0) {
        json_decref(k.inodes);
        return -1;
    }
    k.a = sym_archive_write_new();
    if (k.a == NULL || sym_archive_write_set_format_pax_restricted(k.a) != ARCHIVE_OK ||
        sym_archive_write_set_bytes_in_last_block(k.a, 1) != ARCHIVE_OK ||
        sym_archive_write_open(k.a, &k, NULL, on_write, NULL) != ARCHIVE_OK) {
        err_set(err, ENOMEM, "layer from `%s`", dir);
        goto out;
    }
    if (walk_dir(&k, dfd, "", err) < 0)
        goto out;
    if (sym_archive_write_close(k.a) != ARCHIVE_OK || k.werr) {
        if (k.werr) {
            *err = k.werr;
            k.werr = NULL;
        } else {
            err_val(err, EIO, "layer from `%s`: %s", dir, sym_archive_error_string(k.a));
        }
        goto out;
    }
    *size = store_blob_writer_size(k.w);
    r = store_blob_writer_commit(k.w, NULL, -1, digest, err);
    k.w = NULL;
out:
    if (k.a)
        sym_archive_write_free(k.a);
    store_blob_writer_abort(k.w);
    err_free(&k.werr);
    json_decref(k.inodes);
    return r;
}
