/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `isola vm run`'s options, shared by the foreground run (cmd_vm.c, also in
 * isola-vmm) and the managed VMs (cmd_vm_manage.c). */
#ifndef ISOLA_CLI_CMD_VM_H
#define ISOLA_CLI_CMD_VM_H

#include <stdbool.h>

#include "util/err.h"
#include "vm/vm_config.h"

/* What `vm run` takes beyond the VM's config. */
struct vm_run_extra {
    bool detach;         /* -d */
    const char *name;    /* --name */
    const char *restart; /* --restart */
    int stop_timeout;    /* --stop-timeout, -1: the default */
    const char *image;   /* --image */
    const char *control; /* --control PATH: the monitor's control socket */
    bool console_set;    /* --console was given */
    const char *restore; /* --restore DIR: continue a snapshot's guest */
    bool memory_set;     /* --memory was given */
    bool managed;        /* one of -d, --name, --restart, --stop-timeout, --image */
};

/* Parse `run`'s argv (argv[0] is "run") into cfg (vm_config_init()ed) and x:
 * 0, 1 for --help, -1 on bad usage (err says what). */
int vm_run_parse(int argc, char **argv, struct vm_config *cfg, struct vm_run_extra *x,
                 struct err **err);

/* In isola only (cmd_vm_manage.c): `vm run` with -d, --name, ... (argv[0]
 * is "run"), and the other managed subcommands (argv[0] is "vm"; -1 when
 * argv[1] is none of them). */
int cmd_vm_run_managed(int argc, char **argv);
int cmd_vm_manage(int argc, char **argv);

#endif
