/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola rmi [--root DIR] IMAGE...: remove tags (or images by ID), then collect
 * the blobs and layers nothing references any more. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/commands.h"
#include "engine/build_step.h"
#include "image/build.h"
#include "image/store.h"

int cmd_rmi(int argc, char **argv)
{
    static const struct option opts[] = {{"root", required_argument, NULL, 'r'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    _cleanup_store_ struct store *s = NULL;
    struct build_step_engine steps;
    _cleanup_err_ struct err *err = NULL;
    struct store_gc_stats st;
    const char *root = NULL;
    int c, rc = 0;

    optind = 1;
    while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
        if (c == 'r')
            root = optarg;
        else if (c == 'h') {
            printf("Usage: isola rmi [--root DIR] IMAGE...\n");
            return 0;
        } else if (c != 'f')
            return 2;
    }
    if (optind >= argc) {
        fprintf(stderr, "isola rmi: expected at least one IMAGE\n");
        return 2;
    }
    if (store_open(cli_store_root(root), &s, &err) < 0) {
        err_print(err, "isola rmi", stderr);
        return 1;
    }
    for (int i = optind; i < argc; i++) {
        if (store_untag(s, argv[i], &err) < 0) {
            err_print(err, "isola rmi", stderr);
            err_free(&err);
            rc = 1;
            continue;
        }
        printf("Untagged: %s\n", argv[i]);
    }
    /* Builds' leftover containers, with the runtime builds use. */
    build_step_engine_init(&steps, getenv("ISOLA_BUILD_RUNTIME"));
    if (store_lock_exclusive(s, &err) < 0 || build_reap_stale(s, &steps.ops, &err) < 0 ||
        store_prune(s, &st, &err) < 0) {
        err_print(err, "isola rmi", stderr);
        return 1;
    }
    return rc;
}
