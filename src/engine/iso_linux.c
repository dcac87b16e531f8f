/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The `linux` isolation: a container made by src/runtime/ with a private state
 * root (iso_ctx.state_root, under the engine's run dir). The container's init
 * is a child of the calling process (the runtime clones it from the caller),
 * so the caller, the monitor, is its only parent and reaps it.
 *
 * The runtime gives the init the caller's fds 0, 1 and 2 (as runc does), so
 * create points them at the requested stdio for the duration of the call and
 * puts the caller's own back afterwards. A pty comes back over a console
 * socket (runtime-spec "console socket"), made in the state root and removed
 * before create returns.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "engine/isolation.h"
#include "runtime/cgroup.h"
#include "runtime/container.h"
#include "runtime/oci_state.h"
#include "runtime/terminal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"
#include "util/proc.h"

struct linux_wl {
    char *root;
    uint64_t oom_base; /* oom_kill count at start */
};

static struct linux_wl *L(struct iso_workload *w)
{
    return w->impl;
}

/* The container's cgroup, from its runtime state. */
static int load_cgroup(struct iso_workload *w, struct cgroup **cg, struct err **err)
{
    struct oci_state *st = NULL;

    if (oci_state_load(L(w)->root, w->id, &st, err) < 0)
        return -1;
    int r = 0;
    *cg = NULL;
    if (st->cgroup != NULL)
        r = cgroup_from_json(st->cgroup, cg, err);
    oci_state_free(st);
    return r;
}

/* "key value" lines: the value of key, or UINT64_MAX. */
static uint64_t kv_file(const char *dir, const char *file, const char *key)
{
    char path[PATH_MAX];
    _cleanup_free_ char *buf = NULL;
    size_t len, klen = strlen(key);
    struct err *e = NULL;

    if (dir == NULL || snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
        return UINT64_MAX;
    if (fs_read_file(path, &buf, &len, &e) < 0) {
        err_free(&e);
        return UINT64_MAX;
    }
    for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (strncmp(l, key, klen) == 0 && l[klen] == ' ')
            return strtoull(l + klen + 1, NULL, 10);
    return UINT64_MAX;
}

/* OOM kills of the cgroup: v2 memory.events, v1 memory.oom_control (4.13+). */
static uint64_t oom_kills(struct cgroup *cg)
{
    const char *dir = cg ? cgroup_dir(cg, "memory") : NULL;
    uint64_t v = kv_file(dir, "memory.events", "oom_kill");

    if (v == UINT64_MAX)
        v = kv_file(dir, "memory.oom_control", "oom_kill");
    return v;
}

/* Point fds 0-2 at the wanted stdio; saved[] gets the caller's own. */
static int stdio_swap_in(const struct iso_stdio *io, int saved[3], struct err **err)
{
    int want[3] = {io->in, io->out, io->err}, tmp[3] = {-1, -1, -1};
    _cleanup_close_ int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    int r = -1;

    saved[0] = saved[1] = saved[2] = -1;
    if (null < 0)
        return err_sys(err, "open `/dev/null`");
    for (int i = 0; i < 3; i++) {
        /* fds 0-2 may be closed in a daemon: fcntl fails, keep -1 */
        saved[i] = fcntl(i, F_DUPFD_CLOEXEC, 3);
        tmp[i] = fcntl(want[i] >= 0 ? want[i] : null, F_DUPFD_CLOEXEC, 3);
        if (tmp[i] < 0) {
            err_sys(err, "dup the stdio fd %d", want[i]);
            goto out;
        }
    }
    for (int i = 0; i < 3; i++)
        if (dup2(tmp[i], i) < 0) {
            err_sys(err, "dup2 the stdio onto fd %d", i);
            goto out;
        }
    r = 0;
out:
    for (int i = 0; i < 3; i++)
        if (tmp[i] >= 0)
            close(tmp[i]);
    return r;
}

static void stdio_swap_out(int saved[3])
{
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);

    for (int i = 0; i < 3; i++) {
        dup2(saved[i] >= 0 ? saved[i] : null, i);
        if (saved[i] >= 0)
            close(saved[i]);
        saved[i] = -1;
    }
    if (null >= 0)
        close(null);
}

static int console_listen(const char *path, struct err **err)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    _cleanup_close_ int fd = -1;

    if (strlen(path) >= sizeof(a.sun_path))
        return err_val(err, ENAMETOOLONG, "console socket `%s`: path too long", path);
    strcpy(a.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return err_sys(err, "console socket: socket");
    unlink(path);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1) < 0)
        return err_sys(err, "console socket: bind `%s`", path);
    return steal_fd(&fd);
}

