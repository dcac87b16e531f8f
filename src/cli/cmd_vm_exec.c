/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola vm: `isola vm run` runs in isola-vmm (cmd_vm_here() there), else here. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

int cmd_vm(int argc, char **argv)
{
    /* on a network: the engine's part here, the VM in a child */
    if (argc >= 2 && strcmp(argv[1], "run") == 0 && cmd_vm_net_wanted(argc, argv))
        return cmd_vm_net(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "run") == 0)
        vm_exec_vmm(argc, argv);
    return cmd_vm_here(argc, argv);
}
