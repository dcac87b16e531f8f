/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Files: whole-file reads, crash-safe writes, and path resolution inside a root. */
#ifndef ISOLA_UTIL_FS_H
#define ISOLA_UTIL_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/* Read a whole file; *buf is NUL-terminated (len excludes the NUL). */
int fs_read_file(const char *path, char **buf, size_t *len, struct err **err);
int fs_read_fd(int fd, const char *what, char **buf, size_t *len, struct err **err);

/* Write all of buf, retrying on EINTR and short writes. */
int fs_write_all(int fd, const void *buf, size_t len, const char *what, struct err **err);

/*
 * Replace path with data so that a crash leaves either the old or the new file,
 * never a mixture: write a temporary file in the same directory, fsync it,
 * rename it over path, fsync the directory.
 */
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, struct err **err);

/*
 * fs_write_atomic() without the fsyncs: a crashed process leaves the old or
 * the new file, a power loss may leave neither. For the files of a run
 * directory (/run/isola: a tmpfs, emptied by a reboot anyway), where the two
 * fsyncs cost a `run -d` milliseconds on a disk-backed /run and buy nothing.
 */
int fs_write_replace(const char *path, const void *data, size_t len, mode_t mode, struct err **err);

/* Write a short string to an existing file (sysfs, cgroupfs, /proc). */
int fs_write_str(const char *path, const char *s, struct err **err);

/* mkdir -p; existing directories are fine. */
int fs_mkdir_p(const char *path, mode_t mode, struct err **err);

/* rm -rf that never follows symlinks and does not cross into other mounts
 * (it fails with EBUSY on a mount point instead). A missing path is success. */
int fs_rm_rf(const char *path, struct err **err);

/*
 * Open `path` inside the directory `rootfd` as if rootfd were "/": `..` stops at
 * the root and absolute symlinks are resolved from the root, so no path can name
 * a file outside it (openat2 RESOLVE_IN_ROOT). Magic links (/proc/self/fd/..)
 * are refused.
 */
int fs_open_in_root(int rootfd, const char *path, int flags, mode_t mode, struct err **err);

/* Like fs_open_in_root, but any attempt to leave rootfd (`..` above it, an
 * absolute symlink) fails with EXDEV instead of being clamped (RESOLVE_BENEATH). */
int fs_open_beneath(int rootfd, const char *path, int flags, mode_t mode, struct err **err);

/* mkdir -p of `path` inside rootfd with fs_open_in_root's resolution; returns an
 * O_PATH fd of the final directory. */
int fs_mkdir_in_root(int rootfd, const char *path, mode_t mode, struct err **err);

bool fs_exists(const char *path);

#endif
