/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "engine/rundir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "image/bundle.h"
#include "runtime/container.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"
#include "util/log.h"

/* base/.lock, held while a run makes and locks its bundle and while the
 * collector looks for unlocked ones, so it never takes a bundle being made. */
static int lock_base(const char *base, struct err **err)
{
    char path[PATH_MAX];
    int fd;

    snprintf(path, sizeof(path), "%s/.lock", base);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return err_sys(err, "open `%s`", path);
    while (flock(fd, LOCK_EX) < 0)
        if (errno != EINTR) {
            err_sys(err, "lock `%s`", path);
            close(fd);
            return -1;
        }
    return fd;
}

/* Delete the containers whose bundle is `dir` (all of them if `dir` is gone). */
static void gc_containers(const char *state_root, const char *dir)
{
    _cleanup_json_ json_t *list = NULL;
    struct err *e = NULL;
    json_t *c;
    size_t i;

    if (!fs_exists(state_root) || container_list(state_root, &list, &e) < 0) {
        err_free(&e);
        return;
    }
    json_array_foreach (list, i, c) {
        const char *b = json_string_value(json_object_get(c, "bundle"));
        const char *id = json_string_value(json_object_get(c, "id"));
        if (b == NULL || id == NULL || strcmp(b, dir) != 0)
            continue;
        log_info("removing container `%s` left by a run that ended without cleaning up", id);
        if (container_delete(state_root, id, true, &e) < 0) {
            log_err(e);
            err_free(&e);
        }
    }
}

int rundir_gc(const char *base, const char *state_root, struct err **err)
{
    _cleanup_closedir_ DIR *d = opendir(base);
    struct dirent *de;

    if (d == NULL)
        return errno == ENOENT ? 0 : err_sys(err, "open `%s`", base);
    while ((de = readdir(d)) != NULL) {
        char dir[PATH_MAX];
        struct err *e = NULL;
        if (strncmp(de->d_name, "bundle-", 7) != 0)
            continue;
        if (snprintf(dir, sizeof(dir), "%s/%s", base, de->d_name) >= (int)sizeof(dir))
            continue;
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
            continue; /* gone, or its run is alive */
        char real[PATH_MAX];
        gc_containers(state_root, realpath(dir, real) ? real : dir);
        if (bundle_remove(dir, &e) < 0) {
            log_err(e);
            err_free(&e);
        }
    }
    return 0;
}

int rundir_new_bundle(const char *base, const char *state_root, char *dir, size_t len, int *lockfd,
                      struct err **err)
{
    _cleanup_close_ int lk = -1, fd = -1;

    if (fs_mkdir_p(base, 0700, err) < 0 || (lk = lock_base(base, err)) < 0 ||
        rundir_gc(base, state_root, err) < 0)
        return -1;
    if (snprintf(dir, len, "%s/bundle-XXXXXX", base) >= (int)len)
        return err_set(err, ENAMETOOLONG, "run directory `%s`", base);
    if (mkdtemp(dir) == NULL)
        return err_sys(err, "mkdtemp `%s`", dir);
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || flock(fd, LOCK_EX) < 0) {
        err_sys(err, "lock a new bundle directory in `%s`", base);
        rmdir(dir);
        return -1;
    }
    *lockfd = steal_fd(&fd);
    return 0;
}
