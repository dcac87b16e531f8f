/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola system boot|df|prune: the whole engine's housekeeping (docs/engine.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli_fmt.h"
#include "cli/commands.h"
#include "cli/ctr_cli.h"
#include "engine/build_step.h"
#include "engine/network.h"
#include "engine/system.h"
#include "engine/volume.h"
#include "image/build.h"
#include "image/store.h"
#include "util/cleanup.h"
#include "util/js.h"

static void boot_report(void *arg, const struct db_container *c, const char *what, struct err *e)
{
    (void)arg;
    if (!e) {
        printf("%s\n", c->name ? c->name : c->id);
        return;
    }
    fprintf(stderr, "isola system boot: %s %s: ", what, c->name ? c->name : c->id);
    err_print(e, NULL, stderr);
}

static int system_boot(int argc, char **argv)
{
    struct ctr_cli cli;
    _cleanup_store_ struct store *s = NULL;
    struct err *e = NULL;
    int rc = 0;

    if (argc > 1) {
        printf("Usage: isola system boot\n"
               "For a system unit run once after the host boots (Docker's daemon does\n"
               "this as it starts): every container whose monitor is gone is marked\n"
               "exited (code 255), the kept containers' overlays are mounted again, and\n"
               "those whose restart policy is `always`, or `unless-stopped` and that ran\n"
               "when the host went down, are started; their names are printed. Exit 1 if\n"
               "any failed (each reported).\n");
        return strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ? 0 : 125;
    }
    if (ctr_cli_open(&cli, "isola system boot") < 0)
        return 1;
    if (store_open(cli_store_root(NULL), &s, &e) < 0 ||
        ctr_system_boot(cli.db, &cli.env, s, boot_report, NULL, &e) < 0) {
        err_print(e, "isola system boot", stderr);
        err_free(&e);
        rc = 1;
    }
    ctr_cli_close(&cli);
    return rc;
}

/* Go's tabwriter as Docker's formatter sets it up: minimum width 10,
 * padding 3. cells: rows of ncol strings, the header first. */
static void df_table(char *const *cells, size_t rows, size_t ncol)
{
    size_t w[16] = {0};

    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < ncol; c++) {
            size_t l = 0;
            for (const char *p = cells[r * ncol + c]; *p; p++)
                l += ((unsigned char)*p & 0xc0) != 0x80;
            if (l + 3 > w[c])
                w[c] = l + 3;
        }
    for (size_t r = 0; r < rows; r++) {
        for (size_t c = 0; c < ncol; c++) {
            const char *cell = cells[r * ncol + c];
            size_t l = 0;
            for (const char *p = cell; *p; p++)
                l += ((unsigned char)*p & 0xc0) != 0x80;
            fputs(cell, stdout);
            if (c + 1 < ncol)
                printf("%*s", (int)((w[c] < 10 ? 10 : w[c]) - l), "");
        }
        putchar('\n');
    }
}

/* "SIZE (P%)" as Docker's Reclaimable: the percentage of total, when total > 0 */
static void df_reclaim(int64_t reclaim, int64_t total, char *buf, size_t len)
{
    char h[32];

    cli_human_size(reclaim, h, sizeof(h));
    if (total > 0)
        snprintf(buf, len, "%s (%lld%%)", h, (long long)(reclaim * 100 / total));
    else
        snprintf(buf, len, "%s", h);
}