static int set_winsize(int master, unsigned short rows, unsigned short cols, struct err **err)
{
    struct winsize ws = {.ws_row = rows, .ws_col = cols};

    if (rows == 0 || cols == 0)
        return 0;
    if (ioctl(master, TIOCSWINSZ, &ws) < 0)
        return err_sys(err, "set the pty's window size to %ux%u", rows, cols);
    return 0;
}

/* Accept the runtime's connection on the console socket and take the master. */
static int console_take(int listener, int *master, struct err **err)
{
    _cleanup_close_ int c = accept4(listener, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

    if (c < 0)
        return err_sys(err, "console socket: accept");
    /* the master was sent before create returned: it is queued */
    if (fcntl(c, F_SETFL, 0) < 0)
        return err_sys(err, "console socket: fcntl");
    if (terminal_recv_fd(c, master, err) < 0)
        return -1;
    int fl = fcntl(*master, F_GETFD);
    if (fl >= 0)
        fcntl(*master, F_SETFD, fl | FD_CLOEXEC);
    return 0;
}

static void linux_free(struct iso_workload *w)
{
    if (w->impl) {
        free(L(w)->root);
        free(w->impl);
        w->impl = NULL;
    }
    if (w->exit_fd >= 0)
        close(w->exit_fd);
    w->exit_fd = -1;
    free(w->id);
    w->id = NULL;
}

static int linux_create(const struct iso_ctx *c, const struct iso_create_opts *o,
                        struct iso_workload *w, struct err **err)
{
    char sock[PATH_MAX];
    _cleanup_close_ int listener = -1;
    int saved[3];
    struct oci_state *st = NULL;

    *w = (struct iso_workload){.ops = &iso_linux_ops, .exit_fd = -1};
    struct linux_wl *l = calloc(1, sizeof(*l));
    w->id = strdup(o->id);
    if (l == NULL || w->id == NULL || (l->root = strdup(c->state_root)) == NULL) {
        free(l);
        free(w->id);
        w->id = NULL;
        return err_set(err, ENOMEM, "container `%s`: create", o->id);
    }
    w->impl = l;
    o->stdio->pty_master = -1;
    if (fs_mkdir_p(c->state_root, 0700, err) < 0)
        goto fail;
    struct container_opts co = {
        .root = c->state_root,
        .id = o->id,
        .bundle = o->bundle,
        .cgroup_manager = CGROUP_MANAGER_CGROUPFS,
        /* the runtime's foreground mode keeps PR_SET_PDEATHSIG (SIGKILL) on
         * the init past start; the caller here is the init's parent */
        .foreground = o->die_with_caller,
    };
    if (o->stdio->tty) {
        if (snprintf(sock, sizeof(sock), "%s/.console-%d.sock", c->state_root, (int)getpid()) >=
            (int)sizeof(sock)) {
            err_val(err, ENAMETOOLONG, "state root `%s`: path too long", c->state_root);
            goto fail;
        }
        if ((listener = console_listen(sock, err)) < 0)
            goto fail;
        co.console_socket = sock;
    }
    if (stdio_swap_in(o->stdio, saved, err) < 0) {
        stdio_swap_out(saved);
        goto fail_sock;
    }
    int r = container_create(&co, err);
    stdio_swap_out(saved);
    if (r < 0)
        goto fail_sock;
    if (listener >= 0) {
        int m = -1;
        r = console_take(listener, &m, err);
        unlink(sock);
        if (r < 0 || set_winsize(m, o->stdio->rows, o->stdio->cols, err) < 0) {
            if (m >= 0)
                close(m);
            goto fail_delete;
        }
        o->stdio->pty_master = m;
    }
    if (oci_state_load(c->state_root, o->id, &st, err) < 0)
        goto fail_delete;
    w->pid = st->pid;
    oci_state_free(st);
    if ((w->exit_fd = proc_pidfd(w->pid, err)) < 0)
        goto fail_delete;
    return 0;
fail_delete : {
    struct err *e2 = NULL;
    if (container_delete(c->state_root, o->id, true, &e2) < 0)
        err_free(&e2);
    if (w->pid > 0)
        waitpid(w->pid, NULL, WNOHANG);
}
    if (o->stdio->pty_master >= 0)
        close(o->stdio->pty_master);
    o->stdio->pty_master = -1;
fail_sock:
    if (listener >= 0)
        unlink(sock);
fail:
    err_wrap(err, "container `%s`: create", o->id);
    linux_free(w);
    return -1;
}

static int linux_start(struct iso_workload *w, struct err **err)
{
    struct cgroup *cg = NULL;

    if (load_cgroup(w, &cg, err) < 0)
        return -1;
    L(w)->oom_base = oom_kills(cg);
    cgroup_free(cg);
    return container_start(L(w)->root, w->id, err);
}

static int linux_kill(struct iso_workload *w, int sig, bool all, struct err **err)
{
    return container_kill(L(w)->root, w->id, sig, all, err);
}

static int linux_reap(struct iso_workload *w, struct iso_exit *out, struct err **err)
{
    int status;
    struct cgroup *cg = NULL;
    struct err *e = NULL;

    *out = (struct iso_exit){0};
    while (waitpid(w->pid, &status, 0) < 0)
        if (errno != EINTR)
            return err_sys(err, "container `%s`: wait for the init (pid %d)", w->id, w->pid);
    out->code = proc_exit_code(status);
    out->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    if (load_cgroup(w, &cg, &e) == 0) {
        uint64_t n = oom_kills(cg);
        out->oom = n != UINT64_MAX && L(w)->oom_base != UINT64_MAX && n > L(w)->oom_base;
    }
    err_free(&e);
    cgroup_free(cg);
    if (w->exit_fd >= 0)
        close(w->exit_fd);
    w->exit_fd = -1;
    return 0;
}

static int linux_delete(struct iso_workload *w, bool force, struct err **err)
{
    int r = container_delete(L(w)->root, w->id, force, err);

    if (r == 0)
        linux_free(w);
    return r;
}

static int linux_state(struct iso_workload *w, char *status, size_t len, struct err **err)
{
    _cleanup_json_ json_t *j = NULL;

    if (container_state(L(w)->root, w->id, &j, err) < 0)
        return -1;
    const char *s = json_string_value(json_object_get(j, "status"));
    snprintf(status, len, "%s", s ? s : "unknown");
    return 0;
}

static uint64_t js_u64(json_t *o, const char *a, const char *b)
{
    json_t *v = json_object_get(json_object_get(o, a), b);

    return json_is_integer(v) ? (uint64_t)json_integer_value(v) : UINT64_MAX;
}

static int linux_stats(struct iso_workload *w, struct iso_stats *out, struct err **err)
{
    struct cgroup *cg = NULL;
    _cleanup_free_ pid_t *pids = NULL;
    size_t n = 0;

    memset(out, 0xff, sizeof(*out));
    if (load_cgroup(w, &cg, err) < 0)
        return -1;
    if (cg == NULL)
        return 0;
    _cleanup_json_ json_t *j = cgroup_stats(cg, err);
    if (j == NULL) {
        cgroup_free(cg);
        return err_wrap(err, "container `%s`: stats", w->id);
    }
    json_t *cpu = json_object_get(j, "cpu"), *mem = json_object_get(j, "memory");
    out->cpu_ns = js_u64(cpu, "usage", "total");
    out->mem_current = js_u64(mem, "usage", "usage");
    out->mem_peak = js_u64(mem, "usage", "max");
    out->mem_limit = js_u64(mem, "usage", "limit");
    out->oom_kills = oom_kills(cg);
    struct err *e = NULL;
    if (cgroup_pids(cg, &pids, &n, &e) == 0)
        out->pids = n;
    err_free(&e);
    cgroup_free(cg);
    return 0;
}

static int linux_pause(struct iso_workload *w, bool pause, struct err **err)
{
    return container_pause(L(w)->root, w->id, pause, err);
}

static int linux_resize(struct iso_workload *w, int pty_master, unsigned short rows,
                        unsigned short cols, struct err **err)
{
    return set_winsize(pty_master, rows, cols, err);
}

static char **strv_copy(char **v)
{
    size_t n = 0;

    while (v && v[n])
        n++;
    char **r = calloc(n + 1, sizeof(*r));
    for (size_t i = 0; r && i < n; i++)
        if ((r[i] = strdup(v[i])) == NULL) {
            strv_free(r);
            return NULL;
        }
    return r;
}

static int linux_exec(struct iso_workload *w, const struct iso_process *p, struct iso_stdio *io,
                      struct iso_exec *x, struct err **err)
{
    struct spec *s = NULL;
    int saved[3], status = 0;
    char pidfile[PATH_MAX];
    _cleanup_free_ char *buf = NULL;
    size_t len;

    *x = (struct iso_exec){.exit_fd = -1};
    io->pty_master = -1;
    _cleanup_close_ int listener = -1;
    char sock[PATH_MAX];
    if (io->tty) {
        /* a pty as for create: the runtime sends its master to a socket */
        if (snprintf(sock, sizeof(sock), "%s/.exec-console-%d.sock", L(w)->root, (int)getpid()) >=
            (int)sizeof(sock))
            return err_val(err, ENAMETOOLONG, "state root `%s`: path too long", L(w)->root);
        if ((listener = console_listen(sock, err)) < 0)
            return err_wrap(err, "container `%s`: exec", w->id);
    }
    if (container_load_spec(L(w)->root, w->id, &s, err) < 0)
        return -1;
    /* its strings (cwd, ...) point into s: s lives until the exec is done */
    struct spec_process proc = s->process;
    memset(&s->process, 0, sizeof(s->process));
    strv_free(proc.args);
    proc.args = strv_copy(p->args);
    if (p->env) {
        strv_free(proc.env);
        proc.env = strv_copy(p->env);
    }
    if (proc.args == NULL) {
        spec_process_release(&proc);
        spec_free(s);
        return err_set(err, ENOMEM, "container `%s`: exec", w->id);
    }
    if (p->cwd)
        proc.cwd = p->cwd;
    if (p->user) {
        proc.uid = (uid_t)strtoul(p->user, NULL, 10);
        const char *colon = strchr(p->user, ':');
        if (colon)
            proc.gid = (gid_t)strtoul(colon + 1, NULL, 10);
    }
    proc.terminal = io->tty;
    snprintf(pidfile, sizeof(pidfile), "%s/.exec-%d.pid", L(w)->root, (int)getpid());
    struct exec_opts eo = {
        .pid_file = pidfile, .detach = true, .console_socket = listener >= 0 ? sock : NULL};
    int r = stdio_swap_in(io, saved, err);
    if (r == 0)
        r = container_exec(L(w)->root, w->id, &proc, &eo, &status, err);
    stdio_swap_out(saved);
    if (r == 0 && listener >= 0) {
        int m = -1;
        r = console_take(listener, &m, err);
        if (r == 0 && set_winsize(m, io->rows, io->cols, err) < 0)
            r = -1;
        if (r < 0 && m >= 0)
            close(m);
        else
            io->pty_master = m;
    }
    if (listener >= 0)
        unlink(sock);
    spec_process_release(&proc);
    spec_free(s);
    if (r < 0 || fs_read_file(pidfile, &buf, &len, err) < 0) {
        unlink(pidfile);
        return err_wrap(err, "container `%s`: exec", w->id);
    }
    unlink(pidfile);
    x->pid = (pid_t)atoi(buf);
    if ((x->exit_fd = proc_pidfd(x->pid, err)) < 0)
        return -1;
    return 0;
}

static int linux_exec_reap(struct iso_workload *w, struct iso_exec *x, struct iso_exit *out,
                           struct err **err)
{
    siginfo_t si = {0};

    *out = (struct iso_exit){0};
    /* the exec'd process is the caller's child (CLONE_PARENT in the runtime) */
    while (waitid(P_PID, (id_t)x->pid, &si, WEXITED) < 0)
        if (errno != EINTR)
            return err_sys(err, "container `%s`: wait for exec pid %d", w->id, x->pid);
    out->signal = si.si_code == CLD_EXITED ? 0 : si.si_status;
    out->code = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
    if (x->exit_fd >= 0)
        close(x->exit_fd);
    x->exit_fd = -1;
    return 0;
}

const struct iso_ops iso_linux_ops = {
    .name = "linux",
    .create = linux_create,
    .start = linux_start,
    .kill = linux_kill,
    .reap = linux_reap,
    .delete = linux_delete,
    .state = linux_state,
    .stats = linux_stats,
    .pause = linux_pause,
    .resize = linux_resize,
    .exec = linux_exec,
    .exec_reap = linux_exec_reap,
};

const struct iso_ops *iso_find(const char *name)
{
    static const struct iso_ops *const all[] = {&iso_linux_ops, &iso_vm_ops, &iso_microvm_ops};

    for (size_t i = 0; i < ARRAY_SIZE(all); i++)
        if (strcmp(all[i]->name, name) == 0)
            return all[i];
    return NULL;
}
