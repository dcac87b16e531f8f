/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * isola create [OPTIONS] IMAGE [CMD...]: a container in the engine's state,
 * not started; prints its id. `isola run -d` comes here too (create, start,
 * print the id). See docs/engine.md, "Containers".
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli/commands.h"
#include "cli/ctr_cli.h"
#include "cli/net_flags.h"
#include "cli/pull_policy.h"
#include "cli/run_flags.h"
#include "image/image.h"
#include "image/registry.h"
#include "image/store.h"
#include "util/cleanup.h"
#include "util/size.h"

enum {
    CF_NAME = 2000,
    CF_HOSTNAME,
    CF_RM,
    CF_RESTART,
    CF_STOP_TIMEOUT,
    CF_LOG_OPT,
    CF_PULL,
    CF_NETWORK,
    CF_IP,
    CF_DNS,
    CF_DNS_SEARCH,
    CF_ADD_HOST,
    CF_NETWORK_ALIAS,
    CF_PUBLISH,
    CF_PUBLISH_ALL,
    CF_HEALTH_CMD,
    CF_HEALTH_INTERVAL,
    CF_HEALTH_RETRIES,
    CF_HEALTH_TIMEOUT,
    CF_HEALTH_START_PERIOD,
    CF_NO_HEALTHCHECK,
    CF_ISOLATION,
};

/* --health-* and --no-healthcheck by their CF_ value (health.h parses them). */
static const char *const health_flags[] = {"health-cmd",          "health-interval",
                                           "health-retries",      "health-timeout",
                                           "health-start-period", "no-healthcheck"};

static const char create_help[] =
    "  -d, --detach       (run) run in the background and print the container's ID\n"
    "  --name NAME        container name (default: a generated adjective_surname)\n"
    "  --isolation linux|vm  vm: inside a microVM of its own (docs/microvm.md; the\n"
    "                     guest kernel of `isola run --isolation=vm`'s default)\n"
    "  --hostname H       hostname (default the container's short id, as Docker's)\n"
    "  -t, --tty          a pty for the process (the monitor holds its master)\n"
    "  -i, --interactive  keep stdin open (a pipe the monitor holds)\n"
    "  -m, --memory MEM   memory limit (64m, 512k, 1.5g; a number: bytes)\n"
    "  -v, --volume NAME:PATH[:ro]  a named volume (made on first use, filled from the\n"
    "                     image's content at PATH); HOST_DIR:PATH[:ro] binds a directory\n"
    "  --restart POLICY   no, on-failure[:N], always, unless-stopped\n"
    "  --rm               remove the container when it exits\n"
    "  --stop-timeout S   seconds between the stop signal and SIGKILL (default 10)\n"
    "  --log-opt max-size=SIZE|max-file=N  rotate the log by size\n"
    "  --pull missing|always|never  pull IMAGE when it is not in the store (default\n"
    "                     missing), every time, or never\n"
    "  --network NET      bridge (default, or $ISOLA_DEFAULT_NETWORK), none (lo only),\n"
    "                     host, container:NAME (a running container's), or a network's\n"
    "                     name\n"
    "  --network-alias A  another name of it on NET (user networks)\n"
    "  --ip ADDR          the container's address on NET (claimed; taken: an error)\n"
    "  --dns IP           a nameserver for /etc/resolv.conf (default: the host's, or\n"
    "                     8.8.8.8/8.8.4.4 when the host's are on 127.0.0.0/8)\n"
    "  --dns-search DOM   a search domain for /etc/resolv.conf\n"
    "  --add-host NAME:IP a line for /etc/hosts\n"
    "  -p, --publish [IP:][HOSTPORT:]CTRPORT[/tcp|udp]  publish a port or a range\n"
    "                     (8000-8001:80-81); no HOSTPORT: a\n"
    "                     free one; a host port in use: an error)\n"
    "  -P, --publish-all  publish every port the image EXPOSEs, each on a free port\n"
    "  --health-cmd CMD   a health check: CMD run by /bin/sh -c in the container\n"
    "                     (exit 0 healthy, else a failure), over the image's HEALTHCHECK\n"
    "  --health-interval D  time between checks (30s; Go durations: 500ms, 1m30s)\n"
    "  --health-timeout D   a check running longer fails (30s)\n"
    "  --health-retries N   failures in a row that make it unhealthy (3)\n"
    "  --health-start-period D  failures in this time after the start do not count\n"
    "                     until the first success (0s)\n"
    "  --no-healthcheck   disable the image's HEALTHCHECK\n";

