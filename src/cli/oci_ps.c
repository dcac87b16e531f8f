/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola-oci ps [--format table|json] ID */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/oci.h"
#include "runtime/container.h"

int oci_ps(struct oci_global *g, int argc, char **argv)
{
    static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct err *e = NULL;
    const char *format = "table", *id;
    pid_t *pids = NULL;
    size_t n = 0;
    int c;

    while ((c = getopt_long_only(argc, argv, "+f:h", opts, NULL)) != -1) {
        if (c == 'h')
            return oci_help("ps");
        if (c != 'f')
            return oci_usage("ps", "bad option");
        format = optarg;
    }
    if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0)
        return oci_usage("ps", "--format `%s`: expected table or json", format);
    if (optind >= argc)
        return oci_usage("ps", "missing the container id");
    id = argv[optind];
    if (container_ps(g->root, id, &pids, &n, &e) < 0)
        return oci_fail(e);
    if (strcmp(format, "json") == 0) {
        printf("[");
        for (size_t i = 0; i < n; i++)
            printf("%s%d", i ? "," : "", pids[i]);
        printf("]\n");
    } else {
        printf("PID\n");
        for (size_t i = 0; i < n; i++)
            printf("%d\n", pids[i]);
    }
    free(pids);
    return 0;
}
