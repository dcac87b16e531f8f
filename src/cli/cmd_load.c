/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola load [--root DIR] [-t NAME] [--platform OS/ARCH] -i PATH: load an OCI
 * layout (directory or tar) or a docker-archive into the store. */
#include <getopt.h>
#include <stdio.h>

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
            printf("Usage: isola load [--root DIR] [-t NAME] [--platform OS/ARCH] -i PATH\n");
            return 0;
        default:
            return 2;
        }
    }
    if (input == NULL && optind < argc)
        input = argv[optind];
    if (input == NULL) {
        fprintf(stderr, "isola load: expected -i PATH\n");
        return 2;
    }
    if (store_tmp_unlink_on_signals(&err) < 0 ||
        store_open(store_default_root(root), &s, &err) < 0 ||
        transfer_load(s, input, tag, platform, &names, &err) < 0) {
        err_print(err, "isola load", stderr);
        return 1;
    }
    for (size_t i = 0; names && names[i]; i++)
        printf("Loaded image: %s\n", names[i]);
    return 0;
}
