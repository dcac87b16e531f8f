/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * isola-vmm: the microVM monitor on its own (`isola-vmm run ...`,
 * `isola-vmm extract-kernel ...`, the same options as `isola vm`). `isola vm run`
 * executes it so that a VM's monitor process maps only util and vm code, not the
 * image and engine libraries (docs/vm.md, "Monitor memory").
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("isola-vmm version %s\n", ISOLA_VERSION);
        return 0;
    }
    return cmd_vm_here(argc, argv);
}
