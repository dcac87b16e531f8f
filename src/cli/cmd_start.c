/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola start [-a] CONTAINER...: start created or stopped containers. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/ctr_cli.h"

int cmd_start(int argc, char **argv)
{
    static const struct option opts[] = {
        {"attach", no_argument, NULL, 'a'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    struct ctr_cli cli;
    bool attach = false;
    int c, rc = 0;

    optind = 0;
    while ((c = getopt_long(argc, argv, "+ah", opts, NULL)) != -1) {
        if (c == 'a') {
            attach = true;
        } else if (c == 'h') {
            printf("Usage: isola start [-a] CONTAINER...\n"
                   "Starts created or stopped containers (a running one is left as is) and\n"
                   "prints each name given. -a, --attach: print the container's output until\n"
                   "it exits and exit with its code (one container).\n");
            return 0;
        } else {
            return 125;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "isola start: expected at least one CONTAINER\n");
        return 125;
    }
    if (ctr_cli_open(&cli, "isola start") < 0)
        return 1;
    for (int i = optind; i < argc; i++) {
        struct err *e = NULL;
        int64_t since = db_now_ns();
        if (ctr_start(cli.db, &cli.env, argv[i], &e) < 0) {
            ctr_cli_error("isola start", e);
            err_free(&e);
            rc = 1;
            continue;
        }
        if (attach) {
            /* this run's output (the log from now on), followed, then the exit code */
            struct ctr_logs_opts lo = {.follow = true, .tail = -1, .since_ns = since};
            int code = 0;
            if (ctr_logs(cli.db, &cli.env, argv[i], &lo, stdout, stderr, &e) < 0 ||
                ctr_wait(cli.db, &cli.env, argv[i], &code, &e) < 0) {
                ctr_cli_error("isola start", e);
                err_free(&e);
                rc = 1;
            } else {
                rc = code;
            }
            break;
        }
        printf("%s\n", argv[i]);
    }
    ctr_cli_close(&cli);
    return rc;
}
