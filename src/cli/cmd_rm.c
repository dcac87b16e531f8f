/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola rm [-f] [-v] CONTAINER...: remove containers. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "cli/ctr_cli.h"

int cmd_rm(int argc, char **argv)
{
    static const struct option opts[] = {{"force", no_argument, NULL, 'f'},
                                         {"volumes", no_argument, NULL, 'v'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct ctr_cli cli;
    bool force = false, vols = false;
    int c, rc = 0;

    optind = 0;
    while ((c = getopt_long(argc, argv, "+fvh", opts, NULL)) != -1) {
        if (c == 'f') {
            force = true;
        } else if (c == 'v') {
            vols = true;
        } else if (c == 'h') {
            printf("Usage: isola rm [-f] [-v] CONTAINER...\n"
                   "Removes containers: the row, the root's overlay, the run dir, the uses of\n"
                   "volumes (named volumes stay). A running container is refused unless -f\n"
                   "(--force: SIGKILL, then remove). -v also removes its anonymous volumes.\n"
                   "Prints each name removed; exit status 1 if one could not be removed (with\n"
                   "-f, one that does not exist is no failure, as Docker's).\n");
            return 0;
        } else {
            return 125;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "isola rm: expected at least one CONTAINER\n");
        return 125;
    }
    if (ctr_cli_open(&cli, "isola rm") < 0)
        return 1;
    for (int i = optind; i < argc; i++) {
        struct err *e = NULL;
        _cleanup_db_container_ struct db_container *row = NULL;
        /* synced first: a dead monitor's container is not running any more */
        if (ctr_get(cli.db, &cli.env, argv[i], &row, &e) < 0) {
            ctr_cli_error("isola rm", e);
            /* Docker's rm -f: a container that is not there is no failure */
            if (!force || e->code != ENOENT)
                rc = 1;
            err_free(&e);
            continue;
        }
        if (ctr_remove(cli.db, &cli.env, row->id, force, vols, &e) < 0) {
            ctr_cli_error("isola rm", e);
            err_free(&e);
            rc = 1;
            continue;
        }
        printf("%s\n", argv[i]);
    }
    ctr_cli_close(&cli);
    return rc;
}
