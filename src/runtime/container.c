/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Container lifecycle (runtime-spec runtime.md "Lifecycle"). create clones the
 * init into its namespaces; the runtime and the init talk over a SOCK_SEQPACKET
 * pair (one message per step, errors travel back as text):
 *
 *   runtime                                 init
 *   clone ------------------------------->  (PDEATHSIG: dies with the runtime)
 *   uid/gid maps, cgroup, prestart and
 *   createRuntime hooks, 'G'+state ------>  cgroupns, mounts, createContainer hooks,
 *                                           pivot_root, hostname, sysctl, terminal,
 *                                           limits, user, caps
 *                            <------------  'R' (or 'E'+message)
 *   state.json, pid file, 'D' or 'S' ---->  'D': block on exec.fifo until `start`
 *                                           startContainer hooks, NNP, seccomp, execve
 */
#include "runtime/container.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/hooks.h"
#include "runtime/mount.h"
#include "runtime/ns.h"
#include "runtime/process.h"
#include "runtime/procenv.h"
#include "runtime/container_priv.h"
#include "runtime/netdev.h"
#include "runtime/seccomp.h"
#include "runtime/selfexec.h"
#include "runtime/sigproxy.h"
#include "runtime/oci_state.h"
#include "runtime/terminal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"
#include "util/log.h"
#include "util/proc.h"

#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif

#define MSG_MAX 65536

/* ---- the sync channel ---- */

static int msg_send(int fd, char kind, const char *payload, struct err **err)
{
    size_t n = payload ? strlen(payload) : 0;
    _cleanup_free_ char *buf = malloc(n + 1);

    if (buf == NULL)
        return err_set(err, ENOMEM, "sync message");
    buf[0] = kind;
    if (n)
        memcpy(buf + 1, payload, n);
    if (send(fd, buf, n + 1, MSG_NOSIGNAL) < 0)
        return err_sys(err, "sync with the container init");
    return 0;
}

