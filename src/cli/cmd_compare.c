/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * isola compare [OPTIONS] IMAGE [CMD...]: the workload in each model
 * (container, vm-container, vm), measured (engine/compare.h), printed as a
 * table, markdown or JSON, charts with --output (docs/compare.md).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cairo_dl.h"
#include "cli/commands.h"
#include "cli/compare_out.h"
#include "cli/ctr_cli.h"
#include "engine/compare.h"
#include "util/cleanup.h"
#include "util/js.h"
#include "util/size.h"

int cmd_compare(int argc, char **argv);

static const char usage_text[] =
    "Usage: isola compare [OPTIONS] IMAGE [CMD...]\n"
    "\n"
    "Run one workload as a container, as a container in a microVM and as a full VM,\n"
    "and measure each: start (launch to the first output or --ready, cold and warm),\n"
    "memory (PSS of every process of an idle instance, charged and peak), disk (unique\n"
    "to one instance, shared), density (--density), the workload's overhead (CPU,\n"
    "syscall and file I/O loops, TCP round trip on loopback), isolation facts; then\n"
    "the articles' claims, judged. A model that cannot run here is reported with the\n"
    "reason. Every instance is removed at the end, also after Ctrl-C.\n"
    "The workload should print a line once it is up and then stay up, for example\n"
    "`sh -c 'echo ready; exec sleep 3600'`. See docs/compare.md.\n"
    "\n"
    "Options:\n"
    "  --format table|json|markdown   the report on stdout (default table)\n"
    "  -o, --output FILE.svg|FILE.png|FILE.html   charts (repeatable)\n"
    "  --models LIST      of container,vm-container,vm (default all)\n"
    "  --runs N           instances started per model (default 5)\n"
    "  --ready CMD|tcp:PORT|http:URL   when the workload is started (default: its\n"
    "                     first output); CMD is exec'd in it until it exits 0\n"
    "  --density BUDGET   start idle instances until their memory reaches BUDGET\n"
    "                     (e.g. 256m) or one fails\n"
    "  --density-max N    at most N instances in the density test (default 50)\n"
    "  --no-cold          do not drop the page cache before each model's first run\n"
    "  --timeout SECONDS  for one instance to be ready (default 60)\n"
    "  -h, --help\n";

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

struct progress_line {
    bool tty;
    bool drawn;
};

static void progress_step(void *arg, const char *model, const char *what)
{
    struct progress_line *p = arg;

    if (!p->tty)
        return;
    fprintf(stderr, "\r\033[Kcompare: %s: %s", model, what);
    fflush(stderr);
    p->drawn = true;
}

static void progress_end(struct progress_line *p)
{
    if (p->drawn)
        fputs("\r\033[K", stderr);
    p->drawn = false;
}

/* "a,b,c" -> a NULL-terminated vector pointing into s (modified). */
static const char **split_models(char *s)
{
    size_t n = 2;
    for (char *p = s; *p; p++)
        n += *p == ',';
    const char **v = calloc(n, sizeof(char *));
    size_t k = 0;
    char *save = NULL;
    if (!v)
        return NULL;
    for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save))
        v[k++] = t;
    return v;
}

