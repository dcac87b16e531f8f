/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs.h"

int proc_pidfd(pid_t pid, struct err **err)
{
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);

    if (fd < 0)
        return err_sys(err, "pidfd_open pid %d", (int)pid);
    return fd;
}

static void child_dup(int from, int to)
{
    if (from >= 0 && from != to)
        dup2(from, to);
}

int proc_spawn(char *const argv[], const struct proc_opts *opts, pid_t *pid, struct err **err)
{
    struct proc_opts none = {-1, -1, -1, NULL, NULL};
    int p[2];

    if (opts == NULL)
        opts = &none;
    if (pipe2(p, O_CLOEXEC) < 0)
        return err_sys(err, "pipe for `%s`", argv[0]);
    pid_t child = fork();
    if (child < 0) {
        close(p[0]);
        close(p[1]);
        return err_sys(err, "fork for `%s`", argv[0]);
    }
    if (child == 0) {
        int e;
        int in = opts->stdin_fd;
        if (in < 0)
            in = open("/dev/null", O_RDONLY);
        child_dup(in, 0);
        child_dup(opts->stdout_fd, 1);
        child_dup(opts->stderr_fd, 2);
        signal(SIGPIPE, SIG_DFL);
        if (opts->cwd != NULL && chdir(opts->cwd) < 0) {
            e = errno;
            (void)!write(p[1], "c", 1);
            (void)!write(p[1], &e, sizeof(e));
            _exit(127);
        }
        if (opts->envp != NULL)
            execvpe(argv[0], argv, opts->envp);
        else
            execvp(argv[0], argv);
        e = errno;
        (void)!write(p[1], "e", 1);
        (void)!write(p[1], &e, sizeof(e));
        _exit(127);
    }
    close(p[1]);
    char what = 0;
    int e = 0;
    ssize_t n;
    do
        n = read(p[0], &what, 1);
    while (n < 0 && errno == EINTR);
    if (n == 1) {
        (void)!read(p[0], &e, sizeof(e));
        close(p[0]);
        waitpid(child, NULL, 0);
        if (what == 'c')
            return err_set(err, e, "chdir `%s` for `%s`", opts->cwd, argv[0]);
        return err_set(err, e, "exec `%s`", argv[0]);
    }
    close(p[0]);
    *pid = child;
    return 0;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int proc_wait(pid_t pid, int timeout_ms, int *status, struct err **err)
{
    int st = 0;

    if (timeout_ms >= 0) {
        _cleanup_close_ int pfd = proc_pidfd(pid, err);
        if (pfd < 0)
            return -1;
        long long deadline = now_ms() + timeout_ms;
        for (;;) {
            struct pollfd pf = {.fd = pfd, .events = POLLIN};
            long long left = deadline - now_ms();
            if (left < 0)
                left = 0;
            int r = poll(&pf, 1, (int)left);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0)
                return err_sys(err, "poll pid %d", (int)pid);
            if (r == 0)
                return err_set(err, ETIMEDOUT, "pid %d did not exit within %d ms", (int)pid,
                               timeout_ms);
            break;
        }
    }
    for (;;) {
        pid_t r = waitpid(pid, &st, 0);
        if (r == pid)
            break;
        if (r < 0 && errno == EINTR)
            continue;
        return err_sys(err, "waitpid %d", (int)pid);
    }
    if (status != NULL)
        *status = st;
    return 0;
}

int proc_exit_code(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return 255;
}

void proc_kill_reap(pid_t pid)
{
    if (pid <= 0)
        return;
    int saved = errno;
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    errno = saved;
}

int proc_run(char *const argv[], int timeout_ms, char **output, struct err **err)
{
    struct proc_opts o = {-1, -1, -1, NULL, NULL};
    _cleanup_close_ int rd = -1, wr = -1;
    _cleanup_pid_ pid_t pid = -1;
    int status = 0;

    if (output != NULL) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
            return err_sys(err, "pipe for `%s`", argv[0]);
        rd = p[0];
        wr = p[1];
        o.stdout_fd = wr;
    }
    if (proc_spawn(argv, &o, &pid, err) < 0)
        return -1;
    if (output != NULL) {
        close(steal_fd(&wr));
        /* The child's output is bounded by its lifetime; the timeout applies
         * to the wait below. */
        if (fs_read_fd(rd, argv[0], output, NULL, err) < 0)
            return -1;
    }
    if (proc_wait(pid, timeout_ms, &status, err) < 0)
        return err_wrap(err, "run `%s`", argv[0]);
    steal_pid(&pid);
    if (status != 0) {
        if (WIFSIGNALED(status))
            return err_set(err, 0, "`%s` killed by signal %d", argv[0], WTERMSIG(status));
        return err_set(err, 0, "`%s` exited with status %d", argv[0], proc_exit_code(status));
    }
    return 0;
}
