/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola exec [-d] [-i] [-t] CONTAINER CMD...: run a command in a running container,
 * through its monitor (docs/engine.md, "Containers"). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "cli/ctr_cli.h"
#include "util/cleanup.h"

int cmd_exec(int argc, char **argv)
{
    static const struct option opts[] = {{"detach", no_argument, NULL, 'd'},
                                         {"env", required_argument, NULL, 'e'},
                                         {"workdir", required_argument, NULL, 'w'},
                                         {"user", required_argument, NULL, 'u'},
                                         {"interactive", no_argument, NULL, 'i'},
                                         {"tty", no_argument, NULL, 't'},
                                         {"detach-keys", required_argument, NULL, 'K'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct ctr_cli cli;
    struct err *e = NULL;
    struct ctr_exec_opts xo = {0};
    _cleanup_free_ char **envs = calloc((size_t)argc + 1, sizeof(char *));
    char **owned = calloc((size_t)argc + 1, sizeof(char *));
    size_t ne = 0, no = 0;
    const char *detach_keys = NULL;
    int c, code = 0;

    if (!envs || !owned) {
        free(owned);
        return 125;
    }

    optind = 0;
    while ((c = getopt_long(argc, argv, "+de:w:u:ith", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            xo.detach = true;
            break;
        case 'e':
            if (strchr(optarg, '=')) {
                envs[ne++] = optarg;
            } else if (getenv(optarg)) {
                /* -e KEY: its value here, as Docker's */
                char *kv = NULL;
                if (asprintf(&kv, "%s=%s", optarg, getenv(optarg)) >= 0) {
                    owned[no++] = kv;
                    envs[ne++] = kv;
                }
            }
            break;
        case 'w':
            xo.workdir = optarg;
            break;
        case 'u':
            xo.user = optarg;
            break;
        case 'i':
            xo.interactive = true;
            break;
        case 't':
            xo.tty = true;
            break;
        case 'K':
            detach_keys = optarg;
            break;
        case 'h':
            printf("Usage: isola exec [-d] [-i] [-t] CONTAINER CMD [ARG...]\n"
                   "Runs CMD in a running container with the container's process settings\n"
                   "(environment, working directory, user, capabilities) and stdin /dev/null;\n"
                   "its output comes here. Exit status: CMD's; 126 when it cannot be\n"
                   "executed, 127 when it is not found; 1 when the container does not run.\n"
                   "  -d, --detach        return once it started (exit 0), its output dropped;\n"
                   "                      it runs on, its exit recorded by the monitor\n"
                   "  -e, --env K=V|K     set a variable (K alone: its value here)\n"
                   "  -w, --workdir DIR   working directory\n"
                   "  -u, --user U[:G]    user and group, names or ids (the container's\n"
                   "                      /etc/passwd and /etc/group)\n"
                   "  -i, --interactive   our stdin to its stdin (its end closes it)\n"
                   "  -t, --tty           a pty (raw mode here, our window size and its\n"
                   "                      changes); Ctrl-P Ctrl-Q detaches: it runs on\n"
                   "  --detach-keys KEYS  the detach sequence (Docker's syntax, default\n"
                   "                      ctrl-p,ctrl-q)\n");
            code = 0;
            goto out;
        default:
            goto usage;
        }
    }
    if (argc - optind < 2) {
        fprintf(stderr, "isola exec: expected CONTAINER and CMD\n");
        goto usage;
    }
    if (ctr_cli_open(&cli, "isola exec") < 0) {
        code = 125;
        goto out;
    }
    envs[ne] = NULL;
    xo.env = envs;
    struct ctr_attach_opts ao = {
        .out_fd = 1, .err_fd = 2, .tty_fd = -1, .stdin_once = true, .exec_errors = true};
    struct termios saved;
    bool raw = false;
    if ((xo.tty || xo.interactive) && !xo.detach) {
        struct winsize ws;
        ao.in_fd = xo.interactive ? 0 : -1;
        if (xo.tty && isatty(0) && ioctl(0, TIOCGWINSZ, &ws) == 0) {
            ao.tty_fd = 0;
            xo.rows = ws.ws_row;
            xo.cols = ws.ws_col;
        }
        if (ctr_detach_keys_parse(detach_keys, ao.keys, &ao.n_keys, &e) < 0) {
            ctr_cli_error("isola exec", e);
            err_free(&e);
            ctr_cli_close(&cli);
            code = 125;
            goto out;
        }
        if (xo.tty && xo.interactive && isatty(0) && tcgetattr(0, &saved) == 0) {
            struct termios r = saved;
            cfmakeraw(&r);
            raw = tcsetattr(0, TCSANOW, &r) == 0;
        }
        xo.attach = &ao;
    }
    int xr =
        ctr_exec(cli.db, &cli.env, argv[optind], argv + optind + 1, &xo, stdout, stderr, &code, &e);
    if (raw)
        tcsetattr(0, TCSANOW, &saved);
    if (xr < 0) {
        ctr_cli_error("isola exec", e);
        err_free(&e);
        code = 1;
    }
    ctr_cli_close(&cli);
out:
    for (size_t i = 0; i < no; i++)
        free(owned[i]);
    free(owned);
    return code;
usage:
    code = 125;
    goto out;
}
