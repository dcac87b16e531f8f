/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola build [--root DIR] [-t NAME] [-f Dockerfile] [--build-arg K=V] [--no-cache]
 *             [--target STAGE] [--runtime PATH] [--network NET] CONTEXT */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/net_flags.h"
#include "cli/progress.h"
#include "engine/build_step.h"
#include "engine/ctr_fg.h"
#include "image/build.h"
#include "util/cleanup.h"

int cmd_build(int argc, char **argv)
{
    static const struct option opts[] = {
        {"root", required_argument, NULL, 'r'},    {"tag", required_argument, NULL, 't'},
        {"file", required_argument, NULL, 'f'},    {"build-arg", required_argument, NULL, 'a'},
        {"no-cache", no_argument, NULL, 'n'},      {"target", required_argument, NULL, 'T'},
        {"runtime", required_argument, NULL, 'R'}, {"network", required_argument, NULL, 'N'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    _cleanup_store_ struct store *s = NULL;
    _cleanup_err_ struct err *err = NULL;
    _cleanup_free_ char **args = calloc((size_t)argc + 1, sizeof(char *));
    struct build_opts o = {0};
    struct build_step_engine steps;
    struct progress pr;
    const char *root = NULL, *runtime = NULL, *network = net_flags_default_network();
    struct ctr_net_opts net = {0};
    struct db *db = NULL;
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
        case 'N':
            /* docker build's "default": the default network */
            network = strcmp(optarg, "default") == 0 ? NULL : optarg;
            break;
        case 'h':
            printf("Usage: isola build [--root DIR] [-t NAME] [-f Dockerfile] [--build-arg K=V] "
                   "[--no-cache] [--target STAGE] [--runtime PATH]\n"
                   "                   [--network default|bridge|none|host|NAME] CONTEXT\n"
                   "RUN steps run on --network: the default network (bridge, or\n"
                   "$ISOLA_DEFAULT_NETWORK) as `docker build`, each step wired as a container.\n");
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
    /* RUN steps on a network of the engine's need its state */
    net.network = network;
    if (network && strncmp(network, "container:", 10) == 0) {
        fprintf(stderr, "isola build: --network %s: not supported by build\n", network);
        return 2;
    }
    if (ctr_fg_wants_network(&net) && db_open(cli_store_root(root), &db, &err) < 0) {
        err_print(err, "isola build", stderr);
        return 1;
    }
    const char *rd = getenv("ISOLA_RUN_DIR");
    struct ctr_env env = {.state_root = cli_store_root(root),
                          .run_dir = rd && *rd ? rd : "/run/isola"};
    build_step_engine_network(&steps, db, &env, &net);
    o.steps = &steps.ops;
    o.registry_creds = getenv("ISOLA_REGISTRY_CREDS");
    progress_init(&pr, true);
    o.progress = &pr.cb;
    if (store_tmp_unlink_on_signals(&err) < 0 || store_open(cli_store_root(root), &s, &err) < 0 ||
        build_run(s, &o, digest, &err) < 0) {
        progress_finish(&pr);
        err_print(err, "isola build", stderr);
        if (db)
            db_close(db);
        return 1;
    }
    if (db)
        db_close(db);
    printf("Successfully built %s%s%s\n", digest, o.tag ? " as " : "", o.tag ? o.tag : "");
    return 0;
}
