// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `isola run --isolation=vm` in the foreground (docs/microvm.md): the bundle
 * that cmd_run.c composed runs in a microVM through the isolation table
 * (engine/iso_microvm.c). This front end picks the guest kernel, the agent,
 * the monitor and the cache (flags and environment are read here, never in the
 * library), forwards the signals a foreground run forwards, and returns the
 * workload's exit status.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cli/run_vm.h"
#include "engine/isolation.h"
#include "util/cleanup.h"

/* dir of this executable + "/" + name, or $env when set. */
static void next_to_self(const char *env, const char *name, char *out, size_t len)
{
    const char *e = getenv(env);
    char self[PATH_MAX];
    ssize_t n;

    if (e != NULL && *e != '\0') {
        snprintf(out, len, "%s", e);
        return;
    }
    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    self[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(self, '/');
    if (slash != NULL)
        *slash = '\0';
    snprintf(out, len, "%.*s/%s", PATH_MAX - 64, self, name);
}

static void cache_base(char *out, size_t len)
{
    const char *c = getenv("ISOLA_CACHE");
    const char *home = getenv("HOME");

    if (c != NULL && *c != '\0')
        snprintf(out, len, "%s", c);
    else
        snprintf(out, len, "%s/.cache/isola", home != NULL && *home != '\0' ? home : "/root");
}

int run_vm_resolve(const char *kernel_arg, struct run_vm_paths *p, struct err **err)
{
    char cache[PATH_MAX];

    cache_base(cache, sizeof(cache));
    if (kernel_arg != NULL)
        snprintf(p->kernel_dir, sizeof(p->kernel_dir), "%s", kernel_arg);
    else
        snprintf(p->kernel_dir, sizeof(p->kernel_dir), "%.*s/testhost/current", PATH_MAX - 64,
                 cache);
    if (access(p->kernel_dir, R_OK) < 0)
        return err_sys(err,
                       "guest kernel directory `%s` (run scripts/testhost/prepare, or pass "
                       "--kernel DIR with DIR/vmlinuz and DIR/lib/modules/VERSION)",
                       p->kernel_dir);
    snprintf(p->cache_dir, sizeof(p->cache_dir), "%.*s/microvm", PATH_MAX - 64, cache);
    next_to_self("ISOLA_AGENT", "isola-agent", p->agent, sizeof(p->agent));
    next_to_self("ISOLA_VMM", "isola-vmm", p->vmm, sizeof(p->vmm));
    if (access(p->agent, R_OK) < 0)
        return err_sys(err, "guest agent `%s` (built with isola; $ISOLA_AGENT names another)",
                       p->agent);
    if (access(p->vmm, X_OK) < 0)
        return err_sys(err, "VM monitor `%s` ($ISOLA_VMM names another)", p->vmm);
    return 0;
}

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

int run_vm(const struct run_vm_paths *p, const char *state_root, const char *id, const char *bundle,
           const char *root_key, int *status, struct err **err)
{
    struct iso_ctx ctx = {
        .state_root = state_root,
        .kernel_dir = p->kernel_dir,
        .agent = p->agent,
        .vmm = p->vmm,
        .cache_dir = p->cache_dir,
    };
    struct iso_stdio io = {.in = -1, .out = 1, .err = 2, .pty_master = -1};
    struct iso_create_opts o = {
        .id = id,
        .bundle = bundle,
        .stdio = &io,
        .die_with_caller = true,
        .root_key = root_key,
    };
    const struct iso_ops *ops = &iso_microvm_ops;
    struct iso_workload w = {0};
    struct iso_exit ex;
    sigset_t mask, old;

    /* blocked before the relay threads exist, so that only signalfd sees them */
    sigemptyset(&mask);
    for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
        sigaddset(&mask, forwarded[i]);
    sigprocmask(SIG_BLOCK, &mask, &old);
    _cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
    int rc = -1;
    if (sfd < 0) {
        err_sys(err, "signalfd");
        goto out;
    }
    if (ops->create(&ctx, &o, &w, err) < 0)
        goto out;
    if (ops->start(&w, err) < 0)
        goto out_delete;
    for (;;) {
        struct pollfd pf[2] = {{.fd = w.exit_fd, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
        if (poll(pf, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            err_sys(err, "poll");
            goto out_delete;
        }
        if (pf[1].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof(si)) == sizeof(si) &&
                ops->kill(&w, (int)si.ssi_signo, false, err) < 0)
                goto out_delete;
        }
        if (pf[0].revents)
            break;
    }
    if (ops->reap(&w, &ex, err) < 0)
        goto out_delete;
    *status = ex.code;
    rc = 0;
out_delete:
    if (w.impl != NULL) {
        struct err *e = NULL;
        if (ops->delete (&w, true, rc < 0 ? &e : err) < 0) {
            if (rc == 0)
                rc = -1;
            err_free(&e);
        }
    }
out:
    sigprocmask(SIG_SETMASK, &old, NULL);
    return rc;
}
