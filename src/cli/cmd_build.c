/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola build [--root DIR] [-t NAME] [-f Dockerfile|-] [--build-arg K=V] [--no-cache]
 *             [--target STAGE] [--runtime PATH] [--network NET] [-q] CONTEXT|- */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/net_flags.h"
#include "cli/progress.h"
#include "engine/build_step.h"
#include "engine/ctr_fg.h"
#include "image/build.h"
#include "image/image.h"
#include "util/cleanup.h"
#include "util/fs.h"

int cmd_build(int argc, char **argv)
{
    static const struct option opts[] = {{"root", required_argument, NULL, 'r'},
                                         {"tag", required_argument, NULL, 't'},
                                         {"file", required_argument, NULL, 'f'},
                                         {"build-arg", required_argument, NULL, 'a'},
                                         {"no-cache", no_argument, NULL, 'n'},
                                         {"target", required_argument, NULL, 'T'},
                                         {"runtime", required_argument, NULL, 'R'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"network", required_argument, NULL, 'N'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    _cleanup_store_ struct store *s = NULL;
    _cleanup_err_ struct err *err = NULL;
    _cleanup_free_ char **args = calloc((size_t)argc + 1, sizeof(char *));
    struct build_opts o = {0};
    struct build_step_engine steps;
    struct progress pr;
    const char *root = NULL, *runtime = NULL, *network = net_flags_default_network();
    struct ctr_net_opts net = {0};
    struct db *db = NULL;
    _cleanup_free_ char *ctxdir = NULL, *dftext = NULL;
    _cleanup_close_ int saved = -1;
    bool quiet = false;
    int rc;
    char digest[DIGEST_LEN + 1];
    size_t na = 0;
    int c;

    if (args == NULL)
        return 1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "t:f:qh", opts, NULL)) != -1) {
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
        case 'q':
            quiet = true;
            break;
        case 'N':
            /* docker build's "default": the default network */
            network = strcmp(optarg, "default") == 0 ? NULL : optarg;
            break;
        case 'h':
            printf("Usage: isola build [--root DIR] [-t NAME] [-f Dockerfile|-] [--build-arg K=V] "
                   "[--no-cache] [--target STAGE] [--runtime PATH]\n"
                   "                   [--network default|bridge|none|host|NAME] [-q] CONTEXT|-\n\n"
                   "  -f -        the Dockerfile from stdin (the context is CONTEXT)\n"
                   "  CONTEXT -   the context from stdin: a tar (plain, gzip, bzip2, xz, zstd)\n"
                   "              whose Dockerfile (or -f NAME) is inside it, or a Dockerfile\n"
                   "              alone (an empty context)\n"
                   "  -q, --quiet print only the image ID (sha256:...) on success\n"
                   "  --network   where RUN steps run: the default network (bridge, or\n"
                   "              $ISOLA_DEFAULT_NETWORK) as `docker build`, each step wired\n"
                   "              as a container\n");
            return 0;
        default:
            return 2;
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "isola build: expected one CONTEXT directory (or - for stdin)\n");
        return 2;
    }
    o.context = argv[optind];
    bool ctx_stdin = strcmp(o.context, "-") == 0;
    if (ctx_stdin && o.dockerfile && strcmp(o.dockerfile, "-") == 0) {
        fprintf(stderr, "isola build: the context and the Dockerfile cannot both come from "
                        "stdin\n");
        return 2;
    }
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
    progress_init(&pr, !quiet);
    o.progress = &pr.cb;
    if (store_tmp_unlink_on_signals(&err) < 0 || store_open(cli_store_root(root), &s, &err) < 0)
        goto fail;
    if (ctx_stdin) {
        if (build_stdin_context(s, STDIN_FILENO, o.dockerfile, &ctxdir, &dftext, &err) < 0)
            goto fail;
        o.context = ctxdir;
        o.dockerfile_text = dftext;
    } else if (o.dockerfile && strcmp(o.dockerfile, "-") == 0) {
        size_t len;
        if (fs_read_fd(STDIN_FILENO, "the Dockerfile on stdin", &dftext, &len, &err) < 0)
            goto fail;
        o.dockerfile = NULL;
        o.dockerfile_text = dftext;
    }
    /* -q: the steps' lines and the RUN steps' output go nowhere */
    if (quiet) {
        int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        fflush(stdout);
        saved = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
        if (null < 0 || saved < 0 || dup2(null, STDOUT_FILENO) < 0) {
            err_sys(&err, "build -q: redirect stdout");
            if (null >= 0)
                close(null);
            goto fail;
        }
        close(null);
    }
    rc = build_run(s, &o, digest, &err);
    if (quiet) {
        fflush(stdout);
        dup2(saved, STDOUT_FILENO);
    }
    if (rc < 0)
        goto fail;
    if (quiet) {
        _cleanup_image_ struct image *img = NULL;
        if (image_open(s, digest, NULL, &img, &err) < 0)
            goto fail;
        printf("%s\n", img->m.config.digest);
    } else {
        printf("Successfully built %s%s%s\n", digest, o.tag ? " as " : "", o.tag ? o.tag : "");
    }
    if (ctxdir)
        fs_rm_rf(ctxdir, NULL);
    if (db)
        db_close(db);
    return 0;
fail:
    progress_finish(&pr);
    err_print(err, "isola build", stderr);
    if (ctxdir)
        fs_rm_rf(ctxdir, NULL);
    if (db)
        db_close(db);
    return 1;
}
