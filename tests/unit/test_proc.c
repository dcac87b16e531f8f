/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "util/cleanup.h"
#include "util/proc.h"

int main(void)
{
    struct err *e = NULL;
    pid_t pid = -1;
    int status = -1;
    char *out = NULL;

    char *true_argv[] = {"sh", "-c", "exit 3", NULL};
    ok(proc_spawn(true_argv, NULL, &pid, &e) == 0 && pid > 0, "spawn");
    ok(proc_wait(pid, 5000, &status, &e) == 0, "wait");
    ok(proc_exit_code(status) == 3, "exit code 3");

    char *missing[] = {"/nonexistent/isola-bin", NULL};
    ok(proc_spawn(missing, NULL, &pid, &e) < 0, "exec failure reported to the caller");
    is_str(e ? e->msg : NULL, "exec `/nonexistent/isola-bin`: No such file or directory",
           "exec error names the program");
    err_free(&e);

    struct proc_opts o = {-1, -1, -1, "/nonexistent-dir", NULL};
    ok(proc_spawn(true_argv, &o, &pid, &e) < 0 && e && e->code == ENOENT, "bad cwd reported");
    err_free(&e);

    char *echo[] = {"sh", "-c", "printf 'hello %s' \"$0\"", "world", NULL};
    ok(proc_run(echo, 5000, &out, &e) == 0, "run with output");
    is_str(out, "hello world", "output captured");
    free(out);

    char *sleeper[] = {"sleep", "30", NULL};
    ok(proc_spawn(sleeper, NULL, &pid, &e) == 0, "spawn sleeper");
    ok(proc_wait(pid, 100, &status, &e) < 0 && e && e->code == ETIMEDOUT, "bounded wait times out");
    err_free(&e);
    ok(kill(pid, 0) == 0, "timed-out child still running");
    proc_kill_reap(pid);
    ok(kill(pid, 0) < 0 && errno == ESRCH, "kill_reap ends and reaps it");

    pid_t scoped_pid;
    {
        _cleanup_pid_ pid_t child = -1;
        proc_spawn(sleeper, NULL, &child, &e);
        scoped_pid = child;
    }
    ok(kill(scoped_pid, 0) < 0 && errno == ESRCH, "_cleanup_pid_ kills and reaps at scope exit");

    char *killed[] = {"sh", "-c", "kill -9 $$", NULL};
    ok(proc_spawn(killed, NULL, &pid, &e) == 0 && proc_wait(pid, 5000, &status, &e) == 0,
       "child killed by a signal");
    ok(proc_exit_code(status) == 137, "signal exit code is 128+9");

    char *fail[] = {"false", NULL};
    ok(proc_run(fail, 5000, NULL, &e) < 0, "non-zero exit is an error");
    is_str(e ? e->msg : NULL, "`false` exited with status 1", "message names program and status");
    err_free(&e);
    return done_testing();
}
