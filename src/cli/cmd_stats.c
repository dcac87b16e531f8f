/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola stats [-a] [--no-stream] [--no-trunc] [--format F] [CONTAINER...]:
 * Docker's live resource usage table, from each monitor's stats reply. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli_template.h"
#include "cli/ctr_cli.h"
#include "util/cleanup.h"
#include "util/js.h"

#define STATS_COLS 8

struct stats_row {
    struct db_container *c;
    json_t *s0, *s1; /* two samples, t0 and t1 (ns) apart */
    int64_t t0, t1;
};

static int64_t stats_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* go-units' CustomSize: "%.4g" binary (BytesSize) or "%.3g" decimal (HumanSize). */
static void stats_size(double v, bool binary, char *buf, size_t len)
{
    static const char *const bin[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    static const char *const dec[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
    double base = binary ? 1024.0 : 1000.0;
    size_t i = 0;

    while (v >= base && i < 6) {
        v /= base;
        i++;
    }
    snprintf(buf, len, binary ? "%.4g%s" : "%.3g%s", v, binary ? bin[i] : dec[i]);
}

static bool stats_num(json_t *s, const char *key, double *v)
{
    json_t *j = json_object_get(s, key);
    if (!json_is_integer(j))
        return false;
    *v = (double)json_integer_value(j);
    return true;
}

/* "A / B" of two sizes, "--" when unknown. */
static void stats_pair(json_t *s, const char *a, const char *b, char *buf, size_t len)
{
    double x, y;
    char sx[32], sy[32];

    if (!stats_num(s, a, &x) || !stats_num(s, b, &y)) {
        snprintf(buf, len, "--");
        return;
    }
    stats_size(x, false, sx, sizeof(sx));
    stats_size(y, false, sy, sizeof(sy));
    snprintf(buf, len, "%s / %s", sx, sy);
}

static json_t *stats_object(const struct stats_row *r, bool notrunc)
{
    char id[65], cpu[32] = "--", mem[80] = "--", memp[32] = "--", net[80], blk[80], pids[32] = "--";
    json_t *s = r->s1;
    double a, b, v, lim;

    snprintf(id, sizeof(id), "%.*s", notrunc ? 64 : 12, r->c->id);
    bool running = json_is_true(json_object_get(s, "running"));
    if (!running) {
        /* Docker's row for a container that does not run */
        snprintf(cpu, sizeof(cpu), "0.00%%");
        snprintf(mem, sizeof(mem), "0B / 0B");
        snprintf(memp, sizeof(memp), "0.00%%");
        snprintf(net, sizeof(net), "0B / 0B");
        snprintf(blk, sizeof(blk), "0B / 0B");
        snprintf(pids, sizeof(pids), "0");
    } else {
        if (stats_num(r->s0, "cpuNs", &a) && stats_num(s, "cpuNs", &b) && r->t1 > r->t0)
            snprintf(cpu, sizeof(cpu), "%.2f%%", (b - a) / (double)(r->t1 - r->t0) * 100.0);
        if (stats_num(s, "memoryCurrent", &v)) {
            struct sysinfo si;
            double host = sysinfo(&si) == 0 ? (double)si.totalram * si.mem_unit : 0;
            /* no limit (or one above the host's memory): the host's, as Docker */
            if (!stats_num(s, "memoryLimit", &lim) || (host > 0 && lim > host))
                lim = host;
            char u[32], l[32];
            stats_size(v, true, u, sizeof(u));
            stats_size(lim, true, l, sizeof(l));
            snprintf(mem, sizeof(mem), "%s / %s", u, l);
            if (lim > 0)
                snprintf(memp, sizeof(memp), "%.2f%%", v / lim * 100.0);
        }
        stats_pair(s, "netRx", "netTx", net, sizeof(net));
        stats_pair(s, "blkRead", "blkWrite", blk, sizeof(blk));
        if (stats_num(s, "pids", &v))
            snprintf(pids, sizeof(pids), "%.0f", v);
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Container",
                     r->c->name ? r->c->name : id, "ID", id, "Name", r->c->name ? r->c->name : "",
                     "CPUPerc", cpu, "MemUsage", mem, "MemPerc", memp, "NetIO", net, "BlockIO", blk,
                     "PIDs", pids);
}

static json_t *stats_sample(struct ctr_cli *cli, const struct db_container *c)
{
    json_t *s = NULL;
    struct err *e = NULL;

    if ((c->status == DB_STATUS_RUNNING || c->status == DB_STATUS_PAUSED) &&
        ctr_stats_fetch(&cli->env, c, &s, &e) < 0)
        err_free(&e);
    return s ? s : json_pack("{s:b}", "running", false);
}

static void stats_print(struct stats_row *rows, size_t n, const char *format, bool notrunc)
{
    static const char *const keys[STATS_COLS] = {"ID",      "Name",  "CPUPerc", "MemUsage",
                                                 "MemPerc", "NetIO", "BlockIO", "PIDs"};
    static const char *const head[STATS_COLS] = {"CONTAINER ID",      "NAME",  "CPU %",
                                                 "MEM USAGE / LIMIT", "MEM %", "NET I/O",
                                                 "BLOCK I/O",         "PIDS"};
    bool table = format && strncmp(format, "table", 5) == 0;
    const char *tmpl = table ? format + 5 + (format[5] == ' ') : format;

    if (format && strcmp(format, "json") == 0) {
        for (size_t i = 0; i < n; i++) {
            _cleanup_json_ json_t *o = stats_object(&rows[i], notrunc);
            _cleanup_free_ char *d = json_dumps(o, JSON_COMPACT);
            printf("%s\n", d ? d : "{}");
        }
        return;
    }
    if (format && *tmpl) {
        const struct cli_header headers[] = {{"Container", "CONTAINER"}, {"ID", head[0]},
                                             {"Name", head[1]},          {"CPUPerc", head[2]},
                                             {"MemUsage", head[3]},      {"MemPerc", head[4]},
                                             {"NetIO", head[5]},         {"BlockIO", head[6]},
                                             {"PIDs", head[7]},          {NULL, NULL}};
        struct cli_format cf;
        cli_format_init(&cf, format, headers);
        for (size_t i = 0; i < n; i++) {
            _cleanup_json_ json_t *o = stats_object(&rows[i], notrunc);
            if (cli_format_row(&cf, "isola stats", o) < 0)
                break;
        }
        cli_format_end(&cf, "isola stats");
        cli_format_free(&cf);
        return;
    }
    /* Docker's table: columns padded to the widest cell + 3 */
    json_t **objs = calloc(n + 1, sizeof(*objs));
    size_t w[STATS_COLS];
    if (!objs)
        return;
    for (size_t k = 0; k < STATS_COLS; k++)
        w[k] = strlen(head[k]);
    for (size_t i = 0; i < n; i++) {
        objs[i] = stats_object(&rows[i], notrunc);
        for (size_t k = 0; k < STATS_COLS; k++) {
            size_t l = strlen(json_string_value(json_object_get(objs[i], keys[k])) ?: "");
            if (l > w[k])
                w[k] = l;
        }
    }
    for (size_t i = 0; i <= n; i++) {
        for (size_t k = 0; k < STATS_COLS; k++) {
            const char *cell =
                i == 0 ? head[k] : json_string_value(json_object_get(objs[i - 1], keys[k]));
            cell = cell ? cell : "";
            fputs(cell, stdout);
            if (k < STATS_COLS - 1)
                printf("%*s", (int)(w[k] - strlen(cell) + 3), "");
        }
        putchar('\n');
    }
    for (size_t i = 0; i < n; i++)
        json_decref(objs[i]);
    free(objs);
}

int cmd_stats(int argc, char **argv)
{
    static const struct option opts[] = {
        {"all", no_argument, NULL, 'a'},      {"no-stream", no_argument, NULL, 'n'},
        {"no-trunc", no_argument, NULL, 't'}, {"format", required_argument, NULL, 'F'},
        {"help", no_argument, NULL, 'h'},     {NULL, 0, NULL, 0}};
    bool all = false, no_stream = false, notrunc = false;
    const char *format = NULL;
    struct ctr_cli cli;
    struct err *e = NULL;
    struct db_container **v = NULL;
    size_t n = 0;
    int c, rc = 0;

    optind = 0;
    while ((c = getopt_long(argc, argv, "+ah", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            all = true;
            break;
        case 'n':
            no_stream = true;
            break;
        case 't':
            notrunc = true;
            break;
        case 'F':
            format = optarg;
            break;
        case 'h':
            printf("Usage: isola stats [-a] [--no-stream] [--no-trunc] [--format F] "
                   "[CONTAINER...]\n"
                   "Resource usage of the running containers (or those named; -a: all),\n"
                   "refreshed every second until interrupted (--no-stream: once). Columns as\n"
                   "Docker's: CONTAINER ID, NAME, CPU %% (of one CPU, over the last second),\n"
                   "MEM USAGE / LIMIT (the host's memory when there is no limit), MEM %%,\n"
                   "NET I/O, BLOCK I/O, PIDS; `--` where the isolation cannot tell.\n"
                   "  --format F   json (one object a line) or a Go template with .Container,\n"
                   "               .ID, .Name, .CPUPerc, .MemUsage, .MemPerc, .NetIO, .BlockIO,\n"
                   "               .PIDs ('table ' adds a header)\n");
            return 0;
        default:
            return 125;
        }
    }
    if (ctr_cli_open(&cli, "isola stats") < 0)
        return 1;
    if (optind < argc) {
        n = (size_t)(argc - optind);
        v = calloc(n, sizeof(*v));
        for (size_t i = 0; v && i < n; i++) {
            if (ctr_get(cli.db, &cli.env, argv[optind + (int)i], &v[i], &e) < 0) {
                ctr_cli_error("isola stats", e);
                err_free(&e);
                rc = 1;
                n = i;
                goto out;
            }
        }
    } else if (ctr_list(cli.db, &cli.env, all, &v, &n, &e) < 0) {
        ctr_cli_error("isola stats", e);
        err_free(&e);
        rc = 1;
        goto out;
    }
    struct stats_row *rows = calloc(n + 1, sizeof(*rows));
    if (!rows || (n && !v)) {
        rc = 1;
        free(rows);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        rows[i].c = v[i];
        rows[i].t1 = stats_now();
        rows[i].s1 = stats_sample(&cli, v[i]);
    }
    for (;;) {
        /* CPU % over a second, as Docker's collector */
        sleep(1);
        for (size_t i = 0; i < n; i++) {
            json_decref(rows[i].s0);
            rows[i].s0 = rows[i].s1;
            rows[i].t0 = rows[i].t1;
            rows[i].t1 = stats_now();
            rows[i].s1 = stats_sample(&cli, v[i]);
        }
        if (!no_stream && isatty(1))
            fputs("\033[2J\033[H", stdout);
        stats_print(rows, n, format, notrunc);
        fflush(stdout);
        if (no_stream)
            break;
    }
    for (size_t i = 0; i < n; i++) {
        json_decref(rows[i].s0);
        json_decref(rows[i].s1);
    }
    free(rows);
out:
    for (size_t i = 0; v && i < n; i++)
        db_container_free(v[i]);
    free(v);
    ctr_cli_close(&cli);
    return rc;
}
