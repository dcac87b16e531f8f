/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Managed VMs (docs/vm.md, "Managed VMs"): `isola vm run -d --name NAME ...`,
 * `vm ls`, `stop`, `kill`, `rm`, `logs`, `console`, `inspect`, `pause`,
 * `resume`. The engine does the work (src/engine/vmw.c, container.c); this
 * file parses and prints.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cmd_vm.h"
#include "cli/commands.h"
#include "cli/ctr_cli.h"
#include "engine/vmw.h"
#include "runtime/container.h"
#include "util/cleanup.h"
#include "util/js.h"
#include "vm/snapshot.h"

static int vmm_fail(const char *prog, struct err *e, int code)
{
    fprintf(stderr, "%s: ", prog);
    err_print(e, NULL, stderr);
    err_free(&e);
    return code;
}

/* isola-vmm: $ISOLA_VMM, else next to isola (as `vm run` finds it). */
static int vmm_exe(char *buf, size_t len, struct err **err)
{
    const char *env = getenv("ISOLA_VMM");
    char self[PATH_MAX];

    if (env && *env) {
        snprintf(buf, len, "%s", env);
    } else {
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n <= 0)
            return err_sys(err, "readlink /proc/self/exe");
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash)
            *slash = '\0';
        if (snprintf(buf, len, "%s/isola-vmm", self) >= (int)len)
            return err_val(err, ENAMETOOLONG, "%s", "the VM monitor's path is too long");
    }
    if (access(buf, X_OK) < 0)
        return err_sys(err, "the VM monitor `%s` (set ISOLA_VMM)", buf);
    return 0;
}

/* Attach this terminal to the VM's serial console until the detach keys or
 * the VM's end; the exit status (0 when detached). */
static int vm_console_attach(struct ctr_cli *cli, const struct db_container *c, const char *keys,
                             const char *prog)
{
    struct ctr_attach_opts ao = {.in_fd = 0, .out_fd = 1, .err_fd = 2, .tty_fd = -1};
    _cleanup_free_ char *dir = ctr_run_dir(&cli->env, c->id);
    struct err *e = NULL;
    struct termios saved;
    bool raw = false, detached = false;
    int code = 0;

    if (ctr_detach_keys_parse(keys, ao.keys, &ao.n_keys, &e) < 0)
        return vmm_fail(prog, e, 2);
    if (!dir)
        return 1;
    /* raw: every key goes to the guest (Ctrl-C too), the guest echoes */
    if (isatty(0) && tcgetattr(0, &saved) == 0) {
        struct termios r = saved;
        cfmakeraw(&r);
        r.c_oflag |= OPOST | ONLCR;
        raw = tcsetattr(0, TCSANOW, &r) == 0;
    }
    int rc = ctr_attach_fd(dir, c->id, &ao, &code, &detached, &e);
    if (raw)
        tcsetattr(0, TCSANOW, &saved);
    if (rc < 0)
        return vmm_fail(prog, e, 1);
    if (detached) {
        if (raw)
            fputs("\r\n", stderr);
        return 0;
    }
    /* the VM ended: once its monitor is gone, `vm ls` says so */
    ctr_wait_monitor_gone(c, 30000);
    return code;
}

