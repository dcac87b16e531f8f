/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola ps [-a] [-q] [--no-trunc] [--filter K=V] [--format json|TEMPLATE] */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli_fmt.h"
#include "cli/cli_template.h"
#include "cli/commands.h"
#include "cli/ctr_cli.h"
#include "engine/ctr_fg.h"
#include "engine/ctr_net.h"
#include "engine/system.h"
#include "image/store.h"
#include "util/cleanup.h"
#include "util/js.h"

struct ps_row {
    char id[DB_ID_LEN + 1], command[256], created[80], status[96], state[16], created_at[64];
    char ports[512], image_buf[512], size[96]; /* size: -s only, else "" */
    const char *image, *name, *kind;
    json_t *labels; /* object */
};

/* A VM's row: its kind in the IMAGE column (vm:KERNEL), its kernel command
 * line as COMMAND. */
static bool ps_fill_vm(const struct db_container *c, struct ps_row *r, char *cmd, size_t len)
{
    _cleanup_json_ json_t *cfg = NULL;
    const char *k = c->image_ref ? c->image_ref : "", *base = strrchr(k, '/');

    snprintf(r->image_buf, sizeof(r->image_buf), "vm:%s", base ? base + 1 : k);
    r->image = r->image_buf;
    if (js_load_buf(c->config, strlen(c->config), "config", &cfg, NULL) == 0)
        snprintf(cmd, len, "%s",
                 json_string_value(json_object_get(json_object_get(cfg, "vm"), "cmdline")) ?: "");
    return true;
}

