/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola inspect [--root DIR] IMAGE...: print a JSON array describing images
 * (ID, digest, tags, manifest, config), like `docker image inspect`. */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli_template.h"
#include "cli/commands.h"
#include "cli/ctr_cli.h"
#include "image/image.h"
#include "util/cleanup.h"
#include "util/js.h"

int cmd_inspect(int argc, char **argv)
{
    static const struct option opts[] = {{"root", required_argument, NULL, 'r'},
                                         {"format", required_argument, NULL, 'f'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    _cleanup_store_ struct store *s = NULL;
    _cleanup_err_ struct err *err = NULL;
    _cleanup_json_ json_t *out = json_array();
    _cleanup_free_ char *text = NULL;
    const char *root = NULL, *format = NULL;
    int c, rc = 0;

    optind = 1;
    while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
        if (c == 'r')
            root = optarg;
        else if (c == 'f')
            format = optarg;
        else if (c == 'h') {
            printf("Usage: isola inspect [--root DIR] [-f FORMAT] CONTAINER|IMAGE...\n"
                   "A container (Docker's inspect document) or an image.\n"
                   "  -f, --format F   a Go template for each, such as '{{.State.Status}}',\n"
                   "                   '{{json .Config}}', '{{index .Config.Labels \"k\"}}'\n");
            return 0;
        } else
            return 2;
    }
    if (optind >= argc) {
        fprintf(stderr, "isola inspect: expected at least one IMAGE\n");
        return 2;
    }
    if (store_open(cli_store_root(root), &s, &err) < 0) {
        err_print(err, "isola inspect", stderr);
        return 1;
    }
    for (int i = optind; i < argc; i++) {
        _cleanup_image_ struct image *img = NULL;
        /* a container first, as Docker's inspect */
        if (ctr_cli_inspect_one(argv[i], out) == 0)
            continue;
        if (image_open(s, argv[i], NULL, &img, &err) < 0) {
            err_print(err, "isola inspect", stderr);
            err_free(&err);
            rc = 1;
            continue;
        }
        json_array_append_new(out,
                              json_pack("{s:s, s:s, s:s?, s:I, s:O, s:O}", "Id",
                                        img->m.config.digest, "Digest", img->manifest_digest,
                                        "RepoTag", img->ref, "Size", (json_int_t)image_size(img),
                                        "Manifest", img->manifest, "Config", img->config));
    }
    struct cli_format cf;
    cli_format_init(&cf, format, NULL);
    if (cf.kind == CLI_FORMAT_TEMPLATE) {
        size_t i;
        json_t *o;
        cf.table = false; /* no header: a template for each object */
        json_array_foreach (out, i, o)
            if (cli_format_row(&cf, "isola inspect", o) < 0)
                return 125;
        return rc;
    }
    text = json_dumps(out, JSON_INDENT(2));
    printf("%s\n", text);
    return rc;
}
