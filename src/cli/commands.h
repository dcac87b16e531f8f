/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The commands of the `isola` front end; each is defined in src/cli/cmd_NAME.c. */
#ifndef ISOLA_CLI_COMMANDS_H
#define ISOLA_CLI_COMMANDS_H

struct isola_command {
    const char *name;
    /* argv[0] is the command name; returns the process exit status. */
    int (*fn)(int argc, char **argv);
    const char *summary;
};

/* isola vm: hands `run` to isola-vmm (cmd_vm_exec.c); cmd_vm_here (cmd_vm.c,
 * which isola-vmm runs too) does the work in this process. */
int cmd_vm(int argc, char **argv);
/* The image store's root: opt (--root), else $ISOLA_ROOT, else the default. */
const char *cli_store_root(const char *opt);
int cmd_vm_here(int argc, char **argv);
/* `isola vm run --net network=...` (cmd_vm_net.c): taps, leases, DNS names. */
int cmd_vm_net_wanted(int argc, char **argv);
int cmd_vm_net(int argc, char **argv);
/* Image commands (src/cli/cmd_images.c ...). */
int cmd_images(int argc, char **argv);
int cmd_image(int argc, char **argv);
int cmd_tag(int argc, char **argv);
int cmd_rmi(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_save(int argc, char **argv);
int cmd_bundle(int argc, char **argv);
int cmd_pull(int argc, char **argv);
int cmd_build(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_push(int argc, char **argv);

#endif