/* Receive one message; *payload (caller frees) is NUL-terminated. 0 = EOF. */
static int msg_recv(int fd, char *kind, char **payload, struct err **err)
{
    _cleanup_free_ char *buf = malloc(MSG_MAX + 1);
    ssize_t n;

    if (buf == NULL)
        return err_set(err, ENOMEM, "sync message");
    do
        n = recv(fd, buf, MSG_MAX, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return err_sys(err, "sync with the container init");
    if (n == 0)
        return 0;
    buf[n] = '\0';
    *kind = buf[0];
    if (payload) {
        *payload = strdup(buf + 1);
        if (*payload == NULL)
            return err_set(err, ENOMEM, "sync message");
    }
    return 1;
}

/*
 * The init's side of the channel, usable once a seccomp filter is in place
 * (without noNewPrivileges it is installed before the user switch): write and
 * read, which runc needs there too, on a stack buffer. A write to a runtime
 * that is gone ends the init (SIGPIPE), as PDEATHSIG would.
 */
static int init_send(int fd, char kind, const char *payload)
{
    char buf[4096];
    int n = snprintf(buf, sizeof(buf), "%c%s", kind, payload ? payload : "");

    if (n >= (int)sizeof(buf))
        n = (int)sizeof(buf) - 1;
    return write(fd, buf, (size_t)n) == n ? 0 : -1;
}

static int init_recv(int fd, char *kind)
{
    char buf[64];
    ssize_t n;

    do
        n = read(fd, buf, sizeof(buf));
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return (int)n;
    *kind = buf[0];
    return 1;
}

/* In a child: send the error to the runtime and exit. */
static __attribute__((noreturn)) void child_fail(int sync, struct err *e)
{
    char buf[4000];

    snprintf(buf, sizeof(buf), "%d:%s", e ? e->code : 0, e ? e->msg : "unknown error");
    if (init_send(sync, 'E', buf) < 0)
        fprintf(stderr, "%s: %s\n", program_invocation_short_name, e ? e->msg : buf);
    _exit(1);
}

static int error_from_msg(const char *payload, struct err **err)
{
    char *colon = strchr(payload, ':');
    int code = atoi(payload);

    return err_val(err, code, "%s", colon ? colon + 1 : payload);
}

/* ---- create ---- */

struct init_ctx {
    const struct container_opts *o;
    struct spec *spec;
    struct seccomp_filter *filter;
    int sync;     /* child end */
    int dirfd;    /* O_PATH of the state dir (exec.fifo) */
    int console;  /* connected --console-socket, or -1 */
    int listener; /* connected linux.seccomp.listenerPath, or -1 */
    char *state_json;
};

static int create_container_hooks(void *arg, struct err **err)
{
    struct init_ctx *c = arg;

    return hooks_run(&c->spec->hooks[HOOK_CREATE_CONTAINER], HOOK_CREATE_CONTAINER,
                     c->state_json ? c->state_json : "{}", err);
}

/* The state with another status: startContainer hooks run once the container
 * is created and get "created" (runtime.md "Lifecycle"; runc does the same). */
static char *state_json_status(const char *state_json, const char *status)
{
    _cleanup_json_ json_t *j = json_loads(state_json ? state_json : "{}", 0, NULL);

    if (j == NULL || json_object_set_new(j, "status", json_string(status)) < 0)
        return NULL;
    return js_dump(j);
}

static __attribute__((noreturn)) void init_main(struct init_ctx *c)
{
    struct err *e = NULL;
    struct spec *s = c->spec;
    const struct spec_process *p = &s->process;
    _cleanup_free_ char *path = NULL;
    char kind = 0;
    bool userns = false;

    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    /* a foreground run blocked the signals it forwards before the clone;
     * its caller may have blocked or ignored others */
    process_reset_signals();
    /* not ptrace-able (/proc/PID/exe, mem) until execve resets it */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    /* before any hook or the process runs: none of them shares the caller's tty */
    if (process_new_session(&e) < 0)
        child_fail(c->sync, e);
    if (msg_recv(c->sync, &kind, &c->state_json, &e) <= 0 || kind != 'G')
        _exit(1);
    _cleanup_free_ char *created_json = state_json_status(c->state_json, "created");
    const struct spec_ns *u = spec_ns_find(s, CLONE_NEWUSER);
    userns = u != NULL;
    if (u != NULL) {
        /* the maps are written (or were, for a joined namespace): become the
         * namespace's root, or host root stays unmapped (files it makes fail
         * with EOVERFLOW) */
        if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
            err_sys(&e, "linux.uidMappings: become root in the user namespace (is 0 mapped?)");
            child_fail(c->sync, e);
        }
    }
    if (!c->o->no_new_keyring) {
        char name[64];
        snprintf(name, sizeof(name), "_ses.%.50s", c->o->id);
        /* KEYCTL_JOIN_SESSION_KEYRING: a fresh keyring, not the host's */
        syscall(SYS_keyctl, 1, name, 0, 0, 0);
    }
    const struct spec_ns *net = spec_ns_find(s, CLONE_NEWNET);
    if (net != NULL && net->path == NULL && netdev_lo_up(&e) < 0)
        child_fail(c->sync, e);
    const struct spec_ns *cg = spec_ns_find(s, CLONE_NEWCGROUP);
    if (cg != NULL && cg->path == NULL && unshare(CLONE_NEWCGROUP) < 0) {
        err_sys(&e, "linux.namespaces: unshare the cgroup namespace");
        child_fail(c->sync, e);
    }
    struct mount_ctx mc = {.spec = s,
                           .no_pivot = c->o->no_pivot,
                           .userns = userns,
                           .before_pivot = create_container_hooks,
                           .arg = c};
    if (mount_setup_rootfs(&mc, &e) < 0)
        child_fail(c->sync, e);
    if (process_container_settings(s, &e) < 0)
        child_fail(c->sync, e);
    if (p->terminal) {
        /* no mount namespace: no /dev/console bind in the host's table */
        if (process_terminal(c->console, p, spec_ns_find(s, CLONE_NEWNS) != NULL, &e) < 0)
            child_fail(c->sync, e);
        close(c->console);
    }
    /* before root.readonly, as runc creates it */
    if (procenv_make_cwd(p->cwd, &e) < 0 || procenv_setup(&s->process, c->o->listen_fds, &e) < 0 ||
        procenv_chown_stdio(p->uid, p->gid, &e) < 0)
        child_fail(c->sync, e);
    if (mount_finalize(&mc, &e) < 0)
        child_fail(c->sync, e);
    if (p->apparmor && p->apparmor[0]) {
        char buf[512];
        snprintf(buf, sizeof(buf), "exec %s", p->apparmor);
        if (fs_write_str("/proc/self/attr/apparmor/exec", buf, &e) < 0)
            child_fail(c->sync, e);
    }
    if (mempolicy_apply(&s->mempolicy, &e) < 0)
        child_fail(c->sync, e);
    if (process_limits(p, &e) < 0 || process_prepare_exec(p, &path, &e) < 0)
        child_fail(c->sync, e);
    /* Before any filter: a profile need not allow close_range (or anything
     * of the runtime's own beyond what runc needs after it). */
    if (process_cloexec_from(3 + c->o->preserve_fds, &e) < 0)
        child_fail(c->sync, e);
    /* Without no_new_privs, installing a filter needs CAP_SYS_ADMIN: do it
     * while the process still has it (runc's order). */
    if (c->filter && !p->no_new_privs &&
        process_seccomp(p, c->filter, false, c->listener, c->state_json, &e) < 0)
        child_fail(c->sync, e);
    if (process_switch_user(p, &e) < 0)
        child_fail(c->sync, e);
    if (init_send(c->sync, 'R', NULL) < 0)
        _exit(1);
    if (init_recv(c->sync, &kind) <= 0)
        _exit(1);
    /* The runtime exits after create: stop dying with it, and say so (it
     * waits for this, or PDEATHSIG could still fire). A foreground run keeps
     * it, set again here as a uid switch has cleared it. */
    prctl(PR_SET_PDEATHSIG, c->o->foreground ? SIGKILL : 0, 0, 0, 0);
    if (init_send(c->sync, 'A', NULL) < 0)
        _exit(1);
    if (kind == 'D') {
        /* Blocks until `start` opens the fifo for reading (runc's exec.fifo). */
        int fd = openat(c->dirfd, "exec.fifo", O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, "0", 1) != 1) {
            fprintf(stderr, "%s: container %s: wait for start on exec.fifo: %s\n",
                    program_invocation_short_name, c->o->id, strerror(errno));
            _exit(1);
        }
        close(fd);
    }
    close(c->dirfd);
    close(c->sync);
    if (hooks_run(&s->hooks[HOOK_START_CONTAINER], HOOK_START_CONTAINER,
                  created_json ? created_json : c->state_json, &e) < 0) {
        fprintf(stderr, "%s: %s\n", program_invocation_short_name, e->msg);
        _exit(127);
    }
    if (process_seccomp(p, p->no_new_privs ? c->filter : NULL, true, c->listener, c->state_json,
                        &e) == 0)
        process_execve(p, path, &e);
    fprintf(stderr, "%s: %s\n", program_invocation_short_name, e ? e->msg : "exec failed");
    /* a shell's and Docker's 126: found but not executable */
    _exit(e && e->code == EACCES ? 126 : 127);
}

