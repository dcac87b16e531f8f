// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * isola-agent: PID 1 of a microVM guest (docs/microvm.md). Boots the guest
 * (agent_boot.c), listens on vsock port MVP_PORT, takes the host's control
 * connection (hello, spec) and one connection per stdio channel, runs the
 * container with src/runtime in a child whose fds 0-2 are those connections,
 * forwards signals, reports the exit status and powers the guest off.
 *
 * The workload never sees the agent's socket: the runtime child closes every
 * fd but its stdio (the listening and control sockets are O_CLOEXEC and the
 * container's init closes what is left), and the container has a /dev of its
 * own (no /dev/vd*) and no CAP_MKNOD unless its spec grants it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/agent.h"
#include "runtime/container.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"
#include "util/mvproto.h"

#define HOST_TIMEOUT_MS 30000 /* the host's next frame during setup */

static int listen_vsock(struct err **err)
{
    _cleanup_close_ int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_vm a = {
        .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = MVP_PORT};

    if (fd < 0)
        return err_sys(err, "vsock socket");
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 8) < 0)
        return err_sys(err, "listen on vsock port %u", MVP_PORT);
    return steal_fd(&fd);
}

static int accept_host(int lfd, struct err **err)
{
    struct pollfd p = {.fd = lfd, .events = POLLIN};
    int r;

    while ((r = poll(&p, 1, HOST_TIMEOUT_MS)) < 0 && errno == EINTR)
        ;
    if (r == 0)
        return err_val(err, ETIMEDOUT, "accept on vsock port %u: no host within %d ms", MVP_PORT,
                       HOST_TIMEOUT_MS);
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return err_sys(err, "accept on vsock port %u", MVP_PORT);
    return fd;
}

static int expect(int fd, uint32_t type, struct mvp_frame *f, struct err **err)
{
    if (mvp_recv(fd, HOST_TIMEOUT_MS, f, err) < 0)
        return -1;
    if (f->type != type) {
        err_val(err, EPROTO, "expected a %s frame, got %s", mvp_type_name(type),
                mvp_type_name(f->type));
        mvp_frame_free(f);
        return -1;
    }
    return 0;
}

/* The host's files that the spec bind-mounts (iso_microvm.c, guest_files()):
 * written under /run/files, the mounts' sources pointed there. */
static int write_guest_files(json_t *spec, struct err **err)
{
    json_t *files = json_object_get(spec, "isolaGuestFiles"), *f;
    json_t *mounts = json_object_get(spec, "mounts");
    size_t i;

    if (files == NULL)
        return 0;
    if (fs_mkdir_p("/run/files", 0755, err) < 0)
        return -1;
    json_array_foreach (files, i, f) {
        json_t *idx = json_object_get(f, "mount"), *content = json_object_get(f, "content");
        json_t *m = json_array_get(mounts, (size_t)json_integer_value(idx));
        char path[64];
        if (!json_is_integer(idx) || !json_is_string(content) || !json_is_object(m))
            return err_val(err, EINVAL, "spec frame: isolaGuestFiles[%zu] is malformed", i);
        snprintf(path, sizeof(path), "/run/files/%zu", i);
        if (fs_write_atomic(path, json_string_value(content), json_string_length(content), 0644,
                            err) < 0)
            return -1;
        json_object_set_new(m, "source", json_string(path));
    }
    json_object_del(spec, "isolaGuestFiles");
    return 0;
}

/* config.json for the runtime: the host's spec with the guest's root. */
static int write_bundle(const struct mvp_frame *f, struct err **err)
{
    _cleanup_json_ json_t *spec = NULL;
    json_t *root;

    if (js_load_buf((const char *)f->payload, f->len, "spec frame", &spec, err) < 0)
        return -1;
    root = json_object_get(spec, "root");
    if (!json_is_object(root))
        return err_val(err, EINVAL, "spec frame: no root object");
    json_object_set_new(root, "path", json_string(AGENT_ROOT));
    if (write_guest_files(spec, err) < 0)
        return -1;
    if (fs_mkdir_p(AGENT_BUNDLE, 0700, err) < 0)
        return -1;
    return js_write_file(AGENT_BUNDLE "/config.json", spec, 0600, err);
}

/* The runtime in a child: fds 0-2 are the stdio connections. */
static pid_t spawn_container(int stdio[3], struct err **err)
{
    pid_t pid = fork();

    if (pid < 0)
        return err_sys(err, "fork the runtime");
    if (pid > 0)
        return pid;
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    for (int i = 0; i < 3; i++)
        if (dup2(stdio[i], i) < 0)
            _exit(125);
    struct container_opts o = {
        .root = AGENT_STATE,
        .id = "ctr",
        .bundle = AGENT_BUNDLE,
        .cgroup_manager = CGROUP_MANAGER_CGROUPFS,
        .foreground = true,
    };
    struct err *e = NULL;
    int status = 0;
    if (container_run(&o, &status, &e) < 0) {
        err_print(e, "isola-agent", stderr);
        _exit(125);
    }
    _exit(status);
}

