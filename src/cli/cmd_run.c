/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * isola run [--rm] [-m MEM] [--name NAME] [--hostname H] ROOTFS_DIR CMD...
 * isola run [--rm] [-m MEM] [--name NAME] [--hostname H] IMAGE [CMD...]
 * Writes an OCI bundle for ROOTFS_DIR in a temporary directory under
 * /run/isola (ISOLA_RUN_DIR) and runs it with the container library. When the
 * first argument is not a directory it names an image in the store
 * ($ISOLA_ROOT): the bundle's root is then an overlayfs of the image's layers
 * with a private upper layer, and its config comes from the image's.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/ctr_cli.h"
#include "cli/net_flags.h"
#include "cli/pull_policy.h"
#include "engine/ctr_fg.h"
#include "engine/rundir.h"
#include "cli/run_flags.h"
#include "cli/run_vm.h"
#include "engine/compose.h"
#include "image/bundle.h"
#include "image/registry.h"
#include "runtime/container.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"
#include "util/size.h"

int cmd_run(int argc, char **argv);

/* RLIMIT_NOFILE of the container: podman's 1048576, or the most this process
 * can grant (raising the hard limit needs CAP_SYS_RESOURCE). */
static uint64_t run_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_max >= 1048576)
        return 1048576;
    return rl.rlim_max;
}

/* The run's bundle directory, with the image's overlay unmounted first. */
static void run_remove_bundle(const char *dir, bool from_image)
{
    struct err *e = NULL;

    if ((from_image ? bundle_remove(dir, &e) : fs_rm_rf(dir, &e)) < 0) {
        err_print(e, "isola run", stderr);
        err_free(&e);
    }
}

static void run_net_release(struct net_flags *nf)
{
    net_flags_release(nf);
}

/* The run's network (docs/networks.md, "The foreground run"): for a
 * network of the engine's, a row that owns the address and ports, and the
 * namespace, /etc files and mounts that go into co. *cli is opened then. */
static int run_net_setup(struct ctr_cli *cli, struct ctr_fg *fg, const struct net_flags *nf,
                         const char *name, const char *image, const char *dir, const char *oci_root,
                         struct compose_opts *co, struct compose_mount **mounts, struct err **err)
{
    _cleanup_json_ json_t *image_cfg = NULL;

    bool own_ns =
        nf->o.network && (strcmp(nf->o.network, "host") == 0 || strcmp(nf->o.network, "none") == 0);

    if (nf->o.network && strcmp(nf->o.network, "host") == 0)
        co->host_network = true;
    if (own_ns && (nf->o.ip || nf->n_publish || nf->o.publish_all))
        return err_val(err, EINVAL, "%s: needs a network (not --network %s)",
                       nf->o.ip ? "--ip" : "-p", nf->o.network);
    if (!ctr_fg_wants_network(&nf->o))
        return 0;
    if (ctr_cli_open(cli, "isola run") < 0)
        return err_val(err, EIO, "the engine's state (above)");
    if (image && nf->o.publish_all) {
        _cleanup_store_ struct store *s = NULL;
        _cleanup_image_ struct image *img = NULL;
        if (store_open(cli_store_root(NULL), &s, err) < 0 ||
            image_open(s, image, NULL, &img, err) < 0)
            return -1;
        image_cfg = json_incref(img->config);
    }
    if (ctr_fg_setup(cli->db, &cli->env, name, image ? image : co->rootfs, dir, oci_root,
                     co->hostname, &nf->o, image_cfg, fg, err) < 0)
        return -1;
    *mounts = calloc(co->n_mounts + 3, sizeof(**mounts));
    if (!*mounts)
        return err_set(err, ENOMEM, "isola run");
    for (size_t i = 0; i < co->n_mounts; i++)
        (*mounts)[i] = co->mounts[i];
    co->mounts = *mounts;
    ctr_net_mounts(&fg->cn, *mounts, &co->n_mounts);
    co->netns_path = fg->cn.netns;
    if (fg->cn.hostname_of)
        co->hostname = fg->cn.hostname_of;
    return 0;
}

/* The cache key of an image's root image in a microVM: its manifest digest. */
static int run_root_key(struct store *s, const char *image, char out[DIGEST_LEN + 1],
                        struct err **err)
{
    _cleanup_image_ struct image *img = NULL;

    if (image_open(s, image, NULL, &img, err) < 0)
        return -1;
    const char *hex = strchr(img->manifest_digest, ':');
    snprintf(out, DIGEST_LEN + 1, "%s", hex != NULL ? hex + 1 : img->manifest_digest);
    return 0;
}

int cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"rm", no_argument, NULL, 'r'},
        {"memory", required_argument, NULL, 'm'},
        {"name", required_argument, NULL, 'n'},
        {"hostname", required_argument, NULL, 'H'},
        {"help", no_argument, NULL, 'h'},
        {"pull", required_argument, NULL, 'U'},
        {"isolation", required_argument, NULL, 'I'},
        {"kernel", required_argument, NULL, 'K'},
        NET_FLAGS_LONGOPTS,
        RUN_FLAGS_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    int64_t mem = 0;
    const char *name = NULL, *hostname = "isola";
    enum pull_policy pull = PULL_MISSING;
    bool vm = false;
    const char *kernel = NULL;
    char root_key[DIGEST_LEN + 1] = "";
    struct err *e = NULL;
    char rootfs[PATH_MAX], dir[PATH_MAX], idbuf[64];
    int c, status = 0;
    _cleanup_json_ json_t *cfg = NULL;
    __attribute__((cleanup(run_flags_release))) struct run_flags rf = {0};
    __attribute__((cleanup(run_net_release))) struct net_flags nf = {0};
    _cleanup_free_ struct compose_mount *mounts = NULL;
    struct ctr_cli cli = {0};
    struct ctr_fg fg = {0};
    /* held until we exit: the bundle is ours, no other run collects it */
    _cleanup_close_ int lockfd = -1;

    /* -d: a container of the engine's, in the background (cmd_create.c) */
    int detached = ctr_cli_run_detached(argc, argv);
    if (detached != CTR_CLI_NOT_DETACHED)
        return detached;
    if (run_flags_init(&rf, argc, &e) < 0 || net_flags_init(&nf, argc, &e) < 0)
        goto fail;
    while ((c = getopt_long(argc, argv, "+m:h" RUN_FLAGS_SHORT NET_FLAGS_SHORT, opts, NULL)) !=
           -1) {
        if (net_flags_take(&nf, c, optarg))
            continue;
        int taken = run_flags_take(&rf, c, optarg, &e);
        if (taken < 0) {
            err_print(e, "isola run", stderr);
            err_free(&e);
            return 125; /* Docker's status for a bad flag */
        }
        if (taken > 0)
            continue;
        switch (c) {
        case 'r':
            /* the default until stopped containers are kept (docs/isola-run.md) */
            break;
        case 'm':
            if (size_parse(optarg, 1, &mem, &e) < 0) {
                err_wrap(&e, "-m");
                err_print(e, "isola run", stderr);
                err_free(&e);
                return 125;
            }
            break;
        case 'n':
            name = optarg;
            break;
        case 'H':
            hostname = optarg;
            break;
        case 'U':
            if (pull_policy_parse(optarg) < 0) {
                fprintf(stderr, "isola run: --pull `%s`: expected missing, always or never\n",
                        optarg);
                return 125;
            }
            pull = (enum pull_policy)pull_policy_parse(optarg);
            break;
        case 'I':
            if (strcmp(optarg, "vm") != 0 && strcmp(optarg, "microvm") != 0 &&
                strcmp(optarg, "linux") != 0 && strcmp(optarg, "default") != 0) {
                fprintf(stderr, "isola run: --isolation `%s`: expected linux or vm\n", optarg);
                return 125;
            }
            vm = strcmp(optarg, "vm") == 0 || strcmp(optarg, "microvm") == 0;
            break;
        case 'K':
            kernel = optarg;
            break;
        case 'h':
            printf("Usage: isola run [OPTIONS] ROOTFS_DIR CMD...\n"
                   "       isola run [OPTIONS] [--pull P] IMAGE [CMD...]\n"
                   "Runs CMD in a container, in the foreground: its root is ROOTFS_DIR, or an\n"
                   "overlay of IMAGE (a name or ID in the store, pulled from its registry\n"
                   "when missing).\n"
                   "SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 go to the container;\n"
                   "the container dies with isola run. The exit status is the command's\n"
                   "(128+N if killed by signal N); 127 if it was not found, 126 if it could\n"
                   "not be executed, 125 for a bad flag or another failure to start (Docker's).\n"
                   "  -d, --detach       run in the background as a kept container and print its\n"
                   "                     ID (`isola run -d --help` lists its options)\n"
                   "  -i, -t             with an IMAGE: a kept container of the engine's (the\n"
                   "                     options of `isola run -d --help`), attached as by\n"
                   "                     `isola attach`: -i our stdin to its stdin, -t a pty\n"
                   "                     (raw mode, window size); Ctrl-P Ctrl-Q detaches\n"
                   "  -m, --memory MEM   memory limit (64m, 512k, 1.5g, 64MiB; a number: bytes)\n"
                   "  --name NAME        container name (default isola-XXXXXX)\n"
                   "  --hostname H       hostname (default isola)\n"
                   "  --isolation linux|vm  vm: run the container inside a microVM of its own\n"
                   "                     (docs/microvm.md; needs /dev/kvm)\n"
                   "  --kernel DIR       with --isolation=vm: the guest kernel, DIR/vmlinuz and\n"
                   "                     DIR/lib/modules/VERSION (default: the one that\n"
                   "                     scripts/testhost/prepare extracts from Debian's)\n"
                   "  --pull missing|always|never  pull IMAGE when it is not in the store\n"
                   "                     (default missing), every time, or never (fail\n"
                   "                     naming `isola pull IMAGE`)\n"
                   "  --rm               remove the container when it exits (the default for\n"
                   "                     now: stopped containers are not kept yet)\n"
                   "%s%s",
                   net_flags_help, run_flags_help);
            return 0;
        default:
            return 125;
        }
    }
    struct stat st;
    bool from_image = argc - optind >= 1 && stat(argv[optind], &st) < 0 && errno == ENOENT;
    if (argc - optind < 2 && !from_image) {
        fprintf(stderr, "isola run: need ROOTFS_DIR and a command (see `isola run --help`)\n");
        return 2;
    }
    if (!from_image && realpath(argv[optind], rootfs) == NULL) {
        err_sys(&e, "rootfs `%s`", argv[optind]);
        err_print(e, "isola run", stderr);
        err_free(&e);
        return 1;
    }
    const char *base = getenv("ISOLA_RUN_DIR");
    if (base == NULL || base[0] == '\0')
        base = "/run/isola";
    char state_root[PATH_MAX + 8];
    snprintf(state_root, sizeof(state_root), "%s/oci", base);
    if (rundir_new_bundle(base, state_root, dir, sizeof(dir), &lockfd, &e) < 0)
        goto fail;
    if (name == NULL) {
        snprintf(idbuf, sizeof(idbuf), "isola-%s", strrchr(dir, '-') + 1);
        name = idbuf;
    }
    if (run_flags_finish(&rf, &e) < 0)
        goto fail_rm;
    if (vm) {
        /* a microVM's container has the guest's network namespace: none of
         * the engine's networks reach it (docs/networks.md) */
        if ((nf.o.network && strcmp(nf.o.network, "none") != 0) || nf.o.ip || nf.n_publish ||
            nf.o.publish_all || nf.n_dns || nf.n_dns_search || nf.n_add_host || nf.n_aliases) {
            err_val(&e, EINVAL,
                    "--isolation vm: network options are not supported (the "
                    "container gets the guest's own network namespace, lo only)");
            goto fail_rm;
        }
        nf.o.network = "none";
    }
    net_flags_finish(&nf);
    struct compose_opts co = rf.co;
    co.args = argv + optind + 1;
    co.hostname = hostname;
    co.rootfs = rootfs;
    co.memory = mem;
    co.nofile = run_nofile();
    if (from_image) {
        /* The image's config (Entrypoint, Cmd, Env, User...) and layers. */
        _cleanup_store_ struct store *s = NULL;
        co.rootfs = NULL;
        if (store_open(cli_store_root(NULL), &s, &e) < 0 ||
            pull_policy_ensure(s, argv[optind], pull, &e) < 0 ||
            run_net_setup(&cli, &fg, &nf, name, argv[optind], dir, state_root, &co, &mounts, &e) <
                0 ||
            compose_bundle_transient(s, argv[optind], dir, &co, &e) < 0)
            goto fail_rm;
        if (vm && run_root_key(s, argv[optind], root_key, &e) < 0)
            goto fail_rm;
    } else if (run_net_setup(&cli, &fg, &nf, name, NULL, dir, state_root, &co, &mounts, &e) < 0 ||
               compose_spec(NULL, NULL, rootfs, &co, &cfg, &e) < 0) {
        goto fail_rm;
    }
    char cfgpath[PATH_MAX + 16];
    snprintf(cfgpath, sizeof(cfgpath), "%s/config.json", dir);
    if (cfg && js_write_file_replace(cfgpath, cfg, 0600, &e) < 0)
        goto fail_rm;
    if (vm) {
        struct run_vm_paths vp;
        char vm_root[PATH_MAX + 8];
        snprintf(vm_root, sizeof(vm_root), "%s/vm", base);
        int r = run_vm_resolve(kernel, &vp, &e) < 0
                    ? -1
                    : run_vm(&vp, vm_root, name, dir, root_key[0] ? root_key : NULL, &status, &e);
        run_remove_bundle(dir, from_image);
        ctr_fg_teardown(cli.db, &cli.env, &fg);
        ctr_cli_close(&cli);
        if (r < 0)
            goto fail;
        return status;
    }
    struct container_opts o = {
        .root = state_root,
        .id = name,
        .bundle = dir,
        .cgroup_manager = CGROUP_MANAGER_CGROUPFS,
        .foreground = true,
    };
    int rc = container_run(&o, &status, &e);
    /* With or without --rm: nothing can use a stopped container yet
     * (docs/isola-run.md), so its overlay and bundle go with it. */
    run_remove_bundle(dir, from_image);
    ctr_fg_teardown(cli.db, &cli.env, &fg);
    ctr_cli_close(&cli);
    if (rc < 0)
        goto fail;
    return status;
fail_rm:
    run_remove_bundle(dir, from_image);
    ctr_fg_teardown(cli.db, &cli.env, &fg);
    ctr_cli_close(&cli);
fail:
    err_print(e, "isola run", stderr);
    status = ctr_cli_start_failure_code(e);
    err_free(&e);
    return status;
}
