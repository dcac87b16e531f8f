/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola load [--root DIR] [-t NAME] [--platform OS/ARCH] -i PATH: load an OCI
 * layout (directory or tar) or a docker-archive into the store; from stdin
 * without -i or with `-i -` (as `docker load`). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "image/transfer.h"
#include "util/cleanup.h"

int cmd_load(int argc, char **argv)
{
    static const struct option opts[] = {
        {"root", required_argument, NULL, 'r'}, {"input", required_argument, NULL, 'i'},
        {"tag", required_argument, NULL, 't'},  {"platform", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0}};
    _cleanup_store_ struct store *s = NULL;
    _cleanup_err_ struct err *err = NULL;
    _cleanup_strv_ char **names = NULL;
    const char *root = NULL, *input = NULL, *tag = NULL, *platform = NULL;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "i:t:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            root = optarg;
            break;
        case 'i':
            input = optarg;
            break;
        case 't':
            tag = optarg;
            break;
        case 'p':
            platform = optarg;
            break;
        case 'q':
            break;
        case 'h':
            printf("Usage: isola load [--root DIR] [-t NAME] [--platform OS/ARCH] [-i PATH|-]\n"
                   "Without -i, or with `-i -`, the archive (tar) is read from stdin.\n");
            return 0;
        default:
            return 2;
        }
    }
    if (input == NULL && optind < argc)
        input = argv[optind];
    /* As `docker load`: no -i, or `-i -`, reads the archive from stdin. */
    if (input == NULL)
        input = TRANSFER_STDIO;
    if (strcmp(input, TRANSFER_STDIO) == 0 && isatty(STDIN_FILENO)) {
        fprintf(stderr, "isola load: requested a load from stdin, but stdin is a terminal: use "
                        "-i PATH or redirect stdin\n");
        return 2;
    }
    if (store_tmp_unlink_on_signals(&err) < 0 || store_open(cli_store_root(root), &s, &err) < 0 ||
        transfer_load(s, input, tag, platform, &names, &err) < 0) {
        err_print(err, "isola load", stderr);
        return 1;
    }
    for (size_t i = 0; names && names[i]; i++)
        printf("Loaded image: %s\n", names[i]);
    return 0;
}