int cmd_vm_run_managed(int argc, char **argv)
{
    const char *prog = "isola vm run";
    struct vm_config cfg;
    struct vm_run_extra x;
    struct ctr_cli cli;
    struct err *e = NULL;
    _cleanup_json_ json_t *j = NULL;
    _cleanup_db_container_ struct db_container *row = NULL;
    char vmm[PATH_MAX];
    int rc = 125;

    vm_config_init(&cfg);
    if (vm_run_parse(argc, argv, &cfg, &x, &e) != 0) {
        vm_config_free(&cfg);
        return vmm_fail(prog, e, 2);
    }
    if (x.console_set && (cfg.console_none || cfg.console_file)) {
        vm_config_free(&cfg);
        fprintf(stderr,
                "%s: --console: a managed VM's console is its log (`isola vm logs`) "
                "and `isola vm console`\n",
                prog);
        return 2;
    }
    if (vm_config_validate(&cfg, &e) < 0 || vm_config_absolute(&cfg, &e) < 0 ||
        vmm_exe(vmm, sizeof(vmm), &e) < 0 || vm_config_to_json(&cfg, &j, &e) < 0) {
        vm_config_free(&cfg);
        return vmm_fail(prog, e, 125);
    }
    if (ctr_cli_open(&cli, prog) < 0) {
        vm_config_free(&cfg);
        return 125;
    }
    struct store *store = NULL;
    if (x.image && store_open(cli_store_root(NULL), &store, &e) < 0)
        goto fail;
    /* the default vsock socket lives in the run dir, not in / (the
     * monitor's working directory) */
    struct vmw_create_opts o = {.name = x.name,
                                .vm = j,
                                .image_ref = x.image ? x.image : cfg.kernel,
                                .restart = x.restart,
                                .stop_timeout = x.stop_timeout,
                                .vmm_exe = vmm,
                                .image = x.image,
                                .store = store};
    if (vmw_create(cli.db, &cli.env, &o, &row, &e) < 0)
        goto fail;
    if (cfg.vsock_cid && !cfg.vsock_uds) {
        /* rewrite vm.json with the run dir's socket before the start */
        _cleanup_free_ char *dir = ctr_run_dir(&cli.env, row->id), *b = NULL, *p = NULL;
        if (!dir || asprintf(&p, "%s/vsock.sock", dir) < 0 ||
            !(b = ctr_bundle_dir(&cli.env, row->id))) {
            err_set(&e, ENOMEM, "%s", "vsock socket path");
            goto fail_rm;
        }
        json_object_set_new(json_object_get(j, "vsock"), "uds", json_string(p));
        free(dir);
        dir = NULL;
        if (asprintf(&dir, "%s/vm.json", b) < 0 || js_write_file(dir, j, 0600, &e) < 0)
            goto fail_rm;
    }
    if (ctr_start(cli.db, &cli.env, row->id, &e) < 0)
        goto fail_rm;
    if (x.detach) {
        printf("%s\n", row->id);
        rc = 0;
    } else {
        /* the row again: its monitor's pid, for the wait at the end */
        _cleanup_db_container_ struct db_container *now = NULL;
        if (vmw_get(cli.db, &cli.env, row->id, &now, &e) < 0)
            goto fail;
        rc = vm_console_attach(&cli, now, NULL, prog);
    }
    goto out;
fail_rm : {
    struct err *e2 = NULL;
    if (vmw_remove(cli.db, &cli.env, row->id, true, &e2) < 0)
        err_free(&e2);
}
fail:
    ctr_cli_error(prog, e);
    err_free(&e);
out:
    if (store)
        store_close(store);
    vm_config_free(&cfg);
    ctr_cli_close(&cli);
    return rc;
}

static void vm_ls_usage(FILE *f)
{
    fputs("Usage: isola vm ls [-a] [-q]\n"
          "Lists running VMs (-a: all), newest first: VM ID, NAME, KERNEL, STATUS, CPUS,\n"
          "MEMORY. -q: IDs only.\n",
          f);
}

