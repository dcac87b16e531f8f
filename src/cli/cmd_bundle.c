/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * isola bundle [--root DIR] [--copy] [-e KEY=VAL] [-u USER] [-w DIR] IMAGE BUNDLE [CMD...]
 * isola bundle --remove BUNDLE
 * Make an OCI runtime bundle (rootfs + config.json) from an image, for
 * isola-oci or runc; --remove unmounts and deletes it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/commands.h"
#include "engine/compose.h"
#include "image/bundle.h"
#include "util/cleanup.h"

int cmd_bundle(int argc, char **argv)
{
    static const struct option opts[] = {{"root", required_argument, NULL, 'r'},
                                         {"copy", no_argument, NULL, 'c'},
                                         {"remove", no_argument, NULL, 'R'},
                                         {"env", required_argument, NULL, 'e'},
                                         {"user", required_argument, NULL, 'u'},
                                         {"workdir", required_argument, NULL, 'w'},
                                         {"entrypoint", required_argument, NULL, 'E'},
                                         {"hostname", required_argument, NULL, 'H'},
                                         {"tty", no_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    _cleanup_store_ struct store *s = NULL;
    _cleanup_err_ struct err *err = NULL;
    _cleanup_free_ char **env = calloc((size_t)argc + 1, sizeof(char *));
    struct compose_opts o = {0};
    bool copy = false;
    const char *root = NULL;
    bool remove = false;
    size_t nenv = 0;
    int c;

    if (env == NULL)
        return 1;
    optind = 1;
    /* "+": options end at IMAGE, so the command's own options pass through. */
    while ((c = getopt_long(argc, argv, "+e:u:w:th", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            root = optarg;
            break;
        case 'c':
            copy = true;
            break;
        case 'R':
            remove = true;
            break;
        case 'e':
            env[nenv++] = optarg;
            break;
        case 'u':
            o.user = optarg;
            break;
        case 'w':
            o.workdir = optarg;
            break;
        case 'E':
            o.entrypoint = optarg;
            break;
        case 'H':
            o.hostname = optarg;
            break;
        case 't':
            o.terminal = true;
            break;
        case 'h':
            printf("Usage: isola bundle [--root DIR] [--copy] [-e KEY=VAL] [-u USER] [-w DIR] "
                   "[--entrypoint CMD] IMAGE BUNDLE [CMD...]\n"
                   "       isola bundle --remove BUNDLE\n");
            return 0;
        default:
            return 2;
        }
    }
    o.env = env;
    if (remove) {
        if (optind + 1 != argc) {
            fprintf(stderr, "isola bundle: --remove takes one BUNDLE\n");
            return 2;
        }
        if (bundle_remove(argv[optind], &err) < 0) {
            err_print(err, "isola bundle", stderr);
            return 1;
        }
        return 0;
    }
    if (argc - optind < 2) {
        fprintf(stderr, "isola bundle: expected IMAGE and BUNDLE\n");
        return 2;
    }
    o.args = argv + optind + 2;
    if (store_open(cli_store_root(root), &s, &err) < 0 ||
        compose_bundle(s, argv[optind], argv[optind + 1], copy, &o, &err) < 0) {
        err_print(err, "isola bundle", stderr);
        return 1;
    }
    return 0;
}
