/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The run directory of foreground runs (`isola run`, /run/isola): one bundle
 * directory per run, `bundle-XXXXXX`, locked (flock) by its `isola run` for as
 * long as it lives, and the runtime's state root for their containers. A run
 * that was killed (SIGKILL, a crash) leaves its bundle unlocked: the next run
 * collects it, with its container (processes, cgroup, state) and its mounted
 * overlay. Until the engine keeps stopped containers, nothing else is kept.
 */
#ifndef ISOLA_ENGINE_RUNDIR_H
#define ISOLA_ENGINE_RUNDIR_H

#include <stddef.h>

#include "util/err.h"

/* Remove the leftovers of dead runs under `base` (bundles nobody holds, and
 * the containers in `state_root` made from them). */
int rundir_gc(const char *base, const char *state_root, struct err **err);

/* Collect leftovers, then make base/bundle-XXXXXX (path in dir[len]) and lock
 * it: the lock lasts while *lockfd is open. */
int rundir_new_bundle(const char *base, const char *state_root, char *dir, size_t len, int *lockfd,
                      struct err **err);

#endif
