/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * isola volume create|ls|inspect|rm|prune: Docker's named volumes
 * (docs/volumes.md). Exit status as Docker's CLI: 0, 1 for a failed operation or
 * wrong arguments, 125 for an unknown flag.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "engine/db.h"
#include "engine/volume.h"
#include "cli/cli_fmt.h"
#include "cli/cli_template.h"
#include "util/cleanup.h"
#include "util/js.h"

int cmd_volume(int argc, char **argv);

#define EXIT_FLAG 125

static int fail(const char *verb, struct err *e)
{
    char prog[64];

    snprintf(prog, sizeof(prog), "isola volume %s", verb);
    err_print(e, prog, stderr);
    return 1;
}

static int bad_flag(const char *verb)
{
    fprintf(stderr, "See 'isola volume %s --help'.\n", verb);
    return EXIT_FLAG;
}

static json_t *volume_json(const struct db_volume *v)
{
    char t[DB_TIME_LEN];
    json_t *labels = json_loads(v->labels, 0, NULL);
    json_t *opts = json_loads(v->options, 0, NULL);

    /* Docker prints null for no options and no labels ({} when set). */
    if (labels != NULL && json_object_size(labels) == 0) {
        json_decref(labels);
        labels = json_null();
    }
    if (opts != NULL && json_object_size(opts) == 0) {
        json_decref(opts);
        opts = json_null();
    }
    /* Docker's local driver: RFC 3339 in whole seconds */
    return json_pack("{s:s, s:s, s:o, s:s, s:s, s:o, s:s}", "CreatedAt",
                     db_time_format(v->created_ns - v->created_ns % 1000000000, t), "Driver",
                     v->driver, "Labels", labels ? labels : json_null(), "Mountpoint",
                     v->mountpoint, "Name", v->name, "Options", opts ? opts : json_null(), "Scope",
                     "local");
}

/* Docker's units.HumanSize: decimal units, 4 significant digits. */
static void human_size(uint64_t n, char *buf, size_t len)
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
    double v = (double)n;
    size_t u = 0;

    while (v >= 1000 && u + 1 < ARRAY_SIZE(units)) {
        v /= 1000;
        u++;
    }
    snprintf(buf, len, "%.4g%s", v, units[u]);
}

static int volume_create_cmd(int argc, char **argv, const char *root_opt)
{
    static const struct option opts[] = {
        {"driver", required_argument, NULL, 'd'}, {"opt", required_argument, NULL, 'o'},
        {"label", required_argument, NULL, 'l'},  {"name", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    _cleanup_json_ json_t *o = json_object(), *l = json_object();
    _cleanup_free_ char *os = NULL, *ls = NULL;
    _cleanup_err_ struct err *e = NULL;
    _cleanup_db_volume_ struct db_volume *v = NULL;
    struct db *db = NULL;
    const char *driver = "local", *name = NULL;
    int c, r;

    optind = 1;
    while ((c = getopt_long(argc, argv, "+d:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            driver = optarg;
            break;
        case 'o':
        case 'l':
            if (cli_kv_add(c == 'o' ? o : l, optarg) < 0) {
                fprintf(stderr, "isola volume create: invalid %s `%s`: expected KEY=VALUE\n",
                        c == 'o' ? "--opt" : "--label", optarg);
                return EXIT_FLAG;
            }
            break;
        case 'n':
            name = optarg;
            break;
        case 'h':
            printf("Usage: isola volume create [OPTIONS] [VOLUME]\n\n"
                   "Create a volume (no name: a 64-hex-digit name).\n\n"
                   "Options:\n"
                   "  -d, --driver NAME   volume driver (only \"local\")\n"
                   "      --label K=V     set metadata on the volume\n"
                   "  -o, --opt K=V       driver options: type=tmpfs|none|nfs|..., device=,\n"
                   "                      o= (mount options; o=bind with type=none binds device)\n"
                   "      --root DIR      state root (default $ISOLA_ROOT or /var/lib/isola)\n");
            return 0;
        default:
            return bad_flag("create");
        }
    }
    if (argc - optind > 1) {
        fprintf(stderr, "isola volume create: at most one VOLUME name, got %d\n", argc - optind);
        return 1;
    }
    if (argc - optind == 1) {
        if (name != NULL && strcmp(name, argv[optind]) != 0) {
            fprintf(stderr, "isola volume create: conflicting options: either specify --name or "
                            "provide positional arg, not both\n");
            return 1;
        }
        name = argv[optind];
    }
    os = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    ls = json_dumps(l, JSON_COMPACT | JSON_SORT_KEYS);
    struct volume_spec spec = {.name = name, .driver = driver, .options = os, .labels = ls};
    if (db_open(cli_store_root(root_opt), &db, &e) < 0)
        return fail("create", e);
    r = volume_create(db, cli_store_root(root_opt), &spec, &v, NULL, &e);
    db_close(db);
    if (r < 0)
        return fail("create", e);
    printf("%s\n", v->name);
    return 0;
}

static int volume_inspect_cmd(int argc, char **argv, const char *root_opt)
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
            printf(
                "Usage: isola volume inspect [-f FORMAT] VOLUME [VOLUME...]\n\n"
                "Print volumes as a JSON array, with Docker's fields (CreatedAt, Driver,\n"
                "Labels, Mountpoint, Name, Options, Scope), or each through a template:\n"
                "  -f, --format F    json, or {{.Name}} {{.Driver}} {{.Mountpoint}} {{.Scope}}\n"
                "                    {{.CreatedAt}} {{.Labels}} {{.Label \"KEY\"}} {{json .}}\n");
            return 0;
        default:
            return bad_flag("inspect");
        }
    }
    if (argc - optind < 1) {
        fprintf(stderr, "isola volume inspect: requires at least 1 argument\n");
        return 1;
    }
    {
        _cleanup_err_ struct err *e = NULL;
        if (db_open(cli_store_root(root_opt), &db, &e) < 0)
            return fail("inspect", e);
    }
    for (int i = optind; i < argc; i++) {
        _cleanup_err_ struct err *e = NULL;
        _cleanup_db_volume_ struct db_volume *v = NULL;
        if (db_volume_get(db, argv[i], &v, &e) < 0) {
            fail("inspect", e);
            rc = 1;
            continue;
        }
        json_t *vj = volume_json(v);
        if (format != NULL && cli_template_print("isola volume", format, vj) < 0)
            rc = 1;
        json_array_append_new(out, vj);
    }
    db_close(db);
    if (format != NULL)
        return rc;
    s = json_dumps(out, JSON_INDENT(4));
    printf("%s\n", s ? s : "[]");
    return rc;
}

