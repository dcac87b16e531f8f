/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Copy a directory tree between two open directories (volume.c's populate). */
#ifndef ISOLA_ENGINE_VOLUME_COPY_H
#define ISOLA_ENGINE_VOLUME_COPY_H

#include "util/err.h"

/*
 * Copy the content of directory srcfd into directory dstfd (and dstfd's own
 * owner, mode, xattrs and times from srcfd, as Docker's copy-up): regular files,
 * directories, symlinks (copied, never followed), hard links (kept as links),
 * device nodes and fifos (sockets are skipped); owners, modes (setuid
 * included), xattrs of files and directories, and modification times. Every
 * step opens a direct child with O_NOFOLLOW, so nothing outside srcfd is read.
 */
int volume_copy_tree(int srcfd, int dstfd, struct err **err);

#endif