/* Serve one container: returns its shell-style exit code. */
static int serve(int lfd, int *code, int *sig, struct err **err)
{
    _cleanup_close_ int ctl = -1;
    int stdio[3] = {-1, -1, -1};
    struct mvp_frame f = {0};
    uint32_t v;
    int rc = -1;

    if ((ctl = accept_host(lfd, err)) < 0)
        return -1;
    if (expect(ctl, MVP_HELLO, &f, err) < 0 || mvp_u32(&f, 0, &v, err) < 0)
        goto out;
    mvp_frame_free(&f);
    if (mvp_send_u32(ctl, MVP_HELLO, &(uint32_t){MVP_VERSION}, 1, err) < 0)
        goto out;
    if (v != MVP_VERSION) {
        err_val(err, EPROTO, "host speaks protocol version %u, this agent %u", v, MVP_VERSION);
        goto out;
    }
    if (expect(ctl, MVP_SPEC, &f, err) < 0 || write_bundle(&f, err) < 0)
        goto out;
    mvp_frame_free(&f);
    for (int i = 0; i < 3; i++) {
        _cleanup_close_ int s = accept_host(lfd, err);
        if (s < 0 || expect(s, MVP_STREAM, &f, err) < 0 || mvp_u32(&f, 0, &v, err) < 0)
            goto out;
        mvp_frame_free(&f);
        if (v > MVP_STDERR || stdio[v] >= 0) {
            err_val(err, EPROTO, "stream frame: bad or repeated channel %u", v);
            goto out;
        }
        stdio[v] = steal_fd(&s);
    }
    if (expect(ctl, MVP_START, &f, err) < 0)
        goto out;
    mvp_frame_free(&f);

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    _cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
    if (sfd < 0) {
        err_sys(err, "signalfd");
        goto out;
    }
    pid_t child = spawn_container(stdio, err);
    if (child < 0)
        goto out;
    for (int i = 0; i < 3; i++) {
        close(stdio[i]);
        stdio[i] = -1;
    }
    if (mvp_send_u32(ctl, MVP_STARTED, &(uint32_t){(uint32_t)child}, 1, err) < 0)
        goto out;
    bool host_gone = false;
    for (;;) {
        struct pollfd p[2] = {{.fd = sfd, .events = POLLIN}, {.fd = ctl, .events = POLLIN}};
        if (poll(p, host_gone ? 1 : 2, -1) < 0 && errno != EINTR) {
            err_sys(err, "poll");
            goto out;
        }
        if (p[0].revents) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof(si)) < 0) {
                /* drained below */
            }
            int st;
            pid_t r;
            bool done = false;
            while ((r = waitpid(-1, &st, WNOHANG)) > 0) /* PID 1 reaps orphans too */
                if (r == child) {
                    done = true;
                    *code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                    /* container_run exits with the shell-style status */
                    *sig = *code > 128 ? *code - 128 : 0;
                }
            if (done)
                break;
        }
        if (!host_gone && p[1].revents) {
            struct err *e = NULL;
            if (mvp_recv(ctl, HOST_TIMEOUT_MS, &f, &e) < 0) {
                /* the host went away: the workload goes too */
                agent_log("control connection: %s; killing the workload", e->msg);
                err_free(&e);
                kill(child, SIGKILL);
                host_gone = true;
                continue;
            }
            uint32_t s = 0;
            if (f.type == MVP_SIGNAL && mvp_u32(&f, 0, &s, &e) == 0 && s > 0 && s < 65)
                kill(child, (int)s); /* the runtime forwards it (foreground run) */
            else
                agent_log("control connection: ignored a %s frame", mvp_type_name(f.type));
            err_free(&e);
            mvp_frame_free(&f);
        }
    }
    if (!host_gone &&
        mvp_send_u32(ctl, MVP_EXIT, (uint32_t[]){(uint32_t)*code, (uint32_t)*sig}, 2, err) < 0)
        goto out;
    /* the host closes the control connection once it has the output */
    if (!host_gone) {
        struct pollfd p = {.fd = ctl, .events = POLLIN};
        poll(&p, 1, 10000);
    }
    rc = 0;
out:
    if (rc < 0 && ctl >= 0) {
        struct err *e = NULL;
        const char *m = (*err)->msg;
        if (mvp_send(ctl, MVP_ERROR, m, strlen(m), &e) < 0)
            err_free(&e);
    }
    mvp_frame_free(&f);
    for (int i = 0; i < 3; i++)
        if (stdio[i] >= 0)
            close(stdio[i]);
    return rc;
}

int main(int argc, char **argv)
{
    struct err *e = NULL;
    int code = 0, sig = 0;
    _cleanup_close_ int lfd = -1;

    (void)argc;
    (void)argv;
    setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
    if (getpid() != 1) {
        fprintf(stderr, "isola-agent: runs as PID 1 of a microVM guest (docs/microvm.md)\n");
        return 2;
    }
    if (agent_boot_base(&e) < 0 || agent_boot_root(&e) < 0 || (lfd = listen_vsock(&e)) < 0 ||
        serve(lfd, &code, &sig, &e) < 0) {
        err_print(e, "isola-agent", stderr);
        err_free(&e);
    }
    sync();
    reboot(RB_POWER_OFF);
    return 0;
}
