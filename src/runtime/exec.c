/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `exec`: run another process in a running container (runtime-spec leaves it to
 * the runtime; this is runc's `exec`). A helper joins the init's cgroups and
 * namespaces and forks the process (a pid namespace only applies to children);
 * the runtime is a child subreaper so it can wait for the process itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/container.h"
#include "runtime/container_priv.h"
#include "runtime/ns.h"
#include "runtime/process.h"
#include "runtime/procenv.h"
#include "runtime/seccomp.h"
#include "runtime/oci_state.h"
#include "runtime/terminal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/proc.h"

/* cgroup.procs files of every hierarchy pid belongs to (from /proc/PID/cgroup
 * and our mountinfo). */
static int cgroup_procs_paths(pid_t pid, char ***out, struct err **err)
{
    char path[64], line[1024];
    size_t n = 0;
    char **v = calloc(32, sizeof(char *));

    if (v == NULL)
        return err_set(err, ENOMEM, "cgroups");
    snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    if (f == NULL) {
        free(v);
        return err_sys(err, "open `%s`", path);
    }
    while (fgets(line, sizeof(line), f) && n < 30) {
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (c2 == NULL)
            continue;
        *c2 = '\0';
        char *cpath = c2 + 1;
        cpath[strcspn(cpath, "\n")] = '\0';
        const char *ctrl = c1 + 1;
        /* find the mount of this hierarchy */
        _cleanup_fclose_ FILE *mi = fopen("/proc/self/mountinfo", "re");
        char mline[4096];
        while (mi && fgets(mline, sizeof(mline), mi)) {
            char root[1024], mp[1024], fstype[64], super[1024];
            char *dash = strstr(mline, " - ");
            if (dash == NULL || sscanf(mline, "%*s %*s %*s %1023s %1023s", root, mp) != 2 ||
                sscanf(dash + 3, "%63s %*s %1023s", fstype, super) != 2)
                continue;
            if (strcmp(root, "/") != 0)
                continue;
            bool match = false;
            if (ctrl[0] == '\0')
                match = strcmp(fstype, "cgroup2") == 0;
            else if (strcmp(fstype, "cgroup") == 0) {
                _cleanup_free_ char *want = strdup(ctrl);
                char *save = NULL;
                match = want != NULL;
                for (char *t = want ? strtok_r(want, ",", &save) : NULL; t;
                     t = strtok_r(NULL, ",", &save)) {
                    char pat[128];
                    snprintf(pat, sizeof(pat), ",%s,", t);
                    char opts[1100];
                    snprintf(opts, sizeof(opts), ",%s,", super);
                    if (strstr(opts, pat) == NULL)
                        match = false;
                }
            }
            if (match) {
                if (asprintf(&v[n], "%s%s/cgroup.procs", mp, cpath) >= 0)
                    n++;
                break;
            }
        }
    }
    *out = v;
    return 0;
}

static int send_fd_pid(int sock, char kind, int value, struct err **err)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%c%d", kind, value);
    if (send(sock, buf, strlen(buf), MSG_NOSIGNAL) < 0)
        return err_sys(err, "exec sync");
    return 0;
}

static __attribute__((noreturn)) void fail(int sock, struct err *e)
{
    char buf[4096];
    snprintf(buf, sizeof(buf), "E%d:%s", e ? e->code : 0, e ? e->msg : "error");
    if (send(sock, buf, strlen(buf), MSG_NOSIGNAL) < 0)
        fprintf(stderr, "%s: %s\n", program_invocation_short_name, buf + 1);
    _exit(1);
}

