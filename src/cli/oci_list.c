/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola-oci list [--format table|json] [--quiet] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/oci.h"
#include "runtime/container.h"
#include "util/js.h"

int oci_list(struct oci_global *g, int argc, char **argv)
{
    static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {NULL, 0, NULL, 0}};
    struct err *e = NULL;
    _cleanup_json_ json_t *arr = NULL;
    const char *format = "table";
    bool quiet = false;
    int c;

    while ((c = getopt_long_only(argc, argv, "f:q", opts, NULL)) != -1) {
        if (c == 'f')
            format = optarg;
        else if (c == 'q')
            quiet = true;
        else
            return oci_usage("list", "bad option");
    }
    if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0)
        return oci_usage("list", "--format `%s`: expected table or json", format);
    if (container_list(g->root, &arr, &e) < 0)
        return oci_fail(e);
    if (strcmp(format, "json") == 0) {
        char *s = json_dumps(arr, JSON_COMPACT);
        printf("%s\n", s ? s : "[]");
        free(s);
        return 0;
    }
    if (!quiet)
        printf("%-20s %-8s %-10s %-40s %-32s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED",
               "OWNER");
    size_t i;
    json_t *j;
    json_array_foreach (arr, i, j) {
        const char *id = json_string_value(json_object_get(j, "id"));
        if (quiet) {
            printf("%s\n", id);
            continue;
        }
        printf("%-20s %-8lld %-10s %-40s %-32s %s\n", id,
               json_integer_value(json_object_get(j, "pid")),
               json_string_value(json_object_get(j, "status")),
               json_string_value(json_object_get(j, "bundle")),
               json_string_value(json_object_get(j, "created")),
               json_string_value(json_object_get(j, "owner")));
    }
    return 0;
}
