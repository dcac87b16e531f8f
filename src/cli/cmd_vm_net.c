/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `isola vm run --net network=NAME[,ip=IP][,mac=MAC] [--name NAME]`: the
 * engine's part of a VM on a network (src/engine/vm_net.h). isola makes the
 * tap, the address and the lease, runs the VM monitor (isola-vmm, or this
 * program) as a child with `--net tap=TAP,mac=MAC`, and undoes it all when
 * the child ends, whatever its end; SIGINT, SIGTERM, SIGHUP and SIGQUIT are
 * handed to the child.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/commands.h"
#include "engine/vm_net.h"
#include "util/cleanup.h"
#include "util/proc.h"

static volatile sig_atomic_t vm_child = 0;

static void forward(int sig)
{
    if (vm_child > 0)
        kill((pid_t)vm_child, sig);
}

/* argv's `--net network=...` (also --net=network=...) and `--name`. */
static bool take(char **argv, int *i, const char *opt, const char *prefix, const char **val)
{
    size_t l = strlen(opt);
    const char *v = NULL;
    int used = 1;

    if (strcmp(argv[*i], opt) == 0 && argv[*i + 1]) {
        v = argv[*i + 1];
        used = 2;
    } else if (strncmp(argv[*i], opt, l) == 0 && argv[*i][l] == '=') {
        v = argv[*i] + l + 1;
    }
    if (!v || strncmp(v, prefix, strlen(prefix)) != 0)
        return false;
    *val = v;
    *i += used - 1;
    return true;
}

int cmd_vm_net_wanted(int argc, char **argv)
{
    for (int i = 2; i < argc; i++) {
        const char *v;
        if (strcmp(argv[i], "--") == 0)
            break;
        if (take(argv, &i, "--net", "network=", &v))
            return 1;
    }
    return 0;
}

int cmd_vm_net(int argc, char **argv)
{
    _cleanup_err_ struct err *err = NULL;
    const char *specs[VM_NET_MAX], *name = NULL, *rd = getenv("ISOLA_RUN_DIR");
    const char *run_dir = rd && *rd ? rd : "/run/isola";
    char **args = calloc((size_t)argc + 2 * VM_NET_MAX + 1, sizeof(char *));
    char *taps[VM_NET_MAX] = {0};
    unsigned n = 0;
    int k = 0, rc = 1, st = 0;
    struct db *db = NULL;
    struct vm_net vn = {0};

    if (!args)
        return 1;
    for (int i = 0; i < argc; i++) {
        const char *v;
        if (i >= 2 && take(argv, &i, "--net", "network=", &v)) {
            if (n >= VM_NET_MAX) {
                fprintf(stderr, "isola vm run: at most %d --net network=\n", VM_NET_MAX);
                free(args);
                return 2;
            }
            specs[n++] = v;
        } else if (i >= 2 && take(argv, &i, "--name", "", &v)) {
            name = v;
        } else {
            args[k++] = argv[i];
        }
    }
    if (db_open(cli_store_root(NULL), &db, &err) < 0 || vm_net_begin(db, name, &vn, &err) < 0)
        goto out;
    for (unsigned i = 0; i < n; i++) {
        if (vm_net_attach(db, run_dir, &vn, specs[i], &taps[i], &err) < 0)
            goto out;
        args[k++] = "--net";
        args[k++] = taps[i];
    }
    args[k] = NULL;

    struct sigaction sa = {.sa_handler = forward}, old[4];
    const int sigs[4] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < 4; i++)
        sigaction(sigs[i], &sa, &old[i]);
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < 4; i++)
            sigaction(sigs[i], &old[i], NULL);
        _exit(cmd_vm(k, args));
    }
    if (pid < 0) {
        err_sys(&err, "fork the VM monitor");
    } else {
        vm_child = pid;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
        vm_child = 0;
        rc = proc_exit_code(st);
    }
    for (int i = 0; i < 4; i++)
        sigaction(sigs[i], &old[i], NULL);
out:
    if (err) {
        err_print(err, "isola vm run", stderr);
        rc = 1;
    }
    if (db) {
        vm_net_end(db, run_dir, &vn);
        db_close(db);
    }
    for (unsigned i = 0; i < n; i++)
        free(taps[i]);
    free(args);
    return rc;
}