static pid_t raw_clone(unsigned long flags)
{
    /* fork-like clone: no new stack, the child continues here */
    return (pid_t)syscall(SYS_clone, flags, NULL, NULL, NULL, 0);
}

/* Start the init; returns its pid. A helper process joins namespaces by path
 * (and unshares time, which only affects children) and clones the init with
 * CLONE_PARENT, so the runtime stays its parent. */
static pid_t spawn_init(struct init_ctx *c, int parent_sync, struct err **err)
{
    unsigned long flags = (unsigned long)ns_clone_flags(c->spec);
    pid_t pid;

    if (!ns_needs_helper(c->spec)) {
        pid = raw_clone(flags | SIGCHLD);
        if (pid < 0)
            return err_sys(err, "clone the container init");
        if (pid == 0) {
            close(parent_sync);
            init_main(c);
        }
        return pid;
    }
    pid_t helper = fork();
    if (helper < 0)
        return err_sys(err, "fork");
    if (helper == 0) {
        struct err *e = NULL;
        char buf[32];
        close(parent_sync);
        if (ns_join_paths(c->spec, &e) < 0 || ns_unshare_time(c->spec, &e) < 0)
            child_fail(c->sync, e);
        pid = raw_clone(flags | CLONE_PARENT | SIGCHLD);
        if (pid < 0) {
            err_sys(&e, "clone the container init");
            child_fail(c->sync, e);
        }
        if (pid == 0)
            init_main(c);
        snprintf(buf, sizeof(buf), "%d", pid);
        msg_send(c->sync, 'P', buf, &e);
        _exit(0);
    }
    int status;
    char kind = 0;
    _cleanup_free_ char *payload = NULL;
    int r = msg_recv(parent_sync, &kind, &payload, err);
    waitpid(helper, &status, 0);
    if (r < 0)
        return -1;
    if (r == 0)
        return err_val(err, ECHILD, "the namespace helper exited without a result");
    if (kind == 'E')
        return error_from_msg(payload, err);
    return (pid_t)atoi(payload);
}

int container_seccomp_compile(const char *root, json_t *seccomp, struct seccomp_filter **out,
                              struct err **err)
{
    _cleanup_free_ char *dir = NULL;

    *out = NULL;
    if (seccomp == NULL)
        return 0;
    if (asprintf(&dir, "%s/" CONTAINER_SECCOMP_CACHE, root) < 0)
        return err_set(err, ENOMEM, "seccomp cache path");
    return seccomp_compile_cached(seccomp, dir, out, err);
}

int container_connect_console(const char *path, struct err **err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path))
        return err_val(err, ENAMETOOLONG, "--console-socket `%s`: path too long", path);
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return err_sys(err, "--console-socket: socket");
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        err_sys(err, "--console-socket: connect `%s`", path);
        close(fd);
        return -1;
    }
    return fd;
}

/*
 * linux.resources with the device rules completed as runc and crun do: the
 * config's rules, then allow mknod of any device and the default devices
 * (config-linux.md "Default Devices"), /dev/console, /dev/pts and /dev/ptmx.
 * Without this a deny-all rule would make /dev/null unusable. linux.devices
 * only creates nodes: access to them is the config's rules' business (runc,
 * crun). Returns a new reference.
 */
