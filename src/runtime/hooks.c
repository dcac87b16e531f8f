/* SPDX-License-Identifier: GPL-2.0-or-later */
/* OCI hooks (config.md "POSIX-platform Hooks"). */
#include "runtime/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/js.h"
#include "util/proc.h"

static const char *const names[HOOK_KINDS] = {"prestart",       "createRuntime", "createContainer",
                                              "startContainer", "poststart",     "poststop"};

extern char **environ;

/* Where a hook's stdout (fd 1) or stderr (fd 2) goes. runc and crun do not
 * show it: runc keeps it for its error message, crun discards it unless the
 * annotation run.oci.hooks.stdout / run.oci.hooks.stderr names a file (opened
 * for appending, created if missing). Without the annotation it goes to a
 * memfd, shown in the error of a failing hook (*captured). */
static int hook_output(json_t *st, int fd, bool *captured, struct err **err)
{
    const char *key = fd == 1 ? "run.oci.hooks.stdout" : "run.oci.hooks.stderr";
    json_t *file = json_object_get(json_object_get(st, "annotations"), key);
    int out;

    *captured = false;
    if (json_is_string(file)) {
        out = open(json_string_value(file), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
                   0644);
        if (out < 0)
            return err_sys(err, "annotations.%s: open `%s`", key, json_string_value(file));
        return out;
    }
    out = memfd_create(fd == 1 ? "hook-stdout" : "hook-stderr", MFD_CLOEXEC);
    if (out < 0)
        return err_sys(err, "memfd_create for a hook's output");
    *captured = true;
    return out;
}

/* A hook's stdout and stderr, and its working directory. */
struct hook_io {
    int out, err;
    bool cap_out, cap_err;
    const char *dir; /* the bundle (runc and crun run hooks there), or NULL */
};

/* The last bytes a hook wrote to a captured output, for an error message. */
static void hook_output_tail(int fd, char *buf, size_t size)
{
    off_t end = lseek(fd, 0, SEEK_END);
    off_t from = end > (off_t)size - 1 ? end - (off_t)size + 1 : 0;
    ssize_t n = end > 0 ? pread(fd, buf, (size_t)(end - from), from) : 0;

    buf[n > 0 ? n : 0] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
}

