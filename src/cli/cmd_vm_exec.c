/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola vm: `isola vm run` runs in isola-vmm (cmd_vm_here() there), else here. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd_vm.h"
#include "cli/commands.h"

/*
 * `isola vm run` hands the run to isola-vmm (src/cli/isola-vmm.c, with
 * cmd_vm.c), installed next to isola: the monitor then maps only util and vm
 * code (docs/vm.md, "Monitor memory"). $ISOLA_VMM names another one. Returns only
 * when there is none (the run then happens in this process) or exec failed.
 */
static void vm_exec_vmm(int argc, char **argv)
{
    char self[PATH_MAX], path[PATH_MAX + 16];
    const char *env = getenv("ISOLA_VMM");
    char *slash;
    ssize_t n;

    if (env != NULL && *env != '\0') {
        snprintf(path, sizeof(path), "%s", env);
    } else {
        n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n <= 0)
            return;
        self[n] = '\0';
        slash = strrchr(self, '/');
        if (slash == NULL)
            return;
        *slash = '\0';
        snprintf(path, sizeof(path), "%s/isola-vmm", self);
    }
    if (access(path, X_OK) < 0) {
        if (env != NULL && *env != '\0')
            fprintf(stderr, "isola vm run: $ISOLA_VMM `%s`: %s; running in this process\n", path,
                    strerror(errno));
        return;
    }
    /* argv[0] is "vm": isola-vmm takes the same subcommand and options. */
    char **args = calloc((size_t)argc + 1, sizeof(*args));
    if (args == NULL)
        return;
    args[0] = path;
    for (int i = 1; i < argc; i++)
        args[i] = argv[i];
    execv(path, args);
    fprintf(stderr, "isola vm run: exec `%s`: %s; running in this process\n", path,
            strerror(errno));
    free(args);
}

/* Does `run`'s argv ask for a managed VM (-d, --name, ...)? Bad usage is
 * left to the foreground run to report. */
static bool vm_run_is_managed(int argc, char **argv)
{
    struct vm_config cfg;
    struct vm_run_extra x;
    struct err *e = NULL;
    int saved = opterr;

    vm_config_init(&cfg);
    opterr = 0;
    int r = vm_run_parse(argc, argv, &cfg, &x, &e);
    opterr = saved;
    err_free(&e);
    vm_config_free(&cfg);
    return r == 0 && x.managed;
}

/* Does `run`'s argv ask for the background (-d, --restart, --image)? */
static bool vm_run_is_detached(int argc, char **argv)
{
    for (int i = 2; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "-d") == 0 || strcmp(argv[i], "--detach") == 0 ||
            strncmp(argv[i], "--restart", 9) == 0 || strncmp(argv[i], "--image", 7) == 0)
            return true;
    return false;
}

int cmd_vm(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "run") == 0) {
        /* on a network: the engine's part here, the VM in a child */
        if (cmd_vm_net_wanted(argc, argv)) {
            if (vm_run_is_detached(argc, argv)) {
                fprintf(stderr, "isola vm run: --net network= with -d, --restart or --image: "
                                "not supported yet (a managed VM on a network)\n");
                return 2;
            }
            return cmd_vm_net(argc, argv);
        }
        if (vm_run_is_managed(argc - 1, argv + 1))
            return cmd_vm_run_managed(argc - 1, argv + 1);
        vm_exec_vmm(argc, argv);
    }
    int r = cmd_vm_manage(argc, argv);
    if (r != -1)
        return r;
    return cmd_vm_here(argc, argv);
}