static json_t *resources_with_devices(const struct spec *s)
{
    static const struct {
        const char *type;
        int major, minor;
    } defaults[] = {
        {"c", 1, 3}, {"c", 1, 5}, {"c", 1, 7}, {"c", 1, 8},    {"c", 1, 9},
        {"c", 5, 0}, {"c", 5, 1}, {"c", 5, 2}, {"c", 136, -1},
    };
    json_t *res = s->resources ? json_deep_copy(s->resources) : json_object();
    json_t *devs;

    if (res == NULL)
        return NULL;
    devs = json_object_get(res, "devices");
    if (!json_is_array(devs)) {
        devs = json_pack("[{s:b, s:s}]", "allow", 0, "access", "rwm");
        json_object_set_new(res, "devices", devs);
    }
    for (size_t i = 0; i < ARRAY_SIZE(defaults); i++) {
        json_t *r = json_pack("{s:b, s:s, s:i, s:s}", "allow", 1, "type", defaults[i].type, "major",
                              defaults[i].major, "access", "rwm");
        if (r && defaults[i].minor >= 0)
            json_object_set_new(r, "minor", json_integer(defaults[i].minor));
        json_array_append_new(devs, r);
    }
    json_array_append_new(devs,
                          json_pack("{s:b, s:s, s:s}", "allow", 1, "type", "c", "access", "m"));
    json_array_append_new(devs,
                          json_pack("{s:b, s:s, s:s}", "allow", 1, "type", "b", "access", "m"));
    return res;
}

static int write_pid_file(const char *path, pid_t pid, struct err **err)
{
    char buf[32];

    if (path == NULL)
        return 0;
    snprintf(buf, sizeof(buf), "%d", pid);
    if (oci_state_write_file(path, buf, strlen(buf), 0644, err) < 0)
        return err_wrap(err, "--pid-file");
    return 0;
}

static char *state_string(const struct oci_state *st, const char *status)
{
    _cleanup_json_ json_t *j = oci_state_to_oci(st, status);

    return j ? js_dump(j) : NULL;
}

/* Undo a failed create: kill the init, remove its cgroup and the state dir. */
static void create_rollback(const struct container_opts *o, pid_t pid, struct cgroup *cg)
{
    struct err *e = NULL;

    if (pid > 0)
        proc_kill_reap(pid);
    if (cg != NULL && cgroup_destroy(cg, &e) < 0) {
        log_err(e);
        err_free(&e);
    }
    if (oci_state_remove(o->root, o->id, &e) < 0) {
        log_err(e);
        err_free(&e);
    }
}

static int do_create(const struct container_opts *o, bool run, pid_t *init_pid, int *console_rx,
                     struct err **err)
{
    struct spec *s = NULL;
    struct seccomp_filter *filter = NULL;
    struct cgroup *cg = NULL;
    struct oci_state st = {0};
    _cleanup_close_ int dirfd = -1, console = -1, listener = -1;
    int sv[2] = {-1, -1};
    pid_t pid = -1;
    int rc = -1;
    bool dir_made = false;
    _cleanup_free_ char *sdir = NULL, *created = NULL, *sjson = NULL, *payload = NULL;
    char kind = 0;

