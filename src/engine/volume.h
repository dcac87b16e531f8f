/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Named volumes (docs/volumes.md): Docker's `local` driver. A volume is a row in
 * the state database (db.h) and a directory <state_root>/volumes/NAME/_data;
 * with the driver options type/o/device its _data is a mount point (tmpfs, a
 * bind of a host directory, an NFS share) mounted while containers use it.
 *
 * Crash safety: every operation on the volumes of one state root runs under
 * one lock (<state_root>/volumes/.lock, flock, released by the kernel when a
 * process dies). The row is written before the directory is made, and the
 * directory is removed before the row, so a process killed at any point leaves
 * either a row that `volume ls` shows (its directory made again on use, removed
 * by rm/prune), or nothing. prune also removes directories without a row.
 */
#ifndef ISOLA_ENGINE_VOLUME_H
#define ISOLA_ENGINE_VOLUME_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/db.h"
#include "util/err.h"

/* What `volume create` takes; NULL name = anonymous (64 hex digits), NULL
 * driver = "local", options/labels are JSON objects of strings (NULL = {}). */
struct volume_spec {
    const char *name;
    const char *driver;
    const char *options;
    const char *labels;
};

/*
 * Create a volume and its directory. An existing volume with the same driver
 * and options is returned as is (Docker's idempotent create, *created false);
 * with another driver or options it is EEXIST. Unknown drivers and driver
 * options are EINVAL.
 */
int volume_create(struct db *db, const char *state_root, const struct volume_spec *spec,
                  struct db_volume **out, bool *created, struct err **err);

/* Unmount (a volume left mounted by a crash), remove the directory, then the
 * row. A volume in use is never removed: EBUSY with Docker's message `remove
 * NAME: volume is in use - [ID, ...]`; a missing one is ENOENT (`get NAME: no
 * such volume`), or success with `force` (`docker volume rm -f`). */
int volume_remove(struct db *db, const char *state_root, const char *name, bool force,
                  struct err **err);

/* Which volumes prune may take: unused, anonymous unless `all`, and carrying
 * every label of `labels` (strings "KEY" or "KEY=VALUE"; "!"-prefixed: not). */
struct volume_prune_filter {
    bool all;
    const char *const *labels;
};

/* Remove the unused volumes that match; *removed (strv_free, optional) lists
 * them, *reclaimed (optional) is the bytes of their regular files, each inode
 * counted once (Docker's "Total reclaimed space"). Also removes directories
 * under <state_root>/volumes that have no row (left by a crash). */
int volume_prune(struct db *db, const char *state_root, const struct volume_prune_filter *f,
                 char ***removed, uint64_t *reclaimed, struct err **err);

/* Bytes of the regular files below path, not crossing mounts, a hard-linked
 * inode once (Docker's directory.Size; what volume_prune reclaims); 0 when
 * it cannot be read. `system df` sizes containers' upper dirs with it too. */
uint64_t volume_path_size(const char *path);

/* ", "-joined ids of the containers using the volume ("" when none). */
int volume_users(struct db *db, const char *name, char **users, struct err **err);

/*
 * What the spec composer calls for `-v NAME:/path`: create the volume when
 * missing, record that container_id (a row in the database) uses it, mount it
 * when its driver options say so (tmpfs, bind, nfs) and, when the volume is
 * empty and image_rootfs (NULL: no image) has content at container_path, copy
 * that content into it (Docker's "populate a volume from the image": owners,
 * modes, xattrs, times, symlinks, hard links, devices; resolved inside the
 * image root, never following a symlink out of it). *host_dir (caller frees)
 * is the directory to bind-mount at container_path.
 */
int volume_mount_source(struct db *db, const char *state_root, const char *name,
                        const char *image_rootfs, const char *container_path,
                        const char *container_id, char **host_dir, struct err **err);

/* The container no longer uses the volume; the last user gone, a mounted
 * volume (tmpfs, bind, nfs) is unmounted. Not in use: success. */
int volume_release(struct db *db, const char *name, const char *container_id, struct err **err);

#endif
