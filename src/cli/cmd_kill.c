/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola kill [-s SIGNAL] CONTAINER...: a signal to each container's first process. */
#include <getopt.h>
#include <stdio.h>

#include "cli/ctr_cli.h"
#include "runtime/container.h"

int cmd_kill(int argc, char **argv)
{
    static const struct option opts[] = {{"signal", required_argument, NULL, 's'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct ctr_cli cli;
    struct err *e = NULL;
    int c, rc = 0, sig = 9;

    optind = 0;
    while ((c = getopt_long(argc, argv, "+s:h", opts, NULL)) != -1) {
        if (c == 's') {
            if (container_parse_signal(optarg, &sig, &e) < 0) {
                err_print(e, "isola kill", stderr);
                err_free(&e);
                return 1; /* Docker's daemon refuses it: exit 1 (Podman: 125) */
            }
        } else if (c == 'h') {
            printf("Usage: isola kill [-s SIGNAL] CONTAINER...\n"
                   "Sends SIGNAL (default KILL; a name or number) to each container's first\n"
                   "process. As Docker's, SIGKILL and the container's stop signal turn its\n"
                   "restart policy off until the next start; other signals leave it on.\n");
            return 0;
        } else {
            return 125;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "isola kill: expected at least one CONTAINER\n");
        return 125;
    }
    if (ctr_cli_open(&cli, "isola kill") < 0)
        return 1;
    for (int i = optind; i < argc; i++) {
        if (ctr_kill(cli.db, &cli.env, argv[i], sig, &e) < 0) {
            ctr_cli_error("isola kill", e);
            err_free(&e);
            rc = 1;
            continue;
        }
        printf("%s\n", argv[i]);
    }
    ctr_cli_close(&cli);
    return rc;
}
