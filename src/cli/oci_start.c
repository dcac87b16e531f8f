/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola-oci start ID */
#include "cli/oci.h"
#include "runtime/container.h"

int oci_start(struct oci_global *g, int argc, char **argv)
{
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    struct err *e = NULL;
    const char *id;

    int c = getopt_long_only(argc, argv, "h", opts, NULL);
    if (c == 'h')
        return oci_help("start");
    if (c != -1)
        return oci_usage("start", "bad option");
    if ((id = oci_id_arg("start", argc, argv)) == NULL)
        return 1;
    if (container_start(g->root, id, &e) < 0)
        return oci_fail(e);
    return 0;
}