/* The summary rows: Type, TotalCount, Active, Size, Reclaimable (Docker's keys). */
static json_t *df_summary(const struct sys_df *df)
{
    json_t *rows = json_array();
    int64_t csize = 0, creclaim = 0, vsize = 0, vreclaim = 0;
    int iactive = 0, cactive = 0, vactive = 0;
    char sz[32], rc[64];

    for (size_t i = 0; i < df->n_images; i++)
        iactive += df->images[i].containers > 0;
    for (size_t i = 0; i < df->n_ctrs; i++) {
        csize += df->ctrs[i].size;
        if (df->ctrs[i].c->status == DB_STATUS_RUNNING ||
            df->ctrs[i].c->status == DB_STATUS_PAUSED ||
            df->ctrs[i].c->status == DB_STATUS_RESTARTING)
            cactive++;
        else
            creclaim += df->ctrs[i].size;
    }
    for (size_t i = 0; i < df->n_vols; i++) {
        vsize += df->vols[i].size;
        if (df->vols[i].links > 0)
            vactive++;
        else
            vreclaim += df->vols[i].size;
    }
    struct {
        const char *type;
        size_t total;
        int active;
        int64_t size, reclaim;
    } t[] = {
        {"Images", df->n_images, iactive, df->images_size, df->images_reclaimable},
        {"Containers", df->n_ctrs, cactive, csize, creclaim},
        {"Local Volumes", df->n_vols, vactive, vsize, vreclaim},
        {"Build Cache", 0, 0, 0, 0}, /* isola build keeps no cache */
    };
    for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
        char total[24], active[24];
        snprintf(total, sizeof(total), "%zu", t[i].total);
        snprintf(active, sizeof(active), "%d", t[i].active);
        cli_human_size(t[i].size, sz, sizeof(sz));
        if (i == 3)
            snprintf(rc, sizeof(rc), "0B"); /* Docker's build cache row: no percentage */
        else
            df_reclaim(t[i].reclaim, t[i].size, rc, sizeof(rc));
        json_array_append_new(rows, json_pack("{s:s, s:s, s:s, s:s, s:s}", "Type", t[i].type,
                                              "TotalCount", total, "Active", active, "Size", sz,
                                              "Reclaimable", rc));
    }
    return rows;
}

static void df_ago(const char *rfc3339, int64_t ns, char *buf, size_t len)
{
    char d[64];
    struct tm tm = {0};

    if (rfc3339) {
        if (!*rfc3339 || !strptime(rfc3339, "%Y-%m-%dT%H:%M:%S", &tm)) {
            snprintf(buf, len, "N/A");
            return;
        }
        ns = (int64_t)timegm(&tm) * 1000000000LL;
    }
    ctr_human_duration(db_now_ns() - ns, d, sizeof(d));
    snprintf(buf, len, "%s ago", d);
}

/* docker system df -v --format json: one object of arrays. */
static json_t *df_verbose_json(const struct sys_df *df)
{
    json_t *imgs = json_array(), *ctrs = json_array(), *vols = json_array();
    char sz[32], sh[32], un[32], ago[96];

    for (size_t i = 0; i < df->n_images; i++) {
        const struct sys_image *im = &df->images[i];
        cli_human_size(im->size, sz, sizeof(sz));
        cli_human_size(im->shared, sh, sizeof(sh));
        cli_human_size(im->size - im->shared, un, sizeof(un));
        df_ago(im->created, 0, ago, sizeof(ago));
        char n[24];
        snprintf(n, sizeof(n), "%d", im->containers);
        json_t *tags = json_array();
        for (size_t t = 0; im->refs && im->refs[t]; t++)
            json_array_append_new(tags, json_string(im->refs[t]));
        json_array_append_new(imgs, json_pack("{s:s, s:o, s:s, s:s, s:s, s:s, s:s}", "ID", im->id,
                                              "Tags", tags, "CreatedSince", ago, "Size", sz,
                                              "SharedSize", sh, "UniqueSize", un, "Containers", n));
    }
    for (size_t i = 0; i < df->n_ctrs; i++) {
        const struct sys_container *sc = &df->ctrs[i];
        char st[96], nv[24];
        cli_human_size(sc->size, sz, sizeof(sz));
        ctr_status_text(sc->c, st, sizeof(st));
        df_ago(NULL, sc->c->created_ns, ago, sizeof(ago));
        snprintf(nv, sizeof(nv), "%d", sc->volumes);
        json_array_append_new(ctrs,
                              json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", sc->c->id,
                                        "Image", sc->c->image_ref, "Names", sc->c->name,
                                        "LocalVolumes", nv, "Size", sz, "RunningFor", ago, "Status",
                                        st, "State", db_status_name(sc->c->status)));
    }
    for (size_t i = 0; i < df->n_vols; i++) {
        char links[24];
        cli_human_size(df->vols[i].size, sz, sizeof(sz));
        snprintf(links, sizeof(links), "%d", df->vols[i].links);
        json_array_append_new(vols, json_pack("{s:s, s:s, s:s, s:s}", "Name", df->vols[i].v->name,
                                              "Links", links, "Size", sz, "Driver",
                                              df->vols[i].v->driver));
    }
    return json_pack("{s:o, s:o, s:o, s:[]}", "Images", imgs, "Containers", ctrs, "Volumes", vols,
                     "BuildCache");
}

