/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "reaper.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "proc.h"

/* How long reaper_stop() waits for the watcher; it needs a few lstat/unlink. */
#define REAPER_STOP_MS 5000

void reaper_init(struct reaper *r)
{
    memset(r, 0, sizeof(*r));
    r->fd = -1;
}

int reaper_add(struct reaper *r, const char *path, struct err **err)
{
    _cleanup_free_ char *abs = NULL;
    struct reaper_file *files;
    struct stat st;

    if (r->pid > 0)
        return err_val(err, EBUSY, "cleanup watcher: `%s` registered after it started", path);
    if (lstat(path, &st) < 0)
        return err_sys(err, "cleanup watcher: lstat `%s`", path);
    if (path[0] == '/') {
        abs = strdup(path);
    } else {
        char cwd[PATH_MAX];
        if (getcwd(cwd, sizeof(cwd)) == NULL)
            return err_sys(err, "cleanup watcher: `%s`: current directory", path);
        if (asprintf(&abs, "%s/%s", cwd, path) < 0)
            abs = NULL;
    }
    if (abs == NULL)
        return err_set(err, ENOMEM, "cleanup watcher: `%s`", path);
    files = realloc(r->files, (r->nfiles + 1) * sizeof(*files));
    if (files == NULL)
        return err_set(err, ENOMEM, "cleanup watcher: `%s`", path);
    r->files = files;
    files[r->nfiles++] =
        (struct reaper_file){.path = steal_ptr(&abs), .dev = st.st_dev, .ino = st.st_ino};
    return 0;
}

/* Close every fd but keep. */
static void reaper_close_all_but(int keep)
{
    if (keep > 0 && syscall(SYS_close_range, 0U, (unsigned)keep - 1, 0U) < 0)
        for (int fd = 0; fd < keep; fd++)
            close(fd);
    if (syscall(SYS_close_range, (unsigned)keep + 1, ~0U, 0U) < 0) {
        long max = sysconf(_SC_OPEN_MAX);
        for (long fd = keep + 1; fd < (max > 0 ? max : 65536); fd++)
            close((int)fd);
    }
}

/*
 * The watcher, in the child of a fork from a process that may have threads:
 * only async-signal-safe calls (no malloc, no stdio) until _exit.
 */
static __attribute__((noreturn)) void reaper_watch(const struct reaper *r, int rfd,
                                                   const char *name)
{
    struct sigaction ign = {.sa_handler = SIG_IGN};
    static const int sigs[] = {SIGINT,  SIGTERM, SIGHUP,  SIGQUIT,
                               SIGTSTP, SIGTTIN, SIGTTOU, SIGPIPE};
    sigset_t none;
    char c;

    for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
        sigaction(sigs[i], &ign, NULL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* Out of the monitor's session and process group: no controlling terminal,
     * and `kill -KILL -PGID` or timeout(1) signalling its group spares us. */
    setsid();
    prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
    reaper_close_all_but(rfd);
    if (chdir("/") < 0) {
        /* Paths are absolute: the directory only matters for unmounting. */
    }
    for (;;) {
        ssize_t n = read(rfd, &c, 1);
        if (n == 0)
            break; /* every write end is closed: the owner is gone */
        if (n < 0 && errno != EINTR)
            break;
    }
    for (size_t i = 0; i < r->nfiles; i++) {
        struct stat st;
        /* Not atomic with the unlink, but the owner died just now: a new
         * owner re-creating the path within that window is not expected. */
        if (lstat(r->files[i].path, &st) == 0 && st.st_dev == r->files[i].dev &&
            st.st_ino == r->files[i].ino)
            unlink(r->files[i].path);
    }
    _exit(0);
}

int reaper_start(struct reaper *r, const char *name, struct err **err)
{
    int p[2];
    pid_t pid;

    if (r->pid > 0)
        return err_val(err, EBUSY, "cleanup watcher: already started (pid %d)", (int)r->pid);
    if (r->nfiles == 0)
        return 0;
    /* Close-on-exec: a program the owner runs later must not hold the write
     * end, or the watcher would wait for it too. */
    if (pipe2(p, O_CLOEXEC) < 0)
        return err_sys(err, "cleanup watcher: pipe");
    pid = fork();
    if (pid < 0) {
        err_sys(err, "cleanup watcher: fork");
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0)
        reaper_watch(r, p[0], name);
    close(p[0]);
    r->pid = pid;
    r->fd = p[1];
    return 0;
}

void reaper_stop(struct reaper *r)
{
    _cleanup_err_ struct err *e = NULL;

    cleanup_closep(&r->fd);
    /* Killed only if it is still there: after another failure (ECHILD) the
     * pid may name some other process by now. */
    if (r->pid > 0 && proc_wait(r->pid, REAPER_STOP_MS, NULL, &e) < 0 && e->code == ETIMEDOUT)
        proc_kill_reap(r->pid);
    for (size_t i = 0; i < r->nfiles; i++)
        free(r->files[i].path);
    free(r->files);
    reaper_init(r);
}
