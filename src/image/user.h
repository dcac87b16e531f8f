/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A user as images and Dockerfiles name it (image-spec config.md "User",
 * `COPY --chown`, `isola run -u`): user, uid, user:group, uid:gid, uid:group,
 * user:gid, names looked up in the root filesystem's /etc/passwd and
 * /etc/group (opened inside the root: symlinks cannot leave it).
 */
#ifndef ISOLA_IMAGE_USER_H
#define ISOLA_IMAGE_USER_H

#include <stddef.h>

#include "util/err.h"

/* *uid and *gid for spec in the root at rootfd. A user name without a group
 * takes its primary group from /etc/passwd; a bare uid gets gid 0. ENOENT
 * names the missing user or group. */
int image_user_resolve(int rootfd, const char *spec, long *uid, long *gid, struct err **err);

/* The user a container's process runs as (`docker run -u`, the image's
 * User), as runc's GetExecUser has it: a uid with an /etc/passwd entry takes
 * that entry's group as well, and without an explicit group the user's
 * supplementary groups are those of /etc/group that list its name (*gids,
 * new, *ngids of them). */
int image_user_resolve_exec(int rootfd, const char *spec, long *uid, long *gid, long **gids,
                            size_t *ngids, struct err **err);

#endif
