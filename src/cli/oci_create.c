/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola-oci create / run (runc's options, plus crun's --config). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/oci.h"
#include "runtime/container.h"

/* sd_listen_fds(3): LISTEN_FDS sockets from fd 3 on, meant for us when
 * LISTEN_PID is our pid. runc requires that, crun does not look at LISTEN_PID:
 * an absent one is taken as ours, another process's means the variables were
 * inherited by mistake. The count also goes to --preserve-fds. */
static int listen_fds_from_env(void)
{
    const char *fds = getenv("LISTEN_FDS"), *pid = getenv("LISTEN_PID");
    char *end;

    if (fds == NULL)
        return 0;
    if (pid != NULL && strtol(pid, &end, 10) != (long)getpid())
        return 0;
    long n = strtol(fds, &end, 10);
    return *end == '\0' && n > 0 && n <= 65536 ? (int)n : 0;
}

static int parse(const char *verb, struct oci_global *g, int argc, char **argv,
                 struct container_opts *o)
{
    static const struct option opts[] = {
        {"bundle", required_argument, NULL, 'b'},
        {"config", required_argument, NULL, 'f'},
        {"pid-file", required_argument, NULL, 'p'},
        {"console-socket", required_argument, NULL, 'c'},
        {"no-pivot", no_argument, NULL, 'P'},
        {"no-new-keyring", no_argument, NULL, 'K'},
        {"preserve-fds", required_argument, NULL, 'F'},
        {"detach", no_argument, NULL, 'd'},
        {"keep", no_argument, NULL, 'k'},
        {"no-subreaper", no_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    memset(o, 0, sizeof(*o));
    o->root = g->root;
    o->bundle = ".";
    o->cgroup_manager = g->cgroup_manager;
    o->listen_fds = listen_fds_from_env();
    o->preserve_fds = o->listen_fds;
    while ((c = getopt_long_only(argc, argv, "b:dh", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            o->bundle = optarg;
            break;
        case 'f':
            o->config = optarg;
            break;
        case 'p':
            o->pid_file = optarg;
            break;
        case 'c':
            o->console_socket = optarg;
            break;
        case 'P':
            o->no_pivot = true;
            break;
        case 'K':
            o->no_new_keyring = true;
            break;
        case 'F': {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || n < 0 || n > 65536) {
                oci_usage(verb, "--preserve-fds `%s`: expected a count", optarg);
                return -1;
            }
            o->preserve_fds += (int)n;
            break;
        }
        case 'd':
            o->detach = true;
            break;
        case 'k':
            o->keep = true;
            break;
        case 'S':
            break;
        case 'h':
            printf("Usage: isola-oci %s [--bundle DIR] [--config FILE] [--pid-file FILE]\n"
                   "       [--console-socket SOCK] [--no-pivot] [--no-new-keyring]\n"
                   "       [--preserve-fds N]%s ID\n"
                   "LISTEN_FDS=N (with LISTEN_PID this runtime's pid, or none): pass fds\n"
                   "3..3+N-1 first, with LISTEN_FDS and LISTEN_PID set for the process.\n",
                   verb, strcmp(verb, "run") == 0 ? " [--detach] [--keep]" : "");
            exit(0);
        default:
            oci_usage(verb, "bad option");
            return -1;
        }
    }
    if ((o->id = oci_id_arg(verb, argc, argv)) == NULL)
        return -1;
    return 0;
}

int oci_create(struct oci_global *g, int argc, char **argv)
{
    struct container_opts o;
    struct err *e = NULL;

    if (parse("create", g, argc, argv, &o) < 0)
        return 1;
    if (container_create(&o, &e) < 0)
        return oci_fail(e);
    return 0;
}

int oci_run(struct oci_global *g, int argc, char **argv)
{
    struct container_opts o;
    struct err *e = NULL;
    int status = 0;

    if (parse("run", g, argc, argv, &o) < 0)
        return 1;
    if (container_run(&o, &status, &e) < 0)
        return oci_fail(e);
    return status;
}
