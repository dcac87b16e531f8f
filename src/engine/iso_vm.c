/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The `vm` isolation: the workload is a whole virtual machine, run by its own
 * VM monitor process (isola-vmm) that is the caller's child. The bundle is a
 * directory with
 *
 *   vm.json      the VM's config (src/vm/vm_config.h, absolute paths)
 *   launch.json  {"argv": [VMM, "run", "--config", ".../vm.json", ...]}: the
 *                monitor's command line, written by the engine (vmw.c), so
 *                that this file reads no environment and finds no program
 *
 * The VM's serial console is the VMM's stdin and stdout, so the caller's stdio
 * fds are the console: its log, `attach`. A pty is refused (the console is a
 * byte stream; `isola vm console` puts the caller's terminal in raw mode).
 *
 * Signals go to the VMM, whose meaning is its own (docs/vm.md): SIGTERM and
 * SIGINT power the VM off at once, SIGPWR asks the guest to shut down (the
 * stop signal of a managed VM), SIGKILL ends the VMM.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/isolation.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"
#include "util/proc.h"

struct vm_wl {
    bool reaped;
};

static int vm_fail(struct iso_workload *w, struct err **err)
{
    return err_wrap(err, "VM `%s`", w->id);
}

/* launch.json's argv (NULL-terminated; caller frees the array, the strings
 * live in *j). */
static int vm_load_argv(const char *bundle, json_t **j, char ***argv, struct err **err)
{
    _cleanup_free_ char *path = NULL;
    json_t *a = NULL, *it;
    size_t i;

    if (asprintf(&path, "%s/launch.json", bundle) < 0)
        return err_set(err, ENOMEM, "launch.json");
    if (js_load_file(path, j, err) < 0 || js_get_arr(*j, "", "argv", true, &a, err) < 0)
        return -1;
    if (json_array_size(a) == 0)
        return err_val(err, EINVAL, "`%s`: argv is empty", path);
    *argv = calloc(json_array_size(a) + 1, sizeof(char *));
    if (!*argv)
        return err_set(err, ENOMEM, "launch.json");
    json_array_foreach (a, i, it) {
        if (!json_is_string(it)) {
            free(*argv);
            *argv = NULL;
            return err_val(err, EINVAL, "`%s`: argv[%zu] is not a string", path, i);
        }
        (*argv)[i] = (char *)json_string_value(it);
    }
    return 0;
}

static void vm_child(char **argv, const struct iso_create_opts *o, pid_t parent, int errfd)
{
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    int fds[3] = {o->stdio->in, o->stdio->out, o->stdio->err};
    int e;

    if (o->die_with_caller) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
    }
    /* fds above 2 first, so that a dup2 does not close one still needed */
    for (int i = 0; i < 3; i++) {
        int src = fds[i] >= 0 ? fds[i] : null;
        int tmp = fcntl(src, F_DUPFD_CLOEXEC, 3);
        fds[i] = tmp;
    }
    for (int i = 0; i < 3; i++)
        if (fds[i] < 0 || dup2(fds[i], i) < 0)
            goto fail;
    /* the caller's handlers and mask are not the VMM's */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int s = 1; s < NSIG; s++)
        signal(s, SIG_DFL);
    execv(argv[0], argv);
fail:
    e = errno;
    if (write(errfd, &e, sizeof(e)) < 0) {
        /* the parent sees EOF and a dead child */
    }
    _exit(127);
}

static int vm_create(const struct iso_ctx *c, const struct iso_create_opts *o,
                     struct iso_workload *w, struct err **err)
{
    _cleanup_json_ json_t *j = NULL;
    _cleanup_free_ char **argv = NULL;
    struct vm_wl *v = NULL;
    int p[2];

    (void)c;
    memset(w, 0, sizeof(*w));
    w->ops = &iso_vm_ops;
    w->exit_fd = -1;
    if (!(w->id = strdup(o->id)) || !(v = calloc(1, sizeof(*v)))) {
        free(w->id);
        return err_set(err, ENOMEM, "VM `%s`: create", o->id);
    }
    w->impl = v;
    if (o->stdio->tty) {
        err_val(err, ENOTSUP, "%s", "create: a VM's console is a byte stream, not a pty");
        goto fail;
    }
    if (vm_load_argv(o->bundle, &j, &argv, err) < 0)
        goto fail;
    if (pipe2(p, O_CLOEXEC) < 0) {
        err_sys(err, "create: pipe2");
        goto fail;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        err_sys(err, "create: fork");
        close(p[0]);
        close(p[1]);
        goto fail;
    }
    if (pid == 0) {
        close(p[0]);
        vm_child(argv, o, parent, p[1]);
    }
    close(p[1]);
    int e = 0;
    ssize_t n;
    while ((n = read(p[0], &e, sizeof(e))) < 0 && errno == EINTR)
        ;
    close(p[0]);
    if (n == sizeof(e)) {
        waitpid(pid, NULL, 0);
        errno = e;
        err_sys(err, "create: exec `%s`", argv[0]);
        goto fail;
    }
    w->pid = pid;
    if ((w->exit_fd = proc_pidfd(pid, err)) < 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        w->pid = 0;
        goto fail;
    }
    return 0;
fail:
    free(w->impl);
    free(w->id);
    memset(w, 0, sizeof(*w));
    w->exit_fd = -1;
    return vm_fail(&(struct iso_workload){.id = (char *)o->id}, err);
}