int container_exec(const char *root, const char *id, struct spec_process *proc,
                   const struct exec_opts *o, int *status, struct err **err)
{
    struct oci_state *st = NULL;
    struct spec *s = NULL;
    struct seccomp_filter *filter = NULL;
    _cleanup_strv_ char **procs = NULL;
    _cleanup_close_ int console = -1, console_rx = -1;
    int sv[2] = {-1, -1};
    int rc = -1;
    pid_t helper = -1, pid = -1;

    *status = 0;
    if (oci_state_load(root, id, &st, err) < 0)
        return -1;
    if (!oci_state_init_alive(st)) {
        err_val(err, ESRCH, "container `%s` is not running", id);
        goto out;
    }
    char fifo[PATH_MAX];
    snprintf(fifo, sizeof(fifo), "%s/%s/exec.fifo", root, id);
    if (fs_exists(fifo)) {
        /* the init is still the runtime's own code: nothing may join it yet */
        err_val(err, EINVAL, "container `%s` is created but not started: start it first", id);
        goto out;
    }
    if (spec_load(st->bundle, NULL, &s, err) < 0)
        goto out;
    if (container_seccomp_compile(root, s->seccomp, &filter, err) < 0)
        goto out;
    proc->keep_groups = s->process.keep_groups; /* a container annotation */
    if (proc->terminal && o->console_socket == NULL) {
        /* foreground: the pty master comes back to us and we relay it, as
         * `run` does (terminal.h); detached there is nobody to relay to */
        int cs[2];
        if (o->detach) {
            err_val(err, EINVAL, "exec --tty --detach needs --console-socket");
            goto out;
        }
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, cs) < 0) {
            err_sys(err, "socketpair");
            goto out;
        }
        console = cs[1];
        console_rx = cs[0];
    } else if (proc->terminal &&
               (console = container_connect_console(o->console_socket, err)) < 0) {
        goto out;
    }
    if (cgroup_procs_paths(st->pid, &procs, err) < 0)
        goto out;
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
        err_sys(err, "prctl PR_SET_CHILD_SUBREAPER");
        goto out;
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        err_sys(err, "socketpair");
        goto out;
    }
    if (!proc->terminal && procenv_chown_stdio_host(s, proc->uid, proc->gid, err) < 0)
        goto out;
    helper = fork();
    if (helper < 0) {
        err_sys(err, "fork");
        goto out;
    }
    if (helper == 0) {
        struct err *e = NULL;
        char buf[32];
        close(sv[0]);
        snprintf(buf, sizeof(buf), "%d", getpid());
        for (char **p = procs; *p; p++)
            if (fs_write_str(*p, buf, &e) < 0)
                fail(sv[1], e);
        if (ns_join_pid(st->pid, &e) < 0)
            fail(sv[1], e);
        pid_t child = fork();
        if (child < 0) {
            err_sys(&e, "fork into the container");
            fail(sv[1], e);
        }
        if (child > 0) {
            send_fd_pid(sv[1], 'P', child, &e);
            _exit(0);
        }
        /* the process: same steps as the init's, from the container's root */
        _cleanup_free_ char *path = NULL;
        process_reset_signals();
        if (process_new_session(&e) < 0)
            fail(sv[1], e);
        if (proc->terminal) {
            if (process_terminal(console, proc, false, &e) < 0)
                fail(sv[1], e);
            close(console);
        }
        if (procenv_setup(proc, 0, &e) < 0 || procenv_chown_stdio(proc->uid, proc->gid, &e) < 0 ||
            mempolicy_apply(&s->mempolicy, &e) < 0)
            fail(sv[1], e);
        if (process_limits(proc, &e) < 0 || process_prepare_exec(proc, &path, &e) < 0)
            fail(sv[1], e);
        if (process_cloexec_from(3 + o->preserve_fds, &e) < 0)
            fail(sv[1], e);
        if (filter && !proc->no_new_privs && seccomp_install(filter, NULL, &e) < 0)
            fail(sv[1], e);
        if (process_switch_user(proc, &e) < 0)
            fail(sv[1], e);
        process_exec(proc, path, proc->no_new_privs ? filter : NULL, NULL, &e);
        fail(sv[1], e);
    }
    close(sv[1]);
    sv[1] = -1;
    if (console >= 0) { /* the process holds it now: EOF on console_rx if it fails */
        close(console);
        console = -1;
    }
    waitpid(helper, NULL, 0);
    char buf[4200];
    ssize_t n = recv(sv[0], buf, sizeof(buf) - 1, 0);
    if (n <= 0) {
        err_val(err, ECHILD, "exec in container `%s`: the helper failed", id);
        goto out;
    }
    buf[n] = '\0';
    if (buf[0] == 'E') {
        char *colon = strchr(buf, ':');
        err_val(err, atoi(buf + 1), "%s", colon ? colon + 1 : buf + 1);
        goto out;
    }
    pid = atoi(buf + 1);
    /* The next message is an error from the process before exec; EOF means
     * exec succeeded (the socket is close-on-exec). */
    n = recv(sv[0], buf, sizeof(buf) - 1, 0);
    if (n > 0) {
        buf[n] = '\0';
        char *colon = strchr(buf, ':');
        waitpid(pid, NULL, 0);
        err_val(err, atoi(buf + 1), "%s", colon ? colon + 1 : buf + 1);
        goto out;
    }
    if (o->pid_file) {
        char pb[32];
        snprintf(pb, sizeof(pb), "%d", pid);
        if (oci_state_write_file(o->pid_file, pb, strlen(pb), 0644, err) < 0)
            goto out;
    }
    if (console_rx >= 0) {
        _cleanup_close_ int master = -1;
        struct err *e = NULL;
        if (terminal_recv_fd(console_rx, &master, &e) < 0 || terminal_relay(master, &e) < 0) {
            log_err(e);
            err_free(&e);
        }
    }
    if (!o->detach) {
        int ws;
        while (waitpid(pid, &ws, 0) < 0)
            if (errno != EINTR) {
                err_sys(err, "wait for the exec process");
                goto out;
            }
        *status = proc_exit_code(ws);
    }
    rc = 0;
out:
    if (sv[0] >= 0)
        close(sv[0]);
    if (sv[1] >= 0)
        close(sv[1]);
    seccomp_filter_free(filter);
    spec_free(s);
    oci_state_free(st);
    return rc;
}
