// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The `microvm` isolation (docs/microvm.md): the workload is a container that
 * the guest agent (src/agent/) runs inside a microVM of its own. The VM
 * monitor, isola-vmm, is the caller's child; the caller talks to the agent
 * over virtio-vsock through the monitor's host socket (docs/virtio.md,
 * "vsock host side"): one control connection of frames (util/mvproto.h) and
 * one connection per stdio channel, relayed by threads into the caller's fds.
 *
 * The guest is not trusted: every frame is read with a deadline and checked
 * against the protocol's cap; anything else ends the VM with an error that
 * says so. The host opens the kernel, initramfs and root image read-only and
 * reads nothing back from the guest but frames and stdio bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/guest_kernel.h"
#include "engine/isolation.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"
#include "util/mvproto.h"
#include "util/proc.h"

#define MV_BOOT_TIMEOUT_MS  180000 /* the agent's first answer (an emulated L1 is slow) */
#define MV_REPLY_TIMEOUT_MS 30000
#define MV_MEM_MARGIN_MIB   192 /* guest RAM above the memory limit: kernel, agent, page cache */
#define MV_MEM_DEFAULT_MIB  512 /* guest RAM without a memory limit */
#define MV_CMDLINE          "console=ttyS0 quiet mitigations=off noxsave panic=-1"

struct relay {
    pthread_t thread;
    bool started;
    int from, to; /* owned */
};

struct mv_wl {
    char dir[PATH_MAX]; /* state_root/ID: sockets, logs, the root image link */
    int dirfd;          /* O_PATH of dir: its socket is reached through /proc/self/fd,
                           as sun_path (108 bytes) is shorter than dir can be */
    pid_t vmm;
    int ctl;
    struct relay relay[3];
    bool started;
};

static struct mv_wl *M(struct iso_workload *w)
{
    return w->impl;
}

static void *relay_run(void *arg)
{
    struct relay *r = arg;
    char buf[65536];
    bool to_ok = true;

    for (;;) {
        ssize_t n = read(r->from, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        for (ssize_t off = 0; to_ok && off < n;) {
            ssize_t m = write(r->to, buf + off, (size_t)(n - off));
            if (m < 0 && errno == EINTR)
                continue;
            if (m <= 0) {
                to_ok = false; /* keep draining so the guest is not stalled */
                break;
            }
            off += m;
        }
    }
    /* the guest's stdin sees EOF when the host side shuts down */
    shutdown(r->to, SHUT_WR);
    return NULL;
}

static int relay_start(struct relay *r, int from, int to, struct err **err)
{
    r->from = from;
    r->to = to;
    int e = pthread_create(&r->thread, NULL, relay_run, r);
    if (e != 0)
        return err_set(err, e, "start a stdio relay thread");
    r->started = true;
    return 0;
}

/* Wait for the relays (the guest has closed its ends), at most timeout_ms. */
static void relay_join_all(struct mv_wl *m, int timeout_ms)
{
    struct timespec dl;

    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += timeout_ms / 1000;
    for (int i = 0; i < 3; i++) {
        struct relay *r = &m->relay[i];
        if (r->started && pthread_timedjoin_np(r->thread, NULL, &dl) != 0) {
            /* still blocked: unblock it */
            shutdown(i == 0 ? r->to : r->from, SHUT_RDWR);
            pthread_join(r->thread, NULL);
        }
        r->started = false;
        if (r->from >= 0)
            close(r->from);
        if (r->to >= 0)
            close(r->to);
        r->from = r->to = -1;
    }
}

/* A host-initiated vsock connection to the agent (Firecracker's convention):
 * -1 with EAGAIN when the guest does not listen yet. */
static int vsock_connect(const char *uds, struct err **err)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    char line[64];
    size_t n = 0;

    if (fd < 0)
        return err_sys(err, "socket");
    if (strlen(uds) >= sizeof(a.sun_path))
        return err_val(err, ENAMETOOLONG, "vsock socket `%s`: path too long", uds);
    strcpy(a.sun_path, uds);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        if (errno == ENOENT || errno == ECONNREFUSED)
            return err_set(err, EAGAIN, "connect `%s`", uds);
        return err_sys(err, "connect `%s`", uds);
    }
    snprintf(line, sizeof(line), "CONNECT %u\n", MVP_PORT);
    if (send(fd, line, strlen(line), MSG_NOSIGNAL) < 0)
        return err_sys(err, "send to `%s`", uds);
    /* "OK <host port>\n", byte by byte: what follows is the stream */
    while (n < sizeof(line) - 1) {
        ssize_t r = read(fd, line + n, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return err_sys(err, "read from `%s`", uds);
        if (r == 0)
            return err_set(err, EAGAIN, "vsock port %u: the guest refused", MVP_PORT);
        if (line[n++] == '\n')
            break;
    }
    line[n] = 0;
    if (strncmp(line, "OK ", 3) != 0)
        return err_val(err, EPROTO, "vsock socket `%s`: unexpected answer", uds);
    return steal_fd(&fd);
}

