/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * isola network create|ls|inspect|rm|prune: Docker's bridge networks
 * (docs/networks.md). Exit status as Docker's CLI: 0, 1 for a failed operation
 * or wrong arguments, 125 for an unknown flag.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd_network_conn.h"
#include "cli/commands.h"
#include "engine/ctr_fg.h"
#include "engine/ctr_netgc.h"
#include "engine/db.h"
#include "engine/network.h"
#include "engine/network_dns.h"
#include "engine/vm_net.h"
#include "cli/cli_fmt.h"
#include "cli/cli_template.h"
#include "util/cleanup.h"
#include "util/js.h"

int cmd_network(int argc, char **argv);

#define EXIT_FLAG 125

static int fail(const char *verb, struct err *e)
{
    char prog[64];

    snprintf(prog, sizeof(prog), "isola network %s", verb);
    err_print(e, prog, stderr);
    return 1;
}

static int bad_flag(const char *verb)
{
    fprintf(stderr, "See 'isola network %s --help'.\n", verb);
    return EXIT_FLAG;
}

/* The run dir of the DNS servers (network_dns.h): ISOLA_RUN_DIR, as the
 * container commands'. */
static const char *run_dir(void)
{
    const char *rd = getenv("ISOLA_RUN_DIR");

    return rd && *rd ? rd : "/run/isola";
}

/* What a killed `isola vm run` left (its row holds addresses: first). */
static void vm_gc(struct db *db)
{
    _cleanup_err_ struct err *e = NULL;

    if (vm_net_gc(db, run_dir(), &e) < 0)
        fprintf(stderr, "isola network: %s\n", e->msg);
}

/* Stop the DNS servers of removed networks and what a crash left running. */
static void dns_gc(struct db *db)
{
    _cleanup_err_ struct err *e = NULL;

    if (network_dns_gc(db, run_dir(), &e) < 0)
        fprintf(stderr, "isola network: %s\n", e->msg);
}

static int open_db(const char *root, const char *verb, struct db **db)
{
    _cleanup_err_ struct err *e = NULL;

    if (db_open(cli_store_root(root), db, &e) < 0)
        return fail(verb, e);
    return 0;
}

/* Docker's `network inspect` object. */
static json_t *network_json(struct db *db, const struct db_network *n)
{
    char t[DB_TIME_LEN];
    json_t *labels = json_loads(n->labels, 0, NULL);
    json_t *ctrs = json_object();
    json_t *cfg = json_pack("{s:s, s:s}", "Subnet", n->subnet, "Gateway", n->gateway);
    struct db_network_ip *ips = NULL;
    size_t nips = 0;
    const char *slash = strchr(n->subnet, '/');

    if (*n->ip_range)
        json_object_set_new(cfg, "IPRange", json_string(n->ip_range));
    if (db_network_ips(db, n, &ips, &nips, NULL) == 0) {
        for (size_t i = 0; i < nips; i++) {
            _cleanup_free_ char *a = NULL;
            if (asprintf(&a, "%s%s", ips[i].addr, slash ? slash : "") < 0)
                continue;
            json_object_set_new(ctrs, ips[i].container_id,
                                json_pack("{s:s, s:s, s:s}", "Name", ips[i].container_name,
                                          "IPv4Address", a, "IPv6Address", ""));
        }
        db_network_ips_free(ips, nips);
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:{s:s, s:{}, s:[o]}, s:b, s:b, s:b, s:o, "
                     "s:{s:s}, s:o}",
                     "Name", n->name, "Id", n->id, "Created", db_time_format(n->created_ns, t),
                     "Scope", "local", "Driver", "bridge", "EnableIPv6", 0, "IPAM", "Driver",
                     "default", "Options", "Config", cfg, "Internal", n->internal, "Attachable", 0,
                     "Ingress", 0, "Containers", ctrs, "Options", "com.docker.network.bridge.name",
                     n->bridge, "Labels", labels ? labels : json_object());
}

/* A flat object for `ls --format`. */
static json_t *network_row(const struct db_network *n)
{
    char t[DB_TIME_LEN], id[13];
    json_t *labels = json_loads(n->labels, 0, NULL);

    snprintf(id, sizeof(id), "%.12s", n->id);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "ID", id, "Name", n->name,
                     "Driver", "bridge", "Scope", "local", "IPv6", "false", "Internal",
                     n->internal ? "true" : "false", "CreatedAt", db_time_format(n->created_ns, t),
                     "Subnet", n->subnet, "LabelsObj", labels ? labels : json_object());
}

