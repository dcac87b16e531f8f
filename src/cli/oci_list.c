/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola-oci list [--format table|json] [--quiet]: runc's fields and layout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/oci.h"
#include "runtime/container.h"
#include "util/cleanup.h"
#include "util/js.h"

/* The owner as runc prints it: the user name from /etc/passwd, else "#UID".
 * Read directly: the static binary has no NSS modules to load. */
static void owner_name(long long uid, char *buf, size_t size)
{
    _cleanup_fclose_ FILE *f = fopen("/etc/passwd", "re");
    char line[1024];

    snprintf(buf, size, "#%lld", uid);
    while (f && fgets(line, sizeof(line), f)) {
        char *name = strtok(line, ":");
        char *pw = name ? strtok(NULL, ":") : NULL;
        char *id = pw ? strtok(NULL, ":") : NULL;
        if (id && strtoll(id, NULL, 10) == uid && strlen(name) < size) {
            snprintf(buf, size, "%s", name);
            return;
        }
    }
}

/* runc's list entry: ociVersion, id, pid, status, bundle, rootfs, created,
 * annotations (only when there are some), owner (a user name). */
static json_t *runc_entry(json_t *st)
{
    static const char *const keys[] = {"ociVersion", "id",     "pid",    "status",
                                       "bundle",     "rootfs", "created"};
    json_t *j = json_object();
    char owner[256];

    for (size_t i = 0; j && i < sizeof(keys) / sizeof(keys[0]); i++) {
        json_t *v = json_object_get(st, keys[i]);
        json_object_set(j, keys[i], v ? v : json_string(""));
    }
    json_t *ann = json_object_get(st, "annotations");
    if (j && json_object_size(ann) > 0)
        json_object_set(j, "annotations", ann);
    json_t *uid = json_object_get(st, "owner"); /* the state's: the uid, as a string */
    owner_name(json_is_string(uid) ? strtoll(json_string_value(uid), NULL, 10)
                                   : json_integer_value(uid),
               owner, sizeof(owner));
    if (j)
        json_object_set_new(j, "owner", json_string(owner));
    return j;
}

/* Go's text/tabwriter as runc sets it up (minwidth 12, padding 3, spaces): each
 * column as wide as its widest cell plus 3, at least 12; the last one unpadded. */
#define LIST_COLS 6
static void print_table(char *(*rows)[LIST_COLS], size_t n)
{
    size_t w[LIST_COLS] = {0};

    for (size_t r = 0; r < n; r++)
        for (size_t c = 0; c < LIST_COLS; c++) {
            size_t l = strlen(rows[r][c]) + 3;
            if (l > w[c])
                w[c] = l < 12 ? 12 : l;
        }
    for (size_t r = 0; r < n; r++)
        for (size_t c = 0; c < LIST_COLS; c++)
            printf(c + 1 < LIST_COLS ? "%-*s" : "%*s\n", c + 1 < LIST_COLS ? (int)w[c] : 0,
                   rows[r][c]);
}

int oci_list(struct oci_global *g, int argc, char **argv)
{
    static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct err *e = NULL;
    _cleanup_json_ json_t *arr = NULL, *out = json_array();
    const char *format = "table";
    bool quiet = false;
    int c;

    while ((c = getopt_long_only(argc, argv, "f:qh", opts, NULL)) != -1) {
        if (c == 'h')
            return oci_help("list");
        if (c == 'f')
            format = optarg;
        else if (c == 'q')
            quiet = true;
        else
            return oci_usage("list", "bad option");
    }
    if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0)
        return oci_usage("list", "--format `%s`: expected table or json", format);
    if (optind < argc)
        return oci_usage("list", "unexpected argument `%s`", argv[optind]);
    if (container_list(g->root, &arr, &e) < 0)
        return oci_fail(e);
    size_t i, n = json_array_size(arr);
    json_t *j;
    json_array_foreach (arr, i, j)
        json_array_append_new(out, runc_entry(j));
    if (strcmp(format, "json") == 0) {
        /* runc prints `null` for no containers; an empty array is kept here
         * (docs/oci-runtime.md) so that `jq '.[]'` and the like need no case */
        char *s = json_dumps(out, JSON_COMPACT);
        printf("%s\n", s ? s : "[]");
        free(s);
        return 0;
    }
    if (quiet) {
        json_array_foreach (out, i, j)
            printf("%s\n", json_string_value(json_object_get(j, "id")));
        return 0;
    }
    char *(*rows)[LIST_COLS] = calloc(n + 1, sizeof(*rows));
    char(*pids)[24] = calloc(n + 1, sizeof(*pids));
    if (rows == NULL || pids == NULL) {
        free(rows);
        free(pids);
        return 1;
    }
    static char *const header[LIST_COLS] = {"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"};
    memcpy(rows[0], header, sizeof(header));
    json_array_foreach (out, i, j) {
        static const char *const keys[LIST_COLS] = {"id",     "pid",     "status",
                                                    "bundle", "created", "owner"};
        snprintf(pids[i], sizeof(pids[i]), "%lld", json_integer_value(json_object_get(j, "pid")));
        for (size_t k = 0; k < LIST_COLS; k++) {
            const char *v = k == 1 ? pids[i] : json_string_value(json_object_get(j, keys[k]));
            rows[i + 1][k] = (char *)(v ? v : "");
        }
    }
    print_table(rows, n + 1);
    free(rows);
    free(pids);
    return 0;
}
