/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The container process, from the rootfs being ready to execve (see process.h). */
#include "runtime/process.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/sched/types.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "runtime/caps.h"
#include "runtime/mount.h"
#include "util/js.h"
#include "util/cleanup.h"
#include "util/fs.h"

int process_container_settings(const struct spec *s, struct err **err)
{
    if (s->hostname && s->hostname[0] && sethostname(s->hostname, strlen(s->hostname)) < 0)
        return err_sys(err, "hostname: set `%s`", s->hostname);
    if (s->domainname && s->domainname[0] &&
        setdomainname(s->domainname, strlen(s->domainname)) < 0)
        return err_sys(err, "domainname: set `%s`", s->domainname);
    for (size_t i = 0; i < s->nsysctl; i++) {
        char path[PATH_MAX];
        int n = snprintf(path, sizeof(path), "/proc/sys/%s", s->sysctl[i].key);
        for (int k = 10; k < n; k++)
            if (path[k] == '.')
                path[k] = '/';
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
            return err_sys(err, "linux.sysctl.%s: open `%s`", s->sysctl[i].key, path);
        size_t len = strlen(s->sysctl[i].value);
        if (write(fd, s->sysctl[i].value, len) != (ssize_t)len)
            return err_sys(err, "linux.sysctl.%s: write `%s`", s->sysctl[i].key,
                           s->sysctl[i].value);
    }
    if (s->has_personality && personality(s->personality) < 0)
        return err_sys(err, "linux.personality: set");
    return 0;
}

/* Why sched_setattr(2) refused process.scheduler, in terms a user can act on. */
static int sched_error(const struct spec_sched *s, struct err **err)
{
    static const char *const names[] = {"SCHED_OTHER", "SCHED_FIFO", "SCHED_RR",      "SCHED_BATCH",
                                        "SCHED_ISO",   "SCHED_IDLE", "SCHED_DEADLINE"};
    const char *name = s->policy < ARRAY_SIZE(names) ? names[s->policy] : "?";
    int e = errno;

    if (e == EPERM && (s->policy == 1 || s->policy == 2)) /* SCHED_FIFO, SCHED_RR */
        return err_set(
            err, e,
            "process.scheduler: sched_setattr %s priority %u (real-time needs "
            "CAP_SYS_NICE and, with RT group scheduling (cgroup v1 cpu.rt_runtime_us), "
            "real-time runtime in the container's cpu cgroup, which has none by default: "
            "set linux.resources.cpu.realtimeRuntime)",
            name, s->priority);
    if (e == EBUSY && s->policy == 6) /* SCHED_DEADLINE */
        return err_set(err, e,
                       "process.scheduler: sched_setattr SCHED_DEADLINE runtime %llu period %llu "
                       "(the CPUs have no deadline bandwidth left for it)",
                       (unsigned long long)s->runtime, (unsigned long long)s->period);
    if (e == EINVAL)
        return err_set(err, e,
                       "process.scheduler: sched_setattr %s: the kernel refused the parameters "
                       "(priority 1-99 for SCHED_FIFO/SCHED_RR and 0 otherwise; SCHED_DEADLINE: "
                       "runtime <= deadline <= period, runtime >= 1024 ns)",
                       name);
    return err_set(err, e, "process.scheduler: sched_setattr %s", name);
}

int process_limits(const struct spec_process *p, struct err **err)
{
    for (size_t i = 0; i < p->nrlimits; i++) {
        struct rlimit rl = {.rlim_cur = p->rlimits[i].soft, .rlim_max = p->rlimits[i].hard};
        if (setrlimit(p->rlimits[i].resource, &rl) < 0) {
            int e = errno;
            struct rlimit cur = {0};
            getrlimit(p->rlimits[i].resource, &cur);
            return err_set(err, e,
                           "process.rlimits[%zu]: set soft %llu hard %llu (the current hard "
                           "limit is %llu and raising it needs CAP_SYS_RESOURCE)",
                           i, (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max,
                           (unsigned long long)cur.rlim_max);
        }
    }
    if (p->has_oom) {
        char v[16];
        snprintf(v, sizeof(v), "%d", p->oom_score_adj);
        if (fs_write_str("/proc/self/oom_score_adj", v, err) < 0)
            return err_wrap(err, "process.oomScoreAdj");
    }
    if (p->has_ioprio && syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, p->ioprio) < 0)
        return err_sys(err, "process.ioPriority: ioprio_set");
    if (p->sched.set) {
        struct sched_attr a = {
            .size = sizeof(a),
            .sched_policy = p->sched.policy,
            .sched_flags = p->sched.flags,
            .sched_nice = p->sched.nice,
            .sched_priority = p->sched.priority,
            .sched_runtime = p->sched.runtime,
            .sched_deadline = p->sched.deadline,
            .sched_period = p->sched.period,
        };
        if (syscall(SYS_sched_setattr, 0, &a, 0) < 0)
            return sched_error(&p->sched, err);
    }
    if (p->has_umask)
        umask(p->umask);
    return 0;
}

