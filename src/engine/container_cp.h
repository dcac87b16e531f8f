/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * docker cp (docs/engine.md, "cp"): files between a container's root and the
 * host, or a tar stream. A container's files are hostile: every path inside
 * it is resolved with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) from
 * its root fd, and every file is opened relative to a directory fd without
 * following its last component, so no symlink in the container can make a
 * copy read or write a host file.
 */
#ifndef ISOLA_ENGINE_CONTAINER_CP_H
#define ISOLA_ENGINE_CONTAINER_CP_H

#include <stdbool.h>
#include <sys/types.h>

#include "engine/container.h"
#include "image/store.h"
#include "util/err.h"

/* One side of a copy. */
struct ctr_cp_end {
    int rootfd;       /* in_root: the container's root (ctr_cp_open_root) */
    bool in_root;     /* false: the host, path as the user typed it */
    const char *path; /* NULL: a tar stream on fd */
    int fd;
    /* the owner of what is written on this side without -a (Docker: the
     * container's root, or the user running the copy on the host) */
    uid_t uid;
    gid_t gid;
};

struct ctr_cp_opts {
    bool archive; /* -a: keep the source's uid and gid */
    bool follow;  /* -L: follow a symlink named by the source path */
};

/*
 * An O_PATH fd of c's root: the running workload's root (/proc/PID/root,
 * with its volumes) when it is the bundle's root, else the bundle's overlay;
 * an overlay that a reboot unmounted is mounted again in a mount namespace
 * private to this process (so the mount goes with it).
 */
int ctr_cp_open_root(const struct ctr_env *env, struct store *s, const struct db_container *c,
                     int *rootfd, struct err **err);

/* Copy src to dst with Docker's rules for trailing `/` and `/.`, existing
 * directories and files; exactly one of them is a container's root. */
int ctr_cp(const struct ctr_cp_end *src, const struct ctr_cp_end *dst, const struct ctr_cp_opts *o,
           struct err **err);

#endif
