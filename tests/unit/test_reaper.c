/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The cleanup watcher (src/util/reaper.h): files go when their owner is killed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/proc.h"
#include "util/reaper.h"

static char dir[64];

static void touch(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
}

static ino_t ino_of(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 ? st.st_ino : 0;
}

static int count_fds(pid_t pid)
{
    char p[64];
    _cleanup_closedir_ DIR *d = NULL;
    struct dirent *de;
    int n = 0;

    snprintf(p, sizeof(p), "/proc/%d/fd", (int)pid);
    d = opendir(p);
    if (d == NULL)
        return -1;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            n++;
    return n;
}

/* The watcher's ignored-signal mask (SigIgn in /proc/PID/status). */
static unsigned long long sig_ignored(pid_t pid)
{
    char p[64];
    _cleanup_free_ char *buf = NULL;
    _cleanup_err_ struct err *e = NULL;
    char *s;

    snprintf(p, sizeof(p), "/proc/%d/status", (int)pid);
    if (fs_read_file(p, &buf, NULL, &e) < 0 || (s = strstr(buf, "SigIgn:")) == NULL)
        return 0;
    return strtoull(s + 7, NULL, 16);
}

static void test_nothing_registered(void)
{
    struct reaper r;
    struct err *e = NULL;
    char missing[128];

    reaper_init(&r);
    ok(reaper_start(&r, "isola-test-reap", &e) == 0 && r.pid == 0 && r.fd < 0,
       "no file registered: nothing forked");
    snprintf(missing, sizeof(missing), "%s/missing", dir);
    int rc = reaper_add(&r, missing, &e);
    ok(rc < 0 && e && strstr(e->msg, missing) && e->code == ENOENT,
       "a missing file is refused, named: %s", e ? e->msg : "");
    err_free(&e);
    reaper_stop(&r);
}

static void test_orderly_stop(void)
{
    struct reaper r;
    struct err *e = NULL;
    char a[128], b[128], p[64], comm[64] = "";
    _cleanup_free_ char *c = NULL;

    snprintf(a, sizeof(a), "%s/orderly-a", dir);
    snprintf(b, sizeof(b), "%s/orderly-b", dir);
    touch(a);
    touch(b);
    reaper_init(&r);
    ok(reaper_add(&r, a, &e) == 0 && reaper_add(&r, b, &e) == 0, "two files registered");
    int rc = reaper_start(&r, "isola-test-reap", &e);
    ok(rc == 0 && r.pid > 0, "watcher started%s%s", e ? ": " : "", e ? e->msg : "");
    err_free(&e);
    if (r.pid <= 0)
        return;
    ok(reaper_add(&r, a, &e) < 0 && e && e->code == EBUSY, "no registration after the start");
    err_free(&e);
    snprintf(p, sizeof(p), "/proc/%d/comm", (int)r.pid);
    if (fs_read_file(p, &c, NULL, &e) == 0)
        snprintf(comm, sizeof(comm), "%.*s", (int)strcspn(c, "\n"), c);
    err_free(&e);
    /* The watcher may still be between fork and prctl/close_range: wait for
     * its name, which it sets before closing fds, then for the fds to go. */
    for (int i = 0; i < 2000 && strcmp(comm, "isola-test-reap") != 0; i++) {
        usleep(1000);
        free(c);
        c = NULL;
        if (fs_read_file(p, &c, NULL, &e) == 0)
            snprintf(comm, sizeof(comm), "%.*s", (int)strcspn(c, "\n"), c);
        err_free(&e);
    }
    is_str(comm, "isola-test-reap", "watcher named by PR_SET_NAME");
    int nfd = count_fds(r.pid);
    for (int i = 0; i < 2000 && nfd != 1; i++) {
        usleep(1000);
        nfd = count_fds(r.pid);
    }
    ok(nfd == 1, "watcher holds one fd (the pipe), has %d", nfd);
    ok(getsid(r.pid) == r.pid, "watcher leads its own session (no terminal, own group)");
    unsigned long long ign = sig_ignored(r.pid);
    ok((ign & (1ull << (SIGINT - 1))) && (ign & (1ull << (SIGTERM - 1))) &&
           (ign & (1ull << (SIGHUP - 1))),
       "watcher ignores SIGINT, SIGTERM, SIGHUP (SigIgn %llx)", ign);
    /* The owner removes a itself, forgets b: the watcher removes b. */
    unlink(a);
    pid_t pid = r.pid;
    reaper_stop(&r);
    ok(r.pid == 0 && r.fd < 0 && r.nfiles == 0, "stopped: reaper empty again");
    ok(kill(pid, 0) < 0 && errno == ESRCH, "watcher reaped by reaper_stop");
    ok(!fs_exists(a) && !fs_exists(b), "file left by the owner removed on stop");
}