static const char *env_get(char **env, const char *name)
{
    size_t n = strlen(name);

    for (char **e = env; e && *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

int process_prepare_exec(const struct spec_process *p, char **path, struct err **err)
{
    const char *prog = p->args[0];
    struct stat st;

    if (chdir(p->cwd) < 0)
        return err_sys(err, "process.cwd: chdir `%s`", p->cwd);
    if (strchr(prog, '/') != NULL) {
        if (stat(prog, &st) < 0)
            return err_sys(err, "process.args[0]: executable `%s`", prog);
        if (!S_ISREG(st.st_mode))
            return err_val(err, EACCES, "process.args[0]: `%s` is not a regular file", prog);
        /* runc's check before start: no execute bit is EACCES now, not after */
        if ((st.st_mode & 0111) == 0)
            return err_val(err, EACCES, "process.args[0]: `%s` is not executable", prog);
        *path = strdup(prog);
        return *path ? 0 : err_set(err, ENOMEM, "exec");
    }
    const char *pathenv = env_get(p->env, "PATH");
    if (pathenv == NULL)
        pathenv = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    _cleanup_free_ char *copy = strdup(pathenv);
    char *save = NULL;
    if (copy == NULL)
        return err_set(err, ENOMEM, "exec");
    for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        char cand[PATH_MAX];
        snprintf(cand, sizeof(cand), "%s/%s", d, prog);
        if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111) != 0) {
            *path = strdup(cand);
            return *path ? 0 : err_set(err, ENOMEM, "exec");
        }
    }
    return err_val(err, ENOENT, "process.args[0]: executable `%s` not found in $PATH (%s)", prog,
                   pathenv);
}

int process_switch_user(const struct spec_process *p, struct err **err)
{
    if (!p->keep_groups && setgroups(p->ngids, p->gids) < 0 && !(errno == EPERM && p->ngids == 0))
        return err_sys(err, "process.user.additionalGids: setgroups");
    if (setresgid(p->gid, p->gid, p->gid) < 0)
        return err_sys(err, "process.user.gid: setresgid %u", p->gid);
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        return err_sys(err, "prctl PR_SET_KEEPCAPS");
    if (setresuid(p->uid, p->uid, p->uid) < 0)
        return err_sys(err, "process.user.uid: setresuid %u", p->uid);
    /* setresuid away from 0 cleared the effective set; caps_apply needs
     * CAP_SETPCAP to shrink the bounding set, so raise effective to permitted
     * (kept by PR_SET_KEEPCAPS) first. */
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &hdr, data) < 0)
        return err_sys(err, "capget");
    data[0].effective = data[0].permitted;
    data[1].effective = data[1].permitted;
    if (syscall(SYS_capset, &hdr, data) < 0)
        return err_sys(err, "capset");
    struct caps none = {0};
    if (caps_apply(p->has_caps ? &p->caps : &none, err) < 0)
        return err_wrap(err, "process.capabilities");
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
        return err_sys(err, "prctl PR_SET_KEEPCAPS");
    return 0;
}

void process_reset_signals(void)
{
    sigset_t none;

    for (int sig = 1; sig < NSIG; sig++) {
        struct sigaction sa;
        if (sig != SIGKILL && sig != SIGSTOP && sigaction(sig, NULL, &sa) == 0 &&
            sa.sa_handler == SIG_IGN)
            signal(sig, SIG_DFL);
    }
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

int process_new_session(struct err **err)
{
    if (setsid() < 0)
        return err_sys(err, "setsid: leave the caller's session");
    return 0;
}

static int send_fd(int sock, int fd, const char *name, struct err **err)
{
    char buf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {.iov_base = (void *)name, .iov_len = strlen(name)};
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof(buf)};
    struct cmsghdr *c;

    memset(buf, 0, sizeof(buf));
    c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
        return err_sys(err, "--console-socket: send the pty master");
    return 0;
}

/* The pty belongs to the process's user, as runc's fixStdioPermissions makes
 * it (the uid only: devpts's gid= chose the group); else a process that is not
 * root cannot open its own terminal by name (/dev/pts/N, /dev/console). Only
 * the pty made here: a terminal passed in by the caller is never chowned. A
 * uid the user namespace does not map (EINVAL) or an owner it cannot change
 * (EPERM) leaves it root's, as runc does. */
static int terminal_chown(int slave, uid_t uid, struct err **err)
{
    if (fchown(slave, uid, (gid_t)-1) < 0 && errno != EINVAL && errno != EPERM)
        return err_sys(err, "process.terminal: chown the pty to uid %u", uid);
    return 0;
}