struct ls_filter {
    char **names, **labels;
    size_t nn, nl;
    int dangling; /* -1: any, 0: in use, 1: unused */
};

static void ls_filter_free(struct ls_filter *f)
{
    strv_free(f->names);
    strv_free(f->labels);
}
#define _cleanup_ls_filter_ __attribute__((cleanup(ls_filter_free)))

static int strv_add(char ***v, size_t *n, const char *s)
{
    char **nv = realloc(*v, (*n + 2) * sizeof(char *));

    if (nv == NULL)
        return -1;
    *v = nv;
    if ((nv[*n] = strdup(s)) == NULL)
        return -1;
    nv[++*n] = NULL;
    return 0;
}

/* name=, label=, label!=, dangling=true|false (Docker's volume filters;
 * "driver=local" too, the only driver). */
static int filter_add(struct ls_filter *f, const char *arg, const char *verb)
{
    if (strncmp(arg, "name=", 5) == 0)
        return strv_add(&f->names, &f->nn, arg + 5);
    if (strncmp(arg, "label=", 6) == 0)
        return strv_add(&f->labels, &f->nl, arg + 6);
    if (strncmp(arg, "label!=", 7) == 0) {
        _cleanup_free_ char *neg = NULL;
        if (asprintf(&neg, "!%s", arg + 7) < 0)
            return -1;
        return strv_add(&f->labels, &f->nl, neg);
    }
    if (strcmp(arg, "dangling=true") == 0 || strcmp(arg, "dangling=1") == 0) {
        f->dangling = 1;
        return 0;
    }
    if (strcmp(arg, "dangling=false") == 0 || strcmp(arg, "dangling=0") == 0) {
        f->dangling = 0;
        return 0;
    }
    if (strcmp(arg, "driver=local") == 0)
        return 0;
    fprintf(stderr,
            "isola volume %s: invalid filter `%s` (name=, label=, label!=, "
            "dangling=true|false, driver=local)\n",
            verb, arg);
    return -2;
}

static bool label_match(json_t *labels, char *const *filters)
{
    for (size_t i = 0; filters && filters[i]; i++) {
        const char *f = filters[i];
        bool neg = f[0] == '!';
        if (neg)
            f++;
        const char *eq = strchr(f, '=');
        _cleanup_free_ char *k = eq ? strndup(f, (size_t)(eq - f)) : strdup(f);
        json_t *v = k ? json_object_get(labels, k) : NULL;
        bool hit = v && (eq == NULL || strcmp(json_string_value(v) ?: "", eq + 1) == 0);
        if (hit == neg)
            return false;
    }
    return true;
}