    if (oci_state_check_id(o->id, err) < 0)
        return -1;
    if (spec_load(o->bundle ? o->bundle : ".", o->config, &s, err) < 0)
        return -1;
    if (s->process.terminal && o->console_socket == NULL && (!run || o->detach))
        return spec_free(s),
               err_val(err, EINVAL,
                       "process.terminal is true: a --console-socket is needed to pass the pty");
    const struct spec_ns *pidns = spec_ns_find(s, CLONE_NEWPID);
    if ((pidns == NULL || pidns->path != NULL) && selfexec_reexec(err) < 0)
        goto out;
    if (container_seccomp_compile(o->root, s->seccomp, &filter, err) < 0)
        goto out;
    if (filter && seccomp_needs_notify(filter) &&
        (listener = container_connect_console(seccomp_listener_path(filter), err)) < 0) {
        err_wrap(err, "linux.seccomp.listenerPath");
        goto out;
    }
    if (oci_state_create_dir(o->root, o->id, err) < 0)
        goto out;
    dir_made = true;
    sdir = oci_state_dir(o->root, o->id);
    created = state_now_rfc3339();
    st.id = (char *)o->id;
    st.bundle = s->bundle;
    st.rootfs = s->rootfs;
    st.created = created;
    st.owner = geteuid();
    st.annotations = s->annotations;
    st.hooks = json_object_get(s->json, "hooks");
    st.creating = true;
    st.cgroup_manager = (int)o->cgroup_manager;
    st.creator = getpid();
    st.creator_start_time = oci_state_pid_start_time(st.creator);
    if (!run) {
        char fifo[PATH_MAX];
        snprintf(fifo, sizeof(fifo), "%s/exec.fifo", sdir);
        /* 0622 whatever the umask: the process may run as any user by then */
        if (mkfifo(fifo, 0622) < 0 || chmod(fifo, 0622) < 0) {
            err_sys(err, "mkfifo `%s`", fifo);
            goto out;
        }
    }
    dirfd = open(sdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        err_sys(err, "open `%s`", sdir);
        goto out;
    }
    if (s->process.terminal && o->console_socket == NULL) {
        /* foreground run: the pty comes back to us and we relay it */
        int cs[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, cs) < 0) {
            err_sys(err, "socketpair");
            goto out;
        }
        console = cs[1];
        *console_rx = cs[0];
    } else if (s->process.terminal &&
               (console = container_connect_console(o->console_socket, err)) < 0) {
        goto out;
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        err_sys(err, "socketpair");
        goto out;
    }
    /* The state names the cgroup before it exists (pid 0, "creating"): a
     * runtime killed inside cgroup_create() leaves directories that
     * `delete --force` then finds and removes. */
    struct cgroup *planned = NULL;
    if (cgroup_plan(o->cgroup_manager, o->id, s->cgroups_path, &planned, err) < 0)
        goto out;
    st.cgroup = cgroup_to_json(planned);
    cgroup_free(planned);
    if (st.cgroup == NULL) {
        err_set(err, ENOMEM, "state");
        goto out;
    }
    if (oci_state_write(o->root, &st, err) < 0)
        goto out;
    json_decref(st.cgroup);
    st.cgroup = NULL;
    struct init_ctx ic = {.o = o,
                          .spec = s,
                          .filter = filter,
                          .sync = sv[1],
                          .dirfd = dirfd,
                          .console = console,
                          .listener = listener};
    if (!s->process.terminal &&
        procenv_chown_stdio_host(s, s->process.uid, s->process.gid, err) < 0)
        goto out;
    if (mount_idmap_prepare(s, err) < 0)
        goto out;
    if (mount_dev_prepare(s, err) < 0) {
        mount_idmap_release(s);
        goto out;
    }
    pid = spawn_init(&ic, sv[0], err);
    mount_idmap_release(s);
    mount_dev_release(s);
    close(sv[1]);
    sv[1] = -1;
    if (pid < 0)
        goto out;
    if (ns_write_idmaps(pid, s, err) < 0)
        goto out;
    if (o->cgroup_manager != CGROUP_MANAGER_DISABLED) {
        _cleanup_json_ json_t *res = resources_with_devices(s);
        if (res == NULL) {
            err_set(err, ENOMEM, "linux.resources");
            goto out;
        }
        if (cgroup_create(o->cgroup_manager, o->id, s->cgroups_path, res, pid, &cg, err) < 0)
            goto out;
    } else if (cgroup_create(o->cgroup_manager, o->id, s->cgroups_path, s->resources, pid, &cg,
                             err) < 0) {
        goto out;
    }
    st.pid = pid;
    st.start_time = oci_state_pid_start_time(pid);
    st.cgroup = cg ? cgroup_to_json(cg) : NULL;
    if (oci_state_write(o->root, &st, err) < 0)
        goto out;
    sjson = state_string(&st, "creating");
    if (sjson == NULL) {
        err_set(err, ENOMEM, "state");
        goto out;
    }
    if (hooks_run(&s->hooks[HOOK_PRESTART], HOOK_PRESTART, sjson, err) < 0 ||
        hooks_run(&s->hooks[HOOK_CREATE_RUNTIME], HOOK_CREATE_RUNTIME, sjson, err) < 0)
        goto out;
    if (msg_send(sv[0], 'G', sjson, err) < 0)
        goto out;
    int r = msg_recv(sv[0], &kind, &payload, err);
    if (r < 0)
        goto out;
    if (r == 0) {
        int status = 0;
        waitpid(pid, &status, 0);
        pid = -1;
        err_val(err, ECHILD, "container `%s`: the init exited during setup (status %d)", o->id,
                proc_exit_code(status));
        goto out;
    }
    if (kind == 'E') {
        error_from_msg(payload, err);
        goto out;
    }
    st.creating = false;
    if (oci_state_write(o->root, &st, err) < 0 || write_pid_file(o->pid_file, pid, err) < 0)
        goto out;
    if (msg_send(sv[0], run ? 'S' : 'D', NULL, err) < 0)
        goto out;
    if (msg_recv(sv[0], &kind, NULL, err) <= 0 || kind != 'A') {
        if (*err == NULL)
            err_val(err, ECHILD, "container `%s`: the init exited before it was released", o->id);
        goto out;
    }
    *init_pid = pid;
    rc = 0;
out:
    if (rc < 0 && dir_made)
        create_rollback(o, pid, cg);
    if (rc < 0 && *console_rx >= 0) {
        close(*console_rx);
        *console_rx = -1;
    }
    if (sv[0] >= 0)
        close(sv[0]);
    if (sv[1] >= 0)
        close(sv[1]);
    if (st.cgroup)
        json_decref(st.cgroup);
    cgroup_free(cg);
    seccomp_filter_free(filter);
    spec_free(s);
    return rc;
}

int container_create(const struct container_opts *o, struct err **err)
{
    pid_t pid;
    int console_rx = -1;

    return do_create(o, false, &pid, &console_rx, err);
}

static int poststart(const char *root, const char *id, struct err **err)
{
    struct oci_state *st = NULL;
    int rc = 0;

    if (oci_state_load(root, id, &st, err) < 0)
        return -1;
    if (st->hooks) {
        _cleanup_free_ char *sj = state_string(st, "running");
        struct err *e = NULL;
        /* config.md: a failing poststart hook is logged; the container keeps running */
        if (hooks_run_json(st->hooks, HOOK_POSTSTART, sj ? sj : "{}", &e) < 0) {
            log_warn("%s", e->msg);
            err_free(&e);
        }
    }
    oci_state_free(st);
    return rc;
}

