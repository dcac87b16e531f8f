/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The VM monitor's control socket (control.h). */
#include "vm/control.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "vm/snapshot.h"

int control_listen(struct vm_machine *m, const char *path, struct err **err)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    struct stat st;

    if (strlen(path) >= sizeof(a.sun_path))
        return err_val(err, ENAMETOOLONG, "control socket `%s`: longer than %zu bytes", path,
                       sizeof(a.sun_path) - 1);
    memcpy(a.sun_path, path, strlen(path));
    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return err_sys(err, "control socket `%s`: socket", path);
    /* a socket left by a monitor that was killed: ours now */
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);
    mode_t old = umask(0077);
    int r = bind(fd, (struct sockaddr *)&a, sizeof(a));
    umask(old);
    if (r < 0)
        return err_sys(err, "control socket `%s`: bind", path);
    if (listen(fd, 8) < 0) {
        err_sys(err, "control socket `%s`: listen", path);
        unlink(path);
        return -1;
    }
    if (!(m->ctl_path = strdup(path))) {
        unlink(path);
        return err_set(err, ENOMEM, "control socket `%s`", path);
    }
    if (reaper_add(&m->reaper, path, err) < 0) {
        unlink(path);
        return err_wrap(err, "control socket `%s`", path);
    }
    m->ctl_fd = steal_fd(&fd);
    return 0;
}

static void control_reply(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void control_reply(int fd, const char *fmt, ...)
{
    char buf[CONTROL_MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(buf))
        n = sizeof(buf) - 1;
    send(fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* `snapshot [--leave-paused] DIR`: pause if running, save, and run again
 * unless asked to stay paused (or it was paused before). */
static int control_snapshot(struct vm_machine *m, const char *args, struct err **err)
{
    bool leave_paused = false, was_paused = m->paused;
    const char *opt = "--leave-paused ";

    if (strncmp(args, opt, strlen(opt)) == 0) {
        leave_paused = true;
        args += strlen(opt);
    }
    if (*args == '\0')
        return err_val(err, EINVAL, "%s", "snapshot: a directory is needed");
    if (!was_paused && machine_pause(m, err) < 0)
        return err_wrap(err, "snapshot `%s`", args);
    int r = snapshot_save(m, m->config, args, err);
    if (!was_paused && !leave_paused) {
        struct err *e = NULL;
        if (machine_resume(m, r < 0 ? &e : err) < 0 && r == 0)
            r = -1;
        err_free(&e);
    }
    return r;
}

static void control_one(struct vm_machine *m, int fd)
{
    char req[CONTROL_MSG_MAX];
    struct pollfd p = {.fd = fd, .events = POLLIN};
    struct err *e = NULL;
    int r = -1;

    /* a client that connects and says nothing does not hold the loop up */
    if (poll(&p, 1, 1000) <= 0)
        return;
    ssize_t n = recv(fd, req, sizeof(req) - 1, MSG_DONTWAIT);
    if (n <= 0)
        return;
    req[n] = '\0';
    if (strcmp(req, "pause") == 0) {
        r = machine_pause(m, &e);
    } else if (strcmp(req, "resume") == 0) {
        r = machine_resume(m, &e);
    } else if (strncmp(req, "snapshot ", 9) == 0) {
        r = control_snapshot(m, req + 9, &e);
    } else if (strcmp(req, "state") == 0) {
        r = 0;
    } else if (strcmp(req, "powerbutton") == 0) {
        if (machine_power_button(m, &e) == 0) {
            control_reply(fd, "ok");
            return;
        }
    } else {
        err_val(&e, EINVAL, "unknown request `%.64s`", req);
    }
    if (r == 0)
        control_reply(fd, "ok %s", m->paused ? "paused" : "running");
    else
        control_reply(fd, "error %s", e ? e->msg : "failed");
    err_free(&e);
}

void control_serve(struct vm_machine *m)
{
    for (;;) {
        int fd = accept4(m->ctl_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            return;
        control_one(m, fd);
        close(fd);
    }
}

void control_close(struct vm_machine *m)
{
    if (m->ctl_fd >= 0) {
        close(m->ctl_fd);
        m->ctl_fd = -1;
    }
    if (m->ctl_path) {
        unlink(m->ctl_path);
        free(m->ctl_path);
        m->ctl_path = NULL;
    }
}
