/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * isola pull [--root DIR] [--creds USER:PASS] [--ca-file PEM] [--insecure]
 *            [--platform OS/ARCH] [-q] REF
 * isola push [same options] IMAGE [REF]
 * Registry transfers (OCI distribution spec). Credentials may also come from
 * $ISOLA_REGISTRY_CREDS.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/progress.h"
#include "image/registry.h"
#include "util/cleanup.h"

static int registry_cmd(int argc, char **argv, bool push)
{
    static const struct option opts[] = {
        {"root", required_argument, NULL, 'r'},     {"creds", required_argument, NULL, 'c'},
        {"ca-file", required_argument, NULL, 'C'},  {"insecure", no_argument, NULL, 'k'},
        {"platform", required_argument, NULL, 'p'}, {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
    _cleanup_store_ struct store *s = NULL;
    _cleanup_err_ struct err *err = NULL;
    _cleanup_free_ char *name = NULL;
    struct registry_opts o = {.creds = getenv("ISOLA_REGISTRY_CREDS")};
    struct progress pr;
    bool bars = true, quiet = false;
    const char *root = NULL, *prog = push ? "isola push" : "isola pull";
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            root = optarg;
            break;
        case 'c':
            o.creds = optarg;
            break;
        case 'C':
            o.ca_file = optarg;
            break;
        case 'k':
            o.insecure = true;
            break;
        case 'p':
            o.platform = optarg;
            break;
        case 'q':
            bars = false;
            quiet = true;
            break;
        case 'h':
            printf("Usage: %s [--root DIR] [--creds USER:PASS] [--ca-file PEM] [--insecure] "
                   "[--platform OS/ARCH] [-q] %s\n"
                   "-q, --quiet: no progress; print only the image reference when done\n",
                   prog, push ? "IMAGE [REF]" : "REF");
            return 0;
        default:
            return 2;
        }
    }
    if (argc - optind < 1 || argc - optind > (push ? 2 : 1)) {
        fprintf(stderr, "%s: expected %s\n", prog, push ? "IMAGE [REF]" : "REF");
        return 2;
    }
    if (o.creds && strchr(o.creds, ':') == NULL) {
        fprintf(stderr, "%s: --creds: expected USER:PASS\n", prog);
        return 2;
    }
    progress_init(&pr, bars);
    o.progress = quiet ? NULL : &pr.cb;
    /* An interrupted pull leaves no partial blob in ROOT/tmp. */
    if (!push && store_tmp_unlink_on_signals(&err) < 0)
        goto fail;
    if (store_open(cli_store_root(root), &s, &err) < 0)
        goto fail;
    if (push) {
        pr.pushed = argv[argc - 1];
        if (registry_push(s, argv[optind], argc - optind == 2 ? argv[optind + 1] : NULL, &o, &err) <
            0)
            goto fail;
        if (quiet)
            printf("%s\n", pr.pushed);
        return 0;
    }
    if (registry_pull(s, argv[optind], &o, &name, &err) < 0)
        goto fail;
    /* As `docker pull -q`: the reference alone, for scripts. */
    printf(quiet ? "%s\n" : "Pulled %s\n", name);
    return 0;
fail:
    progress_finish(&pr);
    err_print(err, prog, stderr);
    return 1;
}

int cmd_pull(int argc, char **argv)
{
    return registry_cmd(argc, argv, false);
}

int cmd_push(int argc, char **argv)
{
    return registry_cmd(argc, argv, true);
}