/* Wait for the init, forwarding the user's signals to it (sigproxy.h); they
 * are blocked since before the clone, so none is lost while it starts. */
static int run_foreground_wait(const struct container_opts *o, pid_t pid, int *ws, struct err **err)
{
    if (sigproxy_wait(pid, ws, err) < 0)
        return err_wrap(err, "wait for container `%s`", o->id);
    return 0;
}

int container_run(const struct container_opts *o, int *status, struct err **err)
{
    pid_t pid = -1;
    int ws = 0;

    _cleanup_close_ int console_rx = -1, master = -1;

    *status = 0;
    /* restored on return */
    _cleanup_sigproxy_ struct sigproxy_mask mask = {0};
    if (o->foreground)
        sigproxy_block(&mask);
    if (do_create(o, true, &pid, &console_rx, err) < 0)
        return -1;
    poststart(o->root, o->id, err);
    if (o->detach)
        return 0;
    if (console_rx >= 0) {
        struct err *e = NULL;
        if (terminal_recv_fd(console_rx, &master, &e) < 0 || terminal_relay(master, &e) < 0) {
            log_err(e);
            err_free(&e);
        }
    }
    if (o->foreground && console_rx < 0) {
        if (run_foreground_wait(o, pid, &ws, err) < 0)
            return -1;
    } else {
        while (waitpid(pid, &ws, 0) < 0)
            if (errno != EINTR)
                return err_sys(err, "wait for container `%s`", o->id);
    }
    *status = proc_exit_code(ws);
    if (!o->keep && container_delete(o->root, o->id, true, err) < 0)
        return -1;
    return 0;
}

static int load_alive(const char *root, const char *id, struct oci_state **st, struct cgroup **cg,
                      struct err **err)
{
    if (oci_state_load(root, id, st, err) < 0)
        return -1;
    *cg = NULL;
    if ((*st)->cgroup && cgroup_from_json((*st)->cgroup, cg, err) < 0) {
        oci_state_free(*st);
        return err_wrap(err, "container `%s`", id);
    }
    return 0;
}

/* load_alive() of a container whose init runs (kill, update): ESRCH otherwise. */
static int load_running(const char *root, const char *id, struct oci_state **st, struct cgroup **cg,
                        struct err **err)
{
    if (load_alive(root, id, st, cg, err) < 0)
        return -1;
    if (!oci_state_init_alive(*st)) {
        cgroup_free(*cg);
        oci_state_free(*st);
        *cg = NULL;
        *st = NULL;
        return err_val(err, ESRCH, "container `%s` is not running", id);
    }
    return 0;
}

static const char *status_of(const char *root, const struct oci_state *st, struct cgroup *cg)
{
    return oci_state_status(root, st, cg ? cgroup_freezer_state(cg) : NULL);
}

