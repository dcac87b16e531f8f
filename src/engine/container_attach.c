/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * docker attach through the monitor's control socket (monitor.h, "attach"):
 * the output live, the caller's input to the workload's stdin or pty, the
 * window size of a terminal and its changes, the detach keys (Ctrl-P Ctrl-Q
 * by default), signals proxied to the workload when it has no pty.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "engine/container.h"
#include "engine/monitor.h"
#include "util/cleanup.h"
#include "util/js.h"

int ctr_detach_keys_parse(const char *spec, char *keys, size_t *n, struct err **err)
{
    _cleanup_free_ char *dup = strdup(spec ? spec : "ctrl-p,ctrl-q");
    char *save = NULL;

    if (!dup)
        return err_set(err, ENOMEM, "detach keys");
    *n = 0;
    for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (*n >= CTR_DETACH_KEYS_MAX)
            return err_val(err, EINVAL, "detach keys `%s`: too many keys", spec);
        if (strncmp(t, "ctrl-", 5) == 0 && strlen(t) == 6) {
            char k = t[5];
            if (k >= 'a' && k <= 'z')
                keys[(*n)++] = (char)(k - 'a' + 1);
            else if (k == '@')
                keys[(*n)++] = 0;
            else if (k >= '[' && k <= '_')
                keys[(*n)++] = (char)(k - '[' + 27);
            else
                return err_val(err, EINVAL, "Invalid escape keys (%s) provided", spec);
        } else if (strlen(t) == 1) {
            keys[(*n)++] = t[0];
        } else {
            return err_val(err, EINVAL, "Invalid escape keys (%s) provided", spec);
        }
    }
    if (*n == 0)
        return err_val(err, EINVAL, "Invalid escape keys (%s) provided", spec);
    return 0;
}

static void send_winsize(int sock, int tty_fd)
{
    struct winsize ws;
    char pkt[64];

    if (tty_fd < 0 || ioctl(tty_fd, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0)
        return;
    int len = snprintf(pkt, sizeof(pkt), "r%u %u", ws.ws_row, ws.ws_col);
    send(sock, pkt, (size_t)len, MSG_NOSIGNAL);
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Input to the workload, the detach keys held back: *detached once they
 * all came; a partial match is sent when the next byte breaks it. */
static int relay_input(int sock, const char *buf, size_t len, const struct ctr_attach_opts *o,
                       size_t *matched, bool *detached)
{
    char pkt[4096 + 1 + CTR_DETACH_KEYS_MAX];
    size_t k = 1;

    pkt[0] = 'i';
    for (size_t i = 0; i < len; i++) {
        if (o->n_keys && buf[i] == o->keys[*matched]) {
            if (++*matched == o->n_keys) {
                *detached = true;
                break;
            }
            continue;
        }
        if (*matched) {
            memcpy(pkt + k, o->keys, *matched);
            k += *matched;
            *matched = 0;
            if (o->n_keys && buf[i] == o->keys[0]) {
                *matched = 1;
                continue;
            }
        }
        pkt[k++] = buf[i];
    }
    if (k > 1 && send(sock, pkt, k, MSG_NOSIGNAL) < 0)
        return -1;
    return 0;
}

int ctr_attach_fd(const char *dir, const char *id, const struct ctr_attach_opts *o, int *code,
                  bool *detached, struct err **err)
{
    return ctr_attach_req(dir, id, "attach", 6, o, code, detached, err);
}

int ctr_attach_req(const char *dir, const char *id, const char *req, size_t req_len,
                   const struct ctr_attach_opts *o, int *code, bool *detached, struct err **err)
{
    _cleanup_free_ char *buf = malloc(MONITOR_MSG_MAX);
    _cleanup_close_ int sock = -1, sfd = -1;
    sigset_t mask, old;
    size_t matched = 0;
    bool in_open = o->in_fd >= 0;
    int rc = -1, reset = 0;

    *detached = false;
    *code = 0;
    if (!buf)
        return err_set(err, ENOMEM, "attach to container %s", id);
    sock = ctr_monitor_connect(dir, req, req_len);
    if (sock < 0)
        return err_sys(err, "attach to container %s: the monitor's socket in %s", id, dir);
    sigemptyset(&mask);
    sigaddset(&mask, SIGWINCH);
    if (o->sig_proxy) {
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGQUIT);
        sigaddset(&mask, SIGUSR1);
        sigaddset(&mask, SIGUSR2);
    }
    sigprocmask(SIG_BLOCK, &mask, &old);
    sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) {
        err_sys(err, "attach to container %s: signalfd", id);
        goto out;
    }
    send_winsize(sock, o->tty_fd);
    for (;;) {
        struct pollfd p[3] = {{.fd = sock, .events = POLLIN},
                              {.fd = sfd, .events = POLLIN},
                              {.fd = in_open ? o->in_fd : -1, .events = POLLIN}};
        if (poll(p, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            err_sys(err, "attach to container %s: poll", id);
            goto out;
        }
        if (p[1].revents & POLLIN) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                if (si.ssi_signo == SIGWINCH)
                    send_winsize(sock, o->tty_fd);
                else if (o->on_signal)
                    o->on_signal(o->signal_arg, (int)si.ssi_signo);
            }
        }
        if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) {
            char in[4096];
            ssize_t n = read(o->in_fd, in, sizeof(in));
            if (n < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (n <= 0) {
                /* the container's stdin stays open (Docker's StdinOnce is
                 * false for a detached container): others may attach */
                in_open = false;
                if (o->stdin_once)
                    send(sock, "c", 1, MSG_NOSIGNAL);
            } else if (relay_input(sock, in, (size_t)n, o, &matched, detached) < 0) {
                err_sys(err, "attach to container %s: send input", id);
                goto out;
            }
            if (*detached) {
                send(sock, "d", 1, MSG_NOSIGNAL);
                rc = 0;
                goto out;
            }
        }
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t k = recv(sock, buf, MONITOR_MSG_MAX, 0);
            /* ECONNRESET: the monitor closed with our input unread (an exec
             * that failed at once); what it sent before is still to read */
            if (k < 0 && (errno == EINTR || (errno == ECONNRESET && !reset++)))
                continue;
            if (k <= 0) {
                err_val(err, EPIPE, "attach to container %s: the monitor went away", id);
                goto out;
            }
            if (buf[0] == 'o' || buf[0] == 'e') {
                write_all(buf[0] == 'o' ? o->out_fd : o->err_fd, buf + 1, (size_t)k - 1);
            } else if (buf[0] == 'x') {
                _cleanup_json_ json_t *x = NULL;
                if (js_load_buf(buf + 1, (size_t)k - 1, "attach exit", &x, NULL) == 0) {
                    json_t *c = json_object_get(x, "exitCode");
                    *code = json_is_integer(c) ? (int)json_integer_value(c) : 0;
                }
                rc = 1;
                goto out;
            } else if (buf[0] == 'E' && o->exec_errors) {
                /* Docker's 126/127: cannot execute / not found */
                buf[k < MONITOR_MSG_MAX ? k : MONITOR_MSG_MAX - 1] = '\0';
                bool notfound = strstr(buf + 1, "No such file") || strstr(buf + 1, "not found");
                *code = notfound ? 127 : 126;
                dprintf(o->err_fd, "OCI runtime exec failed: %s\n", buf + 1);
                rc = 1;
                goto out;
            } else if (buf[0] == 'E') {
                err_val(err, EIO, "attach to container %s: %.*s", id, (int)k - 1, buf + 1);
                goto out;
            }
        }
    }
out:
    sigprocmask(SIG_SETMASK, &old, NULL);
    return rc;
}
