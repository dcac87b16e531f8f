/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola import [--root DIR] PATH NAME [CMD...]: a root filesystem (directory or
 * tar) as a single-layer image; CMD becomes its default command. */
#include <getopt.h>
#include <stdio.h>

#include "cli/commands.h"
#include "image/transfer.h"

int cmd_import(int argc, char **argv)
{
    static const struct option opts[] = {{"root", required_argument, NULL, 'r'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    _cleanup_store_ struct store *s = NULL;
    _cleanup_err_ struct err *err = NULL;
    const char *root = NULL;
    char digest[DIGEST_LEN + 1];
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        if (c == 'r')
            root = optarg;
        else if (c == 'h') {
            printf("Usage: isola import [--root DIR] PATH NAME [CMD...]\n");
            return 0;
        } else
            return 2;
    }
    if (argc - optind < 2) {
        fprintf(stderr, "isola import: expected PATH and NAME\n");
        return 2;
    }
    if (store_tmp_unlink_on_signals(&err) < 0 || store_open(cli_store_root(root), &s, &err) < 0 ||
        transfer_import(s, argv[optind], argv[optind + 1], argv + optind + 2, digest, &err) < 0) {
        err_print(err, "isola import", stderr);
        return 1;
    }
    printf("Imported %s (%s)\n", argv[optind + 1], digest);
    return 0;
}
