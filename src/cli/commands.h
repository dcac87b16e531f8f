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

int cmd_vm(int argc, char **argv);

#endif
