/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "image/bundle.h"
#include "image/layer.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"

int bundle_rootfs(struct store *s, const char *image, const char *dir, bool copy, json_t **config,
                  char **name, bool *mounted, struct err **err)
{
    _cleanup_image_ struct image *img = NULL;
    _cleanup_free_ char *cfgpath = NULL;

    *mounted = false;
    if (asprintf(&cfgpath, "%s/config.json", dir) < 0)
        return err_set(err, ENOMEM, "bundle");
    if (fs_exists(cfgpath))
        return err_val(err, EEXIST, "bundle `%s` exists already", dir);
    if (image_open(s, image, NULL, &img, err) < 0 || fs_mkdir_p(dir, 0711, err) < 0 ||
        layer_rootfs(s, img, dir, copy, mounted, err) < 0)
        return err_wrap(err, "bundle `%s` from %s", dir, image);
    *name = strdup(img->ref ? img->ref : img->m.config.digest);
    *config = json_incref(img->config);
    if (*name == NULL) {
        json_decref(steal_ptr(config));
        return err_set(err, ENOMEM, "bundle `%s`", dir);
    }
    return 0;
}

int bundle_remove(const char *dir, struct err **err)
{
    _cleanup_free_ char *rootfs = NULL;

    if (asprintf(&rootfs, "%s/rootfs", dir) < 0)
        return err_set(err, ENOMEM, "bundle");
    if (umount2(rootfs, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
        return err_sys(err, "unmount `%s`", rootfs);
    return fs_rm_rf(dir, err);
}
