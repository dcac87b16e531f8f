/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola cp [-a] [-L] CONTAINER:SRC DEST|-, isola cp [-a] [-L] SRC|- CONTAINER:DEST (docker cp) */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/ctr_cli.h"
#include "engine/container_cp.h"
#include "util/cleanup.h"

#define PROG "isola cp"

/* Docker's rule: a local path with a `:` starts with `/` or `.`. */
static char *split_container(char *arg)
{
    if (arg[0] == '/' || arg[0] == '.')
        return NULL;
    char *colon = strchr(arg, ':');
    if (colon == NULL || colon == arg)
        return NULL;
    *colon = '\0';
    return colon + 1;
}

static void usage(FILE *fp)
{
    fprintf(fp, "Usage: isola cp [-a] [-L] CONTAINER:SRC_PATH DEST_PATH|-\n"
                "       isola cp [-a] [-L] SRC_PATH|- CONTAINER:DEST_PATH\n\n"
                "Copies files and directories between a container (running or not) and the\n"
                "host, as docker cp. `-` is a tar stream: of SRC_PATH on stdout, or read from\n"
                "stdin and unpacked into the directory DEST_PATH. SRC_PATH ending in `/.` copies\n"
                "a directory's contents. Paths in the container are relative to its root, and\n"
                "symlinks in it never lead outside it.\n\n"
                "  -a, --archive       keep the uid and gid of the source (default: the\n"
                "                      container's root, or the user running isola cp)\n"
                "  -L, --follow-link   follow a symlink that SRC_PATH names\n"
                "  -q, --quiet         accepted for Docker's scripts (nothing is printed)\n");
}

int cmd_cp(int argc, char **argv)
{
    static const struct option opts[] = {{"archive", no_argument, NULL, 'a'},
                                         {"follow-link", no_argument, NULL, 'L'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct ctr_cp_opts o = {0};
    int c;

    while ((c = getopt_long(argc, argv, "+aLqh", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            o.archive = true;
            break;
        case 'L':
            o.follow = true;
            break;
        case 'q':
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 125;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "%s: expected exactly two arguments (see `isola cp --help`)\n", PROG);
        return 125;
    }
    char *src = argv[optind], *dst = argv[optind + 1];
    char *spath = strcmp(src, "-") == 0 ? NULL : split_container(src);
    char *dpath = strcmp(dst, "-") == 0 ? NULL : split_container(dst);
    if (spath && dpath) {
        fprintf(stderr, "Error: copying between containers is not supported\n");
        return 1;
    }
    if (!spath && !dpath) {
        fprintf(stderr, "Error: must specify at least one container source\n");
        return 1;
    }

    _cleanup_db_container_ struct db_container *ct = NULL;
    _cleanup_store_ struct store *s = NULL;
    _cleanup_close_ int rootfd = -1;
    struct ctr_cli cli;
    struct err *e = NULL;
    const char *ref = spath ? src : dst;
    if (ctr_cli_open(&cli, PROG) < 0)
        return 1;
    int rc = 0;
    if (ctr_get(cli.db, &cli.env, ref, &ct, &e) < 0 ||
        store_open(cli_store_root(NULL), &s, &e) < 0 ||
        ctr_cp_open_root(&cli.env, s, ct, &rootfd, &e) < 0) {
        ctr_cli_error(PROG, e);
        rc = 1;
        goto out;
    }
    struct ctr_cp_end ctr = {.rootfd = rootfd, .in_root = true, .uid = 0, .gid = 0};
    struct ctr_cp_end host = {.rootfd = -1, .uid = getuid(), .gid = getgid()};
    if (spath) {
        ctr.path = spath;
        host.path = strcmp(dst, "-") == 0 ? NULL : dst;
        host.fd = STDOUT_FILENO;
        rc = ctr_cp(&ctr, &host, &o, &e);
    } else {
        ctr.path = dpath;
        host.path = strcmp(src, "-") == 0 ? NULL : src;
        host.fd = STDIN_FILENO;
        rc = ctr_cp(&host, &ctr, &o, &e);
    }
    if (rc < 0) {
        err_print(e, "Error", stderr);
        rc = 1;
    }
out:
    err_free(&e);
    ctr_cli_close(&cli);
    return rc;
}