static void ps_fill(const struct db_container *c, bool notrunc, struct ps_row *r)
{
    _cleanup_json_ json_t *cfg = NULL;
    char d[64], cmd[1024] = "";
    size_t i;
    json_t *a;

    snprintf(r->id, sizeof(r->id), "%.*s", notrunc ? DB_ID_LEN : 12, c->id);
    r->image = c->image_ref;
    r->name = c->name;
    r->kind = c->isolation == DB_ISOLATION_VM ? "vm" : "container";
    r->labels = json_object();
    if (c->isolation == DB_ISOLATION_VM && ps_fill_vm(c, r, cmd, sizeof(cmd))) {
        /* a VM (docs/vm.md): IMAGE is vm:KERNEL, COMMAND its command line */
    } else if (js_load_buf(c->config, strlen(c->config), "config", &cfg, NULL) == 0) {
        /* a foreground run's row: the command is in its bundle's config */
        _cleanup_json_ json_t *fg_args = ctr_fg_args(c);
        json_array_foreach (fg_args ?: json_object_get(json_object_get(cfg, "process"), "args"), i,
                            a) {
            size_t l = strlen(cmd);
            snprintf(cmd + l, sizeof(cmd) - l, "%s%s", l ? " " : "", json_string_value(a) ?: "");
        }
        /* Docker lists a running container's published ports */
        if (c->status == DB_STATUS_RUNNING || c->status == DB_STATUS_PAUSED)
            ctr_net_ports_text(json_object_get(cfg, "annotations"), r->ports, sizeof(r->ports));
        const char *k;
        json_t *v;
        json_object_foreach (json_object_get(cfg, "annotations"), k, v) {
            if (strncmp(k, "org.opencontainers.", 19) && strncmp(k, "io.isola.", 9))
                json_object_set(r->labels, k, v);
        }
    }
    /* Docker's: quoted, cut at 20 characters with an ellipsis */
    if (!notrunc && strlen(cmd) > 20)
        snprintf(r->command, sizeof(r->command), "\"%.19s…\"", cmd);
    else
        snprintf(r->command, sizeof(r->command), "\"%s\"", cmd);
    ctr_human_duration(db_now_ns() - c->created_ns, d, sizeof(d));
    snprintf(r->created, sizeof(r->created), "%s ago", d);
    /* Docker's: Go's time.String() of the creation, here in UTC */
    time_t t = (time_t)(c->created_ns / 1000000000LL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(r->created_at, sizeof(r->created_at), "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
    ctr_status_text(c, r->status, sizeof(r->status));
    snprintf(r->state, sizeof(r->state), "%s", db_status_name(c->status));
}

/* Docker's SIZE: "2B (virtual 4.26MB)": the writable layer, and it plus
 * the image. */
static void ps_size(const struct ctr_env *env, struct store *s, const struct db_container *c,
                    char *buf, size_t len)
{
    char rw[32], virt[32];
    int64_t n = c->isolation == DB_ISOLATION_VM ? 0 : sys_container_size(env, c->id);

    if (n < 0)
        n = 0;
    cli_human_size(n, rw, sizeof(rw));
    cli_human_size(n + sys_image_size(s, c->image_id), virt, sizeof(virt));
    snprintf(buf, len, "%s (virtual %s)", rw, virt);
}

static bool ps_match(const struct db_container *c, const struct ps_row *r, char **filters,
                     size_t nf)
{
    for (size_t i = 0; i < nf; i++) {
        const char *f = filters[i], *v = strchr(f, '=');
        if (!v)
            return false;
        size_t kl = (size_t)(v - f);
        v++;
        if (kl == 6 && strncmp(f, "status", 6) == 0) {
            if (strcmp(v, r->state) != 0)
                return false;
        } else if (kl == 4 && strncmp(f, "name", 4) == 0) {
            if (!strstr(c->name, v)) /* Docker: a substring (a regexp) */
                return false;
        } else if (kl == 5 && strncmp(f, "label", 5) == 0) {
            char key[256];
            const char *eq = strchr(v, '=');
            snprintf(key, sizeof(key), "%.*s", (int)(eq ? (size_t)(eq - v) : strlen(v)), v);
            json_t *lv = json_object_get(r->labels, key);
            if (!lv || (eq && strcmp(json_string_value(lv) ?: "", eq + 1) != 0))
                return false;
        } else if (kl == 6 && strncmp(f, "health", 6) == 0) {
            /* Docker's: starting, healthy, unhealthy, none */
            if (strcmp(v, db_health_name(c->health)) != 0)
                return false;
        } else if (kl == 2 && strncmp(f, "id", 2) == 0) {
            if (strncmp(c->id, v, strlen(v)) != 0)
                return false;
        }
    }
    return true;
}

static json_t *ps_json(const struct ps_row *r)
{
    _cleanup_free_ char *labels = NULL;
    const char *k;
    json_t *v;
    size_t n = 0;
    char buf[4096] = "";

    json_object_foreach (r->labels, k, v) {
        size_t l = strlen(buf);
        snprintf(buf + l, sizeof(buf) - l, "%s%s=%s", n++ ? "," : "", k,
                 json_string_value(v) ?: "");
    }
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", r->id,
                          "Image", r->image, "Command", r->command, "CreatedAt", r->created_at,
                          "RunningFor", r->created, "Status", r->status, "State", r->state, "Ports",
                          r->ports, "Names", r->name, "Labels", buf, "Kind", r->kind);
    if (j && r->size[0])
        json_object_set_new(j, "Size", json_string(r->size));
    return j;
}

/* Characters, not bytes (the ellipsis of COMMAND is three bytes). */
static size_t ps_width(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

/* Docker's table: Go's tabwriter, columns padded to the widest cell + 3. */
static void ps_table(char ***cells, size_t rows, size_t ncol)
{
    size_t w[8] = {0};
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < ncol; c++)
            if (ps_width(cells[r][c]) > w[c])
                w[c] = ps_width(cells[r][c]);
    for (size_t r = 0; r < rows; r++) {
        for (size_t c = 0; c < ncol; c++) {
            fputs(cells[r][c], stdout);
            if (c < ncol - 1)
                printf("%*s", (int)(w[c] - ps_width(cells[r][c]) + 3), "");
        }
        putchar('\n');
    }
}

int cmd_ps(int argc, char **argv)
{
    static const struct option opts[] = {
        {"all", no_argument, NULL, 'a'},          {"quiet", no_argument, NULL, 'q'},
        {"no-trunc", no_argument, NULL, 'T'},     {"filter", required_argument, NULL, 'f'},
        {"format", required_argument, NULL, 'F'}, {"latest", no_argument, NULL, 'l'},
        {"last", required_argument, NULL, 'n'},   {"size", no_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    _cleanup_free_ char **filters = calloc((size_t)argc + 1, sizeof(char *));
    size_t nf = 0;
    bool all = false, quiet = false, notrunc = false, size = false;
    const char *format = NULL;
    long last = -1; /* -n: the last N created, in any state; -l: 1 */
    _cleanup_store_ struct store *store = NULL;
    struct ctr_cli cli;
    struct err *e = NULL;
    struct db_container **v = NULL;
    size_t n = 0;
    int c;

    if (!filters)
        return 1;
    optind = 0;
    while ((c = getopt_long(argc, argv, "+aqf:ln:sh", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            all = true;
            break;
        case 'q':
            quiet = true;
            break;
        case 'T':
            notrunc = true;
            break;
        case 'f':
            filters[nf++] = optarg;
            break;
        case 'F':
            format = optarg;
            break;
        case 'l':
            last = 1;
            break;
        case 'n': {
            char *end;
            errno = 0;
            last = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end) {
                fprintf(stderr, "isola ps: invalid argument \"%s\" for \"-n, --last\" flag\n",
                        optarg);
                return 125;
            }
            break;
        }
        case 's':
            size = true;
            break;
        case 'h':
            printf(
                "Usage: isola ps [-a] [-q] [-l|-n N] [-s] [--no-trunc] [--filter K=V]... [--format "
                "F]\n"
                "Lists running containers (-a: all), newest first, as Docker's columns\n"
                "CONTAINER ID, IMAGE, COMMAND, CREATED, STATUS, PORTS, NAMES. A container\n"
                "whose monitor is gone is shown as exited (code 255 unless its exit was\n"
                "recorded). VMs (isola vm run -d) are listed too: IMAGE vm:KERNEL, COMMAND\n"
                "their kernel command line; {{.Kind}} is container or vm.\n"
                "  -q, --quiet       IDs only\n"
                "  -n, --last N      the N last created containers, in any state\n"
                "  -l, --latest      the last created container, in any state (-n 1)\n"
                "  -s, --size        a SIZE column: the writable layer's bytes and, as\n"
                "                    Docker's, \"(virtual ...)\" with the image's\n"
                "  --filter K=V      status=created|running|restarting|exited, name=SUBSTR,\n"
                "                    label=KEY[=VALUE], id=PREFIX,\n"
                "                    health=starting|healthy|unhealthy|none (all must match)\n"
                "  --format F        json (one object a line), or a Go template such as\n"
                "                    '{{.ID}} {{.Names}} {{.Status}}' ('table ' adds a header)\n");
            return 0;
        default:
            return 125;
        }
    }
    /* a status filter other than running looks at every container, as Docker's */
    for (size_t i = 0; i < nf; i++)
        if (strncmp(filters[i], "status=", 7) == 0 && strcmp(filters[i], "status=running") != 0)
            all = true;
    if (last >= 0) /* Docker's: -n and -l look at every container */
        all = true;
    if (ctr_cli_open(&cli, "isola ps") < 0)
        return 1;
    if (size && store_open(cli_store_root(NULL), &store, &e) < 0) {
        ctr_cli_error("isola ps", e);
        err_free(&e);
        ctr_cli_close(&cli);
        return 1;
    }
    if (ctr_list_brief(cli.db, &cli.env, all, &v, &n, &e) < 0) {
        ctr_cli_error("isola ps", e);
        err_free(&e);
        ctr_cli_close(&cli);
        return 1;
    }
    /* Docker's column titles (the others: the field's name in capitals) */
    static const struct cli_header headers[] = {
        {"ID", "CONTAINER ID"}, {"RunningFor", "CREATED"}, {NULL, NULL}};
    struct cli_format cf;
    int rc = 0;
    cli_format_init(&cf, format, headers);
    /* the default table: a header and one row per container, padded at the end */
    char ***cells = calloc(n + 1, sizeof(char **));
    size_t nrows = 0;
    if (!cells)
        return 1;
    static char *header[8] = {"CONTAINER ID", "IMAGE", "COMMAND", "CREATED",
                              "STATUS",       "PORTS", "NAMES",   "SIZE"};
    size_t ncol = size ? 8 : 7;
    long shown = 0;
    cells[nrows++] = header;
    for (size_t i = 0; i < n && (last < 0 || shown < last); i++) {
        struct ps_row r = {0};
        ps_fill(v[i], notrunc, &r);
        if (!ps_match(v[i], &r, filters, nf)) {
            json_decref(r.labels);
            continue;
        }
        shown++;
        if (size)
            ps_size(&cli.env, store, v[i], r.size, sizeof(r.size));
        if (quiet) {
            printf("%s\n", r.id);
        } else if (cf.kind != CLI_FORMAT_DEFAULT) {
            _cleanup_json_ json_t *j = ps_json(&r);
            if (rc == 0 && cli_format_row(&cf, "isola ps", j) < 0)
                rc = 125;
        } else {
            char **row = calloc(8, sizeof(char *));
            if (row) {
                char *vals[8] = {r.id,     (char *)r.image, r.command,      r.created,
                                 r.status, r.ports,         (char *)r.name, r.size};
                for (size_t k = 0; k < ncol; k++)
                    row[k] = strdup(vals[k]);
                cells[nrows++] = row;
            }
        }
        json_decref(r.labels);
    }
    if (!quiet && cf.kind == CLI_FORMAT_DEFAULT)
        ps_table(cells, nrows, ncol);
    if (!quiet && rc == 0 && cli_format_end(&cf, "isola ps") < 0)
        rc = 125;
    cli_format_free(&cf);
    for (size_t i = 1; i < nrows; i++) {
        for (size_t k = 0; k < ncol; k++)
            free(cells[i][k]);
        free(cells[i]);
    }
    free(cells);
    db_container_list_free(v, n);
    ctr_cli_close(&cli);
    return rc;
}
