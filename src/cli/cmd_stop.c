/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola stop [-t SECONDS] CONTAINER...: the stop signal, SIGKILL after the timeout. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/ctr_cli.h"

int cmd_stop(int argc, char **argv)
{
    static const struct option opts[] = {{"time", required_argument, NULL, 't'},
                                         {"timeout", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct ctr_cli cli;
    int c, rc = 0, timeout = -1;

    optind = 0;
    while ((c = getopt_long(argc, argv, "+t:h", opts, NULL)) != -1) {
        if (c == 't') {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 0) {
                fprintf(stderr, "isola stop: -t `%s`: expected seconds\n", optarg);
                return 125;
            }
            timeout = (int)v;
        } else if (c == 'h') {
            printf("Usage: isola stop [-t SECONDS] CONTAINER...\n"
                   "Sends the stop signal (the image's StopSignal, --stop-signal, or SIGTERM)\n"
                   "to each container's first process, then SIGKILL to all of them after\n"
                   "SECONDS (default: the container's --stop-timeout, 10). The restart policy\n"
                   "does not restart a stopped container. Prints each name given.\n");
            return 0;
        } else {
            return 125;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "isola stop: expected at least one CONTAINER\n");
        return 125;
    }
    if (ctr_cli_open(&cli, "isola stop") < 0)
        return 1;
    for (int i = optind; i < argc; i++) {
        struct err *e = NULL;
        if (ctr_stop(cli.db, &cli.env, argv[i], timeout, &e) < 0) {
            ctr_cli_error("isola stop", e);
            err_free(&e);
            rc = 1;
            continue;
        }
        printf("%s\n", argv[i]);
    }
    ctr_cli_close(&cli);
    return rc;
}
