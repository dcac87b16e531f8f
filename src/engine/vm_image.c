/* SPDX-License-Identifier: GPL-2.0-or-later */
/* An image's root as a VM's root disk (vm_image.h). */
#include "engine/vm_image.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/bundle.h"
#include "image/image.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"
#include "util/proc.h"

#define MKFS_TIMEOUT_MS (10 * 60 * 1000)

static uint64_t walk_bytes, walk_inodes;

static int walk_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)path;
    (void)flag;
    (void)ftw;
    walk_bytes += (uint64_t)st->st_blocks * 512;
    walk_inodes++;
    return 0;
}

/* The file system's size for root: what it uses, a quarter more, 64 MiB of
 * room for the guest to write (and ext4's journal), in KiB. */
static int disk_size_kib(const char *root, uint64_t *kib, struct err **err)
{
    walk_bytes = walk_inodes = 0;
    if (nftw(root, walk_one, 64, FTW_PHYS) < 0)
        return err_sys(err, "size of `%s`", root);
    uint64_t bytes = walk_bytes + walk_bytes / 4 + walk_inodes * 256 + (64ULL << 20);
    *kib = (bytes + 1023) / 1024;
    return 0;
}

/* /sbin/init when root has one (a file or a symlink), else Entrypoint + Cmd. */
static json_t *image_init(const char *root, json_t *cfg)
{
    char p[PATH_MAX];
    struct stat st;
    json_t *c = json_object_get(cfg, "config") ?: cfg, *init = json_array(), *v;
    size_t i;

    snprintf(p, sizeof(p), "%s/sbin/init", root);
    if (lstat(p, &st) == 0) {
        json_array_append_new(init, json_string("/sbin/init"));
        return init;
    }
    json_array_foreach (json_object_get(c, "Entrypoint"), i, v)
        json_array_append(init, v);
    json_array_foreach (json_object_get(c, "Cmd"), i, v)
        json_array_append(init, v);
    return init;
}

static int build_cache(struct store *s, const char *image, const char *dir, const char *cache,
                       const char *meta, const char *mkfs, struct err **err)
{
    _cleanup_free_ char *tmp = NULL, *root = NULL, *name = NULL, *img = NULL, *size = NULL;
    _cleanup_json_ json_t *cfg = NULL, *doc = NULL;
    bool mounted = false;
    uint64_t kib = 0;
    int rc = -1;

    if (asprintf(&tmp, "%s/.build-XXXXXX", dir) < 0)
        return err_set(err, ENOMEM, "VM disk of %s", image);
    if (!mkdtemp(tmp))
        return err_sys(err, "VM disk of %s: mkdtemp in `%s`", image, dir);
    /* a flattened copy: mke2fs -d reads a plain directory tree */
    if (bundle_rootfs(s, image, tmp, true, &cfg, &name, &mounted, err) < 0)
        goto out;
    if (asprintf(&root, "%s/rootfs", tmp) < 0 || asprintf(&img, "%s/root.ext4", tmp) < 0) {
        err_set(err, ENOMEM, "VM disk of %s", image);
        goto out;
    }
    if (disk_size_kib(root, &kib, err) < 0 || asprintf(&size, "%lluk", (unsigned long long)kib) < 0)
        goto out;
    /* mke2fs(8) -d: the tree with its owners, modes and extended attributes */
    char *argv[] = {(char *)mkfs, "-q", "-F", "-t", "ext4", "-L",
                    "isola-root", "-d", root, img,  size,   NULL};
    _cleanup_free_ char *said = NULL; /* "Creating regular file ..." */
    if (proc_run(argv, MKFS_TIMEOUT_MS, &said, err) < 0) {
        err_wrap(err, "VM disk of %s: %s", image, mkfs);
        goto out;
    }
    doc = json_pack("{s:o}", "init", image_init(root, cfg));
    if (!doc || js_write_file(meta, doc, 0600, err) < 0)
        goto out;
    /* the cache entry appears whole or not at all */
    if (rename(img, cache) < 0) {
        err_sys(err, "VM disk of %s: rename to `%s`", image, cache);
        goto out;
    }
    rc = 0;
out : {
    struct err *e = NULL;
    if (bundle_remove(tmp, &e) < 0)
        err_free(&e);
}
    return rc;
}

int vm_image_disk(struct store *s, const char *state_root, const char *image, const char *dest,
                  const char *mkfs_exe, char **digest, json_t **init, struct err **err)
{
    _cleanup_image_ struct image *img = NULL;
    _cleanup_free_ char *dir = NULL, *cache = NULL, *meta = NULL;
    _cleanup_json_ json_t *doc = NULL;
    const char *mkfs = mkfs_exe ? mkfs_exe : "mke2fs";

    if (image_open(s, image, NULL, &img, err) < 0)
        return err_wrap(err, "VM disk of %s", image);
    const char *d = img->m.config.digest, *hex = strchr(d, ':') ? strchr(d, ':') + 1 : d;
    if (asprintf(&dir, "%s/vm-disks", state_root) < 0 ||
        asprintf(&cache, "%s/%s.ext4", dir, hex) < 0 || asprintf(&meta, "%s/%s.json", dir, hex) < 0)
        return err_set(err, ENOMEM, "VM disk of %s", image);
    if (fs_mkdir_p(dir, 0700, err) < 0)
        return err_wrap(err, "VM disk of %s", image);
    if ((!fs_exists(cache) || !fs_exists(meta)) &&
        build_cache(s, image, dir, cache, meta, mkfs, err) < 0)
        return -1;
    if (js_load_file(meta, &doc, err) < 0)
        return err_wrap(err, "VM disk of %s", image);
    /* the VM's own copy: a clone where the file system can, else sparse */
    char *argv[] = {"cp", "--reflink=auto", "--sparse=always", cache, (char *)dest, NULL};
    _cleanup_free_ char *said = NULL;
    if (proc_run(argv, MKFS_TIMEOUT_MS, &said, err) < 0)
        return err_wrap(err, "VM disk of %s: copy `%s`", image, cache);
    if (!(*digest = strdup(d))) {
        unlink(dest);
        return err_set(err, ENOMEM, "VM disk of %s", image);
    }
    *init = json_incref(json_object_get(doc, "init"));
    if (!*init)
        *init = json_array();
    return 0;
}
