/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola tag [--root DIR] SOURCE TARGET: give an image another name. */
#include <getopt.h>
#include <stdio.h>

#include "cli/commands.h"
#include "image/ref.h"
#include "image/store.h"
#include "util/js.h"

int cmd_tag(int argc, char **argv)
{
    static const struct option opts[] = {{"root", required_argument, NULL, 'r'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    _cleanup_store_ struct store *s = NULL;
    _cleanup_err_ struct err *err = NULL;
    _cleanup_json_ json_t *desc = NULL;
    const char *root = NULL;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'r')
            root = optarg;
        else if (c == 'h') {
            printf("Usage: isola tag [--root DIR] SOURCE TARGET\n");
            return 0;
        } else
            return 2;
    }
    if (argc - optind != 2) {
        fprintf(stderr, "isola tag: expected SOURCE and TARGET\n");
        return 2;
    }
    if (ref_check_tag(argv[optind + 1], &err) < 0 ||
        store_open(cli_store_root(root), &s, &err) < 0 ||
        store_resolve(s, argv[optind], &desc, &err) < 0 ||
        store_tag(s, argv[optind + 1], desc, &err) < 0) {
        err_print(err, "isola tag", stderr);
        return 1;
    }
    return 0;
}
