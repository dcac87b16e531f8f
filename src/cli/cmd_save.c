/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola save [--root DIR] [--format oci-archive|oci-dir|docker-archive] -o PATH IMAGE...:
 * write images as an OCI layout (tar or directory) or a docker-archive; to
 * stdout without -o or with `-o -` (as `docker save`). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "image/transfer.h"

int cmd_save(int argc, char **argv)
{
    static const struct option opts[] = {{"root", required_argument, NULL, 'r'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"format", required_argument, NULL, 'f'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    _cleanup_store_ struct store *s = NULL;
    _cleanup_err_ struct err *err = NULL;
    const char *root = NULL, *output = NULL;
    enum transfer_format f = FMT_AUTO;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            root = optarg;
            break;
        case 'o':
            output = optarg;
            break;
        case 'f':
            if (transfer_parse_format(optarg, &f, &err) < 0) {
                err_print(err, "isola save", stderr);
                return 2;
            }
            break;
        case 'h':
            printf("Usage: isola save [--root DIR] [--format oci-archive|oci-dir|docker-archive] "
                   "[-o PATH|-] IMAGE...\n"
                   "Without -o, or with `-o -`, the archive goes to stdout.\n");
            return 0;
        default:
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "isola save: expected at least one IMAGE\n");
        return 2;
    }
    /* As `docker save`: no -o, or `-o -`, writes the archive to stdout. */
    if (output == NULL)
        output = TRANSFER_STDIO;
    if (strcmp(output, TRANSFER_STDIO) == 0 && isatty(STDOUT_FILENO)) {
        fprintf(stderr, "isola save: refusing to write an archive to a terminal: use -o PATH "
                        "or redirect stdout\n");
        return 2;
    }
    if (store_open(cli_store_root(root), &s, &err) < 0 ||
        transfer_save(s, argv + optind, output, f, &err) < 0) {
        err_print(err, "isola save", stderr);
        return 1;
    }
    return 0;
}
