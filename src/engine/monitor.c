/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The monitor's loop: one epoll set, no threads. What wakes it:
 *   self-pipe  SIGCHLD (orphans to reap), SIGTERM/SIGINT (a stop request);
 *              handlers, not a blocked mask + signalfd: the workload inherits
 *              the signal mask of the process that creates it (execve keeps
 *              it), while caught signals are reset to SIG_DFL at exec
 *   exit_fd    the isolation's "workload ended" fd (a pidfd for linux)
 *   out/err    the workload's stdout and stderr pipes, or the pty master
 *   timerfd    the restart delay, or the SIGKILL after a stop's timeout
 *   ctl.sock   new clients, and the packets of connected ones
 * The monitor keeps both ends of the stdio pipes for the workload's whole life
 * (restarts reuse them), so a pipe never reports EOF: at an exit, the output
 * still buffered is drained until EAGAIN before the exit is recorded.
 */
#include "engine/monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/ctrlog.h"
#include "engine/monitor_dexec.h"
#include "engine/monitor_health.h"
#include "runtime/oci_state.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"

enum {
    TAG_SIG = 1,
    TAG_LISTEN,
    TAG_TIMER,
    TAG_EXIT,
    TAG_OUT,
    TAG_ERR,
    TAG_PTY,
    TAG_HTIMER, /* health checks (monitor_health.h) */
    TAG_HOUT,
    TAG_HEXIT,
    TAG_CLIENT = 0x100, /* + client index: its socket */
    TAG_XOUT = 0x200,   /* + client index: its exec's stdout */
    TAG_XERR = 0x300,   /* + client index: its exec's stderr */
    TAG_XEXIT = 0x400,  /* + client index: its exec's exit fd */
};

enum client_kind { C_NEW = 0, C_ATTACH, C_WAIT, C_EXEC, C_HEALTH };
#define MAX_CLIENTS 32

struct client {
    int fd;
    enum client_kind kind;
    /* C_EXEC: the process runs as long as the connection */
    struct iso_exec x;
    int xout, xerr;
    int xin;        /* exec with "stdin": its stdin pipe's write end */
    bool xtty;      /* exec with "tty": xout is its pty master */
    char what[128]; /* its command, for DIR/execs (monitor_dexec.h) */
};

enum timer_kind { T_NONE = 0, T_RESTART, T_KILL };

struct mon {
    const struct monitor_opts *o;
    int ep, sfd, lsock, tfd;
    int out[2], errp[2], in[2];
    int pty;
    struct iso_workload w;
    bool have_w, running, stopping, done;
    struct ctrlog log;
    struct client clients[MAX_CLIENTS];
    unsigned restarts;
    uint64_t delay_ms;
    struct timespec started;
    enum timer_kind timer;
    unsigned long long self_start;
    char started_at[64];
    char exit_json[512];
    char sock[PATH_MAX];
    struct mon_health health;
    struct mon_dexecs dexec;
};

static void trim(void);

static void dir_path(const struct mon *m, char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", m->o->dir, name);
}

static int ep_add(struct mon *m, int fd, uint64_t tag, struct err **err)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag};

    if (epoll_ctl(m->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
        return err_sys(err, "monitor: epoll_ctl add fd %d", fd);
    return 0;
}

static void ep_del(struct mon *m, int fd)
{
    if (fd >= 0)
        epoll_ctl(m->ep, EPOLL_CTL_DEL, fd, NULL);
}

static int write_status(struct mon *m, const char *state, struct err **err)
{
    char path[PATH_MAX], buf[512];
    int n = snprintf(buf, sizeof(buf),
                     "{\"state\":\"%s\",\"pid\":%d,\"restartCount\":%u,\"monitorPid\":%d,"
                     "\"monitorStartTime\":%llu,\"startedAt\":\"%s\"}\n",
                     state, m->running ? (int)m->w.pid : 0, m->restarts, (int)getpid(),
                     m->self_start, m->started_at);

    dir_path(m, path, sizeof(path), "status");
    return oci_state_write_file(path, buf, (size_t)n, 0644, err);
}

static int write_exit(struct mon *m, const struct iso_exit *x, struct err **err)
{
    char path[PATH_MAX];
    _cleanup_free_ char *now = state_now_rfc3339();
    int n = snprintf(m->exit_json, sizeof(m->exit_json),
                     "{\"exitCode\":%d,\"signal\":%d,\"oomKilled\":%s,\"finishedAt\":\"%s\","
                     "\"restartCount\":%u}",
                     x->code, x->signal, x->oom ? "true" : "false", now ? now : "", m->restarts);

    dir_path(m, path, sizeof(path), "exit");
    m->exit_json[n] = '\n';
    int r = fs_write_replace(path, m->exit_json, (size_t)n + 1, 0644, err);
    m->exit_json[n] = '\0';
    return r;
}

static void exec_close(struct mon *m, struct client *c)
{
    int fds[] = {c->xout, c->xerr, c->xin};

    for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
        if (fds[i] >= 0) {
            ep_del(m, fds[i]);
            close(fds[i]);
        }
    c->xout = c->xerr = c->xin = -1;
    c->xtty = false;
}

static void client_close(struct mon *m, struct client *c)
{
    if (c->kind == C_EXEC && c->x.exit_fd >= 0) {
        /* the connection is gone: so is its process (killed and reaped) */
        struct iso_exit x;
        struct err *e = NULL;
        ep_del(m, c->x.exit_fd);
        if (c->x.pid > 0)
            kill(c->x.pid, SIGKILL);
        if (m->o->iso->exec_reap(&m->w, &c->x, &x, &e) < 0)
            err_free(&e);
    }
    exec_close(m, c);
    ep_del(m, c->fd);
    close(c->fd);
    c->fd = -1;
    c->kind = C_NEW;
}

/* Output to every attached client; one that cannot take it now is dropped
 * (the log keeps everything; a client that does not keep up re-attaches). */
static void broadcast(struct mon *m, char kind, const char *buf, size_t len)
{
    char pkt[MONITOR_MSG_MAX];

    for (size_t i = 0; i < MAX_CLIENTS; i++) {
        struct client *c = &m->clients[i];
        if (c->fd < 0 || c->kind != C_ATTACH)
            continue;
        for (size_t off = 0; off < len;) {
            size_t n = len - off < sizeof(pkt) - 1 ? len - off : sizeof(pkt) - 1;
            pkt[0] = kind;
            memcpy(pkt + 1, buf + off, n);
            if (send(c->fd, pkt, n + 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
                client_close(m, c);
                break;
            }
            off += n;
        }
    }
}

/* Read what a stream has now; false at EOF/EIO (a pty whose slave closed). */
static bool drain(struct mon *m, int fd, const char *stream, char kind)
{
    char buf[16384];

    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 && errno == EAGAIN;
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        ctrlog_write(&m->log, stream, buf, (size_t)n, &now);
        broadcast(m, kind, buf, (size_t)n);
    }
}

static void close_pty(struct mon *m)
{
    if (m->pty >= 0) {
        ep_del(m, m->pty);
        close(m->pty);
        m->pty = -1;
    }
}

static int arm_timer(struct mon *m, enum timer_kind k, uint64_t ms)
{
    struct itimerspec it = {
        .it_value = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L}};

    if (ms == 0)
        it.it_value.tv_nsec = 1; /* 0 would disarm */
    m->timer = k;
    return timerfd_settime(m->tfd, 0, &it, NULL);
}

