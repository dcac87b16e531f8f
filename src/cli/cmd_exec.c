/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola exec [-d] CONTAINER CMD...: run a command in a running container,
 * through its monitor (docs/engine.md, "Containers"). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/ctr_cli.h"

int cmd_exec(int argc, char **argv)
{
    static const struct option opts[] = {
        {"detach", no_argument, NULL, 'd'},        {"env", required_argument, NULL, 'e'},
        {"workdir", required_argument, NULL, 'w'}, {"user", required_argument, NULL, 'u'},
        {"interactive", no_argument, NULL, 'i'},   {"tty", no_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    struct ctr_cli cli;
    struct err *e = NULL;
    bool detach = false;
    int c, code = 0;

    optind = 0;
    while ((c = getopt_long(argc, argv, "+de:w:u:ith", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            detach = true;
            break;
        case 'e':
        case 'w':
        case 'u':
        case 'i':
        case 't':
            /* the monitor's exec request carries the command only (docs/engine.md) */
            fprintf(stderr,
                    "isola exec: -%c is not supported yet: the monitor runs the command with "
                    "the container's own env, cwd, user and no terminal\n",
                    c);
            return 125;
        case 'h':
            printf("Usage: isola exec [-d] CONTAINER CMD [ARG...]\n"
                   "Runs CMD in a running container with the container's process settings\n"
                   "(environment, working directory, user, capabilities) and stdin /dev/null;\n"
                   "its output comes here. Exit status: CMD's; 126 when it cannot be\n"
                   "executed, 127 when it is not found; 1 when the container does not run.\n"
                   "  -d, --detach   do not print its output (the command still runs to its end)\n"
                   "Not yet: -e, -w, -u, -i, -t.\n");
            return 0;
        default:
            return 125;
        }
    }
    if (argc - optind < 2) {
        fprintf(stderr, "isola exec: expected CONTAINER and CMD\n");
        return 125;
    }
    if (ctr_cli_open(&cli, "isola exec") < 0)
        return 125;
    if (ctr_exec(cli.db, &cli.env, argv[optind], argv + optind + 1, detach, stdout, stderr, &code,
                 &e) < 0) {
        ctr_cli_error("isola exec", e);
        err_free(&e);
        code = 1;
    }
    ctr_cli_close(&cli);
    return code;
}