int cmd_compare(int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"models", required_argument, NULL, 'M'},
        {"runs", required_argument, NULL, 'r'},
        {"ready", required_argument, NULL, 'R'},
        {"density", required_argument, NULL, 'd'},
        {"density-max", required_argument, NULL, 'D'},
        {"no-cold", no_argument, NULL, 'C'},
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *format = "table";
    const char *outputs[16];
    size_t n_out = 0;
    _cleanup_free_ const char **models = NULL;
    struct compare_opts o = {.runs = 5, .cold = true, .timeout_ms = 60000};
    __attribute__((cleanup(compare_ready_release))) struct compare_ready ready = {0};
    struct err *e = NULL;
    int c;
    char *end;

    while ((c = getopt_long(argc, argv, "+o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (strcmp(optarg, "table") && strcmp(optarg, "json") && strcmp(optarg, "markdown")) {
                fprintf(stderr, "isola compare: --format `%s`: expected table, json or markdown\n",
                        optarg);
                return 2;
            }
            format = optarg;
            break;
        case 'o': {
            const char *dot = strrchr(optarg, '.');
            if (!dot || (strcmp(dot, ".svg") && strcmp(dot, ".png") && strcmp(dot, ".html"))) {
                fprintf(stderr,
                        "isola compare: --output `%s`: expected a file ending in .svg, .png or "
                        ".html\n",
                        optarg);
                return 2;
            }
            if (n_out == ARRAY_SIZE(outputs)) {
                fprintf(stderr, "isola compare: too many --output files\n");
                return 2;
            }
            outputs[n_out++] = optarg;
            break;
        }
        case 'M':
            free(models);
            models = split_models(optarg);
            if (!models || !models[0]) {
                fprintf(stderr, "isola compare: --models: expected container,vm-container,vm\n");
                return 2;
            }
            break;
        case 'r': {
            errno = 0;
            unsigned long n = strtoul(optarg, &end, 10);
            if (errno || *end || n < 1 || n > 1000) {
                fprintf(stderr, "isola compare: --runs `%s`: expected 1 to 1000\n", optarg);
                return 2;
            }
            o.runs = (unsigned)n;
            break;
        }
        case 'R':
            compare_ready_release(&ready);
            if (compare_ready_parse(optarg, &ready, &e) < 0) {
                err_print(e, "isola compare", stderr);
                err_free(&e);
                return 2;
            }
            break;
        case 'd':
            if (size_parse(optarg, 1, &o.density_budget, &e) < 0 || o.density_budget <= 0) {
                if (e)
                    err_print(e, "isola compare: --density", stderr);
                else
                    fprintf(stderr, "isola compare: --density: expected a size above 0\n");
                err_free(&e);
                return 2;
            }
            break;
        case 'D': {
            errno = 0;
            unsigned long n = strtoul(optarg, &end, 10);
            if (errno || *end || n < 1 || n > 10000) {
                fprintf(stderr, "isola compare: --density-max `%s`: expected 1 to 10000\n", optarg);
                return 2;
            }
            o.density_max = (unsigned)n;
            break;
        }
        case 'C':
            o.cold = false;
            break;
        case 't': {
            errno = 0;
            unsigned long n = strtoul(optarg, &end, 10);
            if (errno || *end || n < 1 || n > 3600) {
                fprintf(stderr, "isola compare: --timeout `%s`: expected 1 to 3600 seconds\n",
                        optarg);
                return 2;
            }
            o.timeout_ms = (int)n * 1000;
            break;
        }
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        default:
            fputs(usage_text, stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        fputs(usage_text, stderr);
        return 2;
    }
    o.image = argv[optind];
    o.args = optind + 1 < argc ? argv + optind + 1 : NULL;
    o.models = models;
    o.ready = ready;
    o.kvm_dev = getenv("ISOLA_KVM_DEV");
    o.interrupted = &interrupted;
    struct progress_line pl = {.tty = isatty(2) == 1};
    o.progress = (struct compare_progress){.step = progress_step, .arg = &pl};

    /* Ctrl-C: stop at the next step and remove what was started */
    struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term, old_hup;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGHUP, &sa, &old_hup);

    struct ctr_cli cli;
    _cleanup_store_ struct store *s = NULL;
    _cleanup_json_ json_t *report = NULL;
    int rc = 1;
    if (ctr_cli_open(&cli, "isola compare") < 0)
        return 1;
    if (store_open(cli_store_root(NULL), &s, &e) < 0 ||
        compare_run(cli.db, &cli.env, s, &o, &report, &e) < 0) {
        progress_end(&pl);
        err_print(e, "isola compare", stderr);
        rc = e && e->code == EINTR ? 130 : 1;
        err_free(&e);
        goto out;
    }
    progress_end(&pl);
    if (strcmp(format, "json") == 0) {
        char *text = json_dumps(report, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (text)
            puts(text);
        free(text);
    } else {
        compare_print(report, strcmp(format, "markdown") == 0 ? CMP_FMT_MARKDOWN : CMP_FMT_TABLE,
                      stdout);
    }
    fflush(stdout);
    rc = 0;
    for (size_t i = 0; i < n_out; i++)
        if (compare_chart_write(report, outputs[i], &e) < 0) {
            err_print(e, "isola compare", stderr);
            err_free(&e);
            rc = 1;
        } else {
            fprintf(stderr, "isola compare: wrote %s\n", outputs[i]);
        }
    cairo_dl_release_caches();
    /* a model that failed: the report is complete, the exit says so */
    json_t *m;
    size_t i;
    json_array_foreach (json_object_get(report, "models"), i, m) {
        const char *st = json_string_value(json_object_get(m, "status"));
        if (st && strcmp(st, "failed") == 0 && rc == 0)
            rc = 3;
    }
out:
    ctr_cli_close(&cli);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    return rc;
}
