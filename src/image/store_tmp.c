/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Temporary blob files in ROOT/tmp (`blob-XXXXXX`): who owns one, and removing
 * those whose writer died.
 *
 * A writer holds flock(LOCK_EX) on its temporary file from right after creating
 * it until it renames or removes it; the kernel drops the lock when the process
 * dies, however it dies. store_open() then removes every `blob-*` file whose lock
 * it can take: no live process owns it. A file is written only after its lock
 * is held, so a file the sweep can lock while it has data is a dead writer's; an
 * empty one may be a writer between mkostemp() and flock() and is left alone
 * (`isola image prune` removes it).
 *
 * On SIGINT, SIGTERM and SIGHUP the front ends that ask for it
 * (store_tmp_unlink_on_signals) remove this process's temporary files, then die
 * of the signal as before.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/store.h"
#include "image/store_priv.h"
#include "util/cleanup.h"

#define TMP_PREFIX "blob-"
#define TMP_SLOTS  64

/* This process's live temporary files, read by the signal handler. The strings
 * belong to their writers; a slot is cleared before its string is freed. */
static char *tmp_slots[TMP_SLOTS];
static pid_t tmp_owner;

static void tmp_register(char *path)
{
    for (size_t i = 0; i < TMP_SLOTS; i++) {
        char *expected = NULL;
        if (__atomic_compare_exchange_n(&tmp_slots[i], &expected, path, false, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST))
            return;
    }
    /* All slots taken: a signal leaves this file to the next store_open. */
}

void store_tmp_forget(const char *path)
{
    if (path == NULL)
        return;
    for (size_t i = 0; i < TMP_SLOTS; i++) {
        char *expected = (char *)path;
        if (__atomic_compare_exchange_n(&tmp_slots[i], &expected, NULL, false, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST))
            return;
    }
}

int store_tmp_create(struct store *s, char **path, struct err **err)
{
    _cleanup_free_ char *p = NULL;
    _cleanup_close_ int fd = -1;

    if (asprintf(&p, "%s/tmp/" TMP_PREFIX "XXXXXX", s->root) < 0) {
        p = NULL;
        return err_set(err, ENOMEM, "temporary file in `%s/tmp`", s->root);
    }
    fd = mkostemp(p, O_CLOEXEC);
    if (fd < 0)
        return err_sys(err, "create `%s`", p);
    /* Blocks only while a sweep looks at the still empty file. */
    while (flock(fd, LOCK_EX) < 0) {
        if (errno != EINTR) {
            err_sys(err, "lock `%s`", p);
            unlink(p);
            return -1;
        }
    }
    tmp_register(p);
    *path = steal_ptr(&p);
    return steal_fd(&fd);
}

int store_tmp_sweep(struct store *s)
{
    _cleanup_free_ char *dir = NULL;
    _cleanup_closedir_ DIR *d = NULL;
    struct dirent *de;
    int removed = 0;

    if (asprintf(&dir, "%s/tmp", s->root) < 0) {
        dir = NULL;
        return 0;
    }
    d = opendir(dir);
    if (d == NULL)
        return 0;
    while ((de = readdir(d)) != NULL) {
        _cleanup_close_ int fd = -1;
        struct stat st, now;

        if (strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) != 0)
            continue;
        fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
            continue;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0)
            continue; /* a live writer's */
        /* Still the same file under that name (not renamed away meanwhile). */
        if (fstatat(dirfd(d), de->d_name, &now, AT_SYMLINK_NOFOLLOW) < 0 ||
            now.st_dev != st.st_dev || now.st_ino != st.st_ino)
            continue;
        if (unlinkat(dirfd(d), de->d_name, 0) == 0)
            removed++;
    }
    return removed;
}

static void store_tmp_unlink_all(void)
{
    for (size_t i = 0; i < TMP_SLOTS; i++) {
        const char *p = __atomic_load_n(&tmp_slots[i], __ATOMIC_SEQ_CST);
        if (p != NULL)
            unlink(p);
    }
}

static void tmp_on_signal(int sig)
{
    /* SA_RESETHAND restored the default action and SA_NODEFER leaves the signal
     * unblocked: raise() ends the process with it, as if never caught. A child
     * forked without exec keeps the handler but not the files: only the process
     * that installed it removes them. */
    if (getpid() == tmp_owner)
        store_tmp_unlink_all();
    raise(sig);
}

int store_tmp_unlink_on_signals(struct err **err)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction sa = {.sa_handler = tmp_on_signal, .sa_flags = SA_RESETHAND | SA_NODEFER};

    tmp_owner = getpid();
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
        struct sigaction old;
        if (sigaction(sigs[i], NULL, &old) < 0)
            return err_sys(err, "read the action of signal %d", sigs[i]);
        if (old.sa_handler == SIG_IGN)
            continue; /* nohup, background job: keep ignoring */
        if (sigaction(sigs[i], &sa, NULL) < 0)
            return err_sys(err, "set the action of signal %d", sigs[i]);
    }
    return 0;
}
