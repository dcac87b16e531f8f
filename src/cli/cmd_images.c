/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola images [--root DIR] [--format table|json|TEMPLATE] [-q]: list the store's images. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli_template.h"
#include "cli/commands.h"
#include "engine/container.h"
#include "image/image.h"
#include "util/cleanup.h"
#include "util/js.h"

static void human_size(int64_t n, char *buf, size_t len)
{
    const char *units[] = {"B", "kB", "MB", "GB", "TB"};
    double v = (double)n;
    size_t u = 0;

    while (v >= 1000 && u + 1 < ARRAY_SIZE(units)) {
        v /= 1000;
        u++;
    }
    snprintf(buf, len, u == 0 ? "%.0f%s" : "%.3g%s", v, units[u]);
}

static void split_ref(const char *ref, char *repo, size_t rlen, const char **tag)
{
    const char *slash = strrchr(ref, '/');
    const char *colon = strrchr(slash ? slash : ref, ':');

    if (colon == NULL) {
        snprintf(repo, rlen, "%s", ref);
        *tag = "<none>";
        return;
    }
    snprintf(repo, rlen, "%.*s", (int)(colon - ref), ref);
    *tag = colon + 1;
}

/* A row as Docker's image context names its fields (--format TEMPLATE). */
static json_t *image_row(json_t *e)
{
    const char *name = json_string_value(json_object_get(e, "name"));
    const char *id = json_string_value(json_object_get(e, "id"));
    const char *created = json_string_value(json_object_get(e, "created"));
    const char *tag = "<none>";
    char repo[256] = "<none>", size[32], at[64] = "", since[64] = "";
    struct tm tm = {0};

    if (name)
        split_ref(name, repo, sizeof(repo), &tag);
    human_size(json_integer_value(json_object_get(e, "size")), size, sizeof(size));
    if (created && strptime(created, "%Y-%m-%dT%H:%M:%S", &tm) != NULL) {
        time_t t = timegm(&tm);
        char d[48];
        strftime(at, sizeof(at), "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
        ctr_human_duration((int64_t)(time(NULL) - t) * 1000000000LL, d, sizeof(d));
        snprintf(since, sizeof(since), "%s ago", d);
    }
    return json_pack("{s:s%, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", id + 7, (size_t)12, "Repository",
                     repo, "Tag", tag, "Digest",
                     json_string_value(json_object_get(e, "digest")) ?: "<none>", "CreatedAt", at,
                     "CreatedSince", since, "Size", size);
}

int cmd_images(int argc, char **argv)
{
    static const struct option opts[] = {{"root", required_argument, NULL, 'r'},
                                         {"format", required_argument, NULL, 'f'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    _cleanup_store_ struct store *s = NULL;
    _cleanup_err_ struct err *err = NULL;
    _cleanup_json_ json_t *index = NULL, *out = json_array();
    const char *root = NULL, *format = "table";
    bool quiet = false;
    json_t *e;
    size_t i;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            root = optarg;
            break;
        case 'f':
            format = optarg;
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            printf("Usage: isola images [--root DIR] [--format table|json|TEMPLATE] [-q]\n"
                   "  --format F   table (default), json (an array), or a Go template with\n"
                   "               {{.ID}} {{.Repository}} {{.Tag}} {{.Digest}} {{.CreatedAt}}\n"
                   "               {{.CreatedSince}} {{.Size}} ('table ' adds the header)\n");
            return 0;
        default:
            return 2;
        }
    }
    if (store_open(cli_store_root(root), &s, &err) < 0 || store_index_load(s, &index, &err) < 0)
        goto fail;
    json_array_foreach (json_object_get(index, "manifests"), i, e) {
        _cleanup_image_ struct image *img = NULL;
        _cleanup_err_ struct err *e2 = NULL;
        const char *created = NULL;

        if (image_open_entry(s, e, NULL, &img, &e2) < 0) {
            fprintf(stderr, "isola images: warning: %s\n", e2->msg);
            continue;
        }
        js_get_str(img->config, "config", "created", false, &created, NULL);
        json_array_append_new(out,
                              json_pack("{s:s?, s:s, s:s, s:I, s:s?}", "name", img->ref, "id",
                                        img->m.config.digest, "digest",
                                        json_string_value(json_object_get(e, "digest")), "size",
                                        (json_int_t)image_size(img), "created", created));
    }
    if (strcmp(format, "json") == 0) {
        _cleanup_free_ char *s2 = json_dumps(out, JSON_INDENT(2));
        printf("%s\n", s2);
        return 0;
    }
    static const struct cli_header headers[] = {
        {"ID", "IMAGE ID"}, {"CreatedSince", "CREATED"}, {NULL, NULL}};
    struct cli_format cf;
    cli_format_init(&cf, format, headers);
    if (cf.kind == CLI_FORMAT_TEMPLATE && !quiet) {
        int rc = 0;
        json_array_foreach (out, i, e) {
            _cleanup_json_ json_t *row = image_row(e);
            if (rc == 0 && cli_format_row(&cf, "isola images", row) < 0)
                rc = 125;
        }
        if (rc == 0 && cli_format_end(&cf, "isola images") < 0)
            rc = 125;
        cli_format_free(&cf);
        return rc;
    }
    if (!quiet)
        printf("%-40s %-12s %-14s %-22s %s\n", "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE");
    json_array_foreach (out, i, e) {
        const char *name = json_string_value(json_object_get(e, "name"));
        const char *id = json_string_value(json_object_get(e, "id"));
        const char *created = json_string_value(json_object_get(e, "created"));
        const char *tag = "<none>";
        char repo[256] = "<none>", size[32];

        if (quiet) {
            printf("%.12s\n", id + 7);
            continue;
        }
        if (name)
            split_ref(name, repo, sizeof(repo), &tag);
        human_size(json_integer_value(json_object_get(e, "size")), size, sizeof(size));
        printf("%-40s %-12s %-14.12s %-22.19s %s\n", repo, tag, id + 7, created ? created : "",
               size);
    }
    return 0;
fail:
    err_print(err, "isola images", stderr);
    return 1;
}