static int network_create_cmd(int argc, char **argv, const char *root)
{
    static const struct option opts[] = {
        {"subnet", required_argument, NULL, 's'},   {"gateway", required_argument, NULL, 'g'},
        {"ip-range", required_argument, NULL, 'r'}, {"internal", no_argument, NULL, 'i'},
        {"label", required_argument, NULL, 'l'},    {"driver", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
    _cleanup_json_ json_t *labels = json_object();
    _cleanup_free_ char *ls = NULL;
    _cleanup_err_ struct err *e = NULL;
    _cleanup_db_network_ struct db_network *n = NULL;
    struct network_spec s = {0};
    struct db *db = NULL;
    int c, r;

    optind = 1;
    while ((c = getopt_long(argc, argv, "+d:h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            s.subnet = optarg;
            break;
        case 'g':
            s.gateway = optarg;
            break;
        case 'r':
            s.ip_range = optarg;
            break;
        case 'i':
            s.internal = true;
            break;
        case 'l':
            if (cli_kv_add(labels, optarg) < 0) {
                fprintf(stderr, "isola network create: invalid --label `%s`: expected KEY=VALUE\n",
                        optarg);
                return EXIT_FLAG;
            }
            break;
        case 'd':
            if (strcmp(optarg, "bridge") != 0) {
                fprintf(stderr, "isola network create: driver \"%s\": only \"bridge\"\n", optarg);
                return 1;
            }
            break;
        case 'h':
            printf("Usage: isola network create [OPTIONS] NETWORK\n\n"
                   "Create a bridge network: a bridge (isola-<9 hex digits of the id>) with\n"
                   "the gateway address, and isola's nftables rules for it (masquerade of\n"
                   "what leaves for another interface, forwarding).\n\n"
                   "Options:\n"
                   "  -d, --driver bridge  the only driver\n"
                   "      --subnet CIDR    IPv4 subnet (default: the first free one of\n"
                   "                       172.18-31.0.0/16, then 192.168.0-240.0/20)\n"
                   "      --gateway IP     the bridge's address (default: the first host\n"
                   "                       address of the subnet)\n"
                   "      --ip-range CIDR  give container addresses from this part only\n"
                   "      --internal       no masquerade, no traffic to or from elsewhere\n"
                   "      --label K=V      set metadata on the network\n"
                   "      --root DIR       state root (default $ISOLA_ROOT or /var/lib/isola)\n");
            return 0;
        default:
            return bad_flag("create");
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "isola network create: requires exactly 1 argument (NETWORK)\n");
        return 1;
    }
    if ((s.gateway || s.ip_range) && !s.subnet) {
        fprintf(stderr, "isola network create: --gateway and --ip-range need --subnet\n");
        return 1;
    }
    s.name = argv[optind];
    ls = json_dumps(labels, JSON_COMPACT | JSON_SORT_KEYS);
    s.labels = ls;
    if (open_db(root, "create", &db) != 0)
        return 1;
    r = network_create(db, &s, &n, &e);
    db_close(db);
    if (r < 0)
        return fail("create", e);
    printf("%s\n", n->id);
    return 0;
}

static int network_inspect_cmd(int argc, char **argv, const char *root)
{
    static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    _cleanup_json_ json_t *out = json_array();
    _cleanup_free_ char *s = NULL;
    const char *format = NULL;
    struct db *db = NULL;
    int c, rc = 0;

    optind = 1;
    while ((c = getopt_long(argc, argv, "+f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            format = strcmp(optarg, "json") == 0 ? NULL : optarg;
            break;
        case 'h':
            printf("Usage: isola network inspect [-f FORMAT] NETWORK [NETWORK...]\n\n"
                   "Print networks as a JSON array with Docker's fields (Name, Id, Created,\n"
                   "Scope, Driver, IPAM{Config[{Subnet, Gateway, IPRange}]}, Internal,\n"
                   "Containers, Options, Labels), or each through a template:\n"
                   "  -f, --format F    json, or {{.Name}} {{.Id}} {{.Driver}} {{.Internal}}\n"
                   "                    {{.IPAM}} {{.Labels}} {{.Label \"KEY\"}} {{json .}}\n");
            return 0;
        default:
            return bad_flag("inspect");
        }
    }
    if (argc - optind < 1) {
        fprintf(stderr, "isola network inspect: requires at least 1 argument\n");
        return 1;
    }
    if (open_db(root, "inspect", &db) != 0)
        return 1;
    for (int i = optind; i < argc; i++) {
        _cleanup_err_ struct err *e = NULL;
        _cleanup_db_network_ struct db_network *n = NULL;
        int r = strcmp(argv[i], NETWORK_DEFAULT) == 0 ? network_default(db, &n, &e)
                                                      : db_network_get(db, argv[i], &n, &e);
        if (r < 0) {
            fail("inspect", e);
            rc = 1;
            continue;
        }
        json_t *nj = network_json(db, n);
        if (format != NULL && cli_template_print("isola network", format, nj) < 0)
            rc = 1;
        json_array_append_new(out, nj);
    }
    db_close(db);
    if (format != NULL)
        return rc;
    s = json_dumps(out, JSON_INDENT(4));
    printf("%s\n", s ? s : "[]");
    return rc;
}

struct ls_filter {
    const char *name, *id, *label, *type;
};

static bool label_match(const struct db_network *n, const char *f)
{
    _cleanup_json_ json_t *labels = json_loads(n->labels, 0, NULL);
    const char *eq = strchr(f, '=');
    _cleanup_free_ char *k = eq ? strndup(f, (size_t)(eq - f)) : strdup(f);
    json_t *v = k ? json_object_get(labels, k) : NULL;

    return v && (eq == NULL || strcmp(json_string_value(v) ?: "", eq + 1) == 0);
}

static bool ls_match(const struct ls_filter *f, const struct db_network *n)
{
    bool builtin = strcmp(n->name, NETWORK_DEFAULT) == 0;

    if (f->name && strstr(n->name, f->name) == NULL)
        return false;
    if (f->id && strncmp(n->id, f->id, strlen(f->id)) != 0)
        return false;
    if (f->label && !label_match(n, f->label))
        return false;
    if (f->type && (strcmp(f->type, "builtin") == 0) != builtin)
        return false;
    return true;
}

static int network_ls_cmd(int argc, char **argv, const char *root)
{
    static const struct option opts[] = {
        {"quiet", no_argument, NULL, 'q'},        {"filter", required_argument, NULL, 'f'},
        {"format", required_argument, NULL, 'F'}, {"no-trunc", no_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    _cleanup_err_ struct err *e = NULL;
    struct ls_filter f = {0};
    struct db_network **list = NULL;
    const char *format = NULL;
    struct db *db = NULL;
    bool quiet = false, notrunc = false;
    size_t n = 0;
    int c, rc = 0;

    optind = 1;
    while ((c = getopt_long(argc, argv, "+qf:h", opts, NULL)) != -1) {
        switch (c) {
        case 'q':
            quiet = true;
            break;
        case 'T':
            notrunc = true;
            break;
        case 'f':
            if (strncmp(optarg, "name=", 5) == 0)
                f.name = optarg + 5;
            else if (strncmp(optarg, "id=", 3) == 0)
                f.id = optarg + 3;
            else if (strncmp(optarg, "label=", 6) == 0)
                f.label = optarg + 6;
            else if (strcmp(optarg, "type=custom") == 0 || strcmp(optarg, "type=builtin") == 0)
                f.type = optarg + 5;
            else if (strcmp(optarg, "driver=bridge") == 0 || strcmp(optarg, "scope=local") == 0)
                ;
            else {
                fprintf(stderr,
                        "isola network ls: invalid filter `%s` (name=, id=, label=KEY[=VALUE], "
                        "type=custom|builtin, driver=bridge, scope=local)\n",
                        optarg);
                return 1;
            }
            break;
        case 'F':
            format = optarg;
            break;
        case 'h':
            printf("Usage: isola network ls [OPTIONS]\n\n"
                   "List networks (the default network \"bridge\" is created on first use).\n\n"
                   "Options:\n"
                   "  -f, --filter F    name=SUBSTRING, id=PREFIX, label=KEY[=VALUE],\n"
                   "                    type=custom|builtin, driver=bridge, scope=local\n"
                   "      --format F    json (one object per line), table, or a Go template:\n"
                   "                    {{.ID}} {{.Name}} {{.Driver}} {{.Scope}} {{.Internal}}\n"
                   "                    {{.Subnet}} {{.CreatedAt}} {{.Labels}} {{.Label \"K\"}}\n"
                   "      --no-trunc    full ids\n"
                   "  -q, --quiet       only ids\n");
            return 0;
        default:
            return bad_flag("ls");
        }
    }
    if (argc - optind > 0) {
        fprintf(stderr, "isola network ls: accepts no arguments\n");
        return 1;
    }
    if (open_db(root, "ls", &db) != 0)
        return 1;
    {
        _cleanup_db_network_ struct db_network *dflt = NULL;
        if (network_default(db, &dflt, &e) < 0) {
            db_close(db);
            return fail("ls", e);
        }
    }
    if (db_network_list(db, &list, &n, &e) < 0) {
        db_close(db);
        return fail("ls", e);
    }
    static const struct cli_header headers[] = {{"ID", "NETWORK ID"}, {NULL, NULL}};
    struct cli_format cf;
    cli_format_init(&cf, format, headers);
    bool table = cf.kind == CLI_FORMAT_DEFAULT;
    if (table && !quiet)
        printf("%-14s%-20s%-10s%s\n", "NETWORK ID", "NAME", "DRIVER", "SCOPE");
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (list[i]->state != DB_NETWORK_READY || !ls_match(&f, list[i]))
            continue;
        _cleanup_json_ json_t *row = network_row(list[i]);
        if (notrunc)
            json_object_set_new(row, "ID", json_string(list[i]->id));
        const char *id = json_string_value(json_object_get(row, "ID"));
        if (quiet)
            printf("%s\n", id);
        else if (table)
            printf("%-14s%-20s%-10s%s\n", id, list[i]->name, "bridge", "local");
        else if (cli_format_row(&cf, "isola network ls", row) < 0)
            rc = 125;
    }
    if (!quiet && rc == 0 && cli_format_end(&cf, "isola network ls") < 0)
        rc = 125;
    cli_format_free(&cf);
    db_network_list_free(list, n);
    db_close(db);
    return rc;
}

static int network_rm_cmd(int argc, char **argv, const char *root)
{
    static const struct option opts[] = {
        {"force", no_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    struct db *db = NULL;
    bool force = false;
    int c, rc = 0;

    optind = 1;
    while ((c = getopt_long(argc, argv, "+fh", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            force = true;
            break;
        case 'h':
            printf("Usage: isola network rm [-f] NETWORK [NETWORK...]\n\n"
                   "Remove networks: their bridge and nftables rules. A network a container\n"
                   "uses is never removed; -f only makes a missing network no error.\n");
            return 0;
        default:
            return bad_flag("rm");
        }
    }
    if (argc - optind < 1) {
        fprintf(stderr, "isola network rm: requires at least 1 argument\n");
        return 1;
    }
    if (open_db(root, "rm", &db) != 0)
        return 1;
    vm_gc(db);
    for (int i = optind; i < argc; i++) {
        _cleanup_err_ struct err *e = NULL;
        if (network_remove(db, argv[i], &e) < 0) {
            if (!(force && e->code == ENOENT)) {
                fail("rm", e);
                rc = 1;
            }
            continue;
        }
        printf("%s\n", argv[i]);
    }
    dns_gc(db);
    db_close(db);
    return rc;
}

/* What killed commands left: foreground runs' rows and their networks, and
 * the veths, published ports, netns files nothing owns (ctr_netgc.h). */
static void network_prune_collect(struct db *db, const char *root)
{
    const char *rd = getenv("ISOLA_RUN_DIR");
    struct ctr_env env = {.state_root = cli_store_root(root),
                          .run_dir = rd && *rd ? rd : "/run/isola"};

    ctr_fg_collect(db, &env);
    ctr_netgc_collect(db, env.run_dir);
}

static int network_prune_cmd(int argc, char **argv, const char *root)
{
    static const struct option opts[] = {
        {"force", no_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    _cleanup_err_ struct err *e = NULL;
    _cleanup_strv_ char **removed = NULL;
    struct db *db = NULL;
    bool force = false;
    int c, r;

    optind = 1;
    while ((c = getopt_long(argc, argv, "+fh", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            force = true;
            break;
        case 'h':
            printf("Usage: isola network prune [-f]\n\n"
                   "Remove every network no container uses (not the default network), and\n"
                   "finish what a killed command left half created or half removed.\n\n"
                   "Options:\n"
                   "  -f, --force       do not ask for confirmation\n");
            return 0;
        default:
            return bad_flag("prune");
        }
    }
    if (argc - optind > 0) {
        fprintf(stderr, "isola network prune: accepts no arguments\n");
        return 1;
    }
    if (!force) {
        char answer[16] = "";
        printf("WARNING! This will remove all custom networks not used by at least one "
               "container.\nAre you sure you want to continue? [y/N] ");
        fflush(stdout);
        if (fgets(answer, sizeof(answer), stdin) == NULL ||
            (strcmp(answer, "y\n") != 0 && strcmp(answer, "Y\n") != 0 &&
             strcmp(answer, "yes\n") != 0))
            return 0;
    }
    if (open_db(root, "prune", &db) != 0)
        return 1;
    vm_gc(db);
    network_prune_collect(db, root);
    r = network_prune(db, &removed, &e);
    dns_gc(db);
    db_close(db);
    if (r < 0)
        return fail("prune", e);
    if (removed && removed[0]) {
        printf("Deleted Networks:\n");
        for (size_t i = 0; removed[i]; i++)
            printf("%s\n", removed[i]);
    }
    return 0;
}

static const struct {
    const char *name, *alias;
    int (*fn)(int argc, char **argv, const char *root);
    const char *summary;
} verbs[] = {
    {"connect", NULL, network_connect_cmd, "connect a container to a network"},
    {"create", NULL, network_create_cmd, "create a network"},
    {"disconnect", NULL, network_disconnect_cmd, "disconnect a container from a network"},
    {"inspect", NULL, network_inspect_cmd, "show networks as JSON"},
    {"ls", "list", network_ls_cmd, "list networks"},
    {"prune", NULL, network_prune_cmd, "remove unused networks"},
    {"rm", "remove", network_rm_cmd, "remove networks"},
};

static void usage(FILE *fp)
{
    fprintf(fp, "Usage: isola network [--root DIR] COMMAND\n\nManage networks "
                "(state in DIR, default $ISOLA_ROOT or /var/lib/isola; bridges and\n"
                "nftables rules in the network namespace isola runs in).\n\nCommands:\n");
    for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
        fprintf(fp, "  %-10s  %s\n", verbs[i].name, verbs[i].summary);
    fprintf(fp, "\nRun `isola network COMMAND --help` for a command's options.\n");
}

int cmd_network(int argc, char **argv)
{
    const char *root = NULL;
    int i = 1;

    /* --root DIR / --root=DIR before or after the verb */
    while (i < argc && strncmp(argv[i], "--root", 6) == 0) {
        if (argv[i][6] == '=') {
            root = argv[i] + 7;
            i++;
        } else if (argv[i][6] == '\0' && i + 1 < argc) {
            root = argv[i + 1];
            i += 2;
        } else {
            break;
        }
    }
    if (i >= argc || strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t k = 0; k < ARRAY_SIZE(verbs); k++) {
        if (strcmp(argv[i], verbs[k].name) != 0 &&
            (verbs[k].alias == NULL || strcmp(argv[i], verbs[k].alias) != 0))
            continue;
        int n = argc - i, m = 0;
        _cleanup_free_ char **args = calloc((size_t)n + 1, sizeof(char *));
        if (args == NULL)
            return 1;
        for (int j = i; j < argc; j++) {
            if (strcmp(argv[j], "--root") == 0 && j + 1 < argc) {
                root = argv[++j];
                continue;
            }
            if (strncmp(argv[j], "--root=", 7) == 0) {
                root = argv[j] + 7;
                continue;
            }
            if (strcmp(argv[j], "--") == 0) {
                while (j < argc)
                    args[m++] = argv[j++];
                break;
            }
            args[m++] = argv[j];
        }
        return verbs[k].fn(m, args, root);
    }
    fprintf(stderr, "isola network: unknown command `%s` (see `isola network --help`)\n", argv[i]);
    return 1;
}
