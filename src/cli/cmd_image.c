/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola image prune|check|ls [--root DIR]: store maintenance. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "engine/build_step.h"
#include "image/build.h"
#include "image/store.h"
#include "util/cleanup.h"

int cmd_image(int argc, char **argv)
{
    static const struct option opts[] = {{"root", required_argument, NULL, 'r'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    _cleanup_store_ struct store *s = NULL;
    struct build_step_engine steps;
    _cleanup_err_ struct err *err = NULL;
    const char *root = NULL, *sub;
    int c;

    if (argc >= 2 && strcmp(argv[1], "ls") == 0)
        return cmd_images(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "inspect") == 0)
        return cmd_inspect(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "rm") == 0)
        return cmd_rmi(argc - 1, argv + 1);
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'r')
            root = optarg;
        else if (c == 'h') {
            printf("Usage: isola image prune|check|ls|inspect|rm [--root DIR]\n");
            return 0;
        } else
            return 2;
    }
    if (optind >= argc) {
        fprintf(stderr, "isola image: expected prune, check, ls, inspect or rm\n");
        return 2;
    }
    sub = argv[optind];
    if (store_open(cli_store_root(root), &s, &err) < 0)
        goto fail;
    if (strcmp(sub, "prune") == 0) {
        /* Builds' leftover containers, with the runtime builds use. */
        build_step_engine_init(&steps, getenv("ISOLA_BUILD_RUNTIME"));
        struct store_gc_stats st;
        if (store_lock_exclusive(s, &err) < 0 || build_reap_stale(s, &steps.ops, &err) < 0 ||
            store_prune(s, &st, &err) < 0)
            goto fail;
        printf("removed %d blobs (%lld bytes), %d layers, %d temporary files\n", st.blobs_removed,
               (long long)st.bytes_freed, st.layers_removed, st.tmp_removed);
        return 0;
    }
    if (strcmp(sub, "check") == 0) {
        _cleanup_strv_ char **problems = NULL;
        int n = store_check(s, &problems, &err);
        if (n < 0)
            goto fail;
        for (int i = 0; i < n; i++)
            printf("problem: %s\n", problems[i]);
        printf("%s: %d problem%s\n", s->root, n, n == 1 ? "" : "s");
        return n == 0 ? 0 : 1;
    }
    fprintf(stderr, "isola image: unknown subcommand `%s`\n", sub);
    return 2;
fail:
    err_print(err, "isola image", stderr);
    return 1;
}
