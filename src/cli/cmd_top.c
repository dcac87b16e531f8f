/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola top CONTAINER [ps OPTIONS]: the host's ps (default -ef), only the
 * rows of the container's processes, as Docker's. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/ctr_cli.h"
#include "util/cleanup.h"

/* The index of the PID column in ps's header line; -1 if none. */
static int top_pid_column(const char *header)
{
    _cleanup_free_ char *h = strdup(header);
    char *save = NULL;
    int i = 0;

    if (!h)
        return -1;
    for (char *t = strtok_r(h, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save), i++)
        if (strcmp(t, "PID") == 0)
            return i;
    return -1;
}

static bool top_row_in(const char *line, int col, const pid_t *pids, size_t n)
{
    _cleanup_free_ char *l = strdup(line);
    char *save = NULL, *t;
    int i = 0;

    if (!l)
        return false;
    for (t = strtok_r(l, " \t\n", &save); t && i < col; t = strtok_r(NULL, " \t\n", &save))
        i++;
    if (!t)
        return false;
    long p = strtol(t, NULL, 10);
    for (size_t k = 0; k < n; k++)
        if (pids[k] == p)
            return true;
    return false;
}

/* ps with argv[2..] (default -ef), its header and the rows of pids. */
static int top_run_ps(int argc, char **argv, const pid_t *pids, size_t n)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        perror("isola top: pipe");
        return 1;
    }
    pid_t child = fork();
    if (child == 0) {
        char *dflt[] = {"ps", "-ef", NULL};
        char **args = dflt;
        if (argc > 2) {
            args = calloc((size_t)argc, sizeof(char *));
            if (!args)
                _exit(127);
            args[0] = "ps";
            for (int i = 2; i < argc; i++)
                args[i - 1] = argv[i];
        }
        dup2(fds[1], 1);
        execvp("ps", args);
        _exit(127);
    }
    close(fds[1]);
    if (child < 0) {
        close(fds[0]);
        perror("isola top: fork");
        return 1;
    }
    _cleanup_fclose_ FILE *f = fdopen(fds[0], "r");
    _cleanup_free_ char *line = NULL, *out = NULL;
    size_t cap = 0, olen = 0;
    FILE *o = open_memstream(&out, &olen);
    int col = -1;
    bool first = true;
    while (f && o && getline(&line, &cap, f) > 0) {
        if (first) {
            col = top_pid_column(line);
            fputs(line, o);
            first = false;
        } else if (col >= 0 && top_row_in(line, col, pids, n)) {
            fputs(line, o);
        }
    }
    if (o)
        fclose(o);
    int st = 0;
    while (waitpid(child, &st, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "Error response from daemon: ps: exit status %d\n",
                WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
        return 1;
    }
    if (col < 0) {
        fprintf(stderr, "Error response from daemon: Couldn't find PID field in ps output\n");
        return 1;
    }
    fputs(out ? out : "", stdout);
    return 0;
}

int cmd_top(int argc, char **argv)
{
    struct ctr_cli cli;
    struct err *e = NULL;
    _cleanup_free_ pid_t *pids = NULL;
    size_t n = 0;
    int rc = 1;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        printf("Usage: isola top CONTAINER [ps OPTIONS]\n"
               "Runs the host's ps with OPTIONS (default -ef) and shows its header and the\n"
               "rows of the container's processes (its cgroup's), as Docker's. The OPTIONS\n"
               "must keep a PID column.\n");
        return argc < 2 ? 125 : 0;
    }
    if (ctr_cli_open(&cli, "isola top") < 0)
        return 1;
    if (ctr_top_pids(cli.db, &cli.env, argv[1], &pids, &n, &e) < 0) {
        ctr_cli_error("isola top", e);
        err_free(&e);
        goto out;
    }
    rc = top_run_ps(argc, argv, pids, n);
out:
    ctr_cli_close(&cli);
    return rc;
}