static void df_split_ref(const char *ref, char *repo, size_t rlen, char *tag, size_t tlen)
{
    const char *slash = strrchr(ref, '/'), *colon = strrchr(slash ? slash : ref, ':');

    snprintf(repo, rlen, "%.*s", colon ? (int)(colon - ref) : (int)strlen(ref), ref);
    snprintf(tag, tlen, "%s", colon ? colon + 1 : "<none>");
}

static void df_verbose_table(const struct sys_df *df)
{
    size_t rows = 1;
    for (size_t i = 0; i < df->n_images; i++) {
        size_t nt = 0;
        while (df->images[i].refs && df->images[i].refs[nt])
            nt++;
        rows += nt ? nt : 1;
    }
    char **cells = calloc((rows + df->n_ctrs + df->n_vols + 3) * 8, sizeof(char *));
    if (!cells)
        return;
    size_t k = 0;
#define CELL(...)                                   \
    do {                                            \
        if (asprintf(&cells[k++], __VA_ARGS__) < 0) \
            cells[k - 1] = NULL;                    \
    } while (0)

    printf("Images space usage:\n\n");
    const char *ih[] = {"REPOSITORY", "TAG",         "IMAGE ID",    "CREATED",
                        "SIZE",       "SHARED SIZE", "UNIQUE SIZE", "CONTAINERS"};
    for (size_t c = 0; c < 8; c++)
        CELL("%s", ih[c]);
    for (size_t i = 0; i < df->n_images; i++) {
        const struct sys_image *im = &df->images[i];
        char sz[32], sh[32], un[32], ago[96], repo[256], tag[128];
        cli_human_size(im->size, sz, sizeof(sz));
        cli_human_size(im->shared, sh, sizeof(sh));
        cli_human_size(im->size - im->shared, un, sizeof(un));
        df_ago(im->created, 0, ago, sizeof(ago));
        for (size_t t = 0; t == 0 || (im->refs && im->refs[t]); t++) {
            if (im->refs && im->refs[t])
                df_split_ref(im->refs[t], repo, sizeof(repo), tag, sizeof(tag));
            else
                snprintf(repo, sizeof(repo), "<none>"), snprintf(tag, sizeof(tag), "<none>");
            CELL("%s", repo);
            CELL("%s", tag);
            CELL("%.12s", im->id + (strncmp(im->id, "sha256:", 7) == 0 ? 7 : 0));
            CELL("%s", ago);
            CELL("%s", sz);
            CELL("%s", sh);
            CELL("%s", un);
            CELL("%d", im->containers);
        }
    }
    df_table(cells, k / 8, 8);

    printf("\nContainers space usage:\n\n");
    size_t c0 = k;
    const char *ch[] = {"CONTAINER ID", "IMAGE",   "COMMAND", "LOCAL VOLUMES",
                        "SIZE",         "CREATED", "STATUS",  "NAMES"};
    for (size_t c = 0; c < 8; c++)
        CELL("%s", ch[c]);
    for (size_t i = 0; i < df->n_ctrs; i++) {
        const struct sys_container *sc = &df->ctrs[i];
        char sz[32], ago[96], st[96], cmd[1024] = "";
        _cleanup_json_ json_t *cfg = NULL;
        json_t *a;
        size_t j;
        if (sc->c->config &&
            js_load_buf(sc->c->config, strlen(sc->c->config), "config", &cfg, NULL) == 0)
            json_array_foreach (json_object_get(json_object_get(cfg, "process"), "args"), j, a) {
                size_t l = strlen(cmd);
                snprintf(cmd + l, sizeof(cmd) - l, "%s%s", l ? " " : "",
                         json_string_value(a) ?: "");
            }
        cli_human_size(sc->size, sz, sizeof(sz));
        df_ago(NULL, sc->c->created_ns, ago, sizeof(ago));
        ctr_status_text(sc->c, st, sizeof(st));
        CELL("%.12s", sc->c->id);
        CELL("%s", sc->c->image_ref);
        if (strlen(cmd) > 20)
            CELL("\"%.19s…\"", cmd);
        else
            CELL("\"%s\"", cmd);
        CELL("%d", sc->volumes);
        CELL("%s", sz);
        CELL("%s", ago);
        CELL("%s", st);
        CELL("%s", sc->c->name);
    }
    df_table(cells + c0, (k - c0) / 8, 8);

    printf("\nLocal Volumes space usage:\n\n");
    size_t v0 = k;
    CELL("VOLUME NAME");
    CELL("LINKS");
    CELL("SIZE");
    for (size_t i = 0; i < df->n_vols; i++) {
        char sz[32];
        cli_human_size(df->vols[i].size, sz, sizeof(sz));
        CELL("%s", df->vols[i].v->name);
        CELL("%d", df->vols[i].links);
        CELL("%s", sz);
    }
    df_table(cells + v0, (k - v0) / 3, 3);
    printf("\nBuild cache usage: 0B\n\n");
    char *bh[] = {"CACHE ID", "CACHE TYPE", "SIZE", "CREATED", "LAST USED", "USAGE", "SHARED"};
    df_table(bh, 1, 7);
#undef CELL
    for (size_t i = 0; i < k; i++)
        free(cells[i]);
    free(cells);
}