struct create_args {
    struct ctr_create_opts o;
    struct ctr_volume *vols;
    struct compose_mount *binds;
    size_t n_binds;
    char **owned;
    size_t n_owned;
    bool detach;
    enum pull_policy pull; /* --pull */
    bool tty;
    char **dns, **dns_search, **add_host, **publish, **aliases; /* borrowed strings */
    size_t n_dns, n_dns_search, n_add_host, n_publish, n_aliases;
};

static void create_args_free(struct create_args *a)
{
    for (size_t i = 0; i < a->n_owned; i++)
        free(a->owned[i]);
    free(a->owned);
    free(a->vols);
    free(a->binds);
    free(a->dns);
    free(a->dns_search);
    free(a->add_host);
    free(a->publish);
    free(a->aliases);
}

static uint64_t create_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_max >= 1048576)
        return 1048576;
    return rl.rlim_max;
}

/* -v NAME:PATH[:ro|rw] or HOST:PATH[:ro|rw] */
static int create_volume(struct create_args *a, const char *arg, struct err **err)
{
    char *s = strdup(arg);
    if (!s)
        return err_set(err, ENOMEM, "-v");
    a->owned[a->n_owned++] = s;
    char *dst = strchr(s, ':');
    if (!dst || dst == s)
        return err_val(err, EINVAL, "-v `%s`: expected NAME:PATH or HOST_DIR:PATH", arg);
    *dst++ = '\0';
    char *mode = strchr(dst, ':');
    bool ro = false;
    if (mode) {
        *mode++ = '\0';
        if (strcmp(mode, "ro") == 0)
            ro = true;
        else if (strcmp(mode, "rw") != 0)
            return err_val(err, EINVAL, "-v `%s`: mode `%s`: expected ro or rw", arg, mode);
    }
    if (dst[0] != '/')
        return err_val(err, EINVAL, "-v `%s`: the container path must be absolute", arg);
    if (s[0] == '/') {
        a->binds[a->n_binds++] = (struct compose_mount){
            .type = COMPOSE_MOUNT_BIND, .source = s, .destination = dst, .readonly = ro};
    } else {
        a->vols[a->o.n_volumes++] =
            (struct ctr_volume){.name = s, .destination = dst, .readonly = ro};
    }
    return 0;
}

