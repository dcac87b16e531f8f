/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola pause|unpause CONTAINER...: freeze or thaw every process of each. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/ctr_cli.h"

static int pause_main(int argc, char **argv, bool pause)
{
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const char *prog = pause ? "isola pause" : "isola unpause";
    struct ctr_cli cli;
    int c, rc = 0;

    optind = 0;
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        if (c == 'h') {
            printf(pause
                       ? "Usage: isola pause CONTAINER...\n"
                         "Freezes every process of each running container (its cgroup's\n"
                         "freezer); `ps` shows it \"Up ... (Paused)\". `unpause` thaws it; `stop`\n"
                         "and `kill` thaw it after the signal, so that it acts on it.\n"
                       : "Usage: isola unpause CONTAINER...\n"
                         "Thaws each paused container (see `isola pause`).\n");
            return 0;
        }
        return 125;
    }
    if (optind >= argc) {
        fprintf(stderr, "%s: expected at least one CONTAINER\n", prog);
        return 125;
    }
    if (ctr_cli_open(&cli, prog) < 0)
        return 1;
    for (int i = optind; i < argc; i++) {
        struct err *e = NULL;
        if (ctr_pause(cli.db, &cli.env, argv[i], pause, &e) < 0) {
            ctr_cli_error(prog, e);
            err_free(&e);
            rc = 1;
            continue;
        }
        printf("%s\n", argv[i]);
    }
    ctr_cli_close(&cli);
    return rc;
}

int cmd_pause(int argc, char **argv)
{
    return pause_main(argc, argv, true);
}

int cmd_unpause(int argc, char **argv)
{
    return pause_main(argc, argv, false);
}
