/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola logs [-f] [-t] [--tail N] [--since T] CONTAINER */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/ctr_cli.h"

/* --since: RFC 3339 (2026-12-07T13:56:01Z), a Unix time, or a duration (10s, 5m, 2h). */
static int logs_since(const char *s, int64_t *out)
{
    char *end;
    double v = strtod(s, &end);
    struct tm tm = {0};

    if (end != s && (*end == 's' || *end == 'm' || *end == 'h') && end[1] == '\0') {
        double mul = *end == 's' ? 1 : *end == 'm' ? 60 : 3600;
        *out = db_now_ns() - (int64_t)(v * mul * 1e9);
        return 0;
    }
    if (end != s && *end == '\0') {
        *out = (int64_t)(v * 1e9);
        return 0;
    }
    end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (end && (*end == 'Z' || *end == '\0' || *end == '.')) {
        *out = (int64_t)timegm(&tm) * 1000000000LL;
        return 0;
    }
    return -1;
}

int cmd_logs(int argc, char **argv)
{
    static const struct option opts[] = {
        {"follow", no_argument, NULL, 'f'},     {"timestamps", no_argument, NULL, 't'},
        {"tail", required_argument, NULL, 'n'}, {"since", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0}};
    struct ctr_logs_opts o = {.tail = -1};
    struct ctr_cli cli;
    struct err *e = NULL;
    int c, rc = 0;

    optind = 0;
    while ((c = getopt_long(argc, argv, "+ftn:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            o.follow = true;
            break;
        case 't':
            o.timestamps = true;
            break;
        case 'n':
            o.tail = strcmp(optarg, "all") == 0 ? -1 : strtol(optarg, NULL, 10);
            break;
        case 'S':
            if (logs_since(optarg, &o.since_ns) < 0) {
                fprintf(stderr,
                        "isola logs: --since `%s`: expected RFC 3339, a Unix time or "
                        "a duration (10s, 5m, 2h)\n",
                        optarg);
                return 125;
            }
            break;
        case 'h':
            printf("Usage: isola logs [-f] [-t] [--tail N] [--since T] CONTAINER\n"
                   "Prints the container's output from its log (rotated files too, oldest\n"
                   "first): stdout here to stdout, stderr to stderr.\n"
                   "  -f, --follow      go on printing until the container stops\n"
                   "  -t, --timestamps  each line prefixed with its RFC 3339 time\n"
                   "  -n, --tail N      only the last N lines (all: every line)\n"
                   "  --since T         lines from T on (RFC 3339, Unix time, or 10s/5m/2h ago)\n");
            return 0;
        default:
            return 125;
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "isola logs: expected one CONTAINER\n");
        return 125;
    }
    if (ctr_cli_open(&cli, "isola logs") < 0)
        return 1;
    if (ctr_logs(cli.db, &cli.env, argv[optind], &o, stdout, stderr, &e) < 0) {
        ctr_cli_error("isola logs", e);
        err_free(&e);
        rc = 1;
    }
    ctr_cli_close(&cli);
    return rc;
}
