/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * isola network connect [--ip IP] [--alias A]... NETWORK CONTAINER
 * isola network disconnect [-f] NETWORK CONTAINER
 * (docs/networks.md, "Connect and disconnect"). Exit status as Docker's CLI:
 * 0, 1 for a failed operation or wrong arguments, 125 for an unknown flag.
 */
#include "cli/cmd_network_conn.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "engine/ctr_netconn.h"
#include "engine/db.h"
#include "util/cleanup.h"

static const char *conn_run_dir(void)
{
    const char *rd = getenv("ISOLA_RUN_DIR");

    return rd && *rd ? rd : "/run/isola";
}

static int conn_fail(const char *verb, struct err *e)
{
    char prog[64];

    snprintf(prog, sizeof(prog), "isola network %s", verb);
    err_print(e, prog, stderr);
    return 1;
}

int network_connect_cmd(int argc, char **argv, const char *root)
{
    static const struct option opts[] = {{"ip", required_argument, NULL, 'i'},
                                         {"alias", required_argument, NULL, 'a'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    _cleanup_err_ struct err *e = NULL;
    _cleanup_free_ char **aliases = calloc((size_t)argc + 1, sizeof(char *));
    const char *ip = NULL;
    struct db *db = NULL;
    size_t na = 0;
    int c, r;

    if (!aliases)
        return 1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (c) {
        case 'i':
            ip = optarg;
            break;
        case 'a':
            aliases[na++] = optarg;
            break;
        case 'h':
            printf("Usage: isola network connect [--ip IP] [--alias NAME]... NETWORK CONTAINER\n\n"
                   "Connect a running or stopped container to a network: a new interface\n"
                   "ethN in its network namespace with an address of NETWORK (--ip, or the\n"
                   "next free one); the others on NETWORK reach it by name and aliases.\n"
                   "Its first network's gateway stays its default route.\n");
            return 0;
        default:
            fprintf(stderr, "See 'isola network connect --help'.\n");
            return 125;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr,
                "isola network connect: requires exactly 2 arguments (NETWORK CONTAINER)\n");
        return 1;
    }
    if (db_open(cli_store_root(root), &db, &e) < 0)
        return conn_fail("connect", e);
    r = ctr_netconn_connect(db, conn_run_dir(), argv[optind + 1], argv[optind], ip, aliases, &e);
    db_close(db);
    return r < 0 ? conn_fail("connect", e) : 0;
}

int network_disconnect_cmd(int argc, char **argv, const char *root)
{
    static const struct option opts[] = {
        {"force", no_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    _cleanup_err_ struct err *e = NULL;
    struct db *db = NULL;
    bool force = false;
    int c, r;

    optind = 1;
    while ((c = getopt_long(argc, argv, "+fh", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            force = true;
            break;
        case 'h':
            printf("Usage: isola network disconnect [-f] NETWORK CONTAINER\n\n"
                   "Disconnect a container from a network: its interface and address there\n"
                   "go (from its first network: the ports published to that address too).\n"
                   "  -f, --force   no error when it is not connected; release what it\n"
                   "                holds on NETWORK anyway\n");
            return 0;
        default:
            fprintf(stderr, "See 'isola network disconnect --help'.\n");
            return 125;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr,
                "isola network disconnect: requires exactly 2 arguments (NETWORK CONTAINER)\n");
        return 1;
    }
    if (db_open(cli_store_root(root), &db, &e) < 0)
        return conn_fail("disconnect", e);
    r = ctr_netconn_disconnect(db, conn_run_dir(), argv[optind + 1], argv[optind], force, &e);
    db_close(db);
    return r < 0 ? conn_fail("disconnect", e) : 0;
}
