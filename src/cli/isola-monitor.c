/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * isola-monitor: the per-workload monitor process (src/engine/monitor.h), as a
 * small static program of its own (docs/engine.md, "Monitor").
 *
 *   isola-monitor start --dir DIR --id ID --bundle BUNDLE --state-root ROOT [OPTIONS]
 *       Detaches (fork, setsid, fork): the monitor runs on in a session of its
 *       own; this command returns once the workload runs, printing
 *       "WORKLOAD_PID MONITOR_PID", or prints the error and exits 125.
 *   isola-monitor alive --dir DIR
 *       "running PID", exit 0: the monitor of DIR runs; "exited PID", exit 3:
 *       it ended normally; "gone PID", exit 1: its status names a monitor
 *       that is gone (killed) while its workload was not known to be over.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/monitor.h"
#include "runtime/container.h"
#include "util/cleanup.h"
#include "util/size.h"

static const char usage[] =
    "Usage: isola-monitor start --dir DIR --id ID --bundle BUNDLE --state-root ROOT\n"
    "           [--isolation linux|microvm|vm] [-t|--tty] [-i|--interactive] [--log PATH]\n"
    "           [--log-max-size SIZE] [--log-max-file N]\n"
    "           [--restart no|on-failure[:N]|always|unless-stopped]\n"
    "           [--stop-signal SIG] [--stop-timeout SECONDS]\n"
    "           [--exit-command PATH [--exit-command-arg ARG]...]\n"
    "           [--healthcheck JSON]\n"
    "           microvm: --kernel-dir DIR --agent PATH --vmm PATH --cache-dir DIR\n"
    "           [--root-key HEX] (docs/microvm.md)\n"
    "       isola-monitor alive --dir DIR\n"
    "\n"
    "Runs one workload for its whole life, detached: holds its stdio, writes its\n"
    "log (CRI format, rotated by size), restarts it by policy, records its exit in\n"
    "DIR/exit and its state in DIR/status, serves attach/wait/stop on DIR/ctl.sock.\n"
    "If the monitor is killed, its workload is killed with it; DIR/status still\n"
    "names the dead monitor, and `alive` says so (see docs/engine.md).\n"
    "--exit-command: run PATH ARG... (stdio /dev/null) in a child of the monitor as\n"
    "it exits, once the workload's life has ended normally (not if it was killed).\n"
    "--healthcheck: Docker's Healthcheck object ({\"Test\":[\"CMD-SHELL\",\"...\"],\n"
    "\"Interval\":NS,...}): probes run in the workload, their state in DIR/health.\n"
    "alive: prints `running PID` (exit 0), `exited PID` (exit 3, the workload's\n"
    "life ended normally) or `gone PID` (exit 1, the monitor was killed).\n";

/* --exit-command PATH [--exit-command-arg ARG]...: run once the workload's
 * life has ended normally (conmon's option of the same name; the engine
 * removes a --rm container with it). */
static char *exit_argv[64];
static size_t exit_argc;

static int fail(struct err *e)
{
    err_print(e, "isola-monitor", stderr);
    err_free(&e);
    return 125;
}

/* The grandchild: the monitor itself, in its own session, stdio on /dev/null. */
static __attribute__((noreturn)) void run_detached(const struct monitor_opts *o, int ready_fd)
{
    struct err *e = NULL;
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);

    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        close(null);
    }
    if (chdir("/") < 0) {
        /* "/" always exists */
    }
    int r = monitor_run(o, ready_fd, &e);
    err_free(&e);
    if (r == 0 && exit_argc > 0 && fork() == 0) {
        /* a child, so that the monitor's pid is gone when it runs */
        execv(exit_argv[0], exit_argv);
        _exit(127);
    }
    _exit(r < 0 ? 1 : 0);
}