static void disarm_timer(struct mon *m)
{
    struct itimerspec it = {0};

    m->timer = T_NONE;
    timerfd_settime(m->tfd, 0, &it, NULL);
}

static int start_workload(struct mon *m, struct err **err)
{
    const struct monitor_opts *o = m->o;
    struct iso_stdio io = {.in = o->stdin_open ? m->in[0] : -1,
                           .out = m->out[1],
                           .err = m->errp[1],
                           .tty = o->tty,
                           .pty_master = -1};
    /* a workload never runs on without its monitor (docs/engine.md) */
    struct iso_create_opts co = {.id = o->id,
                                 .bundle = o->bundle,
                                 .stdio = &io,
                                 .die_with_caller = true,
                                 .root_key = o->root_key};

    if (o->iso->create(&o->iso_ctx, &co, &m->w, err) < 0)
        return -1;
    m->have_w = true;
    if (io.pty_master >= 0) {
        m->pty = io.pty_master;
        fcntl(m->pty, F_SETFL, fcntl(m->pty, F_GETFL) | O_NONBLOCK);
        if (ep_add(m, m->pty, TAG_PTY, err) < 0)
            goto fail;
    }
    if (o->iso->start(&m->w, err) < 0)
        goto fail;
    if (ep_add(m, m->w.exit_fd, TAG_EXIT, err) < 0)
        goto fail;
    m->running = true;
    clock_gettime(CLOCK_MONOTONIC, &m->started);
    char *now = state_now_rfc3339();
    snprintf(m->started_at, sizeof(m->started_at), "%s", now ? now : "");
    free(now);
    mon_health_started(&m->health);
    return write_status(m, "running", err);
fail : {
    struct err *e2 = NULL;
    close_pty(m);
    if (o->iso->delete (&m->w, true, &e2) < 0)
        err_free(&e2);
    m->have_w = false;
    return -1;
}
}

/* Send the end packet and close; unread packets are read first, or the
 * peer's recv() would see ECONNRESET instead of the packet. */
