/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Inside the store module: temporary blob files (store_tmp.c). */
#ifndef ISOLA_IMAGE_STORE_PRIV_H
#define ISOLA_IMAGE_STORE_PRIV_H

#include "image/store.h"
#include "util/err.h"

/*
 * Create ROOT/tmp/blob-XXXXXX, locked (flock LOCK_EX) for as long as the
 * returned fd is open, and listed for the signal cleanup. Returns the fd; *path
 * is the caller's. Call store_tmp_forget(path) once it is renamed or removed,
 * before freeing path.
 */
int store_tmp_create(struct store *s, char **path, struct err **err);
void store_tmp_forget(const char *path);
/* Remove the temporary blob files of dead writers; returns how many. Best effort. */
int store_tmp_sweep(struct store *s);

#endif