static int system_df(int argc, char **argv)
{
    static const struct option opts[] = {{"verbose", no_argument, NULL, 'v'},
                                         {"format", required_argument, NULL, 'F'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    bool verbose = false;
    const char *format = NULL;
    struct ctr_cli cli;
    _cleanup_store_ struct store *s = NULL;
    struct sys_df df = {0};
    struct err *e = NULL;
    int c, rc = 0;

    optind = 0;
    while ((c = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
        switch (c) {
        case 'v':
            verbose = true;
            break;
        case 'F':
            format = optarg;
            break;
        case 'h':
            printf("Usage: isola system df [-v] [--format json|TEMPLATE]\n"
                   "Shows the disk space the engine's objects take, as Docker's columns\n"
                   "TYPE, TOTAL, ACTIVE, SIZE, RECLAIMABLE for Images (their blobs, each\n"
                   "counted once; active: a container is made from it), Containers (their\n"
                   "writable layers; active: running), Local Volumes (active: in use) and\n"
                   "Build Cache (isola build keeps none). RECLAIMABLE is what `system prune\n"
                   "-a --volumes` would free, as a share of SIZE.\n"
                   "  -v, --verbose     one table per type, a row per object\n"
                   "  --format F        json (one object a line; with -v one object of\n"
                   "                    arrays), or a Go template such as\n"
                   "                    '{{.Type}} {{.Size}}' ('table ' adds a header)\n");
            return 0;
        default:
            return 125;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "isola system df: accepts no arguments\n");
        return 125;
    }
    if (ctr_cli_open(&cli, "isola system df") < 0)
        return 1;
    if (store_open(cli_store_root(NULL), &s, &e) < 0 || sys_df(cli.db, &cli.env, s, &df, &e) < 0) {
        ctr_cli_error("isola system df", e);
        err_free(&e);
        ctr_cli_close(&cli);
        return 1;
    }
    if (verbose && format && strcmp(format, "json") == 0) {
        _cleanup_json_ json_t *j = df_verbose_json(&df);
        _cleanup_free_ char *d = json_dumps(j, JSON_COMPACT);
        printf("%s\n", d ?: "{}");
    } else if (verbose) {
        df_verbose_table(&df);
    } else {
        _cleanup_json_ json_t *rows = df_summary(&df);
        bool table = format && strncmp(format, "table", 5) == 0;
        const char *tpl = table ? format + 5 + (format[5] == ' ') : format;
        json_t *r;
        size_t i;
        if (format && strcmp(format, "json") == 0) {
            json_array_foreach (rows, i, r) {
                _cleanup_free_ char *d = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);
                printf("%s\n", d ?: "{}");
            }
        } else if (tpl && *tpl) {
            _cleanup_json_ json_t *hdr =
                json_pack("{s:s, s:s, s:s, s:s, s:s}", "Type", "TYPE", "TotalCount", "TOTAL",
                          "Active", "ACTIVE", "Size", "SIZE", "Reclaimable", "RECLAIMABLE");
            if (table && cli_template_print("isola system df", tpl, hdr) < 0)
                rc = 125;
            json_array_foreach (rows, i, r) {
                if (rc)
                    break;
                if (cli_template_print("isola system df", tpl, r) < 0) {
                    rc = 125;
                    break;
                }
            }
        } else {
            char *cells[5 * 5] = {"TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"};
            const char *keys[] = {"Type", "TotalCount", "Active", "Size", "Reclaimable"};
            json_array_foreach (rows, i, r) {
                for (size_t k = 0; k < 5; k++)
                    cells[(i + 1) * 5 + k] = (char *)json_string_value(json_object_get(r, keys[k]));
            }
            df_table(cells, 5, 5);
        }
    }
    sys_df_free(&df);
    ctr_cli_close(&cli);
    return rc;
}

struct prune_out {
    char **lines; /* strv */
    size_t n;
};

static void prune_line(void *arg, const char *line)
{
    struct prune_out *o = arg;
    char **v = realloc(o->lines, (o->n + 2) * sizeof(char *));

    if (!v)
        return;
    o->lines = v;
    if ((v[o->n] = strdup(line)))
        o->n++;
    v[o->n] = NULL;
}

static void prune_section(const char *title, const struct prune_out *o)
{
    if (o->n == 0)
        return;
    printf("%s:\n", title);
    for (size_t i = 0; i < o->n; i++)
        printf("%s\n", o->lines[i]);
    putchar('\n');
}

static int system_prune(int argc, char **argv)
{
    static const struct option opts[] = {{"all", no_argument, NULL, 'a'},
                                         {"force", no_argument, NULL, 'f'},
                                         {"volumes", no_argument, NULL, 'V'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    bool force = false, volumes = false, all = false;
    struct prune_out oc = {0}, on = {0}, ov = {0}, oi = {0};
    int64_t reclaimed = 0;
    struct ctr_cli cli;
    _cleanup_store_ struct store *s = NULL;
    struct err *e = NULL;
    int c, rc = 0;

    optind = 0;
    while ((c = getopt_long(argc, argv, "+afh", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            all = true;
            break;
        case 'f':
            force = true;
            break;
        case 'V':
            volumes = true;
            break;
        case 'h':
            printf("Usage: isola system prune [-a] [-f] [--volumes]\n"
                   "Removes, as Docker's: the stopped containers, the networks no container\n"
                   "uses, the dangling images (no tag) or with -a every image no container is\n"
                   "made from, and with --volumes the anonymous volumes no container uses;\n"
                   "then the store's blobs and layers nothing reaches. Prints what it removed\n"
                   "and the total reclaimed space. Asks first unless -f.\n"
                   "  -a, --all         every unused image, not only dangling ones\n"
                   "  -f, --force       do not ask\n"
                   "  --volumes         anonymous volumes too\n");
            return 0;
        default:
            return 125;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "isola system prune: accepts no arguments\n");
        return 125;
    }
    if (!force) {
        char line[64] = "";
        printf("WARNING! This will remove:\n"
               "  - all stopped containers\n"
               "  - all networks not used by at least one container\n"
               "%s%s\n"
               "Are you sure you want to continue? [y/N] ",
               volumes ? "  - all anonymous volumes not used by at least one container\n" : "",
               all ? "  - all images without at least one container associated to them\n"
                   : "  - all dangling images\n");
        fflush(stdout);
        if (!fgets(line, sizeof(line), stdin) || (line[0] != 'y' && line[0] != 'Y'))
            return 0;
    }
    if (ctr_cli_open(&cli, "isola system prune") < 0)
        return 1;
    /* containers first: the networks, volumes and images they held are free then */
    struct db_container **v = NULL;
    size_t n = 0;
    if (ctr_list_brief(cli.db, &cli.env, true, &v, &n, &e) < 0) {
        ctr_cli_error("isola system prune", e);
        err_free(&e);
        rc = 1;
    }
    for (size_t i = 0; i < n; i++) {
        if (v[i]->status != DB_STATUS_EXITED && v[i]->status != DB_STATUS_CREATED &&
            v[i]->status != DB_STATUS_DEAD)
            continue;
        int64_t size = sys_container_size(&cli.env, v[i]->id);
        if (ctr_remove(cli.db, &cli.env, v[i]->id, false, false, &e) < 0) {
            ctr_cli_error("isola system prune", e);
            err_free(&e);
            rc = 1;
            continue;
        }
        reclaimed += size;
        prune_line(&oc, v[i]->id);
    }
    db_container_list_free(v, n);
    _cleanup_strv_ char **nets = NULL;
    if (network_prune(cli.db, &nets, &e) < 0) {
        ctr_cli_error("isola system prune", e);
        err_free(&e);
        rc = 1;
    }
    for (size_t i = 0; nets && nets[i]; i++)
        prune_line(&on, nets[i]);
    if (volumes) {
        _cleanup_strv_ char **vols = NULL;
        uint64_t vbytes = 0;
        struct volume_prune_filter pf = {.all = false};
        if (volume_prune(cli.db, cli.env.state_root, &pf, &vols, &vbytes, &e) < 0) {
            ctr_cli_error("isola system prune", e);
            err_free(&e);
            rc = 1;
        }
        for (size_t i = 0; vols && vols[i]; i++)
            prune_line(&ov, vols[i]);
        reclaimed += (int64_t)vbytes;
    }
    struct store_gc_stats st = {0};
    struct build_step_engine steps;
    /* builds' leftover containers, with the runtime builds use (image prune's) */
    build_step_engine_init(&steps, getenv("ISOLA_BUILD_RUNTIME"));
    if (store_open(cli_store_root(NULL), &s, &e) < 0 ||
        sys_prune_images(cli.db, s, all, prune_line, &oi, &e) < 0 ||
        build_reap_stale(s, &steps.ops, &e) < 0 || store_prune(s, &st, &e) < 0) {
        err_print(e, "isola system prune", stderr);
        err_free(&e);
        rc = 1;
    }
    reclaimed += st.bytes_freed;
    ctr_cli_close(&cli);
    prune_section("Deleted Containers", &oc);
    prune_section("Deleted Networks", &on);
    prune_section("Deleted Volumes", &ov);
    prune_section("Deleted Images", &oi);
    char h[32];
    cli_human_size(reclaimed, h, sizeof(h));
    printf("Total reclaimed space: %s\n", h);
    strv_free(oc.lines);
    strv_free(on.lines);
    strv_free(ov.lines);
    strv_free(oi.lines);
    return rc;
}

int cmd_system(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "boot") == 0)
        return system_boot(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "prune") == 0)
        return system_prune(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "df") == 0)
        return system_df(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        printf("Usage: isola system boot|df|prune (see `isola system COMMAND --help`)\n");
        return 0;
    }
    fprintf(stderr, "isola system: expected boot, df or prune (see `isola system --help`)\n");
    return 125;
}