/* 1: parsed (a->o complete), 0: --help printed, -1: usage error (printed). */
static int create_parse(int argc, char **argv, bool run, struct create_args *a,
                        struct run_flags *rf, bool quiet)
{
    static const struct option opts[] = {
        {"detach", no_argument, NULL, 'd'},
        {"tty", no_argument, NULL, 't'},
        {"interactive", no_argument, NULL, 'i'},
        {"name", required_argument, NULL, CF_NAME},
        {"hostname", required_argument, NULL, CF_HOSTNAME},
        {"memory", required_argument, NULL, 'm'},
        {"volume", required_argument, NULL, 'v'},
        {"rm", no_argument, NULL, CF_RM},
        {"restart", required_argument, NULL, CF_RESTART},
        {"stop-timeout", required_argument, NULL, CF_STOP_TIMEOUT},
        {"log-opt", required_argument, NULL, CF_LOG_OPT},
        {"pull", required_argument, NULL, CF_PULL},
        {"network", required_argument, NULL, CF_NETWORK},
        {"net", required_argument, NULL, CF_NETWORK},
        {"ip", required_argument, NULL, CF_IP},
        {"dns", required_argument, NULL, CF_DNS},
        {"dns-search", required_argument, NULL, CF_DNS_SEARCH},
        {"add-host", required_argument, NULL, CF_ADD_HOST},
        {"network-alias", required_argument, NULL, CF_NETWORK_ALIAS},
        {"publish", required_argument, NULL, CF_PUBLISH},
        {"publish-all", no_argument, NULL, CF_PUBLISH_ALL},
        {"health-cmd", required_argument, NULL, CF_HEALTH_CMD},
        {"health-interval", required_argument, NULL, CF_HEALTH_INTERVAL},
        {"health-retries", required_argument, NULL, CF_HEALTH_RETRIES},
        {"health-timeout", required_argument, NULL, CF_HEALTH_TIMEOUT},
        {"health-start-period", required_argument, NULL, CF_HEALTH_START_PERIOD},
        {"no-healthcheck", no_argument, NULL, CF_NO_HEALTHCHECK},
        {"isolation", required_argument, NULL, CF_ISOLATION},
        {"help", no_argument, NULL, 'h'},
        RUN_FLAGS_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    struct err *e = NULL;
    int c;

    a->o.stop_timeout = -1;
    a->o.co.hostname = NULL; /* the short id (ctr_create) */
    a->o.co.nofile = create_nofile();
    a->owned = calloc((size_t)argc + 1, sizeof(char *));
    a->vols = calloc((size_t)argc + 1, sizeof(*a->vols));
    a->binds = calloc((size_t)argc + 1, sizeof(*a->binds));
    a->dns = calloc((size_t)argc + 1, sizeof(char *));
    a->dns_search = calloc((size_t)argc + 1, sizeof(char *));
    a->add_host = calloc((size_t)argc + 1, sizeof(char *));
    a->publish = calloc((size_t)argc + 1, sizeof(char *));
    a->aliases = calloc((size_t)argc + 1, sizeof(char *));
    if (!a->owned || !a->vols || !a->binds || !a->dns || !a->dns_search || !a->add_host ||
        !a->publish || !a->aliases || run_flags_init(rf, argc, &e) < 0)
        goto bad;
    optind = 0;
    opterr = !quiet;
    while ((c = getopt_long(argc, argv, "+dtim:v:p:Ph" RUN_FLAGS_SHORT, opts, NULL)) != -1) {
        int taken = run_flags_take(rf, c, optarg, &e);
        if (taken < 0)
            goto bad;
        if (taken > 0)
            continue;
        switch (c) {
        case 'd':
            a->detach = true;
            break;
        case 't':
            a->tty = true;
            break;
        case 'i':
            a->o.open_stdin = true;
            break;
        case CF_NAME:
            a->o.name = optarg;
            break;
        case CF_HOSTNAME:
            a->o.co.hostname = optarg;
            break;
        case 'm':
            if (size_parse(optarg, 1, &a->o.co.memory, &e) < 0) {
                err_wrap(&e, "-m");
                goto bad;
            }
            break;
        case 'v':
            if (create_volume(a, optarg, &e) < 0)
                goto bad;
            break;
        case CF_RM:
            a->o.autoremove = true;
            break;
        case CF_ISOLATION:
            if (strcmp(optarg, "vm") != 0 && strcmp(optarg, "microvm") != 0 &&
                strcmp(optarg, "linux") != 0 && strcmp(optarg, "default") != 0) {
                err_val(&e, EINVAL, "--isolation `%s`: expected linux or vm", optarg);
                goto bad;
            }
            a->o.microvm = strcmp(optarg, "vm") == 0 || strcmp(optarg, "microvm") == 0;
            break;
        case CF_RESTART:
            a->o.restart = optarg;
            break;
        case CF_STOP_TIMEOUT: {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 0 || v > 86400) {
                err_set(&e, EINVAL, "--stop-timeout `%s`: expected seconds", optarg);
                goto bad;
            }
            a->o.stop_timeout = (int)v;
            break;
        }
        case CF_LOG_OPT:
            if (strncmp(optarg, "max-size=", 9) == 0) {
                a->o.log_max_size = optarg + 9;
            } else if (strncmp(optarg, "max-file=", 9) == 0) {
                a->o.log_max_file = (unsigned)strtoul(optarg + 9, NULL, 10);
            } else {
                err_set(&e, EINVAL, "--log-opt `%s`: expected max-size=SIZE or max-file=N", optarg);
                goto bad;
            }
            break;
        case CF_PULL:
            if (pull_policy_parse(optarg) < 0) {
                err_set(&e, EINVAL, "--pull `%s`: expected missing, always or never", optarg);
                goto bad;
            }
            a->pull = (enum pull_policy)pull_policy_parse(optarg);
            break;
        case CF_NETWORK:
            a->o.net.network = optarg;
            break;
        case CF_IP:
            a->o.net.ip = optarg;
            break;
        case CF_DNS:
            a->dns[a->n_dns++] = optarg;
            break;
        case CF_DNS_SEARCH:
            a->dns_search[a->n_dns_search++] = optarg;
            break;
        case CF_ADD_HOST:
            a->add_host[a->n_add_host++] = optarg;
            break;
        case CF_NETWORK_ALIAS:
            a->aliases[a->n_aliases++] = optarg;
            break;
        case CF_PUBLISH:
        case 'p':
            a->publish[a->n_publish++] = optarg;
            break;
        case CF_PUBLISH_ALL:
        case 'P':
            a->o.net.publish_all = true;
            break;
        case CF_HEALTH_CMD:
        case CF_HEALTH_INTERVAL:
        case CF_HEALTH_RETRIES:
        case CF_HEALTH_TIMEOUT:
        case CF_HEALTH_START_PERIOD:
        case CF_NO_HEALTHCHECK:
            if (health_opts_take(&a->o.health, health_flags[c - CF_HEALTH_CMD], optarg, &e) < 0)
                goto bad;
            break;
        case 'h':
            if (quiet && !a->detach)
                return -1; /* cmd_run's own help */
            printf("Usage: isola %s [OPTIONS] IMAGE [CMD...]\n"
                   "%s"
                   "Exit status: 0; %s when the container cannot be made (a name in use,\n"
                   "an unknown image), 125 for a bad flag, as Docker's.\n%s%s",
                   run ? "run -d" : "create",
                   run ? "Runs CMD (or the image's) in a new container in the background and "
                         "prints its\n64-hex ID; the container lives on after isola exits.\n"
                       : "Makes a container from IMAGE, not started (`isola start`), and "
                         "prints its ID.\n",
                   run ? "125 (127 or 126 when CMD is not found or cannot be executed)" : "1",
                   create_help, run_flags_help);
            return 0;
        default:
            return -1;
        }
    }
    if (quiet && !a->detach && !a->tty && !a->o.open_stdin)
        return -1;
    if (a->o.microvm) {
        /* the guest has no NIC yet: its container has a loopback of its own */
        if (a->o.net.network == NULL)
            a->o.net.network = "none";
        if (strcmp(a->o.net.network, "none") != 0 || a->o.net.publish_all ||
            a->publish[0] != NULL) {
            err_val(&e, ENOTSUP,
                    "--isolation=vm: --network other than none and -p are not "
                    "supported yet (docs/microvm.md)");
            goto bad;
        }
    }
    if (optind >= argc) {
        if (!quiet)
            fprintf(stderr, "isola %s: expected IMAGE (see --help)\n", run ? "run" : "create");
        return -1;
    }
    if (run_flags_finish(rf, &e) < 0)
        goto bad;
    a->o.co = (struct compose_opts){
        .hostname = a->o.co.hostname, .memory = a->o.co.memory, .nofile = a->o.co.nofile};
    {
        struct compose_opts base = rf->co;
        base.hostname = a->o.co.hostname;
        base.memory = a->o.co.memory;
        base.nofile = a->o.co.nofile;
        a->o.co = base;
    }
    a->o.co.terminal = a->tty;
    a->o.image = argv[optind];
    a->o.co.args = argv + optind + 1;
    if (a->n_binds) {
        /* binds from -v after the run flags' mounts */
        struct compose_mount *all = calloc(a->o.co.n_mounts + a->n_binds + 1, sizeof(*all));
        if (!all) {
            err_set(&e, ENOMEM, "-v");
            goto bad;
        }
        for (size_t i = 0; i < a->o.co.n_mounts; i++)
            all[i] = a->o.co.mounts[i];
        for (size_t i = 0; i < a->n_binds; i++)
            all[a->o.co.n_mounts + i] = a->binds[i];
        free(a->binds);
        a->binds = all;
        a->o.co.mounts = all;
        a->o.co.n_mounts += a->n_binds;
    }
    a->o.volumes = a->vols;
    a->o.net.dns = a->dns;
    a->o.net.dns_search = a->dns_search;
    a->o.net.add_host = a->add_host;
    a->o.net.publish = a->publish;
    a->o.net.aliases = a->aliases;
    if (!a->o.net.network)
        a->o.net.network = net_flags_default_network();
    return 1;
bad:
    if (!quiet)
        err_print(e, run ? "isola run" : "isola create", stderr);
    err_free(&e);
    return -1;
}

