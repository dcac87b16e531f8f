/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola healthcheck run CONTAINER: one health check now, through the
 * container's monitor (Podman's command; docs/engine.md, "Health checks"). */
#include <stdio.h>
#include <string.h>

#include "cli/ctr_cli.h"
#include "util/js.h"

int cmd_healthcheck(int argc, char **argv)
{
    struct ctr_cli cli;
    struct err *e = NULL;
    json_t *res = NULL;
    int rc;

    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("Usage: isola healthcheck run CONTAINER\n"
               "Runs the container's health check once now (or waits for the one that\n"
               "runs) and records its result as the scheduled checks do. Exit status: 0\n"
               "when the check passed; 1 when it failed (`unhealthy` is printed, as\n"
               "Podman's); 125 when the container has no health check, does not run or\n"
               "does not exist.\n");
        return 0;
    }
    if (argc != 3 || strcmp(argv[1], "run") != 0) {
        fprintf(stderr, "isola healthcheck: expected `run CONTAINER` (see --help)\n");
        return 125;
    }
    if (ctr_cli_open(&cli, "isola healthcheck") < 0)
        return 125;
    if (ctr_healthcheck_run(cli.db, &cli.env, argv[2], &res, &e) < 0) {
        ctr_cli_error("isola healthcheck run", e);
        err_free(&e);
        ctr_cli_close(&cli);
        return 125;
    }
    rc = json_integer_value(json_object_get(res, "ExitCode")) == 0 ? 0 : 1;
    if (rc)
        printf("unhealthy\n");
    json_decref(res);
    ctr_cli_close(&cli);
    return rc;
}
