/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Files that must not outlive this process, even when it is killed with
 * SIGKILL (a monitor's listening sockets). reaper_start() forks one small
 * watcher that blocks in read() on a pipe whose write end only this process
 * holds; end of file means this process is gone (all of its threads: a parent
 * death signal would fire when the forking thread exits). The watcher then
 * removes every registered path that still is the file registered (same
 * st_dev/st_ino), so a new file that another process put at the path is kept,
 * and exits. On an orderly exit the owner removes its files itself and calls
 * reaper_stop(), which closes the pipe and reaps the watcher.
 *
 * The watcher keeps nothing of its parent alive: it closes every fd but the
 * pipe, leaves the session and process group (no terminal; a signal to the
 * group does not reach it), ignores SIGINT/SIGTERM/SIGHUP/SIGQUIT and works in
 * "/". Mappings that must not be shared with it (guest RAM, KVM's run areas)
 * are to be marked MADV_DONTFORK by their owners.
 */
#ifndef ISOLA_UTIL_REAPER_H
#define ISOLA_UTIL_REAPER_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

struct reaper_file {
    char *path; /* absolute */
    dev_t dev;
    ino_t ino;
};

struct reaper {
    struct reaper_file *files;
    size_t nfiles;
    pid_t pid; /* the watcher, 0 when not started */
    int fd;    /* write end of the pipe, -1 when not started */
};

/* An empty reaper that reaper_stop() accepts. */
void reaper_init(struct reaper *r);

/* Register path, an existing file, by its identity now (lstat). A relative
 * path is made absolute against the current directory. Only before
 * reaper_start() (EBUSY after). */
int reaper_add(struct reaper *r, const char *path, struct err **err);

/* Fork the watcher, named `name` (PR_SET_NAME, at most 15 bytes shown).
 * Does nothing when no path is registered. */
int reaper_start(struct reaper *r, const char *name, struct err **err);

/* Close the pipe and wait (bounded) for the watcher, which removes any
 * registered file still in place; forget the paths. r is then empty again. */
void reaper_stop(struct reaper *r);

#endif