static void send_last(int fd, const char *pkt, size_t n)
{
    char buf[MONITOR_MSG_MAX];

    while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
        ;
    send(fd, pkt, n, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void finish(struct mon *m)
{
    char pkt[sizeof(m->exit_json) + 1];
    size_t n = strlen(m->exit_json);

    pkt[0] = 'x';
    memcpy(pkt + 1, m->exit_json, n);
    /* whoever is connected or queued gets the exit, whatever it asked */
    for (int fd; (fd = accept4(m->lsock, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0;) {
        send_last(fd, pkt, n + 1);
        close(fd);
    }
    /* gone before anyone learns of the end: a new monitor may then start in
     * this dir at once, and nothing of ours removes its socket */
    ep_del(m, m->lsock);
    close(m->lsock);
    m->lsock = -1;
    unlink(m->sock);
    for (size_t i = 0; i < MAX_CLIENTS; i++) {
        struct client *c = &m->clients[i];
        if (c->fd < 0)
            continue;
        send_last(c->fd, pkt, n + 1);
        client_close(m, c);
    }
    m->done = true;
}

static void delete_workload(struct mon *m)
{
    struct err *e = NULL;

    if (!m->have_w)
        return;
    if (m->o->iso->delete (&m->w, true, &e) < 0) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        ctrlog_write(&m->log, CTRLOG_STDERR, "[isola-monitor] ", 16, &now);
        ctrlog_write(&m->log, CTRLOG_STDERR, e->msg, strlen(e->msg), &now);
        ctrlog_write(&m->log, CTRLOG_STDERR, "\n", 1, &now);
        err_free(&e);
    }
    m->have_w = false;
}

static int on_exit_fd(struct mon *m, struct err **err)
{
    struct iso_exit x;
    struct timespec now;

    drain(m, m->out[0], CTRLOG_STDOUT, 'o');
    drain(m, m->errp[0], CTRLOG_STDERR, 'e');
    if (m->pty >= 0)
        drain(m, m->pty, CTRLOG_STDOUT, 'o');
    close_pty(m);
    ep_del(m, m->w.exit_fd);
    mon_health_stopped(&m->health);
    mon_dexec_end_all(&m->dexec);
    if (m->o->iso->reap(&m->w, &x, err) < 0)
        return -1;
    m->running = false;
    if (m->timer == T_KILL)
        disarm_timer(m);
    clock_gettime(CLOCK_MONOTONIC, &now);
    uint64_t ran_ms = (uint64_t)(now.tv_sec - m->started.tv_sec) * 1000 +
                      (uint64_t)((now.tv_nsec - m->started.tv_nsec) / 1000000);
    if (write_exit(m, &x, err) < 0)
        return -1;
    delete_workload(m);
    if (restart_wanted(&m->o->restart, x.code, m->restarts, m->stopping)) {
        m->delay_ms = restart_delay_ms(m->delay_ms, ran_ms);
        if (arm_timer(m, T_RESTART, m->delay_ms) < 0)
            return err_sys(err, "monitor: timerfd_settime");
        return write_status(m, "restarting", err);
    }
    if (write_status(m, "exited", err) < 0)
        return -1;
    finish(m);
    return 0;
}

static void stop(struct mon *m)
{
    struct err *e = NULL;

    if (m->stopping && m->running)
        return;
    m->stopping = true;
    if (!m->running) { /* waiting to restart: that is off */
        disarm_timer(m);
        struct err *e2 = NULL;
        if (write_status(m, "exited", &e2) < 0)
            err_free(&e2);
        if (m->exit_json[0] == '\0')
            snprintf(m->exit_json, sizeof(m->exit_json), "{}");
        finish(m);
        return;
    }
    int sig = m->o->stop_signal ? m->o->stop_signal : SIGTERM;
    if (m->o->iso->kill(&m->w, sig, false, &e) < 0)
        err_free(&e);
    arm_timer(m, T_KILL, (uint64_t)m->o->stop_timeout * 1000);
}

/* "kill SIG": the signal to the workload's first process; SIGKILL and the
 * stop signal turn the restart policy off for the exit that follows (Docker's
 * kill). Replies "k", or "E" + a message; then the connection is closed. */
static void kill_request(struct mon *m, int fd, int sig)
{
    struct err *e = NULL;
    char pkt[512] = "k";
    int stop_sig = m->o->stop_signal ? m->o->stop_signal : SIGTERM;

    if (!m->running || sig <= 0 || sig >= 65) {
        snprintf(pkt, sizeof(pkt), "E%s", !m->running ? "not running" : "bad signal");
    } else {
        if (sig == SIGKILL || sig == stop_sig)
            m->stopping = true;
        if (m->o->iso->kill(&m->w, sig, false, &e) < 0) {
            snprintf(pkt, sizeof(pkt), "E%s", e->msg);
            err_free(&e);
        }
    }
    send(fd, pkt, strlen(pkt), MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void on_timer(struct mon *m, struct err **err)
{
    uint64_t n;
    struct err *e = NULL;

    if (read(m->tfd, &n, sizeof(n)) < 0)
        return;
    enum timer_kind k = m->timer;
    m->timer = T_NONE;
    if (k == T_KILL && m->running) {
        if (m->o->iso->kill(&m->w, SIGKILL, true, &e) < 0)
            err_free(&e);
    } else if (k == T_RESTART) {
        m->restarts++;
        if (start_workload(m, &e) == 0) {
            trim();
        } else {
            struct timespec now;
            clock_gettime(CLOCK_REALTIME, &now);
            ctrlog_write(&m->log, CTRLOG_STDERR, "[isola-monitor] restart: ", 25, &now);
            ctrlog_write(&m->log, CTRLOG_STDERR, e->msg, strlen(e->msg), &now);
            ctrlog_write(&m->log, CTRLOG_STDERR, "\n", 1, &now);
            err_free(&e);
            struct iso_exit x = {.code = 125};
            if (write_exit(m, &x, &e) < 0 || write_status(m, "exited", &e) < 0)
                err_free(&e);
            finish(m);
        }
    }
    (void)err;
}

/* "execx\0OPT\0VALUE...\0--\0ARG...": the options of an exec before its
 * command: "env" (KEY=VALUE, repeated: the whole environment), "cwd", "user"
 * (uid[:gid]), "tty" (ROWS COLS: a pty), "stdin" (1: a stdin pipe fed by the
 * client's `i` packets). Fills p and io; *off is where the command starts. */
static int exec_options(char *req, size_t len, size_t *off, struct iso_process *p, char **env,
                        size_t max_env, struct iso_stdio *io, bool *in, bool *detach,
                        struct err **err)
{
    size_t ne = 0;

    while (*off < len) {
        char *opt = req + *off;
        *off += strlen(opt) + 1;
        if (strcmp(opt, "--") == 0)
            break;
        if (*off >= len)
            return err_val(err, EINVAL, "exec: option `%s` without a value", opt);
        char *val = req + *off;
        *off += strlen(val) + 1;
        if (strcmp(opt, "env") == 0 && ne < max_env - 1)
            env[ne++] = val;
        else if (strcmp(opt, "cwd") == 0)
            p->cwd = val;
        else if (strcmp(opt, "user") == 0)
            p->user = val;
        else if (strcmp(opt, "tty") == 0)
            io->tty = sscanf(val, "%hu %hu", &io->rows, &io->cols) >= 0;
        else if (strcmp(opt, "stdin") == 0)
            *in = strcmp(val, "1") == 0;
        else if (strcmp(opt, "detach") == 0)
            *detach = strcmp(val, "1") == 0;
        else
            return err_val(err, EINVAL, "exec: unknown option `%s`", opt);
    }
    env[ne] = NULL;
    if (ne > 0)
        p->env = env;
    return 0;
}

/* "execx\0detach\01\0...": the process on /dev/null, kept by the monitor
 * (monitor_dexec.h) once started; the reply is "s" + {"pid":N}, then the
 * connection is closed (Docker's exec -d). */
static int exec_start_detached(struct mon *m, struct client *c, const struct iso_process *p,
                               struct err **err)
{
    struct iso_stdio io = {.in = -1, .out = -1, .err = -1, .pty_master = -1};
    struct iso_exec x;
    char pkt[64];

    if (m->o->iso->exec(&m->w, p, &io, &x, err) < 0)
        return -1;
    if (!mon_dexec_adopt(&m->dexec, &x, -1, -1, -1, c->what)) {
        struct iso_exit ex;
        struct err *e = NULL;
        kill(x.pid, SIGKILL);
        if (m->o->iso->exec_reap(&m->w, &x, &ex, &e) < 0)
            err_free(&e);
        return err_val(err, EAGAIN, "exec: too many detached processes (%d)", MON_DEXEC_MAX);
    }
    trim(); /* as exec_exited */
    snprintf(pkt, sizeof(pkt), "s{\"pid\":%d}", (int)x.pid);
    send(c->fd, pkt, strlen(pkt), MSG_DONTWAIT | MSG_NOSIGNAL);
    client_close(m, c);
    return 0;
}

/* The client of an exec detached (its `d` packet): the process goes on,
 * kept by the monitor (Docker's detach keys on exec -it). */
static void exec_detach(struct mon *m, struct client *c)
{
    int fds[] = {c->xout, c->xerr, c->xin};

    for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
        ep_del(m, fds[i]);
    ep_del(m, c->x.exit_fd);
    if (c->x.exit_fd >= 0 && mon_dexec_adopt(&m->dexec, &c->x, c->xout, c->xerr, c->xin, c->what)) {
        c->x = (struct iso_exec){.exit_fd = -1};
        c->xout = c->xerr = c->xin = -1;
    }
    client_close(m, c); /* kills it when it could not be kept */
}

/* An exec's client that takes no more output: gone, or detached just now
 * (its `d` may still wait in our queue behind the output we relayed). */
static void exec_client_gone(struct mon *m, struct client *c)
{
    char buf[MONITOR_MSG_MAX];
    ssize_t n;
    int reset = 0;

    /* ECONNRESET first when it closed with our output unread; its packets
     * are still queued behind it */
    while ((n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0 ||
           (n < 0 && errno == ECONNRESET && !reset++))
        if (n > 0 && buf[0] == 'd') {
            exec_detach(m, c);
            return;
        }
    client_close(m, c);
}

/* "exec\0ARG\0ARG..." : run ARGs in the workload, its output to this client
 * as 'o'/'e' packets, then 'x' + {"exitCode":N,"signal":N}. "execx" first
 * takes options (exec_options). */
static int exec_start(struct mon *m, struct client *c, char *req, size_t len, struct err **err)
{
    char *args[64], *env[256];
    size_t n = 0, start = 5;
    int out[2] = {-1, -1}, errp[2] = {-1, -1}, in[2] = {-1, -1};
    uint64_t i = (uint64_t)(c - m->clients);
    struct iso_process p = {.args = args};
    struct iso_stdio io = {.in = -1, .pty_master = -1};
    bool want_in = false, detach = false;

    if (len > 6 && memcmp(req, "execx", 6) == 0) {
        start = 6;
        if (exec_options(req, len, &start, &p, env, ARRAY_SIZE(env), &io, &want_in, &detach, err) <
            0)
            return -1;
    }
    c->what[0] = '\0';
    for (size_t off = start; off < len && n < ARRAY_SIZE(args) - 1; off += strlen(req + off) + 1) {
        size_t l = strlen(c->what);
        snprintf(c->what + l, sizeof(c->what) - l, "%s%s", n ? " " : "", req + off);
        args[n++] = req + off;
    }
    args[n] = NULL;
    if (n == 0)
        return err_val(err, EINVAL, "exec: no command");
    if (!m->running)
        return err_val(err, ESRCH, "exec: `%s` is not running", m->o->id);
    if (detach)
        return exec_start_detached(m, c, &p, err);
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
        (want_in && !io.tty && pipe2(in, O_CLOEXEC) < 0)) {
        err_sys(err, "exec: pipe2");
        goto fail;
    }
    io.in = in[0];
    io.out = out[1];
    io.err = errp[1];
    if (m->o->iso->exec(&m->w, &p, &io, &c->x, err) < 0)
        goto fail;
    close(out[1]);
    close(errp[1]);
    if (in[0] >= 0)
        close(in[0]);
    c->xin = in[1];
    if (io.pty_master >= 0) {
        /* the pty carries its output: it replaces the stdout pipe */
        close(out[0]);
        out[0] = io.pty_master;
        c->xtty = true;
    }
    c->kind = C_EXEC;
    /* output goes to this client only and in full: a send may block, but
     * not the loop for long (then the client is dropped, its process killed) */
    struct timeval tv = {.tv_sec = 5};
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    c->xout = out[0];
    c->xerr = errp[0];
    fcntl(c->xout, F_SETFL, O_NONBLOCK);
    fcntl(c->xerr, F_SETFL, O_NONBLOCK);
    if (ep_add(m, c->xout, TAG_XOUT + i, err) < 0 || ep_add(m, c->xerr, TAG_XERR + i, err) < 0 ||
        ep_add(m, c->x.exit_fd, TAG_XEXIT + i, err) < 0)
        return -1; /* client_close kills and reaps it */
    return 0;
fail:
    for (int k = 0; k < 2; k++) {
        if (out[k] >= 0)
            close(out[k]);
        if (errp[k] >= 0)
            close(errp[k]);
        if (in[k] >= 0)
            close(in[k]);
    }
    return -1;
}

/* An exec'd process's output to its client: 1 when all was read, 0 at EOF,
 * -1 when the client does not take it. */
static int exec_relay(struct client *c, int fd, char kind)
{
    char pkt[16384];

    for (;;) {
        ssize_t n = read(fd, pkt + 1, sizeof(pkt) - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 && errno == EAGAIN;
        pkt[0] = kind;
        if (send(c->fd, pkt, (size_t)n + 1, MSG_NOSIGNAL) < 0)
            return -1;
    }
}

static void exec_exited(struct mon *m, struct client *c)
{
    struct iso_exit x;
    struct err *e = NULL;
    char pkt[128];

    if (c->xout >= 0)
        exec_relay(c, c->xout, 'o');
    if (c->xerr >= 0)
        exec_relay(c, c->xerr, 'e');
    ep_del(m, c->x.exit_fd);
    if (m->o->iso->exec_reap(&m->w, &c->x, &x, &e) < 0) {
        snprintf(pkt, sizeof(pkt), "E%s", e->msg);
        err_free(&e);
    } else {
        snprintf(pkt, sizeof(pkt), "x{\"exitCode\":%d,\"signal\":%d}", x.code, x.signal);
    }
    /* an exec runs the runtime's code in this process, as a start does: give
     * its pages back (bench/engine.sh: 2.2 MiB idle, 3.9 MiB after one exec),
     * before the reply, so that the client sees the monitor as it stays */
    trim();
    send(c->fd, pkt, strlen(pkt), MSG_NOSIGNAL);
    client_close(m, c);
}

static void put_u64(char *buf, size_t cap, size_t *off, const char *key, uint64_t v)
{
    int n = v == UINT64_MAX
                ? snprintf(buf + *off, cap - *off, ",\"%s\":null", key)
                : snprintf(buf + *off, cap - *off, ",\"%s\":%llu", key, (unsigned long long)v);
    if (n > 0 && (size_t)n < cap - *off)
        *off += (size_t)n;
}

/* "s" + {"running":bool,"cpuNs":N,...} (null: not known), or "E" + message. */
static void send_stats(struct mon *m, int fd)
{
    struct iso_stats st;
    struct err *e = NULL;
    char buf[1024];
    size_t off;

    if (!m->running) {
        off = (size_t)snprintf(buf, sizeof(buf), "s{\"running\":false}");
    } else if (m->o->iso->stats(&m->w, &st, &e) < 0) {
        off = (size_t)snprintf(buf, sizeof(buf), "E%s", e->msg);
        err_free(&e);
    } else {
        off = (size_t)snprintf(buf, sizeof(buf), "s{\"running\":true");
        put_u64(buf, sizeof(buf), &off, "cpuNs", st.cpu_ns);
        put_u64(buf, sizeof(buf), &off, "memoryCurrent", st.mem_current);
        put_u64(buf, sizeof(buf), &off, "memoryPeak", st.mem_peak);
        put_u64(buf, sizeof(buf), &off, "memoryLimit", st.mem_limit);
        put_u64(buf, sizeof(buf), &off, "pids", st.pids);
        put_u64(buf, sizeof(buf), &off, "oomKills", st.oom_kills);
        put_u64(buf, sizeof(buf), &off, "netRx", st.net_rx);
        put_u64(buf, sizeof(buf), &off, "netTx", st.net_tx);
        put_u64(buf, sizeof(buf), &off, "blkRead", st.blk_read);
        put_u64(buf, sizeof(buf), &off, "blkWrite", st.blk_write);
        if (off < sizeof(buf) - 1)
            buf[off++] = '}';
    }
    if (off >= sizeof(buf))
        off = sizeof(buf) - 1;
    send(fd, buf, off, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* An exec client's packets: `i` input, `c` end of input, `r` window size,
 * as an attached client's. */
static void exec_input(struct mon *m, struct client *c, const char *buf, size_t n)
{
    struct err *e = NULL;
    int in = c->xtty ? c->xout : c->xin;
    unsigned rows = 0, cols = 0;

    switch (buf[0]) {
    case 'i':
        if (in >= 0 && write(in, buf + 1, n - 1) < 0 && errno != EAGAIN)
            client_close(m, c);
        break;
    case 'c':
        if (c->xtty && in >= 0) {
            if (write(in, "\x04", 1) < 0)
                client_close(m, c);
        } else if (c->xin >= 0) {
            close(c->xin);
            c->xin = -1;
        }
        break;
    case 'd':
        exec_detach(m, c);
        break;
    case 'r':
        if (c->xtty && c->xout >= 0 && sscanf(buf + 1, "%u %u", &rows, &cols) == 2 &&
            m->o->iso->resize(&m->w, c->xout, (unsigned short)rows, (unsigned short)cols, &e) < 0)
            err_free(&e);
        break;
    }
}

/* The last probe's result to every `health` client: "h" + {"Status",
 * "ExitCode","Output"}; then they are closed. */
static void health_replies(struct mon *m)
{
    const struct mon_health *h = &m->health;
    const struct health_result *r = h->st.n_log ? &h->st.log[h->st.n_log - 1] : NULL;
    _cleanup_json_ json_t *j =
        r ? json_pack("{s:s,s:i,s:s}", "Status", health_status_name(h->st.status), "ExitCode",
                      r->exit_code, "Output", r->output ? r->output : "")
          : NULL;
    _cleanup_free_ char *text = j ? js_dump(j) : NULL;
    char pkt[HEALTH_OUTPUT_MAX + 512];

    snprintf(pkt, sizeof(pkt), "h%s", text ? text : "{}");
    trim(); /* an exec ran the runtime's code here (exec_exited) */
    for (size_t i = 0; i < MAX_CLIENTS; i++) {
        struct client *c = &m->clients[i];
        if (c->fd >= 0 && c->kind == C_HEALTH) {
            send(c->fd, pkt, strlen(pkt), MSG_DONTWAIT | MSG_NOSIGNAL);
            client_close(m, c);
        }
    }
}

/* "health": run a probe now (or wait for the one that runs), reply with its
 * result (`isola healthcheck run`, podman's command). */
static void health_request(struct mon *m, struct client *c)
{
    int r = mon_health_run_now(&m->health, m->running);

    if (r < 0) {
        const char *msg =
            m->health.on ? "Econtainer is not running" : "Econtainer has no defined healthcheck";
        send(c->fd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL);
        client_close(m, c);
        return;
    }
    c->kind = C_HEALTH;
    if (r == 1)
        health_replies(m);
}

static void on_client_msg(struct mon *m, struct client *c)
{
    char buf[MONITOR_MSG_MAX + 1];
    struct err *e = NULL;
    ssize_t n = recv(c->fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

    /* a client that closed with our output unread (a detach while output
     * came) makes the first recv fail with ECONNRESET; what it sent before,
     * its `d`, is still queued */
    if (n < 0 && errno == ECONNRESET)
        n = recv(c->fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        client_close(m, c);
        return;
    }
    buf[n] = '\0';
    if (c->kind == C_NEW) {
        if (strcmp(buf, "attach") == 0) {
            c->kind = C_ATTACH;
        } else if (strcmp(buf, "wait") == 0) {
            c->kind = C_WAIT;
        } else if ((n > 5 && memcmp(buf, "exec", 5) == 0) ||
                   (n > 6 && memcmp(buf, "execx", 6) == 0)) {
            if (exec_start(m, c, buf, (size_t)n, &e) < 0) {
                char pkt[1024];
                snprintf(pkt, sizeof(pkt), "E%s", e->msg);
                err_free(&e);
                send(c->fd, pkt, strlen(pkt), MSG_DONTWAIT | MSG_NOSIGNAL);
                client_close(m, c);
            }
        } else if (strcmp(buf, "health") == 0) {
            health_request(m, c);
        } else if (strncmp(buf, "hold ", 5) == 0) {
            /* the engine is about to freeze (1) or has thawed (0) it */
            mon_health_hold(&m->health, buf[5] == '1');
            send(c->fd, "k", 1, MSG_DONTWAIT | MSG_NOSIGNAL);
            client_close(m, c);
        } else if (strcmp(buf, "stats") == 0) {
            send_stats(m, c->fd);
            client_close(m, c);
        } else if (strncmp(buf, "kill ", 5) == 0) {
            kill_request(m, c->fd, atoi(buf + 5));
            client_close(m, c);
        } else if (strncmp(buf, "stop", 4) == 0) {
            c->kind = C_WAIT;
            stop(m);
        } else {
            send(c->fd, "Eunknown request", 16, MSG_DONTWAIT | MSG_NOSIGNAL);
            client_close(m, c);
        }
        return;
    }
    if (c->kind == C_EXEC) {
        exec_input(m, c, buf, (size_t)n);
        return;
    }
    if (c->kind != C_ATTACH)
        return;
    int in = m->pty >= 0 ? m->pty : m->in[1];
    switch (buf[0]) {
    case 'i': /* stdin */
        if (in >= 0 && write(in, buf + 1, (size_t)n - 1) < 0 && errno != EAGAIN)
            client_close(m, c);
        break;
    case 'c': /* end of stdin */
        if (m->pty >= 0) {
            if (write(m->pty, "\x04", 1) < 0)
                client_close(m, c);
        } else if (m->in[1] >= 0) {
            close(m->in[1]);
            m->in[1] = -1;
        }
        break;
    case 'r': { /* "rROWS COLS" */
        unsigned rows = 0, cols = 0;
        if (m->pty >= 0 && m->running && sscanf(buf + 1, "%u %u", &rows, &cols) == 2 &&
            m->o->iso->resize(&m->w, m->pty, (unsigned short)rows, (unsigned short)cols, &e) < 0)
            err_free(&e);
        break;
    }
    case 'd': /* detach: the workload goes on */
        client_close(m, c);
        break;
    }
}

static void on_client_event(struct mon *m, uint64_t tag)
{
    uint64_t i = tag & 0xff;
    struct client *c = i < MAX_CLIENTS ? &m->clients[i] : NULL;

    if (c == NULL || c->fd < 0)
        return;
    switch (tag & ~(uint64_t)0xff) {
    case TAG_CLIENT:
        on_client_msg(m, c);
        break;
    case TAG_XOUT:
    case TAG_XERR: {
        int *fd = (tag & ~(uint64_t)0xff) == TAG_XOUT ? &c->xout : &c->xerr;
        int r = *fd >= 0 ? exec_relay(c, *fd, fd == &c->xout ? 'o' : 'e') : 1;
        if (r < 0) {
            exec_client_gone(m, c);
        } else if (r == 0) {
            ep_del(m, *fd);
            close(*fd);
            *fd = -1;
        }
        break;
    }
    case TAG_XEXIT:
        if (c->kind == C_EXEC)
            exec_exited(m, c);
        break;
    }
}

static void on_accept(struct mon *m)
{
    int fd = accept4(m->lsock, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    struct err *e = NULL;

    if (fd < 0)
        return;
    for (size_t i = 0; i < MAX_CLIENTS; i++)
        if (m->clients[i].fd < 0) {
            m->clients[i] = (struct client){
                .fd = fd, .kind = C_NEW, .x = {.exit_fd = -1}, .xout = -1, .xerr = -1, .xin = -1};
            if (ep_add(m, fd, TAG_CLIENT + (uint64_t)i, &e) < 0) {
                err_free(&e);
                close(fd);
                m->clients[i].fd = -1;
            }
            return;
        }
    send(fd, "Etoo many clients", 17, MSG_NOSIGNAL);
    close(fd);
}

/* Reap orphans (we are their subreaper), but never the workload's processes
 * that the isolation reaps itself. */
static void reap_orphans(struct mon *m)
{
    char path[64];
    _cleanup_free_ char *buf = NULL;
    size_t len;
    struct err *e = NULL;

    snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
    if (fs_read_file(path, &buf, &len, &e) < 0) {
        err_free(&e);
        return;
    }
    for (char *p = buf, *end; *p; p = end) {
        long pid = strtol(p, &end, 10);
        if (end == p)
            break;
        bool ours = m->have_w && pid == m->w.pid;
        for (size_t i = 0; i < MAX_CLIENTS; i++)
            if (m->clients[i].fd >= 0 && m->clients[i].kind == C_EXEC && m->clients[i].x.pid == pid)
                ours = true;
        ours = ours || mon_health_owns(&m->health, (pid_t)pid) ||
               mon_dexec_owns(&m->dexec, (pid_t)pid);
        if (pid > 0 && !ours)
            waitpid((pid_t)pid, NULL, WNOHANG);
    }
}

static int sig_pipe_w = -1;

static void on_sig(int sig)
{
    unsigned char c = (unsigned char)sig;
    int saved = errno;

    if (write(sig_pipe_w, &c, 1) < 0) {
        /* pipe full: a wake-up is pending anyway */
    }
    errno = saved;
}

static void on_sigpipe(int sig)
{
    /* a handler rather than SIG_IGN: an ignored signal stays ignored across
     * execve, in the workload too */
}

static void on_signal(struct mon *m)
{
    unsigned char sigs[64];
    ssize_t n;

    while ((n = read(m->sfd, sigs, sizeof(sigs))) > 0)
        for (ssize_t i = 0; i < n; i++) {
            if (sigs[i] == SIGCHLD)
                reap_orphans(m);
            else if (sigs[i] == SIGTERM || sigs[i] == SIGINT)
                stop(m);
        }
}

static int listen_ctl(struct mon *m, struct err **err)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};

    dir_path(m, m->sock, sizeof(m->sock), "ctl.sock");
    if (strlen(m->sock) >= sizeof(a.sun_path))
        return err_val(err, ENAMETOOLONG, "control socket `%s`: path too long", m->sock);
    strcpy(a.sun_path, m->sock);
    m->lsock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (m->lsock < 0)
        return err_sys(err, "control socket: socket");
    unlink(m->sock);
    if (bind(m->lsock, (struct sockaddr *)&a, sizeof(a)) < 0 || chmod(m->sock, 0600) < 0 ||
        listen(m->lsock, 16) < 0)
        return err_sys(err, "control socket: bind `%s`", m->sock);
    return 0;
}

static int setup(struct mon *m, struct err **err)
{
    const struct monitor_opts *o = m->o;
    char path[PATH_MAX];
    bool alive, ended;
    pid_t other;

    /* never take over the files of a monitor that runs */
    if (monitor_alive(o->dir, &alive, &ended, &other, err) < 0)
        return -1;
    if (alive && !ended)
        return err_val(err, EBUSY, "run dir `%s`: monitor %d runs there", o->dir, (int)other);
    /* a new life: the exit of an earlier one is not this one's */
    dir_path(m, path, sizeof(path), "exit");
    if (unlink(path) < 0 && errno != ENOENT)
        return err_sys(err, "remove `%s`", path);
    int sp[2];
    struct sigaction sa = {.sa_handler = on_sig, .sa_flags = SA_RESTART | SA_NOCLDSTOP};

    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
        return err_sys(err, "monitor: PR_SET_CHILD_SUBREAPER");
    m->self_start = oci_state_pid_start_time(getpid());
    if ((m->ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
        return err_sys(err, "monitor: epoll_create1");
    mon_dexec_init(&m->dexec, m->ep, o->iso, &m->w, o->dir);
    if (pipe2(sp, O_CLOEXEC | O_NONBLOCK) < 0)
        return err_sys(err, "monitor: pipe2");
    m->sfd = sp[0];
    sig_pipe_w = sp[1];
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_sigpipe;
    sigaction(SIGPIPE, &sa, NULL);
    if ((m->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK)) < 0)
        return err_sys(err, "monitor: timerfd_create");
    if (pipe2(m->out, O_CLOEXEC) < 0 || pipe2(m->errp, O_CLOEXEC) < 0)
        return err_sys(err, "monitor: pipe2");
    fcntl(m->out[0], F_SETFL, O_NONBLOCK);
    fcntl(m->errp[0], F_SETFL, O_NONBLOCK);
    if (o->stdin_open && !o->tty) {
        if (pipe2(m->in, O_CLOEXEC) < 0)
            return err_sys(err, "monitor: pipe2");
        fcntl(m->in[1], F_SETFL, O_NONBLOCK);
    }
    if (o->log_path)
        snprintf(path, sizeof(path), "%s", o->log_path);
    else
        dir_path(m, path, sizeof(path), "ctr.log");
    if (ctrlog_open(&m->log, path, o->log_max_size, o->log_max_file, err) < 0)
        return -1;
    if (listen_ctl(m, err) < 0)
        return -1;
    if (mon_health_init(&m->health, o->healthcheck, o->dir, m->ep, TAG_HTIMER, TAG_HOUT, TAG_HEXIT,
                        o->iso, &m->w, err) < 0)
        return -1;
    if (ep_add(m, m->sfd, TAG_SIG, err) < 0 || ep_add(m, m->tfd, TAG_TIMER, err) < 0 ||
        ep_add(m, m->lsock, TAG_LISTEN, err) < 0 || ep_add(m, m->out[0], TAG_OUT, err) < 0 ||
        ep_add(m, m->errp[0], TAG_ERR, err) < 0)
        return -1;
    return 0;
}

static void teardown(struct mon *m)
{
    int fds[] = {m->ep,      m->sfd,     m->tfd,   m->lsock, m->out[0], m->out[1],
                 m->errp[0], m->errp[1], m->in[0], m->in[1], m->pty};

    for (size_t i = 0; i < MAX_CLIENTS; i++)
        if (m->clients[i].fd >= 0)
            client_close(m, &m->clients[i]);
    for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
        if (fds[i] >= 0)
            close(fds[i]);
    if (m->lsock >= 0)
        unlink(m->sock);
    ctrlog_close(&m->log);
    mon_health_release(&m->health);
    if (m->dexec.ep >= 0)
        mon_dexec_end_all(&m->dexec);
    signal(SIGCHLD, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    if (sig_pipe_w >= 0)
        close(sig_pipe_w);
    sig_pipe_w = -1;
}

/*
 * Give back the pages of this program's file that creating the workload
 * touched (the runtime, libseccomp's tables, ...): most of the monitor's
 * resident memory, while its loop needs a small part of them. Only mappings
 * of a file that hold no anonymous page (a page written since, as by
 * relocations, is a private copy: dropping it would undo the write).
 * Private_Dirty is no criterion: it also counts file pages that are dirty in
 * the page cache (a freshly linked binary). The pages stay in the page cache and fault back in
 * when used again. Failures are harmless and ignored.
 */
static void trim(void)
{
    _cleanup_fclose_ FILE *f = fopen("/proc/self/smaps", "re");
    char line[512];
    unsigned long lo = 0, hi = 0;
    bool file = false, dirty = false;

    /* the heap's free top too (an exec leaves ~1.3 MiB there) */
    malloc_trim(0);
    if (f == NULL)
        return;
    struct {
        unsigned long lo, hi;
    } drop[16];
    size_t n = 0;
    for (;;) {
        char *l = fgets(line, sizeof(line), f);
        unsigned long a, b;
        char perms[8];
        int off = 0;
        if (l == NULL || sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &a, &b, perms, &off) >= 3) {
            /* a mapping ends: decide about the previous one */
            if (file && !dirty && hi > lo && n < ARRAY_SIZE(drop))
                drop[n].lo = lo, drop[n++].hi = hi;
            if (l == NULL)
                break;
            lo = a;
            hi = b;
            /* read-only, private, a regular file (not the heap, stack, vdso) */
            file = perms[1] == '-' && perms[3] == 'p' && off > 0 && line[off] == '/';
            dirty = false;
        } else if (strncmp(line, "Anonymous:", 10) == 0) {
            dirty = dirty || strtoul(strchr(line, ':') + 1, NULL, 10) != 0;
        }
    }
    for (size_t i = 0; i < n; i++)
        madvise((void *)drop[i].lo, drop[i].hi - drop[i].lo, MADV_DONTNEED);
}

static void ready(int *fd, const char *msg)
{
    if (*fd < 0)
        return;
    if (write(*fd, msg, strlen(msg)) < 0) {
        /* the caller went away: nobody to tell */
    }
    close(*fd);
    *fd = -1;
}

int monitor_run(const struct monitor_opts *o, int ready_fd, struct err **err)
{
    struct mon m = {.o = o,
                    .ep = -1,
                    .sfd = -1,
                    .lsock = -1,
                    .tfd = -1,
                    .out = {-1, -1},
                    .errp = {-1, -1},
                    .in = {-1, -1},
                    .pty = -1};
    char msg[1024];
    int rc = -1;

    m.log.fd = -1;
    m.health.tfd = m.health.out = -1;
    m.dexec.ep = -1;
    for (size_t i = 0; i < MAX_CLIENTS; i++)
        m.clients[i] =
            (struct client){.fd = -1, .x = {.exit_fd = -1}, .xout = -1, .xerr = -1, .xin = -1};
    if (setup(&m, err) < 0 || start_workload(&m, err) < 0) {
        err_wrap(err, "monitor of `%s`", o->id);
        snprintf(msg, sizeof(msg), "error %s\n", (*err)->msg);
        ready(&ready_fd, msg);
        teardown(&m);
        return -1;
    }
    snprintf(msg, sizeof(msg), "ok %d %d\n", (int)m.w.pid, (int)getpid());
    ready(&ready_fd, msg);
    trim();
    while (!m.done) {
        struct epoll_event evs[16];
        int n = epoll_wait(m.ep, evs, 16, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err_sys(err, "monitor of `%s`: epoll_wait", o->id);
            goto out;
        }
        for (int i = 0; i < n && !m.done; i++) {
            uint64_t tag = evs[i].data.u64;
            switch (tag) {
            case TAG_SIG:
                on_signal(&m);
                break;
            case TAG_LISTEN:
                on_accept(&m);
                break;
            case TAG_TIMER:
                on_timer(&m, err);
                break;
            case TAG_EXIT:
                if (on_exit_fd(&m, err) < 0) {
                    err_wrap(err, "monitor of `%s`", o->id);
                    delete_workload(&m);
                    goto out;
                }
                break;
            case TAG_OUT:
                drain(&m, m.out[0], CTRLOG_STDOUT, 'o');
                break;
            case TAG_ERR:
                drain(&m, m.errp[0], CTRLOG_STDERR, 'e');
                break;
            case TAG_HTIMER:
            case TAG_HOUT:
            case TAG_HEXIT:
                if (mon_health_event(&m.health, tag))
                    health_replies(&m);
                break;
            case TAG_PTY:
                if (!drain(&m, m.pty, CTRLOG_STDOUT, 'o'))
                    close_pty(&m); /* slave closed: the exit follows */
                break;
            default:
                if (tag >= MON_DEXEC_TAG && tag < MON_DEXEC_TAG_END)
                    mon_dexec_event(&m.dexec, tag);
                else
                    on_client_event(&m, tag);
            }
        }
    }
    rc = 0;
out:
    teardown(&m);
    return rc;
}

int monitor_alive(const char *dir, bool *alive, bool *ended, pid_t *pid, struct err **err)
{
    char path[PATH_MAX];
    _cleanup_json_ json_t *j = NULL;

    *alive = *ended = false;
    *pid = 0;
    snprintf(path, sizeof(path), "%s/status", dir);
    if (!fs_exists(path))
        return 0;
    if (js_load_file(path, &j, err) < 0)
        return -1;
    *pid = (pid_t)json_integer_value(json_object_get(j, "monitorPid"));
    json_int_t t = json_integer_value(json_object_get(j, "monitorStartTime"));
    *alive = *pid > 0 && t != 0 && oci_state_pid_start_time(*pid) == (unsigned long long)t;
    const char *st = json_string_value(json_object_get(j, "state"));
    *ended = st != NULL && strcmp(st, "exited") == 0;
    return 0;
}
