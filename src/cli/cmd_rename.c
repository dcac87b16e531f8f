/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola rename CONTAINER NEW_NAME */
#include <stdio.h>
#include <string.h>

#include "cli/ctr_cli.h"
#include "engine/network_dns.h"

int cmd_rename(int argc, char **argv)
{
    struct ctr_cli cli;
    struct err *e = NULL;
    _cleanup_db_container_ struct db_container *c = NULL;
    int rc = 0;

    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("Usage: isola rename CONTAINER NEW_NAME\n"
               "Gives a container another name (a name in use is refused); on user\n"
               "networks its DNS name changes with it.\n");
        return 0;
    }
    if (argc != 3) {
        fprintf(stderr, "isola rename: expected CONTAINER NEW_NAME\n");
        return 125;
    }
    if (ctr_cli_open(&cli, "isola rename") < 0)
        return 1;
    if (db_container_get(cli.db, argv[1], &c, &e) < 0 ||
        db_container_rename(cli.db, c->id, argv[2], &e) < 0) {
        ctr_cli_error("isola rename", e);
        err_free(&e);
        rc = 1;
    } else if (network_dns_sync_all(cli.db, cli.env.run_dir, &e) < 0) {
        /* renamed; only its networks' DNS names lag */
        ctr_cli_error("isola rename", e);
        err_free(&e);
    }
    ctr_cli_close(&cli);
    return rc;
}