static int cmd_start(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"id", required_argument, NULL, 'n'},
        {"bundle", required_argument, NULL, 'b'},
        {"state-root", required_argument, NULL, 'R'},
        {"isolation", required_argument, NULL, 'I'},
        {"kernel-dir", required_argument, NULL, 1001},
        {"agent", required_argument, NULL, 1002},
        {"vmm", required_argument, NULL, 1003},
        {"cache-dir", required_argument, NULL, 1004},
        {"root-key", required_argument, NULL, 1005},
        {"tty", no_argument, NULL, 't'},
        {"interactive", no_argument, NULL, 'i'},
        {"log", required_argument, NULL, 'l'},
        {"log-max-size", required_argument, NULL, 'S'},
        {"log-max-file", required_argument, NULL, 'F'},
        {"restart", required_argument, NULL, 'r'},
        {"stop-signal", required_argument, NULL, 's'},
        {"stop-timeout", required_argument, NULL, 'T'},
        {"exit-command", required_argument, NULL, 'X'},
        {"healthcheck", required_argument, NULL, 'H'},
        {"exit-command-arg", required_argument, NULL, 'A'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct monitor_opts o = {.iso = &iso_linux_ops, .log_max_file = 1, .stop_timeout = 10};
    struct err *e = NULL;
    char dir[PATH_MAX], bundle[PATH_MAX], root[PATH_MAX];
    const char *dir_arg = NULL, *bundle_arg = NULL, *root_arg = NULL;
    int c;

    while ((c = getopt_long(argc, argv, "+tih", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir_arg = optarg;
            break;
        case 'n':
            o.id = optarg;
            break;
        case 'b':
            bundle_arg = optarg;
            break;
        case 'R':
            root_arg = optarg;
            break;
        case 'I':
            if ((o.iso = iso_find(optarg)) == NULL) {
                fprintf(stderr, "isola-monitor: --isolation `%s`: expected linux, microvm or vm\n",
                        optarg);
                return 2;
            }
            break;
        case 1001:
            o.iso_ctx.kernel_dir = optarg;
            break;
        case 1002:
            o.iso_ctx.agent = optarg;
            break;
        case 1003:
            o.iso_ctx.vmm = optarg;
            break;
        case 1004:
            o.iso_ctx.cache_dir = optarg;
            break;
        case 1005:
            o.root_key = optarg;
            break;
        case 't':
            o.tty = true;
            break;
        case 'i':
            o.stdin_open = true;
            break;
        case 'l':
            o.log_path = optarg;
            break;
        case 'S': {
            int64_t sz;
            if (size_parse(optarg, 1, &sz, &e) < 0) {
                err_print(e, "isola-monitor: --log-max-size", stderr);
                err_free(&e);
                return 2;
            }
            o.log_max_size = (uint64_t)sz;
            break;
        }
        case 'F': {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end != '\0' || n < 1 || n > 1000) {
                fprintf(stderr, "isola-monitor: --log-max-file `%s`: expected 1 to 1000\n", optarg);
                return 2;
            }
            o.log_max_file = (unsigned)n;
            break;
        }
        case 'r':
            if (restart_policy_parse(optarg, &o.restart, &e) < 0)
                return fail(e);
            break;
        case 's':
            if (container_parse_signal(optarg, &o.stop_signal, &e) < 0)
                return fail(e);
            break;
        case 'T': {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end != '\0' || n < 0 || n > 86400) {
                fprintf(stderr, "isola-monitor: --stop-timeout `%s`: expected seconds\n", optarg);
                return 2;
            }
            o.stop_timeout = (unsigned)n;
            break;
        }
        case 'H':
            o.healthcheck = optarg;
            break;
        case 'X':
        case 'A':
            if ((c == 'X') != (exit_argc == 0) ||
                exit_argc >= sizeof(exit_argv) / sizeof(char *) - 1) {
                fprintf(stderr, "isola-monitor: --exit-command PATH comes once, before at most "
                                "62 --exit-command-arg\n");
                return 2;
            }
            exit_argv[exit_argc++] = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            return 2;
        }
    }
    if (dir_arg == NULL || o.id == NULL || bundle_arg == NULL || root_arg == NULL) {
        fprintf(stderr, "isola-monitor start: --dir, --id, --bundle and --state-root are "
                        "required (see --help)\n");
        return 2;
    }
    if (realpath(dir_arg, dir) == NULL) {
        err_sys(&e, "run dir `%s`", dir_arg);
        return fail(e);
    }
    if (realpath(bundle_arg, bundle) == NULL) {
        err_sys(&e, "bundle `%s`", bundle_arg);
        return fail(e);
    }
    if (mkdir(root_arg, 0700) < 0 && errno != EEXIST) {
        err_sys(&e, "state root `%s`", root_arg);
        return fail(e);
    }
    if (realpath(root_arg, root) == NULL) {
        err_sys(&e, "state root `%s`", root_arg);
        return fail(e);
    }
    o.dir = dir;
    o.bundle = bundle;
    o.iso_ctx.state_root = root;

    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        err_sys(&e, "pipe2");
        return fail(e);
    }
    pid_t pid = fork();
    if (pid < 0) {
        err_sys(&e, "fork");
        return fail(e);
    }
    if (pid == 0) {
        close(p[0]);
        if (setsid() < 0)
            _exit(1);
        pid_t g = fork();
        if (g < 0)
            _exit(1);
        if (g == 0)
            run_detached(&o, p[1]);
        _exit(0);
    }
    close(p[1]);
    int st;
    waitpid(pid, &st, 0);
    char buf[1100];
    size_t n = 0;
    for (;;) {
        ssize_t r = read(p[0], buf + n, sizeof(buf) - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
        if (n == sizeof(buf) - 1)
            break;
    }
    close(p[0]);
    buf[n] = '\0';
    if (strncmp(buf, "ok ", 3) == 0) {
        fputs(buf + 3, stdout);
        return 0;
    }
    if (strncmp(buf, "error ", 6) == 0)
        fprintf(stderr, "isola-monitor: %s", buf + 6);
    else
        fprintf(stderr, "isola-monitor: the monitor of `%s` exited before it was ready\n", o.id);
    return 125;
}

static int cmd_alive(int argc, char **argv)
{
    struct err *e = NULL;
    bool alive, ended;
    pid_t pid;

    if (argc != 3 || strcmp(argv[1], "--dir") != 0) {
        fprintf(stderr, "isola-monitor alive: expected --dir DIR\n");
        return 2;
    }
    if (monitor_alive(argv[2], &alive, &ended, &pid, &e) < 0)
        return fail(e);
    if (pid == 0) {
        fprintf(stderr, "isola-monitor: `%s`: no monitor status\n", argv[2]);
        return 2;
    }
    printf("%s %d\n", alive ? "running" : ended ? "exited" : "gone", (int)pid);
    return alive ? 0 : ended ? 3 : 1;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "start") == 0)
        return cmd_start(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "alive") == 0)
        return cmd_alive(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage, stdout);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
        printf("isola-monitor %s\n", ISOLA_VERSION);
        return 0;
    }
    fputs(usage, stderr);
    return 2;
}
