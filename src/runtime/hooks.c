/* SPDX-License-Identifier: GPL-2.0-or-later */
/* OCI hooks (config.md "POSIX-platform Hooks"). */
#include "runtime/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/js.h"
#include "util/proc.h"

static const char *const names[HOOK_KINDS] = {"prestart",       "createRuntime", "createContainer",
                                              "startContainer", "poststart",     "poststop"};

const char *hooks_kind_name(enum spec_hook_kind kind)
{
    return names[kind];
}

static int run_one(const struct spec_hook *h, const char *where, const char *state_json,
                   struct err **err)
{
    int pipefd[2], errp[2];
    pid_t pid;
    int status;
    char *const default_args[] = {(char *)h->path, NULL};
    char *const empty_env[] = {NULL};
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
        setpgid(0, 0);
        /* a hook does not outlive a runtime killed during create */
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        execve(h->path, h->args ? h->args : default_args, h->env ? h->env : empty_env);
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
    if (len < 65536 && write(pipefd[1], state_json, len) < 0 && errno != EPIPE) {
        /* the hook may exit without reading: not an error */
    }
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
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return err_val(err, ECHILD, "%s `%s`: failed with exit status %d", where, h->path,
                       proc_exit_code(status));
    return 0;
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