static int volume_ls_cmd(int argc, char **argv, const char *root_opt)
{
    static const struct option opts[] = {{"quiet", no_argument, NULL, 'q'},
                                         {"filter", required_argument, NULL, 'f'},
                                         {"format", required_argument, NULL, 'F'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    _cleanup_ls_filter_ struct ls_filter f = {.dangling = -1};
    _cleanup_err_ struct err *e = NULL;
    struct db_volume **list = NULL;
    const char *format = NULL;
    struct db *db = NULL;
    bool quiet = false;
    size_t n = 0;
    int c, rc = 0;

    optind = 1;
    while ((c = getopt_long(argc, argv, "+qf:h", opts, NULL)) != -1) {
        switch (c) {
        case 'q':
            quiet = true;
            break;
        case 'f': {
            int r = filter_add(&f, optarg, "ls");
            if (r == -2)
                return 1;
            if (r < 0)
                return 1;
            break;
        }
        case 'F':
            format = optarg;
            break;
        case 'h':
            printf("Usage: isola volume ls [OPTIONS]\n\n"
                   "List volumes.\n\n"
                   "Options:\n"
                   "  -f, --filter F    name=SUBSTRING, label=KEY[=VALUE], label!=KEY[=VALUE],\n"
                   "                    dangling=true|false (not used by any container)\n"
                   "      --format F    json (one object per line), table, or a Go template:\n"
                   "                    {{.Name}} {{.Driver}} {{.Mountpoint}} {{.Scope}}\n"
                   "                    {{.CreatedAt}} {{.Labels}} {{.Label \"KEY\"}} {{json .}}\n"
                   "  -q, --quiet       only names\n");
            return 0;
        default:
            return bad_flag("ls");
        }
    }
    if (argc - optind > 0) {
        fprintf(stderr, "isola volume ls: accepts no arguments\n");
        return 1;
    }
    if (db_open(cli_store_root(root_opt), &db, &e) < 0 || db_volume_list(db, &list, &n, &e) < 0) {
        if (db)
            db_close(db);
        return fail("ls", e);
    }
    static const struct cli_header headers[] = {{"Name", "VOLUME NAME"}, {NULL, NULL}};
    struct cli_format cf;
    cli_format_init(&cf, format, headers);
    bool table = cf.kind == CLI_FORMAT_DEFAULT;
    if (table && !quiet)
        printf("%-10s%s\n", "DRIVER", "VOLUME NAME");
    for (size_t i = 0; i < n && rc == 0; i++) {
        _cleanup_json_ json_t *vj = volume_json(list[i]);
        json_t *labels = json_object_get(vj, "Labels");
        bool name_ok = f.nn == 0;
        for (size_t k = 0; k < f.nn; k++)
            name_ok = name_ok || strstr(list[i]->name, f.names[k]) != NULL;
        if (!name_ok || !label_match(labels, f.labels))
            continue;
        if (f.dangling >= 0) {
            _cleanup_free_ char *users = NULL;
            if (volume_users(db, list[i]->name, &users, &e) < 0) {
                rc = fail("ls", e);
                break;
            }
            if ((*users == '\0') != (f.dangling == 1))
                continue;
        }
        if (quiet)
            printf("%s\n", list[i]->name);
        else if (table)
            printf("%-10s%s\n", list[i]->driver, list[i]->name);
        else if (cli_format_row(&cf, "isola volume ls", vj) < 0)
            rc = 125;
    }
    if (!quiet && rc == 0 && cli_format_end(&cf, "isola volume ls") < 0)
        rc = 125;
    cli_format_free(&cf);
    db_volume_list_free(list, n);
    db_close(db);
    return rc;
}

static int volume_rm_cmd(int argc, char **argv, const char *root_opt)
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
            printf("Usage: isola volume rm [-f] VOLUME [VOLUME...]\n\n"
                   "Remove volumes. A volume in use by a container is never removed;\n"
                   "-f only makes a missing volume no error.\n");
            return 0;
        default:
            return bad_flag("rm");
        }
    }
    if (argc - optind < 1) {
        fprintf(stderr, "isola volume rm: requires at least 1 argument\n");
        return 1;
    }
    {
        _cleanup_err_ struct err *e = NULL;
        if (db_open(cli_store_root(root_opt), &db, &e) < 0)
            return fail("rm", e);
    }
    for (int i = optind; i < argc; i++) {
        _cleanup_err_ struct err *e = NULL;
        if (volume_remove(db, cli_store_root(root_opt), argv[i], force, &e) < 0) {
            fail("rm", e);
            rc = 1;
            continue;
        }
        printf("%s\n", argv[i]);
    }
    db_close(db);
    return rc;
}