struct owner {
    struct reaper r;
    const char *name;
    int rc;
};

static void *start_thread(void *arg)
{
    struct owner *o = arg;
    struct err *e = NULL;

    o->rc = reaper_start(&o->r, o->name, &e);
    err_free(&e);
    return NULL;
}

/* The owner is killed with SIGKILL: a (still the registered inode) goes,
 * b (replaced by another file since) stays, and the watcher exits. */
static void test_sigkill(void)
{
    char a[128], b[128], bnew[128], rel[64];
    int pfd[2];
    pid_t owner, watcher = 0;
    int st = 0;

    snprintf(a, sizeof(a), "%s/kill-a", dir);
    snprintf(b, sizeof(b), "%s/kill-b", dir);
    snprintf(bnew, sizeof(bnew), "%s/kill-b.new", dir);
    snprintf(rel, sizeof(rel), "kill-rel");
    touch(a);
    touch(b);
    /* Orphans come back to this process, so the watcher can be waited for. */
    ok(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0, "test is a child subreaper");
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        ok(0, "pipe: %s", strerror(errno));
        return;
    }
    owner = fork();
    if (owner == 0) {
        struct owner o = {.name = "isola-test-reap"};
        struct err *e = NULL;
        pthread_t t;

        close(pfd[0]);
        reaper_init(&o.r);
        /* A relative path is kept against the directory at registration. */
        if (chdir(dir) < 0)
            _exit(2);
        touch(rel);
        if (reaper_add(&o.r, a, &e) < 0 || reaper_add(&o.r, b, &e) < 0 ||
            reaper_add(&o.r, rel, &e) < 0 || chdir("/") < 0)
            _exit(2);
        /* Started from a thread that then ends: the watcher must not take
         * that for its owner's death (what PR_SET_PDEATHSIG would do). */
        if (pthread_create(&t, NULL, start_thread, &o) != 0 || pthread_join(t, NULL) != 0 ||
            o.rc < 0)
            _exit(3);
        /* Another file takes b's place (a new inode: both exist at once). */
        touch(bnew);
        if (rename(bnew, b) < 0)
            _exit(4);
        if (write(pfd[1], &o.r.pid, sizeof(o.r.pid)) != sizeof(o.r.pid))
            _exit(5);
        raise(SIGKILL);
        _exit(6);
    }
    close(pfd[1]);
    if (owner < 0) {
        close(pfd[0]);
        ok(0, "fork: %s", strerror(errno));
        return;
    }
    if (read(pfd[0], &watcher, sizeof(watcher)) != sizeof(watcher))
        watcher = 0;
    close(pfd[0]);
    ino_t bino = ino_of(b);
    while (waitpid(owner, &st, 0) < 0 && errno == EINTR)
        ;
    ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "owner killed by SIGKILL (status %#x)", st);
    ok(watcher > 0, "owner reported its watcher's pid");
    if (watcher <= 0)
        return;
    struct err *e = NULL;
    st = -1;
    int rc = proc_wait(watcher, 10000, &st, &e);
    ok(rc == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
       "watcher exited after its owner's death%s%s", e ? ": " : "", e ? e->msg : "");
    err_free(&e);
    ok(!fs_exists(a), "registered file removed");
    char relabs[160];
    snprintf(relabs, sizeof(relabs), "%s/%s", dir, rel);
    ok(!fs_exists(relabs), "registered relative path removed");
    ok(fs_exists(b) && ino_of(b) == bino, "file replaced by another inode kept");
    prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
}

int main(void)
{
    struct err *e = NULL;

    snprintf(dir, sizeof(dir), "/tmp/isola-test-reaper.%d", (int)getpid());
    if (fs_mkdir_p(dir, 0700, &e) < 0) {
        ok(0, "mkdir %s", dir);
        err_free(&e);
        return done_testing();
    }
    test_nothing_registered();
    test_orderly_stop();
    test_sigkill();
    fs_rm_rf(dir, &e);
    err_free(&e);
    return done_testing();
}