int container_start(const char *root, const char *id, struct err **err)
{
    struct oci_state *st = NULL;
    struct cgroup *cg = NULL;
    char fifo[PATH_MAX];
    int rc = -1;
    _cleanup_close_ int fd = -1, pidfd = -1;

    if (load_alive(root, id, &st, &cg, err) < 0)
        return -1;
    const char *status = status_of(root, st, cg);
    if (strcmp(status, "created") != 0) {
        err_val(err, EINVAL, "container `%s` is not in the created state (it is %s)", id, status);
        goto out;
    }
    snprintf(fifo, sizeof(fifo), "%s/%s/exec.fifo", root, id);
    pidfd = proc_pidfd(st->pid, err);
    if (pidfd < 0)
        goto out;
    fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        err_sys(err, "open `%s`", fifo);
        goto out;
    }
    struct pollfd pf[2] = {{.fd = fd, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
    for (;;) {
        if (poll(pf, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            err_sys(err, "wait for container `%s`", id);
            goto out;
        }
        char b;
        if (pf[0].revents & POLLIN) {
            if (read(fd, &b, 1) == 1)
                break;
        }
        if (pf[1].revents || (pf[0].revents & POLLHUP)) {
            err_val(err, ECHILD, "container `%s`: the init exited before start", id);
            goto out;
        }
    }
    unlink(fifo);
    rc = 0;
out:
    cgroup_free(cg);
    oci_state_free(st);
    if (rc == 0)
        poststart(root, id, err);
    return rc;
}

int container_state(const char *root, const char *id, json_t **out, struct err **err)
{
    struct oci_state *st = NULL;
    struct cgroup *cg = NULL;

    if (load_alive(root, id, &st, &cg, err) < 0)
        return -1;
    *out = oci_state_to_oci(st, status_of(root, st, cg));
    cgroup_free(cg);
    oci_state_free(st);
    return *out ? 0 : err_set(err, ENOMEM, "state");
}

int container_parse_signal(const char *s, int *sig, struct err **err)
{
    char *end;
    long n = strtol(s, &end, 10);

    if (*s && *end == '\0') {
        /* 0 checks that the process exists (kill(2)), as runc and crun take it */
        if (n < 0 || n >= NSIG)
            return err_val(err, EINVAL, "signal %s: out of range", s);
        *sig = (int)n;
        return 0;
    }
    const char *name = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
    for (int i = 1; i < NSIG; i++) {
        const char *abbrev = sigabbrev_np(i);
        if (abbrev && strcasecmp(abbrev, name) == 0) {
            *sig = i;
            return 0;
        }
    }
    return err_val(err, EINVAL, "unknown signal `%s`", s);
}

/* A frozen process cannot die: SIGKILL of a paused container thaws it, so
 * that it stops as with runc (crun does it for --all). */
static int kill_thaw(struct cgroup *cg, int sig, bool paused, struct err **err)
{
    if (sig != SIGKILL || !paused)
        return 0;
    if (cgroup_freeze(cg, false, err) < 0)
        return err_wrap(err, "kill: thaw the paused container");
    return 0;
}

static int signal_init(const struct oci_state *st, int sig, struct err **err)
{
    _cleanup_close_ int pidfd = proc_pidfd(st->pid, err);

    if (pidfd < 0)
        return -1;
    /* the pidfd pins the process: check it is still the init we started */
    if (!oci_state_init_alive(st))
        return err_val(err, ESRCH, "container `%s` is not running", st->id);
    if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
        return err_sys(err, "signal %d to container `%s`", sig, st->id);
    return 0;
}

int container_kill(const char *root, const char *id, int sig, bool all, struct err **err)
{
    struct oci_state *st = NULL;
    struct cgroup *cg = NULL;
    int rc;

    /* --all signals what is left in the cgroup, even of a stopped container (runc, crun) */
    if ((all ? load_alive(root, id, &st, &cg, err) : load_running(root, id, &st, &cg, err)) < 0)
        return -1;
    bool paused = cg != NULL && strcmp(status_of(root, st, cg), "paused") == 0;
    if (all && cg != NULL)
        rc = cgroup_kill(cg, sig, err);
    else if (all && !oci_state_init_alive(st))
        rc = 0;
    else
        rc = signal_init(st, sig, err);
    rc = rc < 0 ? rc : kill_thaw(cg, sig, paused, err);
    cgroup_free(cg);
    oci_state_free(st);
    return rc;
}

/* Wait (bounded) for the init to be gone. */
static void wait_gone(const struct oci_state *st)
{
    struct err *e = NULL;
    _cleanup_close_ int pidfd = proc_pidfd(st->pid, &e);

    err_free(&e);
    if (pidfd < 0)
        return;
    struct pollfd pf = {.fd = pidfd, .events = POLLIN};
    poll(&pf, 1, 10000);
    /* our own child (run): reap it */
    waitpid(st->pid, NULL, WNOHANG);
}

/* Is the create that wrote this "creating" state still running (not us)? */
static bool creator_alive(const struct oci_state *st)
{
    return st->creating && st->creator > 0 && st->creator != getpid() &&
           st->creator_start_time != 0 &&
           oci_state_pid_start_time(st->creator) == st->creator_start_time;
}

/*
 * delete --force of a container whose create is still running (in a hook, or
 * stopped): end that create first, or it goes on (its init waiting on
 * exec.fifo, its cgroup busy) after the state is gone. The init and the hooks
 * have PDEATHSIG=SIGKILL until create releases the init, so they die with it.
 * Bounded wait; the caller then reloads the state it left.
 */
static void stop_creator(const struct oci_state *st)
{
    struct err *e = NULL;
    _cleanup_close_ int pidfd = proc_pidfd(st->creator, &e);

    err_free(&e);
    if (pidfd < 0 || !creator_alive(st))
        return;
    if (syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) < 0)
        return;
    struct pollfd pf = {.fd = pidfd, .events = POLLIN};
    poll(&pf, 1, 10000);
}

/* Kill what is left in the cgroup and wait (bounded) until it is empty:
 * rmdir of a cgroup with processes fails with EBUSY. */
static void empty_cgroup(struct cgroup *cg)
{
    for (int i = 0; cg != NULL && i < 500; i++) {
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        struct err *e = NULL;
        if (cgroup_pids(cg, &pids, &n, &e) < 0) {
            err_free(&e);
            return;
        }
        if (n == 0)
            return;
        if (i % 25 == 0 && cgroup_kill(cg, SIGKILL, &e) < 0)
            err_free(&e);
        for (size_t k = 0; k < n; k++)
            waitpid(pids[k], NULL, WNOHANG); /* our own children (run) */
        usleep(20000);
    }
}

int container_delete(const char *root, const char *id, bool force, struct err **err)
{
    struct oci_state *st = NULL;
    struct cgroup *cg = NULL;
    struct err *e = NULL;
    int rc = 0;

    if (load_alive(root, id, &st, &cg, err) < 0)
        return -1;
    if (creator_alive(st)) {
        if (!force) {
            rc = err_val(err, EBUSY,
                         "cannot delete container `%s`: it is being created by pid %d (use "
                         "--force to stop that)",
                         id, st->creator);
            goto out;
        }
        stop_creator(st);
        cgroup_free(cg);
        oci_state_free(st);
        cg = NULL;
        st = NULL;
        if (load_alive(root, id, &st, &cg, err) < 0)
            return -1;
    }
    const char *status = status_of(root, st, cg);
    if (!force && strcmp(status, "stopped") != 0 && strcmp(status, "created") != 0 &&
        strcmp(status, "creating") != 0) {
        rc = err_val(err, EBUSY,
                     "cannot delete container `%s`: it is %s (stop it first, or use --force)", id,
                     status);
        goto out;
    }
    if (oci_state_init_alive(st)) {
        if (cg != NULL && cgroup_kill(cg, SIGKILL, &e) < 0)
            err_free(&e);
        if (signal_init(st, SIGKILL, &e) < 0)
            err_free(&e);
        /* a frozen process cannot die: thaw a paused container */
        if (cg != NULL && strcmp(status, "paused") == 0 && cgroup_freeze(cg, false, &e) < 0)
            err_free(&e);
        wait_gone(st);
    }
    empty_cgroup(cg);
    if (cg != NULL && cgroup_destroy(cg, err) < 0) {
        rc = err_wrap(err, "delete container `%s`", id);
        goto out;
    }
    if (st->hooks) {
        _cleanup_free_ char *sj = state_string(st, "stopped");
        if (hooks_run_json(st->hooks, HOOK_POSTSTOP, sj ? sj : "{}", &e) < 0) {
            log_warn("%s", e->msg);
            err_free(&e);
        }
    }
    rc = oci_state_remove(root, id, err);
out:
    cgroup_free(cg);
    oci_state_free(st);
    return rc;
}

static int need_cgroup(const char *id, struct cgroup *cg, const char *what, struct err **err)
{
    if (cg == NULL)
        return err_val(err, ENOTSUP,
                       "container `%s` has no cgroup (--cgroup-manager disabled): cannot %s", id,
                       what);
    return 0;
}

int container_pause(const char *root, const char *id, bool pause, struct err **err)
{
    struct oci_state *st = NULL;
    struct cgroup *cg = NULL;
    int rc;

    if (load_alive(root, id, &st, &cg, err) < 0)
        return -1;
    const char *status = status_of(root, st, cg);
    if (strcmp(status, pause ? "running" : "paused") != 0)
        rc = err_val(err, EINVAL, "container `%s` is %s, not %s", id, status,
                     pause ? "running" : "paused");
    else if ((rc = need_cgroup(id, cg, pause ? "pause" : "resume", err)) == 0)
        rc = cgroup_freeze(cg, pause, err);
    cgroup_free(cg);
    oci_state_free(st);
    return rc;
}

int container_update(const char *root, const char *id, json_t *resources, struct err **err)
{
    struct oci_state *st = NULL;
    struct cgroup *cg = NULL;
    int rc;

    if (load_running(root, id, &st, &cg, err) < 0)
        return -1;
    if ((rc = need_cgroup(id, cg, "update", err)) == 0 &&
        (rc = cgroup_validate(resources, err)) == 0)
        rc = cgroup_update(cg, resources, err);
    cgroup_free(cg);
    oci_state_free(st);
    return rc;
}

int container_ps(const char *root, const char *id, pid_t **pids, size_t *n, struct err **err)
{
    struct oci_state *st = NULL;
    struct cgroup *cg = NULL;
    int rc = 0;

    if (load_alive(root, id, &st, &cg, err) < 0)
        return -1;
    *pids = NULL;
    *n = 0;
    if (cg != NULL) {
        rc = cgroup_pids(cg, pids, n, err);
    } else if (oci_state_init_alive(st)) {
        *pids = malloc(sizeof(pid_t));
        if (*pids) {
            (*pids)[0] = st->pid;
            *n = 1;
        }
    }
    cgroup_free(cg);
    oci_state_free(st);
    return rc;
}

int container_list(const char *root, json_t **out, struct err **err)
{
    _cleanup_strv_ char **ids = NULL;
    json_t *arr;

    if (oci_state_list(root, &ids, err) < 0)
        return -1;
    arr = json_array();
    for (char **id = ids; arr && *id; id++) {
        json_t *j = NULL;
        struct err *e = NULL;
        if (container_state(root, *id, &j, &e) < 0) {
            err_free(&e);
            continue;
        }
        json_array_append_new(arr, j);
    }
    *out = arr;
    return arr ? 0 : err_set(err, ENOMEM, "list");
}

int container_load_spec(const char *root, const char *id, struct spec **out, struct err **err)
{
    struct oci_state *st = NULL;
    int rc;

    if (oci_state_load(root, id, &st, err) < 0)
        return -1;
    rc = spec_load(st->bundle, NULL, out, err);
    oci_state_free(st);
    return rc;
}