/* The VMM runs the guest from create on: there is no separate start. */
static int vm_start(struct iso_workload *w, struct err **err)
{
    (void)w;
    (void)err;
    return 0;
}

static int vm_kill(struct iso_workload *w, int sig, bool all, struct err **err)
{
    struct vm_wl *v = w->impl;

    (void)all; /* one process: the VMM (its watcher ends with it) */
    if (w->pid <= 0 || v->reaped)
        return err_val(err, ESRCH, "VM `%s`: kill: not running", w->id);
    if (kill(w->pid, sig) < 0)
        return err_sys(err, "VM `%s`: kill %d (pid %d)", w->id, sig, (int)w->pid);
    return 0;
}

static int vm_reap(struct iso_workload *w, struct iso_exit *out, struct err **err)
{
    struct vm_wl *v = w->impl;
    int status;

    *out = (struct iso_exit){0};
    while (waitpid(w->pid, &status, 0) < 0)
        if (errno != EINTR)
            return err_sys(err, "VM `%s`: wait for the VMM (pid %d)", w->id, (int)w->pid);
    v->reaped = true;
    out->code = proc_exit_code(status);
    out->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    if (w->exit_fd >= 0)
        close(w->exit_fd);
    w->exit_fd = -1;
    return 0;
}

static int vm_delete(struct iso_workload *w, bool force, struct err **err)
{
    struct vm_wl *v = w->impl;

    if (v && !v->reaped && w->pid > 0) {
        if (!force)
            return err_val(err, EBUSY, "VM `%s`: delete: it is running", w->id);
        kill(w->pid, SIGKILL);
        while (waitpid(w->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    if (w->exit_fd >= 0)
        close(w->exit_fd);
    free(w->impl);
    free(w->id);
    memset(w, 0, sizeof(*w));
    w->exit_fd = -1;
    return 0;
}

static int vm_state(struct iso_workload *w, char *status, size_t len, struct err **err)
{
    struct vm_wl *v = w->impl;

    (void)err;
    snprintf(status, len, "%s", v && !v->reaped && w->pid > 0 ? "running" : "stopped");
    return 0;
}

/* The VMM's CPU time and resident memory (guest RAM it touched included). */
static int vm_stats(struct iso_workload *w, struct iso_stats *out, struct err **err)
{
    char path[64];
    _cleanup_free_ char *buf = NULL;
    size_t len;

    *out = (struct iso_stats){.mem_peak = UINT64_MAX,
                              .mem_limit = UINT64_MAX,
                              .oom_kills = UINT64_MAX,
                              .net_rx = UINT64_MAX,
                              .net_tx = UINT64_MAX,
                              .blk_read = UINT64_MAX,
                              .blk_write = UINT64_MAX,
                              .pids = 1};
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)w->pid);
    if (fs_read_file(path, &buf, &len, err) < 0)
        return vm_fail(w, err);
    char *p = strrchr(buf, ')');
    unsigned long long ut = 0, st = 0, rss = 0;
    /* fields 14, 15 (utime, stime) and 24 (rss) after the command's ')' */
    if (!p || sscanf(p + 2,
                     "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d "
                     "%*d %*d %*u %*u %llu",
                     &ut, &st, &rss) != 3)
        return err_val(err, EPROTO, "VM `%s`: stats: cannot parse `%s`", w->id, path);
    long hz = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    out->cpu_ns = (ut + st) * (1000000000ULL / (unsigned long long)(hz > 0 ? hz : 100));
    out->mem_current = rss * (unsigned long long)(page > 0 ? page : 4096);
    return 0;
}

static int vm_pause(struct iso_workload *w, bool pause, struct err **err)
{
    (void)pause;
    return err_val(err, ENOTSUP, "VM `%s`: pause: through its control socket (isola vm pause)",
                   w->id);
}

static int vm_resize(struct iso_workload *w, int pty_master, unsigned short rows,
                     unsigned short cols, struct err **err)
{
    (void)pty_master;
    (void)rows;
    (void)cols;
    return err_val(err, ENOTSUP, "VM `%s`: resize: its console is not a pty", w->id);
}

static int vm_exec(struct iso_workload *w, const struct iso_process *p, struct iso_stdio *stdio,
                   struct iso_exec *x, struct err **err)
{
    (void)p;
    (void)stdio;
    (void)x;
    return err_val(err, ENOTSUP, "VM `%s`: exec: a VM has no agent (use its console)", w->id);
}

static int vm_exec_reap(struct iso_workload *w, struct iso_exec *x, struct iso_exit *out,
                        struct err **err)
{
    (void)x;
    (void)out;
    return err_val(err, ENOTSUP, "VM `%s`: exec", w->id);
}

const struct iso_ops iso_vm_ops = {
    .name = "vm",
    .create = vm_create,
    .start = vm_start,
    .kill = vm_kill,
    .reap = vm_reap,
    .delete = vm_delete,
    .state = vm_state,
    .stats = vm_stats,
    .pause = vm_pause,
    .resize = vm_resize,
    .exec = vm_exec,
    .exec_reap = vm_exec_reap,
};
