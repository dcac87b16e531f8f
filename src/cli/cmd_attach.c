/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola attach [--no-stdin] [--sig-proxy=BOOL] [--detach-keys K] CONTAINER:
 * the running container's output live and the caller's input to it. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/ctr_cli.h"
#include "util/cleanup.h"
#include "util/js.h"

struct attach_sig {
    struct ctr_cli *cli;
    const char *id;
};

static void attach_forward(void *arg, int sig)
{
    struct attach_sig *a = arg;
    struct err *e = NULL;

    if (ctr_kill(a->cli->db, &a->cli->env, a->id, sig, &e) < 0)
        err_free(&e);
}

/* Does the container's config have process.terminal? */
static bool attach_has_tty(const struct db_container *c)
{
    _cleanup_json_ json_t *cfg = NULL;

    if (!c->config || js_load_buf(c->config, strlen(c->config), "config", &cfg, NULL) < 0)
        return false;
    return json_is_true(json_object_get(json_object_get(cfg, "process"), "terminal"));
}

int ctr_cli_attach(struct ctr_cli *cli, const struct db_container *ct,
                   const struct ctr_cli_attach_opts *co, const char *prog)
{
    struct ctr_attach_opts ao = {.out_fd = 1,
                                 .err_fd = 2,
                                 .tty_fd = -1,
                                 .sig_proxy = co->sig_proxy,
                                 .stdin_once = co->stdin_once};
    _cleanup_free_ char *dir = NULL;
    bool detached = false;
    struct err *e = NULL;
    int code = 0;

    if (ctr_detach_keys_parse(co->keys, ao.keys, &ao.n_keys, &e) < 0) {
        ctr_cli_error(prog, e);
        err_free(&e);
        return 125;
    }
    if (!(dir = ctr_run_dir(&cli->env, ct->id))) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return 1;
    }
    bool tty = attach_has_tty(ct);
    struct termios saved;
    bool raw = false;
    ao.in_fd = co->no_stdin ? -1 : 0;
    if (tty && !co->no_stdin && isatty(0) && tcgetattr(0, &saved) == 0) {
        struct termios r = saved;
        cfmakeraw(&r);
        raw = tcsetattr(0, TCSANOW, &r) == 0;
    }
    if (tty && isatty(0))
        ao.tty_fd = 0;
    struct attach_sig as = {.cli = cli, .id = ct->id};
    if (tty)
        ao.sig_proxy = false; /* Docker: no proxy with a terminal */
    ao.on_signal = attach_forward;
    ao.signal_arg = &as;
    int r = ctr_attach_fd(dir, ct->id, &ao, &code, &detached, &e);
    if (raw)
        tcsetattr(0, TCSANOW, &saved);
    if (r < 0) {
        ctr_cli_error(prog, e);
        err_free(&e);
        return 1;
    }
    if (detached) {
        if (raw)
            fputs("\r\n", stderr);
        return 0;
    }
    return code;
}

int cmd_attach(int argc, char **argv)
{
    static const struct option opts[] = {{"no-stdin", no_argument, NULL, 'n'},
                                         {"sig-proxy", optional_argument, NULL, 's'},
                                         {"detach-keys", required_argument, NULL, 'k'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct ctr_cli_attach_opts co = {.sig_proxy = true};
    _cleanup_db_container_ struct db_container *ct = NULL;
    struct ctr_cli cli;
    struct err *e = NULL;
    int c;

    optind = 0;
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        if (c == 'n') {
            co.no_stdin = true;
        } else if (c == 's') {
            co.sig_proxy = !optarg || strcmp(optarg, "true") == 0 || strcmp(optarg, "1") == 0;
        } else if (c == 'k') {
            co.keys = optarg;
        } else if (c == 'h') {
            printf("Usage: isola attach [--no-stdin] [--sig-proxy=true|false]\n"
                   "                    [--detach-keys KEYS] CONTAINER\n"
                   "Attaches to a running container: its output live (stdout and stderr, or\n"
                   "its terminal), the input of this command to its stdin (when it was\n"
                   "created with -i) or its terminal (-t). The detach keys (default\n"
                   "ctrl-p,ctrl-q) leave it running and exit 0; otherwise the exit code is\n"
                   "the container's. --no-stdin: output only. --sig-proxy (default true):\n"
                   "signals this command gets go to the container (without a terminal; with\n"
                   "one, Ctrl-C goes through the terminal).\n");
            return 0;
        } else {
            return 125;
        }
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "isola attach: expected exactly one CONTAINER\n");
        return 125;
    }
    if (ctr_cli_open(&cli, "isola attach") < 0)
        return 1;
    int rc = 1;
    if (ctr_get(cli.db, &cli.env, argv[optind], &ct, &e) < 0)
        goto fail;
    if (ct->status != DB_STATUS_RUNNING && ct->status != DB_STATUS_PAUSED &&
        ct->status != DB_STATUS_RESTARTING) {
        fprintf(stderr, "You cannot attach to a stopped container, start it first\n");
        goto out;
    }
    rc = ctr_cli_attach(&cli, ct, &co, "isola attach");
    goto out;
fail:
    ctr_cli_error("isola attach", e);
    err_free(&e);
out:
    ctr_cli_close(&cli);
    return rc;
}
