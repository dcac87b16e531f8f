/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Child processes: spawn with exec errors reported, wait with a bound, kill, reap. */
#ifndef ISOLA_UTIL_PROC_H
#define ISOLA_UTIL_PROC_H

#include <stdbool.h>
#include <sys/types.h>

#include "err.h"

struct proc_opts {
    int stdin_fd;  /* -1: /dev/null */
    int stdout_fd; /* -1: inherit */
    int stderr_fd; /* -1: inherit */
    const char *cwd;
    char *const *envp; /* NULL: inherit */
};

/*
 * fork + execvp argv[0]. If exec fails, the error comes back here
 * ("exec `foo`: No such file or directory") through a close-on-exec pipe,
 * so the caller never mistakes a failed exec for a child exit status.
 */
int proc_spawn(char *const argv[], const struct proc_opts *opts, pid_t *pid, struct err **err);

/*
 * Wait for pid to exit; timeout_ms < 0 waits forever. On timeout the child is
 * left running and the error code is ETIMEDOUT. *status is the waitpid status.
 */
int proc_wait(pid_t pid, int timeout_ms, int *status, struct err **err);

/* Shell-style exit code of a wait status: the exit code, or 128 + signal. */
int proc_exit_code(int status);

/* Send SIGKILL and reap. pid <= 0 is ignored. */
void proc_kill_reap(pid_t pid);

static inline void cleanup_pidp(pid_t *pid)
{
    if (*pid > 0)
        proc_kill_reap(*pid);
    *pid = -1;
}
/* A child that is killed and reaped if it is still ours at scope exit. */
#define _cleanup_pid_ __attribute__((cleanup(cleanup_pidp)))

static inline pid_t steal_pid(pid_t *pid)
{
    pid_t r = *pid;
    *pid = -1;
    return r;
}

/* Run argv to completion within timeout_ms; error if it cannot start, times
 * out (it is killed) or exits non-zero. *output (optional) gets its stdout. */
int proc_run(char *const argv[], int timeout_ms, char **output, struct err **err);

/* pidfd_open(2), with a message on failure. */
int proc_pidfd(pid_t pid, struct err **err);

#endif