static int volume_prune_cmd(int argc, char **argv, const char *root_opt)
{
    static const struct option opts[] = {{"force", no_argument, NULL, 'f'},
                                         {"all", no_argument, NULL, 'a'},
                                         {"filter", required_argument, NULL, 'F'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    _cleanup_ls_filter_ struct ls_filter f = {.dangling = -1};
    _cleanup_err_ struct err *e = NULL;
    _cleanup_strv_ char **removed = NULL;
    struct db *db = NULL;
    bool force = false, all = false;
    uint64_t reclaimed = 0;
    char size[32];
    int c, r;

    optind = 1;
    while ((c = getopt_long(argc, argv, "+fah", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            force = true;
            break;
        case 'a':
            all = true;
            break;
        case 'F':
            if (strncmp(optarg, "label", 5) != 0 && strncmp(optarg, "all=", 4) != 0) {
                fprintf(stderr,
                        "isola volume prune: invalid filter `%s` (label=, label!=, "
                        "all=true)\n",
                        optarg);
                return 1;
            }
            if (strcmp(optarg, "all=true") == 0 || strcmp(optarg, "all=1") == 0) {
                all = true;
                break;
            }
            if (filter_add(&f, optarg, "prune") < 0)
                return 1;
            break;
        case 'h':
            printf("Usage: isola volume prune [OPTIONS]\n\n"
                   "Remove the volumes no container uses: only anonymous ones unless\n"
                   "-a (Docker 23 and later).\n\n"
                   "Options:\n"
                   "  -a, --all         named volumes too\n"
                   "      --filter F    label=KEY[=VALUE], label!=KEY[=VALUE], all=true\n"
                   "  -f, --force       do not ask for confirmation\n");
            return 0;
        default:
            return bad_flag("prune");
        }
    }
    if (argc - optind > 0) {
        fprintf(stderr, "isola volume prune: accepts no arguments\n");
        return 1;
    }
    if (!force) {
        char answer[16] = "";
        printf("WARNING! This will remove %s.\nAre you sure you want to continue? [y/N] ",
               all ? "all local volumes not used by at least one container"
                   : "anonymous local volumes not used by at least one container");
        fflush(stdout);
        if (fgets(answer, sizeof(answer), stdin) == NULL ||
            (strcmp(answer, "y\n") != 0 && strcmp(answer, "Y\n") != 0 &&
             strcmp(answer, "yes\n") != 0))
            return 0;
    }
    struct volume_prune_filter pf = {.all = all, .labels = (const char *const *)f.labels};
    if (db_open(cli_store_root(root_opt), &db, &e) < 0)
        return fail("prune", e);
    r = volume_prune(db, cli_store_root(root_opt), &pf, &removed, &reclaimed, &e);
    db_close(db);
    if (r < 0)
        return fail("prune", e);
    if (removed && removed[0]) {
        printf("Deleted Volumes:\n");
        for (size_t i = 0; removed[i]; i++)
            printf("%s\n", removed[i]);
        printf("\n");
    }
    human_size(reclaimed, size, sizeof(size));
    printf("Total reclaimed space: %s\n", size);
    return 0;
}

static const struct {
    const char *name, *alias;
    int (*fn)(int argc, char **argv, const char *root);
    const char *summary;
} verbs[] = {
    {"create", NULL, volume_create_cmd, "create a volume"},
    {"inspect", NULL, volume_inspect_cmd, "show volumes as JSON"},
    {"ls", "list", volume_ls_cmd, "list volumes"},
    {"prune", NULL, volume_prune_cmd, "remove unused (anonymous) volumes"},
    {"rm", "remove", volume_rm_cmd, "remove volumes"},
};

static void usage(FILE *fp)
{
    fprintf(fp, "Usage: isola volume [--root DIR] COMMAND\n\nManage volumes "
                "(state in DIR, default $ISOLA_ROOT or /var/lib/isola).\n\nCommands:\n");
    for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
        fprintf(fp, "  %-8s  %s\n", verbs[i].name, verbs[i].summary);
    fprintf(fp, "\nRun `isola volume COMMAND --help` for a command's options.\n");
}

int cmd_volume(int argc, char **argv)
{
    const char *root = NULL;
    int i = 1;

    /* --root DIR / --root=DIR before or right after the verb */
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
    if (i >= argc) { /* as docker: the help, exit 0 */
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t k = 0; k < ARRAY_SIZE(verbs); k++) {
        if (strcmp(argv[i], verbs[k].name) != 0 &&
            (verbs[k].alias == NULL || strcmp(argv[i], verbs[k].alias) != 0))
            continue;
        /* pull a --root given after the verb out of the verb's arguments */
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
            if (strcmp(argv[j], "--") == 0) { /* keep the rest as is */
                while (j < argc)
                    args[m++] = argv[j++];
                break;
            }
            args[m++] = argv[j];
        }
        return verbs[k].fn(m, args, root);
    }
    fprintf(stderr, "isola volume: unknown command `%s` (see `isola volume --help`)\n", argv[i]);
    return 1;
}
