/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola restart [-t SECONDS] CONTAINER...: stop, then start. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/ctr_cli.h"

int cmd_restart(int argc, char **argv)
{
    static const struct option opts[] = {{"time", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct ctr_cli cli;
    int c, rc = 0, timeout = -1;

    optind = 0;
    while ((c = getopt_long(argc, argv, "+t:h", opts, NULL)) != -1) {
        if (c == 't') {
            timeout = atoi(optarg);
        } else if (c == 'h') {
            printf("Usage: isola restart [-t SECONDS] CONTAINER...\n"
                   "Stops each container (as `isola stop -t`) and starts it again.\n");
            return 0;
        } else {
            return 125;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "isola restart: expected at least one CONTAINER\n");
        return 125;
    }
    if (ctr_cli_open(&cli, "isola restart") < 0)
        return 1;
    for (int i = optind; i < argc; i++) {
        struct err *e = NULL;
        if (ctr_stop(cli.db, &cli.env, argv[i], timeout, &e) < 0 ||
            ctr_start(cli.db, &cli.env, argv[i], &e) < 0) {
            ctr_cli_error("isola restart", e);
            err_free(&e);
            rc = 1;
            continue;
        }
        printf("%s\n", argv[i]);
    }
    ctr_cli_close(&cli);
    return rc;
}
