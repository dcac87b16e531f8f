/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The pty relay of a foreground `run` (see terminal.h). */
#include "runtime/terminal.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "util/fs.h"

int terminal_recv_fd(int sock, int *fd, struct err **err)
{
    char data[256], ctl[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {.iov_base = data, .iov_len = sizeof(data)};
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl)};
    struct cmsghdr *c;

    if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) < 0)
        return err_sys(err, "receive the container's pty");
    c = CMSG_FIRSTHDR(&msg);
    if (c == NULL || c->cmsg_type != SCM_RIGHTS)
        return err_val(err, EPROTO, "receive the container's pty: no fd in the message");
    memcpy(fd, CMSG_DATA(c), sizeof(int));
    return 0;
}

int terminal_relay(int master, struct err **err)
{
    struct termios saved, raw;
    bool tty = isatty(0) && tcgetattr(0, &saved) == 0;
    char buf[8192];
    bool in_open = true;

    if (tty) {
        struct winsize ws;
        if (ioctl(0, TIOCGWINSZ, &ws) == 0)
            ioctl(master, TIOCSWINSZ, &ws);
        raw = saved;
        cfmakeraw(&raw);
        tcsetattr(0, TCSANOW, &raw);
    }
    for (;;) {
        struct pollfd pf[2] = {{.fd = master, .events = POLLIN},
                               {.fd = in_open ? 0 : -1, .events = POLLIN}};
        if (poll(pf, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = read(master, buf, sizeof(buf));
            if (n <= 0)
                break; /* EIO: every slave fd is closed, the container is gone */
            struct err *e = NULL;
            if (fs_write_all(1, buf, (size_t)n, "stdout", &e) < 0) {
                err_free(&e);
                break;
            }
        }
        if (in_open && (pf[1].revents & (POLLIN | POLLHUP))) {
            ssize_t n = read(0, buf, sizeof(buf));
            if (n <= 0) {
                in_open = false;
                char eot = 4; /* end of input: ^D to the container's line discipline */
                if (write(master, &eot, 1) < 0)
                    break;
            } else if (write(master, buf, (size_t)n) < 0) {
                break;
            }
        }
    }
    if (tty)
        tcsetattr(0, TCSANOW, &saved);
    return 0;
}
