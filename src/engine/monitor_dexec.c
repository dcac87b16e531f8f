/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The monitor's detached execs (monitor_dexec.h). */
#include "engine/monitor_dexec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "runtime/oci_state.h"
#include "util/cleanup.h"
#include "util/js.h"

void mon_dexec_init(struct mon_dexecs *d, int ep, const struct iso_ops *iso, struct iso_workload *w,
                    const char *dir)
{
    d->ep = ep;
    d->iso = iso;
    d->w = w;
    snprintf(d->path, sizeof(d->path), "%s/execs", dir);
    for (size_t i = 0; i < MON_DEXEC_MAX; i++)
        d->s[i] = (struct mon_dexec){.x = {.exit_fd = -1}, .fds = {-1, -1, -1}};
}

static void dexec_add(struct mon_dexecs *d, int fd, uint64_t tag)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag};
    if (fd >= 0)
        epoll_ctl(d->ep, EPOLL_CTL_ADD, fd, &ev);
}

bool mon_dexec_adopt(struct mon_dexecs *d, const struct iso_exec *x, int out, int err, int in,
                     const char *what)
{
    for (size_t i = 0; i < MON_DEXEC_MAX; i++) {
        struct mon_dexec *s = &d->s[i];
        if (s->x.exit_fd >= 0)
            continue;
        *s = (struct mon_dexec){.x = *x, .fds = {out, err, in}};
        snprintf(s->what, sizeof(s->what), "%s", what ? what : "");
        uint64_t tag = MON_DEXEC_TAG + 4 * i;
        dexec_add(d, s->x.exit_fd, tag);
        dexec_add(d, out, tag + 1);
        dexec_add(d, err, tag + 2);
        return true;
    }
    return false;
}

static void dexec_close_fd(struct mon_dexecs *d, int *fd)
{
    if (*fd >= 0) {
        epoll_ctl(d->ep, EPOLL_CTL_DEL, *fd, NULL);
        close(*fd);
        *fd = -1;
    }
}

/* Output nobody reads: drained and dropped, as Docker does for a detached
 * exec. Closed at EOF (or EIO: a pty whose slave side is gone). */
static void dexec_drain(struct mon_dexecs *d, int *fd)
{
    char buf[4096];

    for (;;) {
        ssize_t n = read(*fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            dexec_close_fd(d, fd);
            return;
        }
    }
}

static void dexec_reap(struct mon_dexecs *d, struct mon_dexec *s)
{
    struct iso_exit x = {0};
    struct err *e = NULL;
    pid_t pid = s->x.pid;

    for (int k = 0; k < 2; k++)
        if (s->fds[k] >= 0)
            dexec_drain(d, &s->fds[k]);
    for (int k = 0; k < 3; k++)
        dexec_close_fd(d, &s->fds[k]);
    epoll_ctl(d->ep, EPOLL_CTL_DEL, s->x.exit_fd, NULL);
    int r = d->iso->exec_reap(d->w, &s->x, &x, &e);
    err_free(&e);
    if (r < 0) {
        close(s->x.exit_fd);
        x.code = -1;
    }
    s->x.exit_fd = -1;
    _cleanup_free_ char *now = state_now_rfc3339();
    _cleanup_json_ json_t *j =
        json_pack("{s:i,s:s,s:i,s:i,s:s}", "pid", (int)pid, "command", s->what, "exitCode", x.code,
                  "signal", x.signal, "finishedAt", now ? now : "");
    _cleanup_free_ char *line = j ? js_dump(j) : NULL;
    int fd = open(d->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0 && line) {
        size_t n = strlen(line);
        line[n] = '\n';
        if (write(fd, line, n + 1) < 0) {
            /* a full disk: the exit is not recorded, nothing else to do */
        }
        line[n] = '\0';
    }
    if (fd >= 0)
        close(fd);
}

void mon_dexec_event(struct mon_dexecs *d, uint64_t tag)
{
    uint64_t i = (tag - MON_DEXEC_TAG) / 4, k = (tag - MON_DEXEC_TAG) % 4;
    struct mon_dexec *s;

    if (i >= MON_DEXEC_MAX || (s = &d->s[i])->x.exit_fd < 0)
        return;
    if (k == 0)
        dexec_reap(d, s);
    else if (k <= 2 && s->fds[k - 1] >= 0)
        dexec_drain(d, &s->fds[k - 1]);
}

bool mon_dexec_owns(const struct mon_dexecs *d, pid_t pid)
{
    for (size_t i = 0; i < MON_DEXEC_MAX; i++)
        if (d->s[i].x.exit_fd >= 0 && d->s[i].x.pid == pid)
            return true;
    return false;
}

void mon_dexec_end_all(struct mon_dexecs *d)
{
    for (size_t i = 0; i < MON_DEXEC_MAX; i++) {
        struct mon_dexec *s = &d->s[i];
        if (s->x.exit_fd < 0)
            continue;
        if (s->x.pid > 0)
            kill(s->x.pid, SIGKILL);
        dexec_reap(d, s);
    }
}