/* A --rm container whose start failed: removed, as Docker's; a failure
 * here is reported after the start's error. */
static void create_remove_failed(struct ctr_cli *cli, const char *id)
{
    struct err *e = NULL;

    if (ctr_remove(cli->db, &cli->env, id, true, true, &e) < 0) {
        ctr_cli_error("isola run", e);
        err_free(&e);
    }
}

/* Create (and with start, start) the container; print its id. Docker's 125
 * for an engine error. */
static int create_do(struct create_args *a, bool start, const char *prog)
{
    struct ctr_cli cli;
    struct err *e = NULL;
    _cleanup_store_ struct store *s = NULL;
    _cleanup_db_container_ struct db_container *row = NULL;
    /* Docker's CLI: `run` 125, `create` 1 (its daemon's errors; a bad flag is
     * 125 for both) */
    int rc = start ? 125 : 1;

    if (ctr_cli_open(&cli, prog) < 0)
        return rc;
    if (store_open(cli_store_root(NULL), &s, &e) < 0 ||
        pull_policy_ensure(s, a->o.image, a->pull, &e) < 0 ||
        ctr_create(cli.db, &cli.env, s, &a->o, &row, &e) < 0)
        goto out;
    if (start && ctr_start(cli.db, &cli.env, row->id, &e) < 0) {
        /* as Docker: the container stays, created, and the error is shown;
         * with --rm it goes (Docker's daemon removes it as it ends) */
        rc = ctr_cli_start_failure_code(e);
        if (a->o.autoremove)
            create_remove_failed(&cli, row->id);
        goto out;
    }
    if (start && !a->detach) {
        /* run -i/-t: attached until it ends or the detach keys (cmd_attach.c) */
        struct ctr_cli_attach_opts ao = {
            .no_stdin = !a->o.open_stdin, .stdin_once = true, .sig_proxy = true};
        rc = ctr_cli_attach(&cli, row, &ao, prog);
        goto out;
    }
    printf("%s\n", row->id);
    rc = 0;
out:
    if (e) {
        /* a taken name: Docker's words */
        if (e->code == EEXIST && strncmp(e->msg, "container name ", 15) == 0)
            fprintf(stderr,
                    "Error response from daemon: Conflict. The %s. You have to remove (or "
                    "rename) that container to be able to reuse that name.\n",
                    e->msg);
        else
            ctr_cli_error(prog, e);
        err_free(&e);
    }
    ctr_cli_close(&cli);
    return rc;
}

int ctr_cli_run_detached(int argc, char **argv)
{
    struct create_args a = {0};
    __attribute__((cleanup(run_flags_release))) struct run_flags rf = {0};
    int r;

    /* a first pass, quiet: is it -d? cmd_run reports usage errors otherwise */
    r = create_parse(argc, argv, true, &a, &rf, true);
    if (r == 0 && a.detach) {
        create_args_free(&a);
        return 0; /* run -d --help */
    }
    /* -i/-t without -d: the engine's container, attached (create_do) */
    if (r <= 0 || (!a.detach && !a.tty && !a.o.open_stdin)) {
        create_args_free(&a);
        optind = 0;
        opterr = 1;
        return CTR_CLI_NOT_DETACHED;
    }
    opterr = 1;
    r = create_do(&a, true, "isola run");
    create_args_free(&a);
    return r;
}

int cmd_create(int argc, char **argv)
{
    struct create_args a = {0};
    __attribute__((cleanup(run_flags_release))) struct run_flags rf = {0};
    int r = create_parse(argc, argv, false, &a, &rf, false);

    if (r <= 0) {
        create_args_free(&a);
        return r == 0 ? 0 : 125;
    }
    r = create_do(&a, false, "isola create");
    create_args_free(&a);
    return r;
}