int process_terminal(int console_sock, const struct spec_process *p, bool console, struct err **err)
{
    char name[64];
    _cleanup_close_ int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);

    if (master < 0)
        return err_sys(err, "process.terminal: open /dev/ptmx (is devpts mounted?)");
    if (unlockpt(master) < 0 || ptsname_r(master, name, sizeof(name)) != 0)
        return err_sys(err, "process.terminal: unlock the pty");
    _cleanup_close_ int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0)
        return err_sys(err, "process.terminal: open `%s`", name);
    if (terminal_chown(slave, p->uid, err) < 0)
        return -1;
    if (p->console_h || p->console_w) {
        struct winsize ws = {.ws_row = (unsigned short)p->console_h,
                             .ws_col = (unsigned short)p->console_w};
        if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
            return err_sys(err, "process.consoleSize: TIOCSWINSZ");
    }
    if (console && mount_console(name, err) < 0)
        return -1;
    if (send_fd(console_sock, master, name, err) < 0)
        return -1;
    if (setsid() < 0 && errno != EPERM)
        return err_sys(err, "setsid");
    if (ioctl(slave, TIOCSCTTY, 0) < 0)
        return err_sys(err, "process.terminal: TIOCSCTTY");
    for (int fd = 0; fd < 3; fd++)
        if (dup2(slave, fd) < 0)
            return err_sys(err, "process.terminal: dup2");
    return 0;
}

/* Without close_range (Linux < 5.11, or refused by a seccomp filter the
 * runtime runs under): mark what /proc/self/fd lists. */
static int cloexec_from_proc(int first, struct err **err)
{
    _cleanup_closedir_ DIR *d = opendir("/proc/self/fd");
    struct dirent *de;

    if (d == NULL)
        return err_sys(err, "mark fds close-on-exec: open /proc/self/fd");
    while ((de = readdir(d)) != NULL) {
        char *end;
        long fd = strtol(de->d_name, &end, 10);
        if (de->d_name[0] == '.' || *end != '\0' || fd < first || fd == dirfd(d))
            continue;
        int fl = fcntl((int)fd, F_GETFD);
        if (fl >= 0 && !(fl & FD_CLOEXEC) && fcntl((int)fd, F_SETFD, fl | FD_CLOEXEC) < 0)
            return err_sys(err, "mark fd %ld close-on-exec", fd);
    }
    return 0;
}

int process_cloexec_from(int first, struct err **err)
{
    if (syscall(SYS_close_range, (unsigned)first, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
        if (errno != ENOSYS && errno != EPERM && errno != EACCES && errno != EINVAL)
            return err_sys(err, "close_range");
        return cloexec_from_proc(first, err);
    }
    return 0;
}

extern char **environ;

/* runtime-spec config-linux.md "Seccomp": the listener gets the container
 * process state (runtime.md "containerProcessState") as the payload and the
 * notify fd by SCM_RIGHTS. Built before the filter is installed, so that
 * sending it needs only sendmsg. */
static char *notify_message(const char *state_json, const char *metadata)
{
    json_t *state = json_loads(state_json ? state_json : "{}", 0, NULL);
    json_t *j = json_pack("{s:s, s:[s], s:O, s:s, s:o}", "ociVersion", "1.2.0", "fds", "seccompFd",
                          "pid", json_object_get(state, "pid"), "metadata",
                          metadata ? metadata : "", "state", state ? state : json_object());
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

    if (j)
        json_decref(j);
    return text;
}

static int send_notify_fd(int listener, int nfd, const char *text, struct err **err)
{
    char buf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {.iov_base = (void *)text, .iov_len = strlen(text)};
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof(buf)};
    struct cmsghdr *c;

    memset(buf, 0, sizeof(buf));
    c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &nfd, sizeof(int));
    if (sendmsg(listener, &msg, MSG_NOSIGNAL) < 0)
        return err_sys(err, "linux.seccomp.listenerPath: send the notify fd to the agent");
    return 0;
}

int process_seccomp(const struct spec_process *p, const struct seccomp_filter *f, bool set_nnp,
                    int listener, const char *state_json, struct err **err)
{
    _cleanup_free_ char *text = NULL;
    int nfd = -1;

    if (set_nnp && p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return err_sys(err, "process.noNewPrivileges: prctl");
    if (f == NULL)
        return 0;
    if (listener >= 0 && seccomp_needs_notify(f) &&
        (text = notify_message(state_json, seccomp_listener_metadata(f))) == NULL)
        return err_set(err, ENOMEM, "linux.seccomp.listenerPath: message");
    if (seccomp_install(f, &nfd, err) < 0)
        return err_wrap(err, "linux.seccomp");
    /* The notify fd is close-on-exec (the kernel opens it so): not closed
     * here, which would need `close` in the profile. */
    if (nfd >= 0 && text != NULL)
        return send_notify_fd(listener, nfd, text, err);
    return 0;
}

int process_exec(const struct spec_process *p, const char *path, const struct seccomp_filter *f,
                 int *notify_fd, struct err **err)
{
    char *const empty[] = {NULL};

    if (process_seccomp(p, f, true, -1, NULL, err) < 0)
        return -1;
    execve(path, p->args, p->env ? p->env : empty);
    return err_sys(err, "exec `%s`", path);
}

int process_execve(const struct spec_process *p, const char *path, struct err **err)
{
    char *const empty[] = {NULL};

    execve(path, p->args, p->env ? p->env : empty);
    return err_sys(err, "exec `%s`", path);
}