/* The end of a log file in the workload's directory, for error messages. */
static void log_tail(struct mv_wl *m, const char *name, char *buf, size_t len)
{
    char path[PATH_MAX + 16];
    _cleanup_free_ char *data = NULL;
    size_t n;
    struct err *e = NULL;

    buf[0] = 0;
    snprintf(path, sizeof(path), "%.*s/%s", PATH_MAX - 32, m->dir, name);
    if (fs_read_file(path, &data, &n, &e) < 0) {
        err_free(&e);
        return;
    }
    size_t start = n > len - 1 ? n - (len - 1) : 0;
    snprintf(buf, len, "%s", data + start);
}

static int vmm_failed(struct iso_workload *w, const char *what, struct err **err)
{
    char con[1024], vmm[512];
    _cleanup_free_ char *old = *err != NULL ? steal_ptr_((void **)&(*err)->msg) : NULL;

    if (old != NULL) {
        what = old;
        err_free(err);
    }

    log_tail(M(w), "console.log", con, sizeof(con));
    log_tail(M(w), "vmm.log", vmm, sizeof(vmm));
    return err_val(err, EIO,
                   "microvm %s: %s; the VM monitor said: %s; the guest's console ends with:\n%s",
                   w->id, what, vmm, con);
}

/* Connect to the agent, retrying while the guest boots and the monitor lives. */
static int agent_connect(struct iso_workload *w, int timeout_ms, struct err **err)
{
    struct mv_wl *m = M(w);
    char uds[PATH_MAX + 16];
    struct timespec t0, t;

    snprintf(uds, sizeof(uds), "/proc/self/fd/%d/vsock.sock", m->dirfd);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct err *e = NULL;
        int fd = vsock_connect(uds, &e);
        if (fd >= 0)
            return fd;
        if (e->code != EAGAIN) {
            *err = e;
            return -1;
        }
        err_free(&e);
        int st;
        if (waitpid(m->vmm, &st, WNOHANG) == m->vmm) {
            m->vmm = 0;
            char what[64];
            snprintf(what, sizeof(what), "the VM monitor exited (%d) before the agent answered",
                     proc_exit_code(st));
            return vmm_failed(w, what, err);
        }
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > timeout_ms)
            return vmm_failed(w, "the agent did not answer in time", err);
        nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    }
}

/* Guest RAM: the spec's memory limit plus the margin. */
static int64_t guest_mem_mib(json_t *spec)
{
    json_t *lim = json_object_get(
        json_object_get(json_object_get(json_object_get(spec, "linux"), "resources"), "memory"),
        "limit");
    if (json_is_integer(lim) && json_integer_value(lim) > 0)
        return (json_integer_value(lim) + (1 << 20) - 1) / (1 << 20) + MV_MEM_MARGIN_MIB;
    return MV_MEM_DEFAULT_MIB;
}