static int vm_ls(int argc, char **argv)
{
    static const struct option opts[] = {{"all", no_argument, NULL, 'a'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct db_container **v = NULL;
    struct ctr_cli cli;
    struct err *e = NULL;
    bool all = false, quiet = false;
    size_t n = 0;
    int c;

    optind = 0;
    while ((c = getopt_long(argc, argv, "+aqh", opts, NULL)) != -1) {
        if (c == 'a') {
            all = true;
        } else if (c == 'q') {
            quiet = true;
        } else if (c == 'h') {
            vm_ls_usage(stdout);
            return 0;
        } else {
            vm_ls_usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        vm_ls_usage(stderr);
        return 2;
    }
    if (ctr_cli_open(&cli, "isola vm ls") < 0)
        return 1;
    if (vmw_list(cli.db, &cli.env, all, &v, &n, &e) < 0) {
        ctr_cli_close(&cli);
        return vmm_fail("isola vm ls", e, 1);
    }
    if (!quiet)
        printf("%-12s   %-20s   %-24s   %-28s   %-4s   %s\n", "VM ID", "NAME", "KERNEL", "STATUS",
               "CPUS", "MEMORY");
    for (size_t i = 0; i < n; i++) {
        _cleanup_json_ json_t *cfg = NULL;
        char status[96];
        if (quiet) {
            printf("%.12s\n", v[i]->id);
            continue;
        }
        js_load_buf(v[i]->config, strlen(v[i]->config), "config", &cfg, NULL);
        json_t *vm = json_object_get(cfg, "vm");
        const char *k = v[i]->image_ref ? v[i]->image_ref : "";
        const char *base = strrchr(k, '/');
        ctr_status_text(v[i], status, sizeof(status));
        printf("%.12s   %-20s   %-24s   %-28s   %-4lld   %lldMiB\n", v[i]->id, v[i]->name,
               base ? base + 1 : k, status,
               (long long)json_integer_value(json_object_get(vm, "cpus")),
               (long long)json_integer_value(json_object_get(vm, "memory_mib")));
    }
    db_container_list_free(v, n);
    ctr_cli_close(&cli);
    return 0;
}

/* stop, kill, rm, pause, resume, inspect: options, then one or more VMs. */
enum vm_verb { V_STOP, V_KILL, V_RM, V_PAUSE, V_RESUME, V_INSPECT, V_START };

static const char *const verb_usage[] = {
    [V_STOP] = "Usage: isola vm stop [-t SECONDS] VM...\n"
               "Asks each guest to shut down (the ACPI power button; docs/vm.md), then powers\n"
               "it off after the timeout (default: the VM's --stop-timeout, 10 s).\n",
    [V_KILL] = "Usage: isola vm kill [-s SIGNAL] VM...\n"
               "Sends SIGNAL (default KILL: power off at once) to each VM's monitor (isola-vmm);\n"
               "KILL and the stop signal turn the restart policy off.\n",
    [V_RM] = "Usage: isola vm rm [-f] VM...\n"
             "Removes stopped VMs; -f powers a running one off first.\n",
    [V_PAUSE] = "Usage: isola vm pause VM...\n"
                "Stops each VM's vCPUs and quiesces its devices; memory stays.\n",
    [V_RESUME] = "Usage: isola vm resume VM...\n"
                 "Lets a paused VM's vCPUs and devices run again.\n",
    [V_INSPECT] = "Usage: isola vm inspect VM...\n"
                  "Prints a JSON array with one document per VM.\n",
    [V_START] = "Usage: isola vm start VM...\n"
                "Boots stopped VMs again (the same disks: what the guest wrote stays);\n"
                "a running one: nothing to do.\n",
};

static int vm_verb(enum vm_verb verb, int argc, char **argv)
{
    static const struct option opts[] = {{"time", required_argument, NULL, 't'},
                                         {"signal", required_argument, NULL, 's'},
                                         {"force", no_argument, NULL, 'f'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    static const char *const names[] = {
        [V_STOP] = "stop",   [V_KILL] = "kill",     [V_RM] = "rm",          [V_START] = "start",
        [V_PAUSE] = "pause", [V_RESUME] = "resume", [V_INSPECT] = "inspect"};
    static const char *const optstr[] = {
        [V_STOP] = "+t:h", [V_KILL] = "+s:h",  [V_RM] = "+fh",  [V_PAUSE] = "+h",
        [V_RESUME] = "+h", [V_INSPECT] = "+h", [V_START] = "+h"};
    _Static_assert(sizeof(names) / sizeof(names[0]) == V_START + 1, "a name per verb");
    _Static_assert(sizeof(optstr) / sizeof(optstr[0]) == V_START + 1, "options per verb");
    _Static_assert(sizeof(verb_usage) / sizeof(verb_usage[0]) == V_START + 1, "usage per verb");
    char prog[64];
    struct ctr_cli cli;
    struct err *e = NULL;
    int timeout = -1, sig = SIGKILL, c, rc = 0;
    bool force = false;

    snprintf(prog, sizeof(prog), "isola vm %s", names[verb]);
    optind = 0;
    while ((c = getopt_long(argc, argv, optstr[verb], opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 't':
            errno = 0;
            timeout = (int)strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || errno || timeout < 0) {
                fprintf(stderr, "%s: -t `%s`: expected seconds\n", prog, optarg);
                return 2;
            }
            break;
        case 's':
            if (container_parse_signal(optarg, &sig, &e) < 0)
                return vmm_fail(prog, e, 2);
            break;
        case 'f':
            force = true;
            break;
        case 'h':
            fputs(verb_usage[verb], stdout);
            return 0;
        default:
            fputs(verb_usage[verb], stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        fputs(verb_usage[verb], stderr);
        return 2;
    }
    if (ctr_cli_open(&cli, prog) < 0)
        return 1;
    _cleanup_json_ json_t *arr = json_array();
    for (int i = optind; i < argc; i++) {
        int r = 0;
        switch (verb) {
        case V_STOP:
            r = vmw_stop(cli.db, &cli.env, argv[i], timeout, &e);
            break;
        case V_KILL:
            r = vmw_kill(cli.db, &cli.env, argv[i], sig, &e);
            break;
        case V_RM:
            r = vmw_remove(cli.db, &cli.env, argv[i], force, &e);
            break;
        case V_PAUSE:
        case V_RESUME:
            r = vmw_pause(cli.db, &cli.env, argv[i], verb == V_PAUSE, &e);
            break;
        case V_START: {
            _cleanup_db_container_ struct db_container *ct = NULL;
            r = vmw_get(cli.db, &cli.env, argv[i], &ct, &e);
            if (r == 0)
                r = ctr_start(cli.db, &cli.env, ct->id, &e);
            break;
        }
        case V_INSPECT: {
            _cleanup_db_container_ struct db_container *ct = NULL;
            json_t *doc = NULL;
            r = vmw_get(cli.db, &cli.env, argv[i], &ct, &e);
            if (r == 0)
                r = vmw_inspect(&cli.env, ct, &doc, &e);
            if (r == 0)
                json_array_append_new(arr, doc);
            break;
        }
        }
        if (r < 0) {
            fprintf(stderr, "%s: ", prog);
            err_print(e, NULL, stderr);
            err_free(&e);
            rc = 1;
        } else if (verb != V_INSPECT) {
            printf("%s\n", argv[i]);
        }
    }
    if (verb == V_INSPECT) {
        _cleanup_free_ char *s = json_dumps(arr, JSON_INDENT(4));
        printf("%s\n", s ? s : "[]");
    }
    ctr_cli_close(&cli);
    return rc;
}

static int vm_logs(int argc, char **argv)
{
    static const struct option opts[] = {{"follow", no_argument, NULL, 'f'},
                                         {"timestamps", no_argument, NULL, 't'},
                                         {"tail", required_argument, NULL, 'n'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct ctr_logs_opts o = {.tail = -1};
    _cleanup_db_container_ struct db_container *ct = NULL;
    struct ctr_cli cli;
    struct err *e = NULL;
    int c, rc = 0;

    optind = 0;
    while ((c = getopt_long(argc, argv, "+ftn:h", opts, NULL)) != -1) {
        if (c == 'f') {
            o.follow = true;
        } else if (c == 't') {
            o.timestamps = true;
        } else if (c == 'n') {
            o.tail = strcmp(optarg, "all") == 0 ? -1 : strtol(optarg, NULL, 10);
        } else if (c == 'h') {
            printf("Usage: isola vm logs [-f] [-t] [--tail N] VM\n"
                   "Prints the VM's serial console output (its log).\n"
                   "  -f, --follow      go on printing until the VM stops\n"
                   "  -t, --timestamps  each line prefixed with its RFC 3339 time\n"
                   "  -n, --tail N      only the last N lines\n");
            return 0;
        } else {
            return 2;
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "isola vm logs: expected one VM\n");
        return 2;
    }
    if (ctr_cli_open(&cli, "isola vm logs") < 0)
        return 1;
    if (vmw_get(cli.db, &cli.env, argv[optind], &ct, &e) < 0 ||
        ctr_logs(cli.db, &cli.env, ct->id, &o, stdout, stderr, &e) < 0) {
        fprintf(stderr, "isola vm logs: ");
        err_print(e, NULL, stderr);
        err_free(&e);
        rc = 1;
    }
    ctr_cli_close(&cli);
    return rc;
}

static int vm_console(int argc, char **argv)
{
    static const struct option opts[] = {{"detach-keys", required_argument, NULL, 'k'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    _cleanup_db_container_ struct db_container *ct = NULL;
    const char *keys = NULL;
    struct ctr_cli cli;
    struct err *e = NULL;
    int c, rc;

    optind = 0;
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        if (c == 'k') {
            keys = optarg;
        } else if (c == 'h') {
            printf("Usage: isola vm console [--detach-keys KEYS] VM\n"
                   "Attaches this terminal to the VM's serial console (raw mode: every key\n"
                   "goes to the guest). The detach keys (default ctrl-p,ctrl-q; `ctrl-]` is\n"
                   "another choice) leave the VM running; the terminal is restored.\n");
            return 0;
        } else {
            return 2;
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "isola vm console: expected one VM\n");
        return 2;
    }
    if (ctr_cli_open(&cli, "isola vm console") < 0)
        return 1;
    if (vmw_get(cli.db, &cli.env, argv[optind], &ct, &e) < 0) {
        ctr_cli_close(&cli);
        return vmm_fail("isola vm console", e, 1);
    }
    if (ct->status != DB_STATUS_RUNNING && ct->status != DB_STATUS_PAUSED &&
        ct->status != DB_STATUS_RESTARTING) {
        fprintf(stderr, "isola vm console: VM %s is not running (start it with `isola start`)\n",
                argv[optind]);
        ctr_cli_close(&cli);
        return 1;
    }
    rc = vm_console_attach(&cli, ct, keys, "isola vm console");
    ctr_cli_close(&cli);
    return rc;
}

/* isola vm snapshot [--leave-paused] VM DIR */
static int vm_snapshot_cmd(int argc, char **argv)
{
    static const char usage[] =
        "Usage: isola vm snapshot [--leave-paused] VM DIR\n"
        "Pauses the VM, writes its memory, vCPU, irqchip, clock and device state to DIR\n"
        "(docs/vm.md, \"Snapshot and restore\"), and lets it run again unless\n"
        "--leave-paused. `isola vm restore DIR` continues the guest.\n";
    static const struct option opts[] = {{"leave-paused", no_argument, NULL, 'p'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *prog = "isola vm snapshot";
    bool leave_paused = false;
    struct ctr_cli cli;
    struct err *e = NULL;
    char abs[PATH_MAX];
    int c;

    optind = 0;
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        if (c == 'p') {
            leave_paused = true;
        } else {
            fputs(usage, c == 'h' ? stdout : stderr);
            return c == 'h' ? 0 : 2;
        }
    }
    if (argc - optind != 2) {
        fputs(usage, stderr);
        return 2;
    }
    /* the monitor runs elsewhere: an absolute path (DIR need not exist) */
    const char *dir = argv[optind + 1];
    if (dir[0] == '/') {
        snprintf(abs, sizeof(abs), "%s", dir);
    } else {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof(cwd)) ||
            snprintf(abs, sizeof(abs), "%s/%s", cwd, dir) >= (int)sizeof(abs)) {
            fprintf(stderr, "%s: `%s`: path too long\n", prog, dir);
            return 1;
        }
    }
    if (ctr_cli_open(&cli, prog) < 0)
        return 1;
    int r = vmw_snapshot(cli.db, &cli.env, argv[optind], abs, leave_paused, &e);
    ctr_cli_close(&cli);
    if (r < 0)
        return vmm_fail(prog, e, 1);
    printf("%s\n", abs);
    return 0;
}

/* isola vm restore [--name NAME] DIR: a managed VM whose monitor restores
 * the snapshot, in the background. */
static int vm_restore_cmd(int argc, char **argv)
{
    static const char usage[] =
        "Usage: isola vm restore [--name NAME] DIR\n"
        "Starts a managed VM that continues the guest of the snapshot in DIR (docs/vm.md,\n"
        "\"Snapshot and restore\"); its disks must be the same, unchanged files.\n"
        "Prints the VM's ID.\n";
    static const struct option opts[] = {{"name", required_argument, NULL, 'n'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *prog = "isola vm restore", *name = NULL;
    _cleanup_json_ json_t *j = NULL;
    _cleanup_db_container_ struct db_container *row = NULL;
    struct vm_config cfg;
    struct ctr_cli cli;
    struct err *e = NULL;
    char abs[PATH_MAX], vmm[PATH_MAX];
    int c;

    optind = 0;
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        if (c == 'n') {
            name = optarg;
        } else {
            fputs(usage, c == 'h' ? stdout : stderr);
            return c == 'h' ? 0 : 2;
        }
    }
    if (argc - optind != 1) {
        fputs(usage, stderr);
        return 2;
    }
    if (!realpath(argv[optind], abs)) {
        err_sys(&e, "snapshot `%s`", argv[optind]);
        return vmm_fail(prog, e, 125);
    }
    vm_config_init(&cfg);
    if (snapshot_check(abs, 0, &cfg, &e) < 0 || vmm_exe(vmm, sizeof(vmm), &e) < 0) {
        vm_config_free(&cfg);
        return vmm_fail(prog, e, 125);
    }
    /* a managed VM's console is its log */
    free(cfg.console_file);
    cfg.console_file = NULL;
    cfg.console_none = false;
    int r = vm_config_to_json(&cfg, &j, &e);
    vm_config_free(&cfg);
    if (r < 0)
        return vmm_fail(prog, e, 125);
    if (ctr_cli_open(&cli, prog) < 0)
        return 125;
    struct vmw_create_opts o = {.name = name,
                                .vm = j,
                                .image_ref = abs,
                                .stop_timeout = -1,
                                .vmm_exe = vmm,
                                .restore = abs};
    if (vmw_create(cli.db, &cli.env, &o, &row, &e) < 0) {
        ctr_cli_close(&cli);
        return vmm_fail(prog, e, 125);
    }
    if (ctr_start(cli.db, &cli.env, row->id, &e) < 0) {
        struct err *e2 = NULL;
        if (vmw_remove(cli.db, &cli.env, row->id, true, &e2) < 0)
            err_free(&e2);
        ctr_cli_close(&cli);
        return vmm_fail(prog, e, 125);
    }
    printf("%s\n", row->id);
    ctr_cli_close(&cli);
    return 0;
}

/* `isola vm SUBCOMMAND` for the managed ones; -1: not one of them. */
int cmd_vm_manage(int argc, char **argv)
{
    static const struct {
        const char *name;
        int verb;
    } verbs[] = {{"stop", V_STOP},   {"kill", V_KILL},     {"rm", V_RM},
                 {"pause", V_PAUSE}, {"resume", V_RESUME}, {"inspect", V_INSPECT},
                 {"start", V_START}};

    if (argc < 2)
        return -1;
    if (strcmp(argv[1], "ls") == 0 || strcmp(argv[1], "ps") == 0)
        return vm_ls(argc - 1, argv + 1);
    if (strcmp(argv[1], "logs") == 0)
        return vm_logs(argc - 1, argv + 1);
    if (strcmp(argv[1], "console") == 0)
        return vm_console(argc - 1, argv + 1);
    if (strcmp(argv[1], "snapshot") == 0)
        return vm_snapshot_cmd(argc - 1, argv + 1);
    if (strcmp(argv[1], "restore") == 0)
        return vm_restore_cmd(argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (strcmp(argv[1], verbs[i].name) == 0)
            return vm_verb((enum vm_verb)verbs[i].verb, argc - 1, argv + 1);
    return -1;
}
