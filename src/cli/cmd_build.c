/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola build [--root DIR] [-t NAME] [-f Dockerfile] [--build-arg K=V] [--no-cache]
 *             [--target STAGE] [--runtime PATH] CONTEXT */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/progress.h"
#include "engine/build_step.h"
#include "image/build.h"
#include "util/cleanup.h"

int cmd_build(int argc, char **argv)
{
    static const struct option opts[] = {{"root", required_argument, NULL, 'r'},
                                         {"tag", required_argument, NULL, 't'},
                                         {"file", required_argument, NULL, 'f'},
                                         {"build-arg", required_argument, NULL, 'a'},
                                         {"no-cache", no_argument, NULL, 'n'},
                                         {"target", required_argument, NULL, 'T'},
                                         {"runtime", required_argument, NULL, 'R'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    _cleanup_store_ struct store *s = NULL;
    _cleanup_err_ struct err *err = NULL;
    _cleanup_free_ char **args = calloc((size_t)argc + 1, sizeof(char *));
    struct build_opts o = {0};
    struct build_step_engine steps;
    struct progress pr;
    const char *root = NULL, *runtime = NULL;
    char digest[DIGEST_LEN + 1];
    size_t na = 0;
    int c;

    if (args == NULL)
        return 1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "t:f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            root = optarg;
            break;
        case 't':
            o.tag = optarg;
            break;
        case 'f':
            o.dockerfile = optarg;
            break;
        case 'a':
            args[na++] = optarg;
            break;
        case 'n':
            o.no_cache = true;
            break;
        case 'T':
            o.target = optarg;
            break;
        case 'R':
            runtime = optarg;
            break;
        case 'h':
            printf("Usage: isola build [--root DIR] [-t NAME] [-f Dockerfile] [--build-arg K=V] "
                   "[--no-cache] [--target STAGE] [--runtime PATH] CONTEXT\n");
            return 0;
        default:
            return 2;
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "isola build: expected one CONTEXT directory\n");
        return 2;
    }
    o.context = argv[optind];
    /* `--build-arg NAME`: NAME's value from the environment, as Docker does. */
    for (size_t i = 0; i < na; i++)
        if (strchr(args[i], '=') == NULL && getenv(args[i]) != NULL &&
            asprintf(&args[i], "%s=%s", args[i], getenv(args[i])) < 0)
            return 1;
    o.build_args = args;
    build_step_engine_init(&steps, runtime ? runtime : getenv("ISOLA_BUILD_RUNTIME"));
    o.steps = &steps.ops;
    o.registry_creds = getenv("ISOLA_REGISTRY_CREDS");
    progress_init(&pr, true);
    o.progress = &pr.cb;
    if (store_tmp_unlink_on_signals(&err) < 0 || store_open(cli_store_root(root), &s, &err) < 0 ||
        build_run(s, &o, digest, &err) < 0) {
        progress_finish(&pr);
        err_print(err, "isola build", stderr);
        return 1;
    }
    printf("Successfully built %s%s%s\n", digest, o.tag ? " as " : "", o.tag ? o.tag : "");
    return 0;
}