/* Bind mounts of the host's files cannot reach the guest: the engine's
 * /etc/hosts, /etc/hostname, /etc/resolv.conf are sent in the spec frame
 * ("isolaGuestFiles": [{"mount": index, "content": text}]) and the agent
 * writes them in the guest. Directory binds (-v) need a file-sharing device
 * that does not exist yet: refused. */
static int guest_files(json_t *spec, const char *id, struct err **err)
{
    json_t *mounts = json_object_get(spec, "mounts"), *files = json_array(), *mnt;
    size_t i;

    if (files == NULL)
        return err_set(err, ENOMEM, "microvm %s", id);
    json_array_foreach (mounts, i, mnt) {
        const char *type = json_string_value(json_object_get(mnt, "type"));
        const char *src = json_string_value(json_object_get(mnt, "source"));
        json_t *opts = json_object_get(mnt, "options"), *o;
        size_t k;
        bool bind = type != NULL && strcmp(type, "bind") == 0;
        json_array_foreach (opts, k, o)
            if (json_is_string(o) && (strcmp(json_string_value(o), "bind") == 0 ||
                                      strcmp(json_string_value(o), "rbind") == 0))
                bind = true;
        if (!bind || src == NULL)
            continue;
        struct stat st;
        _cleanup_free_ char *buf = NULL;
        size_t len;
        if (lstat(src, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > 65536) {
            json_decref(files);
            return err_val(err, ENOTSUP,
                           "microvm %s: bind mount of `%s`: only small regular files reach a "
                           "microVM yet (docs/microvm.md)",
                           id, src);
        }
        if (fs_read_file(src, &buf, &len, err) < 0 || memchr(buf, 0, len) != NULL) {
            json_decref(files);
            if (*err == NULL)
                err_val(err, ENOTSUP, "microvm %s: bind mount of `%s`: not a text file", id, src);
            return -1;
        }
        json_array_append_new(
            files, json_pack("{s:I, s:s%}", "mount", (json_int_t)i, "content", buf, len));
    }
    json_object_set_new(spec, "isolaGuestFiles", files);
    return 0;
}

static int spawn_vmm(const struct iso_ctx *c, const struct iso_create_opts *o, struct mv_wl *m,
                     const char *initrd, const char *rootlink, int64_t mem_mib, struct err **err)
{
    struct guest_kernel k;
    char mem[32], disk[PATH_MAX + 32], uds[PATH_MAX + 16], con[PATH_MAX + 32], log[PATH_MAX + 16];

    if (guest_kernel_open(c->kernel_dir, &k, err) < 0)
        return -1;
    snprintf(mem, sizeof(mem), "%" PRId64 "M", mem_mib);
    snprintf(disk, sizeof(disk), "%s,ro", rootlink);
    /* relative to the monitor's working directory, dir: sun_path is short */
    snprintf(uds, sizeof(uds), "vsock.sock");
    snprintf(con, sizeof(con), "file=%s/console.log", m->dir);
    snprintf(log, sizeof(log), "%s/vmm.log", m->dir);
    char *const argv[] = {
        (char *)c->vmm, "run",      "--kernel",  k.vmlinuz, "--initrd", (char *)initrd, "--cmdline",
        MV_CMDLINE,     "--memory", mem,         "--disk",  disk,       "--vsock",      "3",
        "--vsock-uds",  uds,        "--console", con,       NULL};
    _cleanup_close_ int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    _cleanup_close_ int logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (null < 0 || logfd < 0)
        return err_sys(err, "open `%s`", log);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        return err_sys(err, "fork the VM monitor");
    if (pid == 0) {
        if (o->die_with_caller && (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent))
            _exit(127);
        /* not in the caller's process group: a terminal's ^C or a group kill
         * is for the workload, which the caller forwards it to */
        setsid();
        if (chdir(m->dir) < 0)
            _exit(127);
        dup2(null, 0);
        dup2(logfd, 1);
        dup2(logfd, 2);
        execv(c->vmm, argv);
        dprintf(2, "exec `%s`: %s\n", c->vmm, strerror(errno));
        _exit(127);
    }
    m->vmm = pid;
    return 0;
}

static void vmm_kill(struct mv_wl *m)
{
    if (m->vmm > 0)
        proc_kill_reap(m->vmm);
    m->vmm = 0;
}

static int mv_delete(struct iso_workload *w, bool force, struct err **err);

static void mv_delete_quiet(struct iso_workload *w)
{
    struct err *e = NULL;

    if (mv_delete(w, true, &e) < 0)
        err_free(&e);
}

static int mv_create(const struct iso_ctx *c, const struct iso_create_opts *o,
                     struct iso_workload *w, struct err **err)
{
    _cleanup_free_ struct mv_wl *m = calloc(1, sizeof(*m));
    _cleanup_json_ json_t *spec = NULL;
    char cfg[PATH_MAX + 16], rootfs[PATH_MAX * 2], initrd[PATH_MAX], img[PATH_MAX],
        link[PATH_MAX + 16], serial_link[PATH_MAX + 16];
    struct guest_kernel k;
    const char *rp = NULL;
    _cleanup_free_ char *text = NULL;

    if (m == NULL)
        return err_set(err, ENOMEM, "microvm %s", o->id);
    if (c->kernel_dir == NULL || c->agent == NULL || c->vmm == NULL || c->cache_dir == NULL)
        return err_val(err, EINVAL, "microvm %s: no guest kernel, agent or VM monitor given",
                       o->id);
    m->ctl = -1;
    m->dirfd = -1;
    for (int i = 0; i < 3; i++)
        m->relay[i].from = m->relay[i].to = -1;
    memset(w, 0, sizeof(*w));
    w->ops = &iso_microvm_ops;
    w->exit_fd = -1;
    if ((w->id = strdup(o->id)) == NULL)
        return err_set(err, ENOMEM, "microvm %s", o->id);
    w->impl = m;
    if ((size_t)snprintf(m->dir, sizeof(m->dir), "%s/%s", c->state_root, o->id) >=
        sizeof(m->dir) - 32) {
        err_val(err, ENAMETOOLONG, "microvm %s: state directory too long", o->id);
        goto fail;
    }
    if (fs_mkdir_p(m->dir, 0700, err) < 0)
        goto fail;
    if ((m->dirfd = open(m->dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
        err_sys(err, "open `%s`", m->dir);
        goto fail;
    }
    snprintf(cfg, sizeof(cfg), "%s/config.json", o->bundle);
    if (js_load_file(cfg, &spec, err) < 0 ||
        js_get_str(json_object_get(spec, "root"), "root", "path", true, &rp, err) < 0)
        goto fail;
    snprintf(rootfs, sizeof(rootfs), "%s%s%s", rp[0] == '/' ? "" : o->bundle,
             rp[0] == '/' ? "" : "/", rp);
    snprintf(link, sizeof(link), "%s/root.ext4", m->dir);
    /* the disk's serial is the name the monitor opens: the agent finds it by that */
    snprintf(serial_link, sizeof(serial_link), "%s/isola-root", m->dir);
    if (guest_kernel_open(c->kernel_dir, &k, err) < 0 ||
        guest_initrd_get(&k, c->agent, c->cache_dir, initrd, sizeof(initrd), err) < 0 ||
        guest_rootimg_get(rootfs, o->root_key, c->cache_dir, link, img, sizeof(img), err) < 0)
        goto fail;
    unlink(serial_link);
    if (symlink(img, serial_link) < 0) {
        err_sys(err, "symlink `%s`", serial_link);
        goto fail;
    }
    if (spawn_vmm(c, o, m, initrd, serial_link, guest_mem_mib(spec), err) < 0)
        goto fail;
    /* control: hello both ways, then the spec */
    struct mvp_frame f = {0};
    uint32_t ver;
    if ((m->ctl = agent_connect(w, MV_BOOT_TIMEOUT_MS, err)) < 0 ||
        mvp_send_u32(m->ctl, MVP_HELLO, &(uint32_t){MVP_VERSION}, 1, err) < 0)
        goto fail;
    if (mvp_recv(m->ctl, MV_REPLY_TIMEOUT_MS, &f, err) < 0)
        goto fail_proto;
    if (f.type != MVP_HELLO || mvp_u32(&f, 0, &ver, err) < 0 || ver != MVP_VERSION) {
        if (*err == NULL)
            err_val(err, EPROTO, "agent answered %s version %u, expected hello version %u",
                    mvp_type_name(f.type), ver, MVP_VERSION);
        mvp_frame_free(&f);
        goto fail_proto;
    }
    mvp_frame_free(&f);
    if (guest_files(spec, w->id, err) < 0)
        goto fail;
    text = js_dump(spec);
    if (text == NULL || mvp_send(m->ctl, MVP_SPEC, text, strlen(text), err) < 0)
        goto fail;
    /* stdio: one connection per channel */
    int mine[3] = {o->stdio->in, o->stdio->out, o->stdio->err};
    for (int i = 0; i < 3; i++) {
        int s = agent_connect(w, MV_REPLY_TIMEOUT_MS, err);
        if (s < 0)
            goto fail;
        if (mvp_send_u32(s, MVP_STREAM, &(uint32_t){(uint32_t)i}, 1, err) < 0) {
            close(s);
            goto fail;
        }
        int other = mine[i] >= 0 ? fcntl(mine[i], F_DUPFD_CLOEXEC, 3)
                                 : open("/dev/null", O_RDWR | O_CLOEXEC);
        if (other < 0) {
            close(s);
            err_sys(err, "stdio %d", i);
            goto fail;
        }
        if (i == 0 && mine[i] < 0) {
            /* no stdin: EOF at once */
            close(other);
            shutdown(s, SHUT_WR);
            m->relay[i].from = s;
            continue;
        }
        if ((i == 0 ? relay_start(&m->relay[i], other, s, err)
                    : relay_start(&m->relay[i], s, other, err)) < 0) {
            close(s);
            close(other);
            goto fail;
        }
    }
    w->pid = m->vmm;
    m = NULL;
    return 0;
fail_proto:
    err_wrap(err, "microvm %s: the VM was killed: agent handshake", w->id);
fail:
    /* a VM that failed to start is of no use; delete frees m and w->id */
    vmm_kill(m);
    w->impl = steal_ptr_((void **)&m);
    mv_delete_quiet(w);
    return -1;
}

static int mv_start(struct iso_workload *w, struct err **err)
{
    struct mv_wl *m = M(w);
    struct mvp_frame f = {0};

    if (mvp_send(m->ctl, MVP_START, NULL, 0, err) < 0 ||
        mvp_recv(m->ctl, MV_REPLY_TIMEOUT_MS, &f, err) < 0)
        return err_wrap(err, "microvm %s: start", w->id);
    if (f.type == MVP_ERROR) {
        err_val(err, EIO, "microvm %s: start: the agent says: %.*s", w->id, (int)f.len,
                (char *)f.payload);
        mvp_frame_free(&f);
        return -1;
    }
    if (f.type != MVP_STARTED) {
        err_val(err, EPROTO, "microvm %s: start: the agent answered %s", w->id,
                mvp_type_name(f.type));
        mvp_frame_free(&f);
        return -1;
    }
    mvp_frame_free(&f);
    m->started = true;
    w->exit_fd = m->ctl;
    return 0;
}

static int mv_kill(struct iso_workload *w, int sig, bool all, struct err **err)
{
    if (mvp_send_u32(M(w)->ctl, MVP_SIGNAL, (uint32_t[]){(uint32_t)sig, all}, 2, err) < 0)
        return err_wrap(err, "microvm %s: signal %d", w->id, sig);
    return 0;
}

static int mv_reap(struct iso_workload *w, struct iso_exit *out, struct err **err)
{
    struct mv_wl *m = M(w);
    struct mvp_frame f = {0};
    uint32_t code, sig;

    memset(out, 0, sizeof(*out));
    if (mvp_recv(m->ctl, MV_REPLY_TIMEOUT_MS, &f, err) < 0) {
        /* a guest that breaks the protocol or dies loses its VM */
        vmm_kill(m);
        relay_join_all(m, 0);
        err_wrap(err, "control connection");
        return vmm_failed(w, (*err)->msg, err);
    }
    if (f.type != MVP_EXIT || mvp_u32(&f, 0, &code, err) < 0 || mvp_u32(&f, 1, &sig, err) < 0) {
        if (*err == NULL)
            err_val(err, EPROTO, "expected an exit frame, got %s", mvp_type_name(f.type));
        mvp_frame_free(&f);
        vmm_kill(m);
        relay_join_all(m, 0);
        return err_wrap(err, "microvm %s: the VM was killed: control connection", w->id);
    }
    mvp_frame_free(&f);
    if (code > 255 || sig > 64) {
        vmm_kill(m);
        relay_join_all(m, 0);
        return err_val(err, EPROTO, "microvm %s: the VM was killed: exit frame %u/%u out of range",
                       w->id, code, sig);
    }
    out->code = (int)code;
    out->signal = (int)sig;
    /* the workload is gone: its output ends once the guest has sent it all */
    relay_join_all(m, 10000);
    w->exit_fd = -1;
    return 0;
}

static int mv_delete(struct iso_workload *w, bool force, struct err **err)
{
    struct mv_wl *m = M(w);
    struct err *e = NULL;

    (void)force;
    if (m == NULL) {
        free(w->id);
        w->id = NULL;
        return 0;
    }
    if (m->ctl >= 0)
        close(m->ctl); /* the agent powers off */
    m->ctl = -1;
    if (m->vmm > 0) {
        int st;
        if (proc_wait(m->vmm, 10000, &st, &e) < 0) {
            err_free(&e);
            vmm_kill(m);
        }
        m->vmm = 0;
    }
    relay_join_all(m, 0);
    if (m->dirfd >= 0)
        close(m->dirfd);
    int rc = 0;
    if (m->dir[0] != 0 && fs_rm_rf(m->dir, err) < 0)
        rc = err_wrap(err, "microvm %s: delete", w->id);
    free(m);
    w->impl = NULL;
    free(w->id);
    w->id = NULL;
    return rc;
}

static int mv_state(struct iso_workload *w, char *status, size_t len, struct err **err)
{
    (void)err;
    snprintf(status, len, "%s", M(w)->started ? "running" : "created");
    return 0;
}

static int mv_unsupported(struct iso_workload *w, const char *what, struct err **err)
{
    return err_val(err, ENOTSUP, "microvm %s: %s is not supported yet (docs/microvm.md)", w->id,
                   what);
}

static int mv_stats(struct iso_workload *w, struct iso_stats *out, struct err **err)
{
    (void)out;
    return mv_unsupported(w, "stats", err);
}

static int mv_pause(struct iso_workload *w, bool pause, struct err **err)
{
    (void)pause;
    return mv_unsupported(w, "pause", err);
}

static int mv_resize(struct iso_workload *w, int pty_master, unsigned short rows,
                     unsigned short cols, struct err **err)
{
    (void)pty_master;
    (void)rows;
    (void)cols;
    return mv_unsupported(w, "resize", err);
}

static int mv_exec(struct iso_workload *w, const struct iso_process *p, struct iso_stdio *stdio,
                   struct iso_exec *x, struct err **err)
{
    (void)p;
    (void)stdio;
    (void)x;
    return mv_unsupported(w, "exec", err);
}

static int mv_exec_reap(struct iso_workload *w, struct iso_exec *x, struct iso_exit *out,
                        struct err **err)
{
    (void)x;
    (void)out;
    return mv_unsupported(w, "exec", err);
}

const struct iso_ops iso_microvm_ops = {
    .name = "microvm",
    .create = mv_create,
    .start = mv_start,
    .kill = mv_kill,
    .reap = mv_reap,
    .delete = mv_delete,
    .state = mv_state,
    .stats = mv_stats,
    .pause = mv_pause,
    .resize = mv_resize,
    .exec = mv_exec,
    .exec_reap = mv_exec_reap,
};