static int run_one_io(const struct spec_hook *h, const char *where, const char *state_json,
                      const struct hook_io *io, struct err **err)
{
    int pipefd[2], errp[2];
    pid_t pid;
    int status;
    char *const default_args[] = {(char *)h->path, NULL};
    int e = 0;

    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return err_sys(err, "%s: pipe", where);
    if (pipe2(errp, O_CLOEXEC) < 0) {
        close(pipefd[0]);
        close(pipefd[1]);
        return err_sys(err, "%s: pipe", where);
    }
    pid = fork();
    if (pid < 0) {
        close(pipefd[0]);
        close(pipefd[1]);
        close(errp[0]);
        close(errp[1]);
        return err_sys(err, "%s: fork", where);
    }
    if (pid == 0) {
        dup2(pipefd[0], 0);
        dup2(io->out, 1);
        dup2(io->err, 2);
        if (io->dir && chdir(io->dir) < 0) {
            /* a bundle gone by poststop: stay where the runtime is */
        }
        setpgid(0, 0);
        /* a hook does not outlive a runtime killed during create */
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        /* config.md: `env` is the hook's environment; without one, runc and
         * crun pass their own (nothing is added, not even PATH) */
        execve(h->path, h->args ? h->args : default_args, h->env ? h->env : environ);
        e = errno;
        if (write(errp[1], &e, sizeof(e)) < 0)
            _exit(127);
        _exit(127);
    }
    close(pipefd[0]);
    close(errp[1]);
    /* The state is small; a pipe holds 64 KiB, so this write does not block
     * on a hook that never reads. */
    size_t len = strlen(state_json);
    /* A hook that exits (or fails to exec) before reading closes the pipe:
     * that is not an error, and the SIGPIPE must not kill the runtime. Block
     * it around the write and consume the one this write raised. */
    sigset_t pipe_set, old_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigprocmask(SIG_BLOCK, &pipe_set, &old_set);
    if (len < 65536 && write(pipefd[1], state_json, len) < 0 && errno == EPIPE &&
        !sigismember(&old_set, SIGPIPE)) {
        const struct timespec zero = {0, 0};
        sigtimedwait(&pipe_set, NULL, &zero);
    }
    sigprocmask(SIG_SETMASK, &old_set, NULL);
    close(pipefd[1]);
    if (read(errp[0], &e, sizeof(e)) == (ssize_t)sizeof(e)) {
        close(errp[0]);
        waitpid(pid, NULL, 0);
        return err_set(err, e, "%s: exec `%s`", where, h->path);
    }
    close(errp[0]);
    struct err *werr = NULL;
    if (proc_wait(pid, h->timeout > 0 ? h->timeout * 1000 : -1, &status, &werr) < 0) {
        int code = werr ? werr->code : 0;
        err_free(&werr);
        kill(-pid, SIGKILL);
        proc_kill_reap(pid);
        if (code == ETIMEDOUT)
            return err_val(err, ETIMEDOUT, "%s `%s`: timed out after %d s (killed)", where, h->path,
                           h->timeout);
        return err_set(err, code, "%s `%s`: wait", where, h->path);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char o[512] = "", x[512] = "";
        if (io->cap_out)
            hook_output_tail(io->out, o, sizeof(o));
        if (io->cap_err)
            hook_output_tail(io->err, x, sizeof(x));
        if (o[0] || x[0]) /* as runc's error shows them */
            return err_val(err, ECHILD,
                           "%s `%s`: failed with exit status %d (stdout: `%s`, stderr: `%s`)",
                           where, h->path, proc_exit_code(status), o, x);
        return err_val(err, ECHILD, "%s `%s`: failed with exit status %d", where, h->path,
                       proc_exit_code(status));
    }
    return 0;
}

static int run_one(const struct spec_hook *h, const char *where, const char *state_json,
                   struct err **err)
{
    _cleanup_json_ json_t *st = json_loads(state_json, 0, NULL);
    struct hook_io io = {.out = -1, .err = -1};
    int rc = -1;

    io.dir = json_string_value(json_object_get(st, "bundle"));
    if ((io.out = hook_output(st, 1, &io.cap_out, err)) >= 0 &&
        (io.err = hook_output(st, 2, &io.cap_err, err)) >= 0)
        rc = run_one_io(h, where, state_json, &io, err);
    else
        err_wrap(err, "%s", where);
    if (io.out >= 0)
        close(io.out);
    if (io.err >= 0)
        close(io.err);
    return rc;
}

int hooks_run(const struct spec_hooks *h, enum spec_hook_kind kind, const char *state_json,
              struct err **err)
{
    for (size_t i = 0; i < h->n; i++) {
        char where[64];
        snprintf(where, sizeof(where), "hooks.%s[%zu]", names[kind], i);
        if (run_one(&h->v[i], where, state_json, err) < 0)
            return -1;
    }
    return 0;
}

int hooks_run_json(json_t *hooks, enum spec_hook_kind kind, const char *state_json,
                   struct err **err)
{
    json_t *arr = json_object_get(hooks, names[kind]), *e;
    size_t i;

    json_array_foreach (arr, i, e) {
        struct spec_hook h = {0};
        int64_t t = 0;
        char where[64];
        int rc;
        snprintf(where, sizeof(where), "hooks.%s[%zu]", names[kind], i);
        if (js_get_str(e, where, "path", true, &h.path, err) < 0 ||
            js_get_strv(e, where, "args", false, &h.args, err) < 0 ||
            js_get_strv(e, where, "env", false, &h.env, err) < 0 ||
            js_get_i64(e, where, "timeout", false, &t, err) < 0) {
            strv_free(h.args);
            strv_free(h.env);
            return -1;
        }
        h.timeout = (int)t;
        rc = run_one(&h, where, state_json, err);
        strv_free(h.args);
        strv_free(h.env);
        if (rc < 0)
            return -1;
    }
    return 0;
}
