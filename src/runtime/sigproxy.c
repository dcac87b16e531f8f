/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "runtime/sigproxy.h"

#include <errno.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/proc.h"

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

static void forward_set(sigset_t *set)
{
    sigemptyset(set);
    for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
        sigaddset(set, forwarded[i]);
}

void sigproxy_block(struct sigproxy_mask *m)
{
    sigset_t set;

    forward_set(&set);
    m->blocked = sigprocmask(SIG_BLOCK, &set, &m->old) == 0;
}

void sigproxy_restore(struct sigproxy_mask *m)
{
    if (m->blocked)
        sigprocmask(SIG_SETMASK, &m->old, NULL);
    m->blocked = false;
}

int sigproxy_wait(pid_t pid, int *ws, struct err **err)
{
    sigset_t set;
    _cleanup_close_ int sfd = -1, pidfd = -1;

    forward_set(&set);
    sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0)
        return err_sys(err, "signalfd");
    pidfd = proc_pidfd(pid, err);
    if (pidfd < 0)
        return -1;
    for (;;) {
        struct pollfd pf[2] = {{.fd = pidfd, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
        if (poll(pf, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return err_sys(err, "poll");
        }
        if (pf[1].revents & POLLIN) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof(si)) == sizeof(si))
                /* the init may be gone already: its exit is seen next */
                kill(pid, (int)si.ssi_signo);
        }
        if (pf[0].revents & (POLLIN | POLLHUP))
            break;
    }
    while (waitpid(pid, ws, 0) < 0)
        if (errno != EINTR)
            return err_sys(err, "wait for pid %d", (int)pid);
    return 0;
}
