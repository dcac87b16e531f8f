/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola wait CONTAINER...: block until each stops, print its exit code. */
#include <stdio.h>
#include <string.h>

#include "cli/ctr_cli.h"

int cmd_wait(int argc, char **argv)
{
    struct ctr_cli cli;
    int rc = 0;

    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("Usage: isola wait CONTAINER...\n"
               "Blocks until each container stops (after its restarts), then prints its\n"
               "exit code (128+N when killed by signal N; 255 when its monitor was killed).\n");
        return 0;
    }
    if (argc < 2) {
        fprintf(stderr, "isola wait: expected at least one CONTAINER\n");
        return 125;
    }
    if (ctr_cli_open(&cli, "isola wait") < 0)
        return 1;
    for (int i = 1; i < argc; i++) {
        struct err *e = NULL;
        int code = 0;
        if (ctr_wait(cli.db, &cli.env, argv[i], &code, &e) < 0) {
            ctr_cli_error("isola wait", e);
            err_free(&e);
            rc = 1;
            continue;
        }
        printf("%d\n", code);
        fflush(stdout);
    }
    ctr_cli_close(&cli);
    return rc;
}
